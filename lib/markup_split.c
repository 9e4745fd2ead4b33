/*
 * Splitting a rendered message (markup.h) into pieces a platform accepts:
 * whole lines while they fit, a longer line cut between characters. The
 * limit is counted in the platform's unit: UTF-16 code units (Telegram; for
 * Chinese text in the BMP that is the number of characters) or UTF-8 bytes
 * (DingTalk, WeCom). A cut never falls inside a UTF-8 sequence, an HTML tag
 * or entity, or a Markdown escape; a Markdown span cut in two is closed at
 * the end of the first piece and opened again at the start of the next.
 */
#include "campaign/markup.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/utf8.h"
#include "campaign/xmalloc.h"

/* Room kept in a cut Markdown piece for closing its spans: "**", "*", "`". */
#define MD_CLOSE_MAX 4
#define MD_SPANS_MAX 3

struct pieces {
	char **items;
	size_t n;
};

static bool
blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\n' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

static void
push(struct pieces *ps, const char *s, size_t len)
{
	while (len > 0 && s[len - 1] == '\n')
		len--;
	if (len == 0 || blank(s, len))
		return;
	ps->items = xreallocarray(ps->items, ps->n + 1, sizeof(*ps->items));
	ps->items[ps->n++] = xstrndup(s, len);
}

/* Units of the code point that starts at s; *bytes its length (1 for an invalid byte). */
static size_t
units_at(const char *s, size_t len, enum markup_unit unit, size_t *bytes)
{
	uint32_t cp;
	size_t n = utf8_decode(s, len, &cp);

	*bytes = n == 0 ? 1 : n;
	if (unit == MARKUP_UNIT_BYTES)
		return *bytes;
	return n != 0 && cp >= 0x10000 ? 2 : 1;
}

static size_t
units_of(const char *s, size_t len, enum markup_unit unit)
{
	size_t units = 0;

	for (size_t off = 0; off < len;) {
		size_t bytes;

		units += units_at(s + off, len - off, unit, &bytes);
		off += bytes;
	}
	return units;
}

/* Cuts one over-long HTML or plain line between characters, outside tags and entities. */
static void
split_line(struct pieces *ps, const char *s, size_t len, bool html, size_t max,
    enum markup_unit unit)
{
	size_t start = 0, off = 0, units = 0, safe = 0;
	bool in_tag = false, in_entity = false;

	while (off < len) {
		size_t bytes, u = units_at(s + off, len - off, unit, &bytes);

		if (!in_tag && !in_entity)
			safe = off;
		if (units + u > max && safe > start) {
			push(ps, s + start, safe - start);
			start = safe;
			off = safe;
			units = 0;
			in_tag = in_entity = false;
			continue;
		}
		if (html) {
			if (s[off] == '<')
				in_tag = true;
			else if (s[off] == '>')
				in_tag = false;
			else if (s[off] == '&')
				in_entity = true;
			else if (s[off] == ';')
				in_entity = false;
		}
		units += u;
		off += bytes;
	}
	push(ps, s + start, len - start);
}

/* The Markdown spans open at a point of a line, in the order they opened. */
struct spans {
	char open[MD_SPANS_MAX];        /* 'b' (**), 'i' (*), 'c' (`) */
	size_t n;
};

static const char *
span_mark(char kind)
{
	return kind == 'b' ? "**" : kind == 'i' ? "*" : "`";
}

static void
span_toggle(struct spans *sp, char kind)
{
	for (size_t i = 0; i < sp->n; i++) {
		if (sp->open[i] == kind) {
			memmove(&sp->open[i], &sp->open[i + 1], sp->n - i - 1);
			sp->n--;
			return;
		}
	}
	if (sp->n < MD_SPANS_MAX)
		sp->open[sp->n++] = kind;
}

static bool
in_code(const struct spans *sp)
{
	return memchr(sp->open, 'c', sp->n) != NULL;
}

/* Bytes of the Markdown token at s (a character, an escape, a span mark); updates sp. */
static size_t
md_token(const char *s, size_t len, struct spans *sp)
{
	uint32_t cp;
	size_t n;

	if (in_code(sp)) {
		if (s[0] == '`')
			span_toggle(sp, 'c');
	} else if (s[0] == '\\' && len > 1 && (unsigned char)s[1] < 0x80 && s[1] > ' ') {
		return 2;
	} else if (s[0] == '*' && len > 1 && s[1] == '*') {
		span_toggle(sp, 'b');
		return 2;
	} else if (s[0] == '*' || s[0] == '`') {
		span_toggle(sp, s[0] == '*' ? 'i' : 'c');
		return 1;
	}
	n = utf8_decode(s, len, &cp);
	return n == 0 ? 1 : n;
}

/* A piece may well start at s: not a space, a digit or ASCII punctuation. */
static bool
good_start(const char *s)
{
	unsigned char c = (unsigned char)*s;

	return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void
md_push(struct pieces *ps, const struct spans *opened, const char *lead, const char *s,
    size_t len, const struct spans *closing)
{
	struct buf b;

	buf_init(&b, SIZE_MAX / 2);
	for (size_t i = 0; i < opened->n; i++)
		buf_puts(&b, span_mark(opened->open[i]));
	buf_puts(&b, lead);
	buf_append(&b, s, len);
	for (size_t i = closing->n; i-- > 0;)
		buf_puts(&b, span_mark(closing->open[i]));
	push(ps, buf_str(&b), b.len);
	buf_free(&b);
}

/* Cuts one over-long Markdown line; spans open at a cut are closed and opened again. */
static void
md_split_line(struct pieces *ps, const char *s, size_t len, size_t max,
    enum markup_unit unit)
{
	struct spans open = { .n = 0 };
	size_t off = 0;

	while (off < len) {
		struct spans st = open, at_cut = open, at_good = open;
		size_t used = 0, p, cut, good;
		const char *lead = "";

		if (off > 0) {
			/*
			 * The rest of a cut line starts a line of its own: no leading
			 * spaces (four make a code block), and a # + - = there escaped.
			 */
			while (off < len && (s[off] == ' ' || s[off] == '\t'))
				off++;
			if (open.n == 0 && off < len && strchr("#+-=", s[off]) != NULL)
				lead = "\\";
		}
		p = cut = good = off;
		used = strlen(lead);
		for (size_t i = 0; i < open.n; i++)
			used += strlen(span_mark(open.open[i]));
		while (p < len) {
			struct spans next = st;
			size_t t = md_token(s + p, len - p, &next);
			size_t u = units_of(s + p, t, unit);

			if (used + u + MD_CLOSE_MAX > max && cut > off)
				break;
			used += u;
			p += t;
			if (next.n > st.n) {
				st = next;      /* never end a piece on a span just opened */
				continue;
			}
			st = next;
			cut = p;
			at_cut = st;
			if (p < len && good_start(s + p)) {
				good = p;
				at_good = st;
			}
		}
		if (p >= len) {
			md_push(ps, &open, lead, s + off, len - off, &(struct spans){ .n = 0 });
			return;
		}
		if (good > off + (cut - off) / 2) {
			cut = good;
			at_cut = at_good;
		}
		md_push(ps, &open, lead, s + off, cut - off, &at_cut);
		open = at_cut;
		off = cut;
	}
}

size_t
markup_split_rendered(const char *rendered, enum markup_format f, size_t max,
    enum markup_unit unit, char ***pieces)
{
	struct pieces ps = { NULL, 0 };
	size_t len = strlen(rendered), start = 0, units = 0, off = 0;

	if (max == 0) {
		push(&ps, rendered, len);
		*pieces = ps.items;
		return ps.n;
	}
	/* Accumulate whole lines [start, off) while they fit. */
	while (off < len) {
		const char *nl = memchr(rendered + off, '\n', len - off);
		size_t end = nl != NULL ? (size_t)(nl - rendered) + 1 : len;
		size_t line_units = units_of(rendered + off, end - off, unit);

		if (units + line_units > max && off > start) {
			push(&ps, rendered + start, off - start);
			start = off;
			units = 0;
		}
		if (line_units > max) {
			if (f == MARKUP_MARKDOWN && max > 2 * MD_CLOSE_MAX + 4)
				md_split_line(&ps, rendered + off, end - off, max, unit);
			else
				split_line(&ps, rendered + off, end - off, f == MARKUP_HTML, max,
				    unit);
			start = end;
			units = 0;
		} else {
			units += line_units;
		}
		off = end;
	}
	if (start < len)
		push(&ps, rendered + start, len - start);
	*pieces = ps.items;
	return ps.n;
}

void
markup_pieces_free(char **pieces, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(pieces[i]);
	free(pieces);
}
