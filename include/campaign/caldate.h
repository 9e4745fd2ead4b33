/*
 * Calendar dates as day numbers (days since 1970-01-01, proleptic Gregorian),
 * so date arithmetic is integer arithmetic and independent of time zones.
 */
#ifndef CAMPAIGN_CALDATE_H
#define CAMPAIGN_CALDATE_H

#include <stdbool.h>
#include <stdint.h>

#define CALDATE_NONE INT32_MIN
#define CALDATE_STRLEN 11 /* "YYYY-MM-DD" + NUL */

bool caldate_valid_ymd(int y, int m, int d);
int caldate_days_in_month(int y, int m);
int32_t caldate_from_ymd(int y, int m, int d);
void caldate_to_ymd(int32_t day, int *y, int *m, int *d);
/* ISO weekday: 1 = Monday ... 7 = Sunday. */
int caldate_weekday(int32_t day);
/* Strict "YYYY-MM-DD" (a real date); -1 otherwise. */
int caldate_parse(const char *s, int32_t *day);
/* Strict "MM-DD" (month 1-12, day valid in a leap year); -1 otherwise. */
int caldate_parse_md(const char *s, int *m, int *d);
/* "YYYY-MM-DD"; "" for CALDATE_NONE. */
void caldate_format(int32_t day, char out[CALDATE_STRLEN]);

#endif
