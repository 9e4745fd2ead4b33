/*
 * Civil-date arithmetic (H. Hinnant's days_from_civil / civil_from_days).
 * Pure functions; time zones live in clock.c.
 */
#include "campaign/caldate.h"

#include <stdio.h>
#include <string.h>

static bool
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
caldate_days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m < 1 || m > 12)
		return 0;
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

bool
caldate_valid_ymd(int y, int m, int d)
{
	return y >= 1900 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 &&
	    d <= caldate_days_in_month(y, m);
}

int32_t
caldate_from_ymd(int y, int m, int d)
{
	int era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
caldate_to_ymd(int32_t day, int *y, int *m, int *d)
{
	int32_t z = day + 719468;
	int era = (z >= 0 ? z : z - 146096) / 146097;
	int doe = z - era * 146097;
	int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

int
caldate_weekday(int32_t day)
{
	/* 1970-01-01 was a Thursday (4). */
	int w = (int)((day % 7 + 7 + 3) % 7);

	return w + 1;
}

static int
digits(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int
caldate_parse(const char *s, int32_t *day)
{
	int y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	y = digits(s, 4);
	m = digits(s + 5, 2);
	d = digits(s + 8, 2);
	if (y < 0 || m < 0 || d < 0 || !caldate_valid_ymd(y, m, d))
		return -1;
	*day = caldate_from_ymd(y, m, d);
	return 0;
}

int
caldate_parse_md(const char *s, int *m, int *d)
{
	int mm, dd;

	if (strlen(s) != 5 || s[2] != '-')
		return -1;
	mm = digits(s, 2);
	dd = digits(s + 3, 2);
	if (mm < 1 || mm > 12 || dd < 1 || dd > caldate_days_in_month(2000, mm))
		return -1;
	*m = mm;
	*d = dd;
	return 0;
}

void
caldate_format(int32_t day, char out[CALDATE_STRLEN])
{
	int y, m, d;

	if (day == CALDATE_NONE) {
		out[0] = '\0';
		return;
	}
	caldate_to_ymd(day, &y, &m, &d);
	/* Ranges spelled out so the compiler can see the output fits. */
	snprintf(out, CALDATE_STRLEN, "%04u-%02u-%02u", (unsigned)y % 10000u,
	    (unsigned)m % 100u, (unsigned)d % 100u);
}
