/*
 * One JSON-over-HTTPS call at a time on the daemon's loop, for the APIs
 * whose errors are an HTTP status plus a JSON body (DingTalk's gateway,
 * token and robot APIs, session webhooks). A call owns one curl handle and
 * is reused (keep-alive); the answer is read into a bounded buffer. URLs
 * may carry secrets (a webhook's token): nothing here logs a URL; the
 * caller names the call with a label.
 */
#ifndef CAMPAIGN_BOT_HTTP_JSON_H
#define CAMPAIGN_BOT_HTTP_JSON_H

#include <jansson.h>
#include <stdbool.h>

#include "loop.h"

struct http_result {
	bool network;           /* no HTTP answer: connect, reset, timeout, too large */
	long status;            /* HTTP status, 0 when network */
	const json_t *body;     /* the answer's JSON (borrowed until the call is reused); NULL if not JSON */
	char detail[256];       /* one line for logs: label, status, reason; no URL */
};

struct http_json;
typedef void http_json_cb(void *arg, const struct http_result *r);

struct http_json *http_json_new(struct loop *loop, size_t max_body);
void http_json_free(struct http_json *c);
/*
 * POSTs body (borrowed) to url with the extra headers ("Name: value", may be
 * NULL) and calls done once. -1 if busy or it cannot start.
 */
int http_json_post(struct http_json *c, const char *label, const char *url,
    const char *const *headers, const json_t *body, long timeout_ms, http_json_cb *done,
    void *arg);
bool http_json_busy(const struct http_json *c);
/* Aborts a call in flight; its callback is not called. */
void http_json_abort(struct http_json *c);

/* The string member key of obj (borrowed), or NULL when absent or not a string. */
const char *http_json_str(const json_t *obj, const char *key);

#endif
