/*
 * The retained state topics: tasks/<id>, summary and announcements/current
 * (the announcements not yet expired, so a screen that restarts still shows
 * today's notices), recomputed from the store (snapshot.h) and published when they may have changed: after a
 * progress event, after every (re)connect (a restarted broker may have
 * lost them), when the plan is reloaded and when the local day changes
 * (days_left, overdue, the countdown). Tasks that left the plan get their
 * retained message cleared.
 */
#ifndef BRIDGE_RETAINED_H
#define BRIDGE_RETAINED_H

#include <stdbool.h>

#include "campaign/store.h"
#include "mqtt.h"
#include "relay.h"

struct retained;

struct retained *retained_new(struct store *s);
void retained_free(struct retained *r);
/* Everything again (connect, plan reload, new day). */
void retained_all(struct retained *r);
/* One task (and the summary); a task unknown to the cached plan reloads it. */
void retained_task(struct retained *r, const char *task_id);
/* An announcement was published: announcements/current again. */
void retained_announcement(struct retained *r);
/* After another process committed: notices a reloaded plan. */
void retained_db_changed(struct retained *r);
/* Once in a while: notices a new local day and announcements that expired. */
void retained_tick(struct retained *r);
/* Publishes what is due, as far as the window allows. */
void retained_pump(struct retained *r, struct relay *relay, struct mqtt *m,
    const char *prefix);
/* The loaded plan's id (owned), or NULL when none is loaded. */
char *retained_plan_id(struct store *s);

#endif
