/*
 * Intake: a driver's batch of events applied in ONE transaction: events
 * already applied are skipped (table seen_updates, by platform and event
 * id), each event's effects and replies are written, and the batch's cursor
 * is stored. A crash before the commit leaves nothing, and the platform sends
 * the batch again; a crash after it leaves everything, and the replay is
 * skipped. So every update takes effect exactly once.
 */
#ifndef CAMPAIGN_BOT_INTAKE_H
#define CAMPAIGN_BOT_INTAKE_H

#include <stdint.h>
#include <time.h>

#include "campaign/store.h"
#include "chat.h"
#include "core.h"

/* Event ids are kept this long (Telegram reuses update ids only after a week idle). */
#define INTAKE_SEEN_TTL (8 * 24 * 3600)

/* 0, or -1 with nothing stored. *napplied counts the events that were new. */
int intake_batch(struct store *s, struct core *core, const struct chat_batch *b,
    size_t *napplied);
/* Forgets event ids older than INTAKE_SEEN_TTL; the count, or -1. */
int intake_prune(struct store *s);

#endif
