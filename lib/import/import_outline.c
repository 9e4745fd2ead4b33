/*
 * The document's outline: headings 一、/(一)/1、/(1)/① (full-width and
 * circled forms arrive folded by textnorm) nest in the order a document first
 * uses them, and numbering only moves forward. A heading that goes back, or a
 * run of three or more bodiless headings that interrupts an item, is a pasted
 * "related articles" list: ignored (and noted) without resetting anything.
 * Headings glued into one long paragraph are split where the next expected
 * number follows the end of a sentence.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/buf.h"
#include "campaign/utf8.h"
#include "campaign/xmalloc.h"
#include "import_outline.h"
#include "import_priv.h"

static const char *const field_labels[] = {
	"活动时间", "时间安排", "落实时间", "完成时间", "完成时限", "截止时间", "办结时间",
	"时间", "时限", "活动地点", "地点", "参加人员", "参加对象", "参与人员", "参与对象",
	"活动对象", "活动形式", "活动方式", "责任单位", "责任部门", "牵头单位", "配合单位",
	"落实单位", "组织单位", "承办单位", "主办单位", "协办单位", "联系人", "联系电话",
	"责任人",
};

size_t
imp_ol_skip_spaces(const char *s)
{
	size_t n = 0;

	while (s[n] == ' ' || s[n] == '\t')
		n++;
	return n;
}

static bool
marker_at(const char *s, struct marker *m)
{
	const char *p = s;
	int v = 0, digits = 0;
	size_t n;
	uint32_t cp;

	memset(m, 0, sizeof(*m));
	if (*p == '(') {
		p++;
		if ((n = imp_cn_numeral(p, &v)) > 0 && p[n] == ')') {
			m->kind = MARK_CN_PAREN;
			p += n + 1;
		} else {
			while (*p >= '0' && *p <= '9' && digits < 3)
				v = v * 10 + (*p++ - '0'), digits++;
			if (digits == 0 || digits > 2 || *p != ')')
				return false;
			m->kind = MARK_NUM_PAREN;
			p++;
		}
	} else if ((cp = imp_cp(p)) >= 0x2460 && cp <= 0x2473) {
		v = (int)(cp - 0x2460 + 1);
		m->kind = MARK_CIRCLED;
		p += imp_cplen(p);
	} else if (*p >= '0' && *p <= '9') {
		while (*p >= '0' && *p <= '9' && digits < 3)
			v = v * 10 + (*p++ - '0'), digits++;
		if (digits > 2)
			return false;
		/* "1." but not "1.5" nor a file name's "1.docx" */
		if (imp_eat(&p, "、") || (*p == '.' && !(p[1] >= '0' && p[1] <= '9') &&
		    !((p[1] | 0x20) >= 'a' && (p[1] | 0x20) <= 'z') && p++))
			m->kind = MARK_NUM;
		else if (*p == ')' && p++)
			m->kind = MARK_NUM_PAREN;
		else
			return false;
	} else if ((n = imp_cn_numeral(p, &v)) > 0) {
		p += n;
		if (*p == ')') {
			p++;
			m->kind = MARK_CN_PAREN;
			m->bare = true;
		} else if (imp_starts(p, "是") && v <= 10 && !imp_starts(p, "是否")) {
			p += strlen("是");
			m->kind = MARK_SHI;
		} else {
			if (!imp_eat(&p, "、") && !(*p == '.' && p++))
				return false;
			m->kind = MARK_CN;
		}
	} else {
		return false;
	}
	if (v < 1 || v > 99)
		return false;
	m->number = v;
	m->len = (size_t)(p - s) + imp_ol_skip_spaces(p);
	return true;
}

static bool
is_field(const char *head)
{
	for (size_t i = 0; i < sizeof(field_labels) / sizeof(field_labels[0]); i++) {
		const char *p = head;

		if (imp_eat(&p, field_labels[i]) && (*p == ':' || imp_starts(p, "：")))
			return true;
	}
	return false;
}

/*
 * What a heading names: its first clause (a heading often runs into its text:
 * "(七)6月9日前,县安监局…宣传标语的刀旗"), at most its first 12 characters,
 * so that words deep in an item's sentence do not classify it.
 */
static char *
heading_title(const char *heading)
{
	size_t n = 0, chars = 0;

	while (heading[n] != '\0' && chars < 12 && heading[n] != ',' && heading[n] != ':' &&
	    heading[n] != ';' && heading[n] != '(' && !imp_starts(heading + n, "。")) {
		n += imp_cplen(heading + n);
		chars++;
	}
	return xstrndup(heading, n);
}

enum imp_class
imp_classify(const char *heading)
{
	static const char *const info[] = {
		"指导思想", "主题", "目标", "意义", "背景", "总体要求", "基本原则", "活动时间",
		"活动地点", "活动对象", "参加对象", "参加人员", "参与人员", "活动范围",
		"组织机构", "领导小组", "组织领导", "工作机构", "宣传口号", "宣传标语",
		"概要", "概述", "概况", "宗旨", "目的", "预算", "经费", "组织单位", "主办单位",
		"承办单位", "协办单位", "参加单位", "参与单位",
	};
	static const char *const activity[] = {
		"活动内容", "活动安排", "主要活动", "活动项目", "工作安排", "具体安排",
		"工作内容", "重点工作", "主要内容", "工作任务", "主要任务", "重点任务",
		"活动形式", "实施步骤", "进度安排", "时间安排", "宣传活动", "活动方式",
		"实施内容", "工作措施", "具体措施", "方法步骤", "步骤", "日程", "内容",
		"任务分工", "职责分工", "活动宣传", "宣传报道", "宣传报导",
	};
	static const char *const requirement[] = {
		"要求", "保障", "注意事项", "措施", "纪律",
	};

	enum imp_class cls = IMP_CLASS_OTHER;
	char *title = heading_title(heading);

	for (size_t i = 0; i < sizeof(activity) / sizeof(activity[0]); i++)
		if (strstr(title, activity[i]) != NULL) {
			cls = IMP_CLASS_ACTIVITY;
			goto out;
		}
	for (size_t i = 0; i < sizeof(info) / sizeof(info[0]); i++)
		if (strstr(title, info[i]) != NULL || imp_starts(title, "时间")) {
			cls = IMP_CLASS_INFO;
			goto out;
		}
	for (size_t i = 0; i < sizeof(requirement) / sizeof(requirement[0]); i++)
		if (strstr(title, requirement[i]) != NULL) {
			cls = IMP_CLASS_REQUIREMENT;
			goto out;
		}
out:
	free(title);
	return cls;
}

/* Where a heading of this kind and number would go: its depth, or -1. */
static int
accepts(const struct state *st, const struct marker *m, bool *jump)
{
	*jump = false;
	for (int d = 0; d < st->depth; d++) {
		if (st->stack[d].kind != m->kind)
			continue;
		if (m->number == st->stack[d].number + 1)
			return d;
		if (m->number > st->stack[d].number + 1 && m->number <= st->stack[d].number + 3) {
			*jump = true;
			return d;
		}
		return -1;
	}
	if (st->depth == 0)
		return 0;
	if (m->number == 1 && st->depth < IMP_MAX_DEPTH)
		return st->depth;
	return -1;
}

static void
seg_add(struct imp_seg **v, size_t *n, const char *text, size_t len, int line)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[*n].text = xstrndup(text, len);
	(*v)[*n].line = line;
	(*n)++;
}

void
imp_ol_body_add(struct state *st, const char *text, size_t len, int line)
{
	struct imp_outline *o = st->out;

	while (len > 0 && text[len - 1] == ' ')
		len--;
	if (len == 0)
		return;
	if (st->target < 0) {
		seg_add(&o->preamble, &o->npreamble, text, len, line);
	} else {
		struct imp_item *it = &o->items[st->target];

		seg_add(&it->body, &it->nbody, text, len, line);
		it->last_line = line;
	}
}

void
imp_ol_body_add_later(struct state *st, char *field)
{
	if (st->npending < sizeof(st->pending) / sizeof(st->pending[0]))
		st->pending[st->npending++] = field;
	else
		free(field);
}

/* Opens a heading's level: numbering moves on, deeper levels close. */
void
imp_ol_open_level(struct state *st, int d, const struct marker *m)
{
	st->depth = d + 1;
	st->stack[d] = (struct frame){ .kind = m->kind, .number = m->number, .item = -1 };
}

/* The heading's item, or a field of the enclosing item ("3、活动时间:…"). */
void
imp_ol_take_heading(struct state *st, int d, const struct marker *m, const char *text, size_t len,
    int line)
{
	struct imp_outline *o = st->out;
	const char *head = text + m->len;
	size_t head_len = len - m->len;
	struct imp_item *it;

	if (d > 0 && is_field(head)) {
		imp_ol_body_add(st, head, head_len, line);
		return;
	}
	if (o->nitems == st->cap_items) {
		st->cap_items = st->cap_items == 0 ? 32 : st->cap_items * 2;
		o->items = xreallocarray(o->items, st->cap_items, sizeof(*o->items));
	}
	it = &o->items[o->nitems];
	memset(it, 0, sizeof(*it));
	it->depth = d;
	for (int k = 0; k <= d; k++)
		it->path[k] = st->stack[k].number;
	it->line = it->last_line = line;
	while (head_len > 0 && (head[head_len - 1] == ' ' || head[head_len - 1] == ';'))
		head_len--;
	it->head = xstrndup(head, head_len);
	st->stack[d].item = (ssize_t)o->nitems;
	st->target = (ssize_t)o->nitems;
	o->nitems++;
}

static bool
sentence_end_before(const char *s, size_t off)
{
	static const char *const ends[] = {
		"。", ";", "!", "?", ":", ")", "”", "」", " ", "】",
	};
	size_t prev;

	if (off == 0)
		return true;
	prev = imp_prev(s, off);
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
		if (strncmp(s + prev, ends[i], strlen(ends[i])) == 0 &&
		    prev + strlen(ends[i]) == off)
			return true;
	return false;
}

static bool
open_kind(const struct state *st, enum mark kind, int *number)
{
	for (int d = 0; d < st->depth; d++)
		if (st->stack[d].kind == kind) {
			*number = st->stack[d].number;
			return true;
		}
	return false;
}

/*
 * A pasted list glued into a paragraph: "一、…方案2篇二、…三、…小结各地、…".
 * At s a heading of an open kind going back in number, followed by at least
 * two more in sequence, each within a short title. Returns the bytes the list
 * covers (its last title ends at the last 方案/范文/篇/小结… before any
 * punctuation), or 0.
 */
static size_t
glued_link_run(const struct state *st, const char *s)
{
	static const char *const suffixes[] = {
		"方案", "范文", "模板参考", "篇", "小结", "总结", "计划", "汇编", "大全",
	};
	struct marker m;
	int open, count = 1;
	size_t off, end = 0;

	if (!marker_at(s, &m) || !open_kind(st, m.kind, &open) || m.number > open)
		return 0;
	off = m.len;
	for (;;) {
		struct marker next;
		size_t chars = 0, k = off;
		bool found = false;

		/* The next number within a title's length, no sentence in between. */
		while (s[k] != '\0' && chars < 40 && !imp_starts(s + k, "。") && s[k] != ',' &&
		    !imp_starts(s + k, "、")) {
			if (marker_at(s + k, &next) && !next.bare && next.kind == m.kind &&
			    next.number == m.number + 1) {
				found = true;
				break;
			}
			k += imp_cplen(s + k);
			chars++;
		}
		if (!found)
			break;
		m = next;
		off = k + next.len;
		count++;
	}
	if (count < 3)
		return 0;
	/* The last title: up to its last list-like suffix before punctuation. */
	for (size_t k = off, chars = 0; s[k] != '\0' && chars < 40; k += imp_cplen(s + k), chars++) {
		if (imp_starts(s + k, "。") || s[k] == ',' || imp_starts(s + k, "、"))
			break;
		for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
			if (imp_starts(s + k, suffixes[i]))
				end = k + strlen(suffixes[i]);
	}
	return end > off ? end : 0;
}

/*
 * Words a plan's section title starts with: "…和谐校园四、活动口号…" is a
 * heading glued to the text before it even without a full stop.
 */
static bool
section_word(const char *s)
{
	static const char *const words[] = {
		"活动", "工作", "组织", "时间", "目的", "主题", "要求", "内容", "安排", "实施",
		"保障", "宣传", "具体", "指导", "基本", "总体", "参加", "主办", "承办", "有关",
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (imp_starts(s, words[i]))
			return true;
	return false;
}

/* The offset of the next glued heading in s after its start, or 0. */
static size_t
next_split(const struct state *st, const char *s)
{
	size_t off = imp_cplen(s);

	for (; s[off] != '\0'; off += imp_cplen(s + off)) {
		struct marker m;
		bool jump;

		if (!marker_at(s + off, &m) || m.bare || m.len == 0 || s[off + m.len] == '\0')
			continue;
		if (sentence_end_before(s, off) && glued_link_run(st, s + off) > 0)
			return off;
		if (m.kind != MARK_CN_PAREN && !sentence_end_before(s, off) &&
		    !(m.kind == MARK_CN && section_word(s + off + m.len) &&
		    st->depth > 0 && st->stack[0].kind == MARK_CN &&
		    m.number == st->stack[0].number + 1))
			continue;
		if (m.kind == MARK_CN_PAREN && off > 0 && sentence_end_before(s, off) == false &&
		    imp_starts(s + imp_prev(s, off), "("))
			continue;
		if (accepts(st, &m, &jump) >= 0 && !jump)
			return off;
	}
	return 0;
}

/* Where a closing "(责任单位:…)" / "(A牵头,B配合)" group of s[0, len) starts; len if none. */
static size_t
labelled_tail(const char *s, size_t len)
{
	static const char *const words[] = { "责任", "牵头", "配合", "主办", "承办", "协办" };
	size_t open = len;
	int depth = 0;

	if (len == 0 || s[len - 1] != ')')
		return len;
	for (size_t i = len; i-- > 0;) {
		if (s[i] == ')')
			depth++;
		else if (s[i] == '(' && --depth == 0) {
			open = i;
			break;
		}
	}
	for (size_t w = 0; open < len && w < sizeof(words) / sizeof(words[0]); w++)
		if (strstr(s + open, words[w]) != NULL && strstr(s + open, words[w]) < s + len)
			return open;
	return len;
}

/* True if the line is a heading of kind k numbered n with no sentence in it. */
static bool
bodiless_heading(const char *line, enum mark k, int n)
{
	struct marker m;

	return marker_at(line, &m) && m.kind == k && m.number == n &&
	    strstr(line, "。") == NULL && strstr(line, ":") == NULL;
}

/*
 * At line i a heading of kind k numbered n: how many lines a pasted list
 * starting here covers (0: not a list). Out of sequence, any run; in
 * sequence, at least three bodiless headings that sit between an item's
 * heading and its body.
 */
static size_t
link_run(const struct state *st, const struct imp_doc *doc, size_t i, const struct marker *m,
    int d)
{
	bool out_of_sequence = d < 0;
	size_t run = 0;
	int n = m->number;

	while (i + run < doc->nlines && bodiless_heading(doc->lines[i + run].text, m->kind, n))
		run++, n++;
	if (out_of_sequence)
		return run >= 2 ? run : 0;
	/* In sequence: only a level above the open item, never a new sub-level. */
	if (run < 3 || i + run >= doc->nlines || st->target < 0 || d >= st->depth - 1)
		return 0;
	{
		struct marker next;
		const struct imp_item *cur = &st->out->items[st->target];

		if (marker_at(doc->lines[i + run].text, &next) || cur->nbody > 0)
			return 0;
	}
	return run;
}

static void
note_run(struct state *st, const struct imp_doc *doc, size_t i, size_t run)
{
	char first[96];

	imp_excerpt(doc->lines[i].text, 30, first, sizeof(first));
	imp_note(st->notes, doc->lines[i].no, doc->lines[i + run - 1].no, IMPORT_NOTE,
	    "ignored %zu heading lines without text that break the document's numbering "
	    "(a pasted list of related articles?), from \"%s\"", run, first);
}

/*
 * The title of a second document pasted after the plan ("…活动方案精选篇2",
 * "2025年助残日方案 篇2", "…活动方案2"): a short line naming a plan, ending
 * in a number from 2 on. What follows is another plan: no tasks from it.
 */
static bool
second_document(const char *s)
{
	static const char *const kinds[] = { "方案", "计划", "策划", "范文" };
	size_t len = strlen(s), end = len, chars = utf8_chars(s);
	int v = 0, mul = 1;
	bool named = false;

	if (chars > 40 || strstr(s, "。") != NULL || strchr(s, ',') != NULL)
		return false;
	while (end > 0 && s[end - 1] >= '0' && s[end - 1] <= '9' && mul <= 100)
		v += (s[end - 1] - '0') * mul, mul *= 10, end--;
	if (end == len) {
		/* 篇二 ... 篇十: a Chinese numeral after 篇 */
		const char *pian = strstr(s, "篇");

		if (pian == NULL || imp_cn_numeral(pian + strlen("篇"), &v) == 0 ||
		    pian + strlen("篇") + imp_cn_numeral(pian + strlen("篇"), &v) != s + len)
			return false;
		end = (size_t)(pian - s);
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		named = named || strstr(s, kinds[i]) != NULL;
	return named && v >= 2 && end > 0;
}

/* A short line without a marker or punctuation: a heading that lost its number. */
static bool
bare_heading(const char *s)
{
	size_t chars = utf8_chars(s);

	return chars >= 2 && chars <= 20 && strstr(s, "。") == NULL && strchr(s, ',') == NULL &&
	    strchr(s, ';') == NULL && strchr(s, ':') == NULL && strchr(s, ' ') == NULL;
}

/*
 * The signature at the end (落款): a line that is only a full date
 * ("2017年9月20日"), after at most one short line naming the issuer. Its year
 * is the plan's when nothing else states one; it is no part of any item.
 * Returns the number of lines it takes.
 */
static size_t
signature(const struct imp_doc *doc, struct imp_outline *out)
{
	const char *last;
	int y = 0, n = 0;
	size_t lines = 0;

	if (doc->nlines < 3)
		return 0;
	last = doc->lines[doc->nlines - 1].text;
	for (const char *p = last; *p >= '0' && *p <= '9' && n < 5; p++)
		y = y * 10 + (*p - '0'), n++;     /* 5 digits at most: never overflows */
	if (n != 4 || y < 1990 || y > 2100 || !imp_starts(last + 4, "年") ||
	    utf8_chars(last) > 12 || strstr(last, "日") == NULL ||
	    strlen(strstr(last, "日")) != strlen("日"))
		return 0;
	lines = 1;
	if (utf8_chars(doc->lines[doc->nlines - 2].text) <= 20 &&
	    strstr(doc->lines[doc->nlines - 2].text, "。") == NULL &&
	    strchr(doc->lines[doc->nlines - 2].text, ',') == NULL &&
	    !marker_at(doc->lines[doc->nlines - 2].text, &(struct marker){ 0 }))
		lines = 2;
	out->signature_year = y;
	out->signature_line = doc->lines[doc->nlines - 1].no;
	return lines;
}

/*
 * A schedule inside the campaign-period section: "四、活动时间 5月16日-5月22日。
 * 5月16日-17日召开…;5月18日-20日,各部门…;5月21日-22日由农技站牵头…".
 * Two or more clauses after the period that start with their own date are
 * the plan's activities: they become the section's items.
 */
static void
schedules(struct imp_outline *out)
{
	for (size_t i = 0; i < out->nitems; i++) {
		struct imp_item *it = &out->items[i];
		struct buf all;
		char **clauses = NULL, *period = NULL;
		size_t n = 0, dated = 0;
		const char *p;

		if (it->depth != 0 || (i + 1 < out->nitems && out->items[i + 1].depth > 0) ||
		    !(imp_starts(it->head, "活动时间") || imp_starts(it->head, "时间安排") ||
		    imp_starts(it->head, "时间")))
			continue;
		buf_init(&all, IMPORT_MAX_BYTES);
		buf_puts(&all, it->head);
		for (size_t k = 0; k < it->nbody; k++) {
			buf_puts(&all, "。");
			buf_puts(&all, it->body[k].text);
		}
		/* the clauses, the period's own first */
		p = buf_str(&all);
		while (*p != '\0') {
			const char *end = p;
			struct import_when w;
			char *clause;

			while (*end != '\0' && *end != ';' && !imp_starts(end, "。"))
				end += imp_cplen(end);
			clause = xstrndup(p, (size_t)(end - p));
			if (n > 0 && import_when_find(clause, 0, &w) && w.at == 0 &&
			    import_when_dated(&w) && period == NULL) {
				period = clause; /* the first: the campaign period itself */
			} else if (n > 0 && import_when_find(clause, 0, &w) && w.at == 0 &&
			    import_when_dated(&w)) {
				clauses = xreallocarray(clauses, dated + 1, sizeof(*clauses));
				clauses[dated++] = clause;
			} else {
				free(clause);
			}
			n++;
			p = *end == '\0' ? end : end + imp_cplen(end);
		}
		buf_free(&all);
		if (dated >= 2) {
			out->items = xreallocarray(out->items, out->nitems + dated + 1,
			    sizeof(*out->items));
			it = &out->items[i];
			memmove(it + 1 + dated, it + 1, (out->nitems - i - 1) * sizeof(*it));
			for (size_t k = 0; k < dated; k++) {
				struct imp_item *c = &out->items[i + 1 + k];

				memset(c, 0, sizeof(*c));
				c->depth = 1;
				c->path[0] = it->path[0];
				c->path[1] = (int)k + 1;
				c->line = c->last_line = it->line;
				c->head = clauses[k];
			}
			it->activities = true;
			/* the section keeps its period; the clauses are its items now */
			if (it->nbody > 0 && period != NULL) {
				int line = it->body[0].line;

				for (size_t k = 0; k < it->nbody; k++)
					free(it->body[k].text);
				it->body[0] = (struct imp_seg){ .text = period, .line = line };
				it->nbody = 1;
				period = NULL;
			}
			out->nitems += dated;
			i += dated;
		} else {
			for (size_t k = 0; k < dated; k++)
				free(clauses[k]);
		}
		free(period);
		free(clauses);
	}
}

void
imp_outline_build(const struct imp_doc *doc, struct imp_outline *out,
    struct imp_notes *notes)
{
	struct state st = { .target = -1, .out = out, .notes = notes };

	size_t nlines;

	memset(out, 0, sizeof(*out));
	nlines = doc->nlines - signature(doc, out);
	if (nlines < doc->nlines)
		imp_note(notes, doc->lines[nlines].no, doc->lines[doc->nlines - 1].no, IMPORT_NOTE,
		    "the signature (落款): dated %d, no part of any item", out->signature_year);
	for (size_t i = 0; i < nlines; i++) {
		const char *s = doc->lines[i].text;
		int line = doc->lines[i].no;
		bool first = true;
		struct marker m1;
		struct table header;
		int k;

		if (out->nitems > 0 && second_document(s)) {
			imp_note(notes, line, doc->lines[doc->nlines - 1].no, IMPORT_NOTE,
			    "a second document starts here (\"%.60s\"): not read", s);
			break;
		}
		if (imp_table_header(s, &header)) {
			struct imp_item *open = st.target >= 0 ? &out->items[st.target] : NULL;

			st.table = header;
			/* Under a section that has no items yet ("二、活动安排"): its items. */
			if (open != NULL && open->depth == 0 && st.depth == 1 && open->nbody <= 1)
				open->activities = true;
			else
				imp_table_open_section(&st, s, line);
			continue;
		}
		if (st.table.on && imp_table_row(&st, s, line))
			continue;
		if ((k = (int)imp_table_vertical(&st, doc, i)) > 0) {
			i += (size_t)k - 1;
			continue;
		}
		if (st.table.on && marker_at(s, &m1))
			st.table.on = false;
		/*
		 * A heading that lost its number, over items that start again at 1
		 * ("准备工作具体安排" then "1、…"): a group after the open item.
		 */
		if (!marker_at(s, &m1) && bare_heading(s) && i + 1 < doc->nlines &&
		    marker_at(doc->lines[i + 1].text, &m1) && m1.number == 1) {
			bool jump;

			for (k = 0; k < st.depth && st.stack[k].kind != m1.kind; k++)
				;
			if (k > 0 && k < st.depth && accepts(&st, &m1, &jump) < 0) {
				struct marker made = { .kind = MARK_NONE,
					.number = st.stack[k].number + 1 };

				imp_ol_open_level(&st, k, &made);
				imp_ol_take_heading(&st, k, &made, s, strlen(s), line);
				continue;
			}
		}

		while (*s != '\0') {
			struct marker m;
			size_t split, len, run_len;
			bool jump = false;
			int d = -1;

			if (!first && (run_len = glued_link_run(&st, s)) > 0) {
				char excerpt[96];

				imp_excerpt(s, 30, excerpt, sizeof(excerpt));
				imp_note(notes, line, line, IMPORT_NOTE, "ignored a run of headings "
				    "glued into the text out of the document's numbering (a pasted list "
				    "of related articles?), from \"%s\"", excerpt);
				s += run_len;
				s += imp_ol_skip_spaces(s);
				continue;
			}
			if (marker_at(s, &m) && s[m.len] != '\0' && (!m.bare || first))
				d = accepts(&st, &m, &jump);
			if (first && m.kind != MARK_NONE && s[m.len] != '\0') {
				size_t run = link_run(&st, doc, i, &m, d);

				if (run > 0 && (d < 0 || !jump)) {
					note_run(&st, doc, i, run);
					i += run - 1;
					break;
				}
				if (d < 0 && run == 0 && m.kind != MARK_NONE && st.depth > 0 &&
				    (m.kind == MARK_CN || m.kind == MARK_CN_PAREN))
					imp_note(notes, line, line, IMPORT_NOTE, "a heading out of "
					    "the document's numbering is kept as text");
			}
			first = false;
			if (d >= 0) {
				if (jump)
					imp_note(notes, line, line, IMPORT_WARNING, "the numbering "
					    "skips to %d here", m.number);
				/* The level first, so the split below sees it. */
				ssize_t parent = d > 0 ? st.stack[d - 1].item : -1;

				imp_ol_open_level(&st, d, &m);
				split = next_split(&st, s + m.len);
				len = split > 0 ? m.len + split : strlen(s);
				if (m.kind == MARK_SHI && split == 0 && parent >= 0) {
					/* "…三是…。(责任单位:A)": A is the whole list's */
					size_t tail = labelled_tail(s, len);

					if (tail < len) {
						ssize_t keep = st.target;

						imp_ol_take_heading(&st, d, &m, s, tail, line);
						keep = st.target;
						st.target = parent;
						imp_ol_body_add(&st, s + tail, len - tail, line);
						st.target = keep;
						s += len;
						s += imp_ol_skip_spaces(s);
						continue;
					}
				}
				imp_ol_take_heading(&st, d, &m, s, len, line);
			} else {
				split = next_split(&st, s);
				len = split > 0 ? split : strlen(s);
				imp_ol_body_add(&st, s, len, line);
			}
			s += len;
			s += imp_ol_skip_spaces(s);
		}
	}
	for (size_t i = 0; i < st.npending; i++)
		free(st.pending[i]);
	if (out->nitems == 0)
		imp_table_dated_lines(&st);
	schedules(out);
	for (size_t i = 0; i < out->nitems; i++) {
		struct imp_item *it = &out->items[i];
		const struct imp_item *section = it;

		it->leaf = i + 1 == out->nitems || out->items[i + 1].depth <= it->depth;
		for (size_t k = i + 1; k-- > 0;)
			if (out->items[k].depth == 0) {
				section = &out->items[k];
				break;
			}
		it->cls = section->activities ? IMP_CLASS_ACTIVITY : imp_classify(section->head);
		it->period = imp_starts(it->head, "活动时间") || imp_starts(it->head, "时间安排") ||
		    (it->depth == 0 && imp_starts(it->head, "时间"));
	}
}

void
imp_outline_free(struct imp_outline *o)
{
	for (size_t i = 0; i < o->npreamble; i++)
		free(o->preamble[i].text);
	free(o->preamble);
	for (size_t i = 0; i < o->nitems; i++) {
		free(o->items[i].head);
		for (size_t k = 0; k < o->items[i].nbody; k++)
			free(o->items[i].body[k].text);
		free(o->items[i].body);
	}
	free(o->items);
	memset(o, 0, sizeof(*o));
}
