/*
 * Chat markup (see markup.h): escaping, the plain-text view and splitting
 * long messages for platforms with a length limit. Lengths are counted in
 * UTF-16 code units, Telegram's unit; for Chinese (BMP) text that equals the
 * number of characters, and counting the markup (tags included) is an upper
 * bound of what the platform counts after parsing.
 */
#include "campaign/markup.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/utf8.h"
#include "campaign/xmalloc.h"

void
markup_escape(struct buf *b, const char *text)
{
	size_t len = strlen(text), off = 0;

	while (off < len) {
		uint32_t cp;
		size_t n = utf8_decode(text + off, len - off, &cp);

		if (n == 0 || cp == 0) {
			buf_append(b, "\xef\xbf\xbd", 3);
			off++;
			continue;
		}
		switch (cp) {
		case '<':
			buf_puts(b, "&lt;");
			break;
		case '>':
			buf_puts(b, "&gt;");
			break;
		case '&':
			buf_puts(b, "&amp;");
			break;
		case '"':
			buf_puts(b, "&quot;");
			break;
		default:
			buf_append(b, text + off, n);
		}
		off += n;
	}
}

char *
markup_escape_dup(const char *text)
{
	struct buf b;

	buf_init(&b, SIZE_MAX / 2);
	markup_escape(&b, text);
	return buf_steal(&b);
}

/* Length of the entity at s ("&lt;" ...) and its character, or 0. */
static size_t
entity_at(const char *s, char *ch)
{
	static const struct {
		const char *name;
		char ch;
	} entities[] = {
		{ "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' }, { "&quot;", '"' },
	};

	for (size_t i = 0; i < sizeof(entities) / sizeof(entities[0]); i++) {
		size_t n = strlen(entities[i].name);

		if (strncmp(s, entities[i].name, n) == 0) {
			*ch = entities[i].ch;
			return n;
		}
	}
	return 0;
}

char *
markup_to_plain(const char *markup)
{
	struct buf b;
	const char *p = markup;

	buf_init(&b, SIZE_MAX / 2);
	while (*p != '\0') {
		char ch;
		size_t n;

		if (*p == '<') {
			const char *end = strchr(p, '>');

			if (end != NULL) {
				p = end + 1;
				continue;
			}
		} else if (*p == '&' && (n = entity_at(p, &ch)) > 0) {
			buf_append(&b, &ch, 1);
			p += n;
			continue;
		}
		buf_append(&b, p, 1);
		p++;
	}
	return buf_steal(&b);
}

static bool
blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\n' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

struct pieces {
	char **items;
	size_t n;
};

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

/* UTF-16 units of the code point that starts at s (1 for an invalid byte). */
static size_t
units_at(const char *s, size_t len, size_t *bytes)
{
	uint32_t cp;
	size_t n = utf8_decode(s, len, &cp);

	if (n == 0) {
		*bytes = 1;
		return 1;
	}
	*bytes = n;
	return cp >= 0x10000 ? 2 : 1;
}

/* Cuts one over-long line into pieces between characters, outside tags and entities. */
static void
split_line(struct pieces *ps, const char *s, size_t len, bool is_markup, size_t max)
{
	size_t start = 0, off = 0, units = 0, safe = 0;
	bool in_tag = false, in_entity = false;

	while (off < len) {
		size_t bytes, u = units_at(s + off, len - off, &bytes);

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
		if (is_markup) {
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

size_t
markup_split(const char *text, bool is_markup, size_t max_units, char ***pieces)
{
	struct pieces ps = { NULL, 0 };
	size_t len = strlen(text), start = 0, units = 0, off = 0;

	if (max_units == 0) {
		push(&ps, text, len);
		*pieces = ps.items;
		return ps.n;
	}
	/* Accumulate whole lines [start, off) while they fit. */
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t end = nl != NULL ? (size_t)(nl - text) + 1 : len;
		size_t line_units = 0;

		for (size_t k = off; k < end;) {
			size_t bytes;

			line_units += units_at(text + k, end - k, &bytes);
			k += bytes;
		}
		if (units + line_units > max_units && off > start) {
			push(&ps, text + start, off - start);
			start = off;
			units = 0;
		}
		if (line_units > max_units) {
			split_line(&ps, text + off, end - off, is_markup, max_units);
			start = end;
			units = 0;
		} else {
			units += line_units;
		}
		off = end;
	}
	if (start < len)
		push(&ps, text + start, len - start);
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
