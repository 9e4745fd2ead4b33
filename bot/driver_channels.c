/*
 * The channels driver: group robots (DingTalk custom robot, WeCom group
 * robot, Feishu custom bot) as a send-only platform "channel" whose chat ids
 * are the channels' names (campaignctl channel add). No intake: it only
 * posts what the sender gives it, signed (channel_sign.c), as each
 * platform's Markdown cut to its size limit, through one HTTP call per
 * robot on the loop.
 *
 * Pacing is per robot (ops->chat_pace): DingTalk and WeCom 20 messages in
 * any 60 s, Feishu 100 in any 60 s and 5 in any 1 s, so their throttling is
 * never provoked (DingTalk blocks a robot for 10 minutes after an overrun).
 * Should it happen anyway (130101, 45009, 11232) that robot alone pauses; a
 * refused signature, key or token (310000, 19021, 93000, 300001, 19001)
 * marks the channel failing in the store (channel list, the admins' digest)
 * and fails its queue; 5xx
 * and resets are retried with backoff. CAMPAIGN_TEST_CHANNEL_WINDOW_MS
 * scales the 60 s windows (and the rest with them) for tests; each window
 * is kept a sixtieth longer than the platform's, a safety margin.
 *
 * The URL and secret come from the store and are never logged: calls are
 * labelled by kind and channel name.
 */
#include "driver_channels.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/buf.h"
#include "campaign/channels.h"
#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/num.h"
#include "campaign/outbox.h"
#include "campaign/xmalloc.h"
#include "channel_sign.h"
#include "http_json.h"

#define WINDOW_MS 60000
#define CALL_TIMEOUT_MS 15000
#define ANSWER_MAX (64 * 1024)
/* UTF-16 units per piece: 3 bytes each at most, so a piece fits WeCom's 4,096 bytes. */
#define PIECE_BYTES 3800
#define TITLE_BYTES 60

/* Each platform's size limit, in bytes: of the body, or (WeCom) of the content. */
static const size_t size_limits[] = { 20000, 4096, 20000 };

struct robot {
	struct channels_drv *owner;
	struct channel ch;
	struct http_json *call;
	struct loop_timer *later;       /* reports a result that came without a call */
	int64_t delivery_id;            /* in flight; 0: none */
	struct send_result result;      /* for later */
	char detail[320];
	bool in_flight;
	bool ghost;                     /* a name no channel has (any more) */
};

struct channels_drv {
	struct driver d;
	struct store *store;
	struct robot **robots;
	size_t nrobots;
	int window_ms;                  /* 60 s, or the test's */
	bool stopped;
};

static int
scaled(const struct channels_drv *c, int64_t ms)
{
	int64_t v = ms * c->window_ms / WINDOW_MS;

	return (int)(v < 1 ? 1 : v);
}

static void
robot_free(struct robot *r)
{
	http_json_free(r->call);
	loop_timer_free(r->later);
	channel_clear(&r->ch);
	free(r);
}

static struct robot *
robot_add(struct channels_drv *c)
{
	struct robot *r = xcalloc(1, sizeof(*r));

	r->owner = c;
	r->call = http_json_new(c->d.host->loop, ANSWER_MAX);
	c->robots = xreallocarray(c->robots, c->nrobots + 1, sizeof(*c->robots));
	c->robots[c->nrobots++] = r;
	return r;
}

/* Reads the channels again: new ones are added, changed ones updated when idle. */
static void
reload(struct channels_drv *c)
{
	struct channel *all;
	size_t n;

	if (channels_list(c->store, &all, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct robot *r = NULL;

		for (size_t j = 0; j < c->nrobots && r == NULL; j++)
			if (strcmp(c->robots[j]->ch.name, all[i].name) == 0)
				r = c->robots[j];
		if (r == NULL)
			r = robot_add(c);
		else if (r->in_flight)
			continue;
		channel_clear(&r->ch);
		r->ghost = false;
		r->ch = all[i];
		memset(&all[i], 0, sizeof(all[i]));
	}
	channels_free(all, n);
}

static struct robot *
robot_find(struct channels_drv *c, const char *name, bool fresh)
{
	for (size_t i = 0; i < c->nrobots; i++)
		if (strcmp(c->robots[i]->ch.name, name) == 0)
			return c->robots[i];
	if (!fresh)
		return NULL;
	reload(c);
	return robot_find(c, name, false);
}

/* ---- rendering ---- */

/* Cuts text to at most max bytes on a UTF-8 boundary, marking the cut with "…". */
static void
cut(char *text, size_t max)
{
	size_t len = strlen(text);

	if (len <= max || max < 4)
		return;
	len = max - 3;
	while (len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80)
		len--;
	memcpy(text + len, "…", 4);
}

static char *
title_of(const char *md)
{
	size_t n = strcspn(md, "\n");
	char *t;

	if (n > TITLE_BYTES)
		n = TITLE_BYTES;
	while (n > 0 && ((unsigned char)md[n] & 0xc0) == 0x80)
		n--;
	t = xstrndup(md, n);
	for (char *p = t; *p != '\0'; p++)
		if (*p == '*' || *p == '`')
			*p = ' ';
	return t;
}

/* The request body for md (which may be cut to fit); NULL if signing failed. */
static json_t *
body_for(const struct robot *r, char *md, int64_t now_ms)
{
	char sign[CHANNEL_SIGN_MAX], ts[32], *title;
	json_t *body = NULL;

	switch (r->ch.kind) {
	case CHANNEL_DINGTALK:
		title = title_of(md);
		body = json_pack("{s:s, s:{s:s, s:s}}", "msgtype", "markdown", "markdown",
		    "title", *title != '\0' ? title : "通知", "text", md);
		free(title);
		break;
	case CHANNEL_WECOM:
		body = json_pack("{s:s, s:{s:s}}", "msgtype", "markdown", "markdown", "content",
		    md);
		break;
	case CHANNEL_FEISHU:
		body = json_pack("{s:s, s:{s:{s:b}, s:[{s:s, s:s}]}}", "msg_type", "interactive",
		    "card", "config", "wide_screen_mode", 1, "elements", "tag", "markdown",
		    "content", md);
		if (body != NULL && r->ch.secret != NULL && *r->ch.secret != '\0') {
			if (channel_sign_feishu(r->ch.secret, now_ms / 1000, sign) < 0) {
				json_decref(body);
				return NULL;
			}
			snprintf(ts, sizeof(ts), "%lld", (long long)(now_ms / 1000));
			json_object_set_new(body, "timestamp", json_string(ts));
			json_object_set_new(body, "sign", json_string(sign));
			explicit_bzero(sign, sizeof(sign));
		}
		break;
	}
	return body;
}

/* The body for text within the platform's limit. */
static json_t *
fit(const struct robot *r, const char *text, int64_t now_ms)
{
	size_t limit = size_limits[r->ch.kind];
	char *md = xstrdup(text);       /* Markdown (or plain) as the sender rendered it */
	json_t *body = NULL;

	if (r->ch.kind == CHANNEL_WECOM)
		cut(md, limit);
	for (int tries = 0; tries < 8; tries++) {
		char *dump;
		size_t len;

		json_decref(body);
		if ((body = body_for(r, md, now_ms)) == NULL)
			break;
		dump = json_dumps(body, JSON_COMPACT);
		len = dump != NULL ? strlen(dump) : 0;
		free(dump);
		if (len <= limit || r->ch.kind == CHANNEL_WECOM)
			break;
		cut(md, strlen(md) > len - limit + 64 ? strlen(md) - (len - limit) - 64 : 4);
	}
	free(md);
	return body;
}

/* ---- results ---- */

static int64_t
jint(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

static const char *
jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* The platform's answer in the sender's terms; a refused credential marks the channel. */
static void
map_answer(struct robot *r, const struct http_result *h, struct send_result *out)
{
	struct channels_drv *c = r->owner;
	const char *name = r->ch.name;
	int64_t code;
	const char *msg;

	*out = (struct send_result){ .status = SEND_TRANSIENT, .chat_only = true,
		.detail = r->detail };
	if (h->network || h->status >= 500 || h->status == 429) {
		snprintf(r->detail, sizeof(r->detail), "%s", h->detail);
		if (h->status == 429) {
			out->status = SEND_RETRY_AFTER;
			out->retry_after_ms = c->window_ms;
		}
		return;
	}
	if (h->body == NULL) {
		snprintf(r->detail, sizeof(r->detail), "%s (HTTP %ld, not JSON)",
		    channels_kind_name(r->ch.kind), h->status);
		out->status = h->status >= 400 ? SEND_REJECTED : SEND_TRANSIENT;
		return;
	}
	if (r->ch.kind == CHANNEL_FEISHU) {
		code = jint(h->body, "code");
		if (code < 0)
			code = jint(h->body, "StatusCode");
		msg = json_object_get(h->body, "msg") != NULL ? jstr(h->body, "msg") :
		    jstr(h->body, "StatusMessage");
	} else {
		code = jint(h->body, "errcode");
		msg = jstr(h->body, "errmsg");
	}
	snprintf(r->detail, sizeof(r->detail), "%s %lld %.200s", channels_kind_name(r->ch.kind),
	    (long long)code, msg);
	if (code == 0 && h->status < 300) {
		out->status = SEND_OK;
		return;
	}
	switch (code) {
	case 130101:            /* DingTalk: over 20 a minute; the robot is blocked 10 min */
		out->status = SEND_RETRY_AFTER;
		out->retry_after_ms = 10 * (int64_t)c->window_ms;
		break;
	case 45009:             /* WeCom: over 20 a minute */
	case 11232:             /* Feishu: frequency control */
		out->status = SEND_RETRY_AFTER;
		out->retry_after_ms = c->window_ms;
		break;
	case 310000:            /* DingTalk: signature, keyword or IP check failed */
	case 19021:             /* Feishu: bad signature or timestamp */
	case 93000:             /* WeCom: invalid webhook URL (the key) */
	case 300001:            /* DingTalk: no such access_token */
	case 19001:             /* Feishu: no such webhook (invalid access token) */
		log_warnx("channels", "channel %s: the platform refused its credentials (%lld "
		    "%.200s): marked failing", name, (long long)code, msg);
		channels_set_failing(c->store, name, code, msg, clock_now());
		out->status = SEND_CHAT_GONE;
		break;
	default:
		out->status = h->status >= 500 ? SEND_TRANSIENT : SEND_REJECTED;
		break;
	}
}

static void
report(struct robot *r, const struct send_result *res)
{
	int64_t id = r->delivery_id;

	r->in_flight = false;
	r->delivery_id = 0;
	r->owner->d.host->sent(r->owner->d.host->ctx, id, res);
}

static void
answered(void *arg, const struct http_result *h)
{
	struct robot *r = arg;
	struct send_result res;

	map_answer(r, h, &res);
	report(r, &res);
}

static void
report_later(void *arg)
{
	struct robot *r = arg;
	struct send_result res = r->result;

	report(r, &res);
}

/* A result without a call, reported from the loop as the contract asks. */
static void
fail_later(struct robot *r, enum send_status status, const char *detail)
{
	snprintf(r->detail, sizeof(r->detail), "%s", detail);
	r->result = (struct send_result){ .status = status, .chat_only = true,
		.detail = r->detail };
	if (r->later == NULL)
		r->later = loop_timer_new(r->owner->d.host->loop, report_later, r);
	loop_timer_after(r->later, 0);
}

/* ---- the driver ---- */

static struct channels_drv *
drv(struct driver *d)
{
	return d->priv;
}

static int
ch_start(struct driver *d)
{
	reload(drv(d));
	return 0;
}

static void
ch_stop(struct driver *d)
{
	drv(d)->stopped = true;
}

static bool
ch_can_send(struct driver *d)
{
	return !drv(d)->stopped;
}

static int
ch_send(struct driver *d, const struct chat_out *m)
{
	struct channels_drv *c = drv(d);
	struct robot *r;
	int64_t now_ms = outbox_now_ms();       /* signatures: the real clock */
	char label[CHANNEL_NAME_MAX + 32], *url;
	json_t *body;
	int rc;

	/* Read again before each send: channel update (or remove and add) may have changed
	   the URL or secret, and no restart is needed. */
	reload(c);
	r = robot_find(c, m->chat_id, false);
	if (r != NULL && r->in_flight)
		return -1;      /* the sender sends one message per chat at a time */
	if (r == NULL) {
		/* Removed since it was queued: nothing will ever take its messages. */
		r = robot_add(c);
		r->ch.name = xstrdup(m->chat_id);
		r->ghost = true;
	}
	r->in_flight = true;
	r->delivery_id = m->delivery_id;
	if (r->ghost) {
		fail_later(r, SEND_CHAT_GONE, "no such channel (removed)");
		return 0;
	}
	if ((body = fit(r, m->text, now_ms)) == NULL) {
		fail_later(r, SEND_REJECTED, "cannot sign or build the message");
		return 0;
	}
	url = channel_sign_url(r->ch.kind, r->ch.url, r->ch.secret, now_ms);
	snprintf(label, sizeof(label), "%s %s", channels_kind_name(r->ch.kind), r->ch.name);
	rc = http_json_post(r->call, label, url, NULL, body, CALL_TIMEOUT_MS, answered, r);
	explicit_bzero(url, strlen(url));
	free(url);
	json_decref(body);
	if (rc < 0)
		fail_later(r, SEND_TRANSIENT, "cannot start the call");
	return 0;
}

static bool
ch_idle(struct driver *d)
{
	struct channels_drv *c = drv(d);

	for (size_t i = 0; i < c->nrobots; i++)
		if (c->robots[i]->in_flight)
			return false;
	return true;
}

static size_t
ch_chat_pace(struct driver *d, const char *chat_id, struct pace_window *w)
{
	struct channels_drv *c = drv(d);
	/* Fresh: a restarted sender asks before start, and a new channel before its first send. */
	struct robot *r = robot_find(c, chat_id, true);

	if (r == NULL || r->ghost)
		return 0;
	if (r->ch.kind == CHANNEL_FEISHU) {
		w[0] = (struct pace_window){ 100, c->window_ms };
		w[1] = (struct pace_window){ 5, scaled(c, 1000) };
		return 2;
	}
	w[0] = (struct pace_window){ 20, c->window_ms };
	return 1;
}

static void
ch_free(struct driver *d)
{
	struct channels_drv *c;

	if (d == NULL)
		return;
	c = drv(d);
	for (size_t i = 0; i < c->nrobots; i++)
		robot_free(c->robots[i]);
	free(c->robots);
	free(c);
}

static const struct driver_ops channels_ops = {
	.name = CHANNEL_PLATFORM,
	/* The sender renders Markdown and cuts pieces under WeCom's 4,096 bytes, the
	   smallest of the three; cut() stays the safety net for the others' bodies. */
	.format = MARKUP_MARKDOWN,
	.max_text = PIECE_BYTES,
	.max_unit = MARKUP_UNIT_BYTES,
	.start = ch_start,
	.stop = ch_stop,
	.can_send = ch_can_send,
	.send = ch_send,
	.idle = ch_idle,
	.chat_pace = ch_chat_pace,
	.free = ch_free,
};

struct driver *
driver_channels_new(const struct driver_host *host, struct store *store)
{
	struct channels_drv *c = xcalloc(1, sizeof(*c));
	const char *test = getenv("CAMPAIGN_TEST_CHANNEL_WINDOW_MS");
	int window = WINDOW_MS;

	if (test != NULL && *test != '\0' && num_parse_int(test, 100, WINDOW_MS, &window) < 0) {
		log_warnx("channels", "CAMPAIGN_TEST_CHANNEL_WINDOW_MS is not a number of ms "
		    "(100..60000): ignored");
		window = WINDOW_MS;
	}
	/* A second per minute of safety: network jitter never makes 21 arrive in 60 s. */
	c->window_ms = window + window / 60;
	c->store = store;
	c->d.ops = &channels_ops;
	c->d.host = host;
	c->d.priv = c;
	c->d.limits = (struct pace_limits){ .chat_window_ms = window };
	return &c->d;
}
