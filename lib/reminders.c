/*
 * Deadline reminders and the escalation digest as pure functions of the plan,
 * the progress, the config and the time (see reminders.h). The caller records
 * what it sent under (task, unit, kind, date), which makes sending idempotent.
 */
#include "campaign/reminders.h"

#include <stdbool.h>
#include <stdio.h>

#include "campaign/caldate.h"
#include "campaign/calendar.h"
#include "campaign/clock.h"
#include "campaign/xmalloc.h"

/* When a reminder nominally on day may go out. */
static time_t
send_time(const struct cfg *cfg, int32_t day)
{
	return calendar_next_allowed(cfg, clock_local_time(day, cfg->reminders.at));
}

/*
 * A reminder before the deadline that the calendar would push past the due
 * day (a Sunday deadline's "due tomorrow") goes out on the last working day
 * before instead: late, it would only repeat the overdue notice.
 */
static time_t
send_time_before(const struct cfg *cfg, int32_t day, int32_t due)
{
	time_t at = send_time(cfg, day);

	for (int32_t d = day - 1; clock_local_day(at) > due && d > due - 400; d--)
		if (calendar_is_workday(cfg, d))
			at = send_time(cfg, d);
	return at;
}

/*
 * The units a task's reminders concern: its own, or every unit of the plan
 * for a document owed by all ("各地、各部门", issue 15). k-th of n.
 */
static size_t
task_nunits(const struct plan *plan, const struct plan_task *t)
{
	return t->nunits > 0 ? t->nunits : t->deliverable != NULL ? plan->nunits : 0;
}

static size_t
task_unit(const struct plan_task *t, size_t k)
{
	return t->nunits > 0 ? t->units[k] : k;
}

/* The newest reminder of one task and unit that is due at now; false if none. */
static bool
newest_due(const struct cfg *cfg, int32_t due, int32_t today, time_t now,
    struct reminder *r)
{
	bool found = false;

	/* Overdue days first: the newest possible is today. */
	for (int32_t day = today; day > due && day >= today - 1; day--) {
		time_t at = send_time(cfg, day);

		if (at <= now) {
			r->date = day;
			r->at = at;
			snprintf(r->kind, sizeof(r->kind), "overdue");
			found = true;
			break;
		}
	}
	/* Days before: days_before is sorted descending, so the last match is the newest. */
	for (size_t i = 0; i < cfg->reminders.ndays_before; i++) {
		int d = cfg->reminders.days_before[i];
		int32_t day = due - d;
		time_t at;

		if (day > today + 7 || (found && day <= r->date))
			continue;
		at = send_time_before(cfg, day, due);
		if (at > now)
			continue;
		r->date = day;
		r->at = at;
		snprintf(r->kind, sizeof(r->kind), "before-%d", d);
		found = true;
	}
	if (found)
		r->days_left = due - r->date;
	return found;
}

size_t
reminders_due(const struct plan *plan, const struct progress *progress,
    const struct cfg *cfg, time_t now, struct reminder **out)
{
	int32_t today = clock_local_day(now);
	struct reminder *list = NULL;
	size_t n = 0;

	*out = NULL;
	/* Nothing goes out in quiet hours or on days off, not even a late catch-up. */
	if (calendar_next_allowed(cfg, now) != now)
		return 0;
	for (size_t ti = 0; ti < plan->ntasks; ti++) {
		const struct plan_task *t = &plan->tasks[ti];
		struct reminder r = { .task = ti };

		if (t->due == CALDATE_NONE || progress_task_done(progress, plan, ti))
			continue;
		if (!newest_due(cfg, t->due, today, now, &r))
			continue;
		for (size_t k = 0; k < task_nunits(plan, t); k++) {
			if (progress_cell(progress, ti, task_unit(t, k))->done)
				continue;
			list = xreallocarray(list, n + 1, sizeof(*list));
			list[n] = r;
			list[n].unit = task_unit(t, k);
			n++;
		}
	}
	*out = list;
	return n;
}

size_t
reminders_escalations(const struct plan *plan, const struct progress *progress,
    const struct cfg *cfg, time_t now, struct escalation **out, int32_t *digest_day)
{
	int32_t today = clock_local_day(now);
	struct escalation *list = NULL;
	size_t n = 0;

	*out = NULL;
	*digest_day = today;
	/* One digest a day, at the reminders' hour on working days, never in quiet hours
	   (a daemon started at 23:00 waits for tomorrow's digest). */
	if (calendar_next_allowed(cfg, now) != now || send_time(cfg, today) > now ||
	    clock_local_day(send_time(cfg, today)) != today)
		return 0;
	for (size_t ti = 0; ti < plan->ntasks; ti++) {
		const struct plan_task *t = &plan->tasks[ti];
		int late;

		if (t->due == CALDATE_NONE)
			continue;
		late = today - t->due;
		if (late <= 0 || late < cfg->reminders.escalate_after)
			continue;
		for (size_t k = 0; k < task_nunits(plan, t); k++) {
			if (progress_cell(progress, ti, task_unit(t, k))->done)
				continue;
			list = xreallocarray(list, n + 1, sizeof(*list));
			list[n++] = (struct escalation){ .task = ti, .unit = task_unit(t, k),
			    .days_overdue = late };
		}
	}
	*out = list;
	return n;
}
