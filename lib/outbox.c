/*
 * The chat outbox (table deliveries; see outbox.h). One row per message to
 * one chat. State moves pending -> sent | failed and never back; only the
 * sender moves it, one row at a time, right after the platform answered.
 */
#include "campaign/outbox.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "campaign/log.h"
#include "campaign/xmalloc.h"

int64_t
outbox_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
outbox_enqueue(struct store *s, const struct outbox_item *it, time_t now)
{
	sqlite3_stmt *st;
	int rc;

	if (strlen(it->text) > OUTBOX_TEXT_MAX) {
		log_warnx("outbox", "refusing a %zu-byte message to %s:%s (limit %d)",
		    strlen(it->text), it->platform, it->chat_id, OUTBOX_TEXT_MAX);
		return -1;
	}
	st = store_stmt(s, "INSERT INTO deliveries(platform, chat_id, kind, ref, reply_to, "
	    "text, markup, not_before, dedupe_key, created_at, expires_at) "
	    "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11) ON CONFLICT DO NOTHING");
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, it->platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, it->chat_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, it->kind != NULL ? it->kind : OUTBOX_REPLY, -1, SQLITE_STATIC);
	if (it->ref != 0)
		sqlite3_bind_int64(st, 4, it->ref);
	store_bind_text(st, 5, it->reply_to);
	sqlite3_bind_text(st, 6, it->text, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, it->plain ? 0 : 1);
	sqlite3_bind_int64(st, 8, it->not_before);
	store_bind_text(st, 9, it->dedupe_key);
	sqlite3_bind_int64(st, 10, (int64_t)now);
	if (it->expires_at != 0)
		sqlite3_bind_int64(st, 11, (int64_t)it->expires_at);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(s, "enqueue delivery");
		return -1;
	}
	if (sqlite3_changes(store_db(s)) == 0)
		return 0;
	return sqlite3_last_insert_rowid(store_db(s));
}

#define DELIVERY_COLUMNS "d.id, d.platform, d.chat_id, coalesce(c.kind, 'private'), " \
	"d.kind, d.ref, d.reply_to, d.text, d.markup, d.parts_sent, d.attempts, " \
	"d.not_before, d.created_at, d.expires_at"

static void
read_row(sqlite3_stmt *st, struct delivery *d)
{
	d->id = sqlite3_column_int64(st, 0);
	d->platform = store_column_text(st, 1);
	d->chat_id = store_column_text(st, 2);
	d->chat_kind = store_column_text(st, 3);
	d->kind = store_column_text(st, 4);
	d->ref = sqlite3_column_int64(st, 5);
	d->reply_to = store_column_text(st, 6);
	d->text = store_column_text(st, 7);
	d->markup = sqlite3_column_int(st, 8) != 0;
	d->parts_sent = sqlite3_column_int(st, 9);
	d->attempts = sqlite3_column_int(st, 10);
	d->not_before = sqlite3_column_int64(st, 11);
	d->created_at = (time_t)sqlite3_column_int64(st, 12);
	d->expires_at = (time_t)sqlite3_column_int64(st, 13);
	if (d->text == NULL)
		d->text = xstrdup("");
}

int
outbox_heads(struct store *s, const char *platform, size_t max, struct delivery **out,
    size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT " DELIVERY_COLUMNS " FROM deliveries d "
	    "LEFT JOIN chats c ON c.platform = d.platform AND c.chat_id = d.chat_id "
	    "WHERE d.id IN (SELECT min(id) FROM deliveries WHERE platform = ?1 AND state = 0 "
	    "GROUP BY chat_id) ORDER BY d.kind <> 'reply', d.id LIMIT ?2");
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			*out = xreallocarray(*out, cap, sizeof(**out));
		}
		memset(&(*out)[*n], 0, sizeof(**out));
		read_row(st, &(*out)[(*n)++]);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(s, "read outbox");
		deliveries_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int
outbox_chat_head(struct store *s, const char *platform, const char *chat_id,
    struct delivery *out)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT " DELIVERY_COLUMNS " FROM deliveries d "
	    "LEFT JOIN chats c ON c.platform = d.platform AND c.chat_id = d.chat_id "
	    "WHERE d.platform = ?1 AND d.chat_id = ?2 AND d.state = 0 ORDER BY d.id LIMIT 1");
	int rc;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, chat_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_row(st, out);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_log_error(s, "read chat head");
		return -1;
	}
	return rc == SQLITE_ROW ? 1 : 0;
}

int
outbox_get(struct store *s, int64_t id, struct delivery *out)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT " DELIVERY_COLUMNS " FROM deliveries d "
	    "LEFT JOIN chats c ON c.platform = d.platform AND c.chat_id = d.chat_id "
	    "WHERE d.id = ?1");
	int rc;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_row(st, out);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_log_error(s, "read delivery");
		return -1;
	}
	return rc == SQLITE_ROW ? 1 : 0;
}

int
outbox_mark_sent(struct store *s, int64_t id, time_t now)
{
	sqlite3_stmt *st = store_stmt(s, "UPDATE deliveries SET state = 1, sent_at = ?2, "
	    "error = NULL WHERE id = ?1 AND state = 0");

	if (st == NULL)
		return -1;
	(void)now;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, outbox_now_ms() / 1000);
	return store_step_done(s, st, "mark delivery sent");
}

int
outbox_mark_part(struct store *s, int64_t id, int parts_sent)
{
	sqlite3_stmt *st = store_stmt(s, "UPDATE deliveries SET parts_sent = ?2 WHERE id = ?1");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, parts_sent);
	return store_step_done(s, st, "mark delivery part");
}

int
outbox_mark_failed(struct store *s, int64_t id, const char *error, time_t now)
{
	sqlite3_stmt *st = store_stmt(s, "UPDATE deliveries SET state = 2, error = ?2, "
	    "sent_at = ?3, attempts = attempts + 1 WHERE id = ?1 AND state = 0");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	store_bind_text(st, 2, error);
	sqlite3_bind_int64(st, 3, (int64_t)now);
	return store_step_done(s, st, "mark delivery failed");
}

int
outbox_retry_at(struct store *s, int64_t id, int64_t not_before, const char *error)
{
	sqlite3_stmt *st = store_stmt(s, "UPDATE deliveries SET attempts = attempts + 1, "
	    "not_before = ?2, error = ?3 WHERE id = ?1 AND state = 0");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, not_before);
	store_bind_text(st, 3, error);
	return store_step_done(s, st, "reschedule delivery");
}

int
outbox_set_text(struct store *s, int64_t id, const char *text, bool markup)
{
	sqlite3_stmt *st = store_stmt(s, "UPDATE deliveries SET text = ?2, markup = ?3, "
	    "parts_sent = 0 WHERE id = ?1 AND state = 0");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, markup ? 1 : 0);
	return store_step_done(s, st, "replace delivery text");
}

int
outbox_fail_chat(struct store *s, const char *platform, const char *chat_id,
    const char *error, time_t now)
{
	sqlite3_stmt *st = store_stmt(s, "UPDATE deliveries SET state = 2, error = ?3, "
	    "sent_at = ?4 WHERE platform = ?1 AND chat_id = ?2 AND state = 0");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, chat_id, -1, SQLITE_STATIC);
	store_bind_text(st, 3, error);
	sqlite3_bind_int64(st, 4, (int64_t)now);
	if (store_step_done(s, st, "fail chat deliveries") < 0)
		return -1;
	return sqlite3_changes(store_db(s));
}

int
outbox_move_chat(struct store *s, const char *platform, const char *from, const char *to)
{
	sqlite3_stmt *st = store_stmt(s, "UPDATE deliveries SET chat_id = ?3 "
	    "WHERE platform = ?1 AND chat_id = ?2 AND state = 0");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	return store_step_done(s, st, "move chat deliveries");
}

int
outbox_counts(struct store *s, const char *kind, int64_t ref, struct outbox_counts *c)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT state, count(*) FROM deliveries "
	    "WHERE kind = ?1 AND ref = ?2 GROUP BY state");
	int rc;

	memset(c, 0, sizeof(*c));
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ref);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t count = sqlite3_column_int64(st, 1);

		switch (sqlite3_column_int(st, 0)) {
		case DELIVERY_PENDING:
			c->pending = count;
			break;
		case DELIVERY_SENT:
			c->sent = count;
			break;
		default:
			c->failed += count;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(s, "count deliveries");
		return -1;
	}
	return 0;
}

int
outbox_failures(struct store *s, const char *kind, int64_t ref, struct outbox_failure **out,
    size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT coalesce(error, 'unknown'), count(*) "
	    "FROM deliveries WHERE kind = ?1 AND ref = ?2 AND state = 2 GROUP BY 1 "
	    "ORDER BY 2 DESC, 1");
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ref);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		(*out)[*n].error = store_column_text(st, 0);
		(*out)[*n].count = sqlite3_column_int64(st, 1);
		(*n)++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(s, "read delivery failures");
		outbox_failures_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

void
outbox_failures_free(struct outbox_failure *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(f[i].error);
	free(f);
}

int
outbox_pending_platforms(struct store *s, const char *kind, int64_t ref, char ***out,
    size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT DISTINCT platform FROM deliveries "
	    "WHERE kind = ?1 AND ref = ?2 AND state = 0 ORDER BY 1");
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ref);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		(*out)[(*n)++] = store_column_text(st, 0);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(s, "read pending platforms");
		for (size_t i = 0; i < *n; i++)
			free((*out)[i]);
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

bool
outbox_expired(const struct delivery *d, time_t now)
{
	return d->expires_at != 0 && now >= d->expires_at;
}

int
outbox_sent_since(struct store *s, const char *platform, int64_t since,
    struct sent_recently **out, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT d.chat_id, coalesce(c.kind, 'private'), "
	    "d.sent_at FROM deliveries d LEFT JOIN chats c ON c.platform = d.platform AND "
	    "c.chat_id = d.chat_id WHERE d.platform = ?1 AND d.state = 1 AND d.sent_at >= ?2 "
	    "ORDER BY d.sent_at, d.id");
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		(*out)[*n].chat_id = store_column_text(st, 0);
		(*out)[*n].chat_kind = store_column_text(st, 1);
		(*out)[*n].sent_at = sqlite3_column_int64(st, 2);
		(*n)++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(s, "read recent sends");
		sent_recently_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

void
sent_recently_free(struct sent_recently *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].chat_id);
		free(r[i].chat_kind);
	}
	free(r);
}

int64_t
outbox_pending(struct store *s, const char *platform)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT count(*) FROM deliveries "
	    "WHERE platform = ?1 AND state = 0");
	int64_t n = -1;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

void
delivery_clear(struct delivery *d)
{
	free(d->platform);
	free(d->chat_id);
	free(d->chat_kind);
	free(d->kind);
	free(d->reply_to);
	free(d->text);
	memset(d, 0, sizeof(*d));
}

void
deliveries_free(struct delivery *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		delivery_clear(&d[i]);
	free(d);
}
