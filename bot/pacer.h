/*
 * Send pacing: the platform's rate limits (per chat, per group, overall) as
 * sliding windows over the times we started sends, plus a global pause (a
 * 429's retry_after, a backoff after failures), and per chat, when a chat has
 * a quota of its own, its sliding windows and its pause. Times are monotonic ms. The
 * windows carry a small safety margin so that network jitter never makes two
 * messages arrive closer together than the platform allows.
 */
#ifndef CAMPAIGN_BOT_PACER_H
#define CAMPAIGN_BOT_PACER_H

#include <stdbool.h>
#include <stdint.h>

#include "driver.h"

#define PACER_MARGIN_MS 25

struct pacer;

struct pacer *pacer_new(const struct pace_limits *limits);
void pacer_free(struct pacer *p);
/* The earliest time a message to chat may start (>= now). */
int64_t pacer_ready_at(struct pacer *p, const char *chat_id, bool group, int64_t now);
/* A message to chat started at now. */
void pacer_record(struct pacer *p, const char *chat_id, bool group, int64_t now);
/*
 * The sliding windows one chat keeps besides the platform's limits (n 0:
 * none). Set before pacer_ready_at and pacer_record for that chat; setting
 * the same windows again keeps what was recorded.
 */
void pacer_chat_windows(struct pacer *p, const char *chat_id, const struct pace_window *w,
    size_t n);
/* Nothing starts to this chat before until. */
void pacer_pause_chat(struct pacer *p, const char *chat_id, int64_t until);
/*
 * The message to chat that started at started was answered at now: the
 * server saw it somewhere in between, so its times count from now (the
 * next message's gap holds at the server whatever the network's jitter).
 */
void pacer_done(struct pacer *p, const char *chat_id, bool group, int64_t started,
    int64_t now);
/* Nothing starts before until (a later pause wins over an earlier one). */
void pacer_pause(struct pacer *p, int64_t until);
int64_t pacer_paused_until(const struct pacer *p);

#endif
