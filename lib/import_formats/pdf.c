/*
 * A .pdf with a text layer to text, with poppler's GLib API. A PDF keeps
 * lines, not paragraphs: lines wrapped inside a paragraph (and across a page
 * break) are joined again; a paragraph ends at a full stop, before a heading
 * ("二、", "(三)", "4、") or after a line clearly shorter than the page's
 * text width. Running headers and footers (a line repeated at the top or
 * bottom of pages) and page numbers ("- 3 -", "第3页", "3/5") go. A PDF
 * without any text (a scan) is refused with a message saying so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <poppler.h>

#include "campaign/buf.h"
#include "campaign/import.h"
#include "campaign/import_formats.h"
#include "campaign/utf8.h"
#include "campaign/xmalloc.h"

#define PDF_MAX_PAGES 500

struct line {
	char *text;
	int page;
	bool first, last;       /* the page's first / last line */
	bool drop;
};

static char *
trim(const char *s, size_t len)
{
	while (len > 0 && (*s == ' ' || *s == '\t' || *s == '\r'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		len--;
	/* U+3000 at either end */
	while (len >= 3 && memcmp(s, "\xe3\x80\x80", 3) == 0)
		s += 3, len -= 3;
	while (len >= 3 && memcmp(s + len - 3, "\xe3\x80\x80", 3) == 0)
		len -= 3;
	return xstrndup(s, len);
}

static size_t
cplen(const char *s)
{
	unsigned char c = (unsigned char)s[0];
	size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;

	for (size_t i = 1; i < n; i++)
		if (s[i] == '\0')
			return i;
	return n;
}

/* "3", "- 3 -", "—3—", "第3页", "第 3 页 共 5 页", "3/5", "Page 3" */
static bool
page_number(const char *s)
{
	int digits = 0, other = 0;

	for (const char *p = s; *p != '\0'; p += cplen(p)) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (strchr(" -/|.", *p) != NULL || strncmp(p, "—", 3) == 0 ||
		    strncmp(p, "第", 3) == 0 || strncmp(p, "页", 3) == 0 ||
		    strncmp(p, "共", 3) == 0 || strncmp(p, "Page", 4) == 0)
			continue;
		else
			other++;
	}
	return digits > 0 && digits <= 6 && other == 0;
}

/* A print stamp at a page's edge: "12/6/26, 8:03 PM", "2024-03-20 10:00", a URL. */
static bool
stamp(const char *s)
{
	int digits = 0;

	if (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0 ||
	    strncmp(s, "file://", 7) == 0)
		return true;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (strchr("/-:,. APMapm", *p) == NULL)
			return false;
	}
	return digits >= 4;
}

/* The line with its digits blanked: how running headers repeat. */
static char *
shape(const char *s)
{
	char *c = xstrdup(s);

	for (char *p = c; *p != '\0'; p++)
		if (*p >= '0' && *p <= '9')
			*p = '#';
	return c;
}

static bool
heading_start(const char *s)
{
	static const char *const cn[] = { "一", "二", "三", "四", "五", "六", "七", "八", "九",
		"十" };

	if (*s == '(' || strncmp(s, "（", 3) == 0 || strncmp(s, "第", 3) == 0)
		return true;
	if (*s >= '0' && *s <= '9') {
		while (*s >= '0' && *s <= '9')
			s++;
		return *s == '.' || *s == ')' || strncmp(s, "、", 3) == 0 ||
		    strncmp(s, "．", 3) == 0;
	}
	if ((unsigned char)s[0] == 0xe2 && (unsigned char)s[1] == 0x91)
		return true; /* ①.. */
	for (size_t i = 0; i < sizeof(cn) / sizeof(cn[0]); i++)
		if (strncmp(s, cn[i], 3) == 0) {
			const char *p = s + 3;

			while (strncmp(p, "十", 3) == 0 || strncmp(p, "一", 3) == 0 ||
			    strncmp(p, "二", 3) == 0 || strncmp(p, "三", 3) == 0)
				p += 3;
			return strncmp(p, "、", 3) == 0;
		}
	return false;
}

static bool
ends_sentence(const char *s)
{
	static const char *const ends[] = { "。", "！", "？", "；", "：", "!", "?", ";", ":",
		"”", ")", "）" };
	size_t len = strlen(s);

	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		size_t n = strlen(ends[i]);

		if (len >= n && memcmp(s + len - n, ends[i], n) == 0)
			return true;
	}
	return false;
}

static int
by_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The page's text width in characters: most lines of a wrapped paragraph
 * are full, so the upper quartile of the line lengths (lines of 10+ characters).
 */
static size_t
text_width(const struct line *lines, size_t n)
{
	size_t *len = xcalloc(n + 1, sizeof(*len)), k = 0, w;

	for (size_t i = 0; i < n; i++)
		if (!lines[i].drop && utf8_chars(lines[i].text) >= 10)
			len[k++] = utf8_chars(lines[i].text);
	if (k == 0) {
		free(len);
		return 0;
	}
	qsort(len, k, sizeof(*len), by_size);
	w = len[(k * 3) / 4];
	free(len);
	return w;
}

char *
import_pdf_text(const void *data, size_t len, size_t *outlen, char *err, size_t errlen)
{
	GBytes *bytes = g_bytes_new(data, len);
	GError *gerr = NULL;
	PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
	struct line *lines = NULL;
	size_t n = 0, chars = 0, width = 0;
	int pages;
	struct buf b;
	char *out = NULL;

	if (doc == NULL) {
		snprintf(err, errlen, "this PDF could not be read (%s)%s",
		    gerr != NULL ? gerr->message : "damaged",
		    gerr != NULL && gerr->code == POPPLER_ERROR_ENCRYPTED ?
		    ": it is password-protected; save an unprotected copy" : "");
		if (gerr != NULL)
			g_error_free(gerr);
		g_bytes_unref(bytes);
		return NULL;
	}
	pages = poppler_document_get_n_pages(doc);
	if (pages > PDF_MAX_PAGES)
		pages = PDF_MAX_PAGES;
	for (int i = 0; i < pages; i++) {
		PopplerPage *page = poppler_document_get_page(doc, i);
		char *text = page != NULL ? poppler_page_get_text(page) : NULL;
		size_t first = n;

		for (const char *p = text; p != NULL && *p != '\0';) {
			const char *nl = strchr(p, '\n');
			size_t l = nl != NULL ? (size_t)(nl - p) : strlen(p);
			char *t = trim(p, l);

			if (*t != '\0') {
				lines = xreallocarray(lines, n + 1, sizeof(*lines));
				lines[n++] = (struct line){ .text = t, .page = i };
				chars += strlen(t);
			} else {
				free(t);
			}
			p += l + (nl != NULL);
		}
		/* page numbers first, so the page's first and last lines are its text's */
		for (size_t k = first; k < n; k++)
			lines[k].drop = page_number(lines[k].text);
		for (size_t k = first; k < n; k++)
			if (!lines[k].drop) {
				lines[k].first = true;
				break;
			}
		for (size_t k = n; k > first; k--)
			if (!lines[k - 1].drop) {
				lines[k - 1].last = true;
				break;
			}
		g_free(text);
		if (page != NULL)
			g_object_unref(page);
	}
	if (chars == 0) {
		snprintf(err, errlen, "this PDF has no text layer (%d page(s) of images: a scan?); "
		    "the importer reads text, not pictures: ask for the original .docx, or run "
		    "it through OCR and import the text", poppler_document_get_n_pages(doc));
		goto out;
	}
	/* Running headers and footers: the same shape at the top or bottom of 2+ pages. */
	for (size_t i = 0; i < n; i++) {
		int same = 0;
		char *si;

		if (lines[i].drop || !(lines[i].first || lines[i].last))
			continue;
		if (stamp(lines[i].text)) {
			lines[i].drop = true; /* a browser's print date or the page's address */
			continue;
		}
		if (pages < 2)
			continue;
		si = shape(lines[i].text);
		for (size_t k = 0; k < n; k++) {
			char *sk;

			if (k == i || lines[k].page == lines[i].page ||
			    !(lines[k].first || lines[k].last))
				continue;
			sk = shape(lines[k].text);
			same += strcmp(si, sk) == 0;
			free(sk);
		}
		free(si);
		lines[i].drop = same > 0;
	}
	width = text_width(lines, n);
	buf_init(&b, IMPORT_MAX_BYTES * 4);
	for (size_t i = 0; i < n; i++) {
		size_t next;
		bool end;

		if (lines[i].drop)
			continue;
		buf_puts(&b, lines[i].text);
		for (next = i + 1; next < n && lines[next].drop; next++)
			;
		/* a paragraph ends at a full stop, before a heading, or on a short line */
		end = next >= n || ends_sentence(lines[i].text) || heading_start(lines[next].text) ||
		    utf8_chars(lines[i].text) * 10 < width * 9;
		if (end) {
			buf_puts(&b, "\n");
		} else {
			const char *t = lines[i].text;
			char last = t[strlen(t) - 1], first = lines[next].text[0];

			if ((last & 0x80) == 0 && (first & 0x80) == 0 && last != '-')
				buf_puts(&b, " ");
		}
	}
	*outlen = b.len;
	out = buf_steal(&b);
out:
	for (size_t i = 0; i < n; i++)
		free(lines[i].text);
	free(lines);
	g_object_unref(doc);
	g_bytes_unref(bytes);
	return out;
}
