/* Answer building blocks (see answer.h). */
#include "answer.h"

#include "campaign/caldate.h"
#include "campaign/markup.h"

void
answer_text(struct buf *b, const char *text)
{
	markup_escape(b, text);
}

void
answer_unit(struct buf *b, const struct plan *plan, size_t unit)
{
	markup_escape(b, plan->units[unit].name);
}

void
answer_date(struct buf *b, const struct plan *plan, int32_t day)
{
	int y, m, d;

	caldate_to_ymd(day, &y, &m, &d);
	if (y != plan->year)
		buf_printf(b, "%d年", y);
	buf_printf(b, "%d月%d日", m, d);
}

void
answer_due(struct buf *b, const struct plan *plan, const struct plan_task *t, int32_t today,
    bool done)
{
	int32_t left;

	if (t->due == CALDATE_NONE) {
		buf_puts(b, done ? "已完成" : "无截止日期");
		return;
	}
	if (t->fuzzy)
		buf_puts(b, "约");
	answer_date(b, plan, t->due);
	left = t->due - today;
	if (done)
		buf_puts(b, "截止,已完成");
	else if (left > 1)
		buf_printf(b, "截止,还有%d天", (int)left);
	else if (left == 1)
		buf_puts(b, "截止,明天到期");
	else if (left == 0)
		buf_puts(b, "截止,今天到期");
	else
		buf_printf(b, "截止,已逾期%d天", (int)-left);
}

void
answer_cell(struct buf *b, const struct progress_cell *c)
{
	if (c->done)
		buf_puts(b, "已完成");
	else if (c->reported)
		buf_printf(b, "%d%%", c->percent);
	else
		buf_puts(b, "未汇报");
}

void
answer_task_title(struct buf *b, const struct plan_task *t)
{
	buf_puts(b, "<b>");
	markup_escape(b, t->id);
	buf_puts(b, "</b> ");
	markup_escape(b, t->title);
}

void
answer_item(struct buf *b, const struct plan *plan, const struct agenda_item *it,
    int32_t today, const struct progress_cell *cell)
{
	const struct plan_task *t = &plan->tasks[it->task];

	buf_puts(b, "• ");
	answer_task_title(b, t);
	buf_puts(b, "\n   ");
	answer_due(b, plan, t, today, it->done);
	if (!it->done && cell != NULL) {
		buf_puts(b, " · ");
		answer_cell(b, cell);
	} else if (!it->done) {
		buf_printf(b, " · 进度%d%%", it->percent);
	}
	if (it->overdue)
		buf_puts(b, " ⚠");
	buf_puts(b, "\n");
}
