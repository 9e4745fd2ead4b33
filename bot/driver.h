/*
 * The chat driver interface: what a platform (Telegram, the console, later
 * Matrix or XMPP) must provide, and what the daemon provides back. A driver
 * only translates: wire formats into normalized events, our outgoing
 * messages into its API calls, and its API's errors into send results.
 * Everything that decides (answers, binding, reports, the outbox, pacing,
 * dedupe, retries) lives in the core and never sees a wire format.
 *
 * Contract
 * - Receiving. After start(), the driver receives on the daemon's loop (its
 *   own long poll, /sync, BOSH session ...) and hands each batch of events to
 *   host->batch(). The batch carries the cursor that confirms it (Telegram's
 *   next offset, Matrix's next_batch, Zulip's last_event_id): the host
 *   applies the events and stores the cursor under batch->cursor_key in ONE
 *   transaction and returns 0; only then may the driver ask the platform for
 *   more with that cursor. On -1 nothing was stored: the driver asks again
 *   with the old cursor after a pause, and the events come back (each event
 *   carries a platform-unique id; the host skips ids it has applied).
 *   host->cursor() gives the stored cursor at start.
 * - Sending. The host calls send() with one message (one piece of a split
 *   delivery) when the pacing allows it and can_send() is true; the driver
 *   starts it and later reports exactly one result with host->sent(), from
 *   the loop, never from inside send(). A driver whose sends are idempotent
 *   (Matrix transaction ids) derives the id from delivery_id and part.
 * - Formatting and limits. The outbox holds chat markup (campaign/markup.h);
 *   the host renders it in ops->format (Telegram HTML, Markdown, plain) and
 *   splits it on line boundaries under ops->max_text counted in
 *   ops->max_unit (UTF-16 units or bytes; 0 = no limit). Each piece comes
 *   with the format it is in (plain after the platform refused the
 *   formatting, SEND_BAD_MARKUP). d->limits gives the platform's rate
 *   limits, which the host's pacer keeps for all sends; ops->chat_pace, when
 *   a chat has a quota of its own (each webhook robot), gives that chat's
 *   sliding windows, and a result with chat_only pauses that chat alone.
 * - Errors. A send result says what happened in the host's terms (ok, pause
 *   everything for N ms, transient, the chat is gone, the chat moved, the
 *   markup was refused, rejected for good). Receiving errors are the
 *   driver's business: it backs off and retries by itself and logs; only a
 *   fatal start error (a refused token) ends the daemon, via host->fatal().
 * - Shutdown. stop() ends receiving at once (an unconfirmed batch is simply
 *   asked for again next time); sends in flight still report their result.
 *   idle() is true when nothing is in flight.
 * - Files (issue 15). A driver whose users can send files fills the event's
 *   file_ref with what it needs to fetch it later, and implements file_url
 *   (and file_decode when the bytes come encrypted); the host's fetcher
 *   (file_fetch.c) downloads, caps the size, and stores the submission.
 * - Secrets. A driver never logs its credentials (Telegram's token is in
 *   every URL: log the method, never the URL).
 */
#ifndef CAMPAIGN_BOT_DRIVER_H
#define CAMPAIGN_BOT_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "campaign/markup.h"
#include "chat.h"
#include "loop.h"

struct driver;
struct buf;

/*
 * Where a file can be downloaded: url (borrowed for the call; may carry a
 * secret, never logged), or NULL with why, final when asking again cannot
 * help (an expired or invalid handle).
 */
typedef void file_url_cb(void *arg, const char *url, const char *why, bool final);

/* One outgoing message (one piece of a delivery). Borrowed for the call. */
struct chat_out {
	int64_t delivery_id;
	int part;               /* 0-based piece of a split text */
	int nparts;
	const char *chat_id;
	const char *text;       /* rendered for the platform */
	enum markup_format format;      /* the form text is in: ops->format or MARKUP_PLAIN */
	const char *reply_to;   /* platform message id to quote; may be NULL */
	bool is_reply;          /* an answer to a message (else a broadcast or reminder) */
	bool group;             /* the chat is a group or channel, not a private chat */
};

enum send_status {
	SEND_OK,
	SEND_RETRY_AFTER,       /* rate limited: pause every send for retry_after_ms */
	SEND_TRANSIENT,         /* network, 5xx, broken answer: back off, send again */
	SEND_CHAT_GONE,         /* blocked, kicked, deactivated: the chat goes inactive */
	SEND_CHAT_MOVED,        /* the chat has a new id (new_chat_id): send there */
	SEND_BAD_MARKUP,        /* the platform refused the markup: send as plain text */
	SEND_REJECTED,          /* refused for good (bad request) */
};

struct send_result {
	enum send_status status;
	bool chat_only;         /* RETRY_AFTER, TRANSIENT: pause this chat alone (a webhook robot) */
	int64_t retry_after_ms;
	const char *new_chat_id;
	const char *detail;     /* for logs and the delivery's error column */
};

struct pace_limits {
	int per_chat_ms;        /* minimum gap between two messages to one chat; 0: none */
	int group_max;          /* at most group_max messages ... */
	int group_window_ms;    /* ... in any window of this length to one group; 0: none */
	int global_max;         /* at most global_max messages ... */
	int global_window_ms;   /* ... in any window of this length overall; 0: none */
	int chat_window_ms;     /* the longest window ops->chat_pace gives; 0: none */
};

/* A sliding window one chat keeps on its own (a webhook robot's quota). */
struct pace_window {
	int max;                /* at most max messages ... */
	int window_ms;          /* ... in any window of this length */
};

#define PACE_CHAT_WINDOWS 2

/* What the daemon gives a driver. */
struct driver_host {
	void *ctx;
	struct loop *loop;
	/* Applies a batch and stores its cursor in one transaction; 0 or -1. */
	int (*batch)(void *ctx, const struct chat_batch *batch);
	/* The stored cursor for key (owned), or NULL when none. */
	char *(*cursor)(void *ctx, const char *key);
	/* The result of one send(). */
	void (*sent)(void *ctx, int64_t delivery_id, const struct send_result *result);
	/* Something new may be sendable (the driver became ready to send). */
	void (*kick)(void *ctx);
	/* No more input will come (the console reached EOF). */
	void (*input_closed)(void *ctx);
	/* A start error nothing can fix (refused token): the daemon exits. */
	void (*fatal)(void *ctx, const char *message);
};

struct driver_ops {
	const char *name;       /* also the platform name stored with chats and users */
	enum markup_format format;      /* how the platform takes formatted text */
	size_t max_text;                /* longest text of one message; 0: no limit */
	enum markup_unit max_unit;      /* what max_text counts */
	int (*start)(struct driver *d);
	void (*stop)(struct driver *d);
	bool (*can_send)(struct driver *d);
	int (*send)(struct driver *d, const struct chat_out *m);
	bool (*idle)(struct driver *d);
	/* Signed in and receiving (systemd's READY=1); NULL: can_send says so. */
	bool (*serving)(struct driver *d);
	/* Whether this instance delivers to chat_id (NULL: every chat of the platform). */
	bool (*owns)(struct driver *d, const char *chat_id);
	/* Optional: the chat's own windows (at most PACE_CHAT_WINDOWS); their count. */
	size_t (*chat_pace)(struct driver *d, const char *chat_id, struct pace_window *w);
	/*
	 * Optional (files sent in chat): starts finding the download URL of
	 * file_ref; done is called once, perhaps before this returns. -1: not
	 * started (done is not called). A call in flight ends with free().
	 */
	int (*file_url)(struct driver *d, const char *file_ref, file_url_cb *done, void *arg);
	/* Optional: turns the downloaded bytes into the file, in place (WeCom decrypts). */
	int (*file_decode)(struct driver *d, const char *file_ref, struct buf *data,
	    char *why, size_t why_len);
	int64_t file_max;       /* the platform's cap on a file a bot downloads; 0: none */
	void (*free)(struct driver *d);
};

struct driver {
	const struct driver_ops *ops;
	const struct driver_host *host;
	struct pace_limits limits;      /* the platform's rate limits (config may lower them) */
	void *priv;
};

#endif
