/*
 * Admin broadcasts (see broadcast.h). The row, the announcement event and
 * every delivery commit together: a broadcast is either queued for every
 * target and MQTT, or not at all. Its status is read back from the
 * deliveries (kind 'broadcast', ref = id), which only the sender moves.
 */
#include "campaign/broadcast.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/buf.h"
#include "campaign/channels.h"
#include "campaign/chats.h"
#include "campaign/clock.h"
#include "campaign/events.h"
#include "campaign/markup.h"
#include "campaign/safetext.h"
#include "campaign/utf8.h"
#include "campaign/xmalloc.h"

#define IDEOGRAPHIC_SPACE "\xe3\x80\x80"  /* U+3000 */

static bool
is_space_at(const char *p, size_t *len)
{
	if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
		*len = 1;
		return true;
	}
	if (strncmp(p, IDEOGRAPHIC_SPACE, 3) == 0) {
		*len = 3;
		return true;
	}
	return false;
}

int
broadcast_text_clean(const char *text, char **out, char *err, size_t errlen)
{
	size_t len = text != NULL ? strlen(text) : 0, bad, start = 0, end, step, chars = 0;
	struct buf b;

	*out = NULL;
	if (len > 0 && (bad = utf8_invalid_offset(text, len)) < len) {
		snprintf(err, errlen, "the text is not valid UTF-8 (byte %zu)", bad + 1);
		return -1;
	}
	/* Checked before trimming, so the position named is the one the admin typed. */
	for (size_t i = 0; i < len; ) {
		uint32_t cp;
		size_t n = utf8_decode(text + i, len - i, &cp);

		chars++;
		if (safetext_unsafe(cp) && cp != '\r') {
			snprintf(err, errlen, "the text holds a control character (U+%04X, "
			    "character %zu); only line breaks and tabs are allowed", (unsigned)cp,
			    chars);
			return -1;
		}
		i += n;
	}
	while (start < len && is_space_at(text + start, &step))
		start += step;
	end = len;
	while (end > start) {
		if (text[end - 1] == ' ' || text[end - 1] == '\t' || text[end - 1] == '\n' ||
		    text[end - 1] == '\r')
			end--;
		else if (end - start >= 3 && memcmp(text + end - 3, IDEOGRAPHIC_SPACE, 3) == 0)
			end -= 3;
		else
			break;
	}
	if (start == end) {
		snprintf(err, errlen, "the text is empty");
		return -1;
	}
	buf_init(&b, len + 1);
	for (size_t i = start; i < end; i++) {
		if (text[i] == '\r' && i + 1 < end && text[i + 1] == '\n')
			continue;
		buf_append(&b, text[i] == '\r' ? "\n" : text + i, 1);
	}
	*out = buf_steal(&b);
	if (utf8_utf16_units(*out) > BROADCAST_TEXT_MAX_UNITS) {
		snprintf(err, errlen, "the text is %zu characters long; a broadcast must fit "
		    "one chat message (at most %d)", utf8_utf16_units(*out),
		    BROADCAST_TEXT_MAX_UNITS);
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

char *
broadcast_message(const struct plan *plan, const char *text, const size_t *units,
    size_t nunits)
{
	struct buf b;

	buf_init(&b, OUTBOX_TEXT_MAX);
	buf_puts(&b, "📢 <b>活动通知</b>");
	for (size_t i = 0; i < nunits; i++) {
		buf_puts(&b, i == 0 ? " · 致 " : "、");
		markup_escape(&b, plan->units[units[i]].name);
	}
	buf_puts(&b, "\n");
	markup_escape(&b, text);
	return buf_steal(&b);
}

static json_t *
unit_names(const struct plan *plan, const size_t *units, size_t nunits)
{
	json_t *names;

	if (nunits == 0)
		return json_null();
	names = json_array();
	for (size_t i = 0; i < nunits; i++)
		json_array_append_new(names, json_string(plan->units[units[i]].name));
	return names;
}

/* The row first: its id is the deliveries' ref and goes into the event. */
static int64_t
insert_row(struct store *s, const char *text, const json_t *units,
    const struct broadcast_request *rq, time_t now, time_t expires)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT INTO broadcasts(text, units, created_at, "
	    "expires_at, chats, platform, user_id) VALUES(?1, ?2, ?3, ?4, 0, ?5, ?6)");
	char *names = NULL;
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	if (json_is_array(units)) {
		names = json_dumps(units, JSON_COMPACT);
		sqlite3_bind_text(st, 2, names, -1, SQLITE_TRANSIENT);
		free(names);
	}
	sqlite3_bind_int64(st, 3, (int64_t)now);
	if (expires != 0)
		sqlite3_bind_int64(st, 4, (int64_t)expires);
	sqlite3_bind_text(st, 5, rq->platform, -1, SQLITE_STATIC);
	store_bind_text(st, 6, rq->user_id);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(s, "record broadcast");
		return -1;
	}
	return sqlite3_last_insert_rowid(store_db(s));
}

static int
finish_row(struct store *s, int64_t id, int64_t event_id, size_t chats)
{
	sqlite3_stmt *st = store_stmt(s, "UPDATE broadcasts SET event_id = ?2, chats = ?3 "
	    "WHERE id = ?1");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, event_id);
	sqlite3_bind_int64(st, 3, (int64_t)chats);
	return store_step_done(s, st, "finish broadcast");
}

/* The channels (group robots) that want broadcasts to these units: queued + theirs, or -1. */
static int64_t
to_channels(struct store *s, const struct plan *plan, const struct broadcast_request *rq,
    int64_t id, const char *message, time_t now, time_t expires, int64_t queued)
{
	char **units = xcalloc(rq->nunits + 1, sizeof(*units)), **names = NULL;
	size_t nnames = 0;

	for (size_t i = 0; i < rq->nunits; i++)
		units[i] = plan->units[rq->units[i]].name;
	if (channels_wanting(s, CHANNEL_BROADCASTS, units, rq->nunits, &names, &nnames) < 0)
		queued = -1;
	for (size_t i = 0; i < nnames && queued >= 0; i++) {
		struct outbox_item it = {
			.platform = CHANNEL_PLATFORM, .chat_id = names[i],
			.kind = OUTBOX_BROADCAST, .ref = id, .text = message,
			.expires_at = expires,
		};

		queued = outbox_enqueue(s, &it, now) < 0 ? -1 : queued + 1;
	}
	channels_names_free(names, nnames);
	free(units);
	return queued;
}

/* One delivery per target chat and channel; the count queued, or -1. */
static int64_t
fan_out(struct store *s, const struct plan *plan, const struct broadcast_request *rq,
    int64_t id, const char *message, time_t now, time_t expires)
{
	int64_t *ids = NULL, queued = 0;
	struct chat_ref *targets = NULL;
	size_t ntargets = 0;

	if (rq->nunits > 0) {
		ids = xcalloc(rq->nunits, sizeof(*ids));
		for (size_t i = 0; i < rq->nunits; i++)
			ids[i] = plan->units[rq->units[i]].id;
	}
	if (chats_targets(s, ids, rq->nunits, &targets, &ntargets) < 0) {
		queued = -1;
		goto out;
	}
	for (size_t i = 0; i < ntargets; i++) {
		struct outbox_item it = {
			.platform = targets[i].platform, .chat_id = targets[i].chat_id,
			.kind = OUTBOX_BROADCAST, .ref = id, .text = message,
			.expires_at = expires,
		};

		if (outbox_enqueue(s, &it, now) < 0) {
			queued = -1;
			goto out;
		}
		queued++;
	}
	if (queued >= 0 && (queued = to_channels(s, plan, rq, id, message, now, expires,
	    queued)) < 0)
		goto out;
out:
	chat_refs_free(targets, ntargets);
	free(ids);
	return queued;
}

int
broadcast_create(struct store *s, const struct plan *plan,
    const struct broadcast_request *rq, time_t now, struct broadcast_sent *out, char *err,
    size_t errlen)
{
	char *text = NULL, *message = NULL, iso[CLOCK_ISO_STRLEN];
	json_t *units = NULL, *payload = NULL;
	time_t expires = 0;
	int64_t id, queued, event_id;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (broadcast_text_clean(rq->text, &text, err, errlen) < 0)
		return -1;
	if (rq->ttl < 0 || rq->ttl > BROADCAST_TTL_MAX) {
		snprintf(err, errlen, "the expiry must be between 1 second and %d days",
		    BROADCAST_TTL_MAX / 86400);
		goto out;
	}
	for (size_t i = 0; i < rq->nunits; i++) {
		if (rq->units[i] >= plan->nunits) {
			snprintf(err, errlen, "no such unit");
			goto out;
		}
	}
	if (rq->ttl > 0)
		expires = now + (time_t)rq->ttl;
	units = unit_names(plan, rq->units, rq->nunits);
	message = broadcast_message(plan, text, rq->units, rq->nunits);
	if (store_begin(s) < 0) {
		snprintf(err, errlen, "the database is busy or failing: %s", store_errmsg(s));
		goto out;
	}
	if ((id = insert_row(s, text, units, rq, now, expires)) < 0 ||
	    (queued = fan_out(s, plan, rq, id, message, now, expires)) < 0) {
		snprintf(err, errlen, "cannot queue the broadcast: %s", store_errmsg(s));
		store_rollback(s);
		goto out;
	}
	payload = json_object();
	json_object_set_new(payload, "broadcast", json_integer(id));
	json_object_set_new(payload, "text", json_string(text));
	json_object_set_new(payload, "units", json_incref(units));
	if (expires != 0) {
		clock_format_iso(expires, iso);
		json_object_set_new(payload, "expires_at", json_string(iso));
	}
	json_object_set_new(payload, "chats", json_integer(queued));
	event_id = events_append(s, "announcement", plan->id, payload, now, err, errlen);
	if (event_id < 0 || finish_row(s, id, event_id, (size_t)queued) < 0) {
		if (event_id >= 0)
			snprintf(err, errlen, "cannot record the broadcast: %s", store_errmsg(s));
		store_rollback(s);
		goto out;
	}
	if (store_commit(s) < 0) {
		snprintf(err, errlen, "cannot commit the broadcast: %s", store_errmsg(s));
		goto out;
	}
	*out = (struct broadcast_sent){ .id = id, .event_id = event_id,
	    .chats = (size_t)queued };
	rc = 0;
out:
	json_decref(payload);
	json_decref(units);
	free(message);
	free(text);
	return rc;
}

/* ---- reading back ---- */

#define INFO_COLUMNS "b.id, b.text, b.units, b.created_at, b.expires_at, b.event_id, " \
	"e.state, b.chats, b.platform, b.user_id"

static void
read_units(const char *text, struct broadcast_info *b)
{
	json_t *arr = text != NULL ? json_loads(text, 0, NULL) : NULL;
	size_t i;
	json_t *v;

	if (json_is_array(arr) && json_array_size(arr) > 0) {
		b->units = xcalloc(json_array_size(arr), sizeof(*b->units));
		json_array_foreach(arr, i, v)
			if (json_is_string(v))
				b->units[b->nunits++] = xstrdup(json_string_value(v));
	}
	json_decref(arr);
}

static void
read_info(sqlite3_stmt *st, struct broadcast_info *b)
{
	memset(b, 0, sizeof(*b));
	b->id = sqlite3_column_int64(st, 0);
	b->text = store_column_text(st, 1);
	read_units((const char *)sqlite3_column_text(st, 2), b);
	b->created_at = (time_t)sqlite3_column_int64(st, 3);
	b->expires_at = (time_t)sqlite3_column_int64(st, 4);
	b->event_id = sqlite3_column_int64(st, 5);
	b->event_state = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 :
	    sqlite3_column_int(st, 6);
	b->chats = sqlite3_column_int64(st, 7);
	b->platform = store_column_text(st, 8);
	b->user_id = store_column_text(st, 9);
	if (b->text == NULL)
		b->text = xstrdup("");
	if (b->platform == NULL)
		b->platform = xstrdup("");
}

int
broadcast_get(struct store *s, int64_t id, struct broadcast_info *out)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT " INFO_COLUMNS " FROM broadcasts b "
	    "LEFT JOIN events e ON e.id = b.event_id WHERE b.id = ?1");
	int rc;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_info(st, out);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_log_error(s, "read broadcast");
		return -1;
	}
	if (rc == SQLITE_DONE)
		return 0;
	if (outbox_counts(s, OUTBOX_BROADCAST, id, &out->counts) < 0) {
		broadcast_info_clear(out);
		return -1;
	}
	return 1;
}

int
broadcast_recent(struct store *s, size_t max, struct broadcast_info **out, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT " INFO_COLUMNS " FROM broadcasts b "
	    "LEFT JOIN events e ON e.id = b.event_id ORDER BY b.id DESC LIMIT ?1");
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		read_info(st, &(*out)[(*n)++]);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(s, "list broadcasts");
		goto fail;
	}
	for (size_t i = 0; i < *n; i++)
		if (outbox_counts(s, OUTBOX_BROADCAST, (*out)[i].id, &(*out)[i].counts) < 0)
			goto fail;
	return 0;
fail:
	broadcasts_free(*out, *n);
	*out = NULL;
	*n = 0;
	return -1;
}

void
broadcast_info_clear(struct broadcast_info *b)
{
	for (size_t i = 0; i < b->nunits; i++)
		free(b->units[i]);
	free(b->units);
	free(b->text);
	free(b->platform);
	free(b->user_id);
	memset(b, 0, sizeof(*b));
}

void
broadcasts_free(struct broadcast_info *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		broadcast_info_clear(&b[i]);
	free(b);
}
