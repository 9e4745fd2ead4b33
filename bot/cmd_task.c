/*
 * /task ID|words (查询): one task, what and when, each responsible unit's
 * progress and the latest reports. Words find a task by its title ("百企帮百村")
 * or, for longer phrases, its detail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "campaign/caldate.h"
#include "campaign/clock.h"
#include "campaign/utf8.h"
#include "campaign/xmalloc.h"
#include "core.h"

#define HISTORY_SHOWN 3
#define DETAIL_CHARS 80

static int show(struct ctx *c, size_t task);

static int
task(struct ctx *c, const char *args)
{
	size_t found[INTENT_MAX_TASKS];
	size_t n;

	n = parse_find_tasks(c->plan, c->tw, args, found, INTENT_MAX_TASKS);
	if (n == 1)
		return show(c, found[0]);
	if (n == 0) {
		buf_puts(&c->out, "没有找到与“");
		answer_text(&c->out, args);
		buf_puts(&c->out, "”相关的任务。发 /tasks 单位名 查看单位的任务,"
		    "/due 查看近期截止的任务。");
		return 0;
	}
	buf_printf(&c->out, "找到%zu项相关任务,请发编号查看:\n", n);
	for (size_t i = 0; i < n; i++) {
		buf_puts(&c->out, "• ");
		answer_task_title(&c->out, &c->plan->tasks[found[i]]);
		buf_puts(&c->out, "\n");
	}
	return 0;
}

static void
detail(struct ctx *c, const struct plan_task *t)
{
	size_t cut;
	char *head;

	if (t->detail == NULL)
		return;
	cut = utf8_prefix_chars(t->detail, DETAIL_CHARS);
	head = xstrndup(t->detail, cut);
	buf_puts(&c->out, "内容:");
	answer_text(&c->out, head);
	buf_puts(&c->out, t->detail[cut] != '\0' ? "…\n" : "\n");
	free(head);
}

static void
history(struct ctx *c, const struct report_row *rows, size_t n)
{
	size_t from = n > HISTORY_SHOWN ? n - HISTORY_SHOWN : 0;

	if (n == 0)
		return;
	buf_puts(&c->out, "最近汇报:\n");
	for (size_t i = n; i-- > from;) {
		const struct report_row *r = &rows[i];
		char iso[CLOCK_ISO_STRLEN];

		clock_format_iso(r->at, iso);
		buf_puts(&c->out, "• ");
		answer_date(&c->out, c->plan, clock_local_day(r->at));
		buf_printf(&c->out, " %.5s ", iso + 11);
		answer_text(&c->out, r->unit);
		if (r->done)
			buf_puts(&c->out, " 完成");
		else
			buf_printf(&c->out, " %d%%", r->percent);
		if (r->note != NULL) {
			buf_puts(&c->out, "“");
			answer_text(&c->out, r->note);
			buf_puts(&c->out, "”");
		}
		buf_puts(&c->out, "(");
		answer_text(&c->out, r->user_name != NULL ? r->user_name : r->user_id);
		buf_puts(&c->out, ")\n");
	}
}

static int
show(struct ctx *c, size_t task)
{
	const struct progress *p = ctx_progress(c);
	const struct plan_task *t = &c->plan->tasks[task];
	struct report_row *rows;
	size_t nrows;
	bool done;

	if (p == NULL || progress_history(c->store, t->id, &rows, &nrows) < 0)
		return -1;
	done = progress_task_done(p, c->plan, task);
	answer_task_title(&c->out, t);
	buf_puts(&c->out, "\n时间:");
	if (t->when != NULL) {
		answer_text(&c->out, t->when);
		buf_puts(&c->out, "(");
	}
	answer_due(&c->out, c->plan, t, c->today, done);
	buf_puts(&c->out, t->when != NULL ? ")\n" : "\n");
	detail(c, t);
	buf_printf(&c->out, "总进度:%d%%%s\n", progress_task_percent(p, c->plan, task),
	    done ? ",已全部完成 🎉" : "");
	if (t->nunits > 0)
		buf_puts(&c->out, "各单位:\n");
	for (size_t i = 0; i < t->nunits; i++) {
		const struct progress_cell *cell = progress_cell(p, task, t->units[i]);

		buf_puts(&c->out, "• ");
		answer_unit(&c->out, c->plan, t->units[i]);
		buf_puts(&c->out, ":");
		answer_cell(&c->out, cell);
		if (cell->note != NULL) {
			buf_puts(&c->out, "(");
			answer_text(&c->out, cell->note);
			buf_puts(&c->out, ")");
		}
		if ((ssize_t)t->units[i] == c->user_unit)
			buf_puts(&c->out, " ← 本单位");
		buf_puts(&c->out, "\n");
	}
	if (t->nunits == 0 && t->nactors > 0) {
		buf_puts(&c->out, "承办:");
		for (size_t i = 0; i < t->nactors; i++) {
			buf_puts(&c->out, i > 0 ? "、" : "");
			answer_text(&c->out, t->actors[i]);
		}
		buf_puts(&c->out, "\n");
	}
	history(c, rows, nrows);
	report_rows_free(rows, nrows);
	return 0;
}

/* "百企帮百村进度如何": the one task the words name, or the ones they might. */
static int
ask_task(struct ctx *c, const struct intent *in)
{
	if (in->ntasks == 1)
		return show(c, in->tasks[0]);
	buf_printf(&c->out, "找到%zu项相关任务,请发编号查看,例如 /task %s:\n", in->ntasks,
	    c->plan->tasks[in->tasks[0]].id);
	for (size_t i = 0; i < in->ntasks; i++) {
		buf_puts(&c->out, "• ");
		answer_task_title(&c->out, &c->plan->tasks[in->tasks[i]]);
		buf_puts(&c->out, "\n");
	}
	return 0;
}

static const char *const task_words[] = { "查询", NULL };

const struct cmd_entry cmd_task_entry = {
	.name = "task", .words = task_words, .needs_plan = true,
	.usage_error = "请告诉我任务编号或名称,例如 /task 2.4 或 /task 百企帮百村。",
	.usage = "/task 2.4", .help = "一项任务的详情(也可以发“百企帮百村进度如何”)",
	.exec = task, .ask = ask_task,
};
