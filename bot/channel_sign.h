/*
 * The signatures group robots ask for (docs/ARCHITECTURE.md, "Channels"):
 * - DingTalk custom robot: timestamp (ms) and sign as query parameters,
 *   sign = urlencode(base64(HMAC-SHA256(key = secret, msg = ts + "\n" + secret))).
 * - Feishu custom bot: timestamp (s) and sign in the body,
 *   sign = base64(HMAC-SHA256(key = ts + "\n" + secret, msg = "")).
 * - WeCom group robot: none; the key in the URL is the credential.
 * Timestamps are the real clock (the services reject one an hour off), never
 * CAMPAIGN_NOW. Nothing here logs: the inputs and outputs are secrets.
 */
#ifndef CAMPAIGN_BOT_CHANNEL_SIGN_H
#define CAMPAIGN_BOT_CHANNEL_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "campaign/channels.h"

#define CHANNEL_SIGN_MAX 64     /* base64 of 32 bytes (44) percent-encoded fits */

/* DingTalk's sign for ts_ms, percent-encoded for the query; 0 or -1. */
int channel_sign_dingtalk(const char *secret, int64_t ts_ms, char out[CHANNEL_SIGN_MAX]);
/* Feishu's sign for ts_s (base64, for the JSON body); 0 or -1. */
int channel_sign_feishu(const char *secret, int64_t ts_s, char out[CHANNEL_SIGN_MAX]);
/*
 * The URL to POST to (owned): DingTalk's with &timestamp=&sign= when a
 * secret is set, the others as registered.
 */
char *channel_sign_url(enum channel_kind kind, const char *url, const char *secret,
    int64_t now_ms);

#endif
