/*
 * The office mailbox on the bot's loop: IMAP polling and SMTP
 * confirmations with libcurl. See mailbox.h; a message itself is handled
 * by mailintake.c.
 */
#include "mailbox.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "campaign/buf.h"
#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/mailstore.h"
#include "campaign/outbox.h"
#include "campaign/xmalloc.h"
#include "bulletin_job.h"
#include "mailintake.h"
#include "mailparse.h"

#define CONNECT_TIMEOUT_MS 15000L
#define COMMAND_TIMEOUT_MS 60000L
#define FETCH_TIMEOUT_MS 600000L
#define REPLY_MAX (64 * 1024)
#define RETRY_MS 30000
#define SEND_CHECK_MS 5000
#define SEND_ATTEMPTS_MAX 8
/* Raw size of a message whose attachments may be max_size: base64 (4/3) plus headers. */
#define RAW_LIMIT(max) ((max) / 3 * 4 + (max) / 20 + 256 * 1024)

enum step { IDLE, ID, STATUS, SEARCH, SIZES, FETCH, HEADER };

struct mailbox {
	struct store *store;
	struct loop *loop;
	struct mailintake_opts opts;
	char **types;           /* owned copy for opts */
	int poll_ms;
	char *base;             /* scheme://host:port/ */
	char *mailbox_enc;      /* as in the URL path ("INBOX") */
	char *mailbox;          /* decoded, for STATUS */
	char *username, *password;
	bool loopback;
	bool send_id;           /* IMAP ID before anything (163/126/yeah.net refuse SELECT without) */
	CURL *imap;
	enum step step;
	struct buf rx;
	char errbuf[CURL_ERROR_SIZE];
	struct loop_timer *poll;
	int64_t uidvalidity, last_uid;
	int64_t *uids, *sizes;
	size_t nuids, next;
	int64_t vanished;       /* a UID whose fetch found nothing: skipped if UIDVALIDITY holds */

	/* SMTP */
	char *smtp_url, *from, *smtp_user;
	char *envelope_from;    /* from without a display name: "<a@b>" -> "a@b" */
	bool smtp_loopback;
	CURL *smtp;
	struct curl_slist *rcpt;
	struct buf out;         /* the message being sent */
	size_t out_off;
	int64_t sending;        /* delivery id in flight, 0 if none */
	int attempts;
	struct loop_timer *send_timer;
};

/* ---- setup ---- */

static bool
host_loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
	    strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0;
}

/* Splits url into base ("scheme://host:port/") and path; loopback tells plain text is allowed. */
static int
split_url(const char *url, char **base, char **path, bool *loopback)
{
	CURLU *u = curl_url();
	char *host = NULL, *p = NULL, *b = NULL;
	int rc = -1;

	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &p, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PATH, "/", 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &b, 0) != CURLUE_OK)
		goto out;
	*loopback = host_loopback(host);
	*base = xstrdup(b);
	if (path != NULL)
		*path = xstrdup(p[0] == '/' ? p + 1 : p);
	rc = 0;
out:
	curl_free(host);
	curl_free(p);
	curl_free(b);
	curl_url_cleanup(u);
	return rc;
}

/* The mailbox password: password_file, $CREDENTIALS_DIRECTORY/mail-password, $CAMPAIGN_MAIL_PASSWORD. */
static char *
password(const struct cfg *cfg)
{
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	const char *env = getenv("CAMPAIGN_MAIL_PASSWORD");
	char err[256], *path = NULL, *pw = NULL;

	if (cfg->mail.password_file != NULL)
		path = xstrdup(cfg->mail.password_file);
	else if (creds != NULL && *creds != '\0')
		path = xasprintf("%s/mail-password", creds);
	if (path != NULL && (pw = cfg_read_secret(path, err, sizeof(err))) == NULL &&
	    cfg->mail.password_file != NULL)
		log_warnx("mail", "%s", err);
	free(path);
	if (pw == NULL && env != NULL)
		pw = xstrdup(env);
	return pw;
}

static size_t
on_data(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (buf_append(b, data, size * n) < 0)
		return 0;       /* over the cap: the transfer fails */
	return size * n;
}

static CURL *
easy_new(char *errbuf, bool loopback, const char *protocols)
{
	CURL *e = curl_easy_init();

	if (e == NULL)
		return NULL;
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, protocols);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	/* imap:// and smtp:// upgrade with STARTTLS, or fail; plain text only on loopback. */
	curl_easy_setopt(e, CURLOPT_USE_SSL, loopback ? (long)CURLUSESSL_TRY :
	    (long)CURLUSESSL_ALL);
	return e;
}

static void poll_start(void *arg);
static void send_next(void *arg);

/* NetEase (163.com, 126.com, yeah.net) answers SELECT with "Unsafe Login" without an ID. */
static bool
needs_id(const char *url)
{
	static const char *const hosts[] = { "163.com", "126.com", "yeah.net", NULL };
	CURLU *u = curl_url();
	char *host = NULL;
	bool yes = false;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		for (size_t i = 0; hosts[i] != NULL; i++) {
			size_t hl = strlen(host), nl = strlen(hosts[i]);

			yes |= hl >= nl && strcmp(host + hl - nl, hosts[i]) == 0;
		}
	curl_free(host);
	curl_url_cleanup(u);
	return yes;
}

/* "办公室 <office@example.org>" -> "office@example.org" */
static char *
envelope_address(const char *from)
{
	const char *lt = strrchr(from, '<'), *gt;

	if (lt != NULL && (gt = strchr(lt, '>')) != NULL)
		return xstrndup(lt + 1, (size_t)(gt - lt - 1));
	return xstrdup(from);
}

struct mailbox *
mailbox_new(struct store *s, struct loop *l, const struct cfg *cfg, bool *failed)
{
	struct mailbox *mb;
	char *path = NULL, err[512];
	int declen = 0;

	*failed = false;
	if (cfg->mail.imap_url == NULL)
		return NULL;
	if (mailparse_load(err, sizeof(err)) < 0) {
		log_error("mail", "%s", err);
		*failed = true;
		return NULL;
	}
	mb = xcalloc(1, sizeof(*mb));
	mb->store = s;
	mb->loop = l;
	mb->poll_ms = cfg->mail.poll_interval * 1000;
	mb->types = xcalloc(cfg->mail.ntypes + 1, sizeof(*mb->types));
	for (size_t i = 0; i < cfg->mail.ntypes; i++)
		mb->types[i] = xstrdup(cfg->mail.types[i]);
	mb->opts = (struct mailintake_opts){
		.max_size = cfg->mail.max_size, .types = mb->types, .ntypes = cfg->mail.ntypes,
		.reply = cfg->mail.smtp_url != NULL && cfg->mail.from != NULL,
	};
	if (split_url(cfg->mail.imap_url, &mb->base, &path, &mb->loopback) < 0) {
		log_error("mail", "[mail] imap_url is not a valid URL");
		goto fail;
	}
	mb->mailbox_enc = xstrdup(*path != '\0' ? path : "INBOX");
	mb->send_id = cfg->mail.imap_id == 1 || (cfg->mail.imap_id < 0 &&
	    needs_id(cfg->mail.imap_url));
	{
		char *dec = curl_easy_unescape(NULL, mb->mailbox_enc, 0, &declen);

		mb->mailbox = xstrdup(dec != NULL ? dec : mb->mailbox_enc);
		curl_free(dec);
	}
	mb->username = xstrdup_or_null(cfg->mail.username);
	mb->password = password(cfg);
	mb->imap = easy_new(mb->errbuf, mb->loopback, "imap,imaps");
	if (mb->imap == NULL)
		goto fail;
	if (mb->username != NULL)
		curl_easy_setopt(mb->imap, CURLOPT_USERNAME, mb->username);
	if (mb->password != NULL)
		curl_easy_setopt(mb->imap, CURLOPT_PASSWORD, mb->password);
	curl_easy_setopt(mb->imap, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(mb->imap, CURLOPT_WRITEDATA, &mb->rx);
	buf_init(&mb->rx, (size_t)RAW_LIMIT(cfg->mail.max_size));
	mb->poll = loop_timer_new(l, poll_start, mb);
	loop_timer_after(mb->poll, 0);
	if (mb->opts.reply) {
		if (split_url(cfg->mail.smtp_url, &mb->smtp_url, NULL, &mb->smtp_loopback) < 0) {
			log_error("mail", "[mail] smtp_url is not a valid URL");
			goto fail;
		}
		free(mb->smtp_url);
		mb->smtp_url = xstrdup(cfg->mail.smtp_url);
		mb->from = xstrdup(cfg->mail.from);
		mb->envelope_from = envelope_address(cfg->mail.from);
		buf_init(&mb->out, 64 * 1024 * 1024);   /* a bulletin's files, base64 */
		mb->send_timer = loop_timer_new(l, send_next, mb);
		loop_timer_after(mb->send_timer, 0);
	}
	log_info("mail", "polling mailbox %s every %d s%s", mb->mailbox, cfg->mail.poll_interval,
	    mb->opts.reply ? ", confirmations by SMTP" : "");
	free(path);
	return mb;
fail:
	free(path);
	mailbox_free(mb);
	*failed = true;
	return NULL;
}

/* ---- IMAP ---- */

static void on_imap_done(void *arg, CURL *easy, CURLcode result);

static void
poll_later(struct mailbox *mb, int ms)
{
	mb->step = IDLE;
	loop_timer_after(mb->poll, ms);
}

static void
request(struct mailbox *mb, enum step step, const char *url, const char *command,
    long timeout_ms)
{
	mb->step = step;
	buf_reset(&mb->rx);
	mb->errbuf[0] = '\0';
	curl_easy_setopt(mb->imap, CURLOPT_URL, url);
	curl_easy_setopt(mb->imap, CURLOPT_CUSTOMREQUEST, command);
	curl_easy_setopt(mb->imap, CURLOPT_TIMEOUT_MS, timeout_ms);
	if (loop_curl_add(mb->loop, mb->imap, on_imap_done, mb) < 0)
		poll_later(mb, RETRY_MS);
}

static void
status(struct mailbox *mb)
{
	char *cmd = xasprintf("STATUS \"%s\" (UIDVALIDITY)", mb->mailbox);
	request(mb, STATUS, mb->base, cmd, COMMAND_TIMEOUT_MS);
	free(cmd);
}

static void
poll_start(void *arg)
{
	struct mailbox *mb = arg;

	if (mb->step != IDLE)
		return;
	if (mb->send_id)
		/* every poll: the connection may be new, and ID must come before SELECT */
		request(mb, ID, mb->base, "ID (\"name\" \"campaign-bot\" \"version\" \"1\")",
		    COMMAND_TIMEOUT_MS);
	else
		status(mb);
}

/* The number after "key " in text, or -1. */
static int64_t
number_after(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	char *end;
	long long v;

	if (p == NULL)
		return -1;
	p += strlen(key);
	errno = 0;
	v = strtoll(p, &end, 10);
	if (errno != 0 || end == p || v < 0)
		return -1;
	return v;
}

static void
fetch_next(struct mailbox *mb)
{
	char *url;
	int64_t uid;

	if (mb->next >= mb->nuids) {
		poll_later(mb, mb->poll_ms);
		return;
	}
	uid = mb->uids[mb->next];
	if (mb->sizes[mb->next] > RAW_LIMIT(mb->opts.max_size)) {
		url = xasprintf("%s%s;UIDVALIDITY=%" PRId64 ";UID=%" PRId64 ";SECTION=HEADER",
		    mb->base, mb->mailbox_enc, mb->uidvalidity, uid);
		request(mb, HEADER, url, NULL, COMMAND_TIMEOUT_MS);
	} else {
		url = xasprintf("%s%s;UIDVALIDITY=%" PRId64 ";UID=%" PRId64, mb->base,
		    mb->mailbox_enc, mb->uidvalidity, uid);
		request(mb, FETCH, url, NULL, FETCH_TIMEOUT_MS);
	}
	free(url);
}

static void
on_status(struct mailbox *mb)
{
	int64_t v = number_after(buf_str(&mb->rx), "UIDVALIDITY ");
	int64_t stored_v, last;
	char *url, *cmd;

	if (v <= 0) {
		log_warnx("mail", "STATUS %s: no UIDVALIDITY in the answer", mb->mailbox);
		poll_later(mb, mb->poll_ms);
		return;
	}
	if (mailstore_position(mb->store, mb->mailbox, &stored_v, &last) < 0) {
		poll_later(mb, RETRY_MS);
		return;
	}
	if (stored_v != 0 && stored_v != v) {
		/* The server renumbered the mailbox: look at everything again; the
		   handled messages are known by Message-ID and produce nothing twice. */
		log_info("mail", "UIDVALIDITY of %s changed (%" PRId64 " -> %" PRId64 "): rescanning",
		    mb->mailbox, stored_v, v);
		last = 0;
		mb->vanished = 0;
	}
	if (stored_v != v && (store_begin(mb->store) < 0 ||
	    mailstore_set_position(mb->store, mb->mailbox, v, last) < 0 ||
	    store_commit(mb->store) < 0)) {
		if (store_in_transaction(mb->store))
			store_rollback(mb->store);
		poll_later(mb, RETRY_MS);
		return;
	}
	mb->uidvalidity = v;
	if (mb->vanished > last) {
		/* The fetch of this UID found nothing while UIDVALIDITY held: it is gone. */
		struct mail_pos pos = { mb->mailbox, v, mb->vanished };

		log_info("mail", "uid %" PRId64 " vanished; skipped", mb->vanished);
		if (mailintake_skip(mb->store, &pos) == 0)
			last = mb->vanished;
		mb->vanished = 0;
	}
	mb->last_uid = last;
	/* No shortcut on UIDNEXT: STATUS of the mailbox the connection has
	   selected may answer from the server's last sync (Dovecot does); the
	   SEARCH on the mailbox syncs it. */
	url = xasprintf("%s%s", mb->base, mb->mailbox_enc);
	cmd = xasprintf("UID SEARCH UID %" PRId64 ":*", last + 1);
	request(mb, SEARCH, url, cmd, COMMAND_TIMEOUT_MS);
	free(cmd);
	free(url);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void
on_search(struct mailbox *mb)
{
	const char *p = strstr(buf_str(&mb->rx), "* SEARCH");
	char *url, *cmd;

	mb->nuids = mb->next = 0;
	if (p != NULL) {
		p += strlen("* SEARCH");
		for (;;) {
			char *end;
			long long v;

			while (*p == ' ')
				p++;
			errno = 0;
			v = strtoll(p, &end, 10);
			if (end == p || errno != 0)
				break;
			p = end;
			/* "UID n:*" answers the highest UID even when it is below n. */
			if (v <= mb->last_uid)
				continue;
			mb->uids = xreallocarray(mb->uids, mb->nuids + 1, sizeof(*mb->uids));
			mb->uids[mb->nuids++] = v;
		}
	}
	if (mb->nuids == 0) {
		poll_later(mb, mb->poll_ms);
		return;
	}
	qsort(mb->uids, mb->nuids, sizeof(*mb->uids), cmp_i64);
	mb->sizes = xreallocarray(mb->sizes, mb->nuids, sizeof(*mb->sizes));
	memset(mb->sizes, 0, mb->nuids * sizeof(*mb->sizes));
	url = xasprintf("%s%s", mb->base, mb->mailbox_enc);
	cmd = xasprintf("UID FETCH %" PRId64 ":%" PRId64 " (RFC822.SIZE)", mb->uids[0],
	    mb->uids[mb->nuids - 1]);
	request(mb, SIZES, url, cmd, COMMAND_TIMEOUT_MS);
	free(cmd);
	free(url);
	log_info("mail", "%zu new message(s) in %s", mb->nuids, mb->mailbox);
}

static void
on_sizes(struct mailbox *mb)
{
	const char *line = buf_str(&mb->rx);

	/* "* 3 FETCH (UID 7 RFC822.SIZE 1234)", the items in any order */
	while ((line = strstr(line, "FETCH (")) != NULL) {
		const char *eol = strchr(line, '\n');
		char *one = eol != NULL ? xstrndup(line, (size_t)(eol - line)) : xstrdup(line);
		int64_t uid = number_after(one, "UID "), size = number_after(one, "RFC822.SIZE ");

		for (size_t i = 0; i < mb->nuids; i++)
			if (mb->uids[i] == uid)
				mb->sizes[i] = size;
		free(one);
		line += strlen("FETCH (");
	}
	fetch_next(mb);
}

static void
on_message(struct mailbox *mb, bool header_only)
{
	struct mail_pos pos = { mb->mailbox, mb->uidvalidity, mb->uids[mb->next] };
	time_t now = clock_now();
	int rc;

	if (header_only)
		rc = mailintake_too_large(mb->store, &mb->opts, &pos, mb->rx.data, mb->rx.len,
		    mb->sizes[mb->next], now);
	else
		rc = mailintake_message(mb->store, &mb->opts, &pos, mb->rx.data, mb->rx.len,
		    now);
	buf_reset(&mb->rx);
	if (rc < 0) {
		poll_later(mb, RETRY_MS);
		return;
	}
	mb->last_uid = pos.uid;
	mb->next++;
	if (mb->opts.reply)
		mailbox_kick(mb);
	fetch_next(mb);
}

static void
on_imap_done(void *arg, CURL *easy, CURLcode result)
{
	struct mailbox *mb = arg;

	(void)easy;
	if (result != CURLE_OK) {
		if ((mb->step == FETCH || mb->step == HEADER) &&
		    result == CURLE_REMOTE_FILE_NOT_FOUND) {
			/* UIDVALIDITY changed under us, or the message is gone: STATUS tells. */
			mb->vanished = mb->uids[mb->next];
			poll_later(mb, 0);
			return;
		}
		if (mb->step == FETCH && mb->rx.overflow) {
			/* Bigger than RFC822.SIZE said: refuse it like any too large. */
			mb->sizes[mb->next] = (int64_t)mb->rx.max + 1;
			fetch_next(mb);
			return;
		}
		log_warnx("mail", "IMAP %s: %s", mb->mailbox, mb->errbuf[0] != '\0' ? mb->errbuf :
		    curl_easy_strerror(result));
		poll_later(mb, RETRY_MS < mb->poll_ms ? RETRY_MS : mb->poll_ms);
		return;
	}
	switch (mb->step) {
	case ID:
		status(mb);
		break;
	case STATUS:
		on_status(mb);
		break;
	case SEARCH:
		on_search(mb);
		break;
	case SIZES:
		on_sizes(mb);
		break;
	case FETCH:
	case HEADER:
		on_message(mb, mb->step == HEADER);
		break;
	case IDLE:
		break;
	}
}

/* ---- SMTP ---- */

static void on_smtp_done(void *arg, CURL *easy, CURLcode result);

static size_t
on_read(char *dst, size_t size, size_t n, void *arg)
{
	struct mailbox *mb = arg;
	size_t left = mb->out.len - mb->out_off, want = size * n;

	if (want > left)
		want = left;
	memcpy(dst, mb->out.data + mb->out_off, want);
	mb->out_off += want;
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
bulletin_parts(struct mailbox *mb, const struct delivery *d, const char *boundary)
{
	char *docx = bulletinjob_file(mb->store, (int32_t)d->ref, "docx");
	char *pdf = bulletinjob_file(mb->store, (int32_t)d->ref, "pdf");

	if (!attach(&mb->out, boundary, docx, "application/"
	    "vnd.openxmlformats-officedocument.wordprocessingml.document"))
		log_warnx("mail", "bulletin file missing: %s", docx);
	if (!attach(&mb->out, boundary, pdf, "application/pdf"))
		log_warnx("mail", "bulletin file missing: %s", pdf);
	free(docx);
	free(pdf);
}

/* From the delivery's "subject\n\nbody" text, the whole message. */
static void
compose(struct mailbox *mb, const struct delivery *d)
{
	const char *sep = strstr(d->text, "\n\n");
	char *subject = sep != NULL ? xstrndup(d->text, (size_t)(sep - d->text)) :
	    xstrdup("campaign");
	const char *body = sep != NULL ? sep + 2 : d->text;
	const char *at = strchr(mb->envelope_from, '@');
	bool ascii = true, files = strcmp(d->kind, "bulletin") == 0;
	char boundary[64];
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	snprintf(boundary, sizeof(boundary), "=_campaign_%" PRId64, d->id);
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	buf_reset(&mb->out);
	for (const char *c = mb->from; *c != '\0'; c++)
		ascii &= (unsigned char)*c < 0x80;
	/* a display name in Chinese would need RFC 2047: the bare address then */
	buf_printf(&mb->out, "From: %s\r\nTo: %s\r\nSubject: ", ascii ? mb->from :
	    mb->envelope_from, d->chat_id);
	encoded_word(&mb->out, subject);
	buf_printf(&mb->out, "\r\nDate: %s\r\nMessage-ID: <campaign-delivery-%" PRId64 "@%s>\r\n"
	    "MIME-Version: 1.0\r\nAuto-Submitted: %s\r\n", date, d->id,
	    at != NULL ? at + 1 : "localhost", files ? "auto-generated" : "auto-replied");
	if (files)
		buf_printf(&mb->out, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n"
		    "--%s\r\n", boundary, boundary);
	buf_puts(&mb->out, "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n");
	base64_lines(&mb->out, body, strlen(body));
	if (files) {
		bulletin_parts(mb, d, boundary);
		buf_printf(&mb->out, "--%s--\r\n", boundary);
	}
	mb->out_off = 0;
	free(subject);
}

static void
send_next(void *arg)
{
	struct mailbox *mb = arg;
	struct delivery *heads = NULL;
	size_t n = 0;
	int64_t now_ms = outbox_now_ms();

	if (mb->sending != 0)
		return;
	loop_timer_after(mb->send_timer, SEND_CHECK_MS);
	if (outbox_heads(mb->store, MAIL_PLATFORM, 16, &heads, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct delivery *d = &heads[i];

		if (d->not_before > now_ms)
			continue;
		if (mb->smtp == NULL) {
			mb->smtp = easy_new(mb->errbuf, mb->smtp_loopback, "smtp,smtps");
			if (mb->smtp == NULL)
				break;
			curl_easy_setopt(mb->smtp, CURLOPT_URL, mb->smtp_url);
			curl_easy_setopt(mb->smtp, CURLOPT_MAIL_FROM, mb->envelope_from);
			curl_easy_setopt(mb->smtp, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(mb->smtp, CURLOPT_READFUNCTION, on_read);
			curl_easy_setopt(mb->smtp, CURLOPT_READDATA, mb);
			curl_easy_setopt(mb->smtp, CURLOPT_TIMEOUT_MS, COMMAND_TIMEOUT_MS);
			if (mb->username != NULL && mb->password != NULL) {
				curl_easy_setopt(mb->smtp, CURLOPT_USERNAME, mb->username);
				curl_easy_setopt(mb->smtp, CURLOPT_PASSWORD, mb->password);
			}
		}
		compose(mb, d);
		curl_slist_free_all(mb->rcpt);
		mb->rcpt = curl_slist_append(NULL, d->chat_id);
		curl_easy_setopt(mb->smtp, CURLOPT_MAIL_RCPT, mb->rcpt);
		curl_easy_setopt(mb->smtp, CURLOPT_INFILESIZE_LARGE, (curl_off_t)mb->out.len);
		mb->sending = d->id;
		mb->attempts = d->attempts;
		if (loop_curl_add(mb->loop, mb->smtp, on_smtp_done, mb) < 0)
			mb->sending = 0;
		break;
	}
	deliveries_free(heads, n);
}

static void
on_smtp_done(void *arg, CURL *easy, CURLcode result)
{
	struct mailbox *mb = arg;
	int64_t id = mb->sending;

	(void)easy;
	mb->sending = 0;
	if (result == CURLE_OK) {
		outbox_mark_sent(mb->store, id, clock_now());
		log_info("mail", "confirmation %" PRId64 " sent", id);
	} else if (mb->attempts + 1 >= SEND_ATTEMPTS_MAX) {
		outbox_mark_failed(mb->store, id, curl_easy_strerror(result), clock_now());
		log_warnx("mail", "confirmation %" PRId64 " failed: %s", id,
		    curl_easy_strerror(result));
	} else {
		int64_t backoff = (int64_t)RETRY_MS << (mb->attempts < 6 ? mb->attempts : 6);

		outbox_retry_at(mb->store, id, outbox_now_ms() + backoff,
		    curl_easy_strerror(result));
		log_warnx("mail", "confirmation %" PRId64 ": %s; retrying", id,
		    curl_easy_strerror(result));
	}
	loop_timer_after(mb->send_timer, 0);
}

void
mailbox_kick(struct mailbox *mb)
{
	if (mb != NULL && mb->send_timer != NULL && mb->sending == 0)
		loop_timer_after(mb->send_timer, 0);
}

bool
mailbox_idle(const struct mailbox *mb)
{
	return mb == NULL || (mb->step == IDLE && mb->sending == 0);
}

void
mailbox_free(struct mailbox *mb)
{
	if (mb == NULL)
		return;
	if (mb->imap != NULL) {
		loop_curl_remove(mb->loop, mb->imap);
		curl_easy_cleanup(mb->imap);
	}
	if (mb->smtp != NULL) {
		loop_curl_remove(mb->loop, mb->smtp);
		curl_easy_cleanup(mb->smtp);
	}
	curl_slist_free_all(mb->rcpt);
	loop_timer_free(mb->poll);
	loop_timer_free(mb->send_timer);
	buf_free(&mb->rx);
	buf_free(&mb->out);
	for (size_t i = 0; mb->types != NULL && mb->types[i] != NULL; i++)
		free(mb->types[i]);
	free(mb->types);
	free(mb->uids);
	free(mb->sizes);
	free(mb->base);
	free(mb->mailbox_enc);
	free(mb->mailbox);
	free(mb->username);
	if (mb->password != NULL)
		explicit_bzero(mb->password, strlen(mb->password));
	free(mb->password);
	free(mb->smtp_url);
	free(mb->from);
	free(mb->smtp_user);
	free(mb->envelope_from);
	free(mb);
	mailparse_shutdown();
}
