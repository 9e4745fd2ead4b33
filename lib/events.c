/*
 * The event outbox (table events). Appends are size-checked here, the one
 * place every writer goes through, so nothing oversize reaches the bridge.
 */
#include "campaign/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/xmalloc.h"

int64_t
events_append(struct store *s, const char *type, const char *campaign,
    const json_t *payload, time_t at, char *err, size_t errlen)
{
	char ts[CLOCK_ISO_STRLEN];
	char *text;
	sqlite3_stmt *st;
	int64_t id = -1;
	size_t len;

	if (!json_is_object(payload)) {
		snprintf(err, errlen, "event payload must be a JSON object");
		return -1;
	}
	text = json_dumps(payload, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text == NULL) {
		snprintf(err, errlen, "event payload cannot be serialized");
		return -1;
	}
	len = strlen(text);
	if (len > EVENTS_PAYLOAD_MAX) {
		snprintf(err, errlen, "%s event too large: %zu bytes (limit %d)", type, len,
		    EVENTS_PAYLOAD_MAX);
		free(text);
		return -1;
	}
	clock_format_iso(at, ts);
	st = store_stmt(s, "INSERT INTO events(type, campaign, created_at, ts, payload) "
	    "VALUES(?1, ?2, ?3, ?4, ?5)");
	if (st == NULL) {
		snprintf(err, errlen, "store error");
		free(text);
		return -1;
	}
	sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, campaign, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)at);
	sqlite3_bind_text(st, 4, ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, text, (int)len, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_DONE) {
		id = sqlite3_last_insert_rowid(store_db(s));
	} else {
		snprintf(err, errlen, "cannot store the event: %s", store_errmsg(s));
		store_log_error(s, "append event");
	}
	sqlite3_reset(st);
	free(text);
	return id;
}

static void
read_row(sqlite3_stmt *st, struct event *e)
{
	e->id = sqlite3_column_int64(st, 0);
	e->type = store_column_text(st, 1);
	e->campaign = store_column_text(st, 2);
	e->created_at = (time_t)sqlite3_column_int64(st, 3);
	e->ts = store_column_text(st, 4);
	e->payload = store_column_text(st, 5);
	e->state = (enum event_state)sqlite3_column_int(st, 6);
	e->reason = sqlite3_column_type(st, 7) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 7);
	e->done_at = (time_t)sqlite3_column_int64(st, 8);
}

static int
read_events(struct store *s, sqlite3_stmt *st, int64_t after_id, size_t max,
    struct event **out, size_t *n)
{
	struct event *events;
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	events = xcalloc(max + 1, sizeof(*events));
	sqlite3_bind_int64(st, 1, after_id);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		read_row(st, &events[(*n)++]);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(s, "read events");
		events_free(events, *n);
		*n = 0;
		return -1;
	}
	*out = events;
	return 0;
}

int
events_pending(struct store *s, int64_t after_id, size_t max, struct event **out,
    size_t *n)
{
	return read_events(s, store_stmt(s, "SELECT id, type, campaign, created_at, ts, "
	    "payload, state, reason, done_at FROM events WHERE state = 0 AND id > ?1 "
	    "ORDER BY id LIMIT ?2"), after_id, max, out, n);
}

int
events_failed(struct store *s, int64_t after_id, size_t max, struct event **out,
    size_t *n)
{
	return read_events(s, store_stmt(s, "SELECT id, type, campaign, created_at, ts, "
	    "payload, state, reason, done_at FROM events WHERE state = 2 AND id > ?1 "
	    "ORDER BY id LIMIT ?2"), after_id, max, out, n);
}

int
events_retry(struct store *s, int64_t id)
{
	sqlite3_stmt *st = store_stmt(s, "UPDATE events SET state = 0, reason = NULL, "
	    "done_at = NULL WHERE state = 2 AND (?1 = 0 OR id = ?1)");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(s, "retry events");
		return -1;
	}
	return sqlite3_changes(store_db(s));
}

int
events_get(struct store *s, int64_t id, struct event *out)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT id, type, campaign, created_at, ts, "
	    "payload, state, reason, done_at FROM events WHERE id = ?1");
	int rc;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_row(st, out);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
events_mark(struct store *s, int64_t id, enum event_state state, int reason, time_t at)
{
	sqlite3_stmt *st = store_stmt(s, "UPDATE events SET state = ?2, reason = ?3, "
	    "done_at = ?4 WHERE id = ?1");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, (int)state);
	if (reason < 0)
		sqlite3_bind_null(st, 3);
	else
		sqlite3_bind_int(st, 3, reason);
	sqlite3_bind_int64(st, 4, (int64_t)at);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(s, "mark event");
		return -1;
	}
	return 0;
}

char *
events_message(const struct event *e)
{
	json_t *payload = json_loads(e->payload, 0, NULL);
	char *text = events_message_with(e, payload);

	json_decref(payload);
	return text;
}

char *
events_message_with(const struct event *e, json_t *payload)
{
	json_t *msg = json_object();
	const char *key;
	json_t *v;
	char *text;

	json_object_set_new(msg, "v", json_integer(1));
	json_object_set_new(msg, "id", json_integer(e->id));
	json_object_set_new(msg, "type", json_string(e->type));
	json_object_set_new(msg, "ts", json_string(e->ts));
	json_object_set_new(msg, "campaign", json_string(e->campaign));
	/* The envelope's keys win: a payload cannot forge id or type. */
	json_object_foreach(payload, key, v)
		if (json_object_get(msg, key) == NULL)
			json_object_set(msg, key, v);
	text = json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(msg);
	if (text == NULL)
		fatalx("events", "cannot serialize event %lld", (long long)e->id);
	return text;
}

void
event_clear(struct event *e)
{
	free(e->type);
	free(e->campaign);
	free(e->ts);
	free(e->payload);
	memset(e, 0, sizeof(*e));
}

void
events_free(struct event *events, size_t n)
{
	for (size_t i = 0; i < n; i++)
		event_clear(&events[i]);
	free(events);
}
