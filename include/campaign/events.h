/*
 * The event outbox: what campaign-bridge publishes to MQTT. Writers append
 * inside their own transaction (a report and its progress event commit
 * together); ids only grow. A stored payload is the type's JSON object; the
 * envelope (v, id, type, ts, campaign) is added when it is published.
 */
#ifndef CAMPAIGN_EVENTS_H
#define CAMPAIGN_EVENTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "campaign/store.h"

/* Largest stored payload; bigger events are refused at write time. */
#define EVENTS_PAYLOAD_MAX (32 * 1024)

enum event_state { EVENT_PENDING = 0, EVENT_DELIVERED = 1, EVENT_FAILED = 2 };

struct event {
	int64_t id;
	char *type;             /* "progress", "announcement", "reminder" */
	char *campaign;         /* plan id */
	char *ts;               /* ISO-8601 with the plan's offset */
	time_t created_at;
	char *payload;          /* JSON object text */
	enum event_state state;
	int reason;             /* MQTT v5 reason of a failed event, -1 if none */
	time_t done_at;         /* when it was delivered or failed, 0 while pending */
};

/*
 * Appends an event; payload is borrowed. Returns the new id, or -1 with a
 * message in err (too large, store error).
 */
int64_t events_append(struct store *s, const char *type, const char *campaign,
    const json_t *payload, time_t at, char *err, size_t errlen);
/* Up to max events with id > after_id and state pending, in id order. */
int events_pending(struct store *s, int64_t after_id, size_t max, struct event **out,
    size_t *n);
/* Up to max failed events with id > after_id, in id order (for listing and retrying). */
int events_failed(struct store *s, int64_t after_id, size_t max, struct event **out,
    size_t *n);
/*
 * Makes failed events pending again so the bridge publishes them once more:
 * one event (id > 0) or every failed one (id 0). Returns how many, or -1.
 */
int events_retry(struct store *s, int64_t id);
/* One event by id (any state); 1 found, 0 not, -1 error. */
int events_get(struct store *s, int64_t id, struct event *out);
/* Marks events delivered or failed (reason: the MQTT v5 reason code, or -1). */
int events_mark(struct store *s, int64_t id, enum event_state state, int reason, time_t at);
/* The published message: {"v":1,"id":..,"type":..,"ts":..,"campaign":..,...payload}. Owned. */
char *events_message(const struct event *e);
/* The same from e's payload already parsed (borrowed), for callers that read it too. */
char *events_message_with(const struct event *e, json_t *payload);
void event_clear(struct event *e);
void events_free(struct event *events, size_t n);

#endif
