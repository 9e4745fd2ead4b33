/*
 * The Telegram driver: getMe (our username, and a token check: 401 ends the
 * daemon with a clear message), deleteWebhook, then getUpdates long polling
 * with the offset confirming only what the host has committed; sendMessage
 * with parse_mode=HTML. It translates updates into chat events and the
 * API's errors into send results; it decides nothing else. Receiving errors
 * back off with jitter (409 loudly: another instance or a webhook).
 */
#include "driver_telegram.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "campaign/chats.h"
#include "campaign/backoff.h"
#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/xmalloc.h"
#include "tg_api.h"

#define PLATFORM "telegram"
#define CURSOR_KEY "telegram.offset"
#define UPDATES_MAX_BODY (32 * 1024 * 1024)
#define SEND_MAX_BODY (1024 * 1024)
#define SEND_TIMEOUT_MS 15000
#define CONTROL_TIMEOUT_MS 15000
#define POLL_SLACK_MS 5000      /* HTTP timeout = poll timeout + this */
#define BACKOFF_MAX_MS 30000
#define TEXT_MAX_UNITS 4096
#define FILE_MAX (20 * 1024 * 1024)     /* what getFile lets a bot download */
#define GETFILE_TIMEOUT_MS 30000L

enum tg_state { ST_IDENTIFY, ST_UNHOOK, ST_POLL, ST_STOPPED };

struct telegram {
	struct driver drv;
	struct tg_api *api;
	struct tg_call *poll;   /* getMe, deleteWebhook, getUpdates */
	struct tg_call *send;   /* sendMessage: one in flight (see can_send) */
	struct tg_call *files;  /* getFile (issue 15) */
	file_url_cb *file_done;
	void *file_arg;
	struct loop_timer *retry;
	enum tg_state state;
	char *username;
	int64_t bot_id;
	int64_t offset;         /* next getUpdates offset; 0: from the head */
	int poll_timeout;
	int failures;           /* consecutive receive failures */
	int conflicts;          /* consecutive 409s */
	int64_t sending;        /* delivery in flight, 0 none */
	char moved_to[32];
	bool refused;           /* the last poll got 401: waiting for a new token */
	bool reidentify;        /* the token changed: getMe again before the next poll */
};

static void next_step(struct telegram *t);

/* Tries the current step again after an exponential, jittered pause. */
static void
back_off(struct telegram *t, int64_t at_least_ms)
{
	int64_t ms = backoff_ms(++t->failures, 1000, BACKOFF_MAX_MS);

	loop_timer_after(t->retry, ms < at_least_ms ? at_least_ms : ms);
}

static void
retry_step(void *arg)
{
	next_step(arg);
}

/* ---- updates -> events ---- */

struct pool {
	char **items;
	size_t n;
};

static const char *
pool_keep(struct pool *p, char *s)
{
	p->items = xreallocarray(p->items, p->n + 1, sizeof(*p->items));
	p->items[p->n++] = s;
	return s;
}

static const char *
pool_i64(struct pool *p, const json_t *v)
{
	if (!json_is_integer(v))
		return NULL;
	return pool_keep(p, xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v)));
}

static void
pool_free(struct pool *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->items[i]);
	free(p->items);
}

static const char *
chat_kind(const json_t *chat)
{
	const char *type = json_string_value(json_object_get(chat, "type"));

	if (type == NULL || strcmp(type, "private") == 0)
		return CHAT_PRIVATE;
	if (strcmp(type, "channel") == 0)
		return CHAT_CHANNEL;
	return CHAT_GROUP;
}

static const char *
user_name(struct pool *p, const json_t *from)
{
	const char *first = json_string_value(json_object_get(from, "first_name"));
	const char *last = json_string_value(json_object_get(from, "last_name"));
	const char *username = json_string_value(json_object_get(from, "username"));

	if (first != NULL && last != NULL)
		return pool_keep(p, xasprintf("%s %s", first, last));
	if (first != NULL)
		return first;
	return username;
}

/*
 * "/cmd@name rest": ours when name is our username (the suffix is dropped),
 * not ours when it names another bot (NULL). Other text is returned as is.
 */
static const char *
addressed_text(struct telegram *t, struct pool *p, const char *text)
{
	const char *at, *end;

	if (text[0] != '/')
		return text;
	end = text + strcspn(text, " \t\n");
	at = memchr(text, '@', (size_t)(end - text));
	if (at == NULL)
		return text;
	if (t->username == NULL || (size_t)(end - at - 1) != strlen(t->username) ||
	    strncasecmp(at + 1, t->username, (size_t)(end - at - 1)) != 0)
		return NULL;
	return pool_keep(p, xasprintf("%.*s%s", (int)(at - text), text, end));
}

static bool
is_us(struct telegram *t, const json_t *user)
{
	const json_t *id = json_object_get(user, "id");

	return json_is_integer(id) && json_integer_value(id) == t->bot_id;
}

/* A service message (members, titles, pins ...): nothing for the core to answer. */
static bool
is_service(const json_t *msg)
{
	static const char *const keys[] = {
		"new_chat_members", "left_chat_member", "new_chat_title", "new_chat_photo",
		"delete_chat_photo", "group_chat_created", "supergroup_chat_created",
		"channel_chat_created", "migrate_from_chat_id", "pinned_message",
		"message_auto_delete_timer_changed", "forum_topic_created", "video_chat_started",
		"video_chat_ended", "video_chat_scheduled", "chat_shared", "users_shared",
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_object_get(msg, keys[i]) != NULL)
			return true;
	return json_object_get(msg, "from") == NULL;
}

static void
read_message(struct telegram *t, struct pool *p, const json_t *msg, struct chat_event *ev)
{
	const json_t *chat = json_object_get(msg, "chat");
	const json_t *from = json_object_get(msg, "from");
	const json_t *text = json_object_get(msg, "text");
	const json_t *members = json_object_get(msg, "new_chat_members");
	const json_t *m;
	size_t i;

	ev->chat_id = pool_i64(p, json_object_get(chat, "id"));
	ev->chat_kind = chat_kind(chat);
	ev->chat_title = json_string_value(json_object_get(chat, "title"));
	ev->user_id = pool_i64(p, json_object_get(from, "id"));
	ev->user_name = user_name(p, from);
	ev->message_id = pool_i64(p, json_object_get(msg, "message_id"));
	if (json_object_get(msg, "migrate_to_chat_id") != NULL) {
		ev->kind = CHAT_EV_MIGRATED;
		ev->new_chat_id = pool_i64(p, json_object_get(msg, "migrate_to_chat_id"));
		return;
	}
	json_array_foreach(members, i, m)
		if (is_us(t, m))
			ev->kind = CHAT_EV_JOINED;
	if (json_object_get(msg, "group_chat_created") != NULL ||
	    json_object_get(msg, "supergroup_chat_created") != NULL)
		ev->kind = CHAT_EV_JOINED;
	if (is_us(t, json_object_get(msg, "left_chat_member")))
		ev->kind = CHAT_EV_LEFT;
	if (ev->kind != CHAT_EV_OTHER)
		return;
	if (json_is_string(text)) {
		ev->text = addressed_text(t, p, json_string_value(text));
		if (ev->text != NULL) {
			ev->kind = CHAT_EV_MESSAGE;
			ev->text_len = ev->text == json_string_value(text) ?
			    json_string_length(text) : strlen(ev->text);
		}
	} else if (!is_service(msg)) {
		ev->kind = CHAT_EV_MESSAGE;     /* a sticker, a photo: the core says "text please" */
	}
	/* issue 15: a document (a unit's summary), fetched later with getFile */
	if (json_is_object(json_object_get(msg, "document"))) {
		const json_t *doc = json_object_get(msg, "document");

		ev->kind = CHAT_EV_MESSAGE;
		ev->file_ref = json_string_value(json_object_get(doc, "file_id"));
		ev->file_name = json_string_value(json_object_get(doc, "file_name"));
		ev->file_type = json_string_value(json_object_get(doc, "mime_type"));
		ev->file_size = json_integer_value(json_object_get(doc, "file_size"));
		if (ev->file_name == NULL)
			ev->file_name = "file";
	}
}

static void
read_update(struct telegram *t, struct pool *p, const json_t *u, struct chat_event *ev)
{
	const json_t *v;

	memset(ev, 0, sizeof(*ev));
	ev->kind = CHAT_EV_OTHER;
	ev->event_id = pool_i64(p, json_object_get(u, "update_id"));
	if ((v = json_object_get(u, "message")) != NULL) {
		read_message(t, p, v, ev);
	} else if ((v = json_object_get(u, "edited_message")) != NULL) {
		ev->kind = CHAT_EV_EDITED;
	} else if ((v = json_object_get(u, "my_chat_member")) != NULL) {
		const json_t *chat = json_object_get(v, "chat");
		const char *status = json_string_value(json_object_get(json_object_get(v,
		    "new_chat_member"), "status"));

		ev->chat_id = pool_i64(p, json_object_get(chat, "id"));
		ev->chat_kind = chat_kind(chat);
		ev->chat_title = json_string_value(json_object_get(chat, "title"));
		ev->user_id = pool_i64(p, json_object_get(json_object_get(v, "from"), "id"));
		if (status != NULL && ev->chat_id != NULL)
			ev->kind = strcmp(status, "kicked") == 0 || strcmp(status, "left") == 0 ?
			    CHAT_EV_LEFT : CHAT_EV_JOINED;
	}
	/* Whatever we cannot use is still confirmed, never retried forever. */
	if (ev->kind != CHAT_EV_OTHER && ev->kind != CHAT_EV_EDITED && ev->chat_id == NULL)
		ev->kind = CHAT_EV_OTHER;
}

/* ---- receiving ---- */

static void
got_updates(struct telegram *t, const json_t *result)
{
	struct chat_event *evs;
	struct pool p = { NULL, 0 };
	size_t n = json_array_size(result), i;
	int64_t next = t->offset;
	char cursor[32];
	const json_t *u;
	struct chat_batch b;

	if (!json_is_array(result)) {
		log_warnx("telegram", "getUpdates: the result is not a list");
		back_off(t, 0);
		return;
	}
	if (n == 0) {
		t->failures = 0;
		next_step(t);
		return;
	}
	evs = xcalloc(n, sizeof(*evs));
	json_array_foreach(result, i, u) {
		const json_t *id = json_object_get(u, "update_id");

		read_update(t, &p, u, &evs[i]);
		if (json_is_integer(id) && json_integer_value(id) >= next)
			next = json_integer_value(id) + 1;
	}
	snprintf(cursor, sizeof(cursor), "%" PRId64, next);
	b = (struct chat_batch){ .platform = PLATFORM, .events = evs, .n = n,
	    .cursor_key = CURSOR_KEY, .cursor = cursor };
	if (t->drv.host->batch(t->drv.host->ctx, &b) == 0) {
		t->offset = next;
		t->failures = 0;
		next_step(t);
	} else {
		log_warnx("telegram", "%zu updates not stored; asking for them again", n);
		back_off(t, 0);
	}
	pool_free(&p);
	free(evs);
}

static void
receive_failed(struct telegram *t, const struct tg_result *r)
{
	if (r->outcome == TG_API_ERROR && r->error_code == 409) {
		t->conflicts++;
		log_error("telegram", "%s (409 #%d): another campaign-bot polls with this token, "
		    "or a webhook is set; backing off", r->detail, t->conflicts);
		if (strcasestr(r->description, "webhook") != NULL)
			t->state = ST_UNHOOK;
		back_off(t, 3000);
		return;
	}
	if (r->outcome == TG_API_ERROR && r->error_code == 429) {
		int64_t wait = (r->retry_after >= 0 ? r->retry_after : 5) * 1000 + 250;

		log_warnx("telegram", "%s: waiting %.1f s as asked", r->detail,
		    (double)wait / 1000.0);
		loop_timer_after(t->retry, wait);
		return;
	}
	if (r->outcome == TG_API_ERROR && r->error_code == 401) {
		log_error("telegram", "%s: the token was revoked? retrying in a minute "
		    "(or at once after a new token and a reload)", r->detail);
		t->refused = true;
		loop_timer_after(t->retry, backoff_jitter(60000));
		return;
	}
	log_warnx("telegram", "%s; retrying", r->detail);
	back_off(t, 0);
}

/* Start errors: a refused token or URL ends the daemon, anything else is retried. */
static bool
fatal_at_start(struct telegram *t, const struct tg_result *r)
{
	char msg[512];

	if (r->outcome != TG_API_ERROR || (r->error_code != 401 && r->error_code != 404))
		return false;
	if (r->error_code == 401)
		snprintf(msg, sizeof(msg), "telegram: the Bot API refused the token (%s); check "
		    "TELEGRAM_BOT_TOKEN or [chat] token_file (a token from @BotFather looks like "
		    "123456789:AA...)", r->detail);
	else
		snprintf(msg, sizeof(msg), "telegram: the Bot API answered 404 (%s); check "
		    "[chat] api_url and the token", r->detail);
	t->state = ST_STOPPED;
	t->drv.host->fatal(t->drv.host->ctx, msg);
	return true;
}

static void
poll_done(void *arg, struct tg_call *call, const struct tg_result *r)
{
	struct telegram *t = arg;
	const json_t *v;

	(void)call;
	if (t->state == ST_STOPPED)
		return;
	if (r->outcome != TG_OK) {
		if (t->state != ST_POLL && fatal_at_start(t, r))
			return;
		receive_failed(t, r);
		return;
	}
	t->conflicts = 0;
	t->refused = false;
	switch (t->state) {
	case ST_IDENTIFY:
		v = json_object_get(r->result, "username");
		free(t->username);
		t->username = xstrdup(json_is_string(v) ? json_string_value(v) : "");
		t->bot_id = json_integer_value(json_object_get(r->result, "id"));
		log_info("telegram", "signed in as @%s (id %" PRId64 ")", t->username, t->bot_id);
		t->state = ST_UNHOOK;
		t->failures = 0;
		t->drv.host->kick(t->drv.host->ctx);   /* sends may start */
		next_step(t);
		break;
	case ST_UNHOOK:
		log_info("telegram", "webhook removed; long polling every %d s", t->poll_timeout);
		t->state = ST_POLL;
		t->failures = 0;
		next_step(t);
		break;
	case ST_POLL:
		got_updates(t, r->result);
		break;
	case ST_STOPPED:
		break;
	}
}

static void
next_step(struct telegram *t)
{
	json_t *params = json_object();
	const char *method = NULL;
	long timeout = CONTROL_TIMEOUT_MS;

	if (t->reidentify && t->state == ST_POLL)
		t->state = ST_IDENTIFY;
	t->reidentify = false;
	switch (t->state) {
	case ST_IDENTIFY:
		method = "getMe";
		break;
	case ST_UNHOOK:
		method = "deleteWebhook";
		json_object_set_new(params, "drop_pending_updates", json_false());
		break;
	case ST_POLL:
		method = "getUpdates";
		if (t->offset != 0)
			json_object_set_new(params, "offset", json_integer(t->offset));
		json_object_set_new(params, "limit", json_integer(100));
		json_object_set_new(params, "timeout", json_integer(t->poll_timeout));
		json_object_set_new(params, "allowed_updates", json_pack("[ssss]", "message",
		    "edited_message", "callback_query", "my_chat_member"));
		timeout = (long)t->poll_timeout * 1000 + POLL_SLACK_MS;
		break;
	case ST_STOPPED:
		break;
	}
	if (method != NULL && tg_call_start(t->poll, method, params, timeout, true, poll_done, t) < 0) {
		log_warnx("telegram", "cannot start %s; retrying", method);
		back_off(t, 0);
	}
	json_decref(params);
}

/* ---- sending ---- */

static bool
numeric(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static json_t *
id_json(const char *id)
{
	return numeric(id) ? json_integer(strtoll(id, NULL, 10)) : json_string(id);
}

static void
send_done(void *arg, struct tg_call *call, const struct tg_result *r)
{
	struct telegram *t = arg;
	struct send_result res = { .status = SEND_TRANSIENT, .detail = r->detail };
	int64_t id = t->sending;

	(void)call;
	t->sending = 0;
	if (r->outcome == TG_OK) {
		res.status = SEND_OK;
	} else if (r->outcome == TG_API_ERROR) {
		int code = r->error_code;

		if (code == 429) {
			res.status = SEND_RETRY_AFTER;
			res.retry_after_ms = (r->retry_after >= 0 ? r->retry_after : 5) * 1000;
		} else if (code == 403) {
			res.status = SEND_CHAT_GONE;
		} else if (code == 400 && r->migrate_to[0] != '\0') {
			snprintf(t->moved_to, sizeof(t->moved_to), "%s", r->migrate_to);
			res.status = SEND_CHAT_MOVED;
			res.new_chat_id = t->moved_to;
		} else if (code == 400 && strcasestr(r->description, "can't parse entities")) {
			res.status = SEND_BAD_MARKUP;
		} else if (code == 400 && strcasestr(r->description, "chat not found")) {
			res.status = SEND_CHAT_GONE;
		} else if (code == 400) {
			res.status = SEND_REJECTED;
		}
	}
	t->drv.host->sent(t->drv.host->ctx, id, &res);
}

static int
tg_send(struct driver *d, const struct chat_out *m)
{
	struct telegram *t = d->priv;
	json_t *params = json_object();
	int rc;

	json_object_set_new(params, "chat_id", id_json(m->chat_id));
	json_object_set_new(params, "text", json_string(m->text));
	if (m->format == MARKUP_HTML)
		json_object_set_new(params, "parse_mode", json_string("HTML"));
	json_object_set_new(params, "link_preview_options", json_pack("{sb}", "is_disabled", 1));
	if (m->reply_to != NULL && numeric(m->reply_to))
		json_object_set_new(params, "reply_parameters", json_pack("{sosb}", "message_id",
		    id_json(m->reply_to), "allow_sending_without_reply", 1));
	rc = tg_call_start(t->send, "sendMessage", params, SEND_TIMEOUT_MS, false, send_done,
	    t);
	json_decref(params);
	if (rc == 0)
		t->sending = m->delivery_id;
	return rc;
}

/*
 * One send at a time: a 429 pauses every send, and with one request in
 * flight none can reach the server inside a retry window we have not yet
 * heard of. Replies and the ~30 msg/s broadcasts fit easily.
 */
static bool
tg_can_send(struct driver *d)
{
	struct telegram *t = d->priv;

	return t->state != ST_IDENTIFY && t->state != ST_STOPPED && !tg_call_busy(t->send);
}

/* Receiving (systemd's READY=1): signed in and the webhook removed, so polling. */
static bool
tg_serving(struct driver *d)
{
	return ((struct telegram *)d->priv)->state == ST_POLL;
}

static bool
tg_idle(struct driver *d)
{
	struct telegram *t = d->priv;

	return !tg_call_busy(t->send);
}

static int
tg_start(struct driver *d)
{
	struct telegram *t = d->priv;
	char *cursor = d->host->cursor(d->host->ctx, CURSOR_KEY);

	if (cursor != NULL && sscanf(cursor, "%" SCNd64, &t->offset) != 1)
		t->offset = 0;
	free(cursor);
	t->state = ST_IDENTIFY;
	next_step(t);
	return 0;
}

static void
tg_stop(struct driver *d)
{
	struct telegram *t = d->priv;

	/* The poll's updates are not confirmed yet: the next start gets them again. */
	t->state = ST_STOPPED;
	tg_call_abort(t->poll);
	loop_timer_at(t->retry, -1);
}

/* issue 15: a document's download URL, from getFile. */
static void
got_file_path(void *arg, struct tg_call *call, const struct tg_result *r)
{
	struct telegram *t = arg;
	const char *path = r->outcome == TG_OK ? json_string_value(json_object_get(r->result,
	    "file_path")) : NULL;
	char *url;

	(void)call;
	if (r->outcome == TG_API_ERROR) {
		/* 400 "file is too big" and the like: asking again will not help */
		t->file_done(t->file_arg, NULL, "Telegram 拒绝下载", true);
		return;
	}
	if (path == NULL) {
		t->file_done(t->file_arg, NULL, "下载失败", false);
		return;
	}
	url = tg_api_file_url(t->api, path);
	t->file_done(t->file_arg, url, NULL, false);
	explicit_bzero(url, strlen(url));
	free(url);
}

static int
tg_file_url(struct driver *d, const char *file_ref, file_url_cb *done, void *arg)
{
	struct telegram *t = d->priv;
	json_t *params = json_pack("{ss}", "file_id", file_ref);
	int rc;

	t->file_done = done;
	t->file_arg = arg;
	rc = tg_call_start(t->files, "getFile", params, GETFILE_TIMEOUT_MS, true, got_file_path, t);
	json_decref(params);
	return rc;
}

static void
tg_free(struct driver *d)
{
	struct telegram *t;

	if (d == NULL)
		return;
	t = d->priv;
	tg_call_free(t->poll);
	tg_call_free(t->send);
	tg_call_free(t->files);
	tg_api_free(t->api);
	loop_timer_free(t->retry);
	free(t->username);
	free(t);
}

static const struct driver_ops telegram_ops = {
	.name = PLATFORM,
	.format = MARKUP_HTML,
	.max_text = TEXT_MAX_UNITS,
	.max_unit = MARKUP_UNIT_UTF16,
	.start = tg_start,
	.stop = tg_stop,
	.can_send = tg_can_send,
	.send = tg_send,
	.serving = tg_serving,
	.idle = tg_idle,
	.file_url = tg_file_url,
	.file_max = FILE_MAX,
	.free = tg_free,
};

struct driver *
driver_telegram_new(const struct driver_host *host, const char *api_url, const char *token,
    int poll_timeout, int rate_global, int rate_group_per_min)
{
	struct telegram *t = xcalloc(1, sizeof(*t));

	t->drv.ops = &telegram_ops;
	/* Telegram's Bot FAQ: 1 msg/s per chat, 20/min per group, ~30/s overall. */
	t->drv.limits = (struct pace_limits){ .per_chat_ms = 1000,
		.group_max = rate_group_per_min, .group_window_ms = 60000,
		.global_max = rate_global, .global_window_ms = 1000 };
	t->drv.host = host;
	t->drv.priv = t;
	t->api = tg_api_new(api_url, token);
	t->poll = tg_call_new(t->api, host->loop, UPDATES_MAX_BODY);
	t->send = tg_call_new(t->api, host->loop, SEND_MAX_BODY);
	t->files = tg_call_new(t->api, host->loop, 64 * 1024);
	t->retry = loop_timer_new(host->loop, retry_step, t);
	t->poll_timeout = poll_timeout < 1 ? 1 : poll_timeout > 50 ? 50 : poll_timeout;
	return &t->drv;
}

void
driver_telegram_set_token(struct driver *d, const char *token)
{
	struct telegram *t = d->priv;

	if (tg_api_token_is(t->api, token))
		return;
	tg_api_set_token(t->api, token);
	t->reidentify = true;
	log_info("telegram", "new bot token: signing in again");
	/* Refused and waiting out the minute: try the new token now (never a 429's wait). */
	if (t->refused && t->state != ST_STOPPED && !tg_call_busy(t->poll))
		loop_timer_after(t->retry, 0);
}
