/*
 * Bot API plumbing (see tg_api.h). One tg_call owns one curl easy handle
 * and is reused call after call (keep-alive). The answer is classified the
 * way aiogram does it: by the JSON's "parameters" first, then the error
 * code, and anything that is not JSON at all (an nginx 502 page, a body cut
 * short) is a bad answer to retry, never a reason to crash.
 */
#include "tg_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "campaign/buf.h"
#include "campaign/log.h"
#include "campaign/num.h"
#include "campaign/redact.h"
#include "campaign/xmalloc.h"

#define CONNECT_TIMEOUT_MS 10000

struct tg_api {
	char *base;             /* api_url */
	char *prefix;           /* "<api_url>/bot<token>/" */
	char *token;
	char *old_token;        /* the one before a reload: calls in flight may still name it */
};

static void
free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

struct tg_call {
	struct tg_api *api;
	struct loop *loop;
	CURL *easy;
	struct curl_slist *headers;
	struct buf body;
	char *request;
	char method[64];
	int64_t retry_after_header;
	char errbuf[CURL_ERROR_SIZE];
	json_t *root;
	tg_done_cb *done;
	void *arg;
	bool busy;
	bool want_result;
};

struct tg_api *
tg_api_new(const char *base_url, const char *token)
{
	struct tg_api *api = xcalloc(1, sizeof(*api));

	api->base = xstrdup(base_url);
	api->prefix = xasprintf("%s/bot%s/", base_url, token);
	api->token = xstrdup(token);
	return api;
}

char *
tg_api_file_url(const struct tg_api *api, const char *file_path)
{
	/* prefix is "<api_url>/bot<token>/" */
	size_t base = strlen(api->prefix) - strlen(api->token) - strlen("bot/");

	return xasprintf("%.*sfile/bot%s/%s", (int)base, api->prefix, api->token, file_path);
}

void
tg_api_set_token(struct tg_api *api, const char *token)
{
	free_secret(api->old_token);
	api->old_token = api->token;
	api->token = xstrdup(token);
	free_secret(api->prefix);
	api->prefix = xasprintf("%s/bot%s/", api->base, token);
}

bool
tg_api_token_is(const struct tg_api *api, const char *token)
{
	return strcmp(api->token, token) == 0;
}

void
tg_api_free(struct tg_api *api)
{
	if (api == NULL)
		return;
	free(api->base);
	free_secret(api->prefix);
	free_secret(api->token);
	free_secret(api->old_token);
	free(api);
}

static void
scrub_one(const char *token, char *text)
{
	redact_secret(text, token);
}

void
tg_api_scrub(const struct tg_api *api, char *text)
{
	scrub_one(api->token, text);
	if (api->old_token != NULL)
		scrub_one(api->old_token, text);
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct tg_call *call = arg;

	/* Past the cap: stop the transfer (curl reports a write error). */
	if (buf_append(&call->body, data, size * nmemb) < 0)
		return 0;
	return size * nmemb;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct tg_call *call = arg;
	size_t len = size * nmemb;
	static const char name[] = "retry-after:";

	if (len > sizeof(name) && len < 64 && strncasecmp(data, name, sizeof(name) - 1) == 0) {
		char value[64];
		size_t n = len - (sizeof(name) - 1);
		const char *v = data + sizeof(name) - 1;

		while (n > 0 && (*v == ' ' || *v == '\t'))
			v++, n--;
		while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
			n--;
		memcpy(value, v, n);
		value[n] = '\0';
		if (num_parse_i64(value, 0, 86400, &call->retry_after_header) < 0)
			call->retry_after_header = -1;
	}
	return len;
}

struct tg_call *
tg_call_new(struct tg_api *api, struct loop *loop, size_t max_body)
{
	struct tg_call *call = xcalloc(1, sizeof(*call));

	call->api = api;
	call->loop = loop;
	call->easy = curl_easy_init();
	if (call->easy == NULL)
		fatalx("telegram", "curl_easy_init failed");
	call->headers = curl_slist_append(NULL, "Content-Type: application/json");
	call->headers = curl_slist_append(call->headers, "Expect:");
	buf_init(&call->body, max_body);
	curl_easy_setopt(call->easy, CURLOPT_HTTPHEADER, call->headers);
	curl_easy_setopt(call->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(call->easy, CURLOPT_WRITEDATA, call);
	curl_easy_setopt(call->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(call->easy, CURLOPT_HEADERDATA, call);
	curl_easy_setopt(call->easy, CURLOPT_ERRORBUFFER, call->errbuf);
	curl_easy_setopt(call->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(call->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
	curl_easy_setopt(call->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(call->easy, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(call->easy, CURLOPT_TCP_KEEPINTVL, 15L);
	curl_easy_setopt(call->easy, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(call->easy, CURLOPT_USERAGENT, "campaign-bot/0.1");
	curl_easy_setopt(call->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(call->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(call->easy, CURLOPT_PRIVATE, call);
	return call;
}

void
tg_call_free(struct tg_call *call)
{
	if (call == NULL)
		return;
	tg_call_abort(call);
	curl_easy_cleanup(call->easy);
	curl_slist_free_all(call->headers);
	buf_free(&call->body);
	json_decref(call->root);
	free(call->request);
	free(call);
}

bool
tg_call_busy(const struct tg_call *call)
{
	return call->busy;
}

void
tg_call_abort(struct tg_call *call)
{
	if (!call->busy)
		return;
	loop_curl_remove(call->loop, call->easy);
	call->busy = false;
}

static void
classify_error(struct tg_call *call, struct tg_result *r)
{
	const json_t *code = json_object_get(call->root, "error_code");
	const json_t *desc = json_object_get(call->root, "description");
	const json_t *params = json_object_get(call->root, "parameters");
	const json_t *retry = json_object_get(params, "retry_after");
	const json_t *migrate = json_object_get(params, "migrate_to_chat_id");
	char *desc_copy;

	r->outcome = TG_API_ERROR;
	r->error_code = json_is_integer(code) ? (int)json_integer_value(code) :
	    (int)r->http_status;
	r->description = json_is_string(desc) ? json_string_value(desc) : "";
	if (json_is_integer(retry) && json_integer_value(retry) >= 0)
		r->retry_after = json_integer_value(retry);
	if (json_is_integer(migrate))
		snprintf(r->migrate_to, sizeof(r->migrate_to), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(migrate));
	/* Masked before it is cut, so no piece of an echoed token survives the cut. */
	desc_copy = xstrdup(r->description);
	tg_api_scrub(call->api, desc_copy);
	snprintf(r->detail, sizeof(r->detail), "%.40s: %d %.160s", call->method, r->error_code,
	    desc_copy);
	free(desc_copy);
}

static void
finished(void *arg, CURL *easy, CURLcode rc)
{
	struct tg_call *call = arg;
	struct tg_result r = { .retry_after = -1 };
	json_error_t jerr;
	const json_t *ok;
	char *type = NULL;

	call->busy = false;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r.http_status);
	curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &type);
	json_decref(call->root);
	call->root = NULL;
	if (rc != CURLE_OK) {
		r.outcome = call->body.overflow ? TG_BAD_ANSWER : TG_NETWORK;
		snprintf(r.detail, sizeof(r.detail), "%.40s: %.200s", call->method, call->body.overflow ?
		    "answer too large" : *call->errbuf != '\0' ? call->errbuf :
		    curl_easy_strerror(rc));
		goto out;
	}
	/* A caller that needs no result skips parsing a plain success (sendMessage). */
	if (!call->want_result && r.http_status == 200 &&
	    strncmp(buf_str(&call->body), "{\"ok\":true,", 11) == 0) {
		r.outcome = TG_OK;
		snprintf(r.detail, sizeof(r.detail), "%.40s: ok", call->method);
		goto out;
	}
	call->root = json_loadb(buf_str(&call->body), call->body.len, 0, &jerr);
	ok = json_object_get(call->root, "ok");
	if (call->root == NULL || !json_is_object(call->root) || !json_is_boolean(ok)) {
		r.outcome = TG_BAD_ANSWER;
		snprintf(r.detail, sizeof(r.detail), "%.40s: HTTP %ld, not the API's JSON (%.40s%s%.100s)",
		    call->method, r.http_status, type != NULL ? type : "no content type",
		    call->root == NULL ? ": " : "", call->root == NULL ? jerr.text : "");
		goto out;
	}
	if (json_is_true(ok)) {
		r.outcome = TG_OK;
		r.result = json_object_get(call->root, "result");
		snprintf(r.detail, sizeof(r.detail), "%.40s: ok", call->method);
		goto out;
	}
	classify_error(call, &r);
out:
	if (r.retry_after < 0 && call->retry_after_header >= 0 &&
	    (r.http_status == 429 || r.error_code == 429))
		r.retry_after = call->retry_after_header;
	tg_api_scrub(call->api, r.detail);
	call->done(call->arg, call, &r);
}

int
tg_call_start(struct tg_call *call, const char *method, const json_t *params,
    long timeout_ms, bool done_wants_result, tg_done_cb *done, void *arg)
{
	char *url;
	int rc;

	if (call->busy)
		return -1;
	free(call->request);
	call->request = json_dumps(params, JSON_COMPACT);
	if (call->request == NULL)
		return -1;
	snprintf(call->method, sizeof(call->method), "%s", method);
	buf_reset(&call->body);
	call->errbuf[0] = '\0';
	call->retry_after_header = -1;
	call->done = done;
	call->arg = arg;
	call->want_result = done_wants_result;
	url = xasprintf("%s%s", call->api->prefix, method);
	curl_easy_setopt(call->easy, CURLOPT_URL, url);
	explicit_bzero(url, strlen(url));
	free(url);
	curl_easy_setopt(call->easy, CURLOPT_POSTFIELDS, call->request);
	curl_easy_setopt(call->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(call->request));
	curl_easy_setopt(call->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	rc = loop_curl_add(call->loop, call->easy, finished, call);
	if (rc == 0)
		call->busy = true;
	return rc;
}
