/*
 * Topic checks (see topic.h). Byte-level rules first (they are what MQTT
 * and the broker care about), then UTF-8 validity through utf8.c.
 */
#include "campaign/topic.h"

#include <string.h>

#include "campaign/utf8.h"

/* C0 and C1 controls and DEL: legal in MQTT but never meant in a topic. */
static bool
has_control(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);

		if (n == 0)
			return true;
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
			return true;
		i += n;
	}
	return false;
}

bool
topic_level_ok(const char *s, size_t len)
{
	if (s == NULL || len == 0 || len > TOPIC_LEVEL_MAX)
		return false;
	if (memchr(s, '\0', len) != NULL || memchr(s, '/', len) != NULL ||
	    memchr(s, '+', len) != NULL || memchr(s, '#', len) != NULL)
		return false;
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	return utf8_valid(s, len) && !has_control(s, len);
}

bool
topic_prefix_ok(const char *s, const char **why)
{
	const char *problem = NULL;
	size_t len = s != NULL ? strlen(s) : 0;

	if (len == 0)
		problem = "is empty";
	else if (len > TOPIC_PREFIX_MAX)
		problem = "is too long";
	else if (!utf8_valid(s, len))
		problem = "is not valid UTF-8";
	else if (has_control(s, len))
		problem = "contains a control character";
	else if (strpbrk(s, "+#") != NULL)
		problem = "contains a wildcard (+ or #)";
	else if (s[0] == '$')
		problem = "starts with $ (reserved for the broker)";
	else if (s[0] == '/' || s[len - 1] == '/' || strstr(s, "//") != NULL)
		problem = "has an empty level (leading, trailing or double /)";
	if (why != NULL)
		*why = problem;
	return problem == NULL;
}
