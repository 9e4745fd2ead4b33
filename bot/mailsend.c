/*
 * SMTP for the office's mail: see mailsend.h.
 */
#include "mailsend.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "campaign/buf.h"
#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/outbox.h"
#include "campaign/xmalloc.h"
#include "bulletin_job.h"
#include "mailintake.h"
#include "mailnet.h"

#define COMMAND_TIMEOUT_MS 60000L
#define RETRY_MS 30000
#define SEND_CHECK_MS 5000
#define SEND_ATTEMPTS_MAX 8
#define MESSAGE_MAX (64 * 1024 * 1024)  /* a bulletin's files, base64 */

struct mailsend {
	struct store *store;
	struct loop *loop;
	char *url;
	bool loopback;
	char *from;             /* as configured, maybe with a display name */
	char *envelope_from;    /* "a@b" */
	char *username, *password;
	CURL *easy;
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *rcpt;
	struct buf out;         /* the message being sent */
	size_t out_off;
	int64_t sending;        /* delivery id in flight, 0 if none */
	int attempts;
	struct loop_timer *send_timer;
};

static void send_next(void *arg);

/* "办公室 <office@example.org>" -> "office@example.org" */
static char *
envelope_address(const char *from)
{
	const char *lt = strrchr(from, '<'), *gt;

	if (lt != NULL && (gt = strchr(lt, '>')) != NULL)
		return xstrndup(lt + 1, (size_t)(gt - lt - 1));
	return xstrdup(from);
}

static void on_smtp_done(void *arg, CURL *easy, CURLcode result);

static size_t
on_read(char *dst, size_t size, size_t n, void *arg)
{
	struct mailsend *m = arg;
	size_t left = m->out.len - m->out_off, want = size * n;

	if (want > left)
		want = left;
	memcpy(dst, m->out.data + m->out_off, want);
	m->out_off += want;
	return want;
}

static void
base64_lines(struct buf *b, const char *text, size_t len)
{
	unsigned char chunk[81];

	for (size_t off = 0; off < len; off += 57) {
		size_t n = len - off < 57 ? len - off : 57;

		EVP_EncodeBlock(chunk, (const unsigned char *)text + off, (int)n);
		buf_printf(b, "%s\r\n", (const char *)chunk);
	}
}

static void
encoded_word(struct buf *b, const char *text)
{
	size_t len = strlen(text);
	unsigned char *enc = xmalloc(len / 3 * 4 + 8);

	EVP_EncodeBlock(enc, (const unsigned char *)text, (int)len);
	buf_printf(b, "=?UTF-8?B?%s?=", (const char *)enc);
	free(enc);
}

/* Appends a file as a base64 attachment part; false if it cannot be read. */
static bool
attach(struct buf *b, const char *boundary, const char *path, const char *type)
{
	const char *name = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	char *enc = curl_easy_escape(NULL, name, 0), *data = NULL;
	FILE *fp = fopen(path, "rb");
	long len;
	bool ok = false;

	if (fp == NULL || enc == NULL || fseek(fp, 0, SEEK_END) < 0 || (len = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) < 0)
		goto out;
	data = xmalloc((size_t)len + 1);
	if (fread(data, 1, (size_t)len, fp) != (size_t)len)
		goto out;
	buf_printf(b, "--%s\r\nContent-Type: %s\r\nContent-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment; filename*=UTF-8''%s\r\n\r\n", boundary, type, enc);
	base64_lines(b, data, (size_t)len);
	ok = true;
out:
	if (fp != NULL)
		fclose(fp);
	curl_free(enc);
	free(data);
	return ok;
}

/* A bulletin (kind "bulletin", ref = the day): its .docx and .pdf go along. */
static void
bulletin_parts(struct mailsend *m, const struct delivery *d, const char *boundary)
{
	char *docx = bulletinjob_file(m->store, (int32_t)d->ref, "docx");
	char *pdf = bulletinjob_file(m->store, (int32_t)d->ref, "pdf");

	if (!attach(&m->out, boundary, docx, "application/"
	    "vnd.openxmlformats-officedocument.wordprocessingml.document"))
		log_warnx("mail", "bulletin file missing: %s", docx);
	if (!attach(&m->out, boundary, pdf, "application/pdf"))
		log_warnx("mail", "bulletin file missing: %s", pdf);
	free(docx);
	free(pdf);
}

/* From the delivery's "subject\n\nbody" text, the whole message. */
static void
compose(struct mailsend *m, const struct delivery *d)
{
	const char *sep = strstr(d->text, "\n\n");
	char *subject = sep != NULL ? xstrndup(d->text, (size_t)(sep - d->text)) :
	    xstrdup("campaign");
	const char *body = sep != NULL ? sep + 2 : d->text;
	const char *at = strchr(m->envelope_from, '@');
	bool ascii = true, files = strcmp(d->kind, "bulletin") == 0;
	char boundary[64];
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	snprintf(boundary, sizeof(boundary), "=_campaign_%" PRId64, d->id);
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	buf_reset(&m->out);
	for (const char *c = m->from; *c != '\0'; c++)
		ascii &= (unsigned char)*c < 0x80;
	/* a display name in Chinese would need RFC 2047: the bare address then */
	buf_printf(&m->out, "From: %s\r\nTo: %s\r\nSubject: ", ascii ? m->from :
	    m->envelope_from, d->chat_id);
	encoded_word(&m->out, subject);
	buf_printf(&m->out, "\r\nDate: %s\r\nMessage-ID: <campaign-delivery-%" PRId64 "@%s>\r\n"
	    "MIME-Version: 1.0\r\nAuto-Submitted: %s\r\n", date, d->id,
	    at != NULL ? at + 1 : "localhost", files ? "auto-generated" : "auto-replied");
	if (files)
		buf_printf(&m->out, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n"
		    "--%s\r\n", boundary, boundary);
	buf_puts(&m->out, "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n");
	base64_lines(&m->out, body, strlen(body));
	if (files) {
		bulletin_parts(m, d, boundary);
		buf_printf(&m->out, "--%s--\r\n", boundary);
	}
	m->out_off = 0;
	free(subject);
}

static void
send_next(void *arg)
{
	struct mailsend *m = arg;
	struct delivery *heads = NULL;
	size_t n = 0;
	int64_t now_ms = outbox_now_ms();

	if (m->sending != 0)
		return;
	loop_timer_after(m->send_timer, SEND_CHECK_MS);
	if (outbox_heads(m->store, MAIL_PLATFORM, 16, &heads, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct delivery *d = &heads[i];

		if (d->not_before > now_ms)
			continue;
		if (m->easy == NULL) {
			m->easy = mailnet_easy(m->errbuf, m->loopback, "smtp,smtps");
			if (m->easy == NULL)
				break;
			curl_easy_setopt(m->easy, CURLOPT_URL, m->url);
			curl_easy_setopt(m->easy, CURLOPT_MAIL_FROM, m->envelope_from);
			curl_easy_setopt(m->easy, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(m->easy, CURLOPT_READFUNCTION, on_read);
			curl_easy_setopt(m->easy, CURLOPT_READDATA, m);
			curl_easy_setopt(m->easy, CURLOPT_TIMEOUT_MS, COMMAND_TIMEOUT_MS);
			if (m->username != NULL && m->password != NULL) {
				curl_easy_setopt(m->easy, CURLOPT_USERNAME, m->username);
				curl_easy_setopt(m->easy, CURLOPT_PASSWORD, m->password);
			}
		}
		compose(m, d);
		curl_slist_free_all(m->rcpt);
		m->rcpt = curl_slist_append(NULL, d->chat_id);
		curl_easy_setopt(m->easy, CURLOPT_MAIL_RCPT, m->rcpt);
		curl_easy_setopt(m->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)m->out.len);
		m->sending = d->id;
		m->attempts = d->attempts;
		if (loop_curl_add(m->loop, m->easy, on_smtp_done, m) < 0)
			m->sending = 0;
		break;
	}
	deliveries_free(heads, n);
}

static void
on_smtp_done(void *arg, CURL *easy, CURLcode result)
{
	struct mailsend *m = arg;
	int64_t id = m->sending;

	(void)easy;
	m->sending = 0;
	if (result == CURLE_OK) {
		outbox_mark_sent(m->store, id, clock_now());
		log_info("mail", "confirmation %" PRId64 " sent", id);
	} else if (m->attempts + 1 >= SEND_ATTEMPTS_MAX) {
		outbox_mark_failed(m->store, id, curl_easy_strerror(result), clock_now());
		log_warnx("mail", "confirmation %" PRId64 " failed: %s", id,
		    curl_easy_strerror(result));
	} else {
		int64_t backoff = (int64_t)RETRY_MS << (m->attempts < 6 ? m->attempts : 6);

		outbox_retry_at(m->store, id, outbox_now_ms() + backoff,
		    curl_easy_strerror(result));
		log_warnx("mail", "confirmation %" PRId64 ": %s; retrying", id,
		    curl_easy_strerror(result));
	}
	loop_timer_after(m->send_timer, 0);
}

struct mailsend *
mailsend_new(struct store *s, struct loop *l, const char *url, const char *from,
    const char *username, const char *password)
{
	struct mailsend *m = xcalloc(1, sizeof(*m));
	char *base = NULL;

	if (mailnet_split_url(url, &base, NULL, &m->loopback) < 0) {
		free(m);
		return NULL;
	}
	free(base);
	m->store = s;
	m->loop = l;
	m->url = xstrdup(url);
	m->from = xstrdup(from);
	m->envelope_from = envelope_address(from);
	m->username = xstrdup_or_null(username);
	m->password = xstrdup_or_null(password);
	buf_init(&m->out, MESSAGE_MAX);
	m->send_timer = loop_timer_new(l, send_next, m);
	loop_timer_after(m->send_timer, 0);
	return m;
}

void
mailsend_kick(struct mailsend *m)
{
	if (m != NULL && m->sending == 0)
		loop_timer_after(m->send_timer, 0);
}

bool
mailsend_idle(const struct mailsend *m)
{
	return m == NULL || m->sending == 0;
}

void
mailsend_free(struct mailsend *m)
{
	if (m == NULL)
		return;
	if (m->easy != NULL) {
		loop_curl_remove(m->loop, m->easy);
		curl_easy_cleanup(m->easy);
	}
	curl_slist_free_all(m->rcpt);
	loop_timer_free(m->send_timer);
	buf_free(&m->out);
	free(m->url);
	free(m->from);
	free(m->envelope_from);
	free(m->username);
	if (m->password != NULL)
		explicit_bzero(m->password, strlen(m->password));
	free(m->password);
	free(m);
}
