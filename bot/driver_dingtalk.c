/*
 * The DingTalk driver, Stream mode (docs/ARCHITECTURE.md, "DingTalk"): the
 * bot opens its own outbound WebSocket, so it runs on an intranet machine
 * with no public address.
 *
 * Receiving: POST /v1.0/gateway/connections/open gives an endpoint and a
 * single-use ticket; the WebSocket at endpoint?ticket= pushes JSON frames.
 * Every frame is acknowledged; a bot message only after its effects and the
 * replies are committed (host->batch), because DingTalk never pushes a bot
 * message again. Duplicates are dropped by msgId (the intake's seen ids).
 * SYSTEM ping is answered; disconnect, a close, a reset or a connection
 * silent for longer than the ping interval allows lead to a new ticket,
 * with capped backoff and jitter.
 *
 * Sending is dingtalk_send.c. Chat ids: a private chat is the staff id
 * (what batchSend takes), a group its openConversationId.
 */
#include "driver_dingtalk.h"

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
#include "dingtalk.h"
#include "parse.h"
#include "ws_link.h"

#define BOT_TOPIC "/v1.0/im/bot/messages/get"
#define ANSWER_MAX (256 * 1024)
#define FRAME_MAX (1024 * 1024)
#define CALL_TIMEOUT_MS 15000
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 60000
#define SILENCE_MS 90000        /* no frame (nor pong to our pings, every 30 s) this long: dead */

enum dt_state { DT_IDLE, DT_OPENING, DT_CONNECTING, DT_OPEN, DT_WAITING, DT_STOPPED };

static void open_gateway(struct dingtalk *t);

/* The pause before the next connection attempt. */
static int64_t
reconnect_ms(struct dingtalk *t)
{
	return backoff_ms(++t->failures, BACKOFF_FIRST_MS, BACKOFF_MAX_MS);
}

/* ---- receiving ---- */

static void
send_frame(struct dingtalk *t, json_t *frame)
{
	char *text = json_dumps(frame, JSON_COMPACT);

	json_decref(frame);
	if (text == NULL || ws_link_send(t->link, text, strlen(text)) < 0)
		log_warnx("dingtalk", "could not queue an acknowledgement");
	free(text);
}

/* ACK: {"code":200,"headers":{"messageId":...},"message":"OK","data":"..."}. */
static void
ack(struct dingtalk *t, const char *message_id, const char *data)
{
	send_frame(t, json_pack("{s:i, s:{s:s, s:s}, s:s, s:s}", "code", 200, "headers",
	    "messageId", message_id, "contentType", "application/json", "message", "OK",
	    "data", data));
}

/* A bot message: to the core in one transaction, then ACK. */
static void
bot_message(struct dingtalk *t, const char *message_id, const char *data)
{
	json_t *m = json_loads(data, 0, NULL);
	const char *kind, *staff, *chat_id, *text = NULL, *msg_id, *webhook;
	const json_t *expires;
	struct chat_event ev = { .kind = CHAT_EV_MESSAGE };
	struct chat_batch batch = { .platform = "dingtalk", .events = &ev, .n = 1 };
	bool group;

	if (!json_is_object(m)) {
		log_warnx("dingtalk", "frame %s: a bot message that is not JSON; acknowledged and "
		    "dropped", message_id);
		ack(t, message_id, "{\"response\":null}");
		json_decref(m);
		return;
	}
	kind = http_json_str(m, "conversationType");
	group = kind != NULL && strcmp(kind, "2") == 0;
	staff = http_json_str(m, "senderStaffId");
	if (staff == NULL || *staff == '\0')
		staff = http_json_str(m, "senderId");
	msg_id = http_json_str(m, "msgId");
	chat_id = group ? http_json_str(m, "conversationId") : staff;
	if (chat_id == NULL || staff == NULL || msg_id == NULL || *chat_id == '\0') {
		log_warnx("dingtalk", "frame %s: a bot message without sender or conversation; "
		    "acknowledged and dropped", message_id);
		ack(t, message_id, "{\"response\":null}");
		json_decref(m);
		return;
	}
	kind = http_json_str(m, "msgtype");
	if (kind != NULL && strcmp(kind, "text") == 0)
		text = http_json_str(json_object_get(m, "text"), "content");
	if (text != NULL)
		text = parse_strip_mention(text, group);
	if (kind != NULL && strcmp(kind, "file") == 0) {
		/* issue 15: a unit's summary; its downloadCode is resolved later */
		const json_t *content = json_object_get(m, "content");

		ev.file_ref = http_json_str(content, "downloadCode");
		ev.file_name = http_json_str(content, "fileName");
		if (ev.file_name == NULL)
			ev.file_name = "";
	}
	webhook = http_json_str(m, "sessionWebhook");
	expires = json_object_get(m, "sessionWebhookExpiredTime");
	if (webhook != NULL && json_is_integer(expires))
		dt_session_keep(t, chat_id, webhook, json_integer_value(expires));
	ev.event_id = msg_id;
	ev.chat_id = chat_id;
	ev.chat_kind = group ? CHAT_GROUP : CHAT_PRIVATE;
	ev.chat_title = http_json_str(m, "conversationTitle");
	ev.user_id = staff;
	ev.user_name = http_json_str(m, "senderNick");
	ev.message_id = msg_id;
	ev.text = text;
	ev.text_len = text != NULL ? strlen(text) : 0;
	if (t->drv.host->batch(t->drv.host->ctx, &batch) == 0)
		ack(t, message_id, "{\"response\":null}");
	else
		/* Not acknowledged: the gateway sees the failure; the user asks again. */
		log_error("dingtalk", "message %s could not be stored; not acknowledged", msg_id);
	json_decref(m);
}

static void
on_frame(struct dingtalk *t, const char *data, size_t len)
{
	json_t *f = json_loadb(data, len, 0, NULL);
	const json_t *headers = json_object_get(f, "headers");
	const char *type = http_json_str(f, "type"), *topic = http_json_str(headers, "topic");
	const char *id = http_json_str(headers, "messageId"), *payload = http_json_str(f, "data");

	t->last_frame_ms = clock_mono_ms();
	if (type == NULL || id == NULL) {
		log_warnx("dingtalk", "a frame that is not the protocol's (%zu bytes); ignored", len);
		goto out;
	}
	if (strcmp(type, "SYSTEM") == 0 && topic != NULL && strcmp(topic, "ping") == 0) {
		ack(t, id, payload != NULL ? payload : "{}");
	} else if (strcmp(type, "SYSTEM") == 0 && topic != NULL &&
	    strcmp(topic, "disconnect") == 0) {
		log_info("dingtalk", "the gateway asks to reconnect (%.100s)",
		    payload != NULL ? payload : "");
		t->reconnect_now = true;
		ws_link_close(t->link, 1000, "reconnect");
	} else if (strcmp(type, "CALLBACK") == 0 && topic != NULL &&
	    strcmp(topic, BOT_TOPIC) == 0 && payload != NULL) {
		bot_message(t, id, payload);
	} else {
		/* Events we did not ask for: acknowledged so they are not pushed again. */
		ack(t, id, "{\"status\":\"SUCCESS\",\"message\":\"ignored\"}");
	}
out:
	json_decref(f);
}

/* ---- the connection ---- */

static void
link_open(void *arg)
{
	struct dingtalk *t = arg;

	t->state = DT_OPEN;
	t->failures = 0;
	t->last_frame_ms = clock_mono_ms();
	if (!t->ever_connected)
		log_info("dingtalk", "connected to the stream gateway");
	else
		log_info("dingtalk", "reconnected to the stream gateway");
	t->ever_connected = true;
	t->drv.host->kick(t->drv.host->ctx);
}

static void
link_message(void *arg, const char *data, size_t len)
{
	on_frame(arg, data, len);
}

/* The connection is gone: a new ticket, at once after a disconnect, else after a pause. */
static void
link_closed(void *arg, int code, const char *why)
{
	struct dingtalk *t = arg;

	if (t->state == DT_STOPPED)
		return;
	log_warnx("dingtalk", "stream connection closed (%d %.160s)", code, why);
	t->state = DT_WAITING;
	loop_timer_after(t->retry, t->reconnect_now ? 0 : reconnect_ms(t));
	t->reconnect_now = false;
}

static void
connect_stream(struct dingtalk *t, const char *endpoint, const char *ticket)
{
	char err[256], *url, *escaped;
	CURL *e = curl_easy_init();

	escaped = e != NULL ? curl_easy_escape(e, ticket, 0) : NULL;
	url = xasprintf("%s%s%s=%s", endpoint, strchr(endpoint, '?') != NULL ? "&" : "?", "ticket",
	    escaped != NULL ? escaped : "");
	curl_free(escaped);
	curl_easy_cleanup(e);
	if (ws_link_connect(t->link, url, FRAME_MAX, err, sizeof(err)) < 0) {
		log_warnx("dingtalk", "cannot open the stream: %s", err);
		t->state = DT_WAITING;
		loop_timer_after(t->retry, reconnect_ms(t));
	} else {
		t->state = DT_CONNECTING;
	}
	explicit_bzero(url, strlen(url));
	free(url);
}

static void
opened(void *arg, const struct http_result *r)
{
	struct dingtalk *t = arg;
	const char *endpoint = r->body != NULL ? http_json_str(r->body, "endpoint") : NULL;
	const char *ticket = r->body != NULL ? http_json_str(r->body, "ticket") : NULL;

	if (t->state == DT_STOPPED)
		return;
	if (r->status == 200 && endpoint != NULL && ticket != NULL &&
	    (strncmp(endpoint, "wss://", 6) == 0 || strncmp(endpoint, "ws://", 5) == 0)) {
		connect_stream(t, endpoint, ticket);
		return;
	}
	if ((r->status == 401 || r->status == 403) && !t->ever_connected) {
		char msg[512];

		snprintf(msg, sizeof(msg), "DingTalk refused the app's credentials (%s %.80s): "
		    "check [dingtalk] client_id (AppKey) and the AppSecret", r->detail, dt_api_code(r));
		t->drv.host->fatal(t->drv.host->ctx, msg);
		t->state = DT_IDLE;
		return;
	}
	log_warnx("dingtalk", "opening a stream connection failed (%s %.80s); retrying", r->detail,
	    dt_api_code(r));
	t->state = DT_WAITING;
	loop_timer_after(t->retry, reconnect_ms(t));
}

static void
open_gateway(struct dingtalk *t)
{
	json_t *body = json_pack("{s:s, s:s, s:[{s:s, s:s}], s:s, s:s}", "clientId", t->client_id,
	    "clientSecret", t->secret, "subscriptions", "type", "CALLBACK", "topic", BOT_TOPIC,
	    "ua", "campaign-bot/0.1", "localIp", "");
	char *url = xasprintf("%s/v1.0/gateway/connections/open", t->api_url);

	t->state = DT_OPENING;
	if (http_json_post(t->open_call, "gateway open", url, NULL, body, CALL_TIMEOUT_MS, opened,
	    t) < 0) {
		t->state = DT_WAITING;
		loop_timer_after(t->retry, reconnect_ms(t));
	}
	json_decref(body);
	free(url);
}

static void
retry_step(void *arg)
{
	struct dingtalk *t = arg;

	if (t->state == DT_WAITING)
		open_gateway(t);
}

/* The silence check: a ping when idle, a new connection when dead. */
static void
tick(void *arg)
{
	struct dingtalk *t = arg;
	int64_t now = clock_mono_ms();

	if (ws_link_open(t->link) && t->state == DT_OPEN) {
		int64_t last = ws_link_last_received(t->link) > t->last_frame_ms ?
		    ws_link_last_received(t->link) : t->last_frame_ms;

		if (now - last > t->silence_ms) {
			log_warnx("dingtalk", "no frame for %lld s: the connection is dead; "
			    "reconnecting", (long long)((now - last) / 1000));
			ws_link_close(t->link, 1001, "silent");
		} else if (now - last > t->silence_ms / 3 && now - t->last_ping_ms > t->silence_ms / 3) {
			/* An idle gateway says nothing: a ping's pong shows it is still there. */
			t->last_ping_ms = now;
			ws_link_ping(t->link);
		}
	}
	if (t->state != DT_STOPPED)
		loop_timer_after(t->tick, 1000);
}

/* ---- driver ops ---- */

static int
dt_start(struct driver *d)
{
	struct dingtalk *t = d->priv;

	open_gateway(t);
	loop_timer_after(t->tick, 1000);
	return 0;
}

static void
dt_stop(struct driver *d)
{
	struct dingtalk *t = d->priv;

	t->state = DT_STOPPED;
	loop_timer_at(t->retry, -1);
	http_json_abort(t->open_call);
	ws_link_drop(t->link);
}

static bool
dt_idle(struct driver *d)
{
	struct dingtalk *t = d->priv;

	return dt_send_idle(t);
}

static void
dt_free(struct driver *d)
{
	struct dingtalk *t;

	if (d == NULL)
		return;
	t = d->priv;
	dt_stop(d);
	ws_link_free(t->link);
	http_json_free(t->open_call);
	http_json_free(t->token_call);
	http_json_free(t->send_call);
	dt_files_free(t);
	loop_timer_free(t->retry);
	loop_timer_free(t->tick);
	dt_send_free(t);
	explicit_bzero(t->secret, strlen(t->secret));
	free(t->secret);
	free(t->api_url);
	free(t->client_id);
	free(t->robot_code);
	free(t);
}

static bool
dt_serving(struct driver *d)
{
	return ((struct dingtalk *)d->priv)->state == DT_OPEN;
}

static const struct driver_ops dingtalk_ops = {
	.name = "dingtalk",
	.format = MARKUP_MARKDOWN,
	.max_text = 6000,       /* bytes of Markdown: well under msgParam's 15,000 */
	.max_unit = MARKUP_UNIT_BYTES,
	.start = dt_start,
	.stop = dt_stop,
	.can_send = dt_can_send,
	.send = dt_send,
	.idle = dt_idle,
	.serving = dt_serving,
	.file_url = dt_file_url,
	.free = dt_free,
};

struct driver *
driver_dingtalk_new(const struct driver_host *host, const struct cfg *cfg, const char *secret)
{
	struct dingtalk *t = xcalloc(1, sizeof(*t));
	const char *silence = getenv("CAMPAIGN_TEST_DINGTALK_SILENCE_MS");
	int64_t ms;

	t->drv.ops = &dingtalk_ops;
	/* No published per-app figure: a conservative pace, and the QPS errors honoured. */
	t->drv.limits = (struct pace_limits){ .per_chat_ms = 1000, .group_max = 20,
		.group_window_ms = 60000, .global_max = cfg->chat.rate_global < 20 ?
		    cfg->chat.rate_global : 20, .global_window_ms = 1000 };
	t->drv.host = host;
	t->drv.priv = t;
	t->api_url = xstrdup(cfg->dingtalk.api_url);
	t->client_id = xstrdup(cfg->dingtalk.client_id);
	t->robot_code = xstrdup(cfg->dingtalk.robot_code != NULL ? cfg->dingtalk.robot_code :
	    cfg->dingtalk.client_id);
	t->secret = xstrdup(secret);
	/* Test-only: the fake gateway's silence, in milliseconds rather than minutes. */
	t->silence_ms = silence != NULL && num_parse_i64(silence, 100, 3600000, &ms) == 0 ? ms :
	    SILENCE_MS;
	t->open_call = http_json_new(host->loop, ANSWER_MAX);
	t->token_call = http_json_new(host->loop, ANSWER_MAX);
	t->send_call = http_json_new(host->loop, ANSWER_MAX);
	t->file_call = http_json_new(host->loop, ANSWER_MAX);
	t->retry = loop_timer_new(host->loop, retry_step, t);
	t->tick = loop_timer_new(host->loop, tick, t);
	t->link = ws_link_new(host->loop, "dingtalk", &(struct ws_link_handler){ .arg = t,
	    .open = link_open, .message = link_message, .closed = link_closed });
	dt_send_init(t);
	return &t->drv;
}
