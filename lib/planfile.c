/*
 * Loading and validating campaign-plan/1 JSON files (plan_load_file,
 * plan_load_string). Every error names the file,
 * the position (for syntax errors; jansson gives line and column) or the
 * field path ("tasks[3] (2.4).due"), so an admin can fix the file without
 * reading code. A plan that loads is consistent: unique task ids, known
 * units, real dates, start <= due. Loading is linear in the plan's size
 * (hash lookups), and a plan beyond the limits of plan.h is refused.
 */
#include "campaign/plan.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "campaign/caldate.h"
#include "campaign/safetext.h"
#include "campaign/strindex.h"
#include "campaign/textnorm.h"
#include "campaign/utf8.h"
#include "campaign/xmalloc.h"

struct ctx {
	const char *name;       /* file name for messages */
	char *err;
	size_t errlen;
	bool failed;
	struct strindex *names;  /* unit name and alias norms -> unit index */
};

/* A date field before year resolution. */
struct raw_date {
	bool present;
	bool month_day;         /* "MM-DD" */
	int32_t day;            /* full date */
	int month, mday;
};

static void __attribute__((format(printf, 3, 4)))
fail(struct ctx *c, const char *where, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (c->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s: %s: %s", c->name, where, msg);
	c->failed = true;
}

static const char *
type_name(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE: case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "?";
}

/* The first C1 control or direction character of valid UTF-8 text, or 0. */
static uint32_t
bidi_or_c1(const char *s)
{
	size_t len = strlen(s), i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);

		if (n == 0)
			return 0;
		if (cp >= 0x80 && safetext_unsafe(cp))
			return cp;
		i += n;
	}
	return 0;
}

/* Checks a string value: no NUL, no control characters, length in characters. */
static char *
text_field(struct ctx *c, const char *where, json_t *v, size_t max_chars,
    bool allow_newlines)
{
	const char *s;
	size_t len;
	uint32_t bad;

	if (!json_is_string(v)) {
		fail(c, where, "expected a string, found %s", type_name(v));
		return NULL;
	}
	s = json_string_value(v);
	len = json_string_length(v);
	if (strlen(s) != len) {
		fail(c, where, "contains a NUL character");
		return NULL;
	}
	for (const char *p = s; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if ((ch < 0x20 && !(allow_newlines && (ch == '\n' || ch == '\t'))) || ch == 0x7f) {
			fail(c, where, "contains a control character");
			return NULL;
		}
	}
	/* Names are matched: one that looks like another but is not would mislead. */
	bad = max_chars == PLAN_NAME_MAX_CHARS ? safetext_name_bad(s) : bidi_or_c1(s);
	if (bad != 0) {
		fail(c, where, "contains U+%04X, a control, direction or invisible character; "
		    "retype the text", (unsigned)bad);
		return NULL;
	}
	if (utf8_chars(s) > max_chars) {
		fail(c, where, "longer than %zu characters", max_chars);
		return NULL;
	}
	return xstrdup(s);
}

static char *
required_text(struct ctx *c, json_t *obj, const char *key, const char *where,
    size_t max_chars)
{
	char path[160];
	json_t *v = json_object_get(obj, key);
	char *s;

	snprintf(path, sizeof(path), "%s%s%s", where, *where ? "." : "", key);
	if (v == NULL) {
		fail(c, path, "missing");
		return NULL;
	}
	s = text_field(c, path, v, max_chars, false);
	if (s != NULL && *s == '\0') {
		fail(c, path, "must not be empty");
		free(s);
		return NULL;
	}
	return s;
}

static char *
optional_text(struct ctx *c, json_t *obj, const char *key, const char *where,
    size_t max_chars, bool allow_newlines)
{
	char path[160];
	json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return NULL;
	snprintf(path, sizeof(path), "%s%s%s", where, *where ? "." : "", key);
	return text_field(c, path, v, max_chars, allow_newlines);
}

static void
parse_date(struct ctx *c, json_t *obj, const char *key, const char *where,
    struct raw_date *out)
{
	char path[160];
	json_t *v = json_object_get(obj, key);
	const char *s;

	memset(out, 0, sizeof(*out));
	if (v == NULL || json_is_null(v))
		return;
	snprintf(path, sizeof(path), "%s%s%s", where, *where ? "." : "", key);
	if (!json_is_string(v)) {
		fail(c, path, "expected a date string or null, found %s", type_name(v));
		return;
	}
	s = json_string_value(v);
	out->present = true;
	if (caldate_parse(s, &out->day) == 0)
		return;
	if (caldate_parse_md(s, &out->month, &out->mday) == 0) {
		out->month_day = true;
		return;
	}
	fail(c, path, "invalid date \"%.40s\" (expected YYYY-MM-DD or MM-DD)", s);
}

static bool
task_id_ok(const char *id)
{
	if (*id == '\0' || strlen(id) > PLAN_TASK_ID_MAX)
		return false;
	for (const char *p = id; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("._-", *p) == NULL)
			return false;
	return true;
}

static bool
plan_id_ok(const char *id)
{
	return task_id_ok(id);
}

static const char *const root_keys[] = {
	"schema", "id", "title", "theme", "year", "timezone", "key_date", "units",
	"tasks", "source", "notes", NULL,
};
static const char *const unit_keys[] = { "name", "aliases", "placeholder", NULL };
static const char *const task_keys[] = {
	"id", "title", "detail", "when", "start", "due", "fuzzy", "units",
	"report_to", "actors", "note", "deliverable",
	"lead", "support", NULL,
};

static void
check_keys(struct ctx *c, json_t *obj, const char *const *known, const char *where)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		size_t i;

		(void)v;
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (known[i] == NULL) {
			fail(c, *where ? where : "(top level)", "unknown field \"%.40s\"", key);
			return;
		}
	}
}

static char **
string_list(struct ctx *c, json_t *obj, const char *key, const char *where,
    size_t *n)
{
	char path[160];
	json_t *arr = json_object_get(obj, key);
	char **items = NULL;
	size_t i;
	json_t *v;

	*n = 0;
	if (arr == NULL || json_is_null(arr))
		return NULL;
	snprintf(path, sizeof(path), "%s.%s", where, key);
	if (!json_is_array(arr)) {
		fail(c, path, "expected an array of strings, found %s", type_name(arr));
		return NULL;
	}
	items = xcalloc(json_array_size(arr) + 1, sizeof(*items));
	json_array_foreach(arr, i, v) {
		char item[192];

		snprintf(item, sizeof(item), "%s[%zu]", path, i);
		items[i] = text_field(c, item, v, PLAN_NAME_MAX_CHARS, false);
		if (items[i] == NULL)
			break;
		if (items[i][0] == '\0') {
			fail(c, item, "must not be empty");
			free(items[i]);         /* not counted in *n: freed here */
			items[i] = NULL;
			break;
		}
		(*n)++;
	}
	return items;
}

static void
load_units(struct ctx *c, struct plan *plan, json_t *arr)
{
	size_t i;
	json_t *u;

	if (!json_is_array(arr)) {
		fail(c, "units", arr == NULL ? "missing" : "expected an array");
		return;
	}
	if (json_array_size(arr) > PLAN_MAX_UNITS) {
		fail(c, "units", "%zu units, more than the %d a plan may have",
		    json_array_size(arr), PLAN_MAX_UNITS);
		return;
	}
	plan->units = xcalloc(json_array_size(arr) + 1, sizeof(*plan->units));
	c->names = strindex_new(json_array_size(arr) * 2);
	json_array_foreach(arr, i, u) {
		char where[64];
		struct plan_unit *unit = &plan->units[i];
		size_t owner;

		snprintf(where, sizeof(where), "units[%zu]", i);
		if (!json_is_object(u)) {
			fail(c, where, "expected an object, found %s", type_name(u));
			return;
		}
		check_keys(c, u, unit_keys, where);
		unit->name = required_text(c, u, "name", where, PLAN_NAME_MAX_CHARS);
		if (unit->name == NULL)
			return;
		plan->nunits++;
		unit->norm = textnorm_name(unit->name);
		unit->aliases = string_list(c, u, "aliases", where, &unit->naliases);
		{
			json_t *ph = json_object_get(u, "placeholder");

			if (ph != NULL && !json_is_null(ph) && !json_is_boolean(ph)) {
				char path[96];

				snprintf(path, sizeof(path), "%s.placeholder", where);
				fail(c, path, "expected true or false, found %s", type_name(ph));
			}
			unit->placeholder = json_is_true(ph);
		}
		unit->alias_norms = xcalloc(unit->naliases + 1, sizeof(*unit->alias_norms));
		if (c->failed)
			return;
		if (unit->naliases > PLAN_MAX_ALIASES) {
			fail(c, where, "%zu aliases, more than the %d a unit may have",
			    unit->naliases, PLAN_MAX_ALIASES);
			return;
		}
		owner = strindex_put(c->names, unit->norm, i);
		if (owner != i) {
			fail(c, where, "unit \"%s\" is listed twice or names another unit "
			    "\"%s\" (names are compared after normalization)", unit->name,
			    plan->units[owner].name);
			return;
		}
		for (size_t a = 0; a < unit->naliases; a++) {
			unit->alias_norms[a] = textnorm_name(unit->aliases[a]);
			owner = strindex_put(c->names, unit->alias_norms[a], i);
			if (owner != i) {
				fail(c, where, "alias \"%s\" already names unit \"%s\"",
				    unit->aliases[a], plan->units[owner].name);
				return;
			}
		}
	}
}

/*
 * A task's optional "lead" / "support" lists: names among its units, each
 * with one role at most.
 */
static void
load_roles(struct ctx *c, struct plan *plan, struct plan_task *task, json_t *t,
    const char *key, enum plan_role role, const char *where)
{
	size_t n = 0;
	char **names = string_list(c, t, key, where, &n);

	for (size_t j = 0; j < n && !c->failed; j++) {
		char path[160], *norm = textnorm_name(names[j]);
		ssize_t u = plan_unit_index_norm(plan, norm);
		size_t k;

		free(norm);
		snprintf(path, sizeof(path), "%s.%s[%zu]", where, key, j);
		for (k = 0; u >= 0 && k < task->nunits; k++)
			if (task->units[k] == (size_t)u)
				break;
		if (u < 0 || k == task->nunits) {
			fail(c, path, "\"%s\" is not one of the task's units", names[j]);
			break;
		}
		if (task->roles[k] != PLAN_ROLE_NONE) {
			fail(c, path, "\"%s\" is given two roles", names[j]);
			break;
		}
		task->roles[k] = (unsigned char)role;
	}
	for (size_t j = 0; j < n; j++)
		free(names[j]);
	free(names);
}

/* The day the plan's month-day dates are resolved around. */
static int32_t
anchor_day(const struct raw_date *key, const struct raw_date *dues, size_t n, int year)
{
	int month = 0, mday = 0;

	if (key->present) {
		if (!key->month_day)
			return key->day;
		month = key->month, mday = key->mday;
	} else {
		/* No key date: the latest month-day deadline stands in for it. */
		for (size_t i = 0; i < n; i++) {
			if (!dues[i].present || !dues[i].month_day)
				continue;
			if (dues[i].month > month || (dues[i].month == month && dues[i].mday > mday))
				month = dues[i].month, mday = dues[i].mday;
		}
		if (month == 0)
			return CALDATE_NONE;
	}
	if (month == 2 && mday == 29)
		mday = 28;
	return caldate_from_ymd(year, month, mday);
}

static int32_t
resolve(struct ctx *c, const struct raw_date *r, int32_t anchor, const char *where)
{
	int32_t d;

	if (!r->present)
		return CALDATE_NONE;
	if (!r->month_day)
		return r->day;
	d = plan_resolve_md(r->month, r->mday, anchor);
	if (d == CALDATE_NONE)
		fail(c, where, "%02d-%02d does not exist in the campaign year", r->month, r->mday);
	return d;
}

/*
 * A month-day start of a task with a due date: the latest such day on or
 * before the due, so "04-01".."10-31" stays one season even when April is
 * closer to the next year's anchor than to this one's.
 */
static int32_t
resolve_start(struct ctx *c, const struct raw_date *r, int32_t due, int32_t anchor,
    const char *where)
{
	int y, m, d;

	if (!r->present || !r->month_day || due == CALDATE_NONE)
		return resolve(c, r, anchor, where);
	caldate_to_ymd(due, &y, &m, &d);
	for (int year = y; year >= y - 4; year--) {
		int32_t day;

		if (!caldate_valid_ymd(year, r->month, r->mday))
			continue;
		day = caldate_from_ymd(year, r->month, r->mday);
		if (day <= due)
			return day;
	}
	return resolve(c, r, anchor, where);
}

struct raw_task_dates {
	struct raw_date start, due;
};

static void
load_tasks(struct ctx *c, struct plan *plan, json_t *arr,
    struct raw_task_dates **raw_out)
{
	size_t i, *seen;
	json_t *t;
	struct raw_task_dates *raw;
	struct strindex *ids;

	*raw_out = NULL;
	if (!json_is_array(arr)) {
		fail(c, "tasks", arr == NULL ? "missing" : "expected an array");
		return;
	}
	if (json_array_size(arr) > PLAN_MAX_TASKS) {
		fail(c, "tasks", "%zu tasks, more than the %d a plan may have",
		    json_array_size(arr), PLAN_MAX_TASKS);
		return;
	}
	plan->tasks = xcalloc(json_array_size(arr) + 1, sizeof(*plan->tasks));
	raw = xcalloc(json_array_size(arr) + 1, sizeof(*raw));
	*raw_out = raw;
	ids = strindex_new(json_array_size(arr));
	/* seen[u] == i + 1: unit u is already listed by task i */
	seen = xcalloc(plan->nunits + 1, sizeof(*seen));
	json_array_foreach(arr, i, t) {
		char where[96];
		struct plan_task *task = &plan->tasks[i];
		json_t *v, *units;
		size_t j;

		snprintf(where, sizeof(where), "tasks[%zu]", i);
		if (!json_is_object(t)) {
			fail(c, where, "expected an object, found %s", type_name(t));
			break;
		}
		task->id = required_text(c, t, "id", where, PLAN_TASK_ID_MAX);
		if (task->id == NULL)
			break;
		plan->ntasks++;
		task->start = task->due = CALDATE_NONE;
		if (!task_id_ok(task->id)) {
			fail(c, where, "id \"%s\" may only use letters, digits, '.', '_' "
			    "and '-' (at most %d)", task->id, PLAN_TASK_ID_MAX);
			break;
		}
		snprintf(where, sizeof(where), "tasks[%zu] (%s)", i, task->id);
		if (strindex_put(ids, task->id, i) != i) {
			fail(c, where, "duplicate task id \"%s\"", task->id);
			break;
		}
		check_keys(c, t, task_keys, where);
		task->title = required_text(c, t, "title", where, 200);
		task->detail = optional_text(c, t, "detail", where, 8000, true);
		task->when = optional_text(c, t, "when", where, 100, false);
		task->deliverable = optional_text(c, t, "deliverable", where, 200, false);
		parse_date(c, t, "start", where, &raw[i].start);
		parse_date(c, t, "due", where, &raw[i].due);
		v = json_object_get(t, "fuzzy");
		if (v != NULL && !json_is_null(v) && !json_is_boolean(v)) {
			char path[128];

			snprintf(path, sizeof(path), "%s.fuzzy", where);
			fail(c, path, "expected true or false, found %s", type_name(v));
		}
		task->fuzzy = json_is_true(v);
		task->actors = string_list(c, t, "actors", where, &task->nactors);
		task->report_to = string_list(c, t, "report_to", where, &task->nreport_to);
		if (c->failed)
			break;
		units = json_object_get(t, "units");
		if (!json_is_array(units) || json_array_size(units) > PLAN_MAX_TASK_UNITS) {
			char path[128];

			snprintf(path, sizeof(path), "%s.units", where);
			if (json_is_array(units))
				fail(c, path, "%zu units, more than the %d a task may have",
				    json_array_size(units), PLAN_MAX_TASK_UNITS);
			else
				fail(c, path, units == NULL ? "missing (use [] for none)" :
				    "expected an array of unit names");
			break;
		}
		task->units = xcalloc(json_array_size(units) + 1, sizeof(*task->units));
		json_array_foreach(units, j, v) {
			char path[128];
			char *name, *norm;
			ssize_t u;

			snprintf(path, sizeof(path), "%s.units[%zu]", where, j);
			name = text_field(c, path, v, PLAN_NAME_MAX_CHARS, false);
			if (name == NULL)
				break;
			norm = textnorm_name(name);
			u = strindex_get(c->names, norm);
			free(norm);
			if (u < 0) {
				fail(c, path, "unknown unit \"%s\" (add it to \"units\")", name);
				free(name);
				break;
			}
			free(name);
			if (seen[u] == i + 1) {
				fail(c, path, "unit \"%s\" is listed twice", plan->units[u].name);
				break;
			}
			seen[u] = i + 1;
			task->units[task->nunits++] = (size_t)u;
		}
		if (c->failed)
			break;
		task->roles = xcalloc(task->nunits + 1, sizeof(*task->roles));
		load_roles(c, plan, task, t, "lead", PLAN_ROLE_LEAD, where);
		load_roles(c, plan, task, t, "support", PLAN_ROLE_SUPPORT, where);
		if (c->failed)
			break;
	}
	strindex_free(ids);
	free(seen);
}

static int
resolve_dates(struct ctx *c, struct plan *plan, json_t *root,
    const struct raw_task_dates *raw, const struct plan_load_opts *opts)
{
	json_t *year = json_object_get(root, "year");
	struct raw_date key;
	struct raw_date *dues = xcalloc(plan->ntasks + 1, sizeof(*dues));
	int32_t anchor;
	int y, m, d;

	parse_date(c, root, "key_date", "", &key);
	if (year != NULL && !json_is_null(year)) {
		if (!json_is_integer(year) || json_integer_value(year) < 1900 ||
		    json_integer_value(year) > 9999)
			fail(c, "year", "expected a four-digit year or null");
		else
			plan->year = (int)json_integer_value(year);
		plan->year_given = true;
	}
	if (opts != NULL && opts->year > 0) {
		plan->year = opts->year;
		plan->year_given = true;
	}
	for (size_t i = 0; i < plan->ntasks; i++)
		dues[i] = raw[i].due.present ? raw[i].due : raw[i].start;
	if (c->failed) {
		free(dues);
		return -1;
	}
	if (!plan->year_given) {
		/* The coming campaign: the first year whose anchor is today or later. */
		int32_t today = opts != NULL ? opts->today : CALDATE_NONE;

		caldate_to_ymd(today, &y, &m, &d);
		anchor = anchor_day(&key, dues, plan->ntasks, y);
		if (anchor != CALDATE_NONE && anchor < today)
			anchor = anchor_day(&key, dues, plan->ntasks, y + 1);
		if (anchor == CALDATE_NONE)
			anchor = today;
		caldate_to_ymd(anchor, &plan->year, &m, &d);
	} else {
		anchor = anchor_day(&key, dues, plan->ntasks, plan->year);
		if (anchor == CALDATE_NONE)
			anchor = caldate_from_ymd(plan->year, 7, 1);
	}
	free(dues);
	plan->key_date = resolve(c, &key, anchor, "key_date");
	for (size_t i = 0; i < plan->ntasks && !c->failed; i++) {
		struct plan_task *t = &plan->tasks[i];
		char where[96];

		snprintf(where, sizeof(where), "tasks[%zu] (%s)", i, t->id);
		t->due = resolve(c, &raw[i].due, anchor, where);
		t->start = resolve_start(c, &raw[i].start, t->due, anchor, where);
		if (t->start != CALDATE_NONE && t->due != CALDATE_NONE && t->start > t->due) {
			char s[CALDATE_STRLEN], e[CALDATE_STRLEN];

			caldate_format(t->start, s);
			caldate_format(t->due, e);
			fail(c, where, "start %s is after due %s", s, e);
		}
	}
	return c->failed ? -1 : 0;
}

static struct plan *
plan_from_json(struct ctx *c, json_t *root, const struct plan_load_opts *opts)
{
	struct plan *plan = xcalloc(1, sizeof(*plan));
	struct raw_task_dates *raw = NULL;
	json_t *schema;

	if (!json_is_object(root)) {
		fail(c, "(top level)", "expected an object, found %s", type_name(root));
		goto out;
	}
	schema = json_object_get(root, "schema");
	if (!json_is_string(schema) ||
	    strcmp(json_string_value(schema), "campaign-plan/1") != 0) {
		fail(c, "schema", "expected \"campaign-plan/1\"");
		goto out;
	}
	check_keys(c, root, root_keys, "");
	plan->id = required_text(c, root, "id", "", PLAN_TASK_ID_MAX);
	if (plan->id != NULL && !plan_id_ok(plan->id))
		fail(c, "id", "\"%s\" may only use letters, digits, '.', '_' and '-'", plan->id);
	plan->title = required_text(c, root, "title", "", 200);
	plan->theme = optional_text(c, root, "theme", "", 200, false);
	plan->timezone = optional_text(c, root, "timezone", "", 64, false);
	if (plan->timezone == NULL && !c->failed)
		plan->timezone = xstrdup("Asia/Shanghai");
	if (c->failed)
		goto out;
	load_units(c, plan, json_object_get(root, "units"));
	if (c->failed)
		goto out;
	load_tasks(c, plan, json_object_get(root, "tasks"), &raw);
	if (c->failed)
		goto out;
	resolve_dates(c, plan, root, raw, opts);
out:
	free(raw);
	strindex_free(c->names);
	c->names = NULL;
	if (c->failed) {
		plan_free(plan);
		return NULL;
	}
	return plan;
}

/* jansson's message, or what it means for a plan when it names a flag. */
static void
syntax_error(const char *name, const json_error_t *jerr, char *err, size_t errlen)
{
	const char *msg = jerr->text;

	if (strstr(msg, "JSON_ALLOW_NUL") != NULL)
		msg = "a string holds \\u0000 (a NUL character), which no plan text may hold";
	if (jerr->line < 0)
		snprintf(err, errlen, "%s: %s", name, msg);
	else
		snprintf(err, errlen, "%s:%d:%d: %s", name, jerr->line, jerr->column, msg);
}

/* A NUL byte in the text: where it is, so the admin can look (is this a binary file?). */
static bool
nul_byte(const char *text, size_t len, const char *name, char *err, size_t errlen)
{
	const char *nul = memchr(text, '\0', len);
	int line = 1;

	if (nul == NULL)
		return false;
	for (const char *p = text; p < nul; p++)
		line += *p == '\n';
	snprintf(err, errlen, "%s:%d: a NUL byte at offset %zu: a plan is UTF-8 JSON text "
	    "(is this a binary or UTF-16 file?)", name, line, (size_t)(nul - text));
	return true;
}

static struct plan *
load_buffer(const char *text, size_t len, const char *name,
    const struct plan_load_opts *opts, char *err, size_t errlen)
{
	struct ctx c = { .name = name, .err = err, .errlen = errlen };
	json_error_t jerr;
	json_t *root;
	struct plan *plan;

	if (len > PLAN_MAX_BYTES) {
		snprintf(err, errlen, "%s: %zu bytes, more than the %d a plan may have",
		    name, len, PLAN_MAX_BYTES);
		return NULL;
	}
	if (nul_byte(text, len, name, err, errlen))
		return NULL;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		syntax_error(name, &jerr, err, errlen);
		return NULL;
	}
	plan = plan_from_json(&c, root, opts);
	json_decref(root);
	return plan;
}

struct plan *
plan_load_string(const char *text, const char *name, const struct plan_load_opts *opts,
    char *err, size_t errlen)
{
	return load_buffer(text, strlen(text), name, opts, err, errlen);
}

struct plan *
plan_load_file(const char *path, const struct plan_load_opts *opts, char *err,
    size_t errlen)
{
	struct plan *plan = NULL;
	char *text = NULL;
	size_t len = 0;
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: unable to open %s: %s", path, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > PLAN_MAX_BYTES) {
		snprintf(err, errlen, "%s: %lld bytes, more than the %d a plan may have",
		    path, (long long)st.st_size, PLAN_MAX_BYTES);
		goto out;
	}
	/* One byte more than the cap: a file that grew meanwhile is still refused. */
	text = xmalloc((size_t)PLAN_MAX_BYTES + 2);
	while ((n = read(fd, text + len, (size_t)PLAN_MAX_BYTES + 1 - len)) > 0)
		len += (size_t)n;
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	text[len] = '\0';
	plan = load_buffer(text, len, path, opts, err, errlen);
out:
	if (fd >= 0)
		close(fd);
	free(text);
	return plan;
}
