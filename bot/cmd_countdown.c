/* /countdown (倒计时): days to the key date and the campaign's overall progress. */
#include "answer.h"
#include "campaign/caldate.h"
#include "campaign/snapshot.h"
#include "core.h"

static int
countdown(struct ctx *c, const char *args)
{
	const struct progress *p = ctx_progress(c);
	struct summary s;

	(void)args;
	if (p == NULL)
		return -1;
	snapshot_summary(c->plan, p, c->today, &s);
	if (s.key_date == CALDATE_NONE) {
		buf_puts(&c->out, "方案没有设定关键日期。");
	} else {
		buf_puts(&c->out, "<b>");
		answer_text(&c->out, c->plan->title);
		buf_puts(&c->out, "</b>\n关键日期 ");
		answer_date(&c->out, c->plan, s.key_date);
		if (s.days_to_key > 0)
			buf_printf(&c->out, ",还有 <b>%d</b> 天。", s.days_to_key);
		else if (s.days_to_key == 0)
			buf_puts(&c->out, ",就是今天!");
		else
			buf_printf(&c->out, ",已过去%d天。", -s.days_to_key);
	}
	buf_printf(&c->out, "\n总体进度 %d%%:%zu项任务,已完成%zu项", s.percent, s.ntasks,
	    s.ndone);
	if (s.noverdue > 0)
		buf_printf(&c->out, ",逾期%zu项", s.noverdue);
	if (s.ndue_soon > 0)
		buf_printf(&c->out, ",%d天内截止%zu项", SNAPSHOT_DUE_SOON_DAYS, s.ndue_soon);
	buf_printf(&c->out, "。\n%zu项单位责任中已有%zu项汇报。", s.npairs, s.npairs_reported);
	return 0;
}

static int
ask_countdown(struct ctx *c, const struct intent *in)
{
	(void)in;
	return countdown(c, "");
}

static const char *const countdown_words[] = { "倒计时", NULL };

const struct cmd_entry cmd_countdown_entry = {
	.name = "countdown", .words = countdown_words, .needs_plan = true,
	.usage = "/countdown", .help = "距关键日期还有几天、总体进度",
	.exec = countdown, .ask = ask_countdown,
};
