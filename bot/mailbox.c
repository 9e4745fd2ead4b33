/*
 * The office mailbox on the bot's loop: IMAP polling with libcurl. See
 * mailbox.h; a message itself is handled by mailintake.c, mail going out by
 * mailsend.c.
 */
#include "mailbox.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
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
#include "mailintake.h"
#include "mailnet.h"
#include "mailparse.h"
#include "mailsend.h"

#define COMMAND_TIMEOUT_MS 60000L
#define FETCH_TIMEOUT_MS 600000L
#define RETRY_MS 30000
/* Raw size of a message whose attachments may be max_size: base64 (4/3) plus headers. */
#define RAW_LIMIT(max) ((max) / 3 * 4 + (max) / 20 + 256 * 1024)

enum step { IDLE, ID, STATUS, SEARCH, SIZES, FETCH, HEADER };

#define BATCH_MAX 25            /* new messages taken per round (see on_search) */

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
	bool more;              /* more new messages than this batch holds */
	int64_t vanished;       /* a UID whose fetch found nothing: skipped if UIDVALIDITY holds */
	struct mailsend *send;  /* confirmations by SMTP; NULL without smtp_url */
};

/* ---- setup ---- */

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

static void poll_start(void *arg);

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
	if (mailnet_split_url(cfg->mail.imap_url, &mb->base, &path, &mb->loopback) < 0) {
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
	mb->imap = mailnet_easy(mb->errbuf, mb->loopback, "imap,imaps");
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
	if (mb->opts.reply && (mb->send = mailsend_new(s, l, cfg->mail.smtp_url,
	    cfg->mail.from, mb->username, mb->password)) == NULL) {
		log_error("mail", "[mail] smtp_url is not a valid URL");
		goto fail;
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
		/* A batch cut short by BATCH_MAX: the rest at once, not after poll_interval. */
		poll_later(mb, mb->more ? 0 : mb->poll_ms);
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
	/* A big mailbox in batches: libcurl caps the untagged answers of one
	   command (300 KB), so UID FETCH 1:200 (RFC822.SIZE) would never pass. */
	mb->more = mb->nuids > BATCH_MAX;
	if (mb->more)
		mb->nuids = BATCH_MAX;
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

void
mailbox_kick(struct mailbox *mb)
{
	if (mb != NULL)
		mailsend_kick(mb->send);
}

bool
mailbox_idle(const struct mailbox *mb)
{
	return mb == NULL || (mb->step == IDLE && mailsend_idle(mb->send));
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
	mailsend_free(mb->send);
	loop_timer_free(mb->poll);
	buf_free(&mb->rx);
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
	free(mb);
	mailparse_shutdown();
}
