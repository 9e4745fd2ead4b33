/*
 * The bulletin's PDF preview with pango and cairo: A4, the same grid as the
 * .docx (GB/T 9704-2012: 版心 156 x 225 mm at 28 mm from the left and 37 mm
 * from the top, 22 lines per page), with Noto CJK standing in for the
 * office fonts (Noto Serif CJK SC for 仿宋 and 小标宋, Noto Sans CJK SC for
 * 黑体), embedded by cairo as subsets. Page numbers "— N —" in 4号 under
 * the text block, outside edge.
 */
#include <cairo-pdf.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulletin.h"
#include "campaign/xmalloc.h"

#define PT(mm) ((mm) * 72.0 / 25.4)
#define PITCH PT(BULLETIN_TEXT_H_MM / BULLETIN_LINES)
#define X0 PT(BULLETIN_LEFT_MM)
#define Y0 PT(BULLETIN_TOP_MM)
#define W PT(BULLETIN_TEXT_W_MM)
#define BOTTOM (Y0 + PT(BULLETIN_TEXT_H_MM))
#define CELL_PAD 3.0

#define SERIF "Noto Serif CJK SC"
#define SANS "Noto Sans CJK SC"

struct pen {
	cairo_t *cr;
	double y;               /* top of the next line slot */
	int page;
};

static void
page_number(struct pen *p)
{
	PangoLayout *l = pango_cairo_create_layout(p->cr);
	PangoFontDescription *fd = pango_font_description_from_string(SERIF " 14");
	char text[32];
	int w, h;

	snprintf(text, sizeof(text), "— %d —", p->page);
	pango_layout_set_font_description(l, fd);
	pango_layout_set_text(l, text, -1);
	pango_layout_get_pixel_size(l, &w, &h);
	/* odd pages right, even pages left, 7 mm below the text block */
	cairo_move_to(p->cr, p->page % 2 == 1 ? X0 + W - w - PT(7) : X0 + PT(7),
	    BOTTOM + PT(7));
	pango_cairo_show_layout(p->cr, l);
	pango_font_description_free(fd);
	g_object_unref(l);
}

static void
new_page(struct pen *p)
{
	page_number(p);
	cairo_show_page(p->cr);
	p->page++;
	p->y = Y0;
}

static PangoLayout *
layout(struct pen *p, const char *family, bool bold, double pt, double width,
    PangoAlignment align, double indent, const char *text)
{
	PangoLayout *l = pango_cairo_create_layout(p->cr);
	PangoFontDescription *fd = pango_font_description_new();

	pango_font_description_set_family(fd, family);
	pango_font_description_set_weight(fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
	pango_font_description_set_absolute_size(fd, pt * PANGO_SCALE);
	pango_layout_set_font_description(l, fd);
	pango_layout_set_width(l, (int)(width * PANGO_SCALE));
	pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_alignment(l, align);
	pango_layout_set_justify(l, align == PANGO_ALIGN_LEFT && indent > 0);
	pango_layout_set_indent(l, (int)(indent * PANGO_SCALE));
	pango_layout_set_text(l, text, -1);
	pango_font_description_free(fd);
	return l;
}

/* A paragraph on the grid: each line in a slot of height pitch, breaking pages. */
static void
text_block_right(struct pen *p, const char *family, bool bold, double pt, double pitch,
    PangoAlignment align, double indent, double right, const char *text)
{
	PangoLayout *l = layout(p, family, bold, pt, W - right, align, indent, text);
	int n = pango_layout_get_line_count(l);

	for (int i = 0; i < n; i++) {
		PangoLayoutLine *line = pango_layout_get_line_readonly(l, i);
		PangoRectangle ink, logical;
		double x;

		if (p->y + pitch > BOTTOM + 0.5)
			new_page(p);
		pango_layout_line_get_pixel_extents(line, &ink, &logical);
		/* pango places the line within the layout's width: x from the line's own offset */
		{
			PangoLayoutIter *it = pango_layout_get_iter(l);
			PangoRectangle lr;

			for (int k = 0; k < i; k++)
				pango_layout_iter_next_line(it);
			pango_layout_iter_get_line_extents(it, NULL, &lr);
			x = X0 + (double)lr.x / PANGO_SCALE;
			pango_layout_iter_free(it);
		}
		cairo_move_to(p->cr, x, p->y + (pitch + 0.72 * pt) / 2);
		pango_cairo_show_layout_line(p->cr, line);
		p->y += pitch;
	}
	g_object_unref(l);
}

static void
text_block(struct pen *p, const char *family, bool bold, double pt, double pitch,
    PangoAlignment align, double indent, const char *text)
{
	text_block_right(p, family, bold, pt, pitch, align, indent, 0, text);
}

static double
row_height(struct pen *p, const struct bulletin_block *blk, size_t r, PangoLayout **cells)
{
	double h = 0;

	for (size_t c = 0; c < blk->ncols; c++) {
		double cw = W * blk->widths[c] - 2 * CELL_PAD;
		int lw, lh;

		cells[c] = layout(p, r == 0 ? SANS : SERIF, false, BULLETIN_TABLE_PT, cw,
		    r == 0 || (c != 1 && c != 3) ? PANGO_ALIGN_CENTER : PANGO_ALIGN_LEFT, 0,
		    blk->cells[r][c]);
		pango_layout_set_spacing(cells[c], (int)(BULLETIN_TABLE_PT * 0.4 * PANGO_SCALE));
		pango_layout_get_pixel_size(cells[c], &lw, &lh);
		if (lh > h)
			h = lh;
	}
	return h + 2 * CELL_PAD + 2;
}

static void
draw_row(struct pen *p, const struct bulletin_block *blk, PangoLayout **cells, double h)
{
	double x = X0;

	cairo_set_line_width(p->cr, 0.6);
	for (size_t c = 0; c < blk->ncols; c++) {
		double cw = W * blk->widths[c];
		int lw, lh;

		cairo_rectangle(p->cr, x, p->y, cw, h);
		cairo_stroke(p->cr);
		pango_layout_get_pixel_size(cells[c], &lw, &lh);
		cairo_move_to(p->cr, x + CELL_PAD, p->y + (h - lh) / 2);
		pango_cairo_show_layout(p->cr, cells[c]);
		x += cw;
	}
	p->y += h;
}

static void
free_cells(PangoLayout **cells, size_t n)
{
	for (size_t c = 0; c < n; c++)
		if (cells[c] != NULL)
			g_object_unref(cells[c]);
	memset(cells, 0, n * sizeof(*cells));
}

static void
table_block(struct pen *p, const struct bulletin_block *blk)
{
	PangoLayout **head = xcalloc(blk->ncols, sizeof(*head));
	PangoLayout **cells = xcalloc(blk->ncols, sizeof(*cells));
	double hh = row_height(p, blk, 0, head);

	if (p->y + hh * 2 > BOTTOM)
		new_page(p);
	draw_row(p, blk, head, hh);
	for (size_t r = 1; r < blk->nrows; r++) {
		double h = row_height(p, blk, r, cells);

		if (p->y + h > BOTTOM) {
			new_page(p);
			draw_row(p, blk, head, hh);     /* the header again on each page */
		}
		draw_row(p, blk, cells, h);
		free_cells(cells, blk->ncols);
	}
	/* back on the grid: the next text starts at a line slot */
	{
		double used = p->y - Y0;
		int slots = (int)(used / PITCH) + 1;

		p->y = Y0 + slots * PITCH;
		if (p->y > BOTTOM)
			p->y = BOTTOM;
	}
	free_cells(head, blk->ncols);
	free(head);
	free(cells);
}

int
bulletin_write_pdf(const struct bulletin *b, const char *path, char *err, size_t errlen)
{
	cairo_surface_t *surface = cairo_pdf_surface_create(path, PT(BULLETIN_PAGE_W_MM),
	    PT(BULLETIN_PAGE_H_MM));
	struct pen p = { .y = Y0, .page = 1 };
	cairo_status_t st;

	if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
		snprintf(err, errlen, "%s: %s", path,
		    cairo_status_to_string(cairo_surface_status(surface)));
		cairo_surface_destroy(surface);
		return -1;
	}
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "campaignctl");
	p.cr = cairo_create(surface);
	cairo_set_source_rgb(p.cr, 0, 0, 0);
	for (size_t i = 0; i < b->n; i++) {
		const struct bulletin_block *blk = &b->blocks[i];
		double indent = 2 * BULLETIN_BODY_PT;

		switch (blk->kind) {
		case BULLETIN_NUMBER:
			text_block(&p, SERIF, false, BULLETIN_BODY_PT, PITCH, PANGO_ALIGN_CENTER, 0,
			    blk->text);
			p.y += PITCH;
			break;
		case BULLETIN_TITLE:
			cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, blk->text);
			text_block(&p, SERIF, true, BULLETIN_TITLE_PT, PITCH * 1.5,
			    PANGO_ALIGN_CENTER, 0, blk->text);
			p.y += PITCH;
			break;
		case BULLETIN_ADDRESSEE:
			text_block(&p, SERIF, false, BULLETIN_BODY_PT, PITCH, PANGO_ALIGN_LEFT, 0,
			    blk->text);
			break;
		case BULLETIN_HEADING:
			text_block(&p, SANS, false, BULLETIN_BODY_PT, PITCH, PANGO_ALIGN_LEFT,
			    indent, blk->text);
			break;
		case BULLETIN_PARA:
			text_block(&p, SERIF, false, BULLETIN_BODY_PT, PITCH, PANGO_ALIGN_LEFT,
			    indent, blk->text);
			break;
		case BULLETIN_TABLE:
			table_block(&p, blk);
			break;
		case BULLETIN_SIGNER:
			p.y += PITCH;
			text_block_right(&p, SERIF, false, BULLETIN_BODY_PT, PITCH,
			    PANGO_ALIGN_RIGHT, 0, blk->right_chars * BULLETIN_BODY_PT, blk->text);
			break;
		case BULLETIN_DATE:
			text_block_right(&p, SERIF, false, BULLETIN_BODY_PT, PITCH,
			    PANGO_ALIGN_RIGHT, 0, blk->right_chars * BULLETIN_BODY_PT, blk->text);
			break;
		}
	}
	page_number(&p);
	cairo_show_page(p.cr);
	cairo_destroy(p.cr);
	cairo_surface_finish(surface);
	st = cairo_surface_status(surface);
	cairo_surface_destroy(surface);
	/* campaignctl renders once: give the font caches back (leak checkers see them) */
	pango_cairo_font_map_set_default(NULL);
	cairo_debug_reset_static_data();
	FcFini();
	if (st != CAIRO_STATUS_SUCCESS) {
		snprintf(err, errlen, "%s: %s", path, cairo_status_to_string(st));
		return -1;
	}
	return 0;
}
