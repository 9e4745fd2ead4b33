/*
 * The WeCom (企业微信) smart-robot driver: the robot's long connection, a
 * WebSocket the bot opens (docs/ARCHITECTURE.md, "Platforms"), so it needs
 * no public address.
 *
 * Frames are JSON {"cmd","headers":{"req_id"},"body"}; the server's answers
 * carry no cmd, only the req_id they answer and an errcode. On every
 * connect: aibot_subscribe (bot id and secret), and nothing else is sent
 * before its answer. ping every 30 s; two unanswered pings end the
 * connection. aibot_msg_callback messages go to the core in one transaction
 * each (duplicates dropped by msgid); the answer is aibot_respond_msg with
 * the callback's req_id, as one finished stream per piece (a stream is at
 * most 20,480 bytes; markdown is not a reply type there); anything
 * unprompted, and a reply whose callback is too old or unknown (after a
 * restart), is aibot_send_msg with markdown. Being kicked by a newer
 * connection of the same robot (disconnected_event) is logged loudly and
 * retried after about 20 s, backing off to 5 minutes if it happens again.
 * Chat ids: a private chat is the user's userid, a group its chatid.
 */
#include "driver_wecom.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "campaign/backoff.h"
#include "campaign/chats.h"
#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/markup.h"
#include "campaign/num.h"
#include "campaign/xmalloc.h"
#include "http_json.h"
#include "parse.h"
#include "wecom_file.h"
#include "ws_link.h"

#define FRAME_MAX (1024 * 1024)
#define PING_MS 30000
#define PINGS_MISSED_MAX 2
#define ANSWER_TIMEOUT_MS 10000
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 60000
#define KICK_FIRST_MS 20000
#define KICK_MAX_MS 300000
#define KICK_QUIET_MS (10 * 60 * 1000)  /* connected this long: earlier kicks forgiven */
#define ROUTE_TTL_MS (5 * 60 * 1000)    /* a stream expires about 6 minutes after its callback */
#define ROUTES_MAX 4096
#define STREAM_MAX_BYTES 20480

enum wc_state { WC_IDLE, WC_CONNECTING, WC_SUBSCRIBING, WC_READY, WC_WAITING, WC_STOPPED };

/* Where a chat's replies go: the req_id of its latest callback. */
struct route {
	char *chat_id;
	char *req_id;
	int64_t at_ms;          /* monotonic */
};

struct wecom {
	struct driver drv;
	char *bot_id, *secret, *ws_url;
	enum wc_state state;
	bool ever_ready;
	int failures;
	int kicks;              /* kicked in a row without a quiet spell */
	bool kicked;            /* this connection was kicked: wait before the next */
	int64_t ping_ms;
	int64_t last_ping_ms;
	int64_t ready_since_ms;
	int missed;             /* pings sent without an answer */
	uint64_t seq;           /* for our req_ids */
	char sub_req[64], ping_req[64];
	struct ws_link *link;
	struct loop_timer *retry, *tick;
	struct route *routes;
	size_t nroutes;
	struct {                /* the one send awaiting its answer */
		bool active;
		int64_t delivery;
		char req_id[160];
		int64_t deadline;
		bool stream;
		char *chat_id;
		char *text;
	} cur;
};

static void connect_link(struct wecom *w);

static void
next_req_id(struct wecom *w, const char *cmd, char *out, size_t len)
{
	snprintf(out, len, "%s_%llu_%llu", cmd, (unsigned long long)clock_mono_ms(),
	    (unsigned long long)++w->seq);
}

static int
send_frame(struct wecom *w, const char *cmd, const char *req_id, json_t *body)
{
	json_t *f = json_pack("{s:s, s:{s:s}}", "cmd", cmd, "headers", "req_id", req_id);
	char *text;
	int rc;

	if (body != NULL)
		json_object_set_new(f, "body", body);
	text = json_dumps(f, JSON_COMPACT);
	json_decref(f);
	rc = text != NULL ? ws_link_send(w->link, text, strlen(text)) : -1;
	if (text != NULL)
		explicit_bzero(text, strlen(text));     /* the subscribe frame holds the secret */
	free(text);
	return rc;
}

/* ---- routes ---- */

static struct route *
route_find(struct wecom *w, const char *chat_id)
{
	for (size_t i = 0; i < w->nroutes; i++)
		if (strcmp(w->routes[i].chat_id, chat_id) == 0)
			return &w->routes[i];
	return NULL;
}

static void
route_drop(struct wecom *w, size_t i)
{
	free(w->routes[i].chat_id);
	free(w->routes[i].req_id);
	w->routes[i] = w->routes[--w->nroutes];
}

static void
route_keep(struct wecom *w, const char *chat_id, const char *req_id)
{
	struct route *r = route_find(w, chat_id);
	int64_t now = clock_mono_ms();

	if (r == NULL) {
		for (size_t i = 0; i < w->nroutes;)
			if (now - w->routes[i].at_ms > ROUTE_TTL_MS)
				route_drop(w, i);
			else
				i++;
		if (w->nroutes == ROUTES_MAX)
			route_drop(w, 0);
		w->routes = xreallocarray(w->routes, w->nroutes + 1, sizeof(*w->routes));
		r = &w->routes[w->nroutes++];
		r->chat_id = xstrdup(chat_id);
		r->req_id = NULL;
	}
	free(r->req_id);
	r->req_id = xstrdup(req_id);
	r->at_ms = now;
}

/* ---- sending ---- */

static void
finish_send(struct wecom *w, enum send_status status, int64_t retry_ms, const char *detail)
{
	struct send_result r = { .status = status, .retry_after_ms = retry_ms, .detail = detail };
	int64_t id = w->cur.delivery;

	free(w->cur.chat_id);
	free(w->cur.text);
	memset(&w->cur, 0, sizeof(w->cur));
	w->drv.host->sent(w->drv.host->ctx, id, &r);
}

static int
start_send_msg(struct wecom *w)
{
	json_t *body = json_pack("{s:s, s:s, s:{s:s}}", "chatid", w->cur.chat_id, "msgtype",
	    "markdown", "markdown", "content", w->cur.text);

	w->cur.stream = false;
	next_req_id(w, "aibot_send_msg", w->cur.req_id, sizeof(w->cur.req_id));
	return send_frame(w, "aibot_send_msg", w->cur.req_id, body);
}

/* The server's answer to our respond or send. */
static void
send_answered(struct wecom *w, const json_t *f)
{
	const json_t *code = json_object_get(f, "errcode");
	json_int_t errcode = json_is_integer(code) ? json_integer_value(code) : -1;
	char detail[200];

	snprintf(detail, sizeof(detail), "%s: errcode %lld %.120s", w->cur.stream ?
	    "aibot_respond_msg" : "aibot_send_msg", (long long)errcode,
	    http_json_str(f, "errmsg") != NULL ? http_json_str(f, "errmsg") : "");
	if (errcode == 0) {
		finish_send(w, SEND_OK, 0, "ok");
	} else if (w->cur.stream && (errcode == 846605 || errcode == 846608)) {
		/* The callback is unknown or its stream expired: say it unprompted. */
		struct route *r = route_find(w, w->cur.chat_id);

		log_info("wecom", "%s; sending it with aibot_send_msg", detail);
		if (r != NULL)
			route_drop(w, (size_t)(r - w->routes));
		if (start_send_msg(w) < 0)
			finish_send(w, SEND_TRANSIENT, 0, "connection lost");
		else
			w->cur.deadline = clock_mono_ms() + ANSWER_TIMEOUT_MS;
	} else if (errcode == 45009 || errcode == 45033) {
		/* Frequency limits: pause this platform's sends a little. */
		finish_send(w, SEND_RETRY_AFTER, 5000, detail);
	} else if (errcode == -1) {
		finish_send(w, SEND_TRANSIENT, 0, detail);
	} else {
		finish_send(w, SEND_REJECTED, 0, detail);
	}
}

static bool
wc_can_send(struct driver *d)
{
	struct wecom *w = d->priv;

	return w->state == WC_READY && !w->cur.active;
}

static int
wc_send(struct driver *d, const struct chat_out *m)
{
	struct wecom *w = d->priv;
	struct route *r = m->is_reply ? route_find(w, m->chat_id) : NULL;
	int rc;

	if (!wc_can_send(d))
		return -1;
	w->cur.active = true;
	w->cur.delivery = m->delivery_id;
	w->cur.chat_id = xstrdup(m->chat_id);
	w->cur.text = xstrdup(m->text);         /* Markdown, rendered by the sender */
	if (r != NULL && clock_mono_ms() - r->at_ms < ROUTE_TTL_MS) {
		char stream_id[64];
		json_t *body;

		/* One finished stream per piece; the sender keeps each under 20,480 bytes. */
		snprintf(stream_id, sizeof(stream_id), "d%lld-%d", (long long)m->delivery_id, m->part);
		body = json_pack("{s:s, s:{s:s, s:b, s:s}}", "msgtype", "stream", "stream", "id",
		    stream_id, "finish", 1, "content", w->cur.text);
		w->cur.stream = true;
		snprintf(w->cur.req_id, sizeof(w->cur.req_id), "%s", r->req_id);
		rc = send_frame(w, "aibot_respond_msg", w->cur.req_id, body);
	} else {
		rc = start_send_msg(w);
	}
	if (rc < 0) {
		free(w->cur.chat_id);
		free(w->cur.text);
		memset(&w->cur, 0, sizeof(w->cur));
		return -1;
	}
	w->cur.deadline = clock_mono_ms() + ANSWER_TIMEOUT_MS;
	return 0;
}

/* ---- receiving ---- */

static void
on_message(struct wecom *w, const char *req_id, const json_t *b)
{
	const char *type = http_json_str(b, "chattype"), *user = http_json_str(json_object_get(b, "from"), "userid");
	const char *msgid = http_json_str(b, "msgid"), *chat_id, *text = NULL, *kind;
	char *file_ref = NULL;
	bool group = type != NULL && strcmp(type, "group") == 0;
	struct chat_event ev = { .kind = CHAT_EV_MESSAGE };
	struct chat_batch batch = { .platform = "wecom", .events = &ev, .n = 1 };

	chat_id = group ? http_json_str(b, "chatid") : user;
	if (user == NULL || msgid == NULL || chat_id == NULL || *chat_id == '\0') {
		log_warnx("wecom", "a message without sender, chat or msgid; dropped");
		return;
	}
	kind = http_json_str(b, "msgtype");
	if (kind != NULL && strcmp(kind, "text") == 0)
		text = http_json_str(json_object_get(b, "text"), "content");
	if (text != NULL)
		text = parse_strip_mention(text, group);
	if (kind != NULL && strcmp(kind, "file") == 0) {
		/* issue 15: a unit's summary, encrypted; named when downloaded */
		const json_t *file = json_object_get(b, "file");
		const char *url = http_json_str(file, "url"), *key = http_json_str(file, "aeskey");

		if (url != NULL && key != NULL && strchr(key, ' ') == NULL) {
			file_ref = wecom_file_ref(key, url);
			ev.file_ref = file_ref;
			ev.file_name = "";
		}
	}
	route_keep(w, chat_id, req_id);
	ev.event_id = msgid;
	ev.chat_id = chat_id;
	ev.chat_kind = group ? CHAT_GROUP : CHAT_PRIVATE;
	ev.user_id = user;
	ev.message_id = msgid;
	ev.text = text;
	ev.text_len = text != NULL ? strlen(text) : 0;
	if (w->drv.host->batch(w->drv.host->ctx, &batch) < 0)
		log_error("wecom", "message %s could not be stored; the user must ask again", msgid);
	free(file_ref);
}

static void
on_event(struct wecom *w, const json_t *b)
{
	const char *type = http_json_str(json_object_get(b, "event"), "eventtype");

	if (type != NULL && strcmp(type, "disconnected_event") == 0) {
		log_error("wecom", "kicked: another connection subscribed with the same bot id "
		    "(two campaign-bots, or another program, share this robot); reconnecting later");
		w->kicked = true;
	} else {
		log_debug("wecom", "event %s ignored", type != NULL ? type : "?");
	}
}

static void
on_answer(struct wecom *w, const json_t *f, const char *req_id)
{
	const json_t *code = json_object_get(f, "errcode");
	json_int_t errcode = json_is_integer(code) ? json_integer_value(code) : -1;

	/* Ours are never empty; an empty one would match a request already answered. */
	if (*req_id == '\0') {
		log_warnx("wecom", "an answer without a req_id; ignored");
		return;
	}
	if (strcmp(req_id, w->sub_req) == 0) {
		w->sub_req[0] = '\0';
		if (errcode == 0) {
			w->state = WC_READY;
			w->failures = 0;
			w->missed = 0;
			w->last_ping_ms = w->ready_since_ms = clock_mono_ms();
			log_info("wecom", "%s to the robot's long connection",
			    w->ever_ready ? "resubscribed" : "subscribed");
			w->ever_ready = true;
			w->drv.host->kick(w->drv.host->ctx);
		} else if (!w->ever_ready) {
			char msg[256];

			snprintf(msg, sizeof(msg), "WeCom refused the robot's credentials (errcode "
			    "%lld %.80s): check [wecom] bot_id and the secret", (long long)errcode,
			    http_json_str(f, "errmsg") != NULL ? http_json_str(f, "errmsg") : "");
			/* The daemon stops; the connection goes with the driver's stop. */
			w->state = WC_STOPPED;
			w->drv.host->fatal(w->drv.host->ctx, msg);
		} else {
			log_warnx("wecom", "subscribe refused (errcode %lld); retrying",
			    (long long)errcode);
			ws_link_close(w->link, 1000, "subscribe refused");
		}
	} else if (strcmp(req_id, w->ping_req) == 0) {
		w->ping_req[0] = '\0';
		w->missed = 0;
	} else if (w->cur.active && strcmp(req_id, w->cur.req_id) == 0) {
		send_answered(w, f);
	}
}

static void
link_message(void *arg, const char *data, size_t len)
{
	struct wecom *w = arg;
	json_t *f = json_loadb(data, len, 0, NULL);
	const char *cmd = http_json_str(f, "cmd"), *req_id = http_json_str(json_object_get(f, "headers"), "req_id");

	if (!json_is_object(f) || req_id == NULL) {
		log_warnx("wecom", "a frame that is not the protocol's (%zu bytes); ignored", len);
	} else if (cmd == NULL) {
		on_answer(w, f, req_id);
	} else if (strcmp(cmd, "aibot_msg_callback") == 0) {
		on_message(w, req_id, json_object_get(f, "body"));
	} else if (strcmp(cmd, "aibot_event_callback") == 0) {
		on_event(w, json_object_get(f, "body"));
	} else {
		log_debug("wecom", "frame %.40s ignored", cmd);
	}
	json_decref(f);
}

/* ---- the connection ---- */

static void
link_open(void *arg)
{
	struct wecom *w = arg;

	w->state = WC_SUBSCRIBING;
	next_req_id(w, "aibot_subscribe", w->sub_req, sizeof(w->sub_req));
	if (send_frame(w, "aibot_subscribe", w->sub_req, json_pack("{s:s, s:s}", "bot_id",
	    w->bot_id, "secret", w->secret)) < 0)
		ws_link_close(w->link, 1011, "cannot subscribe");
}

static void
link_closed(void *arg, int code, const char *why)
{
	struct wecom *w = arg;
	int64_t wait;

	if (w->state == WC_STOPPED)
		return;
	if (w->cur.active)
		finish_send(w, SEND_TRANSIENT, 0, "connection lost");
	if (w->kicked) {
		/* Another daemon holds the robot: never a tight loop of kicks. */
		wait = KICK_FIRST_MS;
		for (int i = 0; i < w->kicks && wait < KICK_MAX_MS; i++)
			wait *= 2;
		wait = backoff_jitter(wait < KICK_MAX_MS ? wait : KICK_MAX_MS);
		w->kicks++;
		w->kicked = false;
	} else {
		log_warnx("wecom", "connection closed (%d %.160s)", code, why);
		wait = backoff_ms(++w->failures, BACKOFF_FIRST_MS, BACKOFF_MAX_MS);
	}
	w->state = WC_WAITING;
	loop_timer_after(w->retry, wait);
}

static void
connect_link(struct wecom *w)
{
	char err[256];

	if (ws_link_connect(w->link, w->ws_url, FRAME_MAX, err, sizeof(err)) < 0) {
		log_warnx("wecom", "cannot connect: %s", err);
		w->state = WC_WAITING;
		loop_timer_after(w->retry, backoff_ms(++w->failures, BACKOFF_FIRST_MS,
		    BACKOFF_MAX_MS));
		return;
	}
	w->state = WC_CONNECTING;
}

static void
retry_step(void *arg)
{
	struct wecom *w = arg;

	if (w->state == WC_WAITING)
		connect_link(w);
}

/* Pings, dead connections, answers that never came; a quiet spell forgives kicks. */
static void
tick(void *arg)
{
	struct wecom *w = arg;
	int64_t now = clock_mono_ms();

	if (w->state == WC_READY && now - w->last_ping_ms >= w->ping_ms) {
		if (w->missed >= PINGS_MISSED_MAX) {
			log_warnx("wecom", "%d pings unanswered: the connection is dead; reconnecting",
			    w->missed);
			ws_link_close(w->link, 1001, "silent");
		} else {
			w->missed++;
			w->last_ping_ms = now;
			next_req_id(w, "ping", w->ping_req, sizeof(w->ping_req));
			send_frame(w, "ping", w->ping_req, NULL);
		}
	}
	if (w->state == WC_READY && w->kicks > 0 && now - w->ready_since_ms > KICK_QUIET_MS)
		w->kicks = 0;
	if (w->cur.active && now > w->cur.deadline)
		finish_send(w, SEND_TRANSIENT, 0, "no answer from WeCom");
	if (w->state != WC_STOPPED)
		loop_timer_after(w->tick, w->ping_ms < 2000 ? w->ping_ms / 2 : 1000);
}

/* ---- driver ops ---- */

static int
wc_start(struct driver *d)
{
	struct wecom *w = d->priv;

	connect_link(w);
	loop_timer_after(w->tick, 1000);
	return 0;
}

static void
wc_stop(struct driver *d)
{
	struct wecom *w = d->priv;

	w->state = WC_STOPPED;
	loop_timer_at(w->retry, -1);
	ws_link_drop(w->link);
}

static bool
wc_idle(struct driver *d)
{
	struct wecom *w = d->priv;

	return !w->cur.active || w->state == WC_STOPPED;
}

static void
wc_free(struct driver *d)
{
	struct wecom *w;

	if (d == NULL)
		return;
	w = d->priv;
	wc_stop(d);
	ws_link_free(w->link);
	loop_timer_free(w->retry);
	loop_timer_free(w->tick);
	while (w->nroutes > 0)
		route_drop(w, 0);
	free(w->routes);
	free(w->cur.chat_id);
	free(w->cur.text);
	explicit_bzero(w->secret, strlen(w->secret));
	free(w->secret);
	free(w->bot_id);
	free(w->ws_url);
	free(w);
}

/* issue 15: the file's URL is in the message (valid five minutes). */
static int
wc_file_url(struct driver *d, const char *file_ref, file_url_cb *done, void *arg)
{
	const char *url = wecom_file_ref_url(file_ref);

	(void)d;
	if (url == NULL)
		done(arg, NULL, "下载失败", true);
	else
		done(arg, url, NULL, false);
	return 0;
}

static int
wc_file_decode(struct driver *d, const char *file_ref, struct buf *data, char *why,
    size_t why_len)
{
	(void)d;
	return wecom_file_decrypt(file_ref, data, why, why_len);
}

static bool
wc_serving(struct driver *d)
{
	return ((struct wecom *)d->priv)->state == WC_READY;
}

static const struct driver_ops wecom_ops = {
	.name = "wecom",
	.format = MARKUP_MARKDOWN,              /* streams and aibot_send_msg take Markdown */
	.max_text = STREAM_MAX_BYTES,
	.max_unit = MARKUP_UNIT_BYTES,
	.start = wc_start,
	.stop = wc_stop,
	.can_send = wc_can_send,
	.send = wc_send,
	.idle = wc_idle,
	.serving = wc_serving,
	.file_url = wc_file_url,
	.file_decode = wc_file_decode,
	.free = wc_free,
};

struct driver *
driver_wecom_new(const struct driver_host *host, const struct cfg *cfg, const char *secret)
{
	struct wecom *w = xcalloc(1, sizeof(*w));
	const char *ping = getenv("CAMPAIGN_TEST_WECOM_PING_MS");
	int64_t ms;

	w->drv.ops = &wecom_ops;
	/* No published figure for the long connection: the group robots' pace, and 429-like codes honoured. */
	w->drv.limits = (struct pace_limits){ .per_chat_ms = 1000, .group_max = 20,
		.group_window_ms = 60000, .global_max = cfg->chat.rate_global < 20 ?
		    cfg->chat.rate_global : 20, .global_window_ms = 1000 };
	w->drv.host = host;
	w->drv.priv = w;
	w->bot_id = xstrdup(cfg->wecom.bot_id);
	w->secret = xstrdup(secret);
	w->ws_url = xstrdup(cfg->wecom.ws_url);
	/* Test-only: the ping interval in milliseconds rather than 30 s. */
	w->ping_ms = ping != NULL && num_parse_i64(ping, 50, 600000, &ms) == 0 ? ms : PING_MS;
	w->retry = loop_timer_new(host->loop, retry_step, w);
	w->tick = loop_timer_new(host->loop, tick, w);
	w->link = ws_link_new(host->loop, "wecom", &(struct ws_link_handler){ .arg = w,
	    .open = link_open, .message = link_message, .closed = link_closed });
	return &w->drv;
}
