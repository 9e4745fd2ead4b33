/*
 * The office's bulletin (通报, issue 15): the campaign's state as of a day,
 * from the store alone, as a small document model (blocks in reading
 * order) that two writers render: .docx for editing in Word/WPS
 * (bulletin_docx.c, libzip) and a PDF preview (bulletin_pdf.c, pango and
 * cairo). Layout follows GB/T 9704-2012; see docs/mail-and-bulletin.md.
 */
#ifndef CAMPAIGNCTL_BULLETIN_H
#define CAMPAIGNCTL_BULLETIN_H

#include <stddef.h>
#include <stdint.h>

#include "campaign/plan.h"
#include "campaign/store.h"

enum bulletin_kind {
	BULLETIN_NUMBER,        /* 发文字号 placeholder, centered */
	BULLETIN_TITLE,         /* 标题: 2号 方正小标宋, centered */
	BULLETIN_ADDRESSEE,     /* 主送机关, flush left */
	BULLETIN_HEADING,       /* 一级标题 "一、…": 3号 黑体 */
	BULLETIN_PARA,          /* 正文: 3号 仿宋, first line indented two characters */
	BULLETIN_TABLE,
	BULLETIN_SIGNER,        /* 发文机关署名, right */
	BULLETIN_DATE,          /* 成文日期, right */
};

struct bulletin_block {
	enum bulletin_kind kind;
	char *text;             /* all but tables */
	char ***cells;          /* tables: rows x ncols, row 0 the header */
	size_t nrows, ncols;
	const double *widths;   /* tables: column shares, summing to 1 */
	double right_chars;     /* right indent in body characters (署名, 成文日期) */
};

struct bulletin {
	struct bulletin_block *blocks;
	size_t n;
	char *plain;            /* a short text version (for chat) */
};

/* Page geometry of GB/T 9704-2012, in millimetres and points. */
#define BULLETIN_PAGE_W_MM 210.0
#define BULLETIN_PAGE_H_MM 297.0
#define BULLETIN_TOP_MM 37.0            /* 天头 */
#define BULLETIN_LEFT_MM 28.0           /* 订口 */
#define BULLETIN_TEXT_W_MM 156.0        /* 版心 156 x 225 */
#define BULLETIN_TEXT_H_MM 225.0
#define BULLETIN_LINES 22               /* lines per page */
#define BULLETIN_CHARS 28               /* characters per line */
#define BULLETIN_BODY_PT 16.0           /* 3号 */
#define BULLETIN_TITLE_PT 22.0          /* 2号 */
#define BULLETIN_TABLE_PT 12.0          /* 小4号 */

/* Builds the bulletin as of day (a day number). NULL with err. */
struct bulletin *bulletin_build(struct store *s, const struct plan *plan, int32_t day,
    char *err, size_t errlen);
void bulletin_free(struct bulletin *b);

/* Writers: 0, or -1 with err. */
int bulletin_write_docx(const struct bulletin *b, const char *path, char *err,
    size_t errlen);
int bulletin_write_pdf(const struct bulletin *b, const char *path, char *err,
    size_t errlen);

#endif
