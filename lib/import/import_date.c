/*
 * When-phrases of plan documents (docs/plan-text.md §4.2): a small
 * recursive-descent reader over normalized text. A phrase is one or two
 * points ("10月17日", "9月", "10月下旬", "“10·17”", "国庆节") joined by a
 * range separator, with a prefix (在 于 自 从 截至) and a modifier (前 左右
 * 前后 底 当天 起 期间). start is the earliest day the text allows, due the
 * latest (inclusive). A phrase that looks like a date but cannot be one
 * (xx月xx日, 2023月, 10日18日, 2月30日) is UNRESOLVED, kept as written.
 */
#include <stdlib.h>
#include <string.h>

#include "campaign/import.h"
#include "campaign/xmalloc.h"
#include "import_priv.h"

enum prec { P_NONE, P_MONTH, P_PART, P_DAY };

struct point {
	int year;               /* as written; 0 = campaign year; -1 = placeholder */
	int yoff;
	int month;              /* 0: none yet (a day that continues a range) */
	int lo, hi;             /* day span within the month (hi 0 = month end) */
	enum prec prec;
	bool month_end;         /* 底/末 */
	const struct imp_named_day *named;
	bool named_word;        /* 国庆节 (a word) rather than 10·17 (digits) */
	const char *why;        /* set: unresolved */
};

enum modifier { MOD_NONE, MOD_BY, MOD_AROUND, MOD_ON, MOD_FROM, MOD_DURING };

static bool
at_sep(const char *p, size_t *n)
{
	static const char *const seps[] = {
		"至", "到", "—", "–", "―", "－", "~", "～", "〜", "-", "‐", "‑", "−",
	};

	for (size_t i = 0; i < sizeof(seps) / sizeof(seps[0]); i++) {
		if (imp_starts(p, seps[i])) {
			*n = strlen(seps[i]);
			/* "——" is written as one dash. */
			if (imp_starts(p + *n, seps[i]) && strcmp(seps[i], "—") == 0)
				*n += strlen(seps[i]);
			return true;
		}
	}
	return false;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* What may follow a day written without 日 ("10月17前", "6月1至30日"). */
static bool
day_may_end(const char *p)
{
	static const char *const ok[] = {
		"前", "之前", "以前", "左右", "前后", "当天", "当日", "起", "开始", ",", "，",
		"。", ";", "、", " ", ")", "(", "截止",
	};
	size_t n;

	if (*p == '\0' || at_sep(p, &n))
		return true;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (imp_starts(p, ok[i]))
			return true;
	return false;
}

/* 2024年, 20xx年, 二〇二四年, 次年. */
static bool
read_year(const char **pp, struct point *pt)
{
	const char *p = *pp;
	enum imp_num_kind kind;
	int v;
	size_t n;

	if (imp_eat(&p, "次年") || imp_eat(&p, "翌年") || imp_eat(&p, "明年")) {
		pt->yoff = 1;
		*pp = p;
		return true;
	}
	if (imp_eat(&p, "今年") || imp_eat(&p, "当年") || imp_eat(&p, "本年")) {
		*pp = p;
		return true;
	}
	n = imp_number(p, &v, &kind);
	if (n == 0 || !imp_starts(p + n, "年"))
		return false;
	if (kind == IMP_NUM_PLACEHOLDER) {
		pt->year = -1;
	} else if (v >= 1900 && v <= 2100) {
		pt->year = v;
	} else if (kind == IMP_NUM_ARABIC && n == 2) {
		pt->year = 2000 + v; /* "24年" */
	} else {
		return false;
	}
	*pp = p + n + strlen("年");
	return true;
}

/* 上旬 中旬 下旬 中下旬 上中旬 初 中 底 末 after a month. */
static bool
read_part(const char **pp, struct point *pt)
{
	static const struct { const char *word; int lo, hi; bool end; } parts[] = {
		{ "中下旬", 11, 0, false }, { "上中旬", 1, 20, false },
		{ "上旬", 1, 10, false }, { "中旬", 11, 20, false }, { "下旬", 21, 0, false },
		{ "月初", 1, 10, false }, { "月底", 0, 0, true }, { "月末", 0, 0, true },
		{ "初", 1, 10, false }, { "底", 0, 0, true },
		{ "末", 0, 0, true },
	};
	const char *p = *pp;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (imp_eat(&p, parts[i].word)) {
			pt->lo = parts[i].lo, pt->hi = parts[i].hi;
			pt->month_end = parts[i].end;
			pt->prec = P_PART;
			*pp = p;
			return true;
		}
	}
	/* "10月中": the middle of the month, unless 中 starts a word (中国, 中心). */
	if (imp_starts(p, "中")) {
		const char *q = p + strlen("中");

		if (day_may_end(q) && !imp_starts(q, "(")) {
			pt->lo = 11, pt->hi = 20, pt->prec = P_PART;
			*pp = q;
			return true;
		}
	}
	return false;
}

/* A day number after a month (or alone, continuing a range: "至30日"). */
static bool
read_day(const char **pp, struct point *pt, bool need_mark)
{
	const char *p = *pp;
	enum imp_num_kind kind;
	int v;
	size_t n = imp_number(p, &v, &kind);
	bool marked;

	if (n == 0)
		return false;
	p += n;
	marked = imp_eat(&p, "日") || imp_eat(&p, "号");
	if (!marked && (need_mark || kind == IMP_NUM_CHINESE || !day_may_end(p)))
		return false;
	if (kind == IMP_NUM_PLACEHOLDER)
		pt->why = "placeholder day";
	else if (v < 1 || v > 31)
		pt->why = "day out of range";
	pt->lo = pt->hi = v;
	pt->prec = P_DAY;
	*pp = p;
	return true;
}

/* [year] month 月[份] [day | part], or "10·17", or a named day. */
static bool
read_point(const char **pp, struct point *pt, bool continuation)
{
	const char *p = *pp, *q;
	enum imp_num_kind kind;
	int v;
	size_t n;

	memset(pt, 0, sizeof(*pt));
	read_year(&p, pt);
	q = p;
	n = imp_number(q, &v, &kind);
	if (n > 0 && imp_starts(q + n, "月")) {
		q += n + strlen("月");
		imp_eat(&q, "份");
		if (kind == IMP_NUM_PLACEHOLDER)
			pt->why = "placeholder month";
		else if (v < 1 || v > 12)
			pt->why = "month out of range";
		pt->month = v;
		pt->prec = P_MONTH;
		pt->lo = 1, pt->hi = 0;
		p = q;
		if (!read_day(&p, pt, false))
			read_part(&p, pt);
		else if (pt->why == NULL && pt->month >= 1 && pt->month <= 12 &&
		    pt->lo > imp_days_in_month(pt->year > 0 ? pt->year : 2000, pt->month))
			pt->why = "no such day";
		*pp = p;
		return true;
	}
	if (pt->year != 0 || pt->yoff != 0)
		return false; /* a year alone is not a point */
	/* "10·17", "“10.17”" */
	n = imp_number(p, &v, &kind);
	if (n > 0 && kind == IMP_NUM_ARABIC && v >= 1 && v <= 12 &&
	    (imp_starts(p + n, "·") || imp_starts(p + n, "."))) {
		bool dot = p[n] == '.';
		int d;
		size_t m;

		q = p + n + (dot ? 1 : strlen("·"));
		m = imp_number(q, &d, &kind);
		if (m > 0 && kind == IMP_NUM_ARABIC && d >= 1 && d <= 31 && !is_digit(q[m]) &&
		    (!dot || imp_starts(q + m, "”"))) {
			pt->month = v;
			pt->lo = pt->hi = d;
			pt->prec = P_DAY;
			if (d > imp_days_in_month(2000, v))
				pt->why = "no such day";
			*pp = q + m;
			return true;
		}
	}
	if (continuation && read_day(&p, pt, true)) {
		*pp = p;
		return true;
	}
	if (continuation && read_part(&p, pt)) {
		*pp = p;
		return true;
	}
	n = imp_named_day(p, &pt->named);
	if (n > 0) {
		const char *e = p + n;

		imp_eat(&e, "节");
		pt->named_word = true;
		pt->prec = P_DAY;
		*pp = e;
		return true;
	}
	return false;
}

/* (星期五), 上午, 9:00-11:30, 9时30分: kept in the phrase, not in the dates. */
static void
skip_time_of_day(const char **pp)
{
	static const char *const words[] = {
		"上午", "下午", "晚上", "中午", "早上", "全天", "晚",
	};
	const char *p = *pp;

	if (imp_starts(p, "(星期") || imp_starts(p, "(周")) {
		const char *close = strchr(p, ')');

		if (close != NULL && close - p <= 12)
			p = close + 1;
	}
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (imp_eat(&p, words[i]))
			break;
	for (int k = 0; k < 2; k++) {
		const char *q = p;
		size_t n;

		if (!is_digit(*q))
			break;
		while (is_digit(*q))
			q++;
		if (*q == ':' && is_digit(q[1])) {
			q++;
			while (is_digit(*q))
				q++;
		} else if (imp_eat(&q, "时") || imp_eat(&q, "点")) {
			if (is_digit(*q)) {
				while (is_digit(*q))
					q++;
				imp_eat(&q, "分");
			} else {
				imp_eat(&q, "半");
			}
		} else {
			break;
		}
		p = q;
		if (k == 0 && at_sep(p, &n) && is_digit(p[n]))
			p += n;
		else
			break;
	}
	*pp = p;
}

static enum modifier
read_modifier(const char **pp)
{
	static const struct { const char *word; enum modifier mod; } mods[] = {
		{ "前后", MOD_AROUND }, { "左右", MOD_AROUND }, { "期间", MOD_DURING },
		{ "前夕", MOD_BY }, { "之前", MOD_BY }, { "以前", MOD_BY }, { "前", MOD_BY },
		{ "截止", MOD_BY }, { "当天", MOD_ON }, { "当日", MOD_ON },
		{ "起", MOD_FROM }, { "开始", MOD_FROM }, { "以后", MOD_FROM },
		{ "之后", MOD_FROM },
	};

	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++)
		if (imp_eat(pp, mods[i].word))
			return mods[i].mod;
	return MOD_NONE;
}

/* The day span of a point in year y (0 unknown). False: cannot be dated. */
static bool
span(const struct point *pt, int y, int *m, int *lo, int *hi)
{
	int year = pt->year > 0 ? pt->year : y;

	if (year > 0)
		year += pt->yoff;

	if (pt->named != NULL) {
		if (!imp_named_day_date(pt->named, year, m, lo))
			return false;
		*hi = *lo + pt->named->span_days - 1;
		if (*hi > imp_days_in_month(year, *m))
			*hi = imp_days_in_month(year, *m);
		return true;
	}
	*m = pt->month;
	if (*m < 1 || *m > 12)
		return true; /* the caller reports an incomplete date */
	*lo = pt->month_end ? imp_days_in_month(year, *m) : pt->lo;
	*hi = pt->hi == 0 ? imp_days_in_month(year, *m) : pt->hi;
	return true;
}

static void
set_day(struct import_day *d, const struct point *pt, int month, int day)
{
	d->year = pt->year > 0 ? pt->year : 0;
	d->year_offset = pt->yoff;
	d->month = month;
	d->day = day;
}

static void
unresolved(struct import_when *w, const char *why)
{
	w->kind = IMPORT_WHEN_UNRESOLVED;
	memset(&w->start, 0, sizeof(w->start));
	memset(&w->due, 0, sizeof(w->due));
	w->fuzzy = true;
	w->why = why;
}

/* Turns one or two points and a modifier into kind, start, due, fuzzy. */
static void
resolve(struct import_when *w, struct point *a, struct point *b, enum modifier mod,
    int year)
{
	int am = 0, alo = 0, ahi = 0, bm = 0, blo = 0, bhi = 0;

	if (a->why != NULL || (b != NULL && b->why != NULL)) {
		unresolved(w, a->why != NULL ? a->why : b->why);
		return;
	}
	if (!span(a, year, &am, &alo, &ahi)) {
		unresolved(w, "needs the campaign year");
		return;
	}
	if (am < 1 || am > 12) {
		unresolved(w, "incomplete date");
		return;
	}
	w->fuzzy = a->prec != P_DAY || a->month_end;
	if (b != NULL) {
		if (b->month == 0 && b->named == NULL)
			b->month = a->month, b->year = a->year, b->yoff = a->yoff;
		if (b->year == 0 && a->year > 0)
			b->year = a->year;
		/* 11月25日至1月: into the next year (before the month end is computed). */
		if (b->named == NULL && b->yoff == a->yoff && b->year == a->year &&
		    (b->month < am || (b->month == am && b->prec == P_DAY && b->hi < alo)))
			b->yoff = a->yoff + 1;
		if (!span(b, year, &bm, &blo, &bhi)) {
			unresolved(w, "needs the campaign year");
			return;
		}
		if (bm < 1 || bm > 12) {
			unresolved(w, "incomplete date");
			return;
		}
		if (b->named != NULL && b->yoff == a->yoff && b->year == a->year &&
		    (bm < am || (bm == am && bhi < alo)))
			b->yoff = a->yoff + 1;
		w->kind = IMPORT_WHEN_RANGE;
		w->fuzzy = w->fuzzy || b->prec != P_DAY || b->month_end;
		set_day(&w->start, a, am, alo);
		set_day(&w->due, b, bm, bhi);
		if (w->due.year > 0 && w->start.year > w->due.year)
			unresolved(w, "range ends before it starts");
		return;
	}
	switch (mod) {
	case MOD_BY:
		w->kind = IMPORT_WHEN_BY;
		w->fuzzy = false;
		if (a->named_word) {
			/* 国庆节前: the day before the holiday. */
			if (--alo < 1) {
				if (--am < 1)
					am = 12, a->yoff--;
				alo = imp_days_in_month(year, am);
			}
			set_day(&w->due, a, am, alo);
		} else if (a->prec == P_MONTH) {
			/* 10月前: by the end of September. */
			if (--am < 1)
				am = 12, a->yoff--;
			set_day(&w->due, a, am, imp_days_in_month(year, am));
		} else {
			set_day(&w->due, a, am, ahi);
		}
		return;
	case MOD_FROM:
		w->kind = IMPORT_WHEN_RANGE;
		set_day(&w->start, a, am, alo);
		return;
	case MOD_AROUND:
	case MOD_DURING:
		w->kind = a->prec == P_DAY ? IMPORT_WHEN_AROUND : IMPORT_WHEN_PERIOD;
		w->fuzzy = true;
		break;
	case MOD_ON:
	case MOD_NONE:
		if (a->prec == P_DAY)
			w->kind = IMPORT_WHEN_ON;
		else if (a->month_end)
			w->kind = IMPORT_WHEN_AROUND;
		else
			w->kind = IMPORT_WHEN_PERIOD;
		if (a->named_word)
			ahi = alo; /* 国庆节当天: the day itself */
		break;
	}
	set_day(&w->start, a, am, alo);
	set_day(&w->due, a, am, ahi);
}

/* 每月20日, 每周五, 每月第一周星期五: recurring, no single date. */
static size_t
try_recurring(const char *s, struct import_when *w)
{
	static const char *const weekdays[] = {
		"一", "二", "三", "四", "五", "六", "日", "天", "末",
	};
	const char *p = s;
	bool weekly = false;

	if (imp_eat(&p, "每周") || imp_eat(&p, "每星期")) {
		weekly = true;
	} else if (imp_eat(&p, "每月")) {
		struct point pt = { 0 };
		enum imp_num_kind kind;
		int v;
		size_t n;

		if (read_day(&p, &pt, true)) {
			imp_eat(&p, "前");
			goto found;
		}
		if (imp_eat(&p, "底") || imp_eat(&p, "末"))
			goto found;
		if (!imp_eat(&p, "第") || (n = imp_number(p, &v, &kind)) == 0)
			return 0;
		p += n;
		imp_eat(&p, "个");
		if (!imp_eat(&p, "周") && !imp_eat(&p, "星期"))
			return 0;
		weekly = true;
	} else {
		return 0;
	}
	if (weekly) {
		const char *q = p;
		bool named = imp_eat(&q, "星期") || imp_eat(&q, "周");
		size_t i;

		for (i = 0; i < sizeof(weekdays) / sizeof(weekdays[0]); i++)
			if (imp_eat(&q, weekdays[i]))
				break;
		if (i == sizeof(weekdays) / sizeof(weekdays[0]))
			return 0;
		(void)named;
		p = q;
	}
found:
	w->kind = IMPORT_WHEN_RECURRING;
	w->fuzzy = false;
	return (size_t)(p - s);
}

/* X月第N个星期日 [(X月D日)]: an nth weekday; computed when the year is known. */
static size_t
try_nth_weekday(const char *s, int year, struct import_when *w)
{
	static const char *const days[] = { "一", "二", "三", "四", "五", "六", "日", "天" };
	const char *p = s;
	enum imp_num_kind kind;
	int month, nth, wd = -1;
	size_t n = imp_number(p, &month, &kind);

	if (n == 0 || kind == IMP_NUM_PLACEHOLDER || !imp_starts(p + n, "月"))
		return 0;
	p += n + strlen("月");
	imp_eat(&p, "份");
	imp_eat(&p, "的");
	if (!imp_eat(&p, "第"))
		return 0;
	n = imp_number(p, &nth, &kind);
	if (n == 0 || nth < 1 || nth > 5)
		return 0;
	p += n;
	imp_eat(&p, "个");
	if (!imp_eat(&p, "星期") && !imp_eat(&p, "周"))
		return 0;
	for (int i = 0; i < 8; i++) {
		if (imp_eat(&p, days[i])) {
			wd = i < 7 ? i + 1 : 7;
			break;
		}
	}
	if (wd < 0 || month < 1 || month > 12)
		return 0;
	if (*p == '(') {
		struct import_when inner;
		const char *close = strchr(p, ')');

		if (close != NULL && close - p < 40) {
			char *copy = xstrndup(p + 1, (size_t)(close - p - 1));
			bool ok = import_when_find(copy, year, &inner) && inner.at == 0 &&
			    inner.kind == IMPORT_WHEN_ON;

			free(copy);
			if (ok) {
				inner.at = 0;
				*w = inner;
				return (size_t)(close + 1 - s);
			}
		}
	}
	if (year <= 0) {
		unresolved(w, "an nth weekday needs the campaign year");
		return (size_t)(p - s);
	}
	{
		struct imp_named_day nd = { .month = month, .nth_week = nth, .weekday = wd,
			.lunar = -1, .span_days = 1 };
		int m, d;

		imp_named_day_date(&nd, year, &m, &d);
		if (d > imp_days_in_month(year, m)) {
			unresolved(w, "no such weekday");
		} else {
			w->kind = IMPORT_WHEN_ON;
			w->start = w->due = (struct import_day){ .month = m, .day = d };
		}
	}
	return (size_t)(p - s);
}

/* 年底前, 2024年底, 年内, 全年, 上半年. */
static size_t
try_year_wide(const char *s, struct import_when *w)
{
	static const struct { const char *word; int m1, d1, m2, d2; enum import_when_kind k;
	    bool fuzzy; } words[] = {
		{ "年底前", 0, 0, 12, 31, IMPORT_WHEN_BY, false },
		{ "年末前", 0, 0, 12, 31, IMPORT_WHEN_BY, false },
		{ "年底", 12, 31, 12, 31, IMPORT_WHEN_AROUND, true },
		{ "年末", 12, 31, 12, 31, IMPORT_WHEN_AROUND, true },
		{ "上半年", 1, 1, 6, 30, IMPORT_WHEN_PERIOD, true },
		{ "下半年", 7, 1, 12, 31, IMPORT_WHEN_PERIOD, true },
		{ "年内", 1, 1, 12, 31, IMPORT_WHEN_PERIOD, true },
		{ "全年", 1, 1, 12, 31, IMPORT_WHEN_PERIOD, true },
	};
	const char *p = s;
	struct point pt;

	memset(&pt, 0, sizeof(pt));
	if (read_year(&p, &pt))
		p -= strlen("年"); /* "2024年底前" reads on from its 年 */
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		const char *q = p;

		if (!imp_eat(&q, words[i].word))
			continue;
		w->kind = words[i].k;
		w->fuzzy = words[i].fuzzy;
		w->start = (struct import_day){ .year = pt.year > 0 ? pt.year : 0,
			.year_offset = pt.yoff, .month = words[i].m1, .day = words[i].d1 };
		w->due = (struct import_day){ .year = pt.year > 0 ? pt.year : 0,
			.year_offset = pt.yoff, .month = words[i].m2, .day = words[i].d2 };
		w->year_placeholder = pt.year < 0;
		return (size_t)(q - s);
	}
	return 0;
}

static size_t
try_words(const char *s, struct import_when *w)
{
	static const struct { const char *word; enum import_when_kind kind; } words[] = {
		{ "另行通知", IMPORT_WHEN_TBD }, { "时间另定", IMPORT_WHEN_TBD },
		{ "另行安排", IMPORT_WHEN_TBD }, { "待定", IMPORT_WHEN_TBD },
		{ "另定", IMPORT_WHEN_TBD }, { "择期", IMPORT_WHEN_TBD },
		{ "宣传教育日期间", IMPORT_WHEN_CAMPAIGN }, { "活动期间", IMPORT_WHEN_CAMPAIGN },
		{ "宣传周期间", IMPORT_WHEN_CAMPAIGN }, { "宣传月期间", IMPORT_WHEN_CAMPAIGN },
		{ "活动周期间", IMPORT_WHEN_CAMPAIGN }, { "宣传日期间", IMPORT_WHEN_CAMPAIGN },
		{ "宣传期间", IMPORT_WHEN_CAMPAIGN },
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (imp_starts(s, words[i].word)) {
			w->kind = words[i].kind;
			w->fuzzy = true;
			return strlen(words[i].word);
		}
	}
	return 0;
}

/* A garbled day pair "10日18日前": 日 typed for 月; kept, not guessed. */
static size_t
try_typo(const char *s, struct import_when *w)
{
	const char *p = s;
	enum imp_num_kind kind;
	int v;
	size_t n = imp_number(p, &v, &kind);

	if (n == 0 || kind != IMP_NUM_ARABIC)
		return 0;
	p += n;
	if (imp_eat(&p, "日")) {
		n = imp_number(p, &v, &kind);
		if (n == 0 || kind != IMP_NUM_ARABIC || !imp_starts(p + n, "日"))
			return 0;
		p += n + strlen("日");
	} else if (!imp_eat(&p, "上旬") && !imp_eat(&p, "中旬") && !imp_eat(&p, "下旬")) {
		return 0; /* "10中旬": 月 is missing */
	}
	read_modifier(&p);
	unresolved(w, "garbled date");
	return (size_t)(p - s);
}

/* The phrase starting exactly at s, if any; its length. */
static size_t
match_at(const char *s, int year, struct import_when *w)
{
	const char *p = s, *range_end;
	struct point a, b;
	enum modifier mod;
	bool from_now = false;
	size_t n;

	memset(w, 0, sizeof(*w));
	if ((n = try_recurring(s, w)) > 0 || (n = try_nth_weekday(s, year, w)) > 0 ||
	    (n = try_words(s, w)) > 0 || (n = try_year_wide(s, w)) > 0 ||
	    (n = try_typo(s, w)) > 0)
		return n;
	memset(w, 0, sizeof(*w));
	if (imp_eat(&p, "即日起")) {
		from_now = true;
		memset(&a, 0, sizeof(a));
	} else {
		imp_eat(&p, "“");
		if (!read_point(&p, &a, false)) {
			/* "9-10月", "9、10月份": a month range with a bare first month. */
			enum imp_num_kind kind;
			int v;
			const char *q = p;

			n = imp_number(q, &v, &kind);
			if (n == 0 || kind != IMP_NUM_ARABIC || v < 1 || v > 12)
				return 0;
			q += n;
			if (!at_sep(q, &n) && !imp_starts(q, "、"))
				return 0;
			q += at_sep(q, &n) ? n : strlen("、");
			if (!read_point(&q, &b, false) || b.prec != P_MONTH || b.named != NULL)
				return 0;
			memset(&a, 0, sizeof(a));
			a.month = v, a.lo = 1, a.hi = 0, a.prec = P_MONTH;
			a.year = b.year;
			p = q;
			imp_eat(&p, "前");
			resolve(w, &a, &b, MOD_NONE, year);
			w->year_placeholder = b.year < 0;
			return (size_t)(p - s);
		}
		if (a.prec == P_DAY && !a.named_word)
			skip_time_of_day(&p);
		imp_eat(&p, "”");
	}
	/* A range: [起] separator second point. */
	range_end = p;
	imp_eat(&range_end, "起");
	if (at_sep(range_end, &n) || from_now) {
		const char *q = range_end + (from_now ? 0 : n);

		imp_eat(&q, "至");
		if (read_point(&q, &b, true)) {
			if (b.prec == P_DAY && !b.named_word)
				skip_time_of_day(&q);
			p = q;
			mod = read_modifier(&p);
			if (mod != MOD_BY && mod != MOD_NONE)
				p = q; /* "9月至10月左右" is not a modifier of the range */
			if (from_now) {
				int bm, blo, bhi;

				if (b.why != NULL || !span(&b, year, &bm, &blo, &bhi)) {
					unresolved(w, b.why != NULL ? b.why : "needs the campaign year");
				} else {
					w->kind = IMPORT_WHEN_RANGE;
					w->fuzzy = b.prec != P_DAY || b.month_end;
					set_day(&w->due, &b, bm, bhi);
				}
			} else {
				resolve(w, &a, &b, MOD_NONE, year);
			}
			w->year_placeholder = a.year < 0 || b.year < 0;
			return (size_t)(p - s);
		}
		if (from_now)
			return 0;
	}
	mod = read_modifier(&p);
	if (mod == MOD_NONE && a.named != NULL && a.named_word &&
	    strstr(a.named->name, "月") == NULL)
		return 0; /* "开展扶贫日活动": a name, not a date (正月十五 is one) */
	resolve(w, &a, NULL, mod, year);
	w->year_placeholder = a.year < 0;
	return (size_t)(p - s);
}

static bool
boundary_before(const char *text, size_t off)
{
	char c;

	if (off == 0)
		return true;
	c = text[off - 1];
	return !is_digit(c) && c != 'x' && c != 'X' && c != '_' && c != '.';
}

/* Extends a match backwards over 在 于 自 从 截至 截止 到, and marks deadlines. */
static void
take_prefix(const char *text, struct import_when *w)
{
	static const char *const prefixes[] = {
		"截止到", "截至", "截止", "在", "于", "自", "从", "到", "农历",
	};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i]);

		if (w->at >= n && strncmp(text + w->at - n, prefixes[i], n) == 0) {
			w->at -= n;
			w->len += n;
			if (strcmp(prefixes[i], "农历") == 0 && w->kind != IMPORT_WHEN_UNRESOLVED &&
			    !(w->len > n && imp_starts(text + w->at + n, "八月十五"))) {
				const char *end = text + w->at + w->len;
				int v;

				/* 农历七月十五: a lunar day this table does not know. */
				imp_eat(&end, "初");
				end += imp_cn_numeral(end, &v);
				w->len = (size_t)(end - (text + w->at));
				unresolved(w, "lunar date");
			}
			if ((imp_starts(prefixes[i], "截") || strcmp(prefixes[i], "到") == 0) &&
			    (w->kind == IMPORT_WHEN_ON || w->kind == IMPORT_WHEN_PERIOD ||
			    w->kind == IMPORT_WHEN_AROUND)) {
				w->kind = IMPORT_WHEN_BY;
				w->fuzzy = false;
				memset(&w->start, 0, sizeof(w->start));
			}
			return;
		}
	}
}

static bool
weak(const struct import_when *w)
{
	return w->kind == IMPORT_WHEN_TBD || w->kind == IMPORT_WHEN_CAMPAIGN ||
	    (w->kind == IMPORT_WHEN_PERIOD && w->start.month == 1 && w->due.month >= 6 &&
	    w->start.day == 1 && w->due.day >= 30);
}

/* Cheap filter: can a phrase start with the character at s? */
static bool
may_start(const char *s)
{
	/* Numerals, placeholders, quotes, keywords and named days' first characters. */
	static const char starts[] =
	    "一二三四五六七八九十〇○零两×□每另时待择宣活年上下全次翌明今当本即“"
	    "国扶世宪消防学植安元劳五青建妇儿教清春端七中重正农八九";
	char enc[5];
	size_t n;

	if ((*s >= '0' && *s <= '9') || *s == 'x' || *s == 'X' || *s == '_' || *s == '*')
		return true;
	if ((unsigned char)*s < 0x80)
		return false;
	n = imp_cplen(s);
	if (n < 2 || n > 4)
		return false;
	memcpy(enc, s, n);
	enc[n] = '\0';
	return strstr(starts, enc) != NULL;
}

bool
import_when_find(const char *text, int year, struct import_when *out)
{
	struct import_when fallback = { .kind = IMPORT_WHEN_NONE };
	size_t len = strlen(text);

	for (size_t off = 0; off < len; off += imp_cplen(text + off)) {
		struct import_when w;
		size_t n;

		if (!boundary_before(text, off) || !may_start(text + off))
			continue;
		n = match_at(text + off, year, &w);
		if (n == 0 || w.kind == IMPORT_WHEN_NONE)
			continue;
		w.at = off, w.len = n;
		take_prefix(text, &w);
		if (!weak(&w)) {
			*out = w;
			return true;
		}
		if (fallback.kind == IMPORT_WHEN_NONE)
			fallback = w;
		off += n - imp_cplen(text + off);
	}
	*out = fallback;
	return fallback.kind != IMPORT_WHEN_NONE;
}

bool
import_when_dated(const struct import_when *w)
{
	return w->kind == IMPORT_WHEN_ON || w->kind == IMPORT_WHEN_BY ||
	    w->kind == IMPORT_WHEN_AROUND || w->kind == IMPORT_WHEN_PERIOD ||
	    w->kind == IMPORT_WHEN_RANGE;
}

const char *
import_when_kind_name(enum import_when_kind kind)
{
	static const char *const names[] = {
		"none", "on", "by", "around", "period", "range", "recurring", "campaign",
		"tbd", "unresolved",
	};

	return (unsigned)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}
