/*
 * The chat outbox (table deliveries): every message the campaign sends to a
 * chat, replies, broadcasts and reminders alike. Writers enqueue inside their
 * own transaction (a report and its confirmation commit together); the bot's
 * sender drains it under the platform's rate limits and marks a delivery
 * sent only after the platform said ok, so a crash never loses one and
 * repeats at most the one in flight.
 *
 * Order: deliveries to one chat go out in id order; outbox_heads() gives the
 * oldest pending delivery of each chat, replies before the rest (a user's
 * answer never waits behind a broadcast to a thousand chats). Text is chat markup (markup.h) unless
 * markup is false. not_before is real unix time in milliseconds (not the
 * campaign clock: retries must happen under a frozen CAMPAIGN_NOW too), and
 * sent_at real unix seconds (the pacing of a restarted sender starts from it).
 * expires_at is campaign time (clock_now(), like the notice it carries): a
 * broadcast or reminder still pending then is failed as "expired", not sent late.
 */
#ifndef CAMPAIGN_OUTBOX_H
#define CAMPAIGN_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "campaign/store.h"

enum delivery_state { DELIVERY_PENDING = 0, DELIVERY_SENT = 1, DELIVERY_FAILED = 2 };

/* Well-known kinds (the column is free text). */
#define OUTBOX_REPLY "reply"
#define OUTBOX_BROADCAST "broadcast"
#define OUTBOX_REMINDER "reminder"

/* Longest text accepted by outbox_enqueue, in bytes. */
#define OUTBOX_TEXT_MAX (256 * 1024)

struct outbox_item {
	const char *platform;   /* "telegram", "console" ... */
	const char *chat_id;
	const char *kind;       /* OUTBOX_REPLY ... */
	int64_t ref;            /* what it belongs to (broadcast or event id); 0: none */
	const char *reply_to;   /* platform message id to quote; may be NULL */
	const char *text;
	bool plain;             /* text is plain, not markup */
	int64_t not_before;     /* real unix ms; 0: now */
	const char *dedupe_key; /* enqueue at most once per key; may be NULL */
	time_t expires_at;      /* campaign clock; 0: never */
};

struct delivery {
	int64_t id;
	char *platform;
	char *chat_id;
	char *chat_kind;        /* from table chats: "private", "group", "channel" */
	char *kind;
	int64_t ref;
	char *reply_to;
	char *text;
	bool markup;
	int parts_sent;
	int attempts;
	int64_t not_before;
	time_t created_at;
	time_t expires_at;      /* 0: never */
};

struct outbox_counts {
	int64_t pending, sent, failed;
};

/* Real wall-clock unix milliseconds (never CAMPAIGN_NOW). */
int64_t outbox_now_ms(void);

/*
 * Queues one message. Returns the new id, 0 when dedupe_key was already
 * queued (nothing done), -1 on error (logged) or a text over OUTBOX_TEXT_MAX.
 */
int64_t outbox_enqueue(struct store *s, const struct outbox_item *item, time_t now);
/* The oldest pending delivery of each chat of platform, oldest first, at most max. */
int outbox_heads(struct store *s, const char *platform, size_t max, struct delivery **out,
    size_t *n);
/* The oldest pending delivery to one chat; 1 found, 0 none, -1 error. */
int outbox_chat_head(struct store *s, const char *platform, const char *chat_id,
    struct delivery *out);
/* One delivery by id; 1 found, 0 not, -1 error. */
int outbox_get(struct store *s, int64_t id, struct delivery *out);
/* now: unused, the real time is recorded (see above). */
int outbox_mark_sent(struct store *s, int64_t id, time_t now);
/* Records that parts_sent pieces of a split text went out. */
int outbox_mark_part(struct store *s, int64_t id, int parts_sent);
int outbox_mark_failed(struct store *s, int64_t id, const char *error, time_t now);
/* Counts an attempt, keeps the delivery pending until not_before (unix ms). */
int outbox_retry_at(struct store *s, int64_t id, int64_t not_before, const char *error);
/* Replaces the text still to send (e.g. plain after the platform refused the markup). */
int outbox_set_text(struct store *s, int64_t id, const char *text, bool markup);
/* Fails every pending delivery to a chat (blocked, kicked); returns how many, -1 on error. */
int outbox_fail_chat(struct store *s, const char *platform, const char *chat_id,
    const char *error, time_t now);
/* Moves every pending delivery of a chat to its new id (group -> supergroup). */
int outbox_move_chat(struct store *s, const char *platform, const char *from,
    const char *to);
/* Delivered / failed / pending of everything with this kind and ref (broadcast status). */
int outbox_counts(struct store *s, const char *kind, int64_t ref, struct outbox_counts *c);

/* One reason deliveries failed, and how many. */
struct outbox_failure {
	char *error;
	int64_t count;
};

/* Why the failed deliveries of kind and ref failed, most frequent first. */
int outbox_failures(struct store *s, const char *kind, int64_t ref,
    struct outbox_failure **out, size_t *n);
void outbox_failures_free(struct outbox_failure *f, size_t n);
/* The platforms with pending deliveries of kind and ref (owned strings). */
int outbox_pending_platforms(struct store *s, const char *kind, int64_t ref, char ***out,
    size_t *n);
/* True if d must not go out any more at campaign time now. */
bool outbox_expired(const struct delivery *d, time_t now);
struct sent_recently {
	char *chat_id;
	char *chat_kind;
	int64_t sent_at;        /* real unix seconds */
};

/* Deliveries of platform sent since (real unix seconds), oldest first. */
int outbox_sent_since(struct store *s, const char *platform, int64_t since,
    struct sent_recently **out, size_t *n);
void sent_recently_free(struct sent_recently *r, size_t n);
/* Pending deliveries of a platform; -1 on error. */
int64_t outbox_pending(struct store *s, const char *platform);
void delivery_clear(struct delivery *d);
void deliveries_free(struct delivery *d, size_t n);

#endif
