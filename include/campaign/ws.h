/*
 * A WebSocket client (RFC 6455) for a single-threaded poll loop: libcurl
 * CURLOPT_CONNECT_ONLY makes the TCP/TLS connection (its CA bundle, its
 * proxies) as an ordinary transfer on the caller's multi handle; then this
 * module writes the HTTP/1.1 Upgrade itself and hands frames to libwslay,
 * doing every read and write with non-blocking curl_easy_recv/send.
 * Why this and not libwebsockets: docs/ARCHITECTURE.md, "WebSocket client".
 *
 * Life of a connection, as the caller drives it:
 *   w = ws_new(&config, &handler, err, sizeof(err));
 *   add ws_easy(w) to the multi; when that transfer ends, call
 *   ws_connected(w, result) and LEAVE the handle in the multi (libcurl
 *   closes a CONNECT_ONLY connection when its handle leaves the multi;
 *   ws_free takes it out);
 *   then watch ws_fd(w) for reading, and for writing while
 *   ws_wants_write(w); call ws_io(w, readable, writable) when poll reports
 *   it, and ws_io(w, false, false) once ws_deadline(w) has passed.
 *   After every ws_* call the caller re-reads ws_wants_write and
 *   ws_deadline (a callback may have queued output or closed).
 *
 * Callbacks run only from ws_connected, ws_io and ws_close. They may call
 * ws_send_text and ws_close, never ws_free: a closed() handler sets a flag
 * and the caller frees after the ws_* call returns (the fd stays valid until
 * ws_free, so the caller can stop watching it first).
 *
 * Bounds: connect_timeout_ms bounds TCP+TLS (libcurl's CURLOPT_CONNECTTIMEOUT)
 * and again the Upgrade answer, and ws_close waits WS_CLOSE_WAIT_MS for the
 * server's close frame; both through ws_deadline, so a caller that never
 * calls ws_io at the deadline must bound a silent server itself.
 */
#ifndef CAMPAIGN_WS_H
#define CAMPAIGN_WS_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How long ws_close waits for the server's close frame. */
#define WS_CLOSE_WAIT_MS 5000

struct ws;

struct ws_config {
	const char *url;            /* ws:// or wss://, with path and query */
	const char *ca_file;        /* NULL: the system bundle */
	long connect_timeout_ms;    /* TCP+TLS connect bound, then the Upgrade answer's; 0: 10 s */
	size_t max_message;         /* a bigger incoming message: close 1009, closed() with an error; 0: 1 MiB */
	const char *user_agent;     /* may be NULL */
	const char *const *headers; /* extra request headers "Name: value", NULL-terminated; may be NULL */
};

struct ws_handler {
	void *arg;
	/* The server accepted the Upgrade: ws_send_text works from now on. */
	void (*open)(void *arg);
	/* One whole (defragmented) message; data is not NUL-terminated and is
	 * valid only during the call. */
	void (*message)(void *arg, const char *data, size_t len, bool binary);
	/* Exactly once, whatever ended it: a close frame (its code, 1005 if it
	 * had none, and its reason), reset, EOF, TLS error, handshake refusal,
	 * protocol error, oversize; code 1006 when no close frame was received
	 * (why then says what happened). why is never NULL. */
	void (*closed)(void *arg, int code, const char *why);
};

/* NULL with a message in err on a bad URL or header. Copies what it keeps. */
struct ws *ws_new(const struct ws_config *c, const struct ws_handler *h, char *err, size_t errlen);
/* The connect-phase easy handle: the caller adds it to its multi. */
CURL *ws_easy(struct ws *w);
/* The caller calls this when that transfer ends (the handle stays in the
 * multi); starts the handshake, or reports closed() at once. */
void ws_connected(struct ws *w, CURLcode result);
/* The socket after connect (until ws_free), else -1. */
int ws_fd(const struct ws *w);
/* Queued output not yet written. */
bool ws_wants_write(const struct ws *w);
/* The monotonic time (clock_mono_ms) at which the caller calls
 * ws_io(w, false, false); -1 when there is none. */
int64_t ws_deadline(const struct ws *w);
/* Call when poll reports the fd (or at ws_deadline); callbacks run from here.
 * Reads until libcurl says EAGAIN (TLS may hold decrypted bytes poll cannot
 * see), then writes what it can. */
void ws_io(struct ws *w, bool readable, bool writable);
/* Queues one text message (written by the next ws_io); -1 when not open. */
int ws_send_text(struct ws *w, const char *data, size_t len);
/* Sends a close frame (code 1000-4999, reason cut to 123 bytes), then
 * closed() with the server's answer, or code 1006 after WS_CLOSE_WAIT_MS.
 * Before open, ends the connection at once: closed(1006, ...) before it
 * returns. Does nothing once closed() was reported. */
void ws_close(struct ws *w, int code, const char *reason);
/* Queues a ping frame (a peer that answers proves the connection alive); -1 when not open. */
int ws_ping(struct ws *w);
/* clock_mono_ms of the last frame received of any kind (pongs too); 0: none yet. */
int64_t ws_last_received(const struct ws *w);
/* Never calls callbacks; the caller removes ws_easy from its multi first if
 * still connecting (after ws_connected, ws_free does it). Accepts NULL. */
void ws_free(struct ws *w);

#endif
