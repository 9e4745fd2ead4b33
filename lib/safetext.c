/*
 * Hostile text: what is unsafe, stripping it for storage, and a stdio filter
 * (fopencookie) that escapes it on the way to a terminal. The filter keeps
 * a partial UTF-8 sequence across writes, so unbuffered stderr works too.
 */
#include "campaign/safetext.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "campaign/buf.h"
#include "campaign/utf8.h"
#include "campaign/xmalloc.h"

bool
safetext_unsafe(uint32_t cp)
{
	return (cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0x7f ||
	    (cp >= 0x80 && cp < 0xa0) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

bool
safetext_invisible(uint32_t cp)
{
	return (cp >= 0x200b && cp <= 0x200d) || cp == 0x2060 || cp == 0xfeff || cp == 0xad;
}

char *
safetext_strip(const char *s, bool newlines)
{
	size_t len, i = 0;
	struct buf b;

	if (s == NULL)
		return NULL;
	len = strlen(s);
	buf_init(&b, (size_t)1 << 30);
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);

		if (n == 0) {
			buf_append(&b, "\xef\xbf\xbd", 3);
			i++;
			continue;
		}
		if ((cp == '\n' || cp == '\t') && !newlines)
			buf_append(&b, " ", 1);
		else if (!safetext_unsafe(cp))
			buf_append(&b, s + i, n);
		i += n;
	}
	return buf_steal(&b);
}

int
safetext_bind(sqlite3_stmt *st, int idx, const char *text)
{
	char *clean = safetext_strip(text, false);
	int rc;

	if (clean == NULL)
		return sqlite3_bind_null(st, idx);
	rc = sqlite3_bind_text(st, idx, clean, -1, SQLITE_TRANSIENT);
	free(clean);
	return rc;
}

uint32_t
safetext_name_bad(const char *s)
{
	size_t len = strlen(s), i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);

		if (n == 0)
			return 0xfffd;
		if (cp == '\n' || cp == '\t' || safetext_unsafe(cp) || safetext_invisible(cp))
			return cp;
		i += n;
	}
	return 0;
}

struct filter {
	int fd;
	unsigned char pending[4];       /* an incomplete UTF-8 sequence */
	size_t npending;
};

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Length a sequence starting with byte c claims, 0 if c cannot start one. */
static size_t
seq_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

static void
escape_into(struct buf *out, const unsigned char *p, size_t len, size_t *used)
{
	uint32_t cp;
	size_t n = utf8_decode((const char *)p, len, &cp);
	char esc[16];

	if (n == 0) {
		buf_append(out, "\xef\xbf\xbd", 3);
		*used = 1;
	} else if (safetext_unsafe(cp)) {
		snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
		buf_append(out, esc, strlen(esc));
		*used = n;
	} else {
		buf_append(out, (const char *)p, n);
		*used = n;
	}
}

static ssize_t
filter_write(void *cookie, const char *data, size_t size)
{
	struct filter *f = cookie;
	unsigned char *all = xmalloc(f->npending + size + 1);
	size_t len = f->npending + size, i = 0, used;
	struct buf out;
	int rc;

	memcpy(all, f->pending, f->npending);
	memcpy(all + f->npending, data, size);
	f->npending = 0;
	buf_init(&out, (size_t)1 << 30);
	while (i < len) {
		size_t want = seq_len(all[i]);

		if (want > 1 && len - i < want) {
			/* Keep a sequence cut by this write if what arrived of it is valid so far. */
			bool cut = true;

			for (size_t k = i + 1; k < len; k++)
				cut = cut && (all[k] & 0xc0) == 0x80;
			if (cut) {
				memcpy(f->pending, all + i, len - i);
				f->npending = len - i;
				break;
			}
		}
		escape_into(&out, all + i, len - i, &used);
		i += used;
	}
	rc = write_all(f->fd, buf_str(&out), out.len);
	buf_free(&out);
	free(all);
	return rc < 0 ? -1 : (ssize_t)size;
}

static int
filter_close(void *cookie)
{
	struct filter *f = cookie;

	if (f->npending > 0)
		(void)write_all(f->fd, "\xef\xbf\xbd", 3);
	f->npending = 0;
	return 0;
}

/* Static state: the streams live until exit, which flushes them without closing. */
static struct filter filters[2];

static FILE *
filter_open(int fd, int mode)
{
	static const cookie_io_functions_t io = { .write = filter_write, .close = filter_close };
	struct filter *f = &filters[fd == STDERR_FILENO];
	FILE *fp;

	memset(f, 0, sizeof(*f));
	f->fd = fd;
	fp = fopencookie(f, "w", io);
	if (fp != NULL)
		setvbuf(fp, NULL, mode, BUFSIZ);
	return fp;
}

void
safetext_raw(FILE *fp, const char *s)
{
	fflush(fp);
	(void)write_all(fp == stderr ? STDERR_FILENO : STDOUT_FILENO, s, strlen(s));
}

int
safetext_filter_stdio(void)
{
	FILE *out, *err;

	fflush(stdout);
	fflush(stderr);
	out = filter_open(STDOUT_FILENO, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF);
	err = filter_open(STDERR_FILENO, _IONBF);
	if (out == NULL || err == NULL) {
		if (out != NULL)
			fclose(out);
		if (err != NULL)
			fclose(err);
		return -1;
	}
	stdout = out;
	stderr = err;
	return 0;
}
