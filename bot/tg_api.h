/*
 * Telegram Bot API calls over libcurl on the daemon's loop: a JSON POST to
 * <api_url>/bot<token>/<method>, the answer read into a bounded buffer and
 * classified (ok, network failure, an answer that is not the API's JSON, an
 * API error with its code, description, retry_after and migrate_to_chat_id).
 * Handles are reused, so connections stay alive between calls. The token
 * lives only in the URL; nothing here logs a URL, and curl's error texts are
 * scrubbed of the token before anyone sees them.
 */
#ifndef CAMPAIGN_BOT_TG_API_H
#define CAMPAIGN_BOT_TG_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "loop.h"

enum tg_outcome {
	TG_OK,                  /* {"ok":true,"result":...} */
	TG_NETWORK,             /* connect, reset, timeout, truncated transfer */
	TG_BAD_ANSWER,          /* an answer that is not the API's JSON (HTML 502 ...) */
	TG_API_ERROR,           /* {"ok":false,"error_code":...} */
};

struct tg_result {
	enum tg_outcome outcome;
	const json_t *result;   /* TG_OK: borrowed until the call is reused */
	long http_status;
	int error_code;
	const char *description;/* TG_API_ERROR: borrowed; "" when absent */
	int64_t retry_after;    /* seconds (body or Retry-After header); -1 when absent */
	char migrate_to[32];    /* "" when absent */
	char detail[256];       /* one line for logs: method, status, reason; no token */
};

struct tg_api;
struct tg_call;

typedef void tg_done_cb(void *arg, struct tg_call *call, const struct tg_result *r);

struct tg_api *tg_api_new(const char *base_url, const char *token);
void tg_api_free(struct tg_api *api);
/* A new token for the calls started from now on (SIGHUP); both are scrubbed from text. */
void tg_api_set_token(struct tg_api *api, const char *token);
bool tg_api_token_is(const struct tg_api *api, const char *token);
/* issue 15: <api_url>/file/bot<token>/<file_path>, owned; holds the token: never log it. */
char *tg_api_file_url(const struct tg_api *api, const char *file_path);
/* Masks the token (and a replaced one) in text, in every form (lib/redact.c), in place. */
void tg_api_scrub(const struct tg_api *api, char *text);

/* max_body: the largest answer accepted. */
struct tg_call *tg_call_new(struct tg_api *api, struct loop *loop, size_t max_body);
void tg_call_free(struct tg_call *call);
/*
 * Starts method with params (a JSON object, borrowed) on the loop; done is
 * called once. timeout_ms bounds the whole call. Without want_result a plain
 * success is not parsed (r->result is NULL). -1 if the call is busy or
 * cannot start.
 */
int tg_call_start(struct tg_call *call, const char *method, const json_t *params,
    long timeout_ms, bool want_result, tg_done_cb *done, void *arg);
bool tg_call_busy(const struct tg_call *call);
/* Aborts a call in flight; its callback is not called. */
void tg_call_abort(struct tg_call *call);

#endif
