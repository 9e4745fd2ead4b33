/* Chat users, unit bindings and admins (tables users, admins). */
#include "campaign/users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/safetext.h"
#include "campaign/utf8.h"
#include "campaign/xmalloc.h"

bool
users_id_ok(const char *id)
{
	size_t len = strlen(id);

	if (len == 0 || len > 128 || !utf8_valid(id, len))
		return false;
	for (const char *p = id; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

static const char *const platforms[] = { "console", "telegram", "dingtalk", "wecom" };

bool
users_platform_known(const char *platform)
{
	for (size_t i = 0; i < sizeof(platforms) / sizeof(platforms[0]); i++)
		if (strcmp(platform, platforms[i]) == 0)
			return true;
	return false;
}

const char *
users_platforms_text(void)
{
	return "console, telegram, dingtalk, wecom";
}

int
users_ref_split(const char *ref, char platform[USERS_PLATFORM_MAX], const char **id,
    char *err, size_t errlen)
{
	const char *colon = strchr(ref, ':');
	size_t len = colon != NULL ? (size_t)(colon - ref) : 0;

	if (colon == NULL) {
		snprintf(err, errlen, "\"%s\" names no platform: write platform:id, "
		    "e.g. telegram:%s or dingtalk:%s", ref, ref, ref);
		return -1;
	}
	if (len == 0 || len >= USERS_PLATFORM_MAX) {
		snprintf(err, errlen, "\"%s\": the platform before \":\" is missing or too long "
		    "(one of %s)", ref, users_platforms_text());
		return -1;
	}
	memcpy(platform, ref, len);
	platform[len] = '\0';
	if (!users_platform_known(platform)) {
		snprintf(err, errlen, "\"%s\": unknown platform \"%s\" (one of %s)", ref, platform,
		    users_platforms_text());
		return -1;
	}
	if (!users_id_ok(colon + 1)) {
		snprintf(err, errlen, "\"%s\": \"%s\" is not a user id", ref, colon + 1);
		return -1;
	}
	*id = colon + 1;
	return 0;
}

int
users_get(struct store *s, const char *platform, const char *user_id,
    struct user_info *info)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT us.name, us.unit_id, un.name, us.bound_at "
	    "FROM users us LEFT JOIN units un ON un.id = us.unit_id "
	    "WHERE us.platform = ?1 AND us.user_id = ?2");
	int rc;

	memset(info, 0, sizeof(*info));
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		info->known = true;
		info->name = store_column_text(st, 0);
		info->unit_id = sqlite3_column_int64(st, 1);
		info->unit_name = store_column_text(st, 2);
		info->bound_at = (time_t)sqlite3_column_int64(st, 3);
		if (info->unit_name == NULL)
			info->unit_id = 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_log_error(s, "read user");
		return -1;
	}
	return 0;
}

void
user_info_clear(struct user_info *info)
{
	free(info->name);
	free(info->unit_name);
	memset(info, 0, sizeof(*info));
}

int
users_touch(struct store *s, const char *platform, const char *user_id, const char *name,
    time_t now)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT INTO users(platform, user_id, name) "
	    "VALUES(?1, ?2, ?3) ON CONFLICT(platform, user_id) DO UPDATE SET "
	    "name = coalesce(excluded.name, name)");

	(void)now;
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
	safetext_bind(st, 3, name);
	return store_step_done(s, st, "touch user");
}

int
users_bind(struct store *s, const char *platform, const char *user_id, const char *name,
    int64_t unit_id, time_t now)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT INTO users(platform, user_id, name, unit_id, "
	    "bound_at) VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(platform, user_id) DO UPDATE SET "
	    "name = coalesce(excluded.name, name), unit_id = excluded.unit_id, "
	    "bound_at = excluded.bound_at");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
	safetext_bind(st, 3, name);
	if (unit_id > 0) {
		sqlite3_bind_int64(st, 4, unit_id);
		sqlite3_bind_int64(st, 5, (int64_t)now);
	} else {
		sqlite3_bind_null(st, 4);
		sqlite3_bind_null(st, 5);
	}
	return store_step_done(s, st, "bind user");
}

int
users_count_bound(struct store *s, int64_t unit_id)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT count(*) FROM users WHERE unit_id = ?1");
	int n = -1;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, unit_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return n;
}

int
admins_add(struct store *s, const char *platform, const char *user_id, time_t now)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT OR IGNORE INTO admins(platform, user_id, "
	    "added_at) VALUES(?1, ?2, ?3)");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)now);
	return store_step_done(s, st, "add admin");
}

int
admins_remove(struct store *s, const char *platform, const char *user_id)
{
	sqlite3_stmt *st = store_stmt(s, "DELETE FROM admins WHERE platform = ?1 AND user_id = ?2");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
	if (store_step_done(s, st, "remove admin") < 0)
		return -1;
	return sqlite3_changes(store_db(s)) > 0 ? 1 : 0;
}

int
admins_is(struct store *s, const char *platform, const char *user_id)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT 1 FROM admins WHERE platform = ?1 AND "
	    "user_id = ?2");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
admins_list(struct store *s, char ***refs, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT platform || ':' || user_id FROM admins "
	    "ORDER BY added_at, platform, user_id");
	int rc;

	*refs = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*refs = xreallocarray(*refs, *n + 1, sizeof(**refs));
		(*refs)[(*n)++] = store_column_text(st, 0);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}
