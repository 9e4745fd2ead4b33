/*
 * The chat file fetcher: see file_fetch.h.
 */
#include "file_fetch.h"

#include <ctype.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "campaign/buf.h"
#include "campaign/chatfiles.h"
#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/plandb.h"
#include "campaign/submissions.h"
#include "campaign/utf8.h"
#include "campaign/xmalloc.h"

#define CHECK_MS 2000
#define RETRY_MS 10000
#define ATTEMPTS_MAX 5
#define DOWNLOAD_TIMEOUT_MS 300000L
#define DISPOSITION_MAX 2048
#define MB (1024.0 * 1024.0)

struct file_fetch {
	struct store *store;
	struct loop *loop;
	struct driver *driver;
	const struct cfg *cfg;
	const char *platform;
	int64_t max;                    /* the smaller of the platform's cap and the config's */
	CURL *easy;
	struct buf data;
	char disposition[DISPOSITION_MAX];
	char errbuf[CURL_ERROR_SIZE];
	struct chat_file cur;           /* in flight; cur.id 0 when idle */
	struct loop_timer *timer;
};

static void
finish(struct file_fetch *f, int next_ms)
{
	bool large = f->data.cap > 1024 * 1024;

	chat_file_clear(&f->cur);
	/*
	 * The download (up to max_size_mb) is given back now, not kept for the
	 * next file: the bot idles small. glibc keeps a freed large block for
	 * reuse (its mmap threshold rises), so it is asked to return it.
	 */
	buf_free(&f->data);
	if (large)
		malloc_trim(0);
	f->disposition[0] = '\0';
	loop_timer_after(f->timer, next_ms);
}

static void
failed(struct file_fetch *f, const char *why, bool final)
{
	final |= f->cur.attempts + 1 >= ATTEMPTS_MAX;
	log_warnx("files", "%s file %lld: %s%s", f->platform, (long long)f->cur.id, why,
	    final ? "; giving up" : "; retrying");
	if (chatfiles_failed(f->store, &f->cur, why, final, clock_now()) == 0 && final)
		f->driver->host->kick(f->driver->host->ctx);
	finish(f, final ? 0 : RETRY_MS);
}

static void
too_large(struct file_fetch *f, double size_mb)
{
	char why[128];

	if (size_mb > 0)
		snprintf(why, sizeof(why), "文件 %.1f MB，超过上限 %.0f MB", size_mb,
		    (double)f->max / MB);
	else
		snprintf(why, sizeof(why), "文件超过上限 %.0f MB", (double)f->max / MB);
	failed(f, why, true);
}

static size_t
on_data(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	return buf_append(b, data, size * n) < 0 ? 0 : size * n;
}

/* Keeps the Content-Disposition header: the name of a file sent without one. */
static size_t
on_header(char *line, size_t size, size_t n, void *arg)
{
	struct file_fetch *f = arg;
	static const char name[] = "content-disposition:";
	size_t len = size * n;

	if (len > sizeof(name) - 1 && strncasecmp(line, name, sizeof(name) - 1) == 0) {
		size_t v = sizeof(name) - 1, end = len;

		while (v < end && (line[v] == ' ' || line[v] == '\t'))
			v++;
		while (end > v && (line[end - 1] == '\r' || line[end - 1] == '\n'))
			end--;
		if (end - v < sizeof(f->disposition)) {
			memcpy(f->disposition, line + v, end - v);
			f->disposition[end - v] = '\0';
		}
	}
	return len;
}

static int
hexval(int c)
{
	return isdigit(c) ? c - '0' : isxdigit(c) ? tolower(c) - 'a' + 10 : -1;
}

/* Percent-decodes s[0..len) into an owned string; NULL on a bad escape. */
static char *
pct_decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		if (s[i] != '%') {
			*o++ = s[i];
			continue;
		}
		if (i + 2 >= len || hexval((unsigned char)s[i + 1]) < 0 ||
		    hexval((unsigned char)s[i + 2]) < 0) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
		i += 2;
	}
	*o = '\0';
	return out;
}

/* The value of parameter key ("filename*", "filename") in a header value. */
static char *
param_value(const char *value, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = value; (p = strcasestr(p, key)) != NULL; p += klen) {
		const char *v = p + klen, *end;

		if (p != value && p[-1] != ';' && p[-1] != ' ' && p[-1] != '\t')
			continue;
		while (*v == ' ')
			v++;
		if (*v++ != '=')
			continue;
		while (*v == ' ')
			v++;
		if (*v == '"') {
			end = strchr(++v, '"');
			return end != NULL ? xstrndup(v, (size_t)(end - v)) : NULL;
		}
		end = v + strcspn(v, "; \t");
		return xstrndup(v, (size_t)(end - v));
	}
	return NULL;
}

char *
file_fetch_disposition_name(const char *value)
{
	char *ext = param_value(value, "filename*"), *plain, *name = NULL;

	/* RFC 5987: charset'language'percent-encoded; only UTF-8 is in use. */
	if (ext != NULL && strncasecmp(ext, "utf-8'", 6) == 0) {
		const char *q = strchr(ext + 6, '\'');

		if (q != NULL)
			name = pct_decode(q + 1, strlen(q + 1));
	}
	free(ext);
	if (name == NULL && (plain = param_value(value, "filename")) != NULL) {
		/* Some servers percent-encode the plain form too (WeCom's SDK decodes it). */
		name = strchr(plain, '%') != NULL ? pct_decode(plain, strlen(plain)) : NULL;
		if (name == NULL)
			name = plain;
		else
			free(plain);
	}
	if (name != NULL) {
		/* A name, never a path: what follows the last separator. */
		const char *base = name;

		for (const char *p = name; *p != '\0'; p++)
			if (*p == '/' || *p == '\\')
				base = p + 1;
		if (*base == '\0' || !utf8_valid(base, strlen(base))) {
			free(name);
			return NULL;
		}
		memmove(name, base, strlen(base) + 1);
	}
	return name;
}

/* The file has no name yet (WeCom): take the server's, check its type. */
static bool
named(struct file_fetch *f)
{
	char *name;
	struct buf why;

	if (f->cur.name != NULL && *f->cur.name != '\0')
		return true;
	name = f->disposition[0] != '\0' ? file_fetch_disposition_name(f->disposition) : NULL;
	free(f->cur.name);
	f->cur.name = name != NULL ? name : xstrdup("文件");
	if (submissions_type_allowed(f->cfg->mail.types, f->cfg->mail.ntypes, f->cur.name))
		return true;
	buf_init(&why, 512);
	buf_puts(&why, "只接受这些格式：");
	submissions_types_list(&why, f->cfg->mail.types, f->cfg->mail.ntypes);
	failed(f, why.data, true);
	buf_free(&why);
	return false;
}

static void
downloaded(void *arg, CURL *easy, CURLcode result)
{
	struct file_fetch *f = arg;
	long status = 0;
	char err[256], why[256];
	struct plan *plan;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	if (f->data.overflow) {
		too_large(f, 0);
		return;
	}
	if (result != CURLE_OK || status != 200) {
		/* An expired link (403/404/410) does not come back: the user sends again. */
		bool gone = status == 403 || status == 404 || status == 410;

		log_info("files", "%s file %lld: %s", f->platform, (long long)f->cur.id,
		    result != CURLE_OK ? f->errbuf : "HTTP error");
		failed(f, gone ? "下载链接已失效" : "下载失败", gone);
		return;
	}
	if (f->driver->ops->file_decode != NULL && f->driver->ops->file_decode(f->driver,
	    f->cur.file_ref, &f->data, why, sizeof(why)) < 0) {
		failed(f, why, true);
		return;
	}
	if (!named(f))
		return;
	plan = plandb_load(f->store, err, sizeof(err));
	if (plan == NULL) {
		log_warnx("files", "%s", err);
		finish(f, RETRY_MS);
		return;
	}
	if (chatfiles_stored(f->store, plan, &f->cur, f->data.data, f->data.len,
	    clock_now()) == 0) {
		log_info("files", "%s file %lld stored (%zu bytes)", f->platform,
		    (long long)f->cur.id, f->data.len);
		f->driver->host->kick(f->driver->host->ctx);
		finish(f, 0);
	} else {
		finish(f, RETRY_MS);
	}
	plan_free(plan);
}

static void
located(void *arg, const char *url, const char *why, bool final)
{
	struct file_fetch *f = arg;

	if (url == NULL) {
		failed(f, why != NULL ? why : "下载失败", final);
		return;
	}
	buf_reset(&f->data);
	f->disposition[0] = '\0';
	curl_easy_setopt(f->easy, CURLOPT_URL, url);
	if (loop_curl_add(f->loop, f->easy, downloaded, f) < 0)
		failed(f, "下载失败", false);
}

static void
tick(void *arg)
{
	struct file_fetch *f = arg;
	int rc;

	if (f->cur.id != 0)
		return;
	rc = chatfiles_next(f->store, f->platform, &f->cur);
	if (rc <= 0) {
		chat_file_clear(&f->cur);
		loop_timer_after(f->timer, CHECK_MS);
		return;
	}
	if (f->cur.size > f->max) {
		too_large(f, (double)f->cur.size / MB);
		return;
	}
	if (f->driver->ops->file_url(f->driver, f->cur.file_ref, located, f) < 0) {
		/* Not started (the driver is not signed in yet): the same file later. */
		finish(f, RETRY_MS);
	}
}

struct file_fetch *
file_fetch_new(struct store *s, struct loop *l, struct driver *d, const struct cfg *cfg)
{
	struct file_fetch *f = xcalloc(1, sizeof(*f));

	f->store = s;
	f->loop = l;
	f->driver = d;
	f->cfg = cfg;
	f->platform = d->ops->name;
	f->max = cfg->mail.max_size;
	if (d->ops->file_max > 0 && d->ops->file_max < f->max)
		f->max = d->ops->file_max;
	f->easy = curl_easy_init();
	if (f->easy == NULL)
		fatalx("files", "curl_easy_init failed");
	buf_init(&f->data, (size_t)f->max);
	curl_easy_setopt(f->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(f->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(f->easy, CURLOPT_WRITEDATA, &f->data);
	curl_easy_setopt(f->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(f->easy, CURLOPT_HEADERDATA, f);
	curl_easy_setopt(f->easy, CURLOPT_ERRORBUFFER, f->errbuf);
	curl_easy_setopt(f->easy, CURLOPT_TIMEOUT_MS, DOWNLOAD_TIMEOUT_MS);
	curl_easy_setopt(f->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	/* Signed storage links redirect at most to another signed link. */
	curl_easy_setopt(f->easy, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(f->easy, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(f->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	f->timer = loop_timer_new(l, tick, f);
	loop_timer_after(f->timer, CHECK_MS);
	return f;
}

void
file_fetch_free(struct file_fetch *f)
{
	if (f == NULL)
		return;
	loop_curl_remove(f->loop, f->easy);
	curl_easy_cleanup(f->easy);
	loop_timer_free(f->timer);
	chat_file_clear(&f->cur);
	buf_free(&f->data);
	free(f);
}
