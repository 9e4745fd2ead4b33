/*
 * Sending the deadline reminders and the admins' escalation digest: the
 * persistence and fan-out around the pure reminders_due() and
 * reminders_escalations(). A daemon calls remind_tick() on every scheduler
 * tick; whatever is due at that instant and was never sent goes out:
 *
 * - each reminder's key (task, unit, kind, nominal day) is recorded in table
 *   reminders_sent; a second insert of a key does nothing, so restarts,
 *   double ticks, two daemons on one database and clock jumps
 *   (CAMPAIGN_NOW) never repeat one;
 * - with its key, in the same transaction: one `reminder` event for MQTT and
 *   a chat message to the private chat of every user bound to that unit;
 * - subscribed chats (unit groups, the office's group) get ONE message per
 *   task listing the units not done, rather than one per unit: a group
 *   hears "2.4 is due in 3 days; these four have not finished", not four
 *   near-identical notices. A subscribed private chat that already got its
 *   unit's message is not sent the list too;
 * - once a day (key: kind "escalation" and the day), the admins (campaignctl
 *   admin and [chat] admins, in their private chats) get the digest of units
 *   overdue by [reminders] escalate_after days or more.
 *
 * Chat messages expire at the end of the day they were meant for: a notice
 * the bot could not deliver that day is not sent stale the next.
 */
#ifndef CAMPAIGN_REMIND_H
#define CAMPAIGN_REMIND_H

#include <stddef.h>
#include <time.h>

#include "campaign/cfg.h"
#include "campaign/store.h"

struct remind_stats {
	size_t reminders;       /* (task, unit) reminders sent by this tick */
	size_t events;          /* reminder events appended */
	size_t deliveries;      /* chat messages queued (reminders and digest) */
	size_t escalations;     /* late units in the digest sent by this tick */
};

/*
 * Sends what is due at now (campaign clock). 0, or -1 on a store error:
 * what committed stays sent, the rest is tried again on the next tick.
 * Selects the plan's time zone. Without a plan, nothing is due.
 */
int remind_tick(struct store *s, const struct cfg *cfg, time_t now,
    struct remind_stats *out);

#endif
