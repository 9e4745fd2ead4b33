/*
 * Files sent to the DingTalk robot (issue 15). A `file` message carries a
 * downloadCode, not the file: POST /v1.0/robot/messageFiles/download with
 * it and our robotCode (with the access token) answers a short-lived
 * downloadUrl, which the host's fetcher (file_fetch.c) downloads. One at a
 * time; a refused token is renewed once; a code DingTalk refuses (expired,
 * or not this robot's) is final: the user sends the file again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/log.h"
#include "campaign/xmalloc.h"
#include "dingtalk.h"

#define CALL_TIMEOUT_MS 15000

static void
file_done(struct dingtalk *t, const char *url, const char *why, bool final)
{
	struct dt_file_job j = t->file;

	memset(&t->file, 0, sizeof(t->file));
	j.done(j.arg, url, why, final);
	free(j.code);
}

static void
url_got(void *arg, const struct http_result *r)
{
	struct dingtalk *t = arg;
	const char *url = r->status == 200 && r->body != NULL ?
	    http_json_str(r->body, "downloadUrl") : NULL;
	const char *code = dt_api_code(r);

	if (url != NULL && *url != '\0') {
		file_done(t, url, NULL, false);
		return;
	}
	if (strcmp(code, "InvalidAuthentication") == 0 && !t->file.token_renewed) {
		dt_token_drop(t);
		t->file.token_renewed = true;
		dt_token_need(t, DT_TOKEN_FILES);
		return;
	}
	log_warnx("dingtalk", "%s %.80s", r->detail, code);
	if (r->network || r->status >= 500 || r->status == 429 || r->status == 200 ||
	    strstr(code, "QpsLimit") != NULL)
		file_done(t, NULL, "钉钉下载接口暂时不可用", false);
	else
		file_done(t, NULL, "钉钉拒绝下载（下载码已过期或无效）", true);
}

void
dt_files_token_ready(struct dingtalk *t, const struct http_result *fail)
{
	char *header, *url;
	const char *headers[2];
	json_t *body;
	int rc;

	if (!t->file.active)
		return;
	if (fail != NULL) {
		file_done(t, NULL, "钉钉接口暂时不可用", false);
		return;
	}
	header = xasprintf("x-acs-dingtalk-access-token: %s", t->token);
	headers[0] = header;
	headers[1] = NULL;
	url = xasprintf("%s/v1.0/robot/messageFiles/download", t->api_url);
	body = json_pack("{s:s, s:s}", "downloadCode", t->file.code, "robotCode", t->robot_code);
	rc = http_json_post(t->file_call, "messageFiles/download", url, headers, body,
	    CALL_TIMEOUT_MS, url_got, t);
	explicit_bzero(header, strlen(header));
	free(header);
	free(url);
	json_decref(body);
	if (rc < 0)
		file_done(t, NULL, "下载失败", false);
}

int
dt_file_url(struct driver *d, const char *download_code, file_url_cb *done, void *arg)
{
	struct dingtalk *t = d->priv;

	if (t->file.active)
		return -1;
	t->file = (struct dt_file_job){ .active = true, .code = xstrdup(download_code),
		.done = done, .arg = arg };
	dt_token_need(t, DT_TOKEN_FILES);
	return 0;
}

void
dt_files_free(struct dingtalk *t)
{
	http_json_free(t->file_call);
	free(t->file.code);
	memset(&t->file, 0, sizeof(t->file));
}
