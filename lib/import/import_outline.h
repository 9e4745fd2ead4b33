/*
 * The outline builder's private state (import_outline.c), shared with the
 * readers of tables and dated lists (import_table.c): the open headings, the
 * item body lines go to, and a table's columns.
 */
#ifndef CAMPAIGN_IMPORT_OUTLINE_H
#define CAMPAIGN_IMPORT_OUTLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "import_priv.h"

enum mark { MARK_NONE, MARK_CN, MARK_CN_PAREN, MARK_NUM, MARK_NUM_PAREN, MARK_CIRCLED,
	MARK_SHI /* 一是…;二是…: a list inside a paragraph */ };

struct marker {
	enum mark kind;
	int number;
	size_t len;             /* marker and the spaces after it */
	bool bare;              /* "一)": a (一) that lost its "(" (line starts only) */
};

struct frame {
	enum mark kind;
	int number;
	ssize_t item;           /* -1: a field heading ("3、活动时间:…") */
};

/* The columns of a table flattened into space-separated lines. */
struct table {
	bool on;
	size_t ncols;
	int content, time, units; /* column indices, -1 if absent */
};

struct state {
	struct frame stack[IMP_MAX_DEPTH];
	int depth;
	struct table table;
	ssize_t target;         /* the item body lines go to; -1: preamble */
	struct imp_outline *out;
	struct imp_notes *notes;
	size_t cap_items;
	char *pending[4];       /* a table row's fields, added once its item is open */
	size_t npending;
};

/* import_outline.c: the steps the table readers build items with. */
size_t imp_ol_skip_spaces(const char *s);
void imp_ol_body_add(struct state *st, const char *text, size_t len, int line);
void imp_ol_body_add_later(struct state *st, char *field);
void imp_ol_open_level(struct state *st, int d, const struct marker *m);
void imp_ol_take_heading(struct state *st, int d, const struct marker *m, const char *text,
    size_t len, int line);

/* import_table.c: tables flattened into lines, and lists of dated activities. */
bool imp_table_header(const char *s, struct table *t);
bool imp_table_row(struct state *st, const char *s, int line);
void imp_table_open_section(struct state *st, const char *head, int line);
void imp_table_dated_lines(struct state *st);
size_t imp_table_vertical(struct state *st, const struct imp_doc *doc, size_t i);

#endif
