/*
 * Lists: /tasks [unit] (任务), /due [days] (截止), /overdue (逾期). Soonest
 * first (agenda.h, the same order campaignctl prints); a bound user's own
 * unit comes first in /due.
 */
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "campaign/agenda.h"
#include "campaign/caldate.h"
#include "campaign/num.h"
#include "campaign/xmalloc.h"
#include "core.h"

static int tasks_of(struct ctx *c, ssize_t unit);
static int due_within(struct ctx *c, int days, ssize_t unit);
static int overdue_of(struct ctx *c, ssize_t unit);

static int
tasks(struct ctx *c, const char *args)
{
	ssize_t unit;

	if (*args != '\0') {
		unit = ctx_find_unit(c, args);
		return unit < 0 ? 0 : tasks_of(c, unit);
	}
	if (c->user_unit >= 0)
		return tasks_of(c, c->user_unit);
	buf_puts(&c->out, "请告诉我是哪个单位,例如 /tasks 市扶贫办。\n"
	    "用 /bind 邀请码 绑定单位后,直接发 /tasks 就能看本单位的任务。");
	return 0;
}

static int
tasks_of(struct ctx *c, ssize_t unit)
{
	const struct progress *p = ctx_progress(c);
	struct agenda_filter f;
	struct agenda_item *items;
	size_t n, ndone = 0, nover = 0;

	if (p == NULL)
		return -1;
	agenda_filter_init(&f);
	f.unit = unit;
	n = agenda_select(c->plan, p, c->today, &f, &items);
	buf_puts(&c->out, "<b>");
	answer_unit(&c->out, c->plan, (size_t)unit);
	buf_puts(&c->out, "</b>");
	if (n == 0) {
		buf_puts(&c->out, " 在方案中没有负责的任务。");
		free(items);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		ndone += items[i].done;
		nover += items[i].overdue;
	}
	buf_printf(&c->out, " 的任务(%zu项", n);
	if (ndone > 0)
		buf_printf(&c->out, ",已完成%zu项", ndone);
	if (nover > 0)
		buf_printf(&c->out, ",逾期%zu项", nover);
	buf_puts(&c->out, "):\n");
	for (size_t i = 0; i < n; i++)
		answer_item(&c->out, c->plan, &items[i], c->today,
		    progress_cell(p, items[i].task, (size_t)unit));
	buf_puts(&c->out, "发 /task 编号 查看详情,/report 编号 进度 汇报。");
	free(items);
	return 0;
}

static int
due(struct ctx *c, const char *args)
{
	int days = 7;

	if (*args != '\0') {
		char digits[8];
		size_t n = strspn(args, "0123456789");

		/* "7", "7天", "7 days" */
		if (n == 0 || n >= sizeof(digits)) {
			buf_puts(&c->out, "请写天数,例如 /due 7(默认7天)。");
			return 0;
		}
		memcpy(digits, args, n);
		digits[n] = '\0';
		if (num_parse_int(digits, 0, 366, &days) < 0) {
			buf_puts(&c->out, "天数请在0到366之间,例如 /due 7。");
			return 0;
		}
	}
	return due_within(c, days, -1);
}

/* Moves the items of unit to the front, keeping the order otherwise. */
static void
mine_first(struct ctx *c, struct agenda_item *items, size_t n, ssize_t unit)
{
	struct agenda_item *tmp = xcalloc(n + 1, sizeof(*tmp));
	size_t k = 0;

	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++)
			if (plan_task_has_unit(&c->plan->tasks[items[i].task], (size_t)unit) ==
			    (pass == 0))
				tmp[k++] = items[i];
	memcpy(items, tmp, n * sizeof(*items));
	free(tmp);
}

/* Selects for one unit (or all, unit < 0) and opens the answer with the unit's name. */
static size_t
select_for_unit(struct ctx *c, const struct progress *p, struct agenda_filter *f,
    ssize_t unit, struct agenda_item **items)
{
	f->unit = unit;
	if (unit >= 0) {
		buf_puts(&c->out, "<b>");
		answer_unit(&c->out, c->plan, (size_t)unit);
		buf_puts(&c->out, "</b> ");
	}
	return agenda_select(c->plan, p, c->today, f, items);
}

static int
due_within(struct ctx *c, int days, ssize_t unit)
{
	const struct progress *p = ctx_progress(c);
	struct agenda_filter f;
	struct agenda_item *items;
	size_t n;

	if (p == NULL)
		return -1;
	agenda_filter_init(&f);
	f.due_within = days;
	f.hide_done = true;
	n = select_for_unit(c, p, &f, unit, &items);
	if (days == 0)
		buf_puts(&c->out, "今天截止的任务");
	else
		buf_printf(&c->out, "%d天内截止的任务", days);
	if (n == 0) {
		buf_puts(&c->out, ":没有。");
		free(items);
		/* Say what comes next, so the answer is still useful. */
		agenda_filter_init(&f);
		f.hide_done = true;
		f.unit = unit;
		n = agenda_select(c->plan, p, c->today, &f, &items);
		for (size_t i = 0; i < n; i++) {
			if (items[i].days_left != AGENDA_NO_DUE && items[i].days_left > days) {
				buf_puts(&c->out, "\n下一个截止:\n");
				answer_item(&c->out, c->plan, &items[i], c->today, NULL);
				break;
			}
		}
		free(items);
		return 0;
	}
	buf_printf(&c->out, "(%zu项):\n", n);
	if (unit < 0 && c->user_unit >= 0)
		mine_first(c, items, n, c->user_unit);
	for (size_t i = 0; i < n; i++) {
		answer_item(&c->out, c->plan, &items[i], c->today, unit >= 0 ?
		    progress_cell(p, items[i].task, (size_t)unit) : NULL);
		if (unit < 0 && c->user_unit >= 0 &&
		    plan_task_has_unit(&c->plan->tasks[items[i].task], (size_t)c->user_unit)) {
			const struct progress_cell *cell = progress_cell(p, items[i].task,
			    (size_t)c->user_unit);

			buf_puts(&c->out, "   本单位:");
			answer_cell(&c->out, cell);
			buf_puts(&c->out, "\n");
		}
	}
	free(items);
	return 0;
}

static int
overdue(struct ctx *c, const char *args)
{
	ssize_t unit = -1;

	if (*args != '\0' && (unit = ctx_find_unit(c, args)) < 0)
		return 0;
	return overdue_of(c, unit);
}

static int
overdue_of(struct ctx *c, ssize_t unit)
{
	const struct progress *p = ctx_progress(c);
	struct agenda_filter f;
	struct agenda_item *items;
	size_t n;

	if (p == NULL)
		return -1;
	agenda_filter_init(&f);
	f.overdue = true;
	n = select_for_unit(c, p, &f, unit, &items);
	if (n == 0) {
		buf_puts(&c->out, "目前没有逾期的任务。");
		free(items);
		return 0;
	}
	buf_printf(&c->out, "已逾期的任务(%zu项):\n", n);
	for (size_t i = 0; i < n; i++) {
		const struct plan_task *t = &c->plan->tasks[items[i].task];
		bool first = true;

		answer_item(&c->out, c->plan, &items[i], c->today, NULL);
		for (size_t u = 0; u < t->nunits; u++) {
			const struct progress_cell *cell = progress_cell(p, items[i].task,
			    t->units[u]);

			if (cell->done)
				continue;
			buf_puts(&c->out, first ? "   未完成:" : "、");
			first = false;
			answer_unit(&c->out, c->plan, t->units[u]);
			buf_puts(&c->out, "(");
			answer_cell(&c->out, cell);
			buf_puts(&c->out, ")");
		}
		if (!first)
			buf_puts(&c->out, "\n");
	}
	free(items);
	return 0;
}

/* ---- free text: "市扶贫办有哪些任务", "本周截止", "有哪些逾期的" ---- */

static int
ask_tasks(struct ctx *c, const struct intent *in)
{
	ssize_t unit;

	if (ctx_intent_unit(c, in, &unit) < 0)
		return 0;
	return unit >= 0 ? tasks_of(c, unit) : tasks(c, "");
}

static int
ask_due(struct ctx *c, const struct intent *in)
{
	ssize_t unit;

	if (ctx_intent_unit(c, in, &unit) < 0)
		return 0;
	return due_within(c, in->days, in->unit >= 0 || in->mine ? unit : -1);
}

static int
ask_overdue(struct ctx *c, const struct intent *in)
{
	ssize_t unit;

	if (ctx_intent_unit(c, in, &unit) < 0)
		return 0;
	return overdue_of(c, in->unit >= 0 || in->mine ? unit : -1);
}

static const char *const tasks_words[] = { "任务", NULL };
static const char *const due_words[] = { "截止", NULL };
static const char *const overdue_words[] = { "逾期", NULL };

const struct cmd_entry cmd_tasks_entry = {
	.name = "tasks", .words = tasks_words, .needs_plan = true,
	.usage = "/tasks 市扶贫办", .help = "单位的任务和进度",
	.exec = tasks, .ask = ask_tasks,
};

const struct cmd_entry cmd_due_entry = {
	.name = "due", .words = due_words, .needs_plan = true,
	.usage = "/due 7", .help = "7天内截止的任务",
	.exec = due, .ask = ask_due,
};

const struct cmd_entry cmd_overdue_entry = {
	.name = "overdue", .words = overdue_words, .needs_plan = true,
	.usage = "/overdue", .help = "已逾期的任务",
	.exec = overdue, .ask = ask_overdue,
};
