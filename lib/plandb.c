/*
 * Plan <-> store. plandb_replace swaps the whole plan in one transaction;
 * rows are marked (seq = -1), upserted, and what stayed marked is deleted,
 * so survivors keep their ids and everything hanging off them. Reading it
 * back is linear in its size (a hash of task ids, units sorted by id).
 */
#include "campaign/plandb.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/caldate.h"
#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/num.h"
#include "campaign/strindex.h"
#include "campaign/xmalloc.h"

static int
meta_set(struct store *s, const char *key, const char *value)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT INTO meta(key, value) VALUES(?1, ?2) "
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value != NULL ? value : "", -1, SQLITE_STATIC);
	return store_step_done(s, st, "meta set");
}

static int
count(struct store *s, const char *sql)
{
	sqlite3_stmt *st = store_stmt(s, sql);
	int n = -1;

	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	if (st != NULL)
		sqlite3_reset(st);
	return n;
}

static int
save_meta(struct store *s, const struct plan *plan, const char *source, time_t now)
{
	char year[16], key[CALDATE_STRLEN], loaded[CLOCK_ISO_STRLEN];

	snprintf(year, sizeof(year), "%d", plan->year);
	caldate_format(plan->key_date, key);
	clock_format_iso(now, loaded);
	if (meta_set(s, "plan.id", plan->id) < 0 ||
	    meta_set(s, "plan.title", plan->title) < 0 ||
	    meta_set(s, "plan.theme", plan->theme) < 0 ||
	    meta_set(s, "plan.timezone", plan->timezone) < 0 ||
	    meta_set(s, "plan.year", year) < 0 ||
	    meta_set(s, "plan.year_given", plan->year_given ? "1" : "0") < 0 ||
	    meta_set(s, "plan.key_date", key) < 0 ||
	    meta_set(s, "plan.source", source) < 0 ||
	    meta_set(s, "plan.loaded_at", loaded) < 0)
		return -1;
	return 0;
}

static int
save_units(struct store *s, const struct plan *plan, int64_t *ids,
    struct plandb_stats *stats)
{
	sqlite3_stmt *st;
	int before = count(s, "SELECT count(*) FROM units");

	if (store_exec(s, "UPDATE units SET seq = -1") < 0)
		return -1;
	for (size_t i = 0; i < plan->nunits; i++) {
		st = store_stmt(s, "INSERT INTO units(name, norm, seq, placeholder) "
		    "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(norm) DO UPDATE SET name = excluded.name, "
		    "seq = excluded.seq, placeholder = excluded.placeholder RETURNING id");
		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 1, plan->units[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, plan->units[i].norm, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (int64_t)i);
		sqlite3_bind_int(st, 4, plan->units[i].placeholder);
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_reset(st);
			store_log_error(s, "save unit");
			return -1;
		}
		ids[i] = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	stats->units_removed = count(s, "SELECT count(*) FROM units WHERE seq = -1");
	stats->units_kept = before - stats->units_removed;
	stats->units_added = (int)plan->nunits - stats->units_kept;
	stats->bindings_dropped = count(s, "SELECT count(*) FROM users WHERE unit_id IN "
	    "(SELECT id FROM units WHERE seq = -1)");
	if (store_exec(s, "DELETE FROM units WHERE seq = -1") < 0 ||
	    store_exec(s, "DELETE FROM unit_aliases") < 0)
		return -1;
	for (size_t i = 0; i < plan->nunits; i++) {
		for (size_t a = 0; a < plan->units[i].naliases; a++) {
			const char *norm = plan->units[i].alias_norms[a];

			st = store_stmt(s, "INSERT OR IGNORE INTO unit_aliases(norm, alias, unit_id, "
			    "seq) VALUES(?1, ?2, ?3, ?4)");
			if (st == NULL)
				return -1;
			sqlite3_bind_text(st, 1, norm, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, plan->units[i].aliases[a], -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 3, ids[i]);
			sqlite3_bind_int64(st, 4, (int64_t)a);
			if (store_step_done(s, st, "save alias") < 0)
				return -1;
		}
	}
	return 0;
}

static char *
names_json(char *const *names, size_t n)
{
	json_t *arr;
	char *text;

	if (n == 0)
		return NULL;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(names[i]));
	text = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return text;
}

static void
bind_day(sqlite3_stmt *st, int idx, int32_t day)
{
	if (day == CALDATE_NONE)
		sqlite3_bind_null(st, idx);
	else
		sqlite3_bind_int(st, idx, day);
}

static int
save_tasks(struct store *s, const struct plan *plan, const int64_t *unit_ids,
    struct plandb_stats *stats)
{
	int before = count(s, "SELECT count(*) FROM tasks");
	sqlite3_stmt *st;

	if (store_exec(s, "UPDATE tasks SET seq = -1") < 0)
		return -1;
	for (size_t i = 0; i < plan->ntasks; i++) {
		const struct plan_task *t = &plan->tasks[i];
		char *actors = names_json(t->actors, t->nactors);
		char *report_to = names_json(t->report_to, t->nreport_to);
		int rc;

		st = store_stmt(s, "INSERT INTO tasks(id, seq, title, detail, when_text, "
		    "start_day, due_day, fuzzy, actors, report_to, deliverable) "
		    "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11) "
		    "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, title = excluded.title, "
		    "detail = excluded.detail, when_text = excluded.when_text, "
		    "start_day = excluded.start_day, due_day = excluded.due_day, "
		    "fuzzy = excluded.fuzzy, actors = excluded.actors, "
		    "report_to = excluded.report_to, deliverable = excluded.deliverable");
		if (st == NULL) {
			free(actors);
			free(report_to);
			return -1;
		}
		sqlite3_bind_text(st, 1, t->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)i);
		sqlite3_bind_text(st, 3, t->title, -1, SQLITE_STATIC);
		store_bind_text(st, 4, t->detail);
		store_bind_text(st, 5, t->when);
		bind_day(st, 6, t->start);
		bind_day(st, 7, t->due);
		sqlite3_bind_int(st, 8, t->fuzzy);
		store_bind_text(st, 9, actors);
		store_bind_text(st, 10, report_to);
		store_bind_text(st, 11, t->deliverable);
		rc = store_step_done(s, st, "save task");
		free(actors);
		free(report_to);
		if (rc < 0)
			return -1;
	}
	stats->tasks_removed = count(s, "SELECT count(*) FROM tasks WHERE seq = -1");
	stats->tasks_kept = before - stats->tasks_removed;
	stats->tasks_added = (int)plan->ntasks - stats->tasks_kept;
	if (store_exec(s, "DELETE FROM tasks WHERE seq = -1") < 0 ||
	    store_exec(s, "DELETE FROM task_units") < 0)
		return -1;
	for (size_t i = 0; i < plan->ntasks; i++) {
		const struct plan_task *t = &plan->tasks[i];

		for (size_t u = 0; u < t->nunits; u++) {
			unsigned char role = t->roles != NULL ? t->roles[u] : PLAN_ROLE_NONE;

			st = store_stmt(s, "INSERT INTO task_units(task_id, unit_id, seq, role) "
			    "VALUES(?1, ?2, ?3, ?4)");
			if (st == NULL)
				return -1;
			sqlite3_bind_text(st, 1, t->id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, unit_ids[t->units[u]]);
			sqlite3_bind_int64(st, 3, (int64_t)u);
			if (role == PLAN_ROLE_NONE)
				sqlite3_bind_null(st, 4);
			else
				sqlite3_bind_text(st, 4, role == PLAN_ROLE_LEAD ? "lead" : "support",
				    -1, SQLITE_STATIC);
			if (store_step_done(s, st, "save task unit") < 0)
				return -1;
		}
	}
	/* A unit no longer responsible for a task has no current state there;
	   its reports stay in the history. */
	if (store_exec(s, "DELETE FROM task_state WHERE NOT EXISTS (SELECT 1 FROM "
	    "task_units tu WHERE tu.task_id = task_state.task_id AND "
	    "tu.unit_id = task_state.unit_id)") < 0)
		return -1;
	stats->progress_kept = count(s, "SELECT count(*) FROM task_state");
	return 0;
}

int
plandb_replace(struct store *s, const struct plan *plan, const char *source, time_t now,
    struct plandb_stats *stats)
{
	int64_t *unit_ids = xcalloc(plan->nunits + 1, sizeof(*unit_ids));
	struct plandb_stats local;

	if (stats == NULL)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	if (store_begin(s) < 0) {
		free(unit_ids);
		return -1;
	}
	if (save_meta(s, plan, source, now) < 0 || save_units(s, plan, unit_ids, stats) < 0 ||
	    save_tasks(s, plan, unit_ids, stats) < 0) {
		store_rollback(s);
		free(unit_ids);
		return -1;
	}
	free(unit_ids);
	return store_commit(s);
}

char *
plandb_meta(struct store *s, const char *key)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT value FROM meta WHERE key = ?1");
	char *value = NULL;

	if (st == NULL)
		return NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		value = store_column_text(st, 0);
	sqlite3_reset(st);
	return value;
}

bool
plandb_present(struct store *s)
{
	char *id = plandb_meta(s, "plan.id");
	bool present = id != NULL && *id != '\0';

	free(id);
	return present;
}

static int32_t
column_day(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? CALDATE_NONE :
	    sqlite3_column_int(st, col);
}

/* A unit's store id and its index in plan->units, sorted by id for bsearch. */
struct unit_ref {
	int64_t id;
	size_t index;
};

static int
unit_ref_cmp(const void *a, const void *b)
{
	const struct unit_ref *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static ssize_t
unit_ref_find(const struct unit_ref *refs, size_t n, int64_t id)
{
	struct unit_ref key = { .id = id };
	const struct unit_ref *r = bsearch(&key, refs, n, sizeof(*refs), unit_ref_cmp);

	return r == NULL ? -1 : (ssize_t)r->index;
}

static int
load_units(struct store *s, struct plan *plan, struct unit_ref **refs_out)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT id, name, norm, placeholder FROM units "
	    "ORDER BY seq");
	struct unit_ref *refs;
	size_t cap = 0;

	if (st == NULL)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct plan_unit *u;

		if (plan->nunits == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			plan->units = xreallocarray(plan->units, cap, sizeof(*plan->units));
		}
		u = &plan->units[plan->nunits++];
		memset(u, 0, sizeof(*u));
		u->id = sqlite3_column_int64(st, 0);
		u->name = store_column_text(st, 1);
		u->norm = store_column_text(st, 2);
		u->placeholder = sqlite3_column_int(st, 3) != 0;
	}
	sqlite3_reset(st);
	refs = *refs_out = xcalloc(plan->nunits + 1, sizeof(*refs));
	for (size_t i = 0; i < plan->nunits; i++)
		refs[i] = (struct unit_ref){ .id = plan->units[i].id, .index = i };
	qsort(refs, plan->nunits, sizeof(*refs), unit_ref_cmp);
	st = store_stmt(s, "SELECT unit_id, alias, norm FROM unit_aliases ORDER BY unit_id, seq");
	if (st == NULL)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		ssize_t i = unit_ref_find(refs, plan->nunits, sqlite3_column_int64(st, 0));
		struct plan_unit *u;

		if (i < 0)
			continue;
		u = &plan->units[i];
		u->aliases = xreallocarray(u->aliases, u->naliases + 1, sizeof(*u->aliases));
		u->alias_norms = xreallocarray(u->alias_norms, u->naliases + 1,
		    sizeof(*u->alias_norms));
		u->aliases[u->naliases] = store_column_text(st, 1);
		u->alias_norms[u->naliases++] = store_column_text(st, 2);
	}
	sqlite3_reset(st);
	return 0;
}

static char **
load_names(const char *text, size_t *n)
{
	json_t *arr = text != NULL ? json_loads(text, 0, NULL) : NULL;
	char **names;
	size_t i;
	json_t *v;

	*n = 0;
	if (!json_is_array(arr)) {
		json_decref(arr);
		return NULL;
	}
	names = xcalloc(json_array_size(arr) + 1, sizeof(*names));
	json_array_foreach(arr, i, v)
		if (json_is_string(v))
			names[(*n)++] = xstrdup(json_string_value(v));
	json_decref(arr);
	return names;
}

/* The units gathered for one task: the responsible ones with their roles, and
   the placeholders ("相关单位") apart: nobody to remind or wait for. */
struct gathered {
	size_t *units, n;
	unsigned char *roles;
	size_t *placeholders, nph;
};

/* Gives task t the units gathered for it. */
static void
set_units(struct plan_task *t, const struct gathered *g)
{
	if (t == NULL || t->units != NULL)
		return;
	t->units = xcalloc(g->n + 1, sizeof(*t->units));
	t->roles = xcalloc(g->n + 1, sizeof(*t->roles));
	if (g->n > 0) {
		memcpy(t->units, g->units, g->n * sizeof(*g->units));
		memcpy(t->roles, g->roles, g->n * sizeof(*g->roles));
	}
	t->nunits = g->n;
	t->placeholders = xcalloc(g->nph + 1, sizeof(*t->placeholders));
	if (g->nph > 0)
		memcpy(t->placeholders, g->placeholders, g->nph * sizeof(*g->placeholders));
	t->nplaceholders = g->nph;
}

/* task_units, grouped by task: one hash lookup per task, one bsearch per row. */
static int
load_task_units(struct store *s, struct plan *plan, const struct unit_ref *refs)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT task_id, unit_id, role FROM task_units "
	    "ORDER BY task_id, seq");
	struct strindex *ids = strindex_new(plan->ntasks);
	struct gathered g = {
		.units = xcalloc(plan->nunits + 1, sizeof(*g.units)),
		.roles = xcalloc(plan->nunits + 1, sizeof(*g.roles)),
		.placeholders = xcalloc(plan->nunits + 1, sizeof(*g.placeholders)),
	};
	const struct gathered none = { 0 };
	struct plan_task *cur = NULL;
	char *cur_id = NULL;

	for (size_t i = 0; i < plan->ntasks; i++)
		strindex_put(ids, plan->tasks[i].id, i);
	while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
		const char *task_id = (const char *)sqlite3_column_text(st, 0);
		ssize_t u = unit_ref_find(refs, plan->nunits, sqlite3_column_int64(st, 1));
		const char *role = (const char *)sqlite3_column_text(st, 2);
		ssize_t ti;

		if (task_id == NULL)
			continue;
		if (cur_id == NULL || strcmp(cur_id, task_id) != 0) {
			set_units(cur, &g);
			g.n = g.nph = 0;
			free(cur_id);
			cur_id = xstrdup(task_id);
			ti = strindex_get(ids, task_id);
			cur = ti < 0 ? NULL : &plan->tasks[ti];
		}
		if (u < 0)
			continue;
		if (plan->units[u].placeholder) {
			if (g.nph < plan->nunits)
				g.placeholders[g.nph++] = (size_t)u;
		} else if (g.n < plan->nunits) {
			g.roles[g.n] = role == NULL ? PLAN_ROLE_NONE : strcmp(role, "lead") == 0 ?
			    PLAN_ROLE_LEAD : PLAN_ROLE_SUPPORT;
			g.units[g.n++] = (size_t)u;
		}
	}
	set_units(cur, &g);
	if (st != NULL)
		sqlite3_reset(st);
	/* Tasks without units still get (empty) arrays. */
	for (size_t i = 0; i < plan->ntasks; i++)
		set_units(&plan->tasks[i], &none);
	free(cur_id);
	free(g.units);
	free(g.roles);
	free(g.placeholders);
	strindex_free(ids);
	return st == NULL ? -1 : 0;
}

static int
load_tasks(struct store *s, struct plan *plan, const struct unit_ref *refs)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT id, title, detail, when_text, start_day, "
	    "due_day, fuzzy, actors, report_to, deliverable FROM tasks ORDER BY seq");
	size_t cap = 0;

	if (st == NULL)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct plan_task *t;

		if (plan->ntasks == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			plan->tasks = xreallocarray(plan->tasks, cap, sizeof(*plan->tasks));
		}
		t = &plan->tasks[plan->ntasks++];
		memset(t, 0, sizeof(*t));
		t->id = store_column_text(st, 0);
		t->title = store_column_text(st, 1);
		t->detail = store_column_text(st, 2);
		t->when = store_column_text(st, 3);
		t->start = column_day(st, 4);
		t->due = column_day(st, 5);
		t->fuzzy = sqlite3_column_int(st, 6) != 0;
		t->actors = load_names((const char *)sqlite3_column_text(st, 7), &t->nactors);
		t->report_to = load_names((const char *)sqlite3_column_text(st, 8),
		    &t->nreport_to);
		t->deliverable = store_column_text(st, 9);
	}
	sqlite3_reset(st);
	return load_task_units(s, plan, refs);
}

/* A plan stored beyond the limits (by an older version) is refused, not loaded slowly. */
static int
check_limits(struct store *s, char *err, size_t errlen)
{
	int ntasks = count(s, "SELECT count(*) FROM tasks");
	int nunits = count(s, "SELECT count(*) FROM units");

	if (ntasks < 0 || nunits < 0) {
		snprintf(err, errlen, "%s: cannot read the plan: %s", store_path(s),
		    store_errmsg(s));
		return -1;
	}
	if (ntasks > PLAN_MAX_TASKS || nunits > PLAN_MAX_UNITS) {
		snprintf(err, errlen, "%s: the stored plan has %d tasks and %d units, more "
		    "than a plan may have (%d tasks, %d units): load a smaller plan "
		    "(campaignctl plan load FILE.json)", store_path(s), ntasks, nunits,
		    PLAN_MAX_TASKS, PLAN_MAX_UNITS);
		return -1;
	}
	return 0;
}

struct plan *
plandb_load(struct store *s, char *err, size_t errlen)
{
	struct plan *plan = xcalloc(1, sizeof(*plan));
	char *year = NULL, *given = NULL, *key = NULL;
	struct unit_ref *refs = NULL;
	int y;

	plan->id = plandb_meta(s, "plan.id");
	if (plan->id == NULL || *plan->id == '\0') {
		snprintf(err, errlen, "no plan loaded (campaignctl plan load FILE.json)");
		goto fail;
	}
	plan->title = plandb_meta(s, "plan.title");
	plan->theme = plandb_meta(s, "plan.theme");
	if (plan->theme != NULL && *plan->theme == '\0') {
		free(plan->theme);
		plan->theme = NULL;
	}
	plan->timezone = plandb_meta(s, "plan.timezone");
	year = plandb_meta(s, "plan.year");
	given = plandb_meta(s, "plan.year_given");
	key = plandb_meta(s, "plan.key_date");
	plan->year = year != NULL && num_parse_int(year, 0, 9999, &y) == 0 ? y : 0;
	plan->year_given = given != NULL && strcmp(given, "1") == 0;
	if (key == NULL || caldate_parse(key, &plan->key_date) < 0)
		plan->key_date = CALDATE_NONE;
	if (check_limits(s, err, errlen) < 0)
		goto fail;
	if (plan->title == NULL || plan->timezone == NULL ||
	    load_units(s, plan, &refs) < 0 || load_tasks(s, plan, refs) < 0) {
		snprintf(err, errlen, "%s: cannot read the plan: %s", store_path(s),
		    store_errmsg(s));
		goto fail;
	}
	free(year);
	free(given);
	free(key);
	free(refs);
	return plan;
fail:
	free(year);
	free(given);
	free(key);
	free(refs);
	plan_free(plan);
	return NULL;
}

int
plandb_use_zone(struct store *s, char *err, size_t errlen)
{
	char *zone = plandb_meta(s, "plan.timezone");
	int rc;

	if (zone == NULL || *zone == '\0') {
		free(zone);
		return clock_set_zone("Asia/Shanghai", err, errlen);
	}
	rc = clock_set_zone(zone, err, errlen);
	free(zone);
	return rc;
}
