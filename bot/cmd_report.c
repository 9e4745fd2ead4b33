/*
 * /report ID PCT|done [note] (汇报), also written without the command
 * ("2.4 60% 已动员180家企业"): a bound user of a responsible unit records
 * progress; admins may name the unit ("/report 2.4 市扶贫办 60"). The report,
 * the task state and the progress event commit with the message's other
 * effects; the source key (platform, chat, message) makes a replayed update
 * a no-op, so a crash never records a report twice.
 */
#include <stdio.h>
#include <string.h>

#include "answer.h"
#include "campaign/log.h"
#include "campaign/utf8.h"
#include "core.h"

static void
responsible_units(struct ctx *c, const struct plan_task *t)
{
	for (size_t i = 0; i < t->nunits; i++) {
		buf_puts(&c->out, i > 0 ? "、" : "");
		answer_unit(&c->out, c->plan, t->units[i]);
	}
	if (t->nunits == 0)
		buf_puts(&c->out, "方案未列出");
}

/* Who may report, and for which unit; -1 with the refusal written. */
static ssize_t
reporting_unit(struct ctx *c, const struct report_args *ra)
{
	ssize_t unit;

	if (ra->unit != NULL) {
		unit = ctx_find_unit(c, ra->unit);
		if (unit < 0)
			return -1;
		if (!c->admin && unit != c->user_unit) {
			buf_puts(&c->out, "只有活动管理员可以替其他单位汇报。请用 /report ");
			answer_text(&c->out, ra->task_id);
			buf_puts(&c->out, " 进度 汇报本单位的进度。");
			return -1;
		}
		return unit;
	}
	if (c->user_unit >= 0)
		return c->user_unit;
	if (c->admin) {
		buf_puts(&c->out, "你还没有绑定单位。管理员替单位汇报请写成 /report ");
		answer_text(&c->out, ra->task_id);
		buf_puts(&c->out, " 单位名 进度,例如 /report 2.4 市扶贫办 60%。");
	} else {
		buf_puts(&c->out, "只有绑定了单位的用户才能汇报进度。请向活动办公室索取邀请码,"
		    "然后发送 /bind 邀请码。");
	}
	return -1;
}

static void
confirm(struct ctx *c, const struct plan_task *t, size_t task, size_t unit,
    const struct report_args *ra, bool duplicate)
{
	const struct progress *p = ctx_progress(c);
	const struct progress_cell *cell;
	bool done;

	buf_puts(&c->out, duplicate ? "这条汇报已经记录过了:" : "✅ 已记录 ");
	answer_task_title(&c->out, t);
	buf_puts(&c->out, "\n");
	if (p == NULL)
		return;
	cell = progress_cell(p, task, unit);
	answer_unit(&c->out, c->plan, unit);
	buf_puts(&c->out, ":");
	answer_cell(&c->out, cell);
	if (ra->note != NULL && !duplicate) {
		buf_puts(&c->out, "(");
		answer_text(&c->out, ra->note);
		buf_puts(&c->out, ")");
	}
	done = progress_task_done(p, c->plan, task);
	buf_printf(&c->out, "\n任务总进度 %d%% · ", progress_task_percent(p, c->plan, task));
	answer_due(&c->out, c->plan, t, c->today, done);
	if (done)
		buf_puts(&c->out, "\n🎉 各负责单位都已完成这项任务。");
}

static int
report(struct ctx *c, const char *args)
{
	const struct chat_event *ev = c->ev;
	struct report_args ra;
	struct report_input in = { 0 };
	const struct plan_task *t;
	enum report_result r;
	char key[256], err[256], logbuf[64];
	const char *why;
	ssize_t unit, task = -1;
	int rc = 0;

	if (parse_report(args, &ra, &why) < 0) {
		buf_puts(&c->out, why);
		return 0;
	}
	t = plan_task_get(c->plan, ra.task_id);
	if (t == NULL) {
		buf_puts(&c->out, "没有编号为 ");
		answer_text(&c->out, ra.task_id);
		buf_puts(&c->out, " 的任务。发 /tasks 查看本单位的任务编号。");
		goto out;
	}
	task = t - c->plan->tasks;
	if ((unit = reporting_unit(c, &ra)) < 0)
		goto out;
	if (!plan_task_has_unit(t, (size_t)unit)) {
		answer_unit(&c->out, c->plan, (size_t)unit);
		buf_puts(&c->out, " 不是任务 ");
		answer_text(&c->out, t->id);
		buf_puts(&c->out, " 的负责单位(负责单位:");
		responsible_units(c, t);
		buf_puts(&c->out, "),不能汇报这项任务。");
		goto out;
	}
	if (ra.note != NULL && utf8_chars(ra.note) > PROGRESS_NOTE_MAX_CHARS) {
		buf_printf(&c->out, "说明太长了,请控制在%d字以内。", PROGRESS_NOTE_MAX_CHARS);
		goto out;
	}
	if (ev->message_id != NULL)
		snprintf(key, sizeof(key), "%s:%s:%s", c->platform, ev->chat_id, ev->message_id);
	else if (ev->event_id != NULL)
		snprintf(key, sizeof(key), "%s:event:%s", c->platform, ev->event_id);
	in = (struct report_input){
		.task_id = t->id, .unit = (size_t)unit, .percent = ra.percent, .done = ra.done,
		.note = ra.note, .platform = c->platform, .user_id = ev->user_id,
		.user_name = ev->user_name, .at = c->now,
		.source_key = ev->message_id != NULL || ev->event_id != NULL ? key : NULL,
	};
	r = progress_report(c->store, c->plan, &in, NULL, err, sizeof(err));
	switch (r) {
	case REPORT_RECORDED:
	case REPORT_DUPLICATE:
		log_info("report", "%s %s %s %d%s by %s:%s%s", t->id,
		    c->plan->units[unit].name, ra.done ? "done" : "progress", ra.percent,
		    ra.done ? "" : "%", c->platform,
		    log_escape(ev->user_id, logbuf, sizeof(logbuf), 40),
		    r == REPORT_DUPLICATE ? " (duplicate)" : "");
		/* Our own write: the progress read before it is stale. */
		progress_free(c->progress);
		c->progress = NULL;
		confirm(c, t, (size_t)task, (size_t)unit, &ra, r == REPORT_DUPLICATE);
		break;
	case REPORT_INVALID:
		buf_puts(&c->out, "无法记录:");
		answer_text(&c->out, err);
		break;
	case REPORT_ERROR:
		rc = -1;
		break;
	}
out:
	report_args_clear(&ra);
	return rc;
}

static const char *const report_words[] = { "汇报", NULL };

/*
 * Anyone may try: who may report depends on the unit (the user's own, or
 * any unit for an admin), which only the arguments tell (reporting_unit).
 */
const struct cmd_entry cmd_report_entry = {
	.name = "report", .words = report_words, .needs_plan = true,
	.usage = "/report 2.4 60% 说明", .help = "汇报本单位进度(完成写 done)",
	.admin_usage = "/report 2.4 单位名 60% 可替任一单位汇报",
	.exec = report,
};
