/*
 * Which tasks to show: a unit's tasks, deadlines in the next N days, overdue
 * ones; soonest due first. Shared by the bot's answers and campaignctl, so
 * both say the same thing about the same day.
 */
#ifndef CAMPAIGN_AGENDA_H
#define CAMPAIGN_AGENDA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "campaign/plan.h"
#include "campaign/progress.h"

#define AGENDA_NO_DUE INT32_MIN

struct agenda_filter {
	ssize_t unit;           /* only tasks of this unit; -1 for all */
	int due_within;         /* only deadlines today..today+N; -1 for any */
	bool overdue;           /* only past due and not done */
	bool hide_done;         /* leave out what is done */
};

struct agenda_item {
	size_t task;            /* index into plan->tasks */
	int32_t days_left;      /* due - today (negative: overdue); AGENDA_NO_DUE */
	int percent;            /* the unit's when filtered by unit, else the task's */
	bool done;
	bool overdue;
};

/* The default filter: everything. */
void agenda_filter_init(struct agenda_filter *f);
/* Selects and sorts; returns the count, *out owned by the caller. */
size_t agenda_select(const struct plan *plan, const struct progress *progress,
    int32_t today, const struct agenda_filter *f, struct agenda_item **out);

#endif
