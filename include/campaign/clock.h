/*
 * The campaign clock. CAMPAIGN_NOW (ISO-8601, e.g. 2027-10-08T09:00:00+08:00)
 * freezes "now" for every binary so tests and demos can stand on any day.
 * Local dates are computed in the plan's time zone, selected once with
 * clock_set_zone (it sets TZ for the process).
 */
#ifndef CAMPAIGN_CLOCK_H
#define CAMPAIGN_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CLOCK_ISO_STRLEN 32

/* Validates CAMPAIGN_NOW; -1 with a message in err if it is set and malformed. */
int clock_init(char *err, size_t errlen);
/* Now: CAMPAIGN_NOW if set, else the system clock. */
time_t clock_now(void);
/* Seconds on a monotonic clock, in milliseconds; for deadlines and timers. */
int64_t clock_mono_ms(void);
/* Selects an IANA zone ("Asia/Shanghai"); -1 if unknown or tzdata is missing. */
int clock_set_zone(const char *tzname, char *err, size_t errlen);
const char *clock_zone(void);
/* The local calendar day of t, and today's. */
int32_t clock_local_day(time_t t);
int32_t clock_today(void);
/* Minutes since local midnight of t. */
int clock_local_minutes(time_t t);
/* The instant of local day + minutes (the first one, if a DST fold repeats it). */
time_t clock_local_time(int32_t day, int minutes);
/* "2027-10-08T09:00:00+08:00" in the selected zone. */
void clock_format_iso(time_t t, char out[CLOCK_ISO_STRLEN]);
/* Parses YYYY-MM-DDTHH:MM[:SS][Z|±HH[:]MM]; without an offset, local time. */
int clock_parse_iso(const char *s, time_t *out);

#endif
