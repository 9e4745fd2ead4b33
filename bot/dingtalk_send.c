/*
 * The DingTalk driver's sending side (see dingtalk.h). A reply goes through
 * its message's session webhook while that is valid (errcode 300001, or
 * another refusal, falls back to the robot API); anything else through the
 * robot APIs with an access token cached until shortly before expireIn:
 * oToMessages/batchSend, up to 20 staff with one text per call (the sends
 * the sender starts in one pass join one batch), and groupMessages/send.
 * Per-staff results come back in invalidStaffIdList (the chat is gone) and
 * flowControlledStaffIdList (sent again later); a QPS limit pauses every
 * send of the platform; an invalid token is renewed once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/markup.h"
#include "campaign/xmalloc.h"
#include "dingtalk.h"

#define CALL_TIMEOUT_MS 15000
#define TOKEN_MARGIN_S 300      /* renew this long before expireIn */
#define WEBHOOK_MARGIN_MS 60000 /* a session webhook this close to expiry is not used */
#define QPS_PAUSE_MS 2000
#define SESSIONS_MAX 4096
#define TITLE_BYTES 64

static void start_job(struct dingtalk *t);

static int64_t
real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
dt_api_code(const struct http_result *r)
{
	const char *code = r->body != NULL ? http_json_str(r->body, "code") : NULL;

	return code != NULL ? code : "";
}

/* ---- sessions: each conversation's webhook for replies ---- */

static struct dt_session *
session_find(struct dingtalk *t, const char *chat_id)
{
	for (size_t i = 0; i < t->nsessions; i++)
		if (strcmp(t->sessions[i].chat_id, chat_id) == 0)
			return &t->sessions[i];
	return NULL;
}

static void
session_drop(struct dingtalk *t, size_t i)
{
	free(t->sessions[i].chat_id);
	free(t->sessions[i].webhook);
	t->sessions[i] = t->sessions[--t->nsessions];
}

void
dt_session_keep(struct dingtalk *t, const char *chat_id, const char *webhook,
    int64_t expires_ms)
{
	struct dt_session *s = session_find(t, chat_id);
	int64_t now = real_ms();

	if (strncmp(webhook, "https://", 8) != 0 && strncmp(webhook, "http://", 7) != 0)
		return;
	if (s == NULL) {
		/* Forget expired ones first; past the cap, an arbitrary one goes. */
		for (size_t i = 0; i < t->nsessions;)
			if (t->sessions[i].expires_ms <= now)
				session_drop(t, i);
			else
				i++;
		if (t->nsessions == SESSIONS_MAX)
			session_drop(t, 0);
		t->sessions = xreallocarray(t->sessions, t->nsessions + 1, sizeof(*t->sessions));
		s = &t->sessions[t->nsessions++];
		s->chat_id = xstrdup(chat_id);
		s->webhook = NULL;
	}
	free(s->webhook);
	s->webhook = xstrdup(webhook);
	s->expires_ms = expires_ms;
}

void
dt_sessions_free(struct dingtalk *t)
{
	while (t->nsessions > 0)
		session_drop(t, 0);
	free(t->sessions);
	t->sessions = NULL;
}

/* ---- the job ---- */

static void
job_clear(struct dt_job *j)
{
	for (size_t i = 0; i < j->n; i++)
		free(j->chat[i]);
	free(j->text);
	memset(j, 0, sizeof(*j));
}

/* Reports one result per delivery of the job; status_of may single some out. */
static void
finish_job(struct dingtalk *t, enum send_status status, int64_t retry_ms, const char *detail,
    const json_t *invalid, const json_t *flow)
{
	struct dt_job j = t->job;

	memset(&t->job, 0, sizeof(t->job));
	for (size_t i = 0; i < j.n; i++) {
		struct send_result r = { .status = status, .retry_after_ms = retry_ms,
			.detail = detail };
		size_t k;
		const json_t *v;

		json_array_foreach(invalid, k, v)
			if (json_is_string(v) && strcmp(json_string_value(v), j.chat[i]) == 0)
				r = (struct send_result){ .status = SEND_CHAT_GONE,
					.detail = "invalid staff id" };
		json_array_foreach(flow, k, v)
			if (json_is_string(v) && strcmp(json_string_value(v), j.chat[i]) == 0)
				r = (struct send_result){ .status = SEND_TRANSIENT,
					.detail = "flow controlled" };
		t->drv.host->sent(t->drv.host->ctx, j.delivery[i], &r);
	}
	job_clear(&j);
}

/* Robot API errors, in the sender's terms. */
static void
api_failed(struct dingtalk *t, const struct http_result *r)
{
	const char *code = dt_api_code(r);
	char detail[320];

	if (r->network || r->status >= 500 || r->status == 0) {
		finish_job(t, SEND_TRANSIENT, 0, r->detail, NULL, NULL);
	} else if (strstr(code, "QpsLimit") != NULL || r->status == 429) {
		t->paused_until = clock_mono_ms() + QPS_PAUSE_MS;
		log_warnx("dingtalk", "%s: %s; sends paused for %d s", r->detail, code,
		    QPS_PAUSE_MS / 1000);
		finish_job(t, SEND_RETRY_AFTER, QPS_PAUSE_MS, code, NULL, NULL);
	} else if (strcmp(code, "InvalidAuthentication") == 0 && !t->job.token_renewed) {
		/* A token revoked or expired early: renew once and send again. */
		dt_token_drop(t);
		t->job.token_renewed = true;
		start_job(t);
	} else {
		snprintf(detail, sizeof(detail), "%s %s %.120s", r->detail, code,
		    r->body != NULL && http_json_str(r->body, "message") != NULL ?
		    http_json_str(r->body, "message") : "");
		finish_job(t, SEND_REJECTED, 0, detail, NULL, NULL);
	}
}

static void
robot_sent(void *arg, const struct http_result *r)
{
	struct dingtalk *t = arg;

	if (r->status != 200 || r->body == NULL) {
		api_failed(t, r);
		return;
	}
	finish_job(t, SEND_OK, 0, "ok", json_object_get(r->body, "invalidStaffIdList"),
	    json_object_get(r->body, "flowControlledStaffIdList"));
}

/* msgParam of sampleText: a JSON string. */
static char *
text_param(const char *text)
{
	json_t *p = json_pack("{s:s}", "content", text);
	char *s = json_dumps(p, JSON_COMPACT);

	json_decref(p);
	return s;
}

/* msgParam of sampleMarkdown: a JSON string with a title (the first line). */
static char *
markdown_param(const char *text)
{
	char title[TITLE_BYTES + 1];
	size_t n = strcspn(text, "\n");
	json_t *p;
	char *s;

	if (n > TITLE_BYTES)
		n = TITLE_BYTES;
	while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
		n--;            /* never cut a UTF-8 sequence */
	memcpy(title, text, n);
	title[n] = '\0';
	while (n > 0 && (title[0] == '#' || title[0] == '*' || title[0] == ' '))
		memmove(title, title + 1, n--);
	p = json_pack("{s:s, s:s}", "title", *title != '\0' ? title : "通知", "text", text);
	s = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	return s;
}

static void
robot_send(struct dingtalk *t)
{
	char *header = xasprintf("x-acs-dingtalk-access-token: %s", t->token);
	const char *headers[] = { header, NULL };
	char *param = t->job.plain ? text_param(t->job.text) : markdown_param(t->job.text), *url;
	const char *key = t->job.plain ? "sampleText" : "sampleMarkdown";
	json_t *body, *users;

	if (t->job.group) {
		url = xasprintf("%s/v1.0/robot/groupMessages/send", t->api_url);
		body = json_pack("{s:s, s:s, s:s, s:s}", "robotCode", t->robot_code,
		    "openConversationId", t->job.chat[0], "msgKey", key, "msgParam",
		    param != NULL ? param : "{}");
	} else {
		url = xasprintf("%s/v1.0/robot/oToMessages/batchSend", t->api_url);
		users = json_array();
		for (size_t i = 0; i < t->job.n; i++)
			json_array_append_new(users, json_string(t->job.chat[i]));
		body = json_pack("{s:s, s:o, s:s, s:s}", "robotCode", t->robot_code, "userIds",
		    users, "msgKey", key, "msgParam", param != NULL ? param : "{}");
	}
	if (body == NULL || http_json_post(t->send_call, t->job.group ? "groupMessages/send" :
	    "oToMessages/batchSend", url, headers, body, CALL_TIMEOUT_MS, robot_sent, t) < 0)
		finish_job(t, SEND_TRANSIENT, 0, "cannot start the call", NULL, NULL);
	explicit_bzero(header, strlen(header));
	free(header);
	free(param);
	free(url);
	json_decref(body);
}

/* ---- the access token, shared with the file downloads ---- */

static void
token_ready(struct dingtalk *t, unsigned users, const struct http_result *fail)
{
	if (users & DT_TOKEN_SEND)
		dt_send_token_ready(t, fail);
	if (users & DT_TOKEN_FILES)
		dt_files_token_ready(t, fail);
}

static void
token_got(void *arg, const struct http_result *r)
{
	struct dingtalk *t = arg;
	const char *token = r->body != NULL ? http_json_str(r->body, "accessToken") : NULL;
	const json_t *expires = r->body != NULL ? json_object_get(r->body, "expireIn") : NULL;
	unsigned users = t->token_waiting;
	int64_t life;

	t->token_waiting = 0;
	if (r->status != 200 || token == NULL) {
		if (r->status == 400 || r->status == 401)
			log_error("dingtalk", "the token endpoint refused the app's credentials "
			    "(%s %.80s)", r->detail, dt_api_code(r));
		token_ready(t, users, r);
		return;
	}
	life = json_is_integer(expires) ? json_integer_value(expires) : 7200;
	free(t->token);
	t->token = xstrdup(token);
	/* Renewed ahead of expireIn; a short-lived token at half its life. */
	t->token_expires_ms = clock_mono_ms() + (life > 2 * TOKEN_MARGIN_S ?
	    life - TOKEN_MARGIN_S : life / 2) * 1000;
	token_ready(t, users, NULL);
}

void
dt_token_need(struct dingtalk *t, enum dt_token_user user)
{
	char *url;
	json_t *body;
	int rc;

	if (t->token != NULL && clock_mono_ms() < t->token_expires_ms) {
		token_ready(t, user, NULL);
		return;
	}
	t->token_waiting |= user;
	if (http_json_busy(t->token_call))
		return;         /* the renewal under way answers this user too */
	url = xasprintf("%s/v1.0/oauth2/accessToken", t->api_url);
	body = json_pack("{s:s, s:s}", "appKey", t->client_id, "appSecret", t->secret);
	rc = http_json_post(t->token_call, "accessToken", url, NULL, body, CALL_TIMEOUT_MS,
	    token_got, t);
	json_decref(body);
	free(url);
	if (rc < 0) {
		struct http_result r = { .network = true, .detail = "accessToken: cannot start" };

		t->token_waiting &= ~(unsigned)user;
		token_ready(t, user, &r);
	}
}

void
dt_token_drop(struct dingtalk *t)
{
	if (t->token != NULL)
		explicit_bzero(t->token, strlen(t->token));
	free(t->token);
	t->token = NULL;
}

void
dt_send_token_ready(struct dingtalk *t, const struct http_result *fail)
{
	if (fail != NULL)
		api_failed(t, fail);
	else
		robot_send(t);
}

static void
webhook_sent(void *arg, const struct http_result *r)
{
	struct dingtalk *t = arg;
	const json_t *code = r->body != NULL ? json_object_get(r->body, "errcode") : NULL;
	struct dt_session *s;

	if (r->status == 200 && json_is_integer(code) && json_integer_value(code) == 0) {
		finish_job(t, SEND_OK, 0, "ok", NULL, NULL);
		return;
	}
	if (r->network || r->status >= 500) {
		finish_job(t, SEND_TRANSIENT, 0, r->detail, NULL, NULL);
		return;
	}
	/* Expired (300001) or refused: forget the webhook, use the robot API. */
	log_info("dingtalk", "session webhook refused (%s, errcode %lld); sending through the "
	    "robot API", r->detail, json_is_integer(code) ? (long long)json_integer_value(code) :
	    -1LL);
	if ((s = session_find(t, t->job.chat[0])) != NULL)
		session_drop(t, (size_t)(s - t->sessions));
	t->job.via_webhook = false;
	start_job(t);
}

static void
start_job(struct dingtalk *t)
{
	struct dt_session *s = t->job.via_webhook ? session_find(t, t->job.chat[0]) : NULL;

	t->job.started = true;
	if (s != NULL && s->expires_ms > real_ms() + WEBHOOK_MARGIN_MS) {
		json_t *body = t->job.plain ?
		    json_pack("{s:s, s:{s:s}}", "msgtype", "text", "text", "content", t->job.text) :
		    json_pack("{s:s, s:{s:s, s:s}}", "msgtype", "markdown", "markdown", "title", "回复",
		    "text", t->job.text);

		if (http_json_post(t->send_call, "session webhook", s->webhook, NULL, body,
		    CALL_TIMEOUT_MS, webhook_sent, t) < 0)
			finish_job(t, SEND_TRANSIENT, 0, "cannot start the call", NULL, NULL);
		json_decref(body);
		return;
	}
	t->job.via_webhook = false;
	dt_token_need(t, DT_TOKEN_SEND);
}

/* The batch has gathered what the sender started in this pass: send it. */
static void
flush(void *arg)
{
	struct dingtalk *t = arg;

	if (t->job.active && !t->job.started)
		start_job(t);
}

/* ---- driver ops ---- */

static bool
joinable(const struct dingtalk *t)
{
	const struct dt_job *j = &t->job;

	return j->active && !j->started && !j->group && !j->via_webhook && j->n < DT_BATCH_MAX;
}

bool
dt_can_send(struct driver *d)
{
	struct dingtalk *t = d->priv;

	return clock_mono_ms() >= t->paused_until && (!t->job.active || joinable(t));
}

int
dt_send(struct driver *d, const struct chat_out *m)
{
	struct dingtalk *t = d->priv;
	struct dt_job *j = &t->job;
	/* Rendered by the sender: Markdown, or plain after DingTalk refused it. */
	char *text = xstrdup(m->text);
	struct dt_session *s = m->is_reply ? session_find(t, m->chat_id) : NULL;
	bool webhook = s != NULL && s->expires_ms > real_ms() + WEBHOOK_MARGIN_MS;

	if (j->active) {
		/* Only another staff member's copy of the same text joins a batch. */
		if (!joinable(t) || webhook || m->group || strcmp(j->text, text) != 0 ||
		    j->plain != (m->format == MARKUP_PLAIN)) {
			free(text);
			return -1;
		}
		j->delivery[j->n] = m->delivery_id;
		j->chat[j->n++] = xstrdup(m->chat_id);
		free(text);
		return 0;
	}
	*j = (struct dt_job){ .active = true, .group = m->group, .via_webhook = webhook,
		.plain = m->format == MARKUP_PLAIN, .text = text, .n = 1 };
	j->delivery[0] = m->delivery_id;
	j->chat[0] = xstrdup(m->chat_id);
	if (joinable(t))
		loop_timer_after(t->flush, 0);
	else
		start_job(t);
	return 0;
}

bool
dt_send_idle(const struct dingtalk *t)
{
	return !t->job.active;
}

void
dt_send_init(struct dingtalk *t)
{
	t->flush = loop_timer_new(t->drv.host->loop, flush, t);
}

void
dt_send_free(struct dingtalk *t)
{
	loop_timer_free(t->flush);
	job_clear(&t->job);
	dt_sessions_free(t);
	if (t->token != NULL)
		explicit_bzero(t->token, strlen(t->token));
	free(t->token);
}
