/* /start, /help (帮助) and /whoami: what the bot does, and who it thinks you are. */
#include <stdio.h>
#include <string.h>

#include "answer.h"
#include "campaign/caldate.h"
#include "campaign/clock.h"
#include "core.h"

/* A Telegram deep link (t.me/bot?start=CODE) arrives as "/start CODE". */
static bool
looks_like_invite(const char *s)
{
	size_t n = 0;

	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '-')
			continue;
		if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= 'a' && *p <= 'z')))
			return false;
		n++;
	}
	return n == 10;
}

int
cmd_help(struct ctx *c, const char *args)
{
	if (looks_like_invite(args))
		return cmd_bind(c, args);
	if (c->plan != NULL) {
		buf_puts(&c->out, "我是<b>");
		answer_text(&c->out, c->plan->title);
		buf_puts(&c->out, "</b>的进度助手。");
	} else {
		buf_puts(&c->out, "我是活动方案的进度助手。");
	}
	buf_puts(&c->out, "可以这样问我:\n"
	    "/tasks 市扶贫办 — 单位的任务和进度\n"
	    "/task 2.4 — 一项任务的详情(也可以发“百企帮百村进度如何”)\n"
	    "/due 7 — 7天内截止的任务\n"
	    "/overdue — 已逾期的任务\n"
	    "/countdown — 距关键日期还有几天、总体进度\n"
	    "/report 2.4 60% 说明 — 汇报本单位进度(完成写 done)\n"
	    "/bind 邀请码 — 绑定到你的单位\n"
	    "/whoami — 查看绑定情况\n"
	    "/subscribe — 接收活动广播和截止提醒\n"
	    "中文也行:帮助、绑定、任务、查询、截止、逾期、汇报、倒计时、订阅,"
	    "或直接问“本周截止”“市扶贫办有哪些任务”。");
	if (c->admin)
		buf_puts(&c->out, "\n管理员:/report 2.4 单位名 60% 可替任一单位汇报;"
		    "/broadcast 内容 — 向订阅的群和已绑定单位的用户发送广播。");
	return 0;
}

int
cmd_whoami(struct ctx *c, const char *args)
{
	const struct chat_event *ev = c->ev;

	(void)args;
	if (ev->user_id == NULL) {
		buf_puts(&c->out, "无法识别发送者。");
		return 0;
	}
	buf_puts(&c->out, "你是 ");
	if (ev->user_name != NULL) {
		answer_text(&c->out, ev->user_name);
		buf_puts(&c->out, "(");
	}
	answer_text(&c->out, c->platform);
	buf_puts(&c->out, " 用户 ");
	answer_text(&c->out, ev->user_id);
	buf_puts(&c->out, ev->user_name != NULL ? ")\n" : "\n");
	if (c->user.unit_name != NULL) {
		buf_puts(&c->out, "单位:<b>");
		answer_text(&c->out, c->user.unit_name);
		buf_puts(&c->out, "</b>");
		if (c->user.bound_at > 0 && c->plan != NULL) {
			buf_puts(&c->out, "(");
			answer_date(&c->out, c->plan, clock_local_day(c->user.bound_at));
			buf_puts(&c->out, "绑定)");
		}
		buf_puts(&c->out, "\n可以用 /report 汇报本单位的进度。");
	} else {
		buf_puts(&c->out, "单位:未绑定。向活动办公室索取邀请码,然后发 /bind 邀请码。");
	}
	if (c->admin)
		buf_puts(&c->out, "\n身份:活动管理员");
	return 0;
}
