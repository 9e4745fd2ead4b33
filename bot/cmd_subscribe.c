/*
 * /subscribe, /unsubscribe (订阅, 取消订阅): whether this chat receives
 * broadcasts and reminders; bound users and admins may switch it.
 */
#include <string.h>

#include "campaign/chats.h"
#include "core.h"

static int
set(struct ctx *c, bool on)
{
	const char *where = c->group ? "本群" : "你";

	if (chats_set_subscribed(c->store, c->platform, c->ev->chat_id, on, c->now) < 0)
		return -1;
	if (on)
		buf_printf(&c->out, "✅ %s已订阅活动广播和截止提醒。发 /unsubscribe 可取消。", where);
	else
		buf_printf(&c->out, "%s已取消订阅,不再接收活动广播。发 /subscribe 可重新订阅。",
		    where);
	return 0;
}

static int
subscribe(struct ctx *c, const char *args)
{
	(void)args;
	return set(c, true);
}

static int
unsubscribe(struct ctx *c, const char *args)
{
	(void)args;
	return set(c, false);
}

#define SUBSCRIBE_REFUSAL "只有绑定了单位的用户或活动管理员可以设置订阅。请先发送 /bind 邀请码。"

static const char *const subscribe_words[] = { "订阅", NULL };
static const char *const unsubscribe_words[] = { "取消订阅", "退订", NULL };

const struct cmd_entry cmd_subscribe_entry = {
	.name = "subscribe", .words = subscribe_words,
	.who = CMD_BOUND_OR_ADMIN, .refusal = SUBSCRIBE_REFUSAL,
	.usage = "/subscribe", .help = "接收活动广播和截止提醒",
	.exec = subscribe,
};

const struct cmd_entry cmd_unsubscribe_entry = {
	.name = "unsubscribe", .words = unsubscribe_words,
	.who = CMD_BOUND_OR_ADMIN, .refusal = SUBSCRIBE_REFUSAL,
	.exec = unsubscribe,
};
