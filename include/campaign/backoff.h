/*
 * Retry pauses for the daemons: exponential (x1.5 a failure) from first_ms
 * up to max_ms, with +-20% jitter so that many bots, or one bot's restarts,
 * never retry in step. One rule for the chat drivers, the sender and the
 * bridge's reconnects.
 */
#ifndef CAMPAIGN_BACKOFF_H
#define CAMPAIGN_BACKOFF_H

#include <stdint.h>

/* The pause after the n-th consecutive failure (n >= 1). */
int64_t backoff_ms(int failures, int64_t first_ms, int64_t max_ms);
/* ms with +-20% jitter. */
int64_t backoff_jitter(int64_t ms);

#endif
