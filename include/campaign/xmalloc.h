/*
 * Allocation that cannot fail: out of memory is fatal (STYLE rule 5).
 * Bad input never reaches these with an unchecked size; callers cap first.
 */
#ifndef CAMPAIGN_XMALLOC_H
#define CAMPAIGN_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* NULL in, NULL out: for optional strings. */
char *xstrdup_or_null(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
