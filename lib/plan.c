/*
 * The plan model in memory: what a loaded plan is (plan.h), its lookups and
 * how its month-day dates get a year. Reading JSON is planfile.c; reading the
 * store is plandb.c. Kept free of text normalization, so a binary that only
 * reads the store (campaign-bridge) does not load OpenCC.
 */
#include "campaign/plan.h"

#include <stdlib.h>
#include <string.h>

#include "campaign/caldate.h"

static void
free_list(char **items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

int32_t
plan_resolve_md(int month, int day, int32_t anchor)
{
	int ay, am, ad, best_year = 0;
	int32_t best = CALDATE_NONE;
	int64_t best_dist = INT64_MAX;

	caldate_to_ymd(anchor, &ay, &am, &ad);
	for (int y = ay - 1; y <= ay + 1; y++) {
		int64_t dist;
		int32_t d;

		if (!caldate_valid_ymd(y, month, day))
			continue;
		d = caldate_from_ymd(y, month, day);
		dist = d > anchor ? (int64_t)d - anchor : (int64_t)anchor - d;
		if (dist < best_dist)
			best_dist = dist, best = d, best_year = y;
	}
	(void)best_year;
	return best;
}

void
plan_free(struct plan *plan)
{
	if (plan == NULL)
		return;
	for (size_t i = 0; i < plan->nunits; i++) {
		free(plan->units[i].name);
		free(plan->units[i].norm);
		free_list(plan->units[i].aliases, plan->units[i].naliases);
		free_list(plan->units[i].alias_norms, plan->units[i].naliases);
	}
	for (size_t i = 0; i < plan->ntasks; i++) {
		struct plan_task *t = &plan->tasks[i];

		free(t->id);
		free(t->title);
		free(t->detail);
		free(t->when);
		free(t->units);
		free(t->roles);
		free(t->placeholders);
		free_list(t->actors, t->nactors);
		free_list(t->report_to, t->nreport_to);
		free(t->deliverable);
	}
	free(plan->units);
	free(plan->tasks);
	free(plan->id);
	free(plan->title);
	free(plan->theme);
	free(plan->timezone);
	free(plan);
}

ssize_t
plan_task_index(const struct plan *plan, const char *id)
{
	for (size_t i = 0; i < plan->ntasks; i++)
		if (strcmp(plan->tasks[i].id, id) == 0)
			return (ssize_t)i;
	return -1;
}

const struct plan_task *
plan_task_get(const struct plan *plan, const char *id)
{
	ssize_t i = plan_task_index(plan, id);

	return i < 0 ? NULL : &plan->tasks[i];
}

ssize_t
plan_unit_index_id(const struct plan *plan, int64_t id)
{
	for (size_t i = 0; i < plan->nunits; i++)
		if (plan->units[i].id == id)
			return (ssize_t)i;
	return -1;
}

ssize_t
plan_unit_index_norm(const struct plan *plan, const char *norm)
{
	for (size_t i = 0; i < plan->nunits; i++)
		if (plan->units[i].norm != NULL && strcmp(plan->units[i].norm, norm) == 0)
			return (ssize_t)i;
	for (size_t i = 0; i < plan->nunits; i++) {
		const struct plan_unit *u = &plan->units[i];

		for (size_t a = 0; a < u->naliases; a++)
			if (u->alias_norms[a] != NULL && strcmp(u->alias_norms[a], norm) == 0)
				return (ssize_t)i;
	}
	return -1;
}

bool
plan_task_has_unit(const struct plan_task *t, size_t u)
{
	for (size_t i = 0; i < t->nunits; i++)
		if (t->units[i] == u)
			return true;
	return false;
}
