/*
 * The sender drains the chat outbox through a driver: the oldest pending
 * delivery of each chat, in order, when the pacer allows it. A delivery is
 * marked sent only after the driver reported ok; errors become pauses,
 * backoffs, inactive or moved chats, or a plain-text resend (see
 * driver.h's send results). Long texts go out in pieces, each piece counted
 * by the pacer and recorded, so a restart resumes after the last one sent.
 */
#ifndef CAMPAIGN_BOT_SENDER_H
#define CAMPAIGN_BOT_SENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "campaign/store.h"
#include "driver.h"
#include "loop.h"

struct sender;

struct sender *sender_new(struct store *s, struct loop *l, struct driver *d,
    const struct pace_limits *limits);
void sender_free(struct sender *s);
/* The outbox may have something new: look soon (coalesced). */
void sender_kick(struct sender *s);
/* The driver's result for a send started by the sender. */
void sender_result(struct sender *s, int64_t delivery_id, const struct send_result *r);
/* Sends in flight. */
int sender_in_flight(const struct sender *s);
/* True when nothing is in flight and the last look found the outbox empty. */
bool sender_idle(const struct sender *s);

#endif
