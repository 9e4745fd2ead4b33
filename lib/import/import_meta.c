/*
 * What the document says about itself: its title (or one inferred from the
 * preamble), the theme (活动主题), the named day it is about (the key date),
 * the campaign year (docs/plan-text.md §4.3: explicit date, title or preamble,
 * 第N个扶贫日, document number, then --year) and a plan id from the file name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/utf8.h"
#include "campaign/xmalloc.h"
#include "import_priv.h"

static bool
has_any(const char *s, const char *const *words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(s, words[i]) != NULL)
			return true;
	return false;
}

char *
imp_meta_title(const struct imp_outline *ol)
{
	static const char *const kinds[] = {
		"方案", "计划", "安排", "通知", "意见", "活动", "工作", "预案",
	};
	const char *s;
	size_t chars;

	if (ol->npreamble == 0)
		return NULL;
	s = ol->preamble[0].text;
	chars = utf8_chars(s);
	if (chars < 4 || chars > 80 || strstr(s, "。") != NULL || strstr(s, ",") != NULL ||
	    imp_starts(s, "为") || imp_starts(s, "根据") || imp_starts(s, "按照") ||
	    !has_any(s, kinds, sizeof(kinds) / sizeof(kinds[0])))
		return NULL;
	return xstrdup(s);
}

char *
imp_meta_title_infer(const struct imp_outline *ol, const struct imp_named_day *key,
    const char *stem)
{
	/* "为开展好“扶贫日”活动": the quoted name after 开展. */
	for (size_t i = 0; i < ol->npreamble && i < 3; i++) {
		const char *s = ol->preamble[i].text, *p = strstr(s, "开展");

		if (p != NULL) {
			const char *open, *close;

			p += strlen("开展");
			imp_eat(&p, "好");
			open = p;
			if (imp_eat(&p, "“") && (close = strstr(p, "”")) != NULL &&
			    close - p <= 60) {
				const char *after = close + strlen("”");
				size_t n = (size_t)(after - open);

				if (imp_starts(after, "活动"))
					return xasprintf("%.*s活动方案", (int)n, open);
				return xasprintf("%.*s方案", (int)n, open);
			}
		}
	}
	if (key != NULL)
		return xasprintf("“%s”活动方案", key->name);
	if (stem != NULL && *stem != '\0')
		return xstrdup(stem);
	return xstrdup("活动方案");
}

/* The value of a "主题" line: after the colon, quotes and 。 removed. */
static char *
theme_value(const char *s)
{
	size_t len;

	while (*s == ' ')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '.'))
		len--;
	if (len >= strlen("。") && memcmp(s + len - strlen("。"), "。", strlen("。")) == 0)
		len -= strlen("。");
	if (len > 2 * strlen("“") && imp_starts(s, "“") &&
	    memcmp(s + len - strlen("”"), "”", strlen("”")) == 0) {
		const char *inner = s + strlen("“");
		size_t ilen = len - 2 * strlen("“");

		/* Only one quoted phrase: "“A”与“B”" keeps its quotes. */
		if (memmem(inner, ilen, "“", strlen("“")) == NULL)
			s = inner, len = ilen;
	}
	if (len == 0 || utf8_chars(s) > 80)
		return NULL;
	return xstrndup(s, len);
}

static const char *
after_theme_label(const char *s)
{
	static const char *const labels[] = { "活动主题", "宣传主题", "主题" };

	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		const char *p = s;

		if (imp_eat(&p, labels[i])) {
			if (*p == ':')
				return p + 1;
			if (*p == '\0')
				return p;
		}
	}
	return NULL;
}

char *
imp_meta_theme(const struct imp_outline *ol)
{
	for (size_t i = 0; i < ol->nitems; i++) {
		const struct imp_item *it = &ol->items[i];
		const char *v = after_theme_label(it->head);

		if (v == NULL || it->cls != IMP_CLASS_INFO)
			continue;
		if (*v != '\0')
			return theme_value(v);
		if (it->nbody > 0 && it->leaf) {
			const char *body = it->body[0].text;
			const char *labelled = after_theme_label(body);

			return theme_value(labelled != NULL && *labelled != '\0' ? labelled : body);
		}
	}
	for (size_t i = 0; i < ol->npreamble; i++) {
		const char *v = after_theme_label(ol->preamble[i].text);

		if (v != NULL && *v != '\0')
			return theme_value(v);
	}
	return NULL;
}

/* A four-digit year followed by 年 in s (not 20xx); 0 if none. */
static int
year_in(const char *s)
{
	for (const char *p = s; *p != '\0'; p += imp_cplen(p)) {
		enum imp_num_kind kind;
		int v;
		size_t n;

		if (p > s && p[-1] >= '0' && p[-1] <= '9')
			continue;
		n = imp_number(p, &v, &kind);
		if (n > 0 && kind != IMP_NUM_PLACEHOLDER && v >= 1949 && v <= 2100 &&
		    imp_starts(p + n, "年"))
			return v;
	}
	return 0;
}

/* 第四个扶贫日, 第22个“世界艾滋病日”: the year of that occurrence; 0 if none. */
static int
ordinal_year(const char *s)
{
	for (const char *p = strstr(s, "第"); p != NULL; p = strstr(p + 1, "第")) {
		const char *q = p + strlen("第");
		const struct imp_named_day *nd;
		enum imp_num_kind kind;
		int n;
		size_t len = imp_number(q, &n, &kind);

		if (len == 0 || kind == IMP_NUM_PLACEHOLDER || n < 1 || n > 80)
			continue;
		q += len;
		if (!imp_eat(&q, "个") && !imp_eat(&q, "届"))
			continue;
		imp_eat(&q, "“");
		imp_eat(&q, "全国");
		if (imp_named_day(q, &nd) > 0 && nd->ordinal_base > 0)
			return nd->ordinal_base + n;
	}
	return 0;
}

/* 〔2019〕, [2019], ﹝2019﹞, 【2019】: a document number's year; 0 if none. */
static int
docnum_year(const char *s)
{
	static const char *const opens[] = { "〔", "[", "﹝", "【", "(" };

	for (size_t i = 0; i < sizeof(opens) / sizeof(opens[0]); i++) {
		for (const char *p = strstr(s, opens[i]); p != NULL; p = strstr(p + 1, opens[i])) {
			const char *q = p + strlen(opens[i]);
			int v = 0, digits = 0;

			while (*q >= '0' && *q <= '9' && digits < 5)
				v = v * 10 + (*q++ - '0'), digits++;
			if (digits == 4 && v >= 1949 && v <= 2100 &&
			    (imp_starts(q, "〕") || *q == ']' || imp_starts(q, "﹞") ||
			    imp_starts(q, "】") || *q == ')') && strstr(q, "号") != NULL)
				return v;
		}
	}
	return 0;
}

int
imp_meta_year(const struct imp_doc *doc, const struct imp_outline *ol, int dates_year,
    int opt_year, const char **source, struct imp_notes *notes)
{
	int year = 0, line = 0;

	*source = NULL;
	if (dates_year > 0) {
		year = dates_year, *source = "dates";
	}
	for (size_t i = 0; year == 0 && i < ol->npreamble; i++) {
		if ((year = year_in(ol->preamble[i].text)) > 0)
			*source = i == 0 ? "title" : "preamble", line = ol->preamble[i].line;
	}
	for (size_t i = 0; year == 0 && i < doc->nlines; i++) {
		if ((year = ordinal_year(doc->lines[i].text)) > 0)
			*source = "ordinal of the named day", line = doc->lines[i].no;
	}
	for (size_t i = 0; year == 0 && i < ol->npreamble; i++) {
		if ((year = docnum_year(ol->preamble[i].text)) > 0)
			*source = "document number", line = ol->preamble[i].line;
	}
	if (year == 0 && ol->signature_year > 0)
		year = ol->signature_year, *source = "signature date", line = ol->signature_line;
	if (year > 0 && opt_year > 0 && opt_year != year)
		imp_note(notes, line, line, IMPORT_WARNING, "the document says %d (from the "
		    "%s); --year %d is not used (plan load --year overrides it)", year, *source,
		    opt_year);
	if (year == 0 && opt_year > 0)
		year = opt_year, *source = "--year option";
	return year;
}

static void
count_named(const char *s, size_t *counts, const struct imp_named_day **days, size_t *ndays,
    size_t weight, bool any)
{
	for (const char *p = s; *p != '\0'; p += imp_cplen(p)) {
		const struct imp_named_day *nd;
		size_t k;

		if (imp_named_day(p, &nd) == 0 || (!nd->key && !any))
			continue;
		for (k = 0; k < *ndays; k++)
			if (days[k]->month == nd->month && days[k]->day == nd->day &&
			    days[k]->lunar == nd->lunar && days[k]->nth_week == nd->nth_week)
				break;
		if (k == *ndays) {
			if (*ndays == 16)
				continue;
			days[(*ndays)++] = nd;
		}
		counts[k] += weight;
	}
}

const struct imp_named_day *
imp_meta_key_day(const struct imp_doc *doc, const struct imp_outline *ol)
{
	const struct imp_named_day *days[16];
	size_t counts[16] = { 0 }, ndays = 0, best = 0;
	char *title = imp_meta_title(ol);

	if (title != NULL)
		count_named(title, counts, days, &ndays, 10, true);
	free(title);
	for (size_t i = 0; i < doc->nlines; i++)
		count_named(doc->lines[i].text, counts, days, &ndays, 1, false);
	if (ndays == 0)
		return NULL;
	for (size_t k = 1; k < ndays; k++)
		if (counts[k] > counts[best])
			best = k;
	return days[best];
}

char *
imp_meta_slug(const char *name)
{
	const char *base = name != NULL ? strrchr(name, '/') : NULL;
	const char *dot;
	char *slug;
	size_t n = 0, len;

	base = base != NULL ? base + 1 : name != NULL ? name : "";
	dot = strrchr(base, '.');
	len = dot != NULL && dot != base ? (size_t)(dot - base) : strlen(base);
	slug = xmalloc(len + 1);
	for (size_t i = 0; i < len && n < 32; i++) {
		char c = base[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '.')
			slug[n++] = c;
		else if (n > 0 && slug[n - 1] != '-')
			slug[n++] = '-';
	}
	while (n > 0 && (slug[n - 1] == '-' || slug[n - 1] == '.'))
		n--;
	slug[n] = '\0';
	if (n == 0) {
		free(slug);
		slug = xstrdup("plan");
	}
	return slug;
}
