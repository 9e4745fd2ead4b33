/*
 * Retained tasks/<id> and summary (see retained.h). Dirty flags say what
 * to publish; the plan is cached and reloaded when its meta rows change
 * (campaignctl plan load). The set of task topics last published is kept
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
	if (r->summary || r->nclear > 0)
		return true;
	for (size_t i = 0; r->plan != NULL && i < r->plan->ntasks; i++)
		if (r->dirty[i])
			return true;
	return false;
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
		json = snapshot_task_json(r->plan, progress, i, today);
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
		json_t *json = snapshot_summary_json(r->plan, progress, today);

		submissions_summary_json(r->store, r->plan, json);     /* issue 15: N of M */
		message_summary(prefix, json, &msg);
		json_decref(json);
		if (relay_publish(relay, m, &msg, 's') == 0)
			r->summary = false;
		message_clear(&msg);
	}
	if (r->save && !anything_dirty(r))
		save_published(r, prefix);
out:
	progress_free(progress);
}
