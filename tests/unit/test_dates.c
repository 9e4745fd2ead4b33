/*
 * Calendar arithmetic, ISO times with CAMPAIGN_NOW, and the year resolution of
 * month-day plans: every date form of the seed plan, around the year's turn.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "campaign/caldate.h"
#include "campaign/clock.h"
#include "campaign/plan.h"

static void
test_civil_roundtrip(void **state)
{
	(void)state;
	assert_int_equal(caldate_from_ymd(1970, 1, 1), 0);
	assert_int_equal(caldate_from_ymd(2000, 3, 1), 11017);
	for (int32_t d = -800; d < 30000; d += 37) {
		int y, m, dd;

		caldate_to_ymd(d, &y, &m, &dd);
		assert_int_equal(caldate_from_ymd(y, m, dd), d);
	}
	assert_int_equal(caldate_weekday(caldate_from_ymd(2027, 10, 17)), 7); /* a Sunday */
	assert_int_equal(caldate_weekday(caldate_from_ymd(2026, 11, 30)), 1); /* a Monday */
}

static void
test_parse_and_format(void **state)
{
	char s[CALDATE_STRLEN];
	int32_t d;
	int m, dd;

	(void)state;
	assert_int_equal(caldate_parse("2027-10-17", &d), 0);
	caldate_format(d, s);
	assert_string_equal(s, "2027-10-17");
	assert_int_equal(caldate_parse("2027-13-45", &d), -1);
	assert_int_equal(caldate_parse("2027-02-29", &d), -1);
	assert_int_equal(caldate_parse("2028-02-29", &d), 0);
	assert_int_equal(caldate_parse("2027-1-5", &d), -1);
	assert_int_equal(caldate_parse("2027-10-17x", &d), -1);
	assert_int_equal(caldate_parse_md("10-17", &m, &dd), 0);
	assert_int_equal(m, 10);
	assert_int_equal(dd, 17);
	assert_int_equal(caldate_parse_md("02-29", &m, &dd), 0);
	assert_int_equal(caldate_parse_md("02-30", &m, &dd), -1);
	assert_int_equal(caldate_parse_md("13-01", &m, &dd), -1);
	assert_int_equal(caldate_days_in_month(2027, 9), 30);
	assert_int_equal(caldate_days_in_month(2028, 2), 29);
	caldate_format(CALDATE_NONE, s);
	assert_string_equal(s, "");
}

static void
test_iso_times(void **state)
{
	char err[256], iso[CLOCK_ISO_STRLEN];
	time_t t;

	(void)state;
	assert_int_equal(clock_set_zone("Asia/Shanghai", err, sizeof(err)), 0);
	assert_int_equal(clock_parse_iso("2027-10-08T09:00:00+08:00", &t), 0);
	assert_int_equal(t, 1822957200);
	clock_format_iso(t, iso);
	assert_string_equal(iso, "2027-10-08T09:00:00+08:00");
	assert_int_equal(clock_parse_iso("2027-10-08T01:00:00Z", &t), 0);
	assert_int_equal(t, 1822957200);
	/* Without an offset: local time of the selected zone. */
	assert_int_equal(clock_parse_iso("2027-10-08T09:00", &t), 0);
	assert_int_equal(t, 1822957200);
	assert_int_equal(clock_parse_iso("2027-10-08 09:00:00.250+0800", &t), 0);
	assert_int_equal(t, 1822957200);
	assert_int_equal(clock_parse_iso("2027-10-08", &t), -1);
	assert_int_equal(clock_parse_iso("2027-10-08T25:00:00Z", &t), -1);
	assert_int_equal(clock_parse_iso("yesterday", &t), -1);
	/* Late evening UTC is already tomorrow in Shanghai. */
	assert_int_equal(clock_parse_iso("2027-10-16T17:30:00Z", &t), 0);
	assert_int_equal(clock_local_day(t), caldate_from_ymd(2027, 10, 17));
	assert_int_equal(clock_local_minutes(t), 90);
	assert_int_equal(clock_local_time(caldate_from_ymd(2027, 10, 17), 90), t);
}

static void
test_campaign_now(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(clock_set_zone("Asia/Shanghai", err, sizeof(err)), 0);
	setenv("CAMPAIGN_NOW", "2027-10-08T09:00:00+08:00", 1);
	assert_int_equal(clock_init(err, sizeof(err)), 0);
	assert_int_equal(clock_now(), 1822957200);
	assert_int_equal(clock_today(), caldate_from_ymd(2027, 10, 8));
	setenv("CAMPAIGN_NOW", "next tuesday", 1);
	assert_int_equal(clock_init(err, sizeof(err)), -1);
	assert_non_null(strstr(err, "CAMPAIGN_NOW"));
	unsetenv("CAMPAIGN_NOW");
	assert_int_equal(clock_init(err, sizeof(err)), 0);
}

static void
test_zones(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(clock_set_zone("Nowhere/Atlantis", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "Nowhere/Atlantis"));
	assert_int_equal(clock_set_zone("../../etc/passwd", err, sizeof(err)), -1);
	assert_int_equal(clock_set_zone("UTC", err, sizeof(err)), 0);
	assert_string_equal(clock_zone(), "UTC");
}

/* Loads a month-day plan with the seed's date forms on a given day. */
static struct plan *
seed_like_plan(int32_t today, int year)
{
	static const char json[] =
	    "{\"schema\":\"campaign-plan/1\",\"id\":\"t\",\"title\":\"T\",\"year\":null,"
	    "\"key_date\":\"10-17\",\"units\":[{\"name\":\"市扶贫办\"}],\"tasks\":["
	    "{\"id\":\"2.1\",\"title\":\"a\",\"when\":\"在“10·17”当天\",\"start\":\"10-17\","
	    "\"due\":\"10-17\",\"units\":[\"市扶贫办\"]},"
	    "{\"id\":\"2.3\",\"title\":\"b\",\"when\":\"9月至10月\",\"start\":\"09-01\","
	    "\"due\":\"10-31\",\"fuzzy\":true,\"units\":[]},"
	    "{\"id\":\"2.4\",\"title\":\"c\",\"when\":\"10月17前\",\"start\":null,"
	    "\"due\":\"10-17\",\"units\":[]},"
	    "{\"id\":\"2.5\",\"title\":\"d\",\"when\":\"10月10日左右\",\"start\":\"10-10\","
	    "\"due\":\"10-10\",\"fuzzy\":true,\"units\":[]},"
	    "{\"id\":\"2.6\",\"title\":\"e\",\"when\":\"9月底\",\"start\":\"09-30\","
	    "\"due\":\"09-30\",\"fuzzy\":true,\"units\":[]},"
	    "{\"id\":\"3.4\",\"title\":\"f\",\"when\":\"于20xx年10月底前\",\"due\":\"10-31\","
	    "\"units\":[]}]}";
	struct plan_load_opts opts = { .year = year, .today = today };
	char err[512];
	struct plan *p = plan_load_string(json, "seed", &opts, err, sizeof(err));

	if (p == NULL)
		fail_msg("%s", err);
	return p;
}

static void
assert_day(int32_t day, int y, int m, int d)
{
	assert_int_equal(day, caldate_from_ymd(y, m, d));
}

static void
test_seed_forms_resolve_to_coming_campaign(void **state)
{
	struct plan *p;

	(void)state;
	/* Before 10·17: this year's campaign. */
	p = seed_like_plan(caldate_from_ymd(2027, 10, 8), 0);
	assert_int_equal(p->year, 2027);
	assert_false(p->year_given);
	assert_day(p->key_date, 2027, 10, 17);
	assert_day(plan_task_get(p, "2.1")->start, 2027, 10, 17);
	assert_day(plan_task_get(p, "2.1")->due, 2027, 10, 17);
	assert_day(plan_task_get(p, "2.3")->start, 2027, 9, 1);
	assert_day(plan_task_get(p, "2.3")->due, 2027, 10, 31);
	assert_true(plan_task_get(p, "2.3")->fuzzy);
	assert_int_equal(plan_task_get(p, "2.4")->start, CALDATE_NONE);
	assert_day(plan_task_get(p, "2.4")->due, 2027, 10, 17);
	assert_day(plan_task_get(p, "2.5")->due, 2027, 10, 10);
	assert_day(plan_task_get(p, "2.6")->due, 2027, 9, 30);
	assert_day(plan_task_get(p, "3.4")->due, 2027, 10, 31);
	assert_string_equal(plan_task_get(p, "3.4")->when, "于20xx年10月底前");
	plan_free(p);

	/* On the key date itself: still this year's. */
	p = seed_like_plan(caldate_from_ymd(2027, 10, 17), 0);
	assert_int_equal(p->year, 2027);
	plan_free(p);

	/* The day after: next year's campaign. */
	p = seed_like_plan(caldate_from_ymd(2027, 10, 18), 0);
	assert_int_equal(p->year, 2028);
	assert_day(plan_task_get(p, "2.6")->due, 2028, 9, 30);
	plan_free(p);

	/* --year wins. */
	p = seed_like_plan(caldate_from_ymd(2027, 10, 18), 2026);
	assert_int_equal(p->year, 2026);
	assert_true(p->year_given);
	assert_day(plan_task_get(p, "2.4")->due, 2026, 10, 17);
	plan_free(p);
}

static void
test_md_dates_around_year_end(void **state)
{
	int32_t anchor = caldate_from_ymd(2027, 12, 20);

	(void)state;
	/* A winter campaign keyed on 12-20: January follow-ups belong to the next year. */
	assert_int_equal(plan_resolve_md(1, 15, anchor), caldate_from_ymd(2028, 1, 15));
	assert_int_equal(plan_resolve_md(11, 30, anchor), caldate_from_ymd(2027, 11, 30));
	/* 02-29 only exists in leap years: the nearest one that has it. */
	assert_int_equal(plan_resolve_md(2, 29, caldate_from_ymd(2028, 1, 10)),
	    caldate_from_ymd(2028, 2, 29));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_civil_roundtrip),
		cmocka_unit_test(test_parse_and_format),
		cmocka_unit_test(test_iso_times),
		cmocka_unit_test(test_campaign_now),
		cmocka_unit_test(test_zones),
		cmocka_unit_test(test_seed_forms_resolve_to_coming_campaign),
		cmocka_unit_test(test_md_dates_around_year_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
