/*
 * A WebSocket kept on the daemon's loop (lib/ws.c driven by bot/loop.c):
 * the connect transfer on the curl multi, the socket watched for reading
 * and, while output is queued, for writing, ws's deadlines on a timer, and
 * the connection freed at a safe point. What a long-connection driver
 * (DingTalk Stream, WeCom) needs besides its own protocol.
 */
#ifndef CAMPAIGN_BOT_WS_LINK_H
#define CAMPAIGN_BOT_WS_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"

struct ws_link;

struct ws_link_handler {
	void *arg;
	void (*open)(void *arg);
	/* One whole text message; data is valid during the call only. */
	void (*message)(void *arg, const char *data, size_t len);
	/* The connection is gone and freed (code 1006 when no close frame came);
	 * the link may connect again from here. Not called after ws_link_free. */
	void (*closed)(void *arg, int code, const char *why);
};

/* name: for logs ("dingtalk"); the link never logs a URL (tickets, keys). */
struct ws_link *ws_link_new(struct loop *l, const char *name, const struct ws_link_handler *h);
void ws_link_free(struct ws_link *k);
/* Starts a connection; -1 with err when it cannot even start (then no closed()). */
int ws_link_connect(struct ws_link *k, const char *url, size_t max_message, char *err,
    size_t errlen);
/* True from open until closed. */
bool ws_link_open(const struct ws_link *k);
bool ws_link_busy(const struct ws_link *k);     /* connecting or open */
/* Queues a text message; -1 when not open. */
int ws_link_send(struct ws_link *k, const char *text, size_t len);
/* Queues a WebSocket ping; -1 when not open. */
int ws_link_ping(struct ws_link *k);
/* clock_mono_ms of the last frame received (pongs too); 0: none. */
int64_t ws_link_last_received(const struct ws_link *k);
/* Closes with a close frame (closed() follows), or drops at once when connecting. */
void ws_link_close(struct ws_link *k, int code, const char *why);
/* Ends the connection without any callback (shutdown); from inside a callback,
 * as soon as that callback returns. */
void ws_link_drop(struct ws_link *k);

#endif
