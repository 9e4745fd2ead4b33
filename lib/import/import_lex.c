/*
 * Lexical pieces the importer's parsers share: code-point stepping, numbers as
 * plans write them (10, １０ after folding, 十七, 二〇二四, 20xx, ××), and the
 * named days with their dates (fixed, lunar or "third Sunday of May"), with
 * the ordinal bases that give a year ("第四个扶贫日" = 2017).
 */
#include <string.h>

#include "campaign/caldate.h"
#include "campaign/utf8.h"
#include "import_priv.h"

size_t
imp_cplen(const char *s)
{
	uint32_t cp;
	size_t n;

	if (*s == '\0')
		return 0;
	n = utf8_decode(s, strnlen(s, 4), &cp);
	return n == 0 ? 1 : n;
}

uint32_t
imp_cp(const char *s)
{
	uint32_t cp;

	if (*s == '\0')
		return 0;
	return utf8_decode(s, strnlen(s, 4), &cp) == 0 ? 0xfffd : cp;
}

bool
imp_starts(const char *s, const char *lit)
{
	return strncmp(s, lit, strlen(lit)) == 0;
}

bool
imp_eat(const char **p, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}

size_t
imp_prev(const char *s, size_t off)
{
	if (off == 0)
		return 0;
	off--;
	while (off > 0 && ((unsigned char)s[off] & 0xc0) == 0x80)
		off--;
	return off;
}

/* Value of a Chinese digit character at s (零〇○ 0, 一..九, 两 2), or -1. */
static int
cn_digit(const char *s, size_t *n)
{
	uint32_t cp;

	if ((unsigned char)*s < 0xe2)
		return -1; /* every one of them is a 3-byte sequence from U+25CB on */
	cp = imp_cp(s);
	*n = 3;
	switch (cp) {
	case 0x96f6: case 0x3007: case 0x25cb: return 0; /* 零 〇 ○ */
	case 0x4e00: return 1; /* 一 */
	case 0x4e8c: case 0x4e24: return 2; /* 二 两 */
	case 0x4e09: return 3; /* 三 */
	case 0x56db: return 4; /* 四 */
	case 0x4e94: return 5; /* 五 */
	case 0x516d: return 6; /* 六 */
	case 0x4e03: return 7; /* 七 */
	case 0x516b: return 8; /* 八 */
	case 0x4e5d: return 9; /* 九 */
	default: return -1;
	}
}

size_t
imp_cn_numeral(const char *s, int *value)
{
	const char *p = s;
	size_t n;
	int tens = 0, units, v;

	/* 十, 十七, 二十, 二十一, 七 */
	v = cn_digit(p, &n);
	if (v > 0) {
		p += n;
		if (!imp_eat(&p, "十")) {
			*value = v;
			return (size_t)(p - s);
		}
		tens = v;
	} else if (imp_eat(&p, "十")) {
		tens = 1;
	} else {
		return 0;
	}
	units = cn_digit(p, &n);
	if (units > 0)
		p += n;
	else
		units = 0;
	*value = tens * 10 + units;
	return (size_t)(p - s);
}

static bool
is_placeholder_char(const char *s, size_t *n)
{
	if (*s == 'x' || *s == 'X' || *s == '_') {
		*n = 1;
		return true;
	}
	if (imp_starts(s, "×") || imp_starts(s, "Ｘ") || imp_starts(s, "□") ||
	    imp_starts(s, "*")) {
		*n = imp_cplen(s);
		return true;
	}
	return false;
}

size_t
imp_number(const char *s, int *value, enum imp_num_kind *kind)
{
	const char *p = s;
	size_t n;
	int v = 0, digits = 0, marks = 0;

	*kind = IMP_NUM_NONE;
	/* Arabic digits, maybe followed by placeholder marks (20xx, 2__). */
	while (*p >= '0' && *p <= '9' && digits < 5)
		v = v * 10 + (*p++ - '0'), digits++;
	if (digits == 5)
		return 0;
	while (digits + marks < 4 && is_placeholder_char(p, &n))
		p += n, marks++;
	if (marks > 0) {
		/* "xx" needs two marks: one "x" is usually a letter. */
		if (digits + marks < 2)
			return 0;
		*value = -1;
		*kind = IMP_NUM_PLACEHOLDER;
		return (size_t)(p - s);
	}
	if (digits > 0) {
		*value = v;
		*kind = IMP_NUM_ARABIC;
		return (size_t)(p - s);
	}
	/* 二〇二四: four digit characters in a row are a year. */
	{
		const char *q = s;
		int y = 0, k;

		for (k = 0; k < 4; k++) {
			int d = cn_digit(q, &n);

			if (d < 0)
				break;
			y = y * 10 + d;
			q += n;
		}
		if (k == 4) {
			*value = y;
			*kind = IMP_NUM_CHINESE;
			return (size_t)(q - s);
		}
	}
	n = imp_cn_numeral(s, value);
	if (n > 0)
		*kind = IMP_NUM_CHINESE;
	return n;
}

int
imp_days_in_month(int year, int month)
{
	/* Unknown year: a non-leap year (docs/plan-text.md §4.2). */
	return caldate_days_in_month(year > 0 ? year : 2001, month);
}

/*
 * Lunar festivals, solar MMDD per year: 春节 元宵 端午 七夕 中秋 重阳.
 * Generated with Debian's `lunar` (lunar -i Y M D) and spot-checked.
 */
enum { LUNAR_SPRING, LUNAR_LANTERN, LUNAR_DRAGON, LUNAR_QIXI, LUNAR_MOON, LUNAR_DOUBLE9 };

static const short lunar_table[][7] = {
	{ 2010, 214, 228, 616, 816, 922, 1016 },
	{ 2011, 203, 217, 606, 806, 912, 1005 },
	{ 2012, 123, 206, 623, 823, 930, 1023 },
	{ 2013, 210, 224, 612, 813, 919, 1013 },
	{ 2014, 131, 214, 602, 802, 908, 1002 },
	{ 2015, 219, 305, 620, 820, 927, 1021 },
	{ 2016, 208, 222, 609, 809, 915, 1009 },
	{ 2017, 128, 211, 530, 828, 1004, 1028 },
	{ 2018, 216, 302, 618, 817, 924, 1017 },
	{ 2019, 205, 219, 607, 807, 913, 1007 },
	{ 2020, 125, 208, 625, 825, 1001, 1025 },
	{ 2021, 212, 226, 614, 814, 921, 1014 },
	{ 2022, 201, 215, 603, 804, 910, 1004 },
	{ 2023, 122, 205, 622, 822, 929, 1023 },
	{ 2024, 210, 224, 610, 810, 917, 1011 },
	{ 2025, 129, 212, 531, 829, 1006, 1029 },
	{ 2026, 217, 303, 619, 819, 925, 1018 },
	{ 2027, 206, 220, 609, 808, 915, 1008 },
	{ 2028, 126, 209, 528, 826, 1003, 1026 },
	{ 2029, 213, 227, 616, 816, 922, 1016 },
	{ 2030, 203, 217, 605, 805, 912, 1005 },
	{ 2031, 123, 206, 624, 824, 1001, 1024 },
	{ 2032, 211, 225, 612, 812, 919, 1012 },
	{ 2033, 131, 214, 601, 801, 908, 1001 },
	{ 2034, 219, 305, 620, 820, 927, 1020 },
	{ 2035, 208, 222, 610, 810, 916, 1009 },
	{ 2036, 128, 211, 530, 828, 1004, 1027 },
	{ 2037, 215, 301, 618, 817, 924, 1017 },
	{ 2038, 204, 218, 607, 807, 913, 1007 },
	{ 2039, 124, 207, 527, 826, 1002, 1026 },
	{ 2040, 212, 226, 614, 814, 920, 1014 },
};

static const struct imp_named_day named_days[] = {
	/* name           m   d  lunar            nth wd span base key */
	{ "国际消除贫困日", 10, 17, -1, 0, 0, 1, 1992, true },
	{ "国家扶贫日",     10, 17, -1, 0, 0, 1, 2013, true },
	{ "扶贫日",         10, 17, -1, 0, 0, 1, 2013, true },
	{ "全民国家安全教育日", 4, 15, -1, 0, 0, 1, 2015, true },
	{ "国家安全教育日", 4, 15, -1, 0, 0, 1, 2015, true },
	{ "世界艾滋病日",   12, 1, -1, 0, 0, 1, 1987, true },
	{ "国家宪法日",     12, 4, -1, 0, 0, 1, 0, true },
	{ "宪法日",         12, 4, -1, 0, 0, 1, 0, true },
	{ "全国消防日",     11, 9, -1, 0, 0, 1, 0, true },
	{ "消防日",         11, 9, -1, 0, 0, 1, 0, true },
	{ "防灾减灾日",     5, 12, -1, 0, 0, 1, 0, true },
	{ "国际禁毒日",     6, 26, -1, 0, 0, 1, 1987, true },
	{ "世界读书日",     4, 23, -1, 0, 0, 1, 0, true },
	{ "学雷锋日",       3, 5, -1, 0, 0, 1, 0, true },
	{ "植树节",         3, 12, -1, 0, 0, 1, 0, true },
	{ "消费者权益日",   3, 15, -1, 0, 0, 1, 0, true },
	{ "安全生产宣传咨询日", 6, 16, -1, 0, 0, 1, 0, true },
	{ "安全生产月",     6, 1, -1, 0, 0, 30, 2001, true },
	{ "全民国防教育日", 9, 0, -1, 3, 6, 1, 2000, true },
	{ "全国助残日",     5, 0, -1, 3, 7, 1, 0, true },
	{ "国庆节",         10, 1, -1, 0, 0, 7, 0, false },
	{ "国庆",           10, 1, -1, 0, 0, 7, 0, false },
	{ "元旦",           1, 1, -1, 0, 0, 1, 0, false },
	{ "劳动节",         5, 1, -1, 0, 0, 1, 0, false },
	{ "五一",           5, 1, -1, 0, 0, 1, 0, false },
	{ "青年节",         5, 4, -1, 0, 0, 1, 0, false },
	{ "建党节",         7, 1, -1, 0, 0, 1, 0, false },
	{ "建军节",         8, 1, -1, 0, 0, 1, 0, false },
	{ "妇女节",         3, 8, -1, 0, 0, 1, 0, false },
	{ "儿童节",         6, 1, -1, 0, 0, 1, 0, false },
	{ "教师节",         9, 10, -1, 0, 0, 1, 0, false },
	{ "清明节",         4, 5, -1, 0, 0, 1, 0, false },
	{ "春节",           0, 0, LUNAR_SPRING, 0, 0, 1, 0, false },
	{ "元宵节",         0, 0, LUNAR_LANTERN, 0, 0, 1, 0, false },
	{ "元宵",           0, 0, LUNAR_LANTERN, 0, 0, 1, 0, false },
	{ "端午节",         0, 0, LUNAR_DRAGON, 0, 0, 1, 0, false },
	{ "端午",           0, 0, LUNAR_DRAGON, 0, 0, 1, 0, false },
	{ "七夕",           0, 0, LUNAR_QIXI, 0, 0, 1, 0, false },
	{ "中秋节",         0, 0, LUNAR_MOON, 0, 0, 1, 0, false },
	{ "中秋",           0, 0, LUNAR_MOON, 0, 0, 1, 0, false },
	{ "重阳节",         0, 0, LUNAR_DOUBLE9, 0, 0, 1, 0, false },
	{ "重阳",           0, 0, LUNAR_DOUBLE9, 0, 0, 1, 0, false },
	{ "正月初一",       0, 0, LUNAR_SPRING, 0, 0, 1, 0, false },
	{ "正月十五",       0, 0, LUNAR_LANTERN, 0, 0, 1, 0, false },
	{ "五月初五",       0, 0, LUNAR_DRAGON, 0, 0, 1, 0, false },
	{ "七月初七",       0, 0, LUNAR_QIXI, 0, 0, 1, 0, false },
	{ "农历八月十五",   0, 0, LUNAR_MOON, 0, 0, 1, 0, false },
	{ "九月初九",       0, 0, LUNAR_DOUBLE9, 0, 0, 1, 0, false },
};

size_t
imp_named_day(const char *s, const struct imp_named_day **out)
{
	/* The names' first characters: most positions of a text are rejected here. */
	static const char firsts[] = "国扶全世宪消防学植安元劳五青建妇儿教清春端七中重正农九";
	size_t best = 0, n = imp_cplen(s);
	char first[5];

	if (n < 3 || n > 4)
		return 0;
	memcpy(first, s, n);
	first[n] = '\0';
	if (strstr(firsts, first) == NULL)
		return 0;

	for (size_t i = 0; i < sizeof(named_days) / sizeof(named_days[0]); i++) {
		size_t len = strlen(named_days[i].name);

		if (len > best && strncmp(s, named_days[i].name, len) == 0) {
			best = len;
			*out = &named_days[i];
		}
	}
	return best;
}

bool
imp_named_day_date(const struct imp_named_day *nd, int y, int *month, int *day)
{
	if (nd->month > 0 && nd->day > 0) {
		*month = nd->month, *day = nd->day;
		return true;
	}
	if (y < 1900 || y > 9999)
		return false;
	if (nd->lunar >= 0) {
		size_t rows = sizeof(lunar_table) / sizeof(lunar_table[0]);

		if (y < lunar_table[0][0] || y > lunar_table[rows - 1][0])
			return false;
		*month = lunar_table[y - lunar_table[0][0]][1 + nd->lunar] / 100;
		*day = lunar_table[y - lunar_table[0][0]][1 + nd->lunar] % 100;
		return true;
	}
	/* The nth weekday of the month. */
	{
		int32_t first = caldate_from_ymd(y, nd->month, 1);
		int wd = caldate_weekday(first);
		int d = 1 + (nd->weekday - wd + 7) % 7 + 7 * (nd->nth_week - 1);

		*month = nd->month, *day = d;
		return true;
	}
}
