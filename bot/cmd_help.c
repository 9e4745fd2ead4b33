/*
 * /start, /help (帮助) and /whoami (我是谁): what the bot does (the command
 * list comes from the table, cmd.c), and who it thinks you are.
 */
#include <stdio.h>
#include <string.h>

#include "answer.h"
#include "campaign/caldate.h"
#include "campaign/clock.h"
#include "campaign/submissions.h"
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

/*
 * How to hand in the written summary (issue 15). Files reach a bot only in
 * a private chat (DingTalk and WeCom do not deliver group files to bots).
 */
static void
summaries_help(struct ctx *c)
{
	const struct cfg *cfg = c->cfg;

	if (strcmp(c->platform, "console") == 0)
		return;
	buf_puts(&c->out, "\n报送总结材料:<b>私聊我</b>直接发送文件(群里发的文件我收不到),格式 ");
	submissions_types_list(&c->out, cfg->mail.types, cfg->mail.ntypes);
	buf_printf(&c->out, ",不超过 %lld MB", (long long)(cfg->mail.max_size / (1024 * 1024)));
	if (cfg->mail.imap_url != NULL && cfg->mail.from != NULL) {
		buf_puts(&c->out, ";也可以发邮件到 ");
		answer_text(&c->out, cfg->mail.from);
	}
	buf_puts(&c->out, "。");
}

static int
help(struct ctx *c, const char *args)
{
	if (looks_like_invite(args))
		return cmd_bind_entry.exec(c, args);
	if (c->plan != NULL) {
		buf_puts(&c->out, "我是<b>");
		answer_text(&c->out, c->plan->title);
		buf_puts(&c->out, "</b>的进度助手。");
	} else {
		buf_puts(&c->out, "我是活动方案的进度助手。");
	}
	buf_puts(&c->out, "可以这样问我:\n");
	cmd_help_list(&c->out, c->admin);
	summaries_help(c);
	return 0;
}

static int
ask_help(struct ctx *c, const struct intent *in)
{
	(void)in;
	return help(c, "");
}

static const char *const help_aliases[] = { "start", NULL };
static const char *const help_words[] = { "帮助", NULL };

const struct cmd_entry cmd_help_entry = {
	.name = "help", .aliases = help_aliases, .words = help_words,
	.exec = help, .ask = ask_help,
};

static int
whoami(struct ctx *c, const char *args)
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
	/* The form admins write in campaignctl admin add and [chat] admins. */
	answer_text(&c->out, c->platform);
	buf_puts(&c->out, ":");
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

static const char *const whoami_words[] = { "我是谁", NULL };

const struct cmd_entry cmd_whoami_entry = {
	.name = "whoami", .words = whoami_words,
	.usage = "/whoami", .help = "查看绑定情况",
	.exec = whoami,
};
