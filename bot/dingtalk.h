/*
 * The DingTalk driver's private state, shared by its receiving side
 * (driver_dingtalk.c: the stream gateway and the WebSocket) and its sending
 * side (dingtalk_send.c: session webhooks, the token, the robot APIs).
 */
#ifndef CAMPAIGN_BOT_DINGTALK_H
#define CAMPAIGN_BOT_DINGTALK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "driver.h"
#include "http_json.h"

#define DT_BATCH_MAX 20         /* staff ids per oToMessages/batchSend */

/* A conversation's reply channel, valid until expires_ms (real time). */
struct dt_session {
	char *chat_id;
	char *webhook;
	int64_t expires_ms;
};

/*
 * The one send under way: a reply through a session webhook, a group
 * message, or a batch of the same text to up to 20 staff. A batch stays
 * open (more sends of that text may join) until the next loop round.
 */
struct dt_job {
	bool active;
	bool started;           /* its call is under way: nobody joins any more */
	bool group;
	bool via_webhook;
	bool token_renewed;     /* renewed once after InvalidAuthentication already */
	bool plain;             /* text is plain (DingTalk refused the Markdown), else Markdown */
	char *text;
	size_t n;
	int64_t delivery[DT_BATCH_MAX];
	char *chat[DT_BATCH_MAX];       /* staff ids, or the one group */
};

struct ws_link;

/* Who waits for the access token (a bit each). */
enum dt_token_user {
	DT_TOKEN_SEND = 1,      /* the send job (dingtalk_send.c) */
	DT_TOKEN_FILES = 2,     /* a file's download URL (dingtalk_files.c) */
};

/* The one file download URL being asked for (messageFiles/download). */
struct dt_file_job {
	bool active;
	bool token_renewed;
	char *code;             /* the message's downloadCode */
	file_url_cb *done;
	void *arg;
};

struct dingtalk {
	struct driver drv;
	char *api_url, *client_id, *secret, *robot_code;
	int64_t silence_ms;
	int state;              /* enum dt_state in driver_dingtalk.c */
	bool ever_connected;
	int failures;
	struct http_json *open_call, *token_call, *send_call, *file_call;
	struct ws_link *link;   /* the stream connection */
	bool reconnect_now;     /* the gateway asked us to move (disconnect) */
	int64_t last_frame_ms;
	int64_t last_ping_ms;   /* our last WebSocket ping (liveness of an idle connection) */
	struct loop_timer *retry, *tick, *flush;
	char *token;
	int64_t token_expires_ms; /* monotonic */
	unsigned token_waiting; /* enum dt_token_user bits waiting for a renewal */
	struct dt_session *sessions;
	size_t nsessions;
	struct dt_job job;
	struct dt_file_job file;
	int64_t paused_until;   /* monotonic: a QPS limit pauses sends */
};

/* Helpers for both sides. */
/* The API's error code ("Forbidden.AccessDenied.QpsLimitForApi" ...), or "". */
const char *dt_api_code(const struct http_result *r);

/* Keeps a conversation's session webhook for replies. */
void dt_session_keep(struct dingtalk *t, const char *chat_id, const char *webhook,
    int64_t expires_ms);
void dt_sessions_free(struct dingtalk *t);

/*
 * The access token (dingtalk_send.c): calls the user's ready function at
 * once when the cached token is valid, else after renewing it (one renewal
 * for every user waiting); fail is the refused or failed answer, NULL when
 * t->token is good. dt_token_drop forgets a token the API refused.
 */
void dt_token_need(struct dingtalk *t, enum dt_token_user user);
void dt_token_drop(struct dingtalk *t);
void dt_send_token_ready(struct dingtalk *t, const struct http_result *fail);
void dt_files_token_ready(struct dingtalk *t, const struct http_result *fail);

/* Files sent in chat (dingtalk_files.c): driver_ops.file_url and teardown. */
int dt_file_url(struct driver *d, const char *download_code, file_url_cb *done, void *arg);
void dt_files_free(struct dingtalk *t);

/* The sending side: driver ops and its teardown. */
bool dt_can_send(struct driver *d);
int dt_send(struct driver *d, const struct chat_out *m);
bool dt_send_idle(const struct dingtalk *t);
void dt_send_init(struct dingtalk *t);
void dt_send_free(struct dingtalk *t);

#endif
