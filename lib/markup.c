/*
 * Chat markup (see markup.h): escaping, and rendering the document for a
 * platform: HTML as written, plain text, Markdown. Splitting a rendering
 * under a platform's length limit is in markup_split.c.
 */
#include "campaign/markup.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/utf8.h"
#include "campaign/xmalloc.h"

#define REPLACEMENT "\xef\xbf\xbd"
#define BULLET "\xe2\x80\xa2 "          /* "• ": a list item */

void
markup_escape(struct buf *b, const char *text)
{
	size_t len = strlen(text), off = 0;

	while (off < len) {
		uint32_t cp;
		size_t n = utf8_decode(text + off, len - off, &cp);

		if (n == 0 || cp == 0) {
			buf_append(b, REPLACEMENT, 3);
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

/* ---- Markdown ---- */

enum line_kind { LINE_BLANK, LINE_TEXT, LINE_ITEM, LINE_CONT };

/* One Markdown line being written. */
struct md {
	struct buf *b;
	bool line_start;        /* nothing visible written on this line yet */
};

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* What follows an '&' that a Markdown renderer would read as an entity ("copy;", "#42;"). */
static bool
entity_like(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && i < 32 && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
	    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '#'))
		i++;
	return i > 0 && i < len && s[i] == ';';
}

/*
 * One character of text (decoded from the markup), escaped. next/len: the
 * source after it, for the look-ahead of "&x;" and "1. ". Returns how many
 * bytes of next it wrote as well.
 */
static size_t
md_char(struct md *m, uint32_t cp, const char *next, size_t len)
{
	char enc[4];
	size_t n = 0;

	if (cp == '\\' || cp == '*' || cp == '_' || cp == '`' || cp == '[' || cp == ']' ||
	    cp == '<' || cp == '>' || cp == '~' || cp == '|' ||
	    (cp == '&' && entity_like(next, len)) ||
	    (m->line_start && (cp == '#' || cp == '+' || cp == '-' || cp == '=')))
		buf_append(m->b, "\\", 1);
	buf_append(m->b, enc, utf8_encode(cp, enc));
	if (m->line_start && cp >= '0' && cp <= '9') {
		/* "1. " or "1) " at a line start is an ordered list: escape its dot. */
		while (n < len && next[n] >= '0' && next[n] <= '9')
			n++;
		if (n < len && (next[n] == '.' || next[n] == ')') && (n + 1 == len ||
		    is_space(next[n + 1]))) {
			buf_append(m->b, next, n);
			buf_append(m->b, "\\", 1);
			buf_append(m->b, next + n, 1);
			n++;
		} else {
			n = 0;
		}
	}
	m->line_start = false;
	return n;
}

/* Text without tags: entities decoded, invalid UTF-8 replaced, escaped. */
static void
md_text(struct md *m, const char *s, size_t len)
{
	size_t off = 0;

	while (off < len) {
		uint32_t cp;
		size_t n;
		char ch;

		if (s[off] == '&' && (n = entity_at(s + off, &ch)) > 0 && n <= len - off) {
			cp = (unsigned char)ch;
		} else if ((n = utf8_decode(s + off, len - off, &cp)) == 0 || cp == 0) {
			cp = 0xfffd;
			n = 1;
		}
		off += n;
		off += md_char(m, cp, s + off, len - off);
	}
}

/* The end of the tag-free run at s: the next '<' (or len). */
static size_t
run_len(const char *s, size_t len)
{
	const char *lt = memchr(s, '<', len);

	return lt != NULL ? (size_t)(lt - s) : len;
}

static bool
starts(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len >= n && memcmp(s, word, n) == 0;
}

/* Offset of word in s[0, len), or len. */
static size_t
find(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(s + i, word, n) == 0)
			return i;
	return len;
}

/*
 * <code>..</code> at s (after the opening tag): a code span when its text
 * allows one (no backtick, not empty), else escaped text. Returns the bytes
 * used, the closing tag included.
 */
static size_t
md_code(struct md *m, const char *s, size_t len)
{
	size_t end = find(s, len, "</code>");
	char *plain, *clean;

	if (end == len)
		return 0;
	plain = xstrndup(s, end);
	clean = markup_to_plain(plain);
	if (*clean == '\0' || strchr(clean, '`') != NULL) {
		md_text(m, s, end);
	} else {
		char *safe = utf8_sanitize(clean, strlen(clean));

		buf_puts(m->b, "`");
		buf_puts(m->b, safe);
		buf_puts(m->b, "`");
		m->line_start = false;
		free(safe);
	}
	free(clean);
	free(plain);
	return end + strlen("</code>");
}

/* Punctuation as Markdown's emphasis rules see it: ASCII and the common CJK marks. */
static bool
is_punct(uint32_t cp)
{
	return (cp >= '!' && cp <= '/') || (cp >= ':' && cp <= '@') || (cp >= '[' && cp <= '`') ||
	    (cp >= '{' && cp <= '~') || (cp >= 0xa1 && cp <= 0xbf) ||
	    (cp >= 0x2010 && cp <= 0x205e) || (cp >= 0x3001 && cp <= 0x303f) ||
	    (cp >= 0xfe10 && cp <= 0xfe6b) || (cp >= 0xff01 && cp <= 0xff0f) ||
	    (cp >= 0xff1a && cp <= 0xff20) || (cp >= 0xff3b && cp <= 0xff40) ||
	    (cp >= 0xff5b && cp <= 0xff65);
}

/* A letter, digit or ideograph: neither space nor punctuation (0: nothing). */
static bool
is_word(uint32_t cp)
{
	return cp != 0 && cp != ' ' && cp != '\t' && cp != 0x3000 && !is_punct(cp);
}

/* The first character of the markup at s, entities decoded; 0 for a tag or nothing. */
static uint32_t
first_char(const char *s, size_t len)
{
	uint32_t cp;
	char ch;

	if (len == 0 || *s == '<')
		return 0;
	if (*s == '&' && entity_at(s, &ch) > 0)
		return (unsigned char)ch;
	return utf8_decode(s, len, &cp) > 0 ? cp : 0xfffd;
}

/* The last character written on this line; 0 at its start. */
static uint32_t
last_char(const struct md *m)
{
	const char *d = buf_str(m->b);
	size_t n = m->b->len, k = 1;
	uint32_t cp;

	if (m->line_start || n == 0)
		return 0;
	while (k < 4 && k < n && ((unsigned char)d[n - k] & 0xc0) == 0x80)
		k++;
	return utf8_decode(d + n - k, k, &cp) == k ? cp : 0xfffd;
}

/*
 * A tag at s: what it becomes, and the bytes used (0: not a tag we know).
 * Markdown opens emphasis before punctuation only after a space or more
 * punctuation, and closes it after punctuation only before one ("是**“扶贫日”
 * 方案**" stays literal): a space is put outside the mark where needed.
 */
static size_t
md_tag(struct md *m, const char *s, size_t len)
{
	static const struct {
		const char *open, *close, *mark;
	} spans[] = {
		{ "<b>", "</b>", "**" }, { "<i>", "</i>", "*" },
	};

	for (size_t i = 0; i < sizeof(spans) / sizeof(spans[0]); i++) {
		size_t no = strlen(spans[i].open), nc = strlen(spans[i].close);

		if (starts(s, len, spans[i].open) && starts(s + no, len - no, spans[i].close))
			return no + nc;         /* empty: "****" alone would be a rule */
		if (starts(s, len, spans[i].open)) {
			if (is_punct(first_char(s + no, len - no)) && is_word(last_char(m)))
				buf_puts(m->b, " ");
			buf_puts(m->b, spans[i].mark);
			m->line_start = false;
			return no;
		}
		if (starts(s, len, spans[i].close)) {
			bool spaced = is_punct(last_char(m)) && is_word(first_char(s + nc, len - nc));

			buf_puts(m->b, spans[i].mark);
			if (spaced)
				buf_puts(m->b, " ");
			m->line_start = false;
			return nc;
		}
	}
	if (starts(s, len, "<code>")) {
		size_t n = md_code(m, s + 6, len - 6);

		return n > 0 ? 6 + n : 0;
	}
	return 0;
}

/* The inline content of one line. */
static void
md_inline(struct md *m, const char *s, size_t len)
{
	size_t off = 0;

	while (off < len) {
		size_t n = run_len(s + off, len - off);

		md_text(m, s + off, n);
		off += n;
		if (off == len)
			break;
		if ((n = md_tag(m, s + off, len - off)) == 0) {
			/* Not one of ours: dropped like markup_to_plain does, or a lone '<'. */
			const char *gt = memchr(s + off, '>', len - off);

			if (gt != NULL) {
				n = (size_t)(gt - (s + off)) + 1;
			} else {
				md_text(m, "&lt;", 4);
				n = 1;
			}
		}
		off += n;
	}
}

static enum line_kind
line_kind(const char *s, size_t len, enum line_kind prev)
{
	size_t i = 0;

	while (i < len && is_space(s[i]))
		i++;
	if (i == len)
		return LINE_BLANK;
	if (i == 0 && starts(s, len, BULLET))
		return LINE_ITEM;
	if (i > 0 && (prev == LINE_ITEM || prev == LINE_CONT))
		return LINE_CONT;
	return LINE_TEXT;
}

static bool
in_list(enum line_kind k)
{
	return k == LINE_ITEM || k == LINE_CONT;
}

static void
md_render(struct buf *b, const char *markup)
{
	struct md m = { .b = b };
	enum line_kind prev = LINE_BLANK;
	const char *p = markup;
	bool first = true;

	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		enum line_kind k = line_kind(p, len, prev);

		while (len > 0 && is_space(p[len - 1]))
			len--;
		if (!first) {
			if (prev == LINE_BLANK || k == LINE_BLANK)
				buf_puts(b, "\n");
			else if (in_list(prev) != in_list(k))
				buf_puts(b, "\n\n");    /* a blank line between a list and text */
			else if (k == LINE_ITEM)
				buf_puts(b, "\n");      /* the next item */
			else
				buf_puts(b, "  \n");    /* a visible break */
		}
		first = false;
		m.line_start = true;
		if (k == LINE_ITEM) {
			buf_puts(b, "- ");
			p += strlen(BULLET);
			len -= strlen(BULLET);
		} else if (k == LINE_CONT) {
			buf_puts(b, "  ");
		}
		if (k != LINE_ITEM)
			while (len > 0 && is_space(*p)) {
				p++;
				len--;
			}
		if (k != LINE_BLANK)
			md_inline(&m, p, len);
		prev = k;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/* An owned copy with invalid UTF-8 replaced (valid text, the usual case, copied at once). */
static char *
valid_dup(const char *s)
{
	size_t len = strlen(s);

	return utf8_valid(s, len) ? xstrdup(s) : utf8_sanitize(s, len);
}

char *
markup_render(const char *markup, enum markup_format f)
{
	struct buf b;
	char *plain, *out;

	switch (f) {
	case MARKUP_HTML:
		return valid_dup(markup);
	case MARKUP_MARKDOWN:
		buf_init(&b, SIZE_MAX / 2);
		md_render(&b, markup);
		return buf_steal(&b);
	case MARKUP_PLAIN:
		break;
	}
	plain = markup_to_plain(markup);
	out = valid_dup(plain);
	free(plain);
	return out;
}

/* A Markdown rendering back to text: escapes, span marks and break spaces undone. */
static void
md_plain(struct buf *b, const char *md)
{
	const char *p = md;
	bool code = false;

	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

		while (len > 0 && p[len - 1] == ' ')
			len--;
		if (starts(p, len, "- ")) {
			buf_puts(b, BULLET);
			p += 2;
			len -= 2;
		}
		for (size_t i = 0; i < len; i++) {
			if (p[i] == '`')
				code = !code;   /* a code span: its text as it is */
			else if (code)
				buf_append(b, &p[i], 1);
			else if (p[i] == '\\' && i + 1 < len && (unsigned char)p[i + 1] < 0x80 &&
			    strchr("\\*_`[]<>~|&#+-=.)", p[i + 1]) != NULL)
				buf_append(b, &p[++i], 1);
			else if (p[i] != '*')
				buf_append(b, &p[i], 1);
		}
		code = false;
		if (nl == NULL)
			break;
		buf_puts(b, "\n");
		p = nl + 1;
	}
}

char *
markup_rendered_plain(const char *rendered, enum markup_format f)
{
	struct buf b;

	switch (f) {
	case MARKUP_HTML:
		return markup_to_plain(rendered);
	case MARKUP_MARKDOWN:
		buf_init(&b, SIZE_MAX / 2);
		md_plain(&b, rendered);
		return buf_steal(&b);
	case MARKUP_PLAIN:
		break;
	}
	return xstrdup(rendered);
}
