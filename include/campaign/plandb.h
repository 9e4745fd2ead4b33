/*
 * The plan in the store: replacing it (campaignctl plan load) and reading it
 * back (everyone else). A replace is one transaction; units are matched on
 * their normalized name and tasks on their id, so progress, bindings and
 * invites of what survives are kept.
 */
#ifndef CAMPAIGN_PLANDB_H
#define CAMPAIGN_PLANDB_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "campaign/plan.h"
#include "campaign/store.h"

struct plandb_stats {
	int tasks_added, tasks_kept, tasks_removed;
	int units_added, units_kept, units_removed;
	int progress_kept;       /* task/unit states that survived */
	int bindings_dropped;    /* users whose unit left the plan */
};

int plandb_replace(struct store *s, const struct plan *plan, const char *source,
    time_t now, struct plandb_stats *stats);
/* The stored plan, or NULL (err says why: none loaded, or a store error). */
struct plan *plandb_load(struct store *s, char *err, size_t errlen);
bool plandb_present(struct store *s);
/* A value of the stored plan's meta (plan.id, plan.loaded_at ...), owned; NULL if absent. */
char *plandb_meta(struct store *s, const char *key);
/* Selects the stored plan's time zone for clock_today() & co; -1 with err. */
int plandb_use_zone(struct store *s, char *err, size_t errlen);

#endif
