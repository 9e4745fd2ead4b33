/*
 * Progress state and history (tables reports, task_state). A report and the
 * progress event describing it are written in one transaction: the outbox
 * can never miss a report the bot confirmed, nor announce one that was not
 * stored.
 */
#include "campaign/progress.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/caldate.h"
#include "campaign/events.h"
#include "campaign/log.h"
#include "campaign/safetext.h"
#include "campaign/strindex.h"
#include "campaign/utf8.h"
#include "campaign/xmalloc.h"

/*
 * issue 15: a unit that has sent the document a task asks for (its
 * deliverable) is done with that task, whatever it reported: one rule for
 * the answers, the reminders, campaignctl and what the bridge publishes.
 */
static int
mark_submitted(struct store *s, const struct plan *plan, struct progress *p)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT DISTINCT task_id, unit_id FROM submissions "
	    "WHERE task_id IS NOT NULL AND unit_id IS NOT NULL");
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ssize_t t = plan_task_index(plan, (const char *)sqlite3_column_text(st, 0));
		ssize_t u = plan_unit_index_id(plan, sqlite3_column_int64(st, 1));

		if (t >= 0 && u >= 0 && plan->tasks[t].deliverable != NULL) {
			struct progress_cell *c = &p->cells[(size_t)t * p->nunits + (size_t)u];

			c->done = true;
			c->percent = 100;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(s, "read submissions");
		return -1;
	}
	return 0;
}

struct progress *
progress_load(struct store *s, const struct plan *plan)
{
	struct progress *p = xcalloc(1, sizeof(*p));
	struct strindex *ids;
	sqlite3_stmt *st;
	int rc;

	p->ntasks = plan->ntasks;
	p->nunits = plan->nunits;
	p->cells = xcalloc(p->ntasks * p->nunits + 1, sizeof(*p->cells));
	st = store_stmt(s, "SELECT task_id, unit_id, percent, done, note, updated_at "
	    "FROM task_state");
	if (st == NULL) {
		progress_free(p);
		return NULL;
	}
	ids = strindex_new(plan->ntasks);
	for (size_t i = 0; i < plan->ntasks; i++)
		strindex_put(ids, plan->tasks[i].id, i);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *task_id = (const char *)sqlite3_column_text(st, 0);
		ssize_t t = task_id != NULL ? strindex_get(ids, task_id) : -1;
		ssize_t u = plan_unit_index_id(plan, sqlite3_column_int64(st, 1));
		struct progress_cell *c;

		if (t < 0 || u < 0)
			continue;
		c = &p->cells[(size_t)t * p->nunits + (size_t)u];
		c->reported = true;
		c->percent = sqlite3_column_int(st, 2);
		c->done = sqlite3_column_int(st, 3) != 0;
		c->note = store_column_text(st, 4);
		c->at = (time_t)sqlite3_column_int64(st, 5);
	}
	sqlite3_reset(st);
	strindex_free(ids);
	if (rc != SQLITE_DONE) {
		store_log_error(s, "read progress");
		progress_free(p);
		return NULL;
	}
	if (mark_submitted(s, plan, p) < 0) {
		progress_free(p);
		return NULL;
	}
	return p;
}

void
progress_free(struct progress *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->ntasks * p->nunits; i++)
		free(p->cells[i].note);
	free(p->cells);
	free(p);
}

const struct progress_cell *
progress_cell(const struct progress *p, size_t task, size_t unit)
{
	return &p->cells[task * p->nunits + unit];
}

int
progress_task_percent(const struct progress *p, const struct plan *plan, size_t task)
{
	const struct plan_task *t = &plan->tasks[task];
	int sum = 0;

	if (t->nunits == 0)
		return 0;
	for (size_t i = 0; i < t->nunits; i++)
		sum += progress_cell(p, task, t->units[i])->percent;
	return sum / (int)t->nunits;
}

bool
progress_task_done(const struct progress *p, const struct plan *plan, size_t task)
{
	const struct plan_task *t = &plan->tasks[task];

	if (t->nunits == 0)
		return false;
	for (size_t i = 0; i < t->nunits; i++)
		if (!progress_cell(p, task, t->units[i])->done)
			return false;
	return true;
}

int
progress_history(struct store *s, const char *task_id, struct report_row **rows,
    size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT r.id, r.task_id, u.name, r.percent, "
	    "r.done, r.note, r.platform, r.user_id, r.user_name, r.at FROM reports r "
	    "JOIN units u ON u.id = r.unit_id WHERE r.task_id = ?1 ORDER BY r.id");
	size_t cap = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, task_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct report_row *r;

		if (*n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			*rows = xreallocarray(*rows, cap, sizeof(**rows));
		}
		r = &(*rows)[(*n)++];
		r->id = sqlite3_column_int64(st, 0);
		r->task_id = store_column_text(st, 1);
		r->unit = store_column_text(st, 2);
		r->percent = sqlite3_column_int(st, 3);
		r->done = sqlite3_column_int(st, 4) != 0;
		r->note = store_column_text(st, 5);
		r->platform = store_column_text(st, 6);
		r->user_id = store_column_text(st, 7);
		r->user_name = store_column_text(st, 8);
		r->at = (time_t)sqlite3_column_int64(st, 9);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(s, "read history");
		report_rows_free(*rows, *n);
		*rows = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

void
report_rows_free(struct report_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].task_id);
		free(rows[i].unit);
		free(rows[i].note);
		free(rows[i].platform);
		free(rows[i].user_id);
		free(rows[i].user_name);
	}
	free(rows);
}

static json_t *
progress_payload(const struct plan *plan, size_t task, const struct report_input *in,
    int percent, int task_percent, bool task_done)
{
	const struct plan_task *t = &plan->tasks[task];
	char due[CALDATE_STRLEN];
	json_t *jt = json_object();
	json_t *payload = json_object();

	caldate_format(t->due, due);
	json_object_set_new(jt, "id", json_string(t->id));
	json_object_set_new(jt, "title", json_string(t->title));
	json_object_set_new(jt, "due", t->due == CALDATE_NONE ? json_null() : json_string(due));
	json_object_set_new(jt, "percent", json_integer(task_percent));
	json_object_set_new(jt, "done", json_boolean(task_done));
	json_object_set_new(payload, "task", jt);
	json_object_set_new(payload, "unit", json_string(plan->units[in->unit].name));
	json_object_set_new(payload, "percent", json_integer(percent));
	json_object_set_new(payload, "done", json_boolean(in->done || percent == 100));
	json_object_set_new(payload, "note", in->note != NULL && *in->note != '\0' ?
	    json_string(in->note) : json_null());
	json_object_set_new(payload, "by", in->user_name != NULL ?
	    json_string(in->user_name) : json_string(in->user_id));
	return payload;
}

static int
source_seen(struct store *s, const char *key)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT 1 FROM reports WHERE source_key = ?1");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int
write_report(struct store *s, const struct plan *plan, const struct report_input *in,
    int percent, bool done, int64_t *report_id)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT INTO reports(task_id, unit_id, percent, "
	    "done, note, platform, user_id, user_name, at, source_key) "
	    "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, in->task_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, plan->units[in->unit].id);
	sqlite3_bind_int(st, 3, percent);
	sqlite3_bind_int(st, 4, done);
	store_bind_text(st, 5, in->note != NULL && *in->note != '\0' ? in->note : NULL);
	sqlite3_bind_text(st, 6, in->platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, in->user_id, -1, SQLITE_STATIC);
	store_bind_text(st, 8, in->user_name);
	sqlite3_bind_int64(st, 9, (int64_t)in->at);
	store_bind_text(st, 10, in->source_key);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -1;
	*report_id = sqlite3_last_insert_rowid(store_db(s));
	/* The current state is the newest report; "WHERE true" disambiguates the upsert. */
	st = store_stmt(s, "INSERT INTO task_state(task_id, unit_id, percent, done, note, "
	    "report_id, updated_at) SELECT task_id, unit_id, percent, done, note, id, at "
	    "FROM reports WHERE id = ?1 AND true ON CONFLICT(task_id, unit_id) DO UPDATE SET "
	    "percent = excluded.percent, done = excluded.done, note = excluded.note, "
	    "report_id = excluded.report_id, updated_at = excluded.updated_at");
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, *report_id);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static enum report_result record(struct store *s, const struct plan *plan,
    const struct report_input *in, int64_t *event_id, char *err, size_t errlen);

/* The note and the name are stored (and published) without control or bidi characters. */
enum report_result
progress_report(struct store *s, const struct plan *plan, const struct report_input *in,
    int64_t *event_id, char *err, size_t errlen)
{
	struct report_input clean = *in;
	char *note = NULL, *name = safetext_strip(in->user_name, false);
	enum report_result rc;

	if (in->note != NULL && utf8_valid(in->note, strlen(in->note))) {
		note = safetext_strip(in->note, true);
		clean.note = *note != '\0' ? note : NULL;
	}
	clean.user_name = name;
	rc = record(s, plan, &clean, event_id, err, errlen);
	free(note);
	free(name);
	return rc;
}

static enum report_result
record(struct store *s, const struct plan *plan, const struct report_input *in,
    int64_t *event_id, char *err, size_t errlen)
{
	ssize_t task = plan_task_index(plan, in->task_id);
	int percent = in->done ? 100 : in->percent;
	bool done = in->done || percent == 100;
	int64_t report_id = 0, id;
	struct progress *p = NULL;
	json_t *payload = NULL;
	char eventerr[256];

	if (task < 0) {
		snprintf(err, errlen, "no task %s", in->task_id);
		return REPORT_INVALID;
	}
	if (in->unit >= plan->nunits || !plan_task_has_unit(&plan->tasks[task], in->unit)) {
		snprintf(err, errlen, "%s is not responsible for task %s",
		    in->unit < plan->nunits ? plan->units[in->unit].name : "?", in->task_id);
		return REPORT_INVALID;
	}
	if (percent < 0 || percent > 100) {
		snprintf(err, errlen, "percent must be 0..100");
		return REPORT_INVALID;
	}
	if (in->note != NULL && (utf8_chars(in->note) > PROGRESS_NOTE_MAX_CHARS ||
	    !utf8_valid(in->note, strlen(in->note)))) {
		snprintf(err, errlen, "the note is longer than %d characters or not UTF-8",
		    PROGRESS_NOTE_MAX_CHARS);
		return REPORT_INVALID;
	}
	if (store_begin(s) < 0)
		goto fail;
	if (in->source_key != NULL) {
		int seen = source_seen(s, in->source_key);

		if (seen < 0)
			goto rollback;
		if (seen > 0) {
			store_rollback(s);
			return REPORT_DUPLICATE;
		}
	}
	if (write_report(s, plan, in, percent, done, &report_id) < 0)
		goto rollback;
	p = progress_load(s, plan);
	if (p == NULL)
		goto rollback;
	payload = progress_payload(plan, (size_t)task, in, percent,
	    progress_task_percent(p, plan, (size_t)task),
	    progress_task_done(p, plan, (size_t)task));
	id = events_append(s, "progress", plan->id, payload, in->at, eventerr,
	    sizeof(eventerr));
	json_decref(payload);
	progress_free(p);
	if (id < 0) {
		store_rollback(s);
		snprintf(err, errlen, "%s", eventerr);
		return REPORT_ERROR;
	}
	if (store_commit(s) < 0)
		goto fail;
	if (event_id != NULL)
		*event_id = id;
	return REPORT_RECORDED;
rollback:
	store_log_error(s, "record report");
	store_rollback(s);
fail:
	snprintf(err, errlen, "cannot record the report: %s", store_errmsg(s));
	return REPORT_ERROR;
}
