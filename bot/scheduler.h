/*
 * The bot's scheduler: deadline reminders and the escalation digest are
 * computed from the data on every tick (remind_tick), never kept as timers,
 * so a restart, a double tick or a moved clock loses and repeats nothing.
 * It ticks at start, every SCHEDULER_TICK_MS, and soon after the data
 * changed under us (a plan loaded, a report from campaignctl, a config
 * reload); when a tick queued messages it tells the sender.
 */
#ifndef CAMPAIGN_BOT_SCHEDULER_H
#define CAMPAIGN_BOT_SCHEDULER_H

#include <stdbool.h>

#include "campaign/cfg.h"
#include "campaign/store.h"
#include "loop.h"

#define SCHEDULER_TICK_MS 30000

struct scheduler;

/* Called after a tick that queued chat messages. */
typedef void scheduler_queued_cb(void *arg);

struct scheduler *scheduler_new(struct store *s, struct loop *l, const struct cfg *cfg,
    scheduler_queued_cb *queued, void *arg);
void scheduler_free(struct scheduler *sch);
/* A reloaded configuration (borrowed); ticks soon with it. */
void scheduler_set_cfg(struct scheduler *sch, const struct cfg *cfg);
/* Ticks now, then every SCHEDULER_TICK_MS. */
void scheduler_start(struct scheduler *sch);
/* The data changed: tick soon (pokes within a second make one tick). */
void scheduler_poke(struct scheduler *sch);
/* True once the first tick ran (a console at EOF waits for it). */
bool scheduler_ticked(const struct scheduler *sch);

#endif
