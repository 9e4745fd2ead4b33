/*
 * The clock every binary uses: CAMPAIGN_NOW or the system time, and local
 * dates in the plan's zone. Single-threaded use: the zone is process-wide (TZ).
 */
#include "campaign/clock.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "campaign/caldate.h"
#include "campaign/log.h"

static char zone[64] = "UTC";

static int
two_digits(const char *s)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

int
clock_parse_iso(const char *s, time_t *out)
{
	char date[CALDATE_STRLEN];
	int32_t day;
	int hh, mm, ss = 0, y, mo, d;
	const char *p;
	struct tm tm;
	time_t t;

	if (strlen(s) < 16 || (s[10] != 'T' && s[10] != ' '))
		return -1;
	memcpy(date, s, 10);
	date[10] = '\0';
	if (caldate_parse(date, &day) < 0)
		return -1;
	p = s + 11;
	hh = two_digits(p);
	if (hh < 0 || hh > 23 || p[2] != ':')
		return -1;
	mm = two_digits(p + 3);
	if (mm < 0 || mm > 59)
		return -1;
	p += 5;
	if (*p == ':') {
		ss = two_digits(p + 1);
		if (ss < 0 || ss > 60)
			return -1;
		p += 3;
		if (*p == '.') /* fractional seconds are accepted and dropped */
			for (p++; isdigit((unsigned char)*p); p++)
				;
	}
	if (*p == '\0') {
		caldate_to_ymd(day, &y, &mo, &d);
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_hour = hh;
		tm.tm_min = mm;
		tm.tm_sec = ss;
		tm.tm_isdst = -1;
		t = mktime(&tm);
		if (t == (time_t)-1)
			return -1;
		*out = t;
		return 0;
	}
	t = (time_t)day * 86400 + hh * 3600 + mm * 60 + ss;
	if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0') {
		*out = t;
		return 0;
	}
	if (p[0] == '+' || p[0] == '-') {
		int oh = two_digits(p + 1), om;
		const char *q = p + 3;

		if (oh < 0 || oh > 23)
			return -1;
		if (*q == ':')
			q++;
		om = two_digits(q);
		if (om < 0 || om > 59 || q[2] != '\0')
			return -1;
		t -= (p[0] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
		*out = t;
		return 0;
	}
	return -1;
}

int
clock_init(char *err, size_t errlen)
{
	const char *now = getenv("CAMPAIGN_NOW");
	time_t t;

	if (now == NULL || *now == '\0')
		return 0;
	if (clock_parse_iso(now, &t) < 0) {
		snprintf(err, errlen, "CAMPAIGN_NOW=%s: not an ISO-8601 time "
		    "(e.g. 2027-10-08T09:00:00+08:00)", now);
		return -1;
	}
	return 0;
}

time_t
clock_now(void)
{
	const char *now = getenv("CAMPAIGN_NOW");
	time_t t;

	if (now == NULL || *now == '\0')
		return time(NULL);
	if (clock_parse_iso(now, &t) < 0)
		fatalx("clock", "CAMPAIGN_NOW=%s is not an ISO-8601 time", now);
	return t;
}

int64_t
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool
zone_name_ok(const char *name)
{
	if (*name == '\0' || *name == '/' || strstr(name, "..") != NULL ||
	    strlen(name) >= sizeof(zone))
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("/_+-", *p) == NULL)
			return false;
	return true;
}

int
clock_set_zone(const char *tzname, char *err, size_t errlen)
{
	char path[256], tz[80];
	const char *dir = getenv("TZDIR");

	if (!zone_name_ok(tzname)) {
		snprintf(err, errlen, "invalid time zone name \"%s\"", tzname);
		return -1;
	}
	if (strcmp(tzname, "UTC") != 0) {
		snprintf(path, sizeof(path), "%s/%s",
		    dir != NULL ? dir : "/usr/share/zoneinfo", tzname);
		if (access(path, R_OK) != 0) {
			snprintf(err, errlen, "unknown time zone \"%s\" (%s not found; "
			    "is tzdata installed?)", tzname, path);
			return -1;
		}
	}
	/* glibc silently falls back to UTC for unknown zones: hence the check above. */
	snprintf(tz, sizeof(tz), ":%s", tzname);
	setenv("TZ", tz, 1);
	tzset();
	snprintf(zone, sizeof(zone), "%s", tzname);
	return 0;
}

const char *
clock_zone(void)
{
	return zone;
}

int32_t
clock_local_day(time_t t)
{
	struct tm tm;

	localtime_r(&t, &tm);
	return caldate_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

int32_t
clock_today(void)
{
	return clock_local_day(clock_now());
}

int
clock_local_minutes(time_t t)
{
	struct tm tm;

	localtime_r(&t, &tm);
	return tm.tm_hour * 60 + tm.tm_min;
}

time_t
clock_local_time(int32_t day, int minutes)
{
	struct tm tm;
	int y, m, d;

	caldate_to_ymd(day, &y, &m, &d);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = minutes / 60;
	tm.tm_min = minutes % 60;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

void
clock_format_iso(time_t t, char out[CLOCK_ISO_STRLEN])
{
	struct tm tm;
	long off;
	char sign;

	localtime_r(&t, &tm);
	off = tm.tm_gmtoff;
	sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	snprintf(out, CLOCK_ISO_STRLEN, "%04u-%02u-%02uT%02u:%02u:%02u%c%02u:%02u",
	    (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
	    (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u,
	    (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u, sign,
	    (unsigned)(off / 3600) % 100u, (unsigned)((off % 3600) / 60) % 100u);
}
