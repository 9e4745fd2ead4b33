/*
 * Invite codes (table invites). The code itself is never stored: a leaked
 * database does not leak usable codes. Redemption is one transaction, so a
 * code cannot bind two users even when two redeem it at the same moment.
 */
#include "campaign/invites.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "campaign/log.h"
#include "campaign/users.h"

/* Crockford's base32: no I, L, O, U, so codes read aloud and typed by hand survive. */
static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

#define CODE_CHARS 10

static int
hash_code(const char *canonical, char hex[65])
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (EVP_Digest(canonical, strlen(canonical), digest, &len, EVP_sha256(), NULL) != 1)
		return -1;
	for (unsigned int i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return 0;
}

/* What the user typed -> the 10 canonical characters, or -1. */
static int
canonical_code(const char *typed, char out[CODE_CHARS + 1])
{
	size_t n = 0;

	for (const char *p = typed; *p != '\0'; p++) {
		char c = (char)toupper((unsigned char)*p);

		if (c == '-' || c == ' ')
			continue;
		if (c == 'O')
			c = '0';
		else if (c == 'I' || c == 'L')
			c = '1';
		if (strchr(alphabet, c) == NULL || n == CODE_CHARS)
			return -1;
		out[n++] = c;
	}
	if (n != CODE_CHARS)
		return -1;
	out[n] = '\0';
	return 0;
}

int
invites_create(struct store *s, int64_t unit_id, int64_t ttl_seconds, time_t now,
    char code[INVITES_CODE_STRLEN])
{
	unsigned char random[CODE_CHARS];
	char canonical[CODE_CHARS + 1], hex[65];
	sqlite3_stmt *st;
	int rc;

	if (getrandom(random, sizeof(random), 0) != (ssize_t)sizeof(random)) {
		log_warn("invites", "getrandom");
		return -1;
	}
	for (size_t i = 0; i < CODE_CHARS; i++)
		canonical[i] = alphabet[random[i] & 31];
	canonical[CODE_CHARS] = '\0';
	if (hash_code(canonical, hex) < 0)
		return -1;
	st = store_stmt(s, "INSERT INTO invites(code_hash, unit_id, created_at, expires_at) "
	    "VALUES(?1, ?2, ?3, ?4)");
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, unit_id);
	sqlite3_bind_int64(st, 3, (int64_t)now);
	sqlite3_bind_int64(st, 4, (int64_t)now + ttl_seconds);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(s, "create invite");
		return -1;
	}
	snprintf(code, INVITES_CODE_STRLEN, "%.5s-%.5s", canonical, canonical + 5);
	return 0;
}

enum invite_result
invites_redeem(struct store *s, const char *code, const char *platform,
    const char *user_id, const char *user_name, time_t now, int64_t *unit_id)
{
	char canonical[CODE_CHARS + 1], hex[65];
	enum invite_result result = INVITE_ERROR;
	sqlite3_stmt *st;
	int64_t unit = 0, expires = 0;
	bool used = false;
	int rc;

	if (canonical_code(code, canonical) < 0)
		return INVITE_UNKNOWN;
	if (hash_code(canonical, hex) < 0)
		return INVITE_ERROR;
	if (store_begin(s) < 0)
		return INVITE_ERROR;
	st = store_stmt(s, "SELECT unit_id, expires_at, used_at IS NOT NULL FROM invites "
	    "WHERE code_hash = ?1");
	if (st == NULL)
		goto out;
	sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		unit = sqlite3_column_int64(st, 0);
		expires = sqlite3_column_int64(st, 1);
		used = sqlite3_column_int(st, 2) != 0;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		result = INVITE_UNKNOWN;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto out;
	if (used) {
		result = INVITE_USED;
		goto out;
	}
	if ((int64_t)now >= expires) {
		result = INVITE_EXPIRED;
		goto out;
	}
	st = store_stmt(s, "UPDATE invites SET used_at = ?2, used_by = ?3 WHERE code_hash = ?1");
	if (st == NULL)
		goto out;
	{
		char who[256];

		snprintf(who, sizeof(who), "%s:%s", platform, user_id);
		sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)now);
		sqlite3_bind_text(st, 3, who, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
	}
	if (rc != SQLITE_DONE || users_bind(s, platform, user_id, user_name, unit, now) < 0)
		goto out;
	if (store_commit(s) < 0)
		return INVITE_ERROR;
	*unit_id = unit;
	return INVITE_BOUND;
out:
	store_rollback(s);
	return result;
}
