/*
 * /broadcast TEXT (广播): a campaign admin's announcement from chat, the same
 * as campaignctl broadcast: one announcement event for MQTT and a delivery
 * to every subscribed chat and every bound user, in the message's own
 * transaction. The text goes out as typed: the command's arguments are
 * normalized (traditional -> simplified, full-width folded) for reading, so
 * they are taken from the raw message instead.
 */
#include <stdlib.h>
#include <string.h>

#include "campaign/broadcast.h"
#include "campaign/log.h"
#include "campaign/utf8.h"
#include "core.h"

#define IDEOGRAPHIC_SPACE "\xe3\x80\x80"
#define FULLWIDTH_COLON "\xef\xbc\x9a"

static size_t
space_len(const char *p)
{
	if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		return 1;
	return strncmp(p, IDEOGRAPHIC_SPACE, 3) == 0 ? 3 : 0;
}

static size_t
separator_len(const char *p)
{
	size_t n = space_len(p);

	if (n > 0 || *p == ':')
		return n > 0 ? n : 1;
	return strncmp(p, FULLWIDTH_COLON, 3) == 0 ? 3 : 0;
}

/*
 * The arguments as typed, the way cmd_parse found them in the
 * normalized text: "/broadcast 明天…", "/broadcast明天…", "廣播:明天…",
 * "/廣播 明天…" (the driver already dropped a "@ourbot" suffix).
 */
static const char *
raw_args(const char *raw)
{
	const char *p = raw;
	size_t n;

	while ((n = space_len(p)) > 0)
		p += n;
	if (*p == '/' && ((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z') ||
	    (p[1] >= '0' && p[1] <= '9') || p[1] == '_')) {
		for (p++; (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_'; p++)
			;
	} else {
		if (*p == '/')
			p++;
		while (*p != '\0' && separator_len(p) == 0)
			p++;
	}
	while ((n = space_len(p)) > 0)
		p += n;
	if (*p == ':')
		p++;
	else if (strncmp(p, FULLWIDTH_COLON, 3) == 0)
		p += 3;
	return p;
}

static int
broadcast(struct ctx *c, const char *args)
{
	struct broadcast_request rq = { 0 };
	struct broadcast_sent sent;
	char err[256], *text = NULL;
	int rc = 0;

	rq.text = c->raw != NULL ? raw_args(c->raw) : args;
	if (broadcast_text_clean(rq.text, &text, err, sizeof(err)) < 0) {
		if (utf8_utf16_units(rq.text) > BROADCAST_TEXT_MAX_UNITS)
			buf_printf(&c->out, "广播内容太长了(%zu字)。一条广播要能放进一条消息,"
			    "请控制在%d字以内。", utf8_chars(rq.text), BROADCAST_TEXT_MAX_UNITS);
		else
			buf_puts(&c->out, "广播内容里有不可见的控制字符,请删掉后重新发送。");
		return 0;
	}
	rq.text = text;
	rq.platform = c->platform;
	rq.user_id = c->ev->user_id;
	if (broadcast_create(c->store, c->plan, &rq, c->now, &sent, err, sizeof(err)) < 0) {
		log_warnx("broadcast", "from %s: %s", c->platform, err);
		rc = -1;
		goto out;
	}
	log_info("broadcast", "#%lld from %s chat %s: %zu chat(s), event %lld",
	    (long long)sent.id, c->platform, c->ev->chat_id, sent.chats,
	    (long long)sent.event_id);
	buf_printf(&c->out, "📢 广播 #%lld 已发出,并发布到 MQTT。", (long long)sent.id);
	if (sent.chats > 0)
		buf_printf(&c->out, "将送达%zu个聊天(订阅的群和已绑定单位的用户),"
		    "按平台限速陆续发送。", sent.chats);
	else
		buf_puts(&c->out, "目前没有可送达的聊天(没有订阅的群,也没有绑定单位的用户)。");
	buf_puts(&c->out, "\n查看送达情况:campaignctl broadcast status ");
	buf_printf(&c->out, "%lld", (long long)sent.id);
out:
	free(text);
	return rc;
}

static const char *const broadcast_words[] = { "广播", NULL };

const struct cmd_entry cmd_broadcast_entry = {
	.name = "broadcast", .words = broadcast_words,
	.who = CMD_ADMIN, .refusal = "只有活动管理员可以发送广播。",
	.needs_plan = true,
	.no_plan = "还没有加载活动方案,暂时不能发送广播。请先运行 campaignctl plan load 方案.json。",
	.usage_error = "请写上广播内容,例如 /broadcast 明天上午9点召开推进会。",
	.usage = "/broadcast 内容", .help = "向订阅的群和已绑定单位的用户发送广播",
	.exec = broadcast,
};
