/*
 * Admin broadcasts: one announcement, written in ONE transaction as a row of
 * table broadcasts, an `announcement` event (campaign-bridge publishes it on
 * <prefix>/announcements) and one chat delivery for every target chat
 * (chats_targets: every subscribed chat and the private chat of every user
 * bound to a targeted unit). The bot's sender delivers them under the
 * platform's limits; the counts of those deliveries are the broadcast's
 * status. campaignctl broadcast and the chat's /broadcast both come here.
 */
#ifndef CAMPAIGN_BROADCAST_H
#define CAMPAIGN_BROADCAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "campaign/outbox.h"
#include "campaign/plan.h"
#include "campaign/store.h"

/*
 * Longest text, in UTF-16 units (Telegram's measure): with the heading it
 * still fits one Telegram message (4096), so every chat gets it whole.
 */
#define BROADCAST_TEXT_MAX_UNITS 3800
/* Longest expiry accepted. */
#define BROADCAST_TTL_MAX (366 * 86400)

struct broadcast_request {
	const char *text;       /* plain text as the admin wrote it (escaped here) */
	const size_t *units;    /* plan unit indexes to target; NULL/0: every unit */
	size_t nunits;
	int64_t ttl;            /* seconds until it expires; 0: never */
	const char *platform;   /* where it comes from: "cli", "telegram", "console" */
	const char *user_id;    /* who sent it; may be NULL */
};

struct broadcast_sent {
	int64_t id;
	int64_t event_id;
	size_t chats;           /* deliveries queued */
};

struct broadcast_info {
	int64_t id;
	char *text;
	char **units;           /* the targeted unit names; none: every unit */
	size_t nunits;
	time_t created_at;
	time_t expires_at;      /* 0: never */
	int64_t event_id;
	int event_state;        /* enum event_state, -1 when the event is gone */
	int64_t chats;
	char *platform;
	char *user_id;          /* may be NULL */
	struct outbox_counts counts;
};

/*
 * The text a broadcast may carry: CRLF made LF, surrounding white space
 * (ASCII and U+3000) trimmed. -1 with a reason in err when it is empty,
 * not UTF-8, holds control characters other than newline and tab, or is
 * longer than BROADCAST_TEXT_MAX_UNITS. *out is owned.
 */
int broadcast_text_clean(const char *text, char **out, char *err, size_t errlen);
/* The chat message for a broadcast (chat markup, text escaped). Owned. */
char *broadcast_message(const struct plan *plan, const char *text, const size_t *units,
    size_t nunits);
/*
 * Writes the broadcast, its announcement event and its deliveries in one
 * transaction (nested in the caller's if one is open). 0, or -1 with a
 * reason in err (bad text, bad ttl, store error; nothing written).
 */
int broadcast_create(struct store *s, const struct plan *plan,
    const struct broadcast_request *rq, time_t now, struct broadcast_sent *out, char *err,
    size_t errlen);
/* One broadcast with its delivery counts: 1 found, 0 not, -1 error. */
int broadcast_get(struct store *s, int64_t id, struct broadcast_info *out);
/* The newest max broadcasts, newest first. */
int broadcast_recent(struct store *s, size_t max, struct broadcast_info **out, size_t *n);
void broadcast_info_clear(struct broadcast_info *b);
void broadcasts_free(struct broadcast_info *b, size_t n);

#endif
