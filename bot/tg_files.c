/*
 * The Telegram document fetcher: see tg_files.h.
 */
#include "tg_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/buf.h"
#include "campaign/chatfiles.h"
#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/plandb.h"
#include "campaign/xmalloc.h"
#include "tg_api.h"

#define CHECK_MS 2000
#define RETRY_MS 10000
#define FILE_MAX (20 * 1024 * 1024)
#define ATTEMPTS_MAX 5
#define GETFILE_TIMEOUT_MS 30000L
#define DOWNLOAD_TIMEOUT_MS 300000L

struct tgfiles {
	struct store *store;
	struct loop *loop;
	const struct driver_host *host;
	struct tg_api *api;
	struct tg_call *call;
	CURL *easy;
	struct buf data;
	char errbuf[CURL_ERROR_SIZE];
	struct chat_file cur;           /* in flight; cur.id 0 when idle */
	struct loop_timer *timer;
};

static void
finish(struct tgfiles *f, int next_ms)
{
	chat_file_clear(&f->cur);
	buf_reset(&f->data);
	loop_timer_after(f->timer, next_ms);
}

static void
failed(struct tgfiles *f, const char *why, bool final)
{
	final |= f->cur.attempts + 1 >= ATTEMPTS_MAX;
	log_warnx("tgfiles", "file %lld: %s%s", (long long)f->cur.id, why,
	    final ? "; giving up" : "; retrying");
	if (chatfiles_failed(f->store, &f->cur, why, final, clock_now()) == 0 && final)
		f->host->kick(f->host->ctx);
	finish(f, final ? 0 : RETRY_MS);
}

static size_t
on_data(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	return buf_append(b, data, size * n) < 0 ? 0 : size * n;
}

static void
downloaded(void *arg, CURL *easy, CURLcode result)
{
	struct tgfiles *f = arg;
	long status = 0;
	char err[256];
	struct plan *plan;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	if (result != CURLE_OK || status != 200) {
		failed(f, f->data.overflow ? "文件超过 20 MB" : "下载失败", f->data.overflow);
		return;
	}
	plan = plandb_load(f->store, err, sizeof(err));
	if (plan == NULL) {
		log_warnx("tgfiles", "%s", err);
		finish(f, RETRY_MS);
		return;
	}
	if (chatfiles_stored(f->store, plan, &f->cur, f->data.data, f->data.len,
	    clock_now()) == 0) {
		log_info("tgfiles", "file %lld stored (%zu bytes)", (long long)f->cur.id,
		    f->data.len);
		f->host->kick(f->host->ctx);
		finish(f, 0);
	} else {
		finish(f, RETRY_MS);
	}
	plan_free(plan);
}

static void
got_path(void *arg, struct tg_call *call, const struct tg_result *r)
{
	struct tgfiles *f = arg;
	const char *path;
	char *url;

	(void)call;
	if (r->outcome == TG_API_ERROR) {
		/* 400 "file is too big" and the like: asking again will not help */
		failed(f, "Telegram 拒绝下载", true);
		return;
	}
	path = r->outcome == TG_OK ? json_string_value(json_object_get(r->result,
	    "file_path")) : NULL;
	if (path == NULL) {
		failed(f, "下载失败", false);
		return;
	}
	url = tg_api_file_url(f->api, path);
	buf_reset(&f->data);
	curl_easy_setopt(f->easy, CURLOPT_URL, url);
	explicit_bzero(url, strlen(url));
	free(url);
	if (loop_curl_add(f->loop, f->easy, downloaded, f) < 0)
		failed(f, "下载失败", false);
}

static void
tick(void *arg)
{
	struct tgfiles *f = arg;
	json_t *params;
	int rc;

	if (f->cur.id != 0)
		return;
	rc = chatfiles_next(f->store, "telegram", &f->cur);
	if (rc <= 0) {
		chat_file_clear(&f->cur);
		loop_timer_after(f->timer, CHECK_MS);
		return;
	}
	params = json_pack("{ss}", "file_id", f->cur.file_ref);
	if (tg_call_start(f->call, "getFile", params, GETFILE_TIMEOUT_MS, true, got_path, f) < 0)
		failed(f, "下载失败", false);
	json_decref(params);
}

struct tgfiles *
tgfiles_new(struct store *s, struct loop *l, const char *api_url, const char *token,
    const struct driver_host *host)
{
	struct tgfiles *f = xcalloc(1, sizeof(*f));

	f->store = s;
	f->loop = l;
	f->host = host;
	f->api = tg_api_new(api_url, token);
	f->call = tg_call_new(f->api, l, 64 * 1024);
	f->easy = curl_easy_init();
	if (f->easy == NULL)
		fatalx("tgfiles", "curl_easy_init failed");
	buf_init(&f->data, FILE_MAX);
	curl_easy_setopt(f->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(f->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(f->easy, CURLOPT_WRITEDATA, &f->data);
	curl_easy_setopt(f->easy, CURLOPT_ERRORBUFFER, f->errbuf);
	curl_easy_setopt(f->easy, CURLOPT_TIMEOUT_MS, DOWNLOAD_TIMEOUT_MS);
	curl_easy_setopt(f->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(f->easy, CURLOPT_FOLLOWLOCATION, 0L);
	f->timer = loop_timer_new(l, tick, f);
	loop_timer_after(f->timer, CHECK_MS);
	return f;
}

void
tgfiles_free(struct tgfiles *f)
{
	if (f == NULL)
		return;
	loop_curl_remove(f->loop, f->easy);
	curl_easy_cleanup(f->easy);
	tg_call_free(f->call);
	tg_api_free(f->api);
	loop_timer_free(f->timer);
	chat_file_clear(&f->cur);
	buf_free(&f->data);
	free(f);
}
