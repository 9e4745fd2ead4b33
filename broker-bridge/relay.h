/*
 * The outbox relay: reads pending events in id order, hands their messages
 * to the MQTT connection, tracks every publish until its ack, and writes
 * the outcome back to the store in batches. An event is delivered when all
 * its copies were acknowledged with a success reason (< 0x80), failed when
 * one was refused; outcomes are recorded in publish order, so after a
 * crash the bridge resumes at the first event without one.
 */
#ifndef BRIDGE_RELAY_H
#define BRIDGE_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "campaign/events.h"
#include "campaign/store.h"
#include "mqtt.h"

struct relay;

/*
 * Called for each event handed to the connection, with the task id of a
 * progress event (else NULL). At-least-once: after a crash an event may come
 * again.
 */
typedef void relay_published_fn(void *arg, const struct event *e, const char *task_id);

struct relay *relay_new(struct store *s, relay_published_fn *on_published, void *arg);
void relay_free(struct relay *r);
/* The topic prefix for event messages (copied). */
void relay_set_prefix(struct relay *r, const char *prefix);

/* The outbox may hold new events. */
void relay_wake(struct relay *r);
/* Applies acks from the connection. */
void relay_acks(struct relay *r, const struct mqtt_ack *acks, size_t n);
/* The library dropped its queue: forget what was in flight and re-read it from the store. */
void relay_lost(struct relay *r);
/* Publishes pending events while the window has room (only when connected). */
void relay_pump(struct relay *r, struct mqtt *m);
/*
 * Publishes a message that is not an event (retained state, status); it
 * takes a window slot until acked. 0 if handed over, -1 if not (no room,
 * or the connection did not take it).
 */
int relay_publish(struct relay *r, struct mqtt *m, const struct message *msg, char kind);
/* Free window slots. */
size_t relay_room(const struct relay *r);
/* Publishes awaiting their ack. */
size_t relay_inflight(const struct relay *r);

/* Writes recorded outcomes when a batch is due (or now, with force). */
void relay_flush(struct relay *r, int64_t now_ms, bool force);
/* Milliseconds until relay_flush has work to do, -1 for none. */
int relay_timeout(const struct relay *r, int64_t now_ms);

struct relay_stats {
	uint64_t published, delivered, failed;
};
void relay_stats(const struct relay *r, struct relay_stats *out);

#endif
