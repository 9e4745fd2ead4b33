/*
 * When the campaign may speak: working days (Monday to Friday, minus
 * [reminders] holidays, plus the make-up working weekends of [reminders]
 * workdays, as Chinese public holidays need) and outside quiet hours.
 * Times are local to the plan's zone (clock_set_zone).
 */
#ifndef CAMPAIGN_CALENDAR_H
#define CAMPAIGN_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "campaign/cfg.h"

bool calendar_is_workday(const struct cfg *cfg, int32_t day);
/* True if minutes-after-midnight m falls inside the quiet hours. */
bool calendar_is_quiet(const struct cfg *cfg, int minutes);
/*
 * t itself if it is on a working day outside quiet hours; else the next
 * working day at [reminders] at, or the end of the quiet hours.
 */
time_t calendar_next_allowed(const struct cfg *cfg, time_t t);

#endif
