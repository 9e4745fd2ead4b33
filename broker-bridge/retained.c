/*
 * Retained tasks/<id>, summary and announcements/current (see retained.h).
 * Dirty flags say what to publish; the plan is cached and reloaded when its
 * meta rows change (campaignctl plan load). The set of task topics last published is kept
 * in the store (kv bridge.retained) so a task removed while the bridge was
 * down still gets its retained message cleared.
 */
#include "retained.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/plandb.h"
#include "campaign/snapshot.h"
#include "campaign/submissions.h"
#include "campaign/topic.h"
#include "campaign/xmalloc.h"
#include "message.h"

#define KV_KEY "bridge.retained"
#define NOTICES_MAX 20          /* announcements/current lists at most this many */
#define NOTICES_SCAN 200        /* ... of the newest announcements in the outbox */

struct retained {
	struct store *store;
	struct plan *plan;
	char *fingerprint;      /* of the cached plan */
	bool reload;
	bool *dirty;            /* per plan task */
	bool summary;
	char **clear;           /* task ids whose retained message must go */
	size_t nclear;
	bool save;              /* the published set changed */
	char *saved_prefix;
	int32_t day;
	bool notices;           /* announcements/current is due */
	time_t notices_until;   /* the first listed announcement expires then; 0: none */
};

char *
retained_plan_id(struct store *s)
{
	return plandb_meta(s, "plan.id");
}

static char *
fingerprint(struct store *s)
{
	char *id = plandb_meta(s, "plan.id"), *at = plandb_meta(s, "plan.loaded_at");
	char *src = plandb_meta(s, "plan.source");
	char *fp = xasprintf("%s|%s|%s", id != NULL ? id : "", at != NULL ? at : "",
	    src != NULL ? src : "");

	free(id);
	free(at);
	free(src);
	return fp;
}

struct retained *
retained_new(struct store *s)
{
	struct retained *r = xcalloc(1, sizeof(*r));

	r->store = s;
	r->reload = true;
	return r;
}

static void
free_clear(struct retained *r)
{
	for (size_t i = 0; i < r->nclear; i++)
		free(r->clear[i]);
	free(r->clear);
	r->clear = NULL;
	r->nclear = 0;
}

void
retained_free(struct retained *r)
{
	if (r == NULL)
		return;
	plan_free(r->plan);
	free(r->fingerprint);
	free(r->dirty);
	free_clear(r);
	free(r->saved_prefix);
	free(r);
}

static void
mark_all(struct retained *r)
{
	if (r->plan != NULL)
		for (size_t i = 0; i < r->plan->ntasks; i++)
			r->dirty[i] = true;
	r->summary = true;
	r->notices = true;
}

void
retained_all(struct retained *r)
{
	mark_all(r);
}

void
retained_task(struct retained *r, const char *task_id)
{
	const struct plan_task *t = r->plan != NULL ? plan_task_get(r->plan, task_id) : NULL;

	r->summary = true;
	if (t == NULL) {
		r->reload = true;
		return;
	}
	r->dirty[t - r->plan->tasks] = true;
}

void
retained_announcement(struct retained *r)
{
	r->notices = true;
}

void
retained_db_changed(struct retained *r)
{
	char *fp = fingerprint(r->store);

	if (r->fingerprint == NULL || strcmp(fp, r->fingerprint) != 0)
		r->reload = true;
	free(fp);
}

void
retained_tick(struct retained *r)
{
	int32_t today = clock_today();

	if (r->plan != NULL && today != r->day) {
		log_info("retained", "a new day: refreshing task states and the summary");
		r->day = today;
		mark_all(r);
	}
	if (r->notices_until != 0 && clock_now() >= r->notices_until)
		r->notices = true;
}

/* Task ids published under prefix last time but absent from the plan now. */
static void
find_removed(struct retained *r, const char *prefix)
{
	char *text = NULL;
	json_t *saved, *tasks, *v;
	size_t i;

	free_clear(r);
	if (store_kv_get(r->store, KV_KEY, &text) != 1)
		return;
	saved = json_loads(text, 0, NULL);
	free(text);
	tasks = json_object_get(saved, "tasks");
	if (json_is_array(tasks) && json_is_string(json_object_get(saved, "prefix")) &&
	    strcmp(json_string_value(json_object_get(saved, "prefix")), prefix) == 0) {
		json_array_foreach(tasks, i, v) {
			const char *id = json_string_value(v);

			if (id != NULL && plan_task_get(r->plan, id) == NULL) {
				r->clear = xreallocarray(r->clear, r->nclear + 1, sizeof(*r->clear));
				r->clear[r->nclear++] = xstrdup(id);
			}
		}
	}
	json_decref(saved);
}

static void
save_published(struct retained *r, const char *prefix)
{
	json_t *o = json_object(), *tasks = json_array();
	char *text;

	for (size_t i = 0; i < r->plan->ntasks; i++)
		json_array_append_new(tasks, json_string(r->plan->tasks[i].id));
	json_object_set_new(o, "prefix", json_string(prefix));
	json_object_set_new(o, "tasks", tasks);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text != NULL && store_kv_set(r->store, KV_KEY, text) == 0)
		r->save = false;
	free(text);
}

static void
reload(struct retained *r, const char *prefix)
{
	char err[256], buf[128];

	r->reload = false;
	plan_free(r->plan);
	free(r->dirty);
	r->dirty = NULL;
	free(r->fingerprint);
	r->fingerprint = fingerprint(r->store);
	r->plan = plandb_load(r->store, err, sizeof(err));
	if (r->plan == NULL) {
		log_info("retained", "no task states to publish: %s", err);
		r->summary = false;
		return;
	}
	if (plandb_use_zone(r->store, err, sizeof(err)) < 0)
		log_warnx("retained", "%s", err);
	r->dirty = xcalloc(r->plan->ntasks + 1, sizeof(*r->dirty));
	r->day = clock_today();
	mark_all(r);
	for (size_t i = 0; i < r->plan->ntasks; i++) {
		const char *id = r->plan->tasks[i].id;

		if (!topic_level_ok(id, strlen(id))) {
			log_warnx("retained", "task id \"%s\" is not a safe topic level; its "
			    "state is not published", log_escape(id, buf, sizeof(buf), 40));
			r->dirty[i] = false;
		}
	}
	find_removed(r, prefix);
	free(r->saved_prefix);
	r->saved_prefix = xstrdup(prefix);
	r->save = true;
	log_info("retained", "plan %s: %zu tasks", r->plan->id, r->plan->ntasks);
}

static bool
anything_dirty(const struct retained *r)
{
	if (r->summary || r->notices || r->nclear > 0)
		return true;
	for (size_t i = 0; r->plan != NULL && i < r->plan->ntasks; i++)
		if (r->dirty[i])
			return true;
	return false;
}

/*
 * Whether an announcement (its event payload) is still current at now, and
 * until when: its expires_at, or without one the end of the local day it was
 * made (a notice without an expiry is today's news).
 */
static bool
notice_current(const json_t *payload, time_t created, time_t now, time_t *until)
{
	const char *at = json_string_value(json_object_get(payload, "expires_at"));

	if (at == NULL || clock_parse_iso(at, until) < 0)
		*until = clock_local_time(clock_local_day(created) + 1, 0);
	return created <= now && now < *until;
}

/* One listed announcement: the event's id (what subscribers dedupe by) and its text. */
static json_t *
notice_json(int64_t id, const char *ts, json_t *payload, time_t until)
{
	json_t *o = json_object(), *units = json_object_get(payload, "units");
	const char *text = json_string_value(json_object_get(payload, "text"));
	char iso[CLOCK_ISO_STRLEN];

	clock_format_iso(until, iso);
	json_object_set_new(o, "id", json_integer(id));
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "text", json_string(text != NULL ? text : ""));
	json_object_set(o, "units", json_is_array(units) ? units : json_null());
	json_object_set_new(o, "expires_at", json_string(iso));
	return o;
}

/*
 * The announcements current at now, newest first, from the outbox (every
 * writer's announcements go through it); NULL on a store error.
 */
static json_t *
notices_json(struct retained *r, time_t now)
{
	sqlite3_stmt *st = store_stmt(r->store, "SELECT id, ts, created_at, payload "
	    "FROM events WHERE type = 'announcement' AND state <> 2 ORDER BY id DESC "
	    "LIMIT ?1");
	json_t *list, *o;
	int rc;

	if (st == NULL)
		return NULL;
	list = json_array();
	r->notices_until = 0;
	sqlite3_bind_int(st, 1, NOTICES_SCAN);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *ts = (const char *)sqlite3_column_text(st, 1);
		json_t *payload = json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL);
		time_t until;

		if (ts != NULL && json_is_object(payload) && json_array_size(list) < NOTICES_MAX &&
		    notice_current(payload, (time_t)sqlite3_column_int64(st, 2), now, &until)) {
			json_array_append_new(list, notice_json(sqlite3_column_int64(st, 0), ts,
			    payload, until));
			if (r->notices_until == 0 || until < r->notices_until)
				r->notices_until = until;
		}
		json_decref(payload);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(r->store, "read announcements");
		json_decref(list);
		return NULL;
	}
	o = json_object();
	json_object_set_new(o, "announcements", list);
	return message_versioned(o, now);
}

static void
pump_notices(struct retained *r, struct relay *relay, struct mqtt *m, const char *prefix,
    int32_t today)
{
	time_t now = clock_now();
	json_t *json = notices_json(r, now);
	struct message msg;

	if (json == NULL)
		return;
	json_object_set_new(json, "today", snapshot_date_json(today));
	message_announcements(prefix, json, &msg);
	json_decref(json);
	if (relay_publish(relay, m, &msg, 's') == 0)
		r->notices = false;
	message_clear(&msg);
}

/*
 * The ids published as tasks/<id>: a broker that keeps retained messages
 * only for exact topics (RabbitMQ) needs them to be subscribed one by one.
 */
static json_t *
task_ids(const struct plan *plan)
{
	json_t *ids = json_array();

	for (size_t i = 0; i < plan->ntasks; i++) {
		const char *id = plan->tasks[i].id;

		if (topic_level_ok(id, strlen(id)))
			json_array_append_new(ids, json_string(id));
	}
	return ids;
}

void
retained_pump(struct retained *r, struct relay *relay, struct mqtt *m, const char *prefix)
{
	struct progress *progress = NULL;
	struct message msg;
	int32_t today;

	if (!mqtt_connected(m))
		return;
	if (r->reload || (r->saved_prefix != NULL && strcmp(r->saved_prefix, prefix) != 0))
		reload(r, prefix);
	if (r->plan == NULL || !anything_dirty(r))
		return;
	while (r->nclear > 0 && relay_room(relay) > 0) {
		if (message_task(prefix, r->clear[r->nclear - 1], NULL, &msg) == 0) {
			int rc = relay_publish(relay, m, &msg, 't');

			message_clear(&msg);
			if (rc < 0)
				return;
			log_info("retained", "cleared %s/tasks/%s (no longer in the plan)", prefix,
			    r->clear[r->nclear - 1]);
		}
		free(r->clear[--r->nclear]);
	}
	progress = progress_load(r->store, r->plan);
	if (progress == NULL)
		return;
	today = clock_today();
	for (size_t i = 0; i < r->plan->ntasks && relay_room(relay) > 0; i++) {
		json_t *json;
		int rc;

		if (!r->dirty[i])
			continue;
		json = message_versioned(snapshot_task_json(r->plan, progress, i, today),
		    clock_now());
		submissions_task_json(r->store, r->plan, i, json);     /* issue 15 */
		rc = message_task(prefix, r->plan->tasks[i].id, json, &msg);
		json_decref(json);
		if (rc == 0) {
			rc = relay_publish(relay, m, &msg, 't');
			message_clear(&msg);
			if (rc < 0)
				goto out;
		}
		r->dirty[i] = false;
	}
	if (r->summary && relay_room(relay) > 0) {
		json_t *json = message_versioned(snapshot_summary_json(r->plan, progress, today),
		    clock_now());

		/* The board's second headline, under the title. */
		json_object_set_new(json, "theme", r->plan->theme != NULL ?
		    json_string(r->plan->theme) : json_null());
		json_object_set_new(json, "task_ids", task_ids(r->plan));

		submissions_summary_json(r->store, r->plan, json);     /* issue 15: N of M */
		message_summary(prefix, json, &msg);
		json_decref(json);
		if (relay_publish(relay, m, &msg, 's') == 0)
			r->summary = false;
		message_clear(&msg);
	}
	if (r->notices && relay_room(relay) > 0)
		pump_notices(r, relay, m, prefix, today);
	if (r->save && !anything_dirty(r))
		save_published(r, prefix);
out:
	progress_free(progress);
}
