/*
 * Secret masking: every form a server or a library may echo, longest first,
 * so a masked URL-encoded token does not leave its secret half behind.
 */
#include "campaign/redact.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/xmalloc.h"

#define MASK "<secret>"
#define HALF_MIN 8
#define NFORMS 6

static bool
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_' || c == '.' || c == '~';
}

/* The percent-encoded form, with upper or lower case hex digits. */
static char *
url_encode(const char *s, bool upper)
{
	char *out = xmalloc(strlen(s) * 3 + 1), *o = out;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (unreserved(*p))
			*o++ = (char)*p;
		else
			o += snprintf(o, 4, upper ? "%%%02X" : "%%%02x", *p);
	}
	*o = '\0';
	return out;
}

static void
mask_all(char *text, const char *form)
{
	size_t n = strlen(form), m = sizeof(MASK) - 1;
	char *hit, *from = text;

	if (n == 0)
		return;
	while ((hit = strstr(from, form)) != NULL) {
		if (n >= m) {
			memcpy(hit, MASK, m);
			memmove(hit + m, hit + n, strlen(hit + n) + 1);
			from = hit + m;
		} else {
			memset(hit, '*', n);
			from = hit + n;
		}
	}
}

static int
longer_first(const void *a, const void *b)
{
	size_t x = strlen(*(char *const *)a), y = strlen(*(char *const *)b);

	return x < y ? 1 : x > y ? -1 : 0;
}

void
redact_secret(char *text, const char *secret)
{
	const char *colon;
	char *forms[NFORMS] = { NULL };
	size_t n = 0;

	if (text == NULL || secret == NULL || *secret == '\0')
		return;
	forms[n++] = xstrdup(secret);
	forms[n++] = url_encode(secret, true);
	forms[n++] = url_encode(secret, false);
	colon = strchr(secret, ':');
	if (colon != NULL && strlen(colon + 1) >= HALF_MIN) {
		forms[n++] = xstrdup(colon + 1);
		forms[n++] = url_encode(colon + 1, true);
		forms[n++] = url_encode(colon + 1, false);
	}
	qsort(forms, n, sizeof(forms[0]), longer_first);
	for (size_t i = 0; i < n; i++) {
		mask_all(text, forms[i]);
		explicit_bzero(forms[i], strlen(forms[i]));
		free(forms[i]);
	}
}
