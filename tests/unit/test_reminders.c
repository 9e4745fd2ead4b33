/*
 * Reminders stepped through the seed campaign, a tick every 30 minutes, the
 * way the daemon calls them: each (task, unit, kind, date) at most once,
 * weekends and holidays respected, nothing stale, nothing for what is done.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "campaign/caldate.h"
#include "campaign/calendar.h"
#include "campaign/clock.h"
#include "campaign/reminders.h"
#include "campaign/textnorm.h"

struct sent {
	char key[96];
	char line[128];         /* "2.5 市扶贫办 before-7 10-03 @ 10-04 09:00" */
};

static struct plan *seed;

static int
setup(void **state)
{
	struct plan_load_opts opts = { .today = caldate_from_ymd(2027, 9, 1) };
	char err[512];

	(void)state;
	if (clock_set_zone("Asia/Shanghai", err, sizeof(err)) < 0)
		fail_msg("%s", err);
	seed = plan_load_file(CAMPAIGN_SOURCE_DIR "/data/plans/fupinri.json", &opts, err,
	    sizeof(err));
	if (seed == NULL)
		fail_msg("%s", err);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	plan_free(seed);
	textnorm_shutdown();
	return 0;
}

static struct progress *
empty_progress(void)
{
	struct progress *p = calloc(1, sizeof(*p));

	p->ntasks = seed->ntasks;
	p->nunits = seed->nunits;
	p->cells = calloc(p->ntasks * p->nunits + 1, sizeof(*p->cells));
	return p;
}

static void
set_done(struct progress *p, const char *task, const char *unit)
{
	ssize_t t = plan_task_index(seed, task);
	ssize_t u = -1;

	for (size_t i = 0; i < seed->nunits; i++)
		if (strcmp(seed->units[i].name, unit) == 0)
			u = (ssize_t)i;
	assert_true(t >= 0 && u >= 0);
	p->cells[(size_t)t * p->nunits + (size_t)u].done = true;
	p->cells[(size_t)t * p->nunits + (size_t)u].reported = true;
	p->cells[(size_t)t * p->nunits + (size_t)u].percent = 100;
}

static time_t
local(int m, int d, int hh, int mm)
{
	return clock_local_time(caldate_from_ymd(2027, m, d), hh * 60 + mm);
}

/* Runs ticks every 30 minutes over [from, to); returns what went out, in order. */
static size_t
simulate(const struct cfg *cfg, struct progress *p, time_t from, time_t to,
    struct sent **out)
{
	struct sent *sent = NULL;
	size_t n = 0;

	for (time_t now = from; now < to; now += 1800) {
		struct reminder *due;
		size_t k = reminders_due(seed, p, cfg, now, &due);

		for (int twice = 0; twice < 2; twice++) {  /* a double tick changes nothing */
			for (size_t i = 0; i < k; i++) {
				char key[96], date[CALDATE_STRLEN], at[CLOCK_ISO_STRLEN];
				bool seen = false;

				caldate_format(due[i].date, date);
				snprintf(key, sizeof(key), "%s|%s|%s|%s", seed->tasks[due[i].task].id,
				    seed->units[due[i].unit].name, due[i].kind, date);
				for (size_t j = 0; j < n && !seen; j++)
					seen = strcmp(sent[j].key, key) == 0;
				if (seen)
					continue;
				assert_true(due[i].at <= now);
				clock_format_iso(now, at);
				sent = realloc(sent, (n + 1) * sizeof(*sent));
				snprintf(sent[n].key, sizeof(sent[n].key), "%s", key);
				snprintf(sent[n].line, sizeof(sent[n].line), "%s %s %s %.5s @ %.5s %.5s",
				    seed->tasks[due[i].task].id, seed->units[due[i].unit].name,
				    due[i].kind, date + 5, at + 5, at + 11);
				n++;
			}
		}
		free(due);
	}
	*out = sent;
	return n;
}

/* The lines for one task and unit, joined with newlines. */
static void
lines_for(const struct sent *sent, size_t n, const char *prefix, char *out, size_t outlen)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (strncmp(sent[i].line, prefix, strlen(prefix)) == 0)
			len += (size_t)snprintf(out + len, outlen - len, "%s\n", sent[i].line);
}

static void
test_calendar(void **state)
{
	char err[256];
	struct cfg *cfg = cfg_load(NULL, err, sizeof(err));

	(void)state;
	cfg->reminders.holidays = calloc(1, sizeof(int32_t));
	cfg->reminders.holidays[0] = caldate_from_ymd(2027, 10, 1);
	cfg->reminders.nholidays = 1;
	cfg->reminders.workdays = calloc(1, sizeof(int32_t));
	cfg->reminders.workdays[0] = caldate_from_ymd(2027, 10, 9);  /* a make-up Saturday */
	cfg->reminders.nworkdays = 1;
	assert_true(calendar_is_workday(cfg, caldate_from_ymd(2027, 10, 8)));   /* Friday */
	assert_false(calendar_is_workday(cfg, caldate_from_ymd(2027, 10, 1)));  /* holiday */
	assert_true(calendar_is_workday(cfg, caldate_from_ymd(2027, 10, 9)));   /* make-up */
	assert_false(calendar_is_workday(cfg, caldate_from_ymd(2027, 10, 10))); /* Sunday */
	assert_true(calendar_is_quiet(cfg, 23 * 60));
	assert_true(calendar_is_quiet(cfg, 7 * 60 + 59));
	assert_false(calendar_is_quiet(cfg, 8 * 60));
	/* Quiet at 23:00 Monday: Tuesday 08:00. Sunday 09:00: Monday 09:00. */
	assert_int_equal(calendar_next_allowed(cfg, local(10, 11, 23, 0)), local(10, 12, 8, 0));
	assert_int_equal(calendar_next_allowed(cfg, local(10, 10, 9, 0)), local(10, 11, 9, 0));
	assert_int_equal(calendar_next_allowed(cfg, local(10, 1, 9, 0)), local(10, 4, 9, 0));
	assert_int_equal(calendar_next_allowed(cfg, local(10, 9, 9, 0)), local(10, 9, 9, 0));
	cfg_free(cfg);
}

static void
test_one_unit_through_the_campaign(void **state)
{
	char err[256], got[4096];
	struct cfg *cfg = cfg_load(NULL, err, sizeof(err));
	struct progress *p = empty_progress();
	struct sent *sent;
	size_t n;

	(void)state;
	n = simulate(cfg, p, local(9, 20, 0, 0), local(10, 20, 0, 0), &sent);
	/* 2.5 is due Sunday 10-10: 7 days before is a Sunday too (moved to Monday);
	   "1 day" and "due today" fall on the weekend and go out on Friday, as one
	   reminder; overdue every working day, never twice. */
	lines_for(sent, n, "2.5 市扶贫办 ", got, sizeof(got));
	assert_string_equal(got,
	    "2.5 市扶贫办 before-7 10-03 @ 10-04 09:00\n"
	    "2.5 市扶贫办 before-3 10-07 @ 10-07 09:00\n"
	    "2.5 市扶贫办 before-0 10-10 @ 10-08 09:00\n"
	    "2.5 市扶贫办 overdue 10-11 @ 10-11 09:00\n"
	    "2.5 市扶贫办 overdue 10-12 @ 10-12 09:00\n"
	    "2.5 市扶贫办 overdue 10-13 @ 10-13 09:00\n"
	    "2.5 市扶贫办 overdue 10-14 @ 10-14 09:00\n"
	    "2.5 市扶贫办 overdue 10-15 @ 10-15 09:00\n"
	    "2.5 市扶贫办 overdue 10-18 @ 10-18 09:00\n"
	    "2.5 市扶贫办 overdue 10-19 @ 10-19 09:00\n");
	/* 2.6 (Thursday 09-30) on working days only. */
	lines_for(sent, n, "2.6 相关单位 ", got, sizeof(got));
	assert_string_equal(got,
	    "2.6 相关单位 before-7 09-23 @ 09-23 09:00\n"
	    "2.6 相关单位 before-3 09-27 @ 09-27 09:00\n"
	    "2.6 相关单位 before-1 09-29 @ 09-29 09:00\n"
	    "2.6 相关单位 before-0 09-30 @ 09-30 09:00\n"
	    "2.6 相关单位 overdue 10-01 @ 10-01 09:00\n"
	    "2.6 相关单位 overdue 10-04 @ 10-04 09:00\n"
	    "2.6 相关单位 overdue 10-05 @ 10-05 09:00\n"
	    "2.6 相关单位 overdue 10-06 @ 10-06 09:00\n"
	    "2.6 相关单位 overdue 10-07 @ 10-07 09:00\n"
	    "2.6 相关单位 overdue 10-08 @ 10-08 09:00\n"
	    "2.6 相关单位 overdue 10-11 @ 10-11 09:00\n"
	    "2.6 相关单位 overdue 10-12 @ 10-12 09:00\n"
	    "2.6 相关单位 overdue 10-13 @ 10-13 09:00\n"
	    "2.6 相关单位 overdue 10-14 @ 10-14 09:00\n"
	    "2.6 相关单位 overdue 10-15 @ 10-15 09:00\n"
	    "2.6 相关单位 overdue 10-18 @ 10-18 09:00\n"
	    "2.6 相关单位 overdue 10-19 @ 10-19 09:00\n");
	/* 3.4 names no units: nobody to remind. */
	lines_for(sent, n, "3.4 ", got, sizeof(got));
	assert_string_equal(got, "");
	free(sent);
	progress_free(p);
	cfg_free(cfg);
}

static void
test_done_units_and_holidays(void **state)
{
	char err[256], got[4096];
	struct cfg *cfg = cfg_load(NULL, err, sizeof(err));
	struct progress *p = empty_progress();
	struct sent *sent;
	size_t n;

	(void)state;
	/* National Day: 10-01..10-07 off, Saturday 10-09 a make-up working day. */
	cfg->reminders.holidays = calloc(7, sizeof(int32_t));
	for (int i = 0; i < 7; i++)
		cfg->reminders.holidays[i] = caldate_from_ymd(2027, 10, 1 + i);
	cfg->reminders.nholidays = 7;
	cfg->reminders.workdays = calloc(1, sizeof(int32_t));
	cfg->reminders.workdays[0] = caldate_from_ymd(2027, 10, 9);
	cfg->reminders.nworkdays = 1;
	set_done(p, "2.6", "市扶贫攻坚领导小组办公室");
	n = simulate(cfg, p, local(9, 28, 0, 0), local(10, 12, 0, 0), &sent);
	lines_for(sent, n, "2.6 市扶贫攻坚领导小组办公室 ", got, sizeof(got));
	assert_string_equal(got, "");
	lines_for(sent, n, "2.6 相关单位 ", got, sizeof(got));
	/* Started on Tuesday at midnight: the missed "3 days" waits for the end of the
	   quiet hours. */
	assert_string_equal(got,
	    "2.6 相关单位 before-3 09-27 @ 09-28 08:00\n"
	    "2.6 相关单位 before-1 09-29 @ 09-29 09:00\n"
	    "2.6 相关单位 before-0 09-30 @ 09-30 09:00\n"
	    "2.6 相关单位 overdue 10-08 @ 10-08 09:00\n"
	    "2.6 相关单位 overdue 10-09 @ 10-09 09:00\n"
	    "2.6 相关单位 overdue 10-11 @ 10-11 09:00\n");
	/* 2.5 (Sunday 10-10): "7 days" (10-03) and "3 days" (10-07) fall in the
	   holiday: the first working day after it sends "3 days", the newest; the
	   make-up Saturday sends one reminder for "1 day" and the Sunday deadline. */
	lines_for(sent, n, "2.5 市扶贫办 ", got, sizeof(got));
	assert_string_equal(got,
	    "2.5 市扶贫办 before-3 10-07 @ 10-08 09:00\n"
	    "2.5 市扶贫办 before-0 10-10 @ 10-09 09:00\n"
	    "2.5 市扶贫办 overdue 10-11 @ 10-11 09:00\n");
	free(sent);
	progress_free(p);
	cfg_free(cfg);
}

static void
test_restart_after_downtime_sends_only_the_newest(void **state)
{
	char err[256];
	struct cfg *cfg = cfg_load(NULL, err, sizeof(err));
	struct progress *p = empty_progress();
	struct reminder *due;
	size_t k;
	ssize_t t = plan_task_index(seed, "2.4");

	(void)state;
	/* Down since September; back on Thursday 10-14 at 10:00: 2.4 (due 10-17) gets
	   only "3 days left", not the missed "7 days left". */
	k = reminders_due(seed, p, cfg, local(10, 14, 10, 0), &due);
	for (size_t i = 0; i < k; i++) {
		if (due[i].task != (size_t)t)
			continue;
		assert_string_equal(due[i].kind, "before-3");
		assert_int_equal(due[i].days_left, 3);
	}
	free(due);
	progress_free(p);
	cfg_free(cfg);
}

static void
test_escalation_digest(void **state)
{
	char err[256];
	struct cfg *cfg = cfg_load(NULL, err, sizeof(err));
	struct progress *p = empty_progress();
	struct escalation *esc;
	int32_t day;
	size_t k;

	(void)state;
	/* 2.6 is 3 days overdue on Sunday 10-03 (no digest on Sundays), 4 on Monday. */
	k = reminders_escalations(seed, p, cfg, local(10, 3, 10, 0), &esc, &day);
	assert_int_equal(k, 0);
	free(esc);
	k = reminders_escalations(seed, p, cfg, local(10, 4, 8, 59), &esc, &day);
	assert_int_equal(k, 0);
	free(esc);
	k = reminders_escalations(seed, p, cfg, local(10, 4, 9, 0), &esc, &day);
	assert_int_equal(k, 2);
	assert_int_equal(day, caldate_from_ymd(2027, 10, 4));
	assert_string_equal(seed->tasks[esc[0].task].id, "2.6");
	assert_int_equal(esc[0].days_overdue, 4);
	free(esc);
	/* A daemon started late in the evening waits for tomorrow's digest: quiet hours. */
	k = reminders_escalations(seed, p, cfg, local(10, 4, 23, 0), &esc, &day);
	assert_int_equal(k, 0);
	free(esc);
	progress_free(p);
	cfg_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calendar),
		cmocka_unit_test(test_one_unit_through_the_campaign),
		cmocka_unit_test(test_done_units_and_holidays),
		cmocka_unit_test(test_restart_after_downtime_sends_only_the_newest),
		cmocka_unit_test(test_escalation_digest),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
