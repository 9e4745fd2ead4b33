/*
 * JSON POSTs on the loop (see http_json.h). Mirrors tg_api's plumbing
 * without Telegram's envelope: the caller reads status and body itself,
 * because each API says "ok" its own way ({"errcode":0}, a 200 with fields,
 * an HTTP error with {"code","message"}).
 */
#include "http_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/buf.h"
#include "campaign/log.h"
#include "campaign/xmalloc.h"

#define CONNECT_TIMEOUT_MS 10000

struct http_json {
	struct loop *loop;
	CURL *easy;
	struct curl_slist *headers;
	struct buf body;
	char *request;
	char label[64];
	char errbuf[CURL_ERROR_SIZE];
	json_t *root;
	http_json_cb *done;
	void *arg;
	bool busy;
};

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_json *c = arg;

	/* Past the cap: stop the transfer (curl reports a write error). */
	if (buf_append(&c->body, data, size * nmemb) < 0)
		return 0;
	return size * nmemb;
}

struct http_json *
http_json_new(struct loop *loop, size_t max_body)
{
	struct http_json *c = xcalloc(1, sizeof(*c));

	c->loop = loop;
	if ((c->easy = curl_easy_init()) == NULL)
		fatalx("http", "curl_easy_init failed");
	buf_init(&c->body, max_body);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c->easy, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c->easy, CURLOPT_USERAGENT, "campaign-bot/0.1");
	curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->easy, CURLOPT_FOLLOWLOCATION, 0L);
	return c;
}

void
http_json_free(struct http_json *c)
{
	if (c == NULL)
		return;
	http_json_abort(c);
	curl_easy_cleanup(c->easy);
	curl_slist_free_all(c->headers);
	buf_free(&c->body);
	json_decref(c->root);
	free(c->request);
	free(c);
}

bool
http_json_busy(const struct http_json *c)
{
	return c->busy;
}

void
http_json_abort(struct http_json *c)
{
	if (!c->busy)
		return;
	loop_curl_remove(c->loop, c->easy);
	c->busy = false;
}

static void
finished(void *arg, CURL *easy, CURLcode rc)
{
	struct http_json *c = arg;
	struct http_result r = { 0 };

	c->busy = false;
	json_decref(c->root);
	c->root = NULL;
	if (rc != CURLE_OK) {
		r.network = true;
		snprintf(r.detail, sizeof(r.detail), "%.50s: %.190s", c->label, c->body.overflow ?
		    "answer too large" : *c->errbuf != '\0' ? c->errbuf : curl_easy_strerror(rc));
	} else {
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r.status);
		c->root = json_loadb(buf_str(&c->body), c->body.len, 0, NULL);
		r.body = json_is_object(c->root) ? c->root : NULL;
		snprintf(r.detail, sizeof(r.detail), "%s: HTTP %ld%s", c->label, r.status,
		    r.body == NULL ? ", not JSON" : "");
	}
	c->done(c->arg, &r);
}

int
http_json_post(struct http_json *c, const char *label, const char *url,
    const char *const *headers, const json_t *body, long timeout_ms, http_json_cb *done,
    void *arg)
{
	int rc;

	if (c->busy)
		return -1;
	free(c->request);
	if ((c->request = json_dumps(body, JSON_COMPACT)) == NULL)
		return -1;
	curl_slist_free_all(c->headers);
	c->headers = curl_slist_append(NULL, "Content-Type: application/json");
	c->headers = curl_slist_append(c->headers, "Accept: application/json");
	c->headers = curl_slist_append(c->headers, "Expect:");
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
		c->headers = curl_slist_append(c->headers, headers[i]);
	snprintf(c->label, sizeof(c->label), "%s", label);
	buf_reset(&c->body);
	c->errbuf[0] = '\0';
	c->done = done;
	c->arg = arg;
	curl_easy_setopt(c->easy, CURLOPT_URL, url);
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->request);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(c->request));
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	rc = loop_curl_add(c->loop, c->easy, finished, c);
	if (rc == 0)
		c->busy = true;
	return rc;
}

const char *
http_json_str(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}
