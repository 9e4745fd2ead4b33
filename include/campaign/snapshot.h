/*
 * JSON views of the campaign's current state: one task with its units'
 * progress, and the whole campaign's summary. The bridge publishes them as
 * the retained tasks/<id> and summary topics and campaignctl prints the same
 * shapes with --json, so a script and a display read one format.
 */
#ifndef CAMPAIGN_SNAPSHOT_H
#define CAMPAIGN_SNAPSHOT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "campaign/plan.h"
#include "campaign/progress.h"

/* Tasks due within this many days count as "due soon". */
#define SNAPSHOT_DUE_SOON_DAYS 7

struct summary {
	int32_t today;
	int32_t key_date;       /* CALDATE_NONE when the plan has none */
	int days_to_key;        /* key_date - today */
	size_t ntasks;
	size_t ndone;
	size_t noverdue;
	size_t ndue_soon;       /* not done, due within SNAPSHOT_DUE_SOON_DAYS */
	size_t npairs;          /* (task, unit) responsibilities */
	size_t npairs_reported; /* ... with at least one report */
	int percent;            /* mean of the tasks' percents */
};

void snapshot_summary(const struct plan *plan, const struct progress *progress,
    int32_t today, struct summary *out);
/* "YYYY-MM-DD", or null for CALDATE_NONE. New reference. */
json_t *snapshot_date_json(int32_t day);
/* New references. */
json_t *snapshot_task_json(const struct plan *plan, const struct progress *progress,
    size_t task, int32_t today);
json_t *snapshot_summary_json(const struct plan *plan, const struct progress *progress,
    int32_t today);

#endif
