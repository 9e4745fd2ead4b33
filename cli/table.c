/* Text tables measured in display columns (utf8_width), see table.h. */
#include "table.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/utf8.h"
#include "campaign/xmalloc.h"

struct table {
	size_t ncols;
	char **cells;           /* rows * ncols, row 0 is the header */
	size_t nrows;
	size_t col;             /* next cell in the current row */
	size_t *limit;          /* per column, 0 = none */
};

struct table *
table_new(size_t ncols, const char *const *headers)
{
	struct table *t = xcalloc(1, sizeof(*t));

	t->ncols = ncols;
	t->limit = xcalloc(ncols, sizeof(*t->limit));
	table_row(t);
	for (size_t i = 0; i < ncols; i++)
		table_cell(t, "%s", headers[i]);
	return t;
}

void
table_row(struct table *t)
{
	t->cells = xreallocarray(t->cells, (t->nrows + 1) * t->ncols, sizeof(*t->cells));
	for (size_t i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] = NULL;
	t->nrows++;
	t->col = 0;
}

void
table_cell(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (t->col >= t->ncols)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = xstrdup("");
	va_end(ap);
	t->cells[(t->nrows - 1) * t->ncols + t->col++] = s;
}

void
table_limit(struct table *t, size_t col, size_t max_cols)
{
	if (col < t->ncols)
		t->limit[col] = max_cols;
}

/* The cell as shown: cut to the column's limit. Owned. */
static char *
shown(const struct table *t, size_t row, size_t col)
{
	const char *s = t->cells[row * t->ncols + col];
	size_t keep;

	if (s == NULL)
		return xstrdup("");
	if (t->limit[col] == 0 || utf8_width(s) <= t->limit[col])
		return xstrdup(s);
	keep = utf8_prefix_width(s, t->limit[col] - 1);
	return xasprintf("%.*s…", (int)keep, s);
}

void
table_print(const struct table *t, FILE *fp)
{
	size_t *width = xcalloc(t->ncols, sizeof(*width));

	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			char *s = shown(t, r, c);
			size_t w = utf8_width(s);

			if (w > width[c])
				width[c] = w;
			free(s);
		}
	}
	for (size_t r = 0; r < t->nrows; r++) {
		size_t pending = 0;     /* spaces owed before the next non-empty cell */

		for (size_t c = 0; c < t->ncols; c++) {
			char *s = shown(t, r, c);
			size_t w = utf8_width(s);

			if (*s != '\0') {
				fprintf(fp, "%*s%s", (int)pending, "", s);
				pending = 0;
			}
			pending += width[c] - w + (c + 1 < t->ncols ? 2 : 0);
			free(s);
		}
		fputc('\n', fp);
	}
	free(width);
}

void
table_free(struct table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->limit);
	free(t);
}
