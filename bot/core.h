/*
 * The platform-neutral core: one normalized message in, store changes and
 * replies (queued in the chat outbox) out, inside the caller's transaction.
 * It never knows which driver it talks to. The commands (cmd.h) live in
 * cmd_<name>.c and share the per-message context below; answer.c formats.
 */
#ifndef CAMPAIGN_BOT_CORE_H
#define CAMPAIGN_BOT_CORE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "campaign/buf.h"
#include "campaign/cfg.h"
#include "campaign/plan.h"
#include "campaign/progress.h"
#include "campaign/store.h"
#include "campaign/users.h"
#include "chat.h"
#include "cmd.h"
#include "parse.h"

/* Messages longer than this (characters) are refused with a clear reply. */
#define CORE_TEXT_MAX_CHARS 4096

struct core;

struct core *core_new(struct store *s, const struct cfg *cfg);
void core_free(struct core *c);
/* A reloaded configuration (SIGHUP); borrowed until the next call. */
void core_set_cfg(struct core *c, const struct cfg *cfg);
/* Another process changed the database: reload the plan before the next message. */
void core_plan_changed(struct core *c);
/*
 * Answers one message event of platform: effects go to the store and the
 * replies to the chat outbox, inside the caller's transaction. 0, or -1 on
 * a store error (the caller rolls back and may retry).
 */
int core_message(struct core *c, const char *platform, const struct chat_event *ev);
/* Queues a short apology to the event's chat (after a failed message). */
int core_apologize(struct core *c, const char *platform, const struct chat_event *ev);

/* ---- for the command handlers ---- */

/* One message being answered. */
struct ctx {
	struct core *core;
	struct store *store;
	const struct cfg *cfg;
	const char *platform;
	const struct chat_event *ev;
	const char *raw;                /* the text as typed (valid UTF-8, not normalized) */
	const struct plan *plan;        /* NULL when none is loaded */
	const struct taskwords *tw;
	struct progress *progress;      /* loaded on first use: ctx_progress() */
	time_t now;
	int32_t today;
	struct user_info user;          /* the sender (user.unit_id 0: not bound) */
	ssize_t user_unit;              /* index of the user's unit in plan, or -1 */
	bool admin;
	bool group;                     /* the chat is a group */
	struct buf out;                 /* the reply, in chat markup */
};

/* The plan's progress, loaded once per message; NULL on a store error. */
const struct progress *ctx_progress(struct ctx *c);
/* Index of a unit in the plan by store id, or -1. */
ssize_t ctx_unit_index(const struct ctx *c, int64_t unit_id);
/*
 * Finds a unit from what the user typed; on failure writes "没有找到单位…
 * 你是不是要找…" (or the ambiguous list) into the reply and returns -1.
 */
ssize_t ctx_find_unit(struct ctx *c, const char *name);

/*
 * The unit a free-text question is about: named, "mine", or asked for; 0,
 * or -1 with the "did you mean" answer written.
 */
int ctx_intent_unit(struct ctx *c, const struct intent *in, ssize_t *unit);
/* issue 15: a message carrying a file (ev->file_ref set): 0 or -1 on a store error. */
int cmd_file(struct ctx *c);

#endif
