/*
 * The bulletin's content, from the store as of a day: overall progress and
 * the days to the key date, each task with its units' progress, who is
 * overdue or has not reported, the written summaries received and missing,
 * and the latest announcements. See bulletin.h.
 */
#include "bulletin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/buf.h"
#include "campaign/caldate.h"
#include "campaign/clock.h"
#include "campaign/progress.h"
#include "campaign/snapshot.h"
#include "campaign/submissions.h"
#include "campaign/xmalloc.h"

#define TEXT_MAX (256 * 1024)
#define ANNOUNCEMENTS 3

static const double task_widths[] = { 0.08, 0.30, 0.14, 0.34, 0.14 };

static struct bulletin_block *
add(struct bulletin *b, enum bulletin_kind kind, char *text)
{
	struct bulletin_block *blk;

	b->blocks = xreallocarray(b->blocks, b->n + 1, sizeof(*b->blocks));
	blk = &b->blocks[b->n++];
	memset(blk, 0, sizeof(*blk));
	blk->kind = kind;
	blk->text = text;
	return blk;
}

static char *
md(int32_t day)
{
	int y, m, d;

	caldate_to_ymd(day, &y, &m, &d);
	return xasprintf("%d月%d日", m, d);
}

static char *
ymd(int32_t day)
{
	int y, m, d;

	caldate_to_ymd(day, &y, &m, &d);
	return xasprintf("%d年%d月%d日", y, m, d);
}

/* Progress as of the end of day: the last report of each (task, unit) before it. */
static struct progress *
progress_as_of(struct store *s, const struct plan *plan, time_t end)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT task_id, unit_id, percent, done, at "
	    "FROM reports WHERE at < ?1 ORDER BY id");
	struct progress *p;

	if (st == NULL)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->ntasks = plan->ntasks;
	p->nunits = plan->nunits;
	p->cells = xcalloc(plan->ntasks * plan->nunits + 1, sizeof(*p->cells));
	sqlite3_bind_int64(st, 1, (int64_t)end);
	while (sqlite3_step(st) == SQLITE_ROW) {
		ssize_t t = plan_task_index(plan, (const char *)sqlite3_column_text(st, 0));
		ssize_t u = plan_unit_index_id(plan, sqlite3_column_int64(st, 1));
		struct progress_cell *c;

		if (t < 0 || u < 0)
			continue;
		c = &p->cells[(size_t)t * plan->nunits + (size_t)u];
		c->reported = true;
		c->done = sqlite3_column_int(st, 3) != 0;
		c->percent = c->done ? 100 : sqlite3_column_int(st, 2);
		c->at = (time_t)sqlite3_column_int64(st, 4);
	}
	sqlite3_reset(st);
	return p;
}

static void
units_cell(const struct plan *plan, const struct progress *p, size_t ti, struct buf *out)
{
	const struct plan_task *t = &plan->tasks[ti];

	if (t->nunits == 0) {
		for (size_t i = 0; i < t->nactors; i++)
			buf_printf(out, "%s%s", i > 0 ? "、" : "", t->actors[i]);
		if (t->nactors == 0)
			buf_puts(out, "-");
		return;
	}
	for (size_t i = 0; i < t->nunits; i++) {
		const struct progress_cell *c = progress_cell(p, ti, t->units[i]);

		buf_printf(out, "%s%s ", i > 0 ? "；" : "", plan->units[t->units[i]].name);
		if (c->done)
			buf_puts(out, "已完成");
		else if (c->reported)
			buf_printf(out, "%d%%", c->percent);
		else
			buf_puts(out, "未报告");
	}
}

static char *
status_text(const struct plan *plan, const struct progress *p, size_t ti, int32_t day)
{
	const struct plan_task *t = &plan->tasks[ti];

	if (t->nunits > 0 && progress_task_done(p, plan, ti))
		return xstrdup("已完成");
	if (t->due != CALDATE_NONE && t->due < day)
		return xasprintf("逾期%d天", (int)(day - t->due));
	if (t->start != CALDATE_NONE && t->start > day)
		return xstrdup("未开始");
	if (t->nunits == 0)
		return xstrdup("进行中");
	return xasprintf("进行中 %d%%", progress_task_percent(p, plan, ti));
}

static void
task_table(struct bulletin *b, const struct plan *plan, const struct progress *p, int32_t day)
{
	static const char *const head[] = { "序号", "任务", "完成时限", "责任单位及进度",
		"状态" };
	struct bulletin_block *blk = add(b, BULLETIN_TABLE, NULL);

	blk->ncols = 5;
	blk->widths = task_widths;
	blk->nrows = plan->ntasks + 1;
	blk->cells = xcalloc(blk->nrows, sizeof(*blk->cells));
	blk->cells[0] = xcalloc(blk->ncols, sizeof(char *));
	for (size_t c = 0; c < blk->ncols; c++)
		blk->cells[0][c] = xstrdup(head[c]);
	for (size_t i = 0; i < plan->ntasks; i++) {
		const struct plan_task *t = &plan->tasks[i];
		char **row = blk->cells[i + 1] = xcalloc(blk->ncols, sizeof(char *));
		struct buf units;

		buf_init(&units, TEXT_MAX);
		units_cell(plan, p, i, &units);
		row[0] = xstrdup(t->id);
		row[1] = xstrdup(t->title);
		row[2] = t->due != CALDATE_NONE ? md(t->due) :
		    xstrdup(t->when != NULL ? t->when : "-");
		row[3] = buf_steal(&units);
		row[4] = status_text(plan, p, i, day);
		buf_free(&units);
	}
}

/* 二: overdue tasks and units that have not reported on a started task. */
static void
laggards(struct bulletin *b, const struct plan *plan, const struct progress *p, int32_t day)
{
	struct buf over, silent;

	buf_init(&over, TEXT_MAX);
	buf_init(&silent, TEXT_MAX);
	for (size_t i = 0; i < plan->ntasks; i++) {
		const struct plan_task *t = &plan->tasks[i];
		bool started = t->start == CALDATE_NONE || t->start <= day;
		bool overdue = t->due != CALDATE_NONE && t->due < day && t->nunits > 0 &&
		    !progress_task_done(p, plan, i);
		size_t listed = 0;

		if (overdue) {
			char *due = md(t->due);

			buf_printf(&over, "%s%s“%s”（应于%s完成）：", over.len > 0 ? "；" : "",
			    t->id, t->title, due);
			free(due);
			for (size_t k = 0; k < t->nunits; k++) {
				const struct progress_cell *c = progress_cell(p, i, t->units[k]);

				if (c->done)
					continue;
				buf_printf(&over, "%s%s%s", listed++ > 0 ? "、" : "",
				    plan->units[t->units[k]].name, c->reported ? "" : "（未报告）");
				if (c->reported)
					buf_printf(&over, "（%d%%）", c->percent);
			}
		}
		if (!started || overdue)
			continue;
		for (size_t k = 0; k < t->nunits; k++) {
			if (progress_cell(p, i, t->units[k])->reported)
				continue;
			buf_printf(&silent, "%s%s（%s）", silent.len > 0 ? "、" : "",
			    plan->units[t->units[k]].name, t->id);
		}
	}
	add(b, BULLETIN_PARA, over.len > 0 ? xasprintf("逾期未完成的任务：%s。", buf_str(&over)) :
	    xstrdup("截至目前，没有逾期未完成的任务。"));
	if (silent.len > 0)
		add(b, BULLETIN_PARA, xasprintf("以下单位尚未报告已开始任务的进度：%s。请抓紧报告。",
		    buf_str(&silent)));
	buf_free(&over);
	buf_free(&silent);
}

/* 三: the written summaries received and missing, as of the end of day. */
static int
summaries(struct bulletin *b, struct store *s, const struct plan *plan, time_t end)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT 1 FROM submissions WHERE task_id = ?1 "
	    "AND unit_id = ?2 AND received_at < ?3 LIMIT 1");
	bool any = false;

	if (st == NULL)
		return -1;
	for (size_t i = 0; i < plan->ntasks; i++) {
		const struct plan_task *t = &plan->tasks[i];
		struct buf got, missing;
		size_t ngot = 0, nmissing = 0;
		char *due;

		if (t->deliverable == NULL)
			continue;
		any = true;
		buf_init(&got, TEXT_MAX);
		buf_init(&missing, TEXT_MAX);
		for (size_t u = 0; u < plan->nunits; u++) {
			int rc;

			if (!submissions_owed(plan, t, u))
				continue;
			sqlite3_bind_text(st, 1, t->id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, plan->units[u].id);
			sqlite3_bind_int64(st, 3, (int64_t)end);
			rc = sqlite3_step(st);
			sqlite3_reset(st);
			if (rc == SQLITE_ROW)
				buf_printf(&got, "%s%s", ngot++ > 0 ? "、" : "", plan->units[u].name);
			else
				buf_printf(&missing, "%s%s", nmissing++ > 0 ? "、" : "",
				    plan->units[u].name);
		}
		due = t->due != CALDATE_NONE ? md(t->due) : xstrdup("规定时间");
		add(b, BULLETIN_PARA, xasprintf("%s（任务%s，%s前报送）：已报送%zu个单位%s%s；"
		    "尚未报送%zu个单位%s%s。", t->deliverable, t->id, due, ngot,
		    ngot > 0 ? "，" : "", buf_str(&got), nmissing, nmissing > 0 ? "，" : "",
		    buf_str(&missing)));
		free(due);
		buf_free(&got);
		buf_free(&missing);
	}
	if (!any)
		add(b, BULLETIN_PARA, xstrdup("本方案未要求报送书面材料。"));
	return 0;
}

/* 四: the latest announcements before the end of day. */
static int
announcements(struct bulletin *b, struct store *s, time_t end)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT text, created_at FROM broadcasts "
	    "WHERE created_at < ?1 ORDER BY id DESC LIMIT ?2");
	size_t n = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)end);
	sqlite3_bind_int(st, 2, ANNOUNCEMENTS);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char *when = md(clock_local_day((time_t)sqlite3_column_int64(st, 1)));

		add(b, BULLETIN_PARA, xasprintf("%s：%s", when,
		    (const char *)sqlite3_column_text(st, 0)));
		free(when);
		n++;
	}
	sqlite3_reset(st);
	if (n == 0)
		add(b, BULLETIN_PARA, xstrdup("本期没有新的通知。"));
	return 0;
}

/* Width in body characters: ASCII is half as wide as CJK. */
static double
width_chars(const char *s)
{
	double w = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x80)
			w += 0.5;
		else if ((*p & 0xC0) != 0x80)
			w += 1;
	return w;
}

static char *
title_of(const struct plan *plan)
{
	size_t len = strlen(plan->title);
	const char *suffix = "方案";

	if (len > strlen(suffix) && strcmp(plan->title + len - strlen(suffix), suffix) == 0)
		len -= strlen(suffix);
	return xasprintf("关于%.*s进展情况的通报", (int)len, plan->title);
}

static const char *
office_of(const struct plan *plan)
{
	for (size_t i = 0; i < plan->ntasks; i++)
		if (plan->tasks[i].nreport_to > 0)
			return plan->tasks[i].report_to[0];
	return "活动领导小组办公室";
}

static void
overview(struct bulletin *b, const struct plan *plan, const struct progress *p, int32_t day,
    struct store *s)
{
	struct summary sum;
	struct buf t;
	char *date = ymd(day);
	size_t submitted = 0, owed = 0;

	snapshot_summary(plan, p, day, &sum);
	buf_init(&t, TEXT_MAX);
	buf_printf(&t, "截至%s，", date);
	if (plan->key_date != CALDATE_NONE && sum.days_to_key > 0) {
		char *key = md(plan->key_date);

		buf_printf(&t, "距%s还有%d天。", key, sum.days_to_key);
		free(key);
	} else if (plan->key_date != CALDATE_NONE && sum.days_to_key == 0) {
		buf_puts(&t, "今天是活动日。");
	}
	buf_printf(&t, "方案%zu项任务中，已完成%zu项，总体进度%d%%；逾期未完成%zu项，"
	    "7天内到期%zu项。%zu个单位责任中，已有%zu个报告了进度。", sum.ntasks, sum.ndone,
	    sum.percent, sum.noverdue, sum.ndue_soon, sum.npairs, sum.npairs_reported);
	if (submissions_count(s, plan, &submitted, &owed) == 0 && owed > 0)
		buf_printf(&t, "书面总结应报%zu份，已收到%zu份。", owed, submitted);
	buf_puts(&t, "现将有关情况通报如下。");
	add(b, BULLETIN_PARA, buf_steal(&t));
	buf_init(&t, TEXT_MAX);
	buf_printf(&t, "%s（%s）：总体进度%d%%，已完成%zu/%zu项，逾期%zu项", plan->title, date,
	    sum.percent, sum.ndone, sum.ntasks, sum.noverdue);
	if (owed > 0)
		buf_printf(&t, "，书面总结%zu/%zu", submitted, owed);
	buf_puts(&t, "。");
	b->plain = buf_steal(&t);
	buf_free(&t);
	free(date);
}

struct bulletin *
bulletin_build(struct store *s, const struct plan *plan, int32_t day, char *err,
    size_t errlen)
{
	struct bulletin *b = xcalloc(1, sizeof(*b));
	time_t end = clock_local_time(day + 1, 0);
	struct progress *p = progress_as_of(s, plan, end);
	int y, m, d;

	if (p == NULL) {
		snprintf(err, errlen, "cannot read progress: %s", store_errmsg(s));
		bulletin_free(b);
		return NULL;
	}
	caldate_to_ymd(day, &y, &m, &d);
	add(b, BULLETIN_NUMBER, xasprintf("×××〔%d〕×号", y));
	add(b, BULLETIN_TITLE, title_of(plan));
	add(b, BULLETIN_ADDRESSEE, xstrdup("各地、各部门："));
	overview(b, plan, p, day, s);
	add(b, BULLETIN_HEADING, xstrdup("一、各项任务进展"));
	task_table(b, plan, p, day);
	add(b, BULLETIN_HEADING, xstrdup("二、逾期和未报告情况"));
	laggards(b, plan, p, day);
	add(b, BULLETIN_HEADING, xstrdup("三、书面总结报送情况"));
	if (summaries(b, s, plan, end) < 0)
		goto fail;
	add(b, BULLETIN_HEADING, xstrdup("四、近期通知"));
	if (announcements(b, s, end) < 0)
		goto fail;
	/* 成文日期 右空四字; 发文机关署名 centred over it */
	{
		char *date = ymd(day);
		double over = 4 + (width_chars(date) - width_chars(office_of(plan))) / 2;

		add(b, BULLETIN_SIGNER, xstrdup(office_of(plan)))->right_chars = over > 0 ? over :
		    0;
		add(b, BULLETIN_DATE, date)->right_chars = 4;
	}
	progress_free(p);
	return b;
fail:
	snprintf(err, errlen, "cannot read the store: %s", store_errmsg(s));
	progress_free(p);
	bulletin_free(b);
	return NULL;
}

void
bulletin_free(struct bulletin *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++) {
		struct bulletin_block *blk = &b->blocks[i];

		free(blk->text);
		for (size_t r = 0; r < blk->nrows; r++) {
			for (size_t c = 0; c < blk->ncols; c++)
				free(blk->cells[r][c]);
			free(blk->cells[r]);
		}
		free(blk->cells);
	}
	free(b->blocks);
	free(b->plain);
	free(b);
}
