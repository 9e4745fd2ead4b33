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

struct line {
	char *text;
	int page;
	bool first, last;       /* the page's first / last line */
	bool drop;
	double x1, x2, em;      /* left and right ends, a full-width character's width */
	int cells;              /* wide gaps inside: a table row's cell breaks */
};

struct glyph {
	double x1, y1, x2, y2;
	char utf8[8];
};

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
by_y(const void *a, const void *b)
{
	const struct glyph *g = a, *k = b;
	double cg = (g->y1 + g->y2) / 2, ck = (k->y1 + k->y2) / 2;

	return cg < ck ? -1 : cg > ck;
}

static int
by_x(const void *a, const void *b)
{
	const struct glyph *g = a, *k = b;

	return g->x1 < k->x1 ? -1 : g->x1 > k->x1;
}

/*
 * A page's lines rebuilt from its glyphs' positions (poppler's text order
 * wanders in tables): glyphs on one baseline make a line, left to right; a
 * gap wider than a character becomes a space (wider still: a cell break).
 */
static void
page_lines(PopplerPage *page, struct line **lines, size_t *n, int pageno)
{
	char *text = poppler_page_get_text(page);
	PopplerRectangle *rects = NULL;
	guint nrects = 0;
	struct glyph *g;
	size_t ng = 0, idx = 0;

	if (text == NULL || !poppler_page_get_text_layout(page, &rects, &nrects)) {
		g_free(text);
		return;
	}
	g = xcalloc(strlen(text) + 1, sizeof(*g));
	for (const char *p = text; *p != '\0' && idx < nrects; idx++) {
		size_t len = cplen(p);
		const PopplerRectangle *r = &rects[idx];

		if (!(len == 1 && (*p == '\n' || *p == ' ' || *p == '\t' || *p == '\r')) &&
		    len < sizeof(g->utf8) && r->y2 > r->y1 && r->x2 >= r->x1) {
			struct glyph *q = &g[ng++];

			q->x1 = r->x1, q->x2 = r->x2, q->y1 = r->y1, q->y2 = r->y2;
			memcpy(q->utf8, p, len);
			q->utf8[len] = '\0';
		}
		p += len;
	}
	qsort(g, ng, sizeof(*g), by_y);
	for (size_t i = 0; i < ng;) {
		size_t k = i + 1;
		double h = g[i].y2 - g[i].y1, cy = (g[i].y1 + g[i].y2) / 2, em;
		struct buf b;
		struct line *l;

		while (k < ng && (g[k].y1 + g[k].y2) / 2 - cy < h * 0.5)
			k++;
		qsort(g + i, k - i, sizeof(*g), by_x);
		/* the em: the widest non-ASCII glyph (a CJK character), else half the height */
		em = 0;
		for (size_t j = i; j < k; j++)
			if ((g[j].utf8[0] & 0x80) != 0 && g[j].x2 - g[j].x1 > em)
				em = g[j].x2 - g[j].x1;
		if (em <= 0)
			em = h * 0.5;
		*lines = xreallocarray(*lines, *n + 1, sizeof(**lines));
		l = &(*lines)[(*n)++];
		memset(l, 0, sizeof(*l));
		buf_init(&b, IMPORT_MAX_BYTES);
		for (size_t j = i; j < k; j++) {
			double gap = j > i ? g[j].x1 - g[j - 1].x2 : 0;
			bool ascii = j > i && (g[j].utf8[0] & 0x80) == 0 &&
			    (g[j - 1].utf8[0] & 0x80) == 0;

			if (j > i && (gap > em * 0.3 || (ascii && gap > em * 0.2))) {
				buf_puts(&b, " ");
				l->cells += !ascii;
			}
			buf_puts(&b, g[j].utf8);
		}
		l->text = buf_steal(&b);
		l->page = pageno;
		l->x1 = g[i].x1;
		l->x2 = g[k - 1].x2;
		l->em = em;
		i = k;
	}
	free(g);
	g_free(rects);
	g_free(text);
}

/* Page numbers, print stamps and running headers and footers. */
static void
drop_furniture(struct line *lines, size_t n, int pages)
{
	for (size_t i = 0; i < n; i++)
		lines[i].drop = page_number(lines[i].text);
	/* the page's first and last lines, page numbers aside */
	for (size_t i = 0; i < n; i++) {
		bool first = true, last = true;

		for (size_t k = i; k-- > 0 && lines[k].page == lines[i].page;)
			first = first && lines[k].drop;
		for (size_t k = i + 1; k < n && lines[k].page == lines[i].page; k++)
			last = last && lines[k].drop;
		lines[i].first = first && !lines[i].drop;
		lines[i].last = last && !lines[i].drop;
	}
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
}

/* The text's left margin and right edge. */
static void
margins(const struct line *lines, size_t n, double *left, double *right)
{
	*left = 1e9;
	*right = 0;
	for (size_t i = 0; i < n; i++) {
		if (lines[i].drop)
			continue;
		if (lines[i].x1 < *left)
			*left = lines[i].x1;
		if (lines[i].x2 > *right && lines[i].cells == 0)
			*right = lines[i].x2;
	}
}

char *
import_pdf_text(const void *data, size_t len, size_t *outlen, char *err, size_t errlen)
{
	GBytes *bytes = g_bytes_new(data, len);
	GError *gerr = NULL;
	PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
	struct line *lines = NULL;
	size_t n = 0, chars = 0;
	double left, right;
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

		if (page == NULL)
			continue;
		page_lines(page, &lines, &n, i);
		g_object_unref(page);
	}
	drop_furniture(lines, n, pages);
	for (size_t i = 0; i < n; i++)
		if (!lines[i].drop)
			chars += strlen(lines[i].text);
	if (chars == 0) {
		snprintf(err, errlen, "this PDF has no text layer (%d page(s) of images: a scan?); "
		    "the importer reads text, not pictures: ask for the original .docx, or run "
		    "it through OCR and import the text", poppler_document_get_n_pages(doc));
		goto out;
	}
	margins(lines, n, &left, &right);
	buf_init(&b, IMPORT_MAX_BYTES * 4);
	for (size_t i = 0; i < n; i++) {
		size_t next;
		bool end;

		if (lines[i].drop)
			continue;
		buf_puts(&b, lines[i].text);
		for (next = i + 1; next < n && lines[next].drop; next++)
			;
		/*
		 * A paragraph ends at a full stop, before a heading or an indented
		 * line, after a line that stops short of the right edge, and around
		 * a table row; otherwise the next line continues it (across pages too).
		 */
		end = next >= n || ends_sentence(lines[i].text) || heading_start(lines[next].text) ||
		    lines[i].x2 < right - lines[i].em * 1.5 ||
		    lines[next].x1 > left + lines[next].em * 1.2 ||
		    lines[i].cells > 0 || lines[next].cells > 0;
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
