/*
 * The bulletin as .docx (WordprocessingML in a zip, written with libzip):
 * three parts ([Content_Types].xml, _rels/.rels, word/document.xml) with the
 * formatting on each paragraph, so Word and WPS open it as GB/T 9704-2012
 * lays it out: A4, margins top 37 mm, left 28 mm, right 26 mm, bottom 35 mm
 * (版心 156 x 225 mm), 22 lines of 28 characters (exact line pitch 28.95 pt),
 * body 3号 仿宋_GB2312, title 2号 方正小标宋简体, headings 3号 黑体. Those
 * fonts are on office PCs; the PDF preview substitutes Noto CJK.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "bulletin.h"
#include "campaign/buf.h"
#include "campaign/xmalloc.h"

#define TWIPS_PER_MM (1440.0 / 25.4)
#define TWIPS(mm) ((long)((mm) * TWIPS_PER_MM + 0.5))
/* 225 mm / 22 lines, in twentieths of a point */
#define LINE_PITCH TWIPS(BULLETIN_TEXT_H_MM / BULLETIN_LINES)
#define HALF_POINTS(pt) ((int)((pt) * 2))

#define FONT_BODY "仿宋_GB2312"
#define FONT_TITLE "方正小标宋简体"
#define FONT_HEADING "黑体"

static const char content_types[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
    "<Default Extension=\"rels\" "
    "ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
    "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
    "<Override PartName=\"/word/document.xml\" ContentType=\"application/"
    "vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>"
    "</Types>";

static const char rels[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/"
    "2006/relationships/officeDocument\" Target=\"word/document.xml\"/>"
    "</Relationships>";

static void
escaped(struct buf *b, const char *text)
{
	for (const char *p = text; *p != '\0'; p++) {
		switch (*p) {
		case '&':
			buf_puts(b, "&amp;");
			break;
		case '<':
			buf_puts(b, "&lt;");
			break;
		case '>':
			buf_puts(b, "&gt;");
			break;
		case '"':
			buf_puts(b, "&quot;");
			break;
		default:
			if ((unsigned char)*p >= 0x20 || *p == '\t')
				buf_append(b, p, 1);
		}
	}
}

static void
run(struct buf *b, const char *font, double pt, bool bold, const char *text)
{
	buf_printf(b, "<w:r><w:rPr><w:rFonts w:ascii=\"%s\" w:eastAsia=\"%s\" w:hAnsi=\"%s\" "
	    "w:cs=\"%s\" w:hint=\"eastAsia\"/>%s<w:sz w:val=\"%d\"/><w:szCs w:val=\"%d\"/>"
	    "</w:rPr><w:t xml:space=\"preserve\">", font, font, font, font,
	    bold ? "<w:b/>" : "", HALF_POINTS(pt), HALF_POINTS(pt));
	escaped(b, text);
	buf_puts(b, "</w:t></w:r>");
}

/* One paragraph; indent is the first-line indent in characters (w:firstLineChars, 1/100). */
static void
para_right(struct buf *b, const char *align, int indent_chars, double right_chars,
    long pitch, const char *font, double pt, bool bold, const char *text)
{
	buf_printf(b, "<w:p><w:pPr><w:spacing w:before=\"0\" w:after=\"0\" w:line=\"%ld\" "
	    "w:lineRule=\"exact\"/>", pitch);
	if (indent_chars > 0)
		buf_printf(b, "<w:ind w:firstLineChars=\"%d\" w:firstLine=\"%d\"/>",
		    indent_chars * 100, (int)(indent_chars * pt * 20));
	if (right_chars > 0)
		buf_printf(b, "<w:ind w:right=\"%d\"/>", (int)(right_chars * pt * 20));
	buf_printf(b, "<w:jc w:val=\"%s\"/></w:pPr>", align);
	run(b, font, pt, bold, text);
	buf_puts(b, "</w:p>");
}

static void
para(struct buf *b, const char *align, int indent_chars, long pitch, const char *font,
    double pt, bool bold, const char *text)
{
	para_right(b, align, indent_chars, 0, pitch, font, pt, bold, text);
}

static void
table(struct buf *b, const struct bulletin_block *blk)
{
	long width = TWIPS(BULLETIN_TEXT_W_MM);

	buf_printf(b, "<w:tbl><w:tblPr><w:tblW w:w=\"%ld\" w:type=\"dxa\"/><w:jc w:val=\"center\"/>"
	    "<w:tblBorders>", width);
	static const char *const sides[] = { "top", "left", "bottom", "right", "insideH",
		"insideV" };
	for (size_t i = 0; i < sizeof(sides) / sizeof(sides[0]); i++)
		buf_printf(b, "<w:%s w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>",
		    sides[i]);
	buf_puts(b, "</w:tblBorders><w:tblLayout w:type=\"fixed\"/>"
	    "<w:tblCellMar><w:left w:w=\"85\" w:type=\"dxa\"/><w:right w:w=\"85\" w:type=\"dxa\"/>"
	    "</w:tblCellMar></w:tblPr><w:tblGrid>");
	for (size_t c = 0; c < blk->ncols; c++)
		buf_printf(b, "<w:gridCol w:w=\"%ld\"/>", (long)(width * blk->widths[c]));
	buf_puts(b, "</w:tblGrid>");
	for (size_t r = 0; r < blk->nrows; r++) {
		buf_puts(b, r == 0 ? "<w:tr><w:trPr><w:tblHeader/></w:trPr>" : "<w:tr>");
		for (size_t c = 0; c < blk->ncols; c++) {
			buf_printf(b, "<w:tc><w:tcPr><w:tcW w:w=\"%ld\" w:type=\"dxa\"/>"
			    "<w:vAlign w:val=\"center\"/></w:tcPr>", (long)(width * blk->widths[c]));
			para(b, r == 0 || c == 0 || c == 2 || c == 4 ? "center" : "left", 0,
			    (long)(BULLETIN_TABLE_PT * 1.5 * 20), r == 0 ? FONT_HEADING : FONT_BODY,
			    BULLETIN_TABLE_PT, false, blk->cells[r][c]);
			buf_puts(b, "</w:tc>");
		}
		buf_puts(b, "</w:tr>");
	}
	buf_puts(b, "</w:tbl>");
}

static char *
document(const struct bulletin *bl)
{
	struct buf b;

	buf_init(&b, 16 * 1024 * 1024);
	buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	    "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
	    "<w:body>");
	for (size_t i = 0; i < bl->n; i++) {
		const struct bulletin_block *blk = &bl->blocks[i];

		switch (blk->kind) {
		case BULLETIN_NUMBER:
			para(&b, "center", 0, LINE_PITCH, FONT_BODY, BULLETIN_BODY_PT, false,
			    blk->text);
			para(&b, "center", 0, LINE_PITCH, FONT_BODY, BULLETIN_BODY_PT, false, "");
			break;
		case BULLETIN_TITLE:
			para(&b, "center", 0, LINE_PITCH * 3 / 2, FONT_TITLE, BULLETIN_TITLE_PT,
			    false, blk->text);
			/* 标题下空一行, 主送机关 below it */
			para(&b, "center", 0, LINE_PITCH, FONT_BODY, BULLETIN_BODY_PT, false, "");
			break;
		case BULLETIN_ADDRESSEE:
			para(&b, "left", 0, LINE_PITCH, FONT_BODY, BULLETIN_BODY_PT, false, blk->text);
			break;
		case BULLETIN_HEADING:
			para(&b, "both", 2, LINE_PITCH, FONT_HEADING, BULLETIN_BODY_PT, false,
			    blk->text);
			break;
		case BULLETIN_PARA:
			para(&b, "both", 2, LINE_PITCH, FONT_BODY, BULLETIN_BODY_PT, false, blk->text);
			break;
		case BULLETIN_TABLE:
			table(&b, blk);
			break;
		case BULLETIN_SIGNER:
			para(&b, "center", 0, LINE_PITCH, FONT_BODY, BULLETIN_BODY_PT, false, "");
			para_right(&b, "right", 0, blk->right_chars, LINE_PITCH, FONT_BODY,
			    BULLETIN_BODY_PT, false, blk->text);
			break;
		case BULLETIN_DATE:
			para_right(&b, "right", 0, blk->right_chars, LINE_PITCH, FONT_BODY,
			    BULLETIN_BODY_PT, false, blk->text);
			break;
		}
	}
	/* A4, the margins of GB/T 9704-2012, 22 lines of 28 characters */
	buf_printf(&b, "<w:sectPr><w:pgSz w:w=\"%ld\" w:h=\"%ld\"/>"
	    "<w:pgMar w:top=\"%ld\" w:right=\"%ld\" w:bottom=\"%ld\" w:left=\"%ld\" "
	    "w:header=\"851\" w:footer=\"992\" w:gutter=\"0\"/>"
	    "<w:docGrid w:type=\"linesAndChars\" w:linePitch=\"%ld\" w:charSpace=\"%ld\"/>"
	    "</w:sectPr></w:body></w:document>",
	    TWIPS(BULLETIN_PAGE_W_MM), TWIPS(BULLETIN_PAGE_H_MM), TWIPS(BULLETIN_TOP_MM),
	    TWIPS(BULLETIN_PAGE_W_MM - BULLETIN_LEFT_MM - BULLETIN_TEXT_W_MM),
	    TWIPS(BULLETIN_PAGE_H_MM - BULLETIN_TOP_MM - BULLETIN_TEXT_H_MM),
	    TWIPS(BULLETIN_LEFT_MM), LINE_PITCH,
	    /* extra space per character, in 1/4096 pt: 156 mm / 28 chars - 16 pt */
	    (long)((BULLETIN_TEXT_W_MM / BULLETIN_CHARS / 25.4 * 72 - BULLETIN_BODY_PT) * 4096));
	return b.overflow ? (buf_free(&b), NULL) : buf_steal(&b);
}

/* The data must live until zip_close, which reads it. */
static int
add_part(zip_t *z, const char *name, const char *data)
{
	zip_source_t *src = zip_source_buffer(z, data, strlen(data), 0);

	if (src == NULL)
		return -1;
	if (zip_file_add(z, name, src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE) < 0) {
		zip_source_free(src);
		return -1;
	}
	return 0;
}

int
bulletin_write_docx(const struct bulletin *b, const char *path, char *err, size_t errlen)
{
	char *doc = document(b);
	int zerr = 0;
	zip_t *z;

	if (doc == NULL) {
		snprintf(err, errlen, "the bulletin is too long");
		return -1;
	}
	z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
	if (z == NULL) {
		zip_error_t ze;

		zip_error_init_with_code(&ze, zerr);
		snprintf(err, errlen, "%s: %s", path, zip_error_strerror(&ze));
		zip_error_fini(&ze);
		free(doc);
		return -1;
	}
	if (add_part(z, "[Content_Types].xml", content_types) < 0 ||
	    add_part(z, "_rels/.rels", rels) < 0 ||
	    add_part(z, "word/document.xml", doc) < 0 || zip_close(z) < 0) {
		snprintf(err, errlen, "%s: %s", path, zip_strerror(z));
		zip_discard(z);
		free(doc);
		return -1;
	}
	free(doc);
	return 0;
}
