/*
 * The core's entry: one message event in, replies queued in the chat outbox.
 * It keeps the plan (reloaded when another process changed the database),
 * decides who is asking (bound unit, admin), reads the text as a command
 * (the table in cmd.c), a report or free text mapped onto a command, and
 * hands it to that command's handler in its cmd_<name>.c. Nothing here knows a
 * platform: ids are text, replies are chat markup, the driver does the rest.
 */
#include "core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "campaign/chats.h"
#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/markup.h"
#include "campaign/outbox.h"
#include "campaign/plandb.h"
#include "campaign/textnorm.h"
#include "campaign/units.h"
#include "campaign/utf8.h"
#include "campaign/xmalloc.h"

struct core {
	struct store *store;
	const struct cfg *cfg;
	struct plan *plan;
	struct taskwords *tw;
	bool stale;
};

struct core *
core_new(struct store *s, const struct cfg *cfg)
{
	struct core *c = xcalloc(1, sizeof(*c));

	c->store = s;
	c->cfg = cfg;
	c->stale = true;
	return c;
}

void
core_free(struct core *c)
{
	if (c == NULL)
		return;
	taskwords_free(c->tw);
	plan_free(c->plan);
	free(c);
}

void
core_set_cfg(struct core *c, const struct cfg *cfg)
{
	c->cfg = cfg;
}

void
core_plan_changed(struct core *c)
{
	c->stale = true;
}

static void
reload(struct core *c)
{
	char err[256];
	struct plan *plan;

	if (!c->stale)
		return;
	c->stale = false;
	if (!plandb_present(c->store)) {
		if (c->plan != NULL)
			log_warnx("core", "the plan was removed from the database");
		taskwords_free(c->tw);
		plan_free(c->plan);
		c->plan = NULL;
		c->tw = NULL;
		return;
	}
	plan = plandb_load(c->store, err, sizeof(err));
	if (plan == NULL) {
		log_warnx("core", "cannot load the plan: %s", err);
		c->stale = true;        /* try again with the next message */
		return;
	}
	if (plandb_use_zone(c->store, err, sizeof(err)) < 0)
		log_warnx("core", "%s", err);
	taskwords_free(c->tw);
	plan_free(c->plan);
	c->plan = plan;
	c->tw = taskwords_new(plan);
	log_info("core", "plan %s: %zu tasks, %zu units", plan->id, plan->ntasks, plan->nunits);
}

/* ---- helpers for the handlers ---- */

const struct progress *
ctx_progress(struct ctx *c)
{
	if (c->progress == NULL && c->plan != NULL)
		c->progress = progress_load(c->store, c->plan);
	return c->progress;
}

ssize_t
ctx_unit_index(const struct ctx *c, int64_t unit_id)
{
	if (c->plan == NULL || unit_id == 0)
		return -1;
	for (size_t i = 0; i < c->plan->nunits; i++)
		if (c->plan->units[i].id == unit_id)
			return (ssize_t)i;
	return -1;
}

ssize_t
ctx_find_unit(struct ctx *c, const char *name)
{
	struct unit_lookup lk;

	units_lookup_normalized(c->plan, name, &lk);
	switch (lk.match) {
	case UNIT_EXACT:
	case UNIT_ALIAS:
	case UNIT_SUBSTRING:
		return (ssize_t)lk.unit;
	case UNIT_AMBIGUOUS:
		buf_puts(&c->out, "“");
		answer_text(&c->out, name);
		buf_puts(&c->out, "”对应多个单位,请说得具体些:");
		break;
	case UNIT_NONE:
		buf_puts(&c->out, "没有找到单位“");
		answer_text(&c->out, name);
		buf_puts(&c->out, "”。");
		if (lk.ncandidates > 0)
			buf_puts(&c->out, "你是不是要找:");
		break;
	}
	for (size_t i = 0; i < lk.ncandidates; i++) {
		buf_puts(&c->out, i > 0 ? "、" : "");
		answer_unit(&c->out, c->plan, lk.candidates[i]);
	}
	if (lk.ncandidates > 0)
		buf_puts(&c->out, lk.match == UNIT_NONE ? "?" : "。");
	buf_puts(&c->out, "\n发 /tasks 单位名 查看单位的任务。");
	return -1;
}

/* ---- understanding ---- */

static void
hint(struct ctx *c, const char *text)
{
	char quoted[128];
	size_t cut = utf8_prefix_chars(text, 20);

	snprintf(quoted, sizeof(quoted), "%.*s%s", (int)(cut < 100 ? cut : 100), text,
	    text[cut] != '\0' ? "…" : "");
	buf_puts(&c->out, "没太明白“");
	answer_text(&c->out, quoted);
	buf_puts(&c->out, "”。可以这样问我:\n"
	    "• 市扶贫办有哪些任务\n"
	    "• 本周截止\n"
	    "• 百企帮百村进度如何\n"
	    "• 2.4 60% 已动员180家企业(汇报进度)\n"
	    "发 /help 查看全部用法。");
}

int
ctx_intent_unit(struct ctx *c, const struct intent *in, ssize_t *unit)
{
	*unit = in->unit;
	if (*unit >= 0)
		return 0;
	if (*in->rest != '\0') {
		struct unit_lookup lk;

		units_lookup_normalized(c->plan, in->rest, &lk);
		if (lk.match != UNIT_NONE && lk.match != UNIT_AMBIGUOUS) {
			*unit = (ssize_t)lk.unit;
			return 0;
		}
		if (lk.ncandidates > 0) {
			ctx_find_unit(c, in->rest);
			return -1;
		}
	}
	*unit = c->user_unit;
	return 0;
}

/* A question in words, answered by the command parse_intent mapped it to. */
static int
free_text(struct ctx *c, const char *text)
{
	struct intent in;
	int rc = 0;

	if (c->plan == NULL) {
		if (!c->group)
			buf_puts(&c->out, "还没有加载活动方案。发 /help 查看用法。");
		return 0;
	}
	parse_intent(c->plan, c->tw, text, c->today, &in);
	if (in.cmd != NULL && in.cmd->ask != NULL) {
		rc = cmd_ask(c, in.cmd, &in);
	} else if (!c->group) {         /* a group's chatter is not for us */
		struct unit_lookup lk = { .ncandidates = 0 };

		if (*in.rest != '\0')
			units_lookup_normalized(c->plan, in.rest, &lk);
		if (lk.ncandidates > 0)
			ctx_find_unit(c, in.rest);
		else
			hint(c, text);
	}
	intent_clear(&in);
	return rc;
}

/* Text sent as-is, or a progress report written without the command ("2.4 60% ..."). */
static int
understand(struct ctx *c, const char *norm)
{
	struct command cmd = { 0 };
	struct report_args ra;
	const char *why;
	int rc;

	if (cmd_parse(norm, &cmd)) {
		rc = cmd_run(c, &cmd);
		command_clear(&cmd);
		return rc;
	}
	if (c->plan != NULL && parse_report(norm, &ra, &why) == 0) {
		bool known = plan_task_get(c->plan, ra.task_id) != NULL;

		report_args_clear(&ra);
		if (known)      /* the plan is loaded: report's checks hold */
			return cmd_report_entry.exec(c, norm);
	}
	return free_text(c, norm);
}

static void
ctx_init(struct ctx *c, struct core *core, const char *platform,
    const struct chat_event *ev)
{
	memset(c, 0, sizeof(*c));
	reload(core);
	c->core = core;
	c->store = core->store;
	c->cfg = core->cfg;
	c->platform = platform;
	c->ev = ev;
	c->plan = core->plan;
	c->tw = core->tw;
	c->now = clock_now();
	c->today = clock_local_day(c->now);
	c->group = ev->chat_kind != NULL && strcmp(ev->chat_kind, CHAT_PRIVATE) != 0;
	c->user_unit = -1;
	buf_init(&c->out, OUTBOX_TEXT_MAX);
}

static void
ctx_clear(struct ctx *c)
{
	progress_free(c->progress);
	user_info_clear(&c->user);
	buf_free(&c->out);
}

static int
load_user(struct ctx *c)
{
	const struct chat_event *ev = c->ev;
	int admin;

	if (ev->user_id == NULL)
		return 0;
	if (users_get(c->store, c->platform, ev->user_id, &c->user) < 0)
		return -1;
	if (!c->user.known || (ev->user_name != NULL && (c->user.name == NULL ||
	    strcmp(c->user.name, ev->user_name) != 0))) {
		if (users_touch(c->store, c->platform, ev->user_id, ev->user_name, c->now) < 0)
			return -1;
	}
	c->user_unit = ctx_unit_index(c, c->user.unit_id);
	admin = admins_is(c->store, c->platform, ev->user_id);
	if (admin < 0)
		return -1;
	c->admin = ev->as_admin || admin == 1 || cfg_is_admin(c->cfg, c->platform, ev->user_id);
	return 0;
}

static int
enqueue_reply(struct ctx *c)
{
	struct outbox_item it = {
		.platform = c->platform,
		.chat_id = c->ev->chat_id,
		.kind = OUTBOX_REPLY,
		.reply_to = c->group ? c->ev->message_id : NULL,
		.text = buf_str(&c->out),
	};

	if (c->out.len == 0)
		return 0;
	return outbox_enqueue(c->store, &it, c->now) < 0 ? -1 : 0;
}

int
core_message(struct core *core, const char *platform, const struct chat_event *ev)
{
	struct ctx c;
	char logbuf[256];
	char *clean = NULL, *norm = NULL;
	size_t chars;
	int rc = -1;

	if (ev->kind != CHAT_EV_MESSAGE)
		return 0;
	ctx_init(&c, core, platform, ev);
	if (load_user(&c) < 0)
		goto out;
	if (ev->file_ref != NULL) {     /* issue 15: a unit's summary sent in chat */
		if (cmd_file(&c) < 0)
			goto out;
		goto reply;
	}
	if (ev->text == NULL) {
		if (!c.group)
			buf_puts(&c.out, "我只能看懂文字消息。发 /help 看看可以问什么。");
		goto reply;
	}
	clean = utf8_sanitize(ev->text, ev->text_len);
	log_debug("core", "%s chat=%s user=%s: %s", platform, ev->chat_id,
	    ev->user_id != NULL ? ev->user_id : "-", log_escape(clean, logbuf, sizeof(logbuf), 60));
	chars = utf8_chars(clean);
	if (chars > CORE_TEXT_MAX_CHARS) {
		buf_printf(&c.out, "这条消息太长了(%zu字)。请把问题或汇报控制在%d字以内,"
		    "发 /help 查看用法。", chars, CORE_TEXT_MAX_CHARS);
		goto reply;
	}
	norm = textnorm_text(clean);
	c.raw = clean;
	if (understand(&c, norm) < 0)
		goto out;
reply:
	rc = enqueue_reply(&c);
out:
	free(norm);
	free(clean);
	ctx_clear(&c);
	return rc;
}

int
core_apologize(struct core *core, const char *platform, const struct chat_event *ev)
{
	struct outbox_item it = {
		.platform = platform,
		.chat_id = ev->chat_id,
		.kind = OUTBOX_REPLY,
		.text = "抱歉,处理这条消息时出错了,请稍后再试。",
	};

	if (ev->kind != CHAT_EV_MESSAGE || ev->chat_id == NULL)
		return 0;
	return outbox_enqueue(core->store, &it, clock_now()) < 0 ? -1 : 0;
}
