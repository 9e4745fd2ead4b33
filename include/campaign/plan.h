/*
 * The campaign plan (schema campaign-plan/1, docs/REFERENCE.md): units and
 * tasks with their dates. Loaded from JSON here, stored by plandb, read back
 * from the store by everything else. Dates are resolved day numbers: a plan
 * written with month-day dates ("10-17", "year": null) gets its year at load.
 */
#ifndef CAMPAIGN_PLAN_H
#define CAMPAIGN_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PLAN_TASK_ID_MAX 32
#define PLAN_NAME_MAX_CHARS 100
/*
 * Limits (docs/ARCHITECTURE.md "Limits"): a city campaign has tens of tasks
 * and units; these leave two orders of magnitude of room and keep every
 * command and reminder tick fast. A plan beyond them is refused, never cut.
 */
#define PLAN_MAX_BYTES (8 * 1024 * 1024)  /* the JSON text */
#define PLAN_MAX_TASKS 5000
#define PLAN_MAX_UNITS 1000
#define PLAN_MAX_TASK_UNITS 500           /* units responsible for one task */
#define PLAN_MAX_ALIASES 20               /* aliases of one unit */

struct plan_unit {
	int64_t id;             /* the store's id; 0 for a plan read from JSON */
	char *name;             /* as written */
	char *norm;             /* textnorm_name(name) */
	char **aliases;         /* as written */
	char **alias_norms;     /* textnorm_name of each alias */
	size_t naliases;
	bool placeholder;       /* "相关单位", "各有关单位": named by the document but
	                           nobody to remind, invite or wait for (optional
	                           "placeholder": true) */
};

/* A unit's part in a task (optional "lead"/"support" lists of a task). */
enum plan_role { PLAN_ROLE_NONE, PLAN_ROLE_LEAD, PLAN_ROLE_SUPPORT };

struct plan_task {
	char *id;               /* "2.4": section.item of the document */
	char *title;
	char *detail;           /* may be NULL */
	char *when;             /* the date phrase as written; may be NULL */
	int32_t start;          /* CALDATE_NONE when open */
	int32_t due;            /* inclusive; CALDATE_NONE when open */
	bool fuzzy;             /* the phrase is approximate (左右, 月底, 旬 ...) */
	size_t *units;          /* indexes into plan->units */
	size_t nunits;
	unsigned char *roles;   /* enum plan_role of each of units (may be NULL) */
	size_t *placeholders;   /* plandb_load: the task's placeholder units, kept
	                           out of units (no reminder, no progress weight) */
	size_t nplaceholders;
	char **actors;          /* optional doers named instead of units ("各地") */
	size_t nactors;
	char **report_to;       /* optional recipients named by the document */
	size_t nreport_to;
	char *deliverable;      /* a document each unit submits ("…总结"); may be NULL */
};

struct plan {
	char *id;               /* [A-Za-z0-9._-], used in MQTT topics */
	char *title;
	char *theme;            /* may be NULL */
	char *timezone;         /* IANA name */
	int year;               /* the campaign year after resolution */
	bool year_given;        /* false: resolved from month-day dates */
	int32_t key_date;       /* CALDATE_NONE when the plan has none */
	struct plan_unit *units;
	size_t nunits;
	struct plan_task *tasks;
	size_t ntasks;
};

struct plan_load_opts {
	int year;               /* --year: 0 when not given */
	int32_t today;          /* for resolving an open year */
};

/*
 * Loads and validates a campaign-plan/1 file. NULL with a located message in
 * err ("file:line:col: ..." or "file: tasks[2] (2.3).due: ...") on error.
 */
struct plan *plan_load_file(const char *path, const struct plan_load_opts *opts,
    char *err, size_t errlen);
/* Same, from a string; name is used in messages. */
struct plan *plan_load_string(const char *json, const char *name,
    const struct plan_load_opts *opts, char *err, size_t errlen);
void plan_free(struct plan *plan);

const struct plan_task *plan_task_get(const struct plan *plan, const char *id);
/* Index of the task with this id, or -1. */
ssize_t plan_task_index(const struct plan *plan, const char *id);
/* Index of the unit with this store id, or -1. */
ssize_t plan_unit_index_id(const struct plan *plan, int64_t id);
/* Index of the unit whose normalized name or alias equals norm, or -1. */
ssize_t plan_unit_index_norm(const struct plan *plan, const char *norm);
/* True if unit index u is responsible for task t. */
bool plan_task_has_unit(const struct plan_task *t, size_t u);
/*
 * Resolves the year of a month-day date: the year that puts it closest to the
 * anchor day (the key date), so a campaign around 10·17 keeps its September
 * preparations and its November follow-ups in the same season.
 */
int32_t plan_resolve_md(int month, int day, int32_t anchor);

#endif
