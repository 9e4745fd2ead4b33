/* Working days and quiet hours (see calendar.h). */
#include "campaign/calendar.h"

#include "campaign/caldate.h"
#include "campaign/clock.h"

static bool
listed(const int32_t *days, size_t n, int32_t day)
{
	for (size_t i = 0; i < n; i++)
		if (days[i] == day)
			return true;
	return false;
}

bool
calendar_is_workday(const struct cfg *cfg, int32_t day)
{
	if (listed(cfg->reminders.workdays, cfg->reminders.nworkdays, day))
		return true;
	if (listed(cfg->reminders.holidays, cfg->reminders.nholidays, day))
		return false;
	return caldate_weekday(day) <= 5;
}

bool
calendar_is_quiet(const struct cfg *cfg, int minutes)
{
	int start = cfg->reminders.quiet_start, end = cfg->reminders.quiet_end;

	if (start < 0 || end < 0 || start == end)
		return false;
	if (start < end)
		return minutes >= start && minutes < end;
	return minutes >= start || minutes < end;  /* across midnight, e.g. 22:00-08:00 */
}

time_t
calendar_next_allowed(const struct cfg *cfg, time_t t)
{
	/* A year of days is more than any holiday list can block. */
	for (int i = 0; i < 400; i++) {
		int32_t day = clock_local_day(t);
		int minutes = clock_local_minutes(t);

		if (!calendar_is_workday(cfg, day)) {
			/* The next day at the usual hour, not at midnight. */
			t = clock_local_time(day + 1, cfg->reminders.at);
			continue;
		}
		if (!calendar_is_quiet(cfg, minutes))
			return t;
		/* Jump to the end of the quiet hours, today or tomorrow. */
		if (minutes < cfg->reminders.quiet_end)
			t = clock_local_time(day, cfg->reminders.quiet_end);
		else
			t = clock_local_time(day + 1, cfg->reminders.quiet_end);
	}
	return t;
}
