/*
 * A WebSocket on the loop (see ws_link.h). ws.c does the protocol and never
 * blocks; this module owns the plumbing around it: after every ws_* call it
 * re-reads what the connection wants (write readiness, a deadline) and, when
 * closed() was reported, frees it there, outside ws's own call stack, before
 * telling the driver.
 */
#include "ws_link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/ws.h"
#include "campaign/xmalloc.h"

#define CONNECT_TIMEOUT_MS 10000

struct ws_link {
	struct loop *loop;
	char *name;
	struct ws_link_handler h;
	struct ws *ws;
	bool open;
	bool closed;            /* ws reported closed(): free after the call */
	int depth;              /* inside a ws_* call that runs callbacks: settle later */
	bool drop;              /* ws_link_drop from a callback: done when the call returns */
	int code;
	char why[256];
	struct loop_timer *deadline;
};

static void settle(struct ws_link *k);

static void
on_open(void *arg)
{
	struct ws_link *k = arg;

	k->open = true;
	if (k->h.open != NULL)
		k->h.open(k->h.arg);
}

static void
on_message(void *arg, const char *data, size_t len, bool binary)
{
	struct ws_link *k = arg;

	if (binary) {
		log_warnx(k->name, "a binary frame (%zu bytes); ignored", len);
		return;
	}
	k->h.message(k->h.arg, data, len);
}

static void
on_closed(void *arg, int code, const char *why)
{
	struct ws_link *k = arg;

	k->closed = true;
	k->code = code;
	snprintf(k->why, sizeof(k->why), "%s", why);
}

static void
on_io(void *arg, int fd, bool readable, bool writable)
{
	struct ws_link *k = arg;

	(void)fd;
	if (k->ws == NULL)
		return;
	k->depth++;
	ws_io(k->ws, readable, writable);
	k->depth--;
	settle(k);
}

static void
on_deadline(void *arg)
{
	struct ws_link *k = arg;

	if (k->ws == NULL)
		return;
	k->depth++;
	ws_io(k->ws, false, false);
	k->depth--;
	settle(k);
}

static void
on_connected(void *arg, CURL *easy, CURLcode rc)
{
	struct ws_link *k = arg;

	(void)easy;
	if (k->ws == NULL)
		return;
	k->depth++;
	ws_connected(k->ws, rc);
	k->depth--;
	settle(k);
}

static void
release(struct ws_link *k)
{
	if (k->ws == NULL)
		return;
	if (ws_fd(k->ws) >= 0)
		loop_unwatch_fd(k->loop, ws_fd(k->ws));
	ws_free(k->ws);
	k->ws = NULL;
	k->open = false;
	loop_timer_at(k->deadline, -1);
}

/*
 * After every ws_* call: free a closed connection, else watch what it wants.
 * Nested calls (a message callback that sends or closes) leave it to the
 * outermost, so a connection is never freed under ws's own call stack.
 */
static void
settle(struct ws_link *k)
{
	int64_t at;

	if (k->ws == NULL || k->depth > 0)
		return;
	if (k->drop) {
		k->drop = false;
		release(k);
		return;
	}
	if (k->closed) {
		k->closed = false;
		release(k);
		if (k->h.closed != NULL)
			k->h.closed(k->h.arg, k->code, k->why);
		return;
	}
	if (ws_fd(k->ws) >= 0)
		loop_watch_fd_events(k->loop, ws_fd(k->ws), ws_wants_write(k->ws), on_io, k);
	at = ws_deadline(k->ws);
	loop_timer_at(k->deadline, at >= 0 ? at : -1);
}

struct ws_link *
ws_link_new(struct loop *l, const char *name, const struct ws_link_handler *h)
{
	struct ws_link *k = xcalloc(1, sizeof(*k));

	k->loop = l;
	k->name = xstrdup(name);
	k->h = *h;
	k->deadline = loop_timer_new(l, on_deadline, k);
	return k;
}

void
ws_link_free(struct ws_link *k)
{
	if (k == NULL)
		return;
	release(k);
	loop_timer_free(k->deadline);
	free(k->name);
	free(k);
}

int
ws_link_connect(struct ws_link *k, const char *url, size_t max_message, char *err,
    size_t errlen)
{
	struct ws_handler h = { .arg = k, .open = on_open, .message = on_message,
		.closed = on_closed };
	struct ws_config c = { .url = url, .connect_timeout_ms = CONNECT_TIMEOUT_MS,
		.max_message = max_message, .user_agent = "campaign-bot/0.1" };

	release(k);
	k->closed = k->drop = false;
	if ((k->ws = ws_new(&c, &h, err, errlen)) == NULL)
		return -1;
	if (loop_curl_add_connect_only(k->loop, ws_easy(k->ws), on_connected, k) < 0) {
		snprintf(err, errlen, "the connect transfer could not start");
		ws_free(k->ws);
		k->ws = NULL;
		return -1;
	}
	return 0;
}

bool
ws_link_open(const struct ws_link *k)
{
	return k->ws != NULL && k->open;
}

bool
ws_link_busy(const struct ws_link *k)
{
	return k->ws != NULL;
}

int
ws_link_send(struct ws_link *k, const char *text, size_t len)
{
	int rc;

	if (k->ws == NULL || !k->open)
		return -1;
	rc = ws_send_text(k->ws, text, len);
	settle(k);
	return rc;
}

int
ws_link_ping(struct ws_link *k)
{
	int rc;

	if (k->ws == NULL || !k->open)
		return -1;
	rc = ws_ping(k->ws);
	settle(k);
	return rc;
}

int64_t
ws_link_last_received(const struct ws_link *k)
{
	return k->ws != NULL ? ws_last_received(k->ws) : 0;
}

void
ws_link_close(struct ws_link *k, int code, const char *why)
{
	if (k->ws == NULL)
		return;
	k->depth++;
	ws_close(k->ws, code, why);
	k->depth--;
	settle(k);
}

void
ws_link_drop(struct ws_link *k)
{
	/* From inside a callback, ws's own call is still on the stack: later. */
	if (k->depth > 0)
		k->drop = true;
	else
		release(k);
}
