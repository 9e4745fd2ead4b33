/*
 * Unit lookup on the in-memory plan (a plan has tens of units, so linear
 * scans are the simple and fast choice). Everything compares textnorm_name
 * forms, so traditional, full-width and spaced input all match.
 */
#include "campaign/units.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/textnorm.h"
#include "campaign/utf8.h"
#include "campaign/xmalloc.h"

static bool
unit_contains(const struct plan_unit *u, const char *norm)
{
	if (strstr(u->norm, norm) != NULL)
		return true;
	for (size_t a = 0; a < u->naliases; a++)
		if (strstr(u->alias_norms[a], norm) != NULL)
			return true;
	return false;
}

double
units_similarity(const char *a, const char *b)
{
	uint32_t *x, *y;
	size_t nx = utf8_decode_all(a, &x), ny = utf8_decode_all(b, &y);
	size_t common = 0;
	bool *used;
	double score;

	if (nx < 2 || ny < 2) {
		/* One character: similar only if it occurs in the other. */
		score = 0;
		if (nx == 1)
			for (size_t j = 0; j < ny; j++)
				if (y[j] == x[0])
					score = 1.0 / (double)ny;
		free(x);
		free(y);
		return score;
	}
	used = xcalloc(ny, sizeof(*used));
	for (size_t i = 0; i + 1 < nx; i++) {
		for (size_t j = 0; j + 1 < ny; j++) {
			if (!used[j] && x[i] == y[j] && x[i + 1] == y[j + 1]) {
				used[j] = true;
				common++;
				break;
			}
		}
	}
	score = 2.0 * (double)common / (double)((nx - 1) + (ny - 1));
	free(used);
	free(x);
	free(y);
	return score;
}

static double
best_similarity(const struct plan_unit *u, const char *norm)
{
	double best = units_similarity(u->norm, norm);

	for (size_t a = 0; a < u->naliases; a++) {
		double s = units_similarity(u->alias_norms[a], norm);

		if (s > best)
			best = s;
	}
	return best;
}

static void
closest(const struct plan *plan, const char *norm, struct unit_lookup *out)
{
	double scores[UNITS_MAX_CANDIDATES];

	for (size_t i = 0; i < plan->nunits; i++) {
		double s = best_similarity(&plan->units[i], norm);
		size_t pos;

		if (s < 0.25)
			continue;
		pos = out->ncandidates;
		while (pos > 0 && scores[pos - 1] < s)
			pos--;
		if (pos >= 3)
			continue;
		if (out->ncandidates < 3)
			out->ncandidates++;
		for (size_t k = out->ncandidates - 1; k > pos; k--) {
			scores[k] = scores[k - 1];
			out->candidates[k] = out->candidates[k - 1];
		}
		scores[pos] = s;
		out->candidates[pos] = i;
	}
}

void
units_lookup(const struct plan *plan, const char *query, struct unit_lookup *out)
{
	char *text = textnorm_text(query);

	units_lookup_normalized(plan, text, out);
	free(text);
}

void
units_lookup_normalized(const struct plan *plan, const char *text, struct unit_lookup *out)
{
	char *norm = textnorm_name_of_text(text);
	size_t found = 0;

	memset(out, 0, sizeof(*out));
	out->match = UNIT_NONE;
	if (*norm == '\0')
		goto out;
	for (size_t i = 0; i < plan->nunits; i++) {
		if (strcmp(plan->units[i].norm, norm) == 0) {
			out->match = UNIT_EXACT;
			out->unit = i;
			goto out;
		}
	}
	for (size_t i = 0; i < plan->nunits; i++) {
		const struct plan_unit *u = &plan->units[i];

		for (size_t a = 0; a < u->naliases; a++) {
			if (strcmp(u->alias_norms[a], norm) == 0) {
				out->match = UNIT_ALIAS;
				out->unit = i;
				goto out;
			}
		}
	}
	for (size_t i = 0; i < plan->nunits; i++) {
		if (!unit_contains(&plan->units[i], norm))
			continue;
		if (found < UNITS_MAX_CANDIDATES)
			out->candidates[found] = i;
		found++;
	}
	if (found == 1) {
		out->match = UNIT_SUBSTRING;
		out->unit = out->candidates[0];
		out->ncandidates = 0;
	} else if (found > 1) {
		out->match = UNIT_AMBIGUOUS;
		out->ncandidates = found < UNITS_MAX_CANDIDATES ? found : UNITS_MAX_CANDIDATES;
	} else {
		closest(plan, norm, out);
	}
out:
	free(norm);
}

ssize_t
units_in_text(const struct plan *plan, const char *norm_text, size_t *at, size_t *len)
{
	ssize_t best = -1;
	size_t best_len = 0;

	for (size_t i = 0; i < plan->nunits; i++) {
		const struct plan_unit *u = &plan->units[i];
		const char *names[1 + 64];
		size_t n = 0;

		names[n++] = u->norm;
		for (size_t a = 0; a < u->naliases && n < sizeof(names) / sizeof(names[0]); a++)
			names[n++] = u->alias_norms[a];
		for (size_t k = 0; k < n; k++) {
			const char *hit = strstr(norm_text, names[k]);
			size_t l = strlen(names[k]);

			if (hit != NULL && l > best_len) {
				best = (ssize_t)i;
				best_len = l;
				*at = (size_t)(hit - norm_text);
				*len = l;
			}
		}
	}
	return best;
}
