/*
 * Progress: what each responsible unit reported for each task. Reading the
 * current state and the history lives here; recording a report (with its
 * progress event, atomically) too, so there is one owner of these tables.
 */
#ifndef CAMPAIGN_PROGRESS_H
#define CAMPAIGN_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "campaign/plan.h"
#include "campaign/store.h"

#define PROGRESS_NOTE_MAX_CHARS 500

struct progress_cell {
	bool reported;
	int percent;            /* 0..100; 100 when done */
	bool done;
	char *note;             /* may be NULL */
	time_t at;
};

/* The current state of every (task, unit) of a plan. */
struct progress {
	size_t ntasks, nunits;
	struct progress_cell *cells;    /* [task * nunits + unit] */
};

/*
 * The current state of every task and unit; a unit that has sent the file a
 * task asks for (issue 15: a deliverable) is done with it (100%).
 */
struct progress *progress_load(struct store *s, const struct plan *plan);
void progress_free(struct progress *p);
const struct progress_cell *progress_cell(const struct progress *p, size_t task, size_t unit);
/* A task's percent: the mean over its responsible units (0 when it has none). */
int progress_task_percent(const struct progress *p, const struct plan *plan, size_t task);
/* Done when every responsible unit reported done (never for a task without units). */
bool progress_task_done(const struct progress *p, const struct plan *plan, size_t task);

struct report_row {
	int64_t id;
	char *task_id;
	char *unit;             /* unit name */
	int percent;
	bool done;
	char *note;
	char *platform;
	char *user_id;
	char *user_name;
	time_t at;
};

/* A task's report history, oldest first. */
int progress_history(struct store *s, const char *task_id, struct report_row **rows,
    size_t *n);
void report_rows_free(struct report_row *rows, size_t n);

struct report_input {
	const char *task_id;
	size_t unit;            /* index into plan->units */
	int percent;            /* 0..100 */
	bool done;              /* forces percent 100 */
	const char *note;       /* may be NULL */
	const char *platform;   /* "telegram", "console", "cli" ... */
	const char *user_id;
	const char *user_name;  /* may be NULL */
	time_t at;
	const char *source_key; /* idempotence key (e.g. "telegram:update:42"); may be NULL */
};

enum report_result { REPORT_RECORDED, REPORT_DUPLICATE, REPORT_INVALID, REPORT_ERROR };

/*
 * Records a report: history row, current state and a "progress" event, in one
 * transaction (nested in the caller's if one is open). A repeated source_key
 * is a no-op (REPORT_DUPLICATE). REPORT_INVALID (unit not responsible, bad
 * percent, note too long) and REPORT_ERROR carry a message in err.
 */
enum report_result progress_report(struct store *s, const struct plan *plan,
    const struct report_input *in, int64_t *event_id, char *err, size_t errlen);

#endif
