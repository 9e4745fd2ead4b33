/*
 * .docx (Office Open XML) to text: word/document.xml read with libzip from
 * memory and parsed with libxml2 (no network, no external entities). One
 * paragraph per line, its automatic number written out as Word shows it
 * ("一、", "(一)", "1.", from numbering.xml, also when a paragraph style
 * carries it); a table row per line, its cells separated by spaces (the
 * importer reads flattened tables). Deleted text and field codes are not text.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <zip.h>

#include "campaign/buf.h"
#include "campaign/import.h"
#include "campaign/import_formats.h"
#include "campaign/xmalloc.h"

#define DOCX_MAX_PART (64u << 20) /* a zip bomb's document.xml is refused */
#define NUM_MAX 64                /* numbering definitions kept */
#define LVL_MAX 9

struct level {
	char fmt[32];           /* numFmt: decimal, chineseCounting, bullet ... */
	char text[64];          /* lvlText: "%1、", "(%2)" */
	int start;
};

struct numbering {
	int num_id[NUM_MAX];    /* w:num numId -> index of its abstract */
	int abstract_of[NUM_MAX];
	size_t nnum;
	int abstract_id[NUM_MAX];
	struct level lvl[NUM_MAX][LVL_MAX];
	size_t nabstract;
	int count[NUM_MAX][LVL_MAX]; /* per numId index: the counters */
	bool started[NUM_MAX][LVL_MAX];
	/* paragraph styles that carry a number */
	char style[NUM_MAX][64];
	int style_num[NUM_MAX], style_lvl[NUM_MAX];
	size_t nstyle;
};

static bool
is(const xmlNode *n, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE &&
	    strcmp((const char *)n->name, name) == 0;
}

/* An attribute by local name (w:val, w:ilvl ...), or NULL. */
static const char *
attr(const xmlNode *n, const char *name)
{
	for (const xmlAttr *a = n != NULL ? n->properties : NULL; a != NULL; a = a->next)
		if (strcmp((const char *)a->name, name) == 0 && a->children != NULL &&
		    a->children->type == XML_TEXT_NODE)
			return (const char *)a->children->content;
	return NULL;
}

static const xmlNode *
child(const xmlNode *n, const char *name)
{
	for (const xmlNode *c = n != NULL ? n->children : NULL; c != NULL; c = c->next)
		if (is(c, name))
			return c;
	return NULL;
}

static int
int_attr(const xmlNode *n, const char *name, int dflt)
{
	const char *v = attr(n, name);
	char *end;
	long x;

	if (v == NULL)
		return dflt;
	x = strtol(v, &end, 10);
	return *end == '\0' && x >= -1000000 && x <= 1000000 ? (int)x : dflt;
}

/* A part of the package, NUL-terminated; NULL if absent or too large. */
static char *
read_part(zip_t *za, const char *name, size_t *len)
{
	zip_stat_t st;
	zip_file_t *f;
	char *buf;
	zip_int64_t got;

	zip_stat_init(&st);
	if (zip_stat(za, name, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE) ||
	    st.size > DOCX_MAX_PART)
		return NULL;
	f = zip_fopen(za, name, 0);
	if (f == NULL)
		return NULL;
	buf = xmalloc((size_t)st.size + 1);
	got = zip_fread(f, buf, st.size);
	zip_fclose(f);
	if (got < 0 || (zip_uint64_t)got != st.size) {
		free(buf);
		return NULL;
	}
	buf[got] = '\0';
	*len = (size_t)got;
	return buf;
}

static xmlDoc *
parse(const char *xml, size_t len, const char *name)
{
	if (len > (size_t)INT32_MAX)
		return NULL;
	return xmlReadMemory(xml, (int)len, name, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

static void
read_numbering(zip_t *za, struct numbering *nb)
{
	size_t len;
	char *xml = read_part(za, "word/numbering.xml", &len);
	xmlDoc *doc;
	const xmlNode *root;

	if (xml == NULL)
		return;
	doc = parse(xml, len, "numbering.xml");
	free(xml);
	if (doc == NULL)
		return;
	root = xmlDocGetRootElement(doc);
	for (const xmlNode *n = root != NULL ? root->children : NULL; n != NULL; n = n->next) {
		if (is(n, "abstractNum") && nb->nabstract < NUM_MAX) {
			size_t a = nb->nabstract++;

			nb->abstract_id[a] = int_attr(n, "abstractNumId", -1);
			for (const xmlNode *l = n->children; l != NULL; l = l->next) {
				int il = int_attr(l, "ilvl", -1);
				struct level *lv;
				const char *v;

				if (!is(l, "lvl") || il < 0 || il >= LVL_MAX)
					continue;
				lv = &nb->lvl[a][il];
				lv->start = int_attr(child(l, "start"), "val", 1);
				if ((v = attr(child(l, "numFmt"), "val")) != NULL)
					snprintf(lv->fmt, sizeof(lv->fmt), "%s", v);
				if ((v = attr(child(l, "lvlText"), "val")) != NULL)
					snprintf(lv->text, sizeof(lv->text), "%s", v);
			}
		} else if (is(n, "num") && nb->nnum < NUM_MAX) {
			int abs_id = int_attr(child(n, "abstractNumId"), "val", -1);

			nb->num_id[nb->nnum] = int_attr(n, "numId", -1);
			nb->abstract_of[nb->nnum] = -1;
			for (size_t a = 0; a < nb->nabstract; a++)
				if (nb->abstract_id[a] == abs_id)
					nb->abstract_of[nb->nnum] = (int)a;
			nb->nnum++;
		}
	}
	xmlFreeDoc(doc);
}

/* Paragraph styles with a number ("List Number"): styles.xml's w:numPr. */
static void
read_styles(zip_t *za, struct numbering *nb)
{
	size_t len;
	char *xml = read_part(za, "word/styles.xml", &len);
	xmlDoc *doc;
	const xmlNode *root;

	if (xml == NULL)
		return;
	doc = parse(xml, len, "styles.xml");
	free(xml);
	if (doc == NULL)
		return;
	root = xmlDocGetRootElement(doc);
	for (const xmlNode *n = root != NULL ? root->children : NULL; n != NULL; n = n->next) {
		const xmlNode *numpr = child(child(n, "pPr"), "numPr");
		const char *id = attr(n, "styleId");

		if (!is(n, "style") || numpr == NULL || id == NULL || nb->nstyle >= NUM_MAX)
			continue;
		snprintf(nb->style[nb->nstyle], sizeof(nb->style[0]), "%s", id);
		nb->style_num[nb->nstyle] = int_attr(child(numpr, "numId"), "val", -1);
		nb->style_lvl[nb->nstyle] = int_attr(child(numpr, "ilvl"), "val", 0);
		nb->nstyle++;
	}
	xmlFreeDoc(doc);
}

static void
put_chinese(struct buf *b, int v)
{
	static const char *const digits[] = { "〇", "一", "二", "三", "四", "五", "六", "七",
		"八", "九" };

	if (v <= 0 || v >= 100) {
		buf_printf(b, "%d", v);
		return;
	}
	if (v >= 10) {
		if (v >= 20)
			buf_puts(b, digits[v / 10]);
		buf_puts(b, "十");
		if (v % 10 != 0)
			buf_puts(b, digits[v % 10]);
		return;
	}
	buf_puts(b, digits[v]);
}

static void
put_number(struct buf *b, const char *fmt, int v)
{
	if (strncmp(fmt, "chinese", 7) == 0 || strncmp(fmt, "ideograph", 9) == 0 ||
	    strncmp(fmt, "japaneseCounting", 16) == 0 || strcmp(fmt, "taiwaneseCounting") == 0)
		put_chinese(b, v);
	else if (strncmp(fmt, "decimalEnclosedCircle", 21) == 0 && v >= 1 && v <= 20) {
		char enc[4] = { (char)0xe2, (char)0x91, (char)(0xa0 + v - 1), 0 };

		buf_puts(b, enc); /* U+2460.. */
	} else if (strcmp(fmt, "lowerLetter") == 0 && v >= 1 && v <= 26)
		buf_printf(b, "%c", 'a' + v - 1);
	else if (strcmp(fmt, "upperLetter") == 0 && v >= 1 && v <= 26)
		buf_printf(b, "%c", 'A' + v - 1);
	else if (strcmp(fmt, "none") != 0 && strcmp(fmt, "bullet") != 0)
		buf_printf(b, "%d", v);
}

/* The number Word shows before a paragraph, written into b. */
static void
put_list_number(struct buf *b, struct numbering *nb, int num_id, int ilvl)
{
	size_t k;
	int a;
	const struct level *lv;

	for (k = 0; k < nb->nnum && nb->num_id[k] != num_id; k++)
		;
	if (k == nb->nnum || ilvl < 0 || ilvl >= LVL_MAX || (a = nb->abstract_of[k]) < 0)
		return;
	lv = &nb->lvl[a][ilvl];
	if (strcmp(lv->fmt, "bullet") == 0 || lv->text[0] == '\0')
		return;
	if (!nb->started[k][ilvl]) {
		nb->count[k][ilvl] = lv->start - 1;
		nb->started[k][ilvl] = true;
	}
	nb->count[k][ilvl]++;
	for (int d = ilvl + 1; d < LVL_MAX; d++)
		nb->started[k][d] = false;
	for (const char *p = lv->text; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] >= '1' && p[1] <= '9') {
			int l = p[1] - '1';

			put_number(b, nb->lvl[a][l].fmt[0] ? nb->lvl[a][l].fmt : "decimal",
			    nb->started[k][l] ? nb->count[k][l] : nb->lvl[a][l].start);
			p++;
		} else {
			buf_append(b, p, 1);
		}
	}
}

/* The text of runs under n (recursively), without paragraph breaks. */
static void
put_runs(struct buf *b, const xmlNode *n)
{
	for (const xmlNode *c = n->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is(c, "t")) {
			xmlChar *s = xmlNodeGetContent(c);

			if (s != NULL)
				buf_puts(b, (const char *)s);
			xmlFree(s);
		} else if (is(c, "tab") || is(c, "br") || is(c, "cr")) {
			buf_puts(b, " ");
		} else if (is(c, "noBreakHyphen")) {
			buf_puts(b, "-");
		} else if (is(c, "delText") || is(c, "instrText") || is(c, "del") ||
		    is(c, "pPr") || is(c, "rPr") || is(c, "footnoteReference")) {
			continue;
		} else {
			put_runs(b, c);
		}
	}
}

static void
put_paragraph(struct buf *b, struct numbering *nb, const xmlNode *p, bool line)
{
	const xmlNode *ppr = child(p, "pPr"), *numpr = child(ppr, "numPr");
	int num_id = -1, ilvl = 0;
	size_t before = b->len;

	if (numpr != NULL) {
		num_id = int_attr(child(numpr, "numId"), "val", -1);
		ilvl = int_attr(child(numpr, "ilvl"), "val", 0);
	} else {
		const char *style = attr(child(ppr, "pStyle"), "val");

		for (size_t i = 0; style != NULL && i < nb->nstyle; i++)
			if (strcmp(nb->style[i], style) == 0)
				num_id = nb->style_num[i], ilvl = nb->style_lvl[i];
	}
	if (num_id > 0)
		put_list_number(b, nb, num_id, ilvl);
	put_runs(b, p);
	if (line && b->len > before)
		buf_puts(b, "\n");
}

static void put_block(struct buf *b, struct numbering *nb, const xmlNode *n);

/* A table: one line per row, cells separated by a space. */
static void
put_table(struct buf *b, struct numbering *nb, const xmlNode *tbl)
{
	for (const xmlNode *tr = tbl->children; tr != NULL; tr = tr->next) {
		bool first = true;

		if (!is(tr, "tr"))
			continue;
		for (const xmlNode *tc = tr->children; tc != NULL; tc = tc->next) {
			struct buf cell;

			if (!is(tc, "tc"))
				continue;
			buf_init(&cell, DOCX_MAX_PART);
			for (const xmlNode *p = tc->children; p != NULL; p = p->next) {
				if (is(p, "p")) {
					if (cell.len > 0)
						buf_puts(&cell, " ");
					put_paragraph(&cell, nb, p, false);
				} else if (is(p, "tbl")) {
					struct buf inner;

					buf_init(&inner, DOCX_MAX_PART);
					put_table(&inner, nb, p);
					for (char *q = inner.data; q != NULL && *q != '\0'; q++)
						if (*q == '\n')
							*q = ' ';
					buf_puts(&cell, buf_str(&inner));
					buf_free(&inner);
				}
			}
			/* a cell's own spaces would split it: it stays one cell */
			if (cell.len > 0) {
				if (!first)
					buf_puts(b, " ");
				for (const char *q = buf_str(&cell); *q != '\0'; q++)
					if (*q != ' ')
						buf_append(b, q, 1);
				first = false;
			}
			buf_free(&cell);
		}
		if (!first)
			buf_puts(b, "\n");
	}
}

static void
put_block(struct buf *b, struct numbering *nb, const xmlNode *n)
{
	for (const xmlNode *c = n->children; c != NULL; c = c->next) {
		if (is(c, "p"))
			put_paragraph(b, nb, c, true);
		else if (is(c, "tbl"))
			put_table(b, nb, c);
		else if (is(c, "sdt") || is(c, "sdtContent") || is(c, "customXml") ||
		    is(c, "ins") || is(c, "body"))
			put_block(b, nb, c);
	}
}

char *
import_docx_text(const void *data, size_t len, size_t *outlen, char *err, size_t errlen)
{
	zip_error_t zerr;
	zip_source_t *src;
	zip_t *za = NULL;
	char *xml = NULL, *out = NULL;
	size_t xml_len = 0;
	xmlDoc *doc = NULL;
	const xmlNode *body;
	struct numbering *nb = xcalloc(1, sizeof(*nb));
	struct buf b;

	zip_error_init(&zerr);
	src = zip_source_buffer_create(data, len, 0, &zerr);
	if (src != NULL && (za = zip_open_from_source(src, ZIP_RDONLY, &zerr)) == NULL)
		zip_source_free(src);
	if (za == NULL) {
		snprintf(err, errlen, "this Word file (.docx) is damaged: %s; open it in Word "
		    "or WPS and save it again", zip_error_strerror(&zerr));
		goto out;
	}
	xml = read_part(za, "word/document.xml", &xml_len);
	if (xml == NULL) {
		snprintf(err, errlen, "this .docx has no readable word/document.xml (damaged, "
		    "or over %u MiB); open it in Word or WPS and save it again",
		    DOCX_MAX_PART >> 20);
		goto out;
	}
	read_numbering(za, nb);
	read_styles(za, nb);
	doc = parse(xml, xml_len, "document.xml");
	if (doc == NULL || xmlDocGetRootElement(doc) == NULL) {
		snprintf(err, errlen, "this .docx's document.xml is not well-formed XML; open "
		    "it in Word or WPS and save it again");
		goto out;
	}
	/* no w:body under the root (damaged: an undeclared prefix makes it "h:body") */
	if ((body = child(xmlDocGetRootElement(doc), "body")) == NULL) {
		snprintf(err, errlen, "this .docx's document.xml has no document body (w:body); "
		    "open it in Word or WPS and save it again");
		goto out;
	}
	buf_init(&b, IMPORT_MAX_BYTES * 4);
	put_block(&b, nb, body);
	*outlen = b.len;
	out = buf_steal(&b);
out:
	if (doc != NULL)
		xmlFreeDoc(doc);
	free(xml);
	free(nb);
	if (za != NULL)
		zip_discard(za);
	zip_error_fini(&zerr);
	return out;
}
