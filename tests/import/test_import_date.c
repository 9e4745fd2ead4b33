/*
 * The when-phrase parser against every row of the date table in
 * docs/plan-text.md §4.2 (examples from real plans), plus the
 * lookalikes that must not be dates. Each case: text, campaign year (0 =
 * unknown), the phrase found, its kind, start, due ("MM-DD", or "YYYY-MM-DD"
 * when a year applies; NULL = open) and fuzzy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "campaign/import.h"

struct date_case {
	const char *text;
	int year;
	const char *phrase;
	enum import_when_kind kind;
	const char *start, *due;
	bool fuzzy;
};

static void
format_day(const struct import_day *d, int year, char *out, size_t outlen)
{
	int y = d->year > 0 ? d->year : year;

	if (d->month == 0)
		snprintf(out, outlen, "-");
	else if (y > 0)
		snprintf(out, outlen, "%04d-%02d-%02d", y + d->year_offset, d->month, d->day);
	else
		snprintf(out, outlen, "%02d-%02d", d->month, d->day);
}

static void
check(const struct date_case *c)
{
	struct import_when w;
	char phrase[256], start[32], due[32];
	bool found = import_when_find(c->text, c->year, &w);

	if (c->kind == IMPORT_WHEN_NONE) {
		if (found)
			fail_msg("\"%s\": expected no date, found \"%.*s\" (%s)", c->text,
			    (int)w.len, c->text + w.at, import_when_kind_name(w.kind));
		return;
	}
	if (!found)
		fail_msg("\"%s\": no date found", c->text);
	snprintf(phrase, sizeof(phrase), "%.*s", (int)w.len, c->text + w.at);
	format_day(&w.start, c->year, start, sizeof(start));
	format_day(&w.due, c->year, due, sizeof(due));
	if (strcmp(phrase, c->phrase) != 0 || w.kind != c->kind ||
	    strcmp(start, c->start != NULL ? c->start : "-") != 0 ||
	    strcmp(due, c->due != NULL ? c->due : "-") != 0 || w.fuzzy != c->fuzzy)
		fail_msg("\"%s\": got \"%s\" %s %s..%s fuzzy=%d; expected \"%s\" %s %s..%s "
		    "fuzzy=%d", c->text, phrase, import_when_kind_name(w.kind), start, due,
		    w.fuzzy, c->phrase, import_when_kind_name(c->kind),
		    c->start != NULL ? c->start : "-", c->due != NULL ? c->due : "-", c->fuzzy);
}

static void
check_all(const struct date_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		check(&cases[i]);
}

#define ON IMPORT_WHEN_ON
#define BY IMPORT_WHEN_BY
#define AROUND IMPORT_WHEN_AROUND
#define PERIOD IMPORT_WHEN_PERIOD
#define RANGE IMPORT_WHEN_RANGE
#define RECUR IMPORT_WHEN_RECURRING
#define CAMPAIGN IMPORT_WHEN_CAMPAIGN
#define TBD IMPORT_WHEN_TBD
#define UNRES IMPORT_WHEN_UNRESOLVED
#define NONE IMPORT_WHEN_NONE
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* X月D日, with a time of day; “X·D”当天. */
static void
test_on_a_day(void **state)
{
	static const struct date_case cases[] = {
		{ "6月13日,举行启动仪式", 0, "6月13日", ON, "06-13", "06-13", false },
		{ "于4月15日开展", 0, "于4月15日", ON, "04-15", "04-15", false },
		{ "10月17日", 2024, "10月17日", ON, "2024-10-17", "2024-10-17", false },
		{ "6月1日上午", 0, "6月1日上午", ON, "06-01", "06-01", false },
		{ "12月1日上午9:00-11:30在广场", 0, "12月1日上午9:00-11:30", ON, "12-01",
		    "12-01", false },
		{ "4月15日10:00—10:30", 0, "4月15日10:00—10:30", ON, "04-15", "04-15", false },
		{ "6月13日(星期日)上午", 0, "6月13日(星期日)上午", ON, "06-13", "06-13", false },
		{ "在“10·17”当天,在《xx日报》上", 0, "在“10·17”当天", ON, "10-17", "10-17",
		    false },
		{ "“10.17”当日", 0, "“10.17”当日", ON, "10-17", "10-17", false },
		{ "10·17当天", 0, "10·17当天", ON, "10-17", "10-17", false },
		{ "十月十七日", 0, "十月十七日", ON, "10-17", "10-17", false },
		{ "2019年10月17日", 0, "2019年10月17日", ON, "2019-10-17", "2019-10-17", false },
		{ "二〇二四年四月十五日", 0, "二〇二四年四月十五日", ON, "2024-04-15",
		    "2024-04-15", false },
		{ "每年3月5日", 0, "3月5日", ON, "03-05", "03-05", false },
	};

	(void)state;
	check_all(cases, N(cases));
}

/* …前: deadlines; 底前, 旬前, X月前 (the month before), 国庆节前 (the day before). */
static void
test_before_a_day(void **state)
{
	static const struct date_case cases[] = {
		{ "10月17日前", 0, "10月17日前", BY, NULL, "10-17", false },
		{ "10月17前,启动全市", 0, "10月17前", BY, NULL, "10-17", false },
		{ "10月17日之前完成", 0, "10月17日之前", BY, NULL, "10-17", false },
		{ "于10月31日前报送", 0, "于10月31日前", BY, NULL, "10-31", false },
		{ "于20xx年10月底前以书面形式", 0, "于20xx年10月底前", BY, NULL, "10-31", false },
		{ "十月底前", 0, "十月底前", BY, NULL, "10-31", false },
		{ "2月底前", 2024, "2月底前", BY, NULL, "2024-02-29", false },
		{ "2月底前", 0, "2月底前", BY, NULL, "02-28", false },
		{ "10月月末前", 0, "10月月末前", BY, NULL, "10-31", false },
		{ "10月上旬前", 0, "10月上旬前", BY, NULL, "10-10", false },
		{ "10月中旬前", 0, "10月中旬前", BY, NULL, "10-20", false },
		{ "10月下旬前", 0, "10月下旬前", BY, NULL, "10-31", false },
		{ "10月前完成", 0, "10月前", BY, NULL, "09-30", false },
		{ "截至10月31日", 0, "截至10月31日", BY, NULL, "10-31", false },
		{ "国庆节前", 0, "国庆节前", BY, NULL, "09-30", false },
		{ "元旦前", 2025, "元旦前", BY, NULL, "2024-12-31", false },
		{ "春节前", 2024, "春节前", BY, NULL, "2024-02-09", false },
		{ "“10·17”前", 0, "“10·17”前", BY, NULL, "10-17", false },
		{ "年底前", 0, "年底前", BY, NULL, "12-31", false },
		{ "2024年底前", 0, "2024年底前", BY, NULL, "2024-12-31", false },
	};

	(void)state;
	check_all(cases, N(cases));
}

/* 左右/前后 (fuzzy days); 底/末 without 前; 初, 中, 旬; a month alone. */
static void
test_around_and_periods(void **state)
{
	static const struct date_case cases[] = {
		{ "10月10日左右,组织", 0, "10月10日左右", AROUND, "10-10", "10-10", true },
		{ "10月10日前后", 0, "10月10日前后", AROUND, "10-10", "10-10", true },
		{ "9月底,组织团市委", 0, "9月底", AROUND, "09-30", "09-30", true },
		{ "9月末", 0, "9月末", AROUND, "09-30", "09-30", true },
		{ "10月初", 0, "10月初", PERIOD, "10-01", "10-10", true },
		{ "10月中,开展", 0, "10月中", PERIOD, "10-11", "10-20", true },
		{ "10月上旬", 0, "10月上旬", PERIOD, "10-01", "10-10", true },
		{ "10月中旬", 0, "10月中旬", PERIOD, "10-11", "10-20", true },
		{ "10月下旬", 0, "10月下旬", PERIOD, "10-21", "10-31", true },
		{ "6月份下旬", 0, "6月份下旬", PERIOD, "06-21", "06-30", true },
		{ "10月中下旬", 0, "10月中下旬", PERIOD, "10-11", "10-31", true },
		{ "10月上中旬", 0, "10月上中旬", PERIOD, "10-01", "10-20", true },
		{ "10月份,开展", 0, "10月份", PERIOD, "10-01", "10-31", true },
		{ "10月", 0, "10月", PERIOD, "10-01", "10-31", true },
		{ "“扶贫日”期间", 0, "“扶贫日”期间", AROUND, "10-17", "10-17", true },
		{ "“10·17”前后", 0, "“10·17”前后", AROUND, "10-17", "10-17", true },
		{ "中秋节期间", 2024, "中秋节期间", AROUND, "2024-09-17", "2024-09-17", true },
		{ "春节前后", 2025, "春节前后", AROUND, "2025-01-29", "2025-01-29", true },
		{ "国庆节期间", 0, "国庆节期间", AROUND, "10-01", "10-07",
		    true },
		{ "年内完成", 0, "年内", PERIOD, "01-01", "12-31", true },
		{ "全年", 0, "全年", PERIOD, "01-01", "12-31", true },
		{ "年底", 0, "年底", AROUND, "12-31", "12-31", true },
	};

	(void)state;
	check_all(cases, N(cases));
}

/* Ranges within a month, across months, month to month, from … until. */
static void
test_ranges(void **state)
{
	static const struct date_case cases[] = {
		{ "10月11—17日", 0, "10月11—17日", RANGE, "10-11", "10-17", false },
		{ "6月1至30日", 0, "6月1至30日", RANGE, "06-01", "06-30", false },
		{ "6月1日至6月30日", 0, "6月1日至6月30日", RANGE, "06-01", "06-30", false },
		{ "10月13日-18日", 0, "10月13日-18日", RANGE, "10-13", "10-18", false },
		{ "9月30日至10月31日", 0, "9月30日至10月31日", RANGE, "09-30", "10-31", false },
		{ "自9月30日-10月31日", 0, "自9月30日-10月31日", RANGE, "09-30", "10-31",
		    false },
		{ "20xx年8月15日至9月30日", 0, "20xx年8月15日至9月30日", RANGE, "08-15", "09-30",
		    false },
		{ "9月至10月,在全市", 0, "9月至10月", RANGE, "09-01", "10-31", true },
		{ "9—10月", 0, "9—10月", RANGE, "09-01", "10-31", true },
		{ "9-10月", 0, "9-10月", RANGE, "09-01", "10-31", true },
		{ "8月下旬至10月", 0, "8月下旬至10月", RANGE, "08-21", "10-31", true },
		{ "10月下旬到11月下旬", 0, "10月下旬到11月下旬", RANGE, "10-21", "11-30", true },
		{ "从10月1日起至12月底", 0, "从10月1日起至12月底", RANGE, "10-01", "12-31",
		    true },
		{ "从即日起至12月底", 0, "从即日起至12月底", RANGE, NULL, "12-31", true },
		{ "11月25日起至次年1月", 2024, "11月25日起至次年1月", RANGE, "2024-11-25",
		    "2025-01-31", true },
		{ "12月至翌年2月", 2023, "12月至翌年2月", RANGE, "2023-12-01", "2024-02-29",
		    true },
		{ "12月20日至1月10日", 2024, "12月20日至1月10日", RANGE, "2024-12-20",
		    "2025-01-10", false },
		{ "10月1日起", 0, "10月1日起", RANGE, "10-01", NULL, false },
	};

	(void)state;
	check_all(cases, N(cases));
}

/* Named days, lunar holidays, nth weekdays, recurring, TBD, the campaign period. */
static void
test_named_and_special(void **state)
{
	static const struct date_case cases[] = {
		{ "农历八月十五", 2024, "农历八月十五", ON, "2024-09-17", "2024-09-17", false },
		{ "正月十五", 2025, "正月十五", ON, "2025-02-12", "2025-02-12", false },
		{ "农历八月十五", 0, "农历八月十五", UNRES, NULL, NULL, true },
		{ "农历七月十五", 2024, "农历七月十五", UNRES, NULL, NULL, true },
		{ "6月份第二个星期日(6月13日)", 0, "6月份第二个星期日(6月13日)", ON, "06-13",
		    "06-13", false },
		{ "5月第三个星期日", 2024, "5月第三个星期日", ON, "2024-05-19", "2024-05-19",
		    false },
		{ "5月第三个星期日", 0, "5月第三个星期日", UNRES, NULL, NULL, true },
		{ "全民国防教育日当天", 2016, "全民国防教育日当天", ON, "2016-09-17",
		    "2016-09-17", false },
		{ "每月20日前报送", 0, "每月20日前", RECUR, NULL, NULL, false },
		{ "每周五", 0, "每周五", RECUR, NULL, NULL, false },
		{ "每月第一周星期五", 0, "每月第一周星期五", RECUR, NULL, NULL, false },
		{ "具体时间另行通知", 0, "另行通知", TBD, NULL, NULL, true },
		{ "时间待定", 0, "待定", TBD, NULL, NULL, true },
		{ "活动期间,各单位", 0, "活动期间", CAMPAIGN, NULL, NULL, true },
		/* A real date wins over a weaker phrase earlier in the text. */
		{ "活动期间,于10月20日前报送", 0, "于10月20日前", BY, NULL, "10-20", false },
	};

	(void)state;
	check_all(cases, N(cases));
}

/* Garbled dates are kept as written, without dates; lookalikes are not dates. */
static void
test_unresolved_and_not_dates(void **state)
{
	static const struct date_case cases[] = {
		{ "xx月xx日前", 0, "xx月xx日前", UNRES, NULL, NULL, true },
		{ "XX月XX日", 0, "XX月XX日", UNRES, NULL, NULL, true },
		{ "2023月11—17日", 0, "2023月11—17日", UNRES, NULL, NULL, true },
		{ "xxxx年10日18日前", 0, "10日18日前", UNRES, NULL, NULL, true },
		{ "10中旬", 0, "10中旬", UNRES, NULL, NULL, true },
		{ "2月30日", 0, "2月30日", UNRES, NULL, NULL, true },
		{ "9月31日前", 0, "9月31日前", UNRES, NULL, NULL, true },
		{ "每人走访、慰问2至3个贫困户", 0, NULL, NONE, NULL, NULL, false },
		{ "评选主体是“十二五”以来", 0, NULL, NONE, NULL, NULL, false },
		{ "全市共评选10个,增长3.5%", 0, NULL, NONE, NULL, NULL, false },
		{ "开展“扶贫日”活动", 0, NULL, NONE, NULL, NULL, false },
		{ "根据20xx年的总体要求", 0, NULL, NONE, NULL, NULL, false },
		{ "一个月内", 0, NULL, NONE, NULL, NULL, false },
		{ "", 0, NULL, NONE, NULL, NULL, false },
	};

	(void)state;
	check_all(cases, N(cases));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_on_a_day),
		cmocka_unit_test(test_before_a_day),
		cmocka_unit_test(test_around_and_periods),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_named_and_special),
		cmocka_unit_test(test_unresolved_and_not_dates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
