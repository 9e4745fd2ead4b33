/*
 * /bind CODE (绑定): redeems a one-time invite and binds the user to its
 * unit. Failed attempts are counted per user in the store (lib/bindlock.c),
 * so nobody can guess codes by the thousand, restart or not (they are 50-bit
 * random anyway).
 */
#include <string.h>
#include <time.h>

#include "answer.h"
#include "campaign/bindlock.h"
#include "campaign/invites.h"
#include "campaign/log.h"
#include "core.h"

static int
redeem(struct ctx *c, const char *args)
{
	const struct chat_event *ev = c->ev;
	enum invite_result r;
	int64_t unit_id = 0;
	ssize_t unit;
	char logbuf[64];

	if (ev->user_id == NULL) {
		buf_puts(&c->out, "无法识别发送者,不能绑定。");
		return 0;
	}
	if (bindlock_limited(c->store, c->platform, ev->user_id, time(NULL))) {
		buf_puts(&c->out, "邀请码错误次数太多,请10分钟后再试。");
		return 0;
	}
	r = invites_redeem(c->store, args, c->platform, ev->user_id, ev->user_name, c->now,
	    &unit_id);
	switch (r) {
	case INVITE_BOUND:
		unit = ctx_unit_index(c, unit_id);
		log_info("bind", "%s user %s bound to unit %lld", c->platform,
		    log_escape(ev->user_id, logbuf, sizeof(logbuf), 40), (long long)unit_id);
		buf_puts(&c->out, "✅ 已绑定到 <b>");
		if (unit >= 0)
			answer_unit(&c->out, c->plan, (size_t)unit);
		else
			buf_puts(&c->out, "你的单位");
		buf_puts(&c->out, "</b>。\n现在可以:\n• /tasks 查看本单位的任务\n"
		    "• /report 2.4 60% 说明 汇报进度");
		if (c->user.unit_name != NULL && c->user.unit_id != unit_id) {
			buf_puts(&c->out, "\n(原来绑定的是 ");
			answer_text(&c->out, c->user.unit_name);
			buf_puts(&c->out, ")");
		}
		c->user_unit = unit;
		c->user.unit_id = unit_id;
		return 0;
	case INVITE_UNKNOWN:
		bindlock_failed(c->store, c->platform, ev->user_id, time(NULL));
		buf_puts(&c->out, "邀请码不对,请检查后重试(邀请码形如 ABCDE-FGHJK)。");
		return 0;
	case INVITE_USED:
		bindlock_failed(c->store, c->platform, ev->user_id, time(NULL));
		buf_puts(&c->out, "这个邀请码已经用过了。每个邀请码只能用一次,"
		    "请向活动办公室索取新的。");
		return 0;
	case INVITE_EXPIRED:
		bindlock_failed(c->store, c->platform, ev->user_id, time(NULL));
		buf_puts(&c->out, "这个邀请码已过期,请向活动办公室索取新的。");
		return 0;
	case INVITE_ERROR:
		break;
	}
	return -1;
}

static const char *const bind_words[] = { "绑定", NULL };

const struct cmd_entry cmd_bind_entry = {
	.name = "bind", .words = bind_words,
	.usage_error = "请发送 /bind 邀请码,例如 /bind ABCDE-FGHJK。"
	    "邀请码由活动办公室发放,每个只能用一次。",
	.usage = "/bind 邀请码", .help = "绑定到你的单位",
	.exec = redeem,
};
