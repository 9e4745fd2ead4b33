/*
 * Writes the assembled plan as campaign-plan/1. Every string is cut to the
 * loader's limits at a character boundary, every date is checked to exist,
 * so what the importer writes is what `plan load` accepts.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/caldate.h"
#include "campaign/log.h"
#include "campaign/plan.h"
#include "campaign/utf8.h"
#include "campaign/xmalloc.h"
#include "campaign/textnorm.h"
#include "import_priv.h"

/* A JSON string of at most max_chars characters ("…" marks a cut). */
static json_t *
text(const char *s, size_t max_chars)
{
	size_t n;
	json_t *j;
	char *cut;

	if (utf8_chars(s) <= max_chars)
		return json_string(s);
	n = utf8_prefix_chars(s, max_chars - 1);
	cut = xasprintf("%.*s…", (int)n, s);
	j = json_string(cut);
	free(cut);
	return j;
}

/* The same on one line: titles and when-phrases hold no line breaks. */
static json_t *
line(const char *s, size_t max_chars)
{
	char *copy = xstrdup(s);
	json_t *j;

	for (char *p = copy; *p != '\0'; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	j = text(copy, max_chars);
	free(copy);
	return j;
}

static json_t *
names(const struct imp_names *list)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < list->n; i++)
		json_array_append_new(arr, text(list->v[i], PLAN_NAME_MAX_CHARS));
	return arr;
}

/* Role names not given a role already (by normalized form: the loader refuses two). */
static json_t *
role_names(const struct imp_names *list, json_t *seen)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < list->n; i++) {
		char *norm = textnorm_text(list->v[i]);

		if (json_object_get(seen, norm) == NULL) {
			json_object_set_new(seen, norm, json_true());
			json_array_append_new(arr, text(list->v[i], PLAN_NAME_MAX_CHARS));
		}
		free(norm);
	}
	return arr;
}

/*
 * One end of a task's dates: "YYYY-MM-DD" when the year is known, else
 * "MM-DD"; null when open. *day_out is the day number (CALDATE_NONE if open
 * or year unknown) for the start <= due check.
 */
static json_t *
date(const struct import_day *d, int plan_year, int32_t *day_out, bool *bad)
{
	char s[48];
	int y;

	*day_out = CALDATE_NONE;
	if (d->month == 0)
		return json_null();
	y = d->year > 0 ? d->year : plan_year;
	if (y > 0) {
		y += d->year_offset;
		if (!caldate_valid_ymd(y, d->month, d->day)) {
			*bad = true;
			return json_null();
		}
		*day_out = caldate_from_ymd(y, d->month, d->day);
		snprintf(s, sizeof(s), "%04d-%02d-%02d", y, d->month, d->day);
	} else {
		if (!caldate_valid_ymd(2000, d->month, d->day)) {
			*bad = true;
			return json_null();
		}
		snprintf(s, sizeof(s), "%02d-%02d", d->month, d->day);
	}
	return json_string(s);
}

static json_t *
task_json(const struct imp_plan *plan, const struct imp_task *t, struct imp_notes *notes)
{
	json_t *o = json_object(), *start, *due;
	int32_t s_day, d_day;
	bool bad = false;

	json_object_set_new(o, "id", json_string(t->id));
	json_object_set_new(o, "title", line(t->title, 200));
	json_object_set_new(o, "detail", t->detail != NULL && *t->detail != '\0' ?
	    text(t->detail, 8000) : json_null());
	json_object_set_new(o, "when", t->when != NULL ? line(t->when, 100) : json_null());
	start = date(&t->w.start, plan->year, &s_day, &bad);
	due = date(&t->w.due, plan->year, &d_day, &bad);
	if (bad)
		imp_note(notes, t->line, t->line, IMPORT_WARNING, "%s: \"%s\" names a day that "
		    "does not exist in the campaign year; left open", t->id,
		    t->when != NULL ? t->when : "");
	if (s_day != CALDATE_NONE && d_day != CALDATE_NONE && s_day > d_day) {
		imp_note(notes, t->line, t->line, IMPORT_WARNING, "%s: \"%s\" starts after it "
		    "ends; only the due date is kept", t->id, t->when != NULL ? t->when : "");
		json_decref(start);
		start = json_null();
	}
	json_object_set_new(o, "start", start);
	json_object_set_new(o, "due", due);
	json_object_set_new(o, "fuzzy", json_boolean(t->w.fuzzy));
	json_object_set_new(o, "units", names(&t->units));
	if (t->lead.n > 0 || t->support.n > 0) {
		json_t *seen = json_object();

		if (t->lead.n > 0)
			json_object_set_new(o, "lead", role_names(&t->lead, seen));
		if (t->support.n > 0)
			json_object_set_new(o, "support", role_names(&t->support, seen));
		json_decref(seen);
	}
	if (t->actors.n > 0)
		json_object_set_new(o, "actors", names(&t->actors));
	if (t->report_to.n > 0)
		json_object_set_new(o, "report_to", names(&t->report_to));
	/* issue 15: items asking each unit for a "…总结" */
	{
		char *d = imp_deliverable(t->detail != NULL ? t->detail : t->title);

		if (d != NULL)
			json_object_set_new(o, "deliverable", line(d, 200));
		free(d);
	}
	return o;
}

char *
imp_json_write(const struct imp_plan *plan, struct imp_notes *notes)
{
	json_t *root = json_object(), *units = json_array(), *tasks = json_array();
	char *out;

	json_object_set_new(root, "schema", json_string("campaign-plan/1"));
	json_object_set_new(root, "id", json_string(plan->id));
	json_object_set_new(root, "title", line(plan->title, 200));
	json_object_set_new(root, "theme", plan->theme != NULL ? line(plan->theme, 200) :
	    json_null());
	json_object_set_new(root, "year", plan->year > 0 ? json_integer(plan->year) :
	    json_null());
	json_object_set_new(root, "timezone", json_string("Asia/Shanghai"));
	if (plan->key_month > 0) {
		char key[48];

		if (plan->year > 0)
			snprintf(key, sizeof(key), "%04d-%02d-%02d", plan->year, plan->key_month,
			    plan->key_day);
		else
			snprintf(key, sizeof(key), "%02d-%02d", plan->key_month, plan->key_day);
		json_object_set_new(root, "key_date", json_string(key));
	} else {
		json_object_set_new(root, "key_date", json_null());
	}
	if (plan->source != NULL)
		json_object_set_new(root, "source", text(plan->source, 200));
	for (size_t i = 0; i < plan->units.n; i++) {
		json_t *u = json_object();

		json_object_set_new(u, "name", text(plan->units.v[i], PLAN_NAME_MAX_CHARS));
		json_object_set_new(u, "aliases", names(&plan->aliases[i]));
		if (imp_units_placeholder(plan->units.v[i]))
			json_object_set_new(u, "placeholder", json_true());
		json_array_append_new(units, u);
	}
	for (size_t i = 0; i < plan->ntasks; i++)
		json_array_append_new(tasks, task_json(plan, &plan->tasks[i], notes));
	json_object_set_new(root, "units", units);
	json_object_set_new(root, "tasks", tasks);
	out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (out == NULL)
		fatalx("import", "cannot serialize the plan");
	return out;
}

void
imp_plan_free(struct imp_plan *plan)
{
	for (size_t i = 0; i < plan->ntasks; i++) {
		struct imp_task *t = &plan->tasks[i];

		free(t->id);
		free(t->title);
		free(t->detail);
		free(t->when);
		imp_names_free(&t->units);
		imp_names_free(&t->lead);
		imp_names_free(&t->support);
		imp_names_free(&t->actors);
		imp_names_free(&t->report_to);
	}
	free(plan->tasks);
	for (size_t i = 0; i < plan->units.n; i++)
		imp_names_free(&plan->aliases[i]);
	free(plan->aliases);
	imp_names_free(&plan->units);
	imp_names_free(&plan->report_to);
	free(plan->id);
	free(plan->title);
	free(plan->theme);
	free(plan->source);
	memset(plan, 0, sizeof(*plan));
}
