/*
 * Aligned text tables for terminals: columns padded by display width, so
 * Chinese (two columns per character) lines up with ASCII.
 */
#ifndef CAMPAIGNCTL_TABLE_H
#define CAMPAIGNCTL_TABLE_H

#include <stddef.h>
#include <stdio.h>

struct table;

/* headers: ncols strings. */
struct table *table_new(size_t ncols, const char *const *headers);
/* Starts a new row; cells are then added left to right with table_cell. */
void table_row(struct table *t);
void table_cell(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Cuts cells of column col to max_cols display columns (with "…"). */
void table_limit(struct table *t, size_t col, size_t max_cols);
void table_print(const struct table *t, FILE *fp);
void table_free(struct table *t);

#endif
