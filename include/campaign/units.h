/*
 * Finding a unit from what a person typed: exact normalized name, alias,
 * then a unique substring ("宣传部" finds "市委宣传部"). Ambiguous and unknown
 * names come back with candidates, so callers can ask "did you mean ...".
 */
#ifndef CAMPAIGN_UNITS_H
#define CAMPAIGN_UNITS_H

#include <stddef.h>
#include <sys/types.h>

#include "campaign/plan.h"

#define UNITS_MAX_CANDIDATES 5

enum unit_match {
	UNIT_NONE,              /* candidates: the closest names, maybe none */
	UNIT_EXACT,
	UNIT_ALIAS,
	UNIT_SUBSTRING,
	UNIT_AMBIGUOUS,         /* candidates: the names that contain the query */
};

struct unit_lookup {
	enum unit_match match;
	size_t unit;            /* index into plan->units when found */
	size_t candidates[UNITS_MAX_CANDIDATES];
	size_t ncandidates;
};

void units_lookup(const struct plan *plan, const char *query, struct unit_lookup *out);
/* The same for a query that already went through textnorm_text. */
void units_lookup_normalized(const struct plan *plan, const char *text,
    struct unit_lookup *out);
/*
 * The unit a normalized free text mentions: the longest unit name or alias
 * it contains. Returns the unit index, or -1; *at and *len give the byte
 * span in norm_text.
 */
ssize_t units_in_text(const struct plan *plan, const char *norm_text, size_t *at,
    size_t *len);
/* Similarity of two normalized strings, 0..1 (character bigram Dice). */
double units_similarity(const char *a, const char *b);

#endif
