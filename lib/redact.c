/*
 * Secret masking: every form a server or a library may echo (exact,
 * URL-encoded, the secret half), and any piece of one at least FRAGMENT_MIN
 * bytes long (an echo cut short), is marked; then each marked run is
 * replaced. Quadratic in the text and the secret: only error messages (a
 * few hundred bytes) come here.
 */
#include "campaign/redact.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/xmalloc.h"

#define MASK "<secret>"
#define HALF_MIN 8
#define FRAGMENT_MIN 12         /* bytes of a secret that count as a leak */
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

/* Marks every run of text that matches at least min bytes of form, anywhere in it. */
static void
mark_fragments(const char *text, size_t len, const char *form, size_t min, bool *marked)
{
	size_t n = strlen(form);

	if (n == 0 || min == 0 || min > n)
		return;
	for (size_t i = 0; i + min <= len; i++) {
		for (size_t j = 0; j + min <= n; j++) {
			size_t k = 0;

			while (i + k < len && j + k < n && text[i + k] == form[j + k])
				k++;
			if (k >= min)
				memset(marked + i, 1, k);
		}
	}
}

/* Each marked run becomes the mask (or stars, where the mask would not fit). */
static void
apply_marks(char *text, size_t len, const bool *marked)
{
	size_t in = 0, out = 0, m = sizeof(MASK) - 1;

	while (in < len) {
		size_t run = 0;

		if (!marked[in]) {
			text[out++] = text[in++];
			continue;
		}
		while (in + run < len && marked[in + run])
			run++;
		if (run >= m) {
			memcpy(text + out, MASK, m);
			out += m;
		} else {
			memset(text + out, '*', run);
			out += run;
		}
		in += run;
	}
	text[out] = '\0';
}

void
redact_secret(char *text, const char *secret)
{
	char *forms[NFORMS] = { NULL };
	const char *colon;
	size_t n = 0, len;
	bool *marked;

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
	len = strlen(text);
	marked = xcalloc(len + 1, sizeof(*marked));
	for (size_t i = 0; i < n; i++) {
		size_t flen = strlen(forms[i]);

		mark_fragments(text, len, forms[i], flen < FRAGMENT_MIN ? flen : FRAGMENT_MIN,
		    marked);
		explicit_bzero(forms[i], flen);
		free(forms[i]);
	}
	apply_marks(text, len, marked);
	free(marked);
}
