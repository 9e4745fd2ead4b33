/* Checked number parsing: strtoll + errno + end pointer, nothing else. */
#include "campaign/num.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
num_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
num_parse_int(const char *s, int min, int max, int *out)
{
	int64_t v;

	if (num_parse_i64(s, min, max, &v) < 0)
		return -1;
	*out = (int)v;
	return 0;
}

int
num_parse_duration(const char *s, int64_t *seconds)
{
	static const struct { char unit; int64_t mult; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 604800 },
	};
	char digits[32];
	size_t len;
	int64_t mult = 1, v;

	if (s == NULL)
		return -1;
	len = strlen(s);
	if (len == 0 || len >= sizeof(digits))
		return -1;
	memcpy(digits, s, len + 1);
	if (isalpha((unsigned char)digits[len - 1])) {
		char u = (char)tolower((unsigned char)digits[len - 1]);
		size_t i;

		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (units[i].unit == u)
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return -1;
		mult = units[i].mult;
		digits[len - 1] = '\0';
	}
	if (num_parse_i64(digits, 0, INT64_MAX / 604800, &v) < 0)
		return -1;
	*seconds = v * mult;
	return 0;
}
