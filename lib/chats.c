/* Chats (table chats; see chats.h). */
#include "campaign/chats.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/buf.h"
#include "campaign/log.h"
#include "campaign/safetext.h"
#include "campaign/outbox.h"
#include "campaign/xmalloc.h"

int
chats_seen(struct store *s, const char *platform, const char *chat_id, const char *kind,
    const char *title, const char *user_id, bool subscribe_new, time_t now)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT INTO chats(platform, chat_id, kind, title, "
	    "active, subscribed, created_at, user_id, updated_at) "
	    "VALUES(?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?6) ON CONFLICT(platform, chat_id) DO UPDATE "
	    "SET kind = excluded.kind, title = coalesce(excluded.title, title), "
	    "user_id = coalesce(excluded.user_id, user_id), active = 1, reason = NULL, "
	    "updated_at = excluded.updated_at "
	    "WHERE active = 0 OR kind IS NOT excluded.kind OR "
	    "title IS NOT coalesce(excluded.title, title) OR "
	    "user_id IS NOT coalesce(excluded.user_id, user_id)");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, chat_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, kind != NULL ? kind : CHAT_PRIVATE, -1, SQLITE_STATIC);
	safetext_bind(st, 4, title);
	sqlite3_bind_int(st, 5, subscribe_new ? 1 : 0);
	sqlite3_bind_int64(st, 6, (int64_t)now);
	store_bind_text(st, 7, user_id);
	return store_step_done(s, st, "record chat");
}

int
chats_get(struct store *s, const char *platform, const char *chat_id,
    struct chat_info *info)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT kind, title, user_id, active, subscribed, "
	    "reason FROM chats WHERE platform = ?1 AND chat_id = ?2");
	int rc;

	memset(info, 0, sizeof(*info));
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, chat_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		info->known = true;
		info->kind = store_column_text(st, 0);
		info->title = store_column_text(st, 1);
		info->user_id = store_column_text(st, 2);
		info->active = sqlite3_column_int(st, 3) != 0;
		info->subscribed = sqlite3_column_int(st, 4) != 0;
		info->reason = store_column_text(st, 5);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_log_error(s, "read chat");
		return -1;
	}
	return 0;
}

void
chat_info_clear(struct chat_info *info)
{
	free(info->kind);
	free(info->title);
	free(info->user_id);
	free(info->reason);
	memset(info, 0, sizeof(*info));
}

int
chats_set_active(struct store *s, const char *platform, const char *chat_id, bool active,
    const char *reason, time_t now)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT INTO chats(platform, chat_id, active, reason, "
	    "created_at, updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?5) "
	    "ON CONFLICT(platform, chat_id) DO UPDATE SET active = excluded.active, "
	    "reason = excluded.reason, updated_at = excluded.updated_at");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, chat_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, active ? 1 : 0);
	store_bind_text(st, 4, active ? NULL : reason);
	sqlite3_bind_int64(st, 5, (int64_t)now);
	return store_step_done(s, st, "set chat active");
}

int
chats_set_subscribed(struct store *s, const char *platform, const char *chat_id,
    bool subscribed, time_t now)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT INTO chats(platform, chat_id, subscribed, "
	    "created_at, updated_at) VALUES(?1, ?2, ?3, ?4, ?4) "
	    "ON CONFLICT(platform, chat_id) DO UPDATE SET subscribed = excluded.subscribed, "
	    "updated_at = excluded.updated_at");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, chat_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, subscribed ? 1 : 0);
	sqlite3_bind_int64(st, 4, (int64_t)now);
	return store_step_done(s, st, "set chat subscription");
}

int
chats_migrate(struct store *s, const char *platform, const char *from, const char *to,
    time_t now)
{
	sqlite3_stmt *st;

	if (strcmp(from, to) == 0)
		return 0;
	if (store_begin(s) < 0)
		return -1;
	/* The new chat inherits the old one's kind, title and subscription. */
	st = store_stmt(s, "INSERT INTO chats(platform, chat_id, kind, title, active, "
	    "subscribed, created_at, updated_at) SELECT platform, ?3, CASE kind WHEN 'private' "
	    "THEN 'private' ELSE 'group' END, title, 1, subscribed, created_at, ?4 FROM chats "
	    "WHERE platform = ?1 AND chat_id = ?2 ON CONFLICT(platform, chat_id) DO UPDATE SET "
	    "subscribed = max(subscribed, excluded.subscribed), "
	    "title = coalesce(title, excluded.title), active = 1, reason = NULL, "
	    "updated_at = excluded.updated_at");
	if (st == NULL)
		goto fail;
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)now);
	if (store_step_done(s, st, "migrate chat") < 0)
		goto fail;
	st = store_stmt(s, "UPDATE chats SET active = 0, subscribed = 0, updated_at = ?4, "
	    "reason = 'migrated to ' || ?3 WHERE platform = ?1 AND chat_id = ?2");
	if (st == NULL)
		goto fail;
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)now);
	if (store_step_done(s, st, "retire migrated chat") < 0 ||
	    outbox_move_chat(s, platform, from, to) < 0)
		goto fail;
	return store_commit(s);
fail:
	store_rollback(s);
	return -1;
}

/* Steps st (bound and ready) collecting (platform, chat_id) rows; resets it. */
static int
collect(struct store *s, sqlite3_stmt *st, const char *what, struct chat_ref **out,
    size_t *n)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		(*out)[*n].platform = store_column_text(st, 0);
		(*out)[*n].chat_id = store_column_text(st, 1);
		(*n)++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(s, what);
		chat_refs_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int
chats_of_unit(struct store *s, int64_t unit_id, struct chat_ref **out, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT c.platform, c.chat_id FROM chats c "
	    "JOIN users u ON u.platform = c.platform AND u.user_id = c.user_id "
	    "WHERE c.active = 1 AND c.kind = 'private' AND u.unit_id = ?1 ORDER BY 1, 2");

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, unit_id);
	return collect(s, st, "list a unit's chats", out, n);
}

int
chats_subscribed(struct store *s, struct chat_ref **out, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT platform, chat_id FROM chats "
	    "WHERE active = 1 AND subscribed = 1 ORDER BY 1, 2");

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	return collect(s, st, "list subscribed chats", out, n);
}

int
chats_of_users(struct store *s, char *const *user_refs, size_t nusers, struct chat_ref **out,
    size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT platform, chat_id FROM chats "
	    "WHERE active = 1 AND kind = 'private' AND platform || ':' || user_id IN "
	    "(SELECT value FROM json_each(?1)) ORDER BY 1, 2");
	json_t *ids;
	char *text;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	if (nusers == 0)
		return 0;
	ids = json_array();
	for (size_t i = 0; i < nusers; i++)
		json_array_append_new(ids, json_string(user_refs[i]));
	text = json_dumps(ids, JSON_COMPACT);
	json_decref(ids);
	if (text == NULL)
		fatalx("chats", "cannot serialize user ids");
	sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
	free(text);
	return collect(s, st, "list users' chats", out, n);
}

int
chats_targets(struct store *s, const int64_t *units, size_t nunits, struct chat_ref **out,
    size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT platform, chat_id FROM chats "
	    "WHERE active = 1 AND subscribed = 1 UNION "
	    "SELECT c.platform, c.chat_id FROM chats c JOIN users u "
	    "ON u.platform = c.platform AND u.user_id = c.user_id "
	    "WHERE c.active = 1 AND c.kind = 'private' AND u.unit_id IS NOT NULL "
	    "AND (?1 IS NULL OR u.unit_id IN (SELECT value FROM json_each(?1))) "
	    "ORDER BY 1, 2");
	struct buf ids;
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	buf_init(&ids, SIZE_MAX / 2);
	if (nunits > 0) {
		buf_puts(&ids, "[");
		for (size_t i = 0; i < nunits; i++)
			buf_printf(&ids, "%s%" PRId64, i > 0 ? "," : "", units[i]);
		buf_puts(&ids, "]");
		sqlite3_bind_text(st, 1, buf_str(&ids), -1, SQLITE_TRANSIENT);
	}
	buf_free(&ids);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		(*out)[*n].platform = store_column_text(st, 0);
		(*out)[*n].chat_id = store_column_text(st, 1);
		(*n)++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(s, "list broadcast targets");
		chat_refs_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

void
chat_refs_free(struct chat_ref *refs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(refs[i].platform);
		free(refs[i].chat_id);
	}
	free(refs);
}
