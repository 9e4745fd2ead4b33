/*
 * Tables and lists that carry a plan's activities (the outline's helpers,
 * import_outline.h): a table flattened into space-separated lines (one row
 * per line, or one cell per line) whose rows become items, and bare lists of
 * activities with their dates ("草原那达慕(9月23日)", dated content lines).
 */
#include <stdlib.h>
#include <string.h>

#include "campaign/buf.h"
#include "campaign/utf8.h"
#include "campaign/xmalloc.h"
#include "import_outline.h"

/* The cells of a space-separated line; returns how many (at most max). */
static size_t
cells(const char *s, char **out, size_t max)
{
	size_t n = 0;

	while (*s != '\0' && n < max) {
		size_t len = strcspn(s, " ");

		out[n++] = xstrndup(s, len);
		s += len;
		s += imp_ol_skip_spaces(s);
	}
	return n;
}

static void
cells_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
}

/*
 * A table header flattened into one line: "序号 主要内容 时间 地点 主办单位".
 * At least three cells, one naming the activity and one the time.
 */
bool
imp_table_header(const char *s, struct table *t)
{
	char *v[12];
	size_t n = cells(s, v, 12);
	bool ok;

	memset(t, 0, sizeof(*t));
	t->content = t->time = t->units = -1;
	for (size_t i = 0; i < n; i++) {
		if (utf8_chars(v[i]) > 10) {
			t->content = t->time = -1;
			break;
		}
		if (t->content < 0 && (strstr(v[i], "内容") || strstr(v[i], "名称") ||
		    strstr(v[i], "项目") || strstr(v[i], "活动")))
			t->content = (int)i;
		else if (t->time < 0 && (strstr(v[i], "时间") || strstr(v[i], "日期")))
			t->time = (int)i;
		else if (t->units < 0 && (strstr(v[i], "单位") || strstr(v[i], "部门")))
			t->units = (int)i;
	}
	ok = n >= 3 && t->content >= 0 && t->time >= 0;
	t->ncols = n;
	t->on = ok;
	cells_free(v, n);
	return ok;
}

/* A row of the open table: "1 启动仪式 5月19日 临颍县 市委宣传部、…" */
bool
imp_table_row(struct state *st, const char *s, int line)
{
	const struct table *t = &st->table;
	char *v[16], *content;
	size_t n, extra;
	int number = 0, d = st->depth > 0 ? 1 : 0;
	struct marker m = { .kind = MARK_NUM };

	if (!(s[0] >= '0' && s[0] <= '9'))
		return false;
	n = cells(s, v, 16);
	for (const char *p = v[0]; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || number > 999) {
			cells_free(v, n);
			return false;
		}
		number = number * 10 + (*p - '0');
	}
	if (n < 3 || number < 1 || number > 99) {
		cells_free(v, n);
		return false;
	}
	/* The activity cell takes whatever cells the row has beyond the header's. */
	extra = n > t->ncols ? n - t->ncols : 0;
	{
		struct buf b;
		int col = 0;

		buf_init(&b, strlen(s) + 1);
		for (size_t i = 0; i < n; i++) {
			bool in_content = col == t->content;

			if (in_content) {
				if (b.len > 0)
					buf_puts(&b, " ");
				buf_puts(&b, v[i]);
				if (extra > 0) {
					extra--;
					continue;
				}
			} else if (col == t->time) {
				char *f = xasprintf("时间:%s", v[i]);

				imp_ol_body_add_later(st, f);
			} else if (col == t->units) {
				char *f = xasprintf("责任单位:%s", v[i]);

				imp_ol_body_add_later(st, f);
			}
			col++;
		}
		content = buf_steal(&b);
	}
	m.number = number;
	imp_ol_open_level(st, d, &m);
	imp_ol_take_heading(st, d, &m, content, strlen(content), line);
	for (size_t i = 0; i < st->npending; i++) {
		imp_ol_body_add(st, st->pending[i], strlen(st->pending[i]), line);
		free(st->pending[i]);
	}
	st->npending = 0;
	free(content);
	cells_free(v, n);
	return true;
}

/* Opens a section for the table or the dated lines: after the last one. */
void
imp_table_open_section(struct state *st, const char *head, int line)
{
	struct marker m = { .kind = MARK_NONE };
	struct imp_outline *o = st->out;

	m.number = (st->depth > 0 ? st->stack[0].number : 0) + 1;
	imp_ol_open_level(st, 0, &m);
	imp_ol_take_heading(st, 0, &m, head, strlen(head), line);
	o->items[o->nitems - 1].activities = true;
}

/*
 * A document without any numbered heading whose lines start with a date
 * ("7月27日,在包头市举办…"): each such line is an activity. News-style
 * reporting lines (记者…获悉) are not.
 */
/* The byte length of a "(9月23日)" at s whose whole content is a date, or 0. */
static size_t
paren_date(const char *s)
{
	const char *close;
	char *inner;
	struct import_when w;
	bool whole;

	if (*s != '(' || (close = strchr(s, ')')) == NULL || close - s > 48)
		return 0;
	inner = xstrndup(s + 1, (size_t)(close - s - 1));
	whole = import_when_find(inner, 0, &w) && import_when_dated(&w) && w.at == 0 &&
	    w.len == strlen(inner);
	free(inner);
	return whole ? (size_t)(close - s) + 1 : 0;
}

/*
 * A bare list of activities, each with its date in parentheses, inside one
 * paragraph ("…旅游节(2006年8月)、梅力更登山节(8月1日至9月1日);…"): at
 * least three. Each "name(date)" becomes an activity of the section.
 */
static bool
paren_list(struct state *st, const char *s, int line, int *number)
{
	size_t count = 0;

	for (const char *p = s; *p != '\0'; p++)
		count += paren_date(p) > 0;
	if (count < 3)
		return false;
	for (const char *p = s, *start = s; *p != '\0';) {
		size_t n = paren_date(p);

		if (n > 0) {
			struct marker m = { .kind = MARK_NUM };
			const char *from = start;

			/* the name: back to the last separator before it */
			for (const char *q = start; q < p; q += imp_cplen(q))
				if (imp_starts(q, "、") || imp_starts(q, "。") || *q == ';' || *q == ',' ||
				    *q == ':')
					from = q + imp_cplen(q);
			if (p > from) {
				char *item = xstrndup(from, (size_t)(p - from));
				char *when = xasprintf("时间:%.*s", (int)(n - 2), p + 1);

				if (*number == 0)
					imp_table_open_section(st, "活动安排", line);
				m.number = ++*number;
				imp_ol_open_level(st, 1, &m);
				imp_ol_take_heading(st, 1, &m, item, strlen(item), line);
				imp_ol_body_add(st, when, strlen(when), line);
				free(when);
				free(item);
			}
			p += n;
			start = p;
			continue;
		}
		p += imp_cplen(p);
	}
	return true;
}

void
imp_table_dated_lines(struct state *st)
{
	struct imp_outline *o = st->out;
	int number = 0;

	for (size_t i = 0; i < o->npreamble; i++) {
		const char *s = o->preamble[i].text;
		struct import_when w;
		struct marker m = { .kind = MARK_NUM };

		if (paren_list(st, s, o->preamble[i].line, &number))
			continue;

		if (!import_when_find(s, 0, &w) || w.at != 0 || !import_when_dated(&w) ||
		    strstr(s, "获悉") != NULL || strstr(s, "记者") != NULL)
			continue;
		if (number == 0)
			imp_table_open_section(st, "活动安排", o->preamble[i].line);
		m.number = ++number;
		imp_ol_open_level(st, 1, &m);
		imp_ol_take_heading(st, 1, &m, s, strlen(s), o->preamble[i].line);
	}
}

/* A short cell of a table flattened one cell per line: no punctuation. */
static bool
short_cell(const char *s)
{
	return utf8_chars(s) <= 6 && strstr(s, "。") == NULL && strchr(s, ',') == NULL &&
	    strchr(s, ':') == NULL && !(s[0] >= '0' && s[0] <= '9');
}

static bool
number_line(const char *s, int *n)
{
	int v = 0;

	if (*s == '\0')
		return false;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || v > 99)
			return false;
		v = v * 10 + (*p - '0');
	}
	*n = v;
	return true;
}

/* Every name of s reads as a unit (a 责任部门 cell). */
static bool
units_cell(const char *s)
{
	struct imp_names names = { 0 }, rejected = { 0 };
	bool ok;

	imp_units_split(s, &names, &rejected);
	ok = names.n > 0 && rejected.n == 0 && utf8_chars(s) <= 80;
	for (size_t i = 0; ok && i < names.n; i++) {
		size_t len = strlen(names.v[i]);
		static const char *const ends[] = { "局", "处", "科", "委", "办", "部", "中心",
			"单位", "所", "站", "队", "会", "院", "厅", "公司" };
		bool unit = false;

		for (size_t k = 0; k < sizeof(ends) / sizeof(ends[0]); k++)
			unit = unit || (len >= strlen(ends[k]) &&
			    strcmp(names.v[i] + len - strlen(ends[k]), ends[k]) == 0);
		ok = unit || utf8_chars(names.v[i]) <= 3;
	}
	imp_names_free(&names);
	imp_names_free(&rejected);
	return ok;
}

/*
 * A table flattened one cell per line (序号 / 项目 / 内容 / 责任部门 / 实施时间,
 * then 1 / … / 2 / …): at line i a run of at least three short header cells
 * naming a number and a time column, followed by the line "1". Each row runs
 * from its number to the next: its first line is the task, a line that is a
 * date its time, a line of unit names its units, the rest its text. Returns
 * the lines read, or 0.
 */
size_t
imp_table_vertical(struct state *st, const struct imp_doc *doc, size_t i)
{
	size_t k = i, end;
	bool number = false, time = false;
	int row = 0, n;

	while (k < doc->nlines && short_cell(doc->lines[k].text)) {
		number = number || strstr(doc->lines[k].text, "序号") != NULL;
		time = time || strstr(doc->lines[k].text, "时间") != NULL ||
		    strstr(doc->lines[k].text, "日期") != NULL;
		k++;
	}
	if (k - i < 3 || !number || !time || k >= doc->nlines ||
	    !number_line(doc->lines[k].text, &n) || n != 1)
		return 0;
	imp_table_open_section(st, doc->lines[i].text, doc->lines[i].no);
	end = k;
	while (end < doc->nlines && number_line(doc->lines[end].text, &n) && n == row + 1) {
		struct marker m = { .kind = MARK_NUM, .number = ++row };
		size_t r = end + 1;
		bool titled = false;

		imp_ol_open_level(st, 1, &m);
		for (; r < doc->nlines && !(number_line(doc->lines[r].text, &n) && n == row + 1);
		    r++) {
			const char *cell = doc->lines[r].text;
			int line = doc->lines[r].no;
			struct import_when w;

			if (!titled) {
				imp_ol_take_heading(st, 1, &m, cell, strlen(cell), line);
				titled = true;
			} else if (import_when_find(cell, 0, &w) && w.at == 0 &&
			    utf8_chars(cell) <= 16) {
				char *f = xasprintf("时间:%s", cell);

				imp_ol_body_add(st, f, strlen(f), line);
				free(f);
			} else if (units_cell(cell)) {
				char *f = xasprintf("责任单位:%s", cell);

				imp_ol_body_add(st, f, strlen(f), line);
				free(f);
			} else {
				imp_ol_body_add(st, cell, strlen(cell), line);
			}
		}
		if (!titled)
			imp_ol_take_heading(st, 1, &m, "", 0, doc->lines[end].no);
		end = r;
	}
	return end - i;
}
