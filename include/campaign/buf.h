/*
 * A growable byte buffer with a hard cap, always NUL-terminated.
 * Appends past the cap fail (return -1) and set `overflow`, so a hostile
 * peer cannot make us allocate without bound; the content stays valid.
 */
#ifndef CAMPAIGN_BUF_H
#define CAMPAIGN_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;      /* NUL-terminated; NULL until the first append */
	size_t len;
	size_t cap;      /* allocated */
	size_t max;      /* hard limit on len */
	bool overflow;
};

void buf_init(struct buf *b, size_t max);
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);
/* Returns the content ("" if empty) and leaves b empty; the caller frees it. */
char *buf_steal(struct buf *b);
/* Borrowed view; "" when empty. */
const char *buf_str(const struct buf *b);
void buf_free(struct buf *b);

#endif
