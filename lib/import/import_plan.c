/*
 * The assembler: outline items become tasks. Items of activity sections are
 * tasks; items of requirement (and unrecognized) sections only when they
 * carry a date or a responsibility line; background sections never. A task
 * takes its title from the item's first sentence, its date from a time field
 * or its first date phrase, its units from the responsibility lines (or its
 * group heading's), and, without units, its doers and recipients from the
 * sentence of its date. Every item that does not become a task is noted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/buf.h"
#include "campaign/textnorm.h"
#include "campaign/utf8.h"
#include "campaign/xmalloc.h"
#include "import_priv.h"

#define TITLE_MAX_CHARS 60

/* One outline item, read: text without its responsibility lines, units, date. */
struct reading {
	char *head;             /* head without responsibility parts */
	char *text;             /* head, then body parts, '\n'-joined */
	size_t *part_off;       /* where each part starts in text */
	int *part_line;
	size_t nparts;
	struct imp_names units, rejected;
	struct imp_names prose; /* units named in sentences: when no label names any */
	struct imp_roles roles, prose_roles;
	bool dated;             /* a date phrase was found */
	struct import_when w;   /* at is relative to text */
};

struct ctx {
	const struct imp_doc *doc;
	const struct imp_outline *ol;
	const struct import_opts *opts;
	struct imp_notes *notes;
	struct reading *rd;     /* one per item */
	struct imp_plan *plan;
	const struct imp_named_day *key; /* the day the plan is about, or NULL */
	bool have_period;
	struct import_when period;
	char *period_when;
	int period_line;
};

static const char *const time_labels[] = {
	"活动时间", "落实时间", "完成时间", "完成时限", "截止时间", "办结时间", "时间安排",
	"时间", "时限",
};

/* Notes by line, in the order made within a line (a stable insertion sort). */
static void
sort_notes(struct imp_notes *notes)
{
	for (size_t i = 1; i < notes->n; i++) {
		struct import_note n = notes->v[i];
		size_t k = i;

		while (k > 0 && notes->v[k - 1].line > n.line) {
			notes->v[k] = notes->v[k - 1];
			k--;
		}
		notes->v[k] = n;
	}
}

static void
item_id(const struct imp_item *it, char *out, size_t outlen)
{
	size_t len = 0;

	out[0] = '\0';
	for (int k = 0; k <= it->depth && len < outlen; k++)
		len += (size_t)snprintf(out + len, outlen - len, "%s%d", k > 0 ? "." : "",
		    it->path[k]);
}

static void
read_item(const struct imp_item *it, struct reading *rd)
{
	struct buf b;

	memset(rd, 0, sizeof(*rd));
	buf_init(&b, IMPORT_MAX_BYTES * 2);
	rd->part_off = xcalloc(it->nbody + 1, sizeof(*rd->part_off));
	rd->part_line = xcalloc(it->nbody + 1, sizeof(*rd->part_line));
	rd->head = imp_units_extract_prose(it->head, &rd->units, &rd->prose, &rd->rejected,
	    &rd->roles);
	buf_puts(&b, rd->head);
	rd->part_line[0] = it->line;
	rd->nparts = 1;
	for (size_t i = 0; i < it->nbody; i++) {
		char *clean = imp_units_extract_prose(it->body[i].text, &rd->units, &rd->prose,
		    &rd->rejected, &rd->roles);

		if (*clean != '\0') {
			if (b.len > 0)
				buf_puts(&b, "\n");
			rd->part_off[rd->nparts] = b.len;
			rd->part_line[rd->nparts] = it->body[i].line;
			rd->nparts++;
			buf_puts(&b, clean);
		}
		free(clean);
	}
	rd->text = buf_steal(&b);
	/* A responsibility line wins over the names in the item's sentences. */
	if (rd->units.n == 0)
		for (size_t i = 0; i < rd->prose.n; i++)
			imp_names_add(&rd->units, rd->prose.v[i]);
}

/* The lead and support units among the task's, as the item states them. */
static void
task_roles(const struct reading *rd, struct imp_task *t)
{
	for (size_t i = 0; i < t->units.n; i++) {
		const char *u = t->units.v[i];

		if (imp_names_has(&rd->roles.lead, u) ||
		    (rd->roles.support.n > 0 && imp_names_has(&rd->roles.responsible, u) &&
		    !imp_names_has(&rd->roles.support, u)))
			imp_names_add(&t->lead, u);
		else if (imp_names_has(&rd->roles.support, u))
			imp_names_add(&t->support, u);
	}
}

static int
line_at(const struct reading *rd, size_t off)
{
	int line = rd->part_line[0];

	for (size_t i = 0; i < rd->nparts; i++)
		if (rd->part_off[i] <= off)
			line = rd->part_line[i];
	return line;
}

/* A time field ("时间:10月17日") of the item, else the first date phrase. */
static void
find_date(struct reading *rd, int year)
{
	struct import_when w;

	for (size_t i = 1; i < rd->nparts; i++) {
		const char *part = rd->text + rd->part_off[i];

		for (size_t k = 0; k < sizeof(time_labels) / sizeof(time_labels[0]); k++) {
			const char *p = part;

			if (imp_eat(&p, time_labels[k]) && *p == ':' &&
			    import_when_find(p, year, &w)) {
				w.at += (size_t)(p - rd->text);
				rd->w = w, rd->dated = true;
				return;
			}
		}
	}
	rd->dated = import_when_find(rd->text, year, &rd->w);
}

static bool
weak_date(const struct reading *rd)
{
	const struct import_when *w = &rd->w;

	if (!rd->dated || w->kind == IMPORT_WHEN_TBD || w->kind == IMPORT_WHEN_CAMPAIGN)
		return true;
	return w->kind == IMPORT_WHEN_PERIOD && w->start.month == 1 && w->start.day == 1 &&
	    w->due.month >= 6;
}

/* The item's nearest enclosing item with units (or a date), or -1. */
static ssize_t
ancestor_with(const struct ctx *c, size_t i, bool units)
{
	int depth = c->ol->items[i].depth;

	for (size_t k = i; k-- > 0;) {
		if (c->ol->items[k].depth >= depth)
			continue;
		depth = c->ol->items[k].depth;
		if (units ? c->rd[k].units.n > 0 : (c->rd[k].dated && !weak_date(&c->rd[k])))
			return (ssize_t)k;
		if (depth == 0)
			break;
	}
	return -1;
}

static size_t
sentence_len(const char *s)
{
	static const char *const ends[] = { "。", "!", "?", ";", "\n" };
	size_t best = strlen(s);

	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		const char *hit = strstr(s, ends[i]);

		if (hit != NULL && (size_t)(hit - s) < best)
			best = (size_t)(hit - s);
	}
	return best;
}

/* Title (the first sentence, trimmed) and detail (the rest) of an item. */
static void
title_and_detail(const struct reading *rd, struct imp_task *t)
{
	const char *src = *rd->head != '\0' ? rd->head : rd->text;
	size_t n = sentence_len(src), cut;
	const char *colon = memchr(src, ':', n);

	/* "上午9:00" is a clock time, not a label's colon */
	while (colon != NULL && colon > src && colon[-1] >= '0' && colon[-1] <= '9' &&
	    colon[1] >= '0' && colon[1] <= '9')
		colon = memchr(colon + 1, ':', n - (size_t)(colon + 1 - src));
	const char *t0 = src;
	bool shortened = false;

	if (colon != NULL && utf8_chars(src) > 0 && (size_t)(colon - src) <= 30 &&
	    colon > src)
		n = (size_t)(colon - src), shortened = colon[1] != '\0';
	/* A title that starts with its date reads better without it. */
	/* text starts with the head (or, without one, the body): offsets agree. */
	if (rd->dated && rd->w.at == 0 && rd->w.len < n) {
		const char *after = src + rd->w.len;

		if (*after == ',' || *after == ' ') {
			t0 = after + 1;
			n -= (size_t)(t0 - src);
			shortened = true;
		}
	}
	cut = n;
	if (utf8_chars(t0) > TITLE_MAX_CHARS && utf8_prefix_chars(t0, TITLE_MAX_CHARS) < n) {
		/* Cut at the last comma that leaves a readable title, else hard. */
		size_t limit = utf8_prefix_chars(t0, TITLE_MAX_CHARS);

		cut = limit;
		for (size_t k = limit; k > 0; k--)
			if (t0[k] == ',' && k >= 12) {
				cut = k;
				break;
			}
		shortened = true;
	}
	while (cut > 0 && (t0[cut - 1] == ' ' || t0[cut - 1] == ','))
		cut--;
	t->title = cut > 0 ? xstrndup(t0, cut) : xasprintf("(无标题 %s)", t->id);
	if (src == rd->text) {
		t->detail = xstrdup(rd->text);
	} else if (shortened) {
		t->detail = xstrdup(rd->text);
	} else {
		const char *rest = rd->text + n;

		if (imp_starts(rest, "。"))
			rest += strlen("。");
		while (*rest == ' ' || *rest == '\n')
			rest++;
		t->detail = xstrdup(rest);
	}
}

static char *
join(const struct imp_names *names)
{
	struct buf b;

	buf_init(&b, 4096);
	for (size_t i = 0; i < names->n; i++) {
		if (i > 0)
			buf_puts(&b, "、");
		buf_puts(&b, names->v[i]);
	}
	return buf_steal(&b);
}

/* The sentence of text around offset off. */
static char *
sentence_at(const char *text, size_t off)
{
	size_t start = off, end;

	while (start > 0) {
		size_t prev = imp_prev(text, start);

		if (imp_starts(text + prev, "。") || text[prev] == '\n' || text[prev] == ';')
			break;
		start = prev;
	}
	end = off + sentence_len(text + off);
	return xstrndup(text + start, end - start);
}

static void
doers(struct ctx *c, const struct reading *rd, struct imp_task *t)
{
	char *sentence = sentence_at(rd->text, rd->dated ? rd->w.at : 0);

	imp_units_actors(sentence, &t->actors);
	if (t->actors.n == 0 && rd->nparts > 1) {
		char *first = sentence_at(rd->text, rd->part_off[1]);

		imp_units_actors(first, &t->actors);
		free(first);
	}
	imp_units_report_to(sentence, &t->report_to);
	for (size_t i = 0; i < t->report_to.n; i++)
		imp_names_add(&c->plan->report_to, t->report_to.v[i]);
	free(sentence);
}

static void
note_date(struct ctx *c, const struct reading *rd, struct imp_task *t)
{
	int line = rd->dated ? line_at(rd, rd->w.at) : t->line;

	if (!rd->dated) {
		imp_note(c->notes, t->line, t->line, IMPORT_WARNING, "%s \"%s\": no date found",
		    t->id, t->title);
		return;
	}
	switch (t->w.kind) {
	case IMPORT_WHEN_UNRESOLVED:
		imp_note(c->notes, line, line, IMPORT_WARNING, "%s: the date \"%s\" could not "
		    "be resolved (%s); kept as written, without start or due", t->id, t->when,
		    t->w.why != NULL ? t->w.why : "?");
		break;
	case IMPORT_WHEN_RECURRING:
		imp_note(c->notes, line, line, IMPORT_NOTE, "%s: \"%s\" recurs; no single due "
		    "date", t->id, t->when);
		break;
	case IMPORT_WHEN_TBD:
		imp_note(c->notes, line, line, IMPORT_WARNING, "%s: the date is to be announced "
		    "(\"%s\")", t->id, t->when);
		break;
	default:
		break;
	}
}

/* 活动期间: the campaign period, else the key date; unresolved without either. */
static void
campaign_date(struct ctx *c, struct imp_task *t)
{
	struct imp_plan *p = c->plan;

	if (c->have_period && import_when_dated(&c->period)) {
		t->w.kind = c->period.kind;
		t->w.start = c->period.start;
		t->w.due = c->period.due;
	} else if (p->key_month > 0) {
		t->w.kind = IMPORT_WHEN_AROUND;
		t->w.start = t->w.due = (struct import_day){ .month = p->key_month,
			.day = p->key_day };
	} else {
		t->w.kind = IMPORT_WHEN_UNRESOLVED;
		t->w.why = "the plan states no period or key date";
	}
	t->w.fuzzy = true;
}

/*
 * The item's other dates ("6月1日至30日开展宣传,6月8日前完成标语制作"): kept
 * as milestones in the detail, each with its clause, never dropped.
 */
static void
milestones(struct ctx *c, const struct reading *rd, struct imp_task *t)
{
	size_t off = rd->w.at + rd->w.len;
	struct buf b;
	bool first = true;

	buf_init(&b, IMPORT_MAX_BYTES);
	while (rd->text[off] != '\0') {
		struct import_when w;
		size_t start, end;
		char *clause;

		if (!import_when_find(rd->text + off, c->plan->year, &w) || !import_when_dated(&w))
			break;
		start = off + w.at;
		end = start + w.len;
		/*
		 * "6月10日启动,6月25日完成": a start, then the day it is done. The
		 * task runs from the first to the second.
		 */
		if (first && (imp_starts(rd->text + end, "完成") || imp_starts(rd->text + end, "结束") ||
		    imp_starts(rd->text + end, "前完成")) && (t->w.kind == IMPORT_WHEN_ON) &&
		    (w.kind == IMPORT_WHEN_ON || w.kind == IMPORT_WHEN_BY) &&
		    start - (rd->w.at + rd->w.len) <= 12) {
			t->w.kind = IMPORT_WHEN_RANGE;
			t->w.due = w.due;
			free(t->when);
			t->when = xstrndup(rd->text + rd->w.at, end - rd->w.at);
		}
		first = false;
		/* the clause around it: back to a comma or full stop, on to the next */
		while (start > off && rd->text[imp_prev(rd->text, start)] != ',' &&
		    rd->text[imp_prev(rd->text, start)] != ';' && rd->text[imp_prev(rd->text, start)] != '\n' &&
		    !imp_starts(rd->text + imp_prev(rd->text, start), "。"))
			start = imp_prev(rd->text, start);
		while (rd->text[end] != '\0' && rd->text[end] != ',' && rd->text[end] != ';' &&
		    rd->text[end] != '\n' && !imp_starts(rd->text + end, "。"))
			end += imp_cplen(rd->text + end);
		clause = xstrndup(rd->text + start, end - start);
		buf_printf(&b, "%s%s", b.len > 0 ? "; " : "", clause);
		free(clause);
		off = end > start + w.len ? end : start + w.len;
		if (off <= rd->w.at + rd->w.len)
			break;
	}
	if (b.len > 0) {
		char *detail = xasprintf("%s%s节点: %s", t->detail != NULL ? t->detail : "",
		    t->detail != NULL && *t->detail != '\0' ? "\n" : "", buf_str(&b));

		free(t->detail);
		t->detail = detail;
	}
	buf_free(&b);
}

static bool
make_task(struct ctx *c, size_t i, struct imp_task *t)
{
	const struct imp_item *it = &c->ol->items[i];
	struct reading *rd = &c->rd[i];
	ssize_t from;
	char id[48];

	memset(t, 0, sizeof(*t));
	item_id(it, id, sizeof(id));
	t->id = xstrdup(id);
	t->line = it->line;
	if (!rd->dated && it->cls == IMP_CLASS_ACTIVITY &&
	    (from = ancestor_with(c, i, false)) >= 0) {
		rd->w = c->rd[from].w;
		rd->w.at = 0, rd->w.len = 0;
		t->when = xstrndup(c->rd[from].text + c->rd[from].w.at, c->rd[from].w.len);
		imp_note(c->notes, t->line, t->line, IMPORT_NOTE, "%s: date \"%s\" taken from "
		    "its group heading (line %d)", t->id, t->when, c->ol->items[from].line);
	}
	title_and_detail(rd, t);
	if (rd->dated)
		t->when = xstrndup(rd->text + rd->w.at, rd->w.len);
	t->w = rd->w;
	if (rd->dated)
		milestones(c, rd, t);
	if (t->when == NULL && it->cls == IMP_CLASS_ACTIVITY && c->have_period &&
	    import_when_dated(&c->period)) {
		t->when = xstrdup(c->period_when);
		t->w = c->period;
		imp_note(c->notes, t->line, t->line, IMPORT_NOTE, "%s \"%s\": no date of its "
		    "own; the campaign period \"%s\" (line %d) applies", t->id, t->title,
		    c->period_when, c->period_line);
	}
	if (t->when == NULL && it->cls == IMP_CLASS_ACTIVITY && !c->have_period &&
	    c->plan->key_month > 0) {
		t->when = xasprintf("%d月%d日", c->plan->key_month, c->plan->key_day);
		t->w = (struct import_when){ .kind = IMPORT_WHEN_ON,
			.start = { .month = c->plan->key_month, .day = c->plan->key_day },
			.due = { .month = c->plan->key_month, .day = c->plan->key_day } };
		imp_note(c->notes, t->line, t->line, IMPORT_NOTE, "%s \"%s\": no date of its "
		    "own; the plan's day (%s) applies", t->id, t->title, t->when);
	}
	/*
	 * "全国助残日前" in a plan with no year: the computed date needs one, but
	 * the plan states its day ("5月15日是第xx次全国助残日"); 前 is the day before.
	 */
	if (t->w.kind == IMPORT_WHEN_UNRESOLVED && t->when != NULL && c->key != NULL &&
	    c->plan->key_month > 0 && strstr(t->when, c->key->name) != NULL) {
		int m = c->plan->key_month, d = c->plan->key_day;
		size_t wl = strlen(t->when);
		bool before = wl >= strlen("前") && strcmp(t->when + wl - strlen("前"), "前") == 0;

		if (before && --d == 0)
			d = imp_days_in_month(c->plan->year, --m > 0 ? m : (m = 12));
		t->w.kind = before ? IMPORT_WHEN_BY : IMPORT_WHEN_ON;
		t->w.start = before ? (struct import_day){ 0 } :
		    (struct import_day){ .month = m, .day = d };
		t->w.due = (struct import_day){ .month = m, .day = d };
		t->w.why = NULL;
		t->w.fuzzy = false;
	}
	if (t->w.kind == IMPORT_WHEN_CAMPAIGN)
		campaign_date(c, t);
	if (t->when == NULL)
		note_date(c, rd, t);
	else if (rd->dated)
		note_date(c, rd, t);
	for (size_t k = 0; k < rd->units.n; k++)
		imp_names_add(&t->units, rd->units.v[k]);
	task_roles(rd, t);
	if (t->units.n == 0 && (from = ancestor_with(c, i, true)) >= 0) {
		for (size_t k = 0; k < c->rd[from].units.n; k++)
			imp_names_add(&t->units, c->rd[from].units.v[k]);
		char gid[48];

		item_id(&c->ol->items[from], gid, sizeof(gid));
		imp_note(c->notes, t->line, t->line, IMPORT_NOTE, "%s: responsible units taken "
		    "from its group heading %s (line %d)", t->id, gid, c->ol->items[from].line);
	}
	for (size_t k = 0; k < rd->rejected.n; k++)
		imp_note(c->notes, t->line, t->line, IMPORT_WARNING, "%s: \"%.60s\" is too "
		    "long for a unit name; not taken as one", t->id, rd->rejected.v[k]);
	if (t->units.n == 0) {
		char *a, *r;

		doers(c, rd, t);
		a = join(&t->actors);
		r = join(&t->report_to);
		imp_note(c->notes, t->line, t->line, IMPORT_WARNING, "%s \"%s\": no responsible "
		    "units%s%s%s%s", t->id, t->title, *a ? "; doers: " : "", a,
		    *r ? "; reports to: " : "", r);
		free(a);
		free(r);
	}
	return true;
}

/* An event described by fields: its body has both 时间: and 地点:. */
static bool
event_item(const struct imp_item *it)
{
	bool when = false, where = false;

	for (size_t k = 0; k < it->nbody; k++) {
		const char *b = it->body[k].text;

		when = when || imp_starts(b, "时间:") || imp_starts(b, "活动时间:");
		where = where || imp_starts(b, "地点:") || imp_starts(b, "活动地点:");
	}
	return when && where;
}

/* An item under an event's heading: a step of its programme. */
static bool
event_step(const struct ctx *c, size_t i)
{
	int depth = c->ol->items[i].depth;

	for (size_t k = i; k-- > 0 && depth > 0;) {
		if (c->ol->items[k].depth >= depth)
			continue;
		depth = c->ol->items[k].depth;
		if (event_item(&c->ol->items[k]))
			return true;
	}
	return false;
}

/* Its own date or units (a date plus a responsibility line outweighs words). */
static bool
own_signal(const struct reading *rd)
{
	return rd->units.n > 0 || (rd->dated && !weak_date(rd));
}

/*
 * Why an item is not a task, or NULL if it is one; *quiet when the reason
 * needs no note (a bare group heading).
 */
static const char *
not_a_task(const struct ctx *c, size_t i, bool *quiet)
{
	const struct imp_item *it = &c->ol->items[i];
	const struct reading *rd = &c->rd[i];

	*quiet = false;
	if (event_step(c, i))
		return "a step of the event's programme (its heading gives 时间 and 地点), "
		    "not a task";
	if (!it->leaf) {
		/* A heading with its own date or units is a task beside its items. */
		if (it->depth > 0 && it->cls != IMP_CLASS_INFO && (event_item(it) || own_signal(rd)))
			return NULL;
		*quiet = it->nbody == 0;
		return "a group heading; its text is context for its items";
	}
	if (it->cls == IMP_CLASS_INFO && !(rd->units.n > 0 && rd->dated && !weak_date(rd)))
		return "background (theme, goals, organization, period), not a task";
	if (it->depth == 0 && it->nbody == 0 && rd->units.n == 0)
		return "a section without items";
	if (it->cls == IMP_CLASS_ACTIVITY || event_item(it))
		return NULL;
	if (own_signal(rd))
		return NULL;
	return "a requirement without a date or responsible units, not a task";
}

static void
find_period(struct ctx *c, int year)
{
	for (size_t i = 0; i < c->ol->nitems && !c->have_period; i++) {
		const struct imp_item *it = &c->ol->items[i];
		struct reading *rd = &c->rd[i];

		if (!it->period)
			continue;
		if (import_when_find(rd->text, year, &c->period) &&
		    import_when_dated(&c->period)) {
			c->have_period = true;
			c->period_when = xstrndup(rd->text + c->period.at, c->period.len);
			c->period_line = line_at(rd, c->period.at);
		}
	}
	/* "活动于10月1日至7日举办" in an overview section or the preamble */
	for (size_t i = 0; i < c->ol->nitems && !c->have_period; i++) {
		const struct imp_item *it = &c->ol->items[i];
		struct reading *rd = &c->rd[i];

		if (it->cls != IMP_CLASS_INFO || it->depth > 0)
			continue;
		if (import_when_find(rd->text, year, &c->period) &&
		    c->period.kind == IMPORT_WHEN_RANGE && import_when_dated(&c->period)) {
			c->have_period = true;
			c->period_when = xstrndup(rd->text + c->period.at, c->period.len);
			c->period_line = line_at(rd, c->period.at);
		}
	}
	for (size_t i = 0; i < c->ol->npreamble && !c->have_period; i++) {
		const char *p = c->ol->preamble[i].text;

		if (imp_eat(&p, "活动时间") && *p == ':' && import_when_find(p, year, &c->period) &&
		    import_when_dated(&c->period)) {
			c->have_period = true;
			c->period_when = xstrndup(p + c->period.at, c->period.len);
			c->period_line = c->ol->preamble[i].line;
		}
	}
}

/* The first explicit year of any task-like date phrase. */
static int
dates_year(struct ctx *c)
{
	for (size_t i = 0; i < c->ol->nitems; i++) {
		struct reading *rd = &c->rd[i];

		find_date(rd, 0);
		if (c->ol->items[i].cls == IMP_CLASS_INFO && !c->ol->items[i].period)
			continue;
		if (rd->dated && (rd->w.start.year > 0 || rd->w.due.year > 0))
			return rd->w.start.year > 0 ? rd->w.start.year : rd->w.due.year;
	}
	return 0;
}

/* A role list follows its unit's registry spelling. */
static void
rename_role(struct imp_names *roles, const char *from, const char *to)
{
	for (size_t i = 0; i < roles->n; i++)
		if (strcmp(roles->v[i], from) == 0 && strcmp(from, to) != 0) {
			free(roles->v[i]);
			roles->v[i] = xstrdup(to);
		}
}

static void
build_registry(struct imp_plan *p)
{
	struct imp_names norms = { 0 };

	for (size_t i = 0; i < p->ntasks; i++) {
		struct imp_task *t = &p->tasks[i];
		struct imp_names kept = { 0 };

		/* Units equal after normalization (市扶貧辦/市扶贫办) are one unit. */
		for (size_t u = 0; u < t->units.n; u++) {
			char *norm = textnorm_name(t->units.v[u]);
			size_t k;

			for (k = 0; k < norms.n; k++)
				if (strcmp(norms.v[k], norm) == 0)
					break;
			if (k == norms.n) {
				/* imp_names_add dedupes; norms are distinct here by the loop. */
				norms.v = xreallocarray(norms.v, norms.n + 1, sizeof(*norms.v));
				norms.v[norms.n++] = norm;
				p->units.v = xreallocarray(p->units.v, p->units.n + 1,
				    sizeof(*p->units.v));
				p->units.v[p->units.n++] = xstrdup(t->units.v[u]);
			} else {
				free(norm);
			}
			imp_names_add(&kept, p->units.v[k]);
			rename_role(&t->lead, t->units.v[u], p->units.v[k]);
			rename_role(&t->support, t->units.v[u], p->units.v[k]);
		}
		imp_names_free(&t->units);
		t->units = kept;
	}
	imp_names_free(&norms);
	p->aliases = xcalloc(p->units.n + 1, sizeof(*p->aliases));
	imp_units_aliases(&p->units, &p->report_to, p->aliases);
}

/*
 * The key day's date as the preamble states it, a day followed closely by the
 * day's name ("2019年5月15日,是第26个“全国助残日”"): it wins over the
 * computed date (the third Sunday of May), which the document may contradict.
 */
static bool
stated_key_date(const struct ctx *c, const struct imp_named_day *key, int year, int *month,
    int *day)
{
	for (size_t i = 0; i < c->ol->npreamble; i++) {
		const char *text = c->ol->preamble[i].text, *name = text;

		while ((name = strstr(name, key->name)) != NULL) {
			/* the sentence before the name, from its last full stop */
			const char *from = text, *stop;
			char *before;
			struct import_when w;
			bool ok;

			while ((stop = strstr(from, "。")) != NULL && stop < name)
				from = stop + strlen("。");
			before = xstrndup(from, (size_t)(name - from));
			ok = import_when_find(before, year, &w) && w.kind == IMPORT_WHEN_ON &&
			    utf8_chars(before + w.at + w.len) <= 12;
			free(before);
			if (ok) {
				*month = w.due.month;
				*day = w.due.day;
				return true;
			}
			name += strlen(key->name);
		}
	}
	return false;
}

static void
assemble(struct ctx *c, struct import_result *r)
{
	struct imp_plan *p = c->plan;
	const struct imp_named_day *key = c->key = imp_meta_key_day(c->doc, c->ol);
	char *stem = imp_meta_slug(c->opts->name);

	p->year = imp_meta_year(c->doc, c->ol, dates_year(c), c->opts->year, &p->year_source,
	    c->notes);
	for (size_t i = 0; i < c->ol->nitems; i++)
		find_date(&c->rd[i], p->year);
	find_period(c, p->year);
	if (key != NULL && stated_key_date(c, key, p->year, &p->key_month, &p->key_day)) {
		/* the day as the plan states it: "5月15日是第26个“全国助残日”" */
	} else if (key != NULL && imp_named_day_date(key, p->year, &p->key_month, &p->key_day)) {
		/* the named day */
	} else if (c->have_period && c->period.kind == IMPORT_WHEN_ON) {
		p->key_month = c->period.due.month, p->key_day = c->period.due.day;
	}
	p->title = imp_meta_title(c->ol);
	if (p->title == NULL)
		p->title = imp_meta_title_infer(c->ol, key, stem);
	p->theme = imp_meta_theme(c->ol);
	p->id = c->opts->id != NULL ? xstrdup(c->opts->id) : xstrdup(stem);
	if (c->opts->name != NULL) {
		const char *base = strrchr(c->opts->name, '/');

		p->source = xstrdup(base != NULL ? base + 1 : c->opts->name);
	}
	free(stem);
	if (c->ol->npreamble > 0)
		imp_note(c->notes, c->ol->preamble[0].line,
		    c->ol->preamble[c->ol->npreamble - 1].line, IMPORT_NOTE, "preamble: title, "
		    "year and key date are read from it, no tasks");
	p->tasks = xcalloc(c->ol->nitems + 1, sizeof(*p->tasks));
	for (size_t i = 0; i < c->ol->nitems; i++) {
		const struct imp_item *it = &c->ol->items[i];
		bool quiet;
		const char *why = not_a_task(c, i, &quiet);

		if (why != NULL) {
			char id[48], head[160];

			if (quiet)
				continue;
			item_id(it, id, sizeof(id));
			imp_excerpt(it->head, 24, head, sizeof(head));
			imp_note(c->notes, it->line, it->last_line, IMPORT_NOTE, "%s \"%s\": %s",
			    id, head, why);
			continue;
		}
		make_task(c, i, &p->tasks[p->ntasks++]);
	}
	/* Task ids are unique by the outline's numbering; make sure anyway. */
	for (size_t i = 0; i < p->ntasks; i++)
		for (size_t k = 0; k < i; k++)
			if (strcmp(p->tasks[i].id, p->tasks[k].id) == 0) {
				char *id = xasprintf("%s-%zu", p->tasks[i].id, i + 1);

				free(p->tasks[i].id);
				p->tasks[i].id = id;
			}
	build_registry(p);
	r->year = p->year;
	r->year_source = p->year_source;
	r->ntasks = p->ntasks;
	r->nunits = p->units.n;
	for (size_t i = 0; i < p->ntasks; i++) {
		r->ndates += p->tasks[i].when != NULL;
		r->ndates_resolved += p->tasks[i].w.start.month > 0 || p->tasks[i].w.due.month > 0;
	}
}

struct import_result *
import_document(const void *data, size_t len, const struct import_opts *opts)
{
	struct import_result *r = xcalloc(1, sizeof(*r));
	struct imp_notes notes = { 0 };
	struct imp_doc doc = { 0 };
	struct imp_outline ol = { 0 };
	struct imp_plan plan = { 0 };
	struct ctx c = { .doc = &doc, .ol = &ol, .opts = opts, .notes = &notes, .plan = &plan };
	char err[512];

	if (imp_text_load(data, len, &doc, &notes, err, sizeof(err)) < 0) {
		r->error = xstrdup(err);
		goto out;
	}
	r->encoding = doc.encoding;
	r->nlines = doc.total_lines;
	imp_outline_build(&doc, &ol, &notes);
	c.rd = xcalloc(ol.nitems + 1, sizeof(*c.rd));
	for (size_t i = 0; i < ol.nitems; i++)
		read_item(&ol.items[i], &c.rd[i]);
	assemble(&c, r);
	if (plan.ntasks == 0) {
		r->error = xasprintf("no tasks found: no numbered items with a date or "
		    "responsible units (%zu headings read); is this a plan (活动方案)?", ol.nitems);
		goto out;
	}
	r->json = imp_json_write(&plan, &notes);
out:
	for (size_t i = 0; c.rd != NULL && i < ol.nitems; i++) {
		free(c.rd[i].head);
		free(c.rd[i].text);
		free(c.rd[i].part_off);
		free(c.rd[i].part_line);
		imp_names_free(&c.rd[i].units);
		imp_names_free(&c.rd[i].prose);
		imp_roles_free(&c.rd[i].roles);
		imp_names_free(&c.rd[i].rejected);
	}
	free(c.rd);
	free(c.period_when);
	imp_plan_free(&plan);
	imp_outline_free(&ol);
	imp_doc_free(&doc);
	sort_notes(&notes);
	r->notes = notes.v;
	r->nnotes = notes.n;
	return r;
}
