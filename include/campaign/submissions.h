/*
 * The units' written submissions (issue 15): a task with a deliverable
 * ("…情况总结") is a submission request; each unit responsible for it owes one
 * (a task that names no unit, only "各地、各部门", is owed by every unit).
 * Files arrive by mail or chat, are kept once each under <state dir>/files/
 * by SHA-256, and one row per file received records who sent what, when and
 * from which message (unique: a repeat is not a second submission). A unit
 * may send newer versions: the latest counts, all are kept. Files from
 * unknown senders are kept unassigned until an admin assigns them.
 */
#ifndef CAMPAIGN_SUBMISSIONS_H
#define CAMPAIGN_SUBMISSIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "campaign/buf.h"
#include "campaign/plan.h"
#include "campaign/store.h"

#define SUBMISSIONS_SHA_STRLEN 65
/* File names and subjects are stored cleaned: UTF-8, no control characters, this long. */
#define SUBMISSIONS_NAME_MAX_CHARS 200

struct submission_in {
	const char *task_id;    /* NULL: picked (submissions_pick_task) */
	int64_t unit_id;        /* 0: unassigned */
	const char *sha256;     /* from submissions_put_file */
	const char *name;       /* original file name, UTF-8 */
	int64_t size;
	const char *type;       /* MIME type; may be NULL */
	const char *channel;    /* "mail", "telegram" ... */
	const char *sender;     /* address or platform user id */
	const char *source_id;  /* unique per file received */
	const char *subject;    /* may be NULL */
	time_t at;              /* campaign clock */
};

struct submission {
	int64_t id;
	char *task_id;          /* NULL: no deliverable matched */
	int64_t unit_id;        /* 0: unassigned */
	char *unit_name;
	char *sha256;
	char *name;
	int64_t size;
	char *type;
	char *channel;
	char *sender;
	char *subject;
	time_t at;
};

/* True if unit index u owes task t's deliverable. */
bool submissions_owed(const struct plan *plan, const struct plan_task *t, size_t u);
/* Over every deliverable: unit-deliverable pairs owed, and those with a file. */
int submissions_count(struct store *s, const struct plan *plan, size_t *submitted,
    size_t *owed);
/* Adds "submitted" and "submissions_owed" to a summary object (the retained summary). */
void submissions_summary_json(struct store *s, const struct plan *plan, json_t *summary);
/* For a task with a deliverable: its text and "submitted" of "submissions_owed" units. */
void submissions_task_json(struct store *s, const struct plan *plan, size_t task, json_t *json);

/* <directory of the database>/files, owned. */
char *submissions_files_dir(struct store *s);
/* The stored path of a file by hash, owned. */
char *submissions_file_path(struct store *s, const char *sha256);
/*
 * Writes data under its hash (once; fsync'd before it is recorded) and
 * records it in table files. sha256 receives the hex digest. 0 or -1 with err.
 */
int submissions_put_file(struct store *s, const void *data, size_t len, time_t now,
    char sha256[SUBMISSIONS_SHA_STRLEN], char *err, size_t errlen);

/* Whether name ends in one of the accepted extensions (".docx" ..., any case). */
bool submissions_type_allowed(char *const *types, size_t ntypes, const char *name);
/* The accepted extensions, space-separated, into b. */
void submissions_types_list(struct buf *b, char *const *types, size_t ntypes);
/* "《name》没有收下：只接受这些格式：.docx .pdf ...。" into b (a refusal's words). */
void submissions_type_refusal(struct buf *b, char *const *types, size_t ntypes,
    const char *name);

/*
 * The deliverable a file from unit_id is for: a deliverable task whose id
 * appears in hint (subject, file name), else the first one the unit owes.
 * Owned task id, or NULL when the plan has none for the unit.
 */
char *submissions_pick_task(const struct plan *plan, int64_t unit_id, const char *hint);
/*
 * Records a file received (inside the caller's transaction) and, for an
 * assigned one, its "submission" event. Returns the new id, 0 when source_id
 * was already recorded, -1 with err.
 */
int64_t submissions_add(struct store *s, const struct plan *plan,
    const struct submission_in *in, char *err, size_t errlen);
/*
 * Assigns an unassigned file to a unit (and binds its mail sender to the
 * unit, so later mail needs no admin). 1 done, 0 no such unassigned id, -1 err.
 */
int submissions_assign(struct store *s, const struct plan *plan, int64_t id,
    int64_t unit_id, time_t now, char *err, size_t errlen);
/* The latest file of a unit for a task; 1 found, 0 none, -1 error. */
int submissions_latest(struct store *s, const char *task_id, int64_t unit_id,
    struct submission *out);
/* How many files a unit sent for a task (all versions); -1 on error. */
int submissions_versions(struct store *s, const char *task_id, int64_t unit_id);
/* Files not yet assigned to a unit, oldest first. */
int submissions_unassigned(struct store *s, struct submission **out, size_t *n);
void submission_clear(struct submission *sub);
void submissions_free(struct submission *subs, size_t n);

#endif
