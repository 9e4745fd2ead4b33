/*
 * Which deadline reminders are due, computed from the data on every tick
 * (never kept as timers, so restarts and clock jumps lose nothing): for each
 * task not done and each responsible unit not done, one reminder on each of
 * [reminders] days_before the due date and one every day while overdue, at
 * [reminders] at, moved off holidays and quiet hours (calendar.h). When
 * several are due for the same task and unit (the daemon was down), only the
 * newest is returned: a stale "7 days left" is noise.
 */
#ifndef CAMPAIGN_REMINDERS_H
#define CAMPAIGN_REMINDERS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "campaign/cfg.h"
#include "campaign/plan.h"
#include "campaign/progress.h"

struct reminder {
	size_t task;            /* index into plan->tasks */
	size_t unit;            /* index into plan->units */
	int32_t date;           /* the nominal day (before any move); part of the key */
	int days_left;          /* due - date: 7, 3, 1, 0, or negative when overdue */
	time_t at;              /* when it may go out */
	char kind[16];          /* "before-7" ... "before-0", "overdue": part of the key */
};

/* Late units to tell the admins about (overdue by escalate_after days or more). */
struct escalation {
	size_t task;
	size_t unit;
	int days_overdue;
};

/* The reminders due at now (at <= now), one per task and unit at most. */
size_t reminders_due(const struct plan *plan, const struct progress *progress,
    const struct cfg *cfg, time_t now, struct reminder **out);
/*
 * The escalation digest due at now: the late units, if today's digest time
 * has come and now is allowed (a working day, outside quiet hours);
 * *digest_day is today, the digest's key. 0 otherwise.
 */
size_t reminders_escalations(const struct plan *plan, const struct progress *progress,
    const struct cfg *cfg, time_t now, struct escalation **out, int32_t *digest_day);

#endif
