/*
 * The importer's report: notes with line numbers, collected by every stage
 * and printed as "file:line: warning: …" (the compiler convention, so an
 * editor can jump to the line), after a one-line summary of what was found.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/utf8.h"
#include "campaign/xmalloc.h"
#include "import_priv.h"

void
imp_note(struct imp_notes *notes, int line, int last_line, enum import_level level,
    const char *fmt, ...)
{
	va_list ap;
	char text[1024];

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (notes->n == notes->cap) {
		notes->cap = notes->cap == 0 ? 32 : notes->cap * 2;
		notes->v = xreallocarray(notes->v, notes->cap, sizeof(*notes->v));
	}
	notes->v[notes->n++] = (struct import_note){
		.line = line,
		.last_line = last_line > line ? last_line : line,
		.level = level,
		.text = xstrdup(text),
	};
}

void
imp_excerpt(const char *text, size_t max_chars, char *out, size_t outlen)
{
	size_t n;

	if (outlen == 0)
		return;
	do {
		n = utf8_prefix_chars(text, max_chars);
	} while (n + 4 > outlen && max_chars-- > 0);
	snprintf(out, outlen, "%.*s%s", (int)n, text, text[n] != '\0' ? "…" : "");
}

void
import_result_free(struct import_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nnotes; i++)
		free(r->notes[i].text);
	free(r->notes);
	free(r->json);
	free(r->error);
	free(r);
}

void
import_report_print(const struct import_result *r, const char *name, FILE *fp)
{
	if (r->json != NULL) {
		fprintf(fp, "%s: %s, %d lines: %zu tasks, %zu units, %zu dates (%zu resolved)",
		    name, r->encoding, r->nlines, r->ntasks, r->nunits, r->ndates,
		    r->ndates_resolved);
		if (r->year > 0)
			fprintf(fp, "; year %d (from the %s)\n", r->year, r->year_source);
		else
			fprintf(fp, "; no year (month-day dates: plan load picks the coming "
			    "campaign)\n");
	}
	for (size_t i = 0; i < r->nnotes; i++) {
		const struct import_note *n = &r->notes[i];
		const char *level = n->level == IMPORT_WARNING ? "warning" : "note";

		if (n->line <= 0)
			fprintf(fp, "%s: %s: %s\n", name, level, n->text);
		else if (n->last_line > n->line)
			fprintf(fp, "%s:%d-%d: %s: %s\n", name, n->line, n->last_line, level,
			    n->text);
		else
			fprintf(fp, "%s:%d: %s: %s\n", name, n->line, level, n->text);
	}
	if (r->json != NULL) {
		size_t warnings = 0;

		for (size_t i = 0; i < r->nnotes; i++)
			warnings += r->notes[i].level == IMPORT_WARNING;
		fprintf(fp, "%s: %zu line(s) to check\n", name, warnings);
	}
}
