/*
 * The pieces every answer is made of, in one voice: dates ("10月17日"),
 * deadlines ("还有9天", "今天截止", "已逾期8天"), progress ("60%", "未汇报",
 * "已完成") and task headings. Output is chat markup; names and titles from
 * the plan are escaped here.
 */
#ifndef CAMPAIGN_BOT_ANSWER_H
#define CAMPAIGN_BOT_ANSWER_H

#include <stdbool.h>
#include <stdint.h>

#include "campaign/agenda.h"
#include "campaign/buf.h"
#include "campaign/plan.h"
#include "campaign/progress.h"

/* "10月17日" (with the year when it differs from the plan's). */
void answer_date(struct buf *b, const struct plan *plan, int32_t day);
/* "10月17日截止,还有9天" / "今天截止" / "已逾期8天" / "无截止日期" / "已完成". */
void answer_due(struct buf *b, const struct plan *plan, const struct plan_task *t,
    int32_t today, bool done);
/* "60%" / "未汇报" / "已完成". */
void answer_cell(struct buf *b, const struct progress_cell *c);
/* "<b>2.4</b> 启动“百企帮百村”活动". */
void answer_task_title(struct buf *b, const struct plan_task *t);
/* A list entry: "• title\n   deadline · progress\n"; cell: one unit's progress, or NULL. */
void answer_item(struct buf *b, const struct plan *plan, const struct agenda_item *it,
    int32_t today, const struct progress_cell *cell);
/* Escaped text. */
void answer_text(struct buf *b, const char *text);
/* A unit name, escaped. */
void answer_unit(struct buf *b, const struct plan *plan, size_t unit);

#endif
