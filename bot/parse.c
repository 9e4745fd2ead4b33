/*
 * Report and free-text reading (see parse.h; commands are read in cmd.c).
 * Everything works on normalized text: reports on textnorm_text (spaces
 * kept, so arguments separate), free text on textnorm_name (no spaces, lowercase), where unit
 * names, intent words and task titles are compared as substrings and, for
 * task words, as character bigrams (Chinese has no word boundaries).
 */
#include "parse.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/buf.h"
#include "campaign/caldate.h"
#include "campaign/num.h"
#include "campaign/textnorm.h"
#include "campaign/units.h"
#include "campaign/utf8.h"
#include "campaign/xmalloc.h"
#include "cmd.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *
skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* The text after a word: separators skipped, trailing space trimmed. */
static char *
args_after(const char *p)
{
	size_t len;

	p = skip_space(p);
	if (strncmp(p, ":", 1) == 0)
		p = skip_space(p + 1);
	else if (strncmp(p, "：", strlen("：")) == 0)
		p = skip_space(p + strlen("："));
	len = strlen(p);
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\n' || p[len - 1] == '\t' ||
	    p[len - 1] == '\r'))
		len--;
	return xstrndup(p, len);
}

/* ---- progress reports ---- */

static const char *const done_words[] = { "done", "已完成", "完成", "完毕", "已办结", "办结" };

int
parse_progress(const char *token, int *percent, bool *done, const char **rest)
{
	char digits[4];
	size_t n = 0;
	int value;

	for (size_t i = 0; i < NELEM(done_words); i++) {
		size_t len = strlen(done_words[i]);

		if (strncasecmp(token, done_words[i], len) == 0) {
			*percent = 100;
			*done = true;
			*rest = token + len;
			return 0;
		}
	}
	while (isdigit((unsigned char)token[n])) {
		if (n == sizeof(digits) - 1)
			return -1;
		digits[n] = token[n];
		n++;
	}
	if (n == 0)
		return -1;
	digits[n] = '\0';
	if (num_parse_int(digits, 0, 100, &value) < 0)
		return -1;
	/* "60%", and nothing glued on that reads as part of a number ("60.5"). */
	if (token[n] == '%')
		n++;
	else if (token[n] == '.' || isalpha((unsigned char)token[n]))
		return -1;
	*percent = value;
	*done = value == 100;
	*rest = token + n;
	return 0;
}

/* Copies the next whitespace-separated token; returns where it ended. */
static const char *
next_token(const char *p, char *tok, size_t toklen)
{
	size_t n = 0;

	p = skip_space(p);
	while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
		if (n + 1 < toklen)
			tok[n++] = *p;
		p++;
	}
	tok[n] = '\0';
	return p;
}

static bool
looks_like_task_id(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > PLAN_TASK_ID_MAX || !isdigit((unsigned char)s[0]))
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '.')
			return false;
	return true;
}

/* The note: what follows the progress, without leading separators. */
static char *
note_from(const char *glued, const char *after)
{
	struct buf b;
	const char *seps[] = { ",", "，", "、", ":", "：", ";", "；", "。", "-" };
	char *note;

	buf_init(&b, 64 * 1024);
	buf_puts(&b, glued);
	buf_puts(&b, after);
	note = args_after(buf_str(&b));
	buf_free(&b);
	for (bool again = true; again;) {
		again = false;
		for (size_t i = 0; i < NELEM(seps); i++) {
			size_t n = strlen(seps[i]);

			if (strncmp(note, seps[i], n) == 0) {
				char *tail = args_after(note + n);

				free(note);
				note = tail;
				again = true;
			}
		}
	}
	if (*note == '\0') {
		free(note);
		return NULL;
	}
	return note;
}

int
parse_report(const char *args, struct report_args *out, const char **why)
{
	char tok[256];
	const char *p, *rest;

	memset(out, 0, sizeof(*out));
	*why = "请这样汇报:/report 任务编号 进度 [说明],例如 /report 2.4 60% 已动员180家企业,"
	    "完成了就写 /report 2.4 done";
	p = next_token(args, tok, sizeof(tok));
	if (!looks_like_task_id(tok))
		return -1;
	out->task_id = xstrdup(tok);
	p = next_token(p, tok, sizeof(tok));
	if (*tok == '\0')
		goto fail;
	if (parse_progress(tok, &out->percent, &out->done, &rest) < 0) {
		if (isdigit((unsigned char)tok[0])) {
			*why = "进度请写0到100之间的数(例如 60 或 60%),完成了写 done。";
			goto fail;
		}
		/* "ID UNIT PCT": an admin reporting for a unit. */
		out->unit = xstrdup(tok);
		p = next_token(p, tok, sizeof(tok));
		if (*tok == '\0' || parse_progress(tok, &out->percent, &out->done, &rest) < 0) {
			if (isdigit((unsigned char)tok[0]))
				*why = "进度请写0到100之间的数(例如 60 或 60%),完成了写 done。";
			goto fail;
		}
	}
	out->note = note_from(rest, p);
	return 0;
fail:
	report_args_clear(out);
	return -1;
}

void
report_args_clear(struct report_args *r)
{
	free(r->task_id);
	free(r->unit);
	free(r->note);
	memset(r, 0, sizeof(*r));
}

/* ---- free text ---- */

struct taskwords {
	size_t n;
	char **title;           /* textnorm_name of each title */
	char **detail;          /* ... and detail ("" when none) */
};

struct taskwords *
taskwords_new(const struct plan *plan)
{
	struct taskwords *tw = xcalloc(1, sizeof(*tw));

	tw->n = plan->ntasks;
	tw->title = xcalloc(tw->n + 1, sizeof(*tw->title));
	tw->detail = xcalloc(tw->n + 1, sizeof(*tw->detail));
	for (size_t i = 0; i < tw->n; i++) {
		tw->title[i] = textnorm_name(plan->tasks[i].title);
		tw->detail[i] = textnorm_name(plan->tasks[i].detail != NULL ?
		    plan->tasks[i].detail : "");
	}
	return tw;
}

void
taskwords_free(struct taskwords *tw)
{
	if (tw == NULL)
		return;
	for (size_t i = 0; i < tw->n; i++) {
		free(tw->title[i]);
		free(tw->detail[i]);
	}
	free(tw->title);
	free(tw->detail);
	free(tw);
}

enum intent_word { IW_TASKS, IW_DUE, IW_OVERDUE, IW_PROGRESS, IW_COUNTDOWN, IW_HELP, IW_N };

/* Intent words in normalized form (simplified, no spaces, lowercase). */
static const struct {
	const char *word;
	enum intent_word what;
} intent_words[] = {
	{ "要做什么", IW_TASKS }, { "做什么", IW_TASKS }, { "干什么", IW_TASKS },
	{ "任务", IW_TASKS }, { "有哪些", IW_TASKS }, { "有什么", IW_TASKS },
	{ "事项", IW_TASKS }, { "工作", IW_TASKS }, { "tasks", IW_TASKS },
	{ "截止", IW_DUE }, { "到期", IW_DUE }, { "本周", IW_DUE }, { "这周", IW_DUE },
	{ "本星期", IW_DUE }, { "这星期", IW_DUE }, { "下周", IW_DUE }, { "近期", IW_DUE },
	{ "快到期", IW_DUE }, { "deadline", IW_DUE }, { "due", IW_DUE },
	{ "逾期", IW_OVERDUE }, { "超期", IW_OVERDUE }, { "过期", IW_OVERDUE },
	{ "拖期", IW_OVERDUE }, { "延误", IW_OVERDUE }, { "overdue", IW_OVERDUE },
	{ "进度", IW_PROGRESS }, { "怎么样", IW_PROGRESS }, { "如何", IW_PROGRESS },
	{ "进展", IW_PROGRESS }, { "情况", IW_PROGRESS }, { "progress", IW_PROGRESS },
	{ "倒计时", IW_COUNTDOWN }, { "还有几天", IW_COUNTDOWN }, { "还剩几天", IW_COUNTDOWN },
	{ "多少天", IW_COUNTDOWN }, { "几天", IW_COUNTDOWN }, { "countdown", IW_COUNTDOWN },
	{ "帮助", IW_HELP }, { "怎么用", IW_HELP }, { "help", IW_HELP }, { "用法", IW_HELP },
	{ "你好", IW_HELP }, { "您好", IW_HELP }, { "hello", IW_HELP },
};

/* Words that carry no meaning for the search, dropped from the leftover. */
static const char *const fillers[] = {
	"请问", "请", "帮我", "一下", "告诉我", "看看", "查查", "查", "现在", "目前",
	"我们单位", "本单位", "我单位", "我们", "我的", "我", "单位", "的", "了", "吗",
	"呢", "啊", "吧", "都", "是", "有", "哪些", "什么", "还", "要", "在", "?", "!", ",",
	"。", "、", ".", ":", ";", "~", "…",
};

static const char *const mine_words[] = { "我们", "我的", "本单位", "我单位" };

/* Removes every occurrence of word from s (in place). */
static void
remove_all(char *s, const char *word)
{
	size_t n = strlen(word);
	char *hit;

	if (n == 0)
		return;
	while ((hit = strstr(s, word)) != NULL)
		memmove(hit, hit + n, strlen(hit + n) + 1);
}

/* Days of a due window named in the text: 本周, 下周, 今天, 明天, "3天". */
static int
window_days(const char *norm, int32_t today)
{
	int weekday = caldate_weekday(today);

	if (strstr(norm, "下周") != NULL)
		return 14 - weekday;
	if (strstr(norm, "本周") != NULL || strstr(norm, "这周") != NULL ||
	    strstr(norm, "星期") != NULL)
		return 7 - weekday;
	if (strstr(norm, "今天") != NULL)
		return 0;
	if (strstr(norm, "明天") != NULL)
		return 1;
	for (const char *p = norm; *p != '\0'; p++) {
		if (isdigit((unsigned char)*p) && (p == norm || !isdigit((unsigned char)p[-1]))) {
			char digits[4];
			size_t n = 0;
			int days;

			while (isdigit((unsigned char)p[n]) && n < 3) {
				digits[n] = p[n];
				n++;
			}
			digits[n] = '\0';
			if (strncmp(p + n, "天", strlen("天")) == 0 &&
			    num_parse_int(digits, 0, 366, &days) == 0)
				return days;
		}
	}
	return 7;
}

/* A task id written in the text ("2.4", "任务2.4"), as an index; -1 if none. */
static ssize_t
task_id_in(const struct plan *plan, const char *norm)
{
	for (const char *p = norm; *p != '\0'; p++) {
		const char *end = p;

		if (!isdigit((unsigned char)*p) || (p > norm && (isdigit((unsigned char)p[-1]) ||
		    p[-1] == '.')))
			continue;
		while (isdigit((unsigned char)*end) || (*end == '.' &&
		    isdigit((unsigned char)end[1])))
			end++;
		if (memchr(p, '.', (size_t)(end - p)) == NULL)
			continue;
		for (size_t i = 0; i < plan->ntasks; i++)
			if (strlen(plan->tasks[i].id) == (size_t)(end - p) &&
			    strncmp(plan->tasks[i].id, p, (size_t)(end - p)) == 0)
				return (ssize_t)i;
	}
	return -1;
}

/* Share of the query's character bigrams found in text. */
static double
containment(const uint32_t *q, size_t nq, const char *text)
{
	uint32_t *t;
	size_t nt = utf8_decode_all(text, &t), hits = 0;

	for (size_t i = 0; i + 1 < nq; i++) {
		for (size_t j = 0; j + 1 < nt; j++) {
			if (q[i] == t[j] && q[i + 1] == t[j + 1]) {
				hits++;
				break;
			}
		}
	}
	free(t);
	return nq < 2 ? 0 : (double)hits / (double)(nq - 1);
}

static double
task_score(const struct taskwords *tw, size_t i, const char *q, const uint32_t *qcp,
    size_t nq)
{
	double c;

	if (nq >= 2 && strstr(tw->title[i], q) != NULL)
		return 1.0;
	if (*tw->title[i] != '\0' && strstr(q, tw->title[i]) != NULL)
		return 0.95;
	if (nq >= 4 && strstr(tw->detail[i], q) != NULL)
		return 0.8;
	c = containment(qcp, nq, tw->title[i]);
	return nq >= 3 && c >= 0.6 ? 0.7 * c : 0;
}

static size_t
find_norm(const struct plan *plan, const struct taskwords *tw, const char *q, size_t *out,
    size_t max)
{
	double scores[INTENT_MAX_TASKS], best = 0;
	uint32_t *qcp;
	size_t nq = utf8_decode_all(q, &qcp), n = 0;

	if (max > INTENT_MAX_TASKS)
		max = INTENT_MAX_TASKS;
	for (size_t i = 0; i < plan->ntasks && i < tw->n; i++) {
		double s = task_score(tw, i, q, qcp, nq);
		size_t pos;

		if (s <= 0 || s < best - 0.05)
			continue;
		if (s > best + 0.05) {
			/* A clearly better match: drop the weaker ones. */
			size_t k = 0;

			for (size_t j = 0; j < n; j++)
				if (scores[j] >= s - 0.05) {
					scores[k] = scores[j];
					out[k++] = out[j];
				}
			n = k;
		}
		if (s > best)
			best = s;
		pos = n;
		while (pos > 0 && scores[pos - 1] < s)
			pos--;
		if (pos >= max)
			continue;
		if (n < max)
			n++;
		for (size_t k = n - 1; k > pos; k--) {
			scores[k] = scores[k - 1];
			out[k] = out[k - 1];
		}
		scores[pos] = s;
		out[pos] = i;
	}
	free(qcp);
	return n;
}

size_t
parse_find_tasks(const struct plan *plan, const struct taskwords *tw, const char *words,
    size_t *out, size_t max)
{
	char *norm = textnorm_name_of_text(words);
	ssize_t id = task_id_in(plan, norm);
	size_t n;

	if (id >= 0 && max > 0) {
		out[0] = (size_t)id;
		free(norm);
		return 1;
	}
	for (size_t i = 0; i < NELEM(fillers); i++)
		remove_all(norm, fillers[i]);
	n = *norm != '\0' ? find_norm(plan, tw, norm, out, max) : 0;
	free(norm);
	return n;
}

void
parse_intent(const struct plan *plan, const struct taskwords *tw, const char *text,
    int32_t today, struct intent *out)
{
	char *norm = textnorm_name_of_text(text), *rest;
	bool has[IW_N] = { false };
	size_t at, len;
	ssize_t id;

	memset(out, 0, sizeof(*out));
	out->cmd = NULL;
	out->unit = units_in_text(plan, norm, &at, &len);
	rest = xstrdup(norm);
	if (out->unit >= 0)
		memmove(rest + at, rest + at + len, strlen(rest + at + len) + 1);
	for (size_t i = 0; i < NELEM(mine_words); i++)
		if (strstr(rest, mine_words[i]) != NULL)
			out->mine = true;
	for (size_t i = 0; i < NELEM(intent_words); i++) {
		if (strstr(rest, intent_words[i].word) != NULL) {
			has[intent_words[i].what] = true;
			out->asks = true;
			remove_all(rest, intent_words[i].word);
		}
	}
	out->days = window_days(norm, today);
	remove_all(rest, "今天");
	remove_all(rest, "明天");
	for (size_t i = 0; i < NELEM(fillers); i++)
		remove_all(rest, fillers[i]);
	id = task_id_in(plan, norm);
	if (id >= 0) {
		out->tasks[0] = (size_t)id;
		out->ntasks = 1;
	} else if (*rest != '\0') {
		out->ntasks = find_norm(plan, tw, rest, out->tasks, INTENT_MAX_TASKS);
	}
	if (out->ntasks > 0)
		out->cmd = &cmd_task_entry;
	else if (has[IW_OVERDUE])
		out->cmd = &cmd_overdue_entry;
	else if (has[IW_DUE])
		out->cmd = &cmd_due_entry;
	else if (out->unit >= 0)
		out->cmd = &cmd_tasks_entry;
	else if (has[IW_COUNTDOWN])
		out->cmd = &cmd_countdown_entry;
	else if (has[IW_TASKS] || has[IW_PROGRESS])
		out->cmd = &cmd_tasks_entry;
	else if (has[IW_HELP])
		out->cmd = &cmd_help_entry;
	out->rest = rest;
	free(norm);
}

void
intent_clear(struct intent *in)
{
	free(in->rest);
	memset(in, 0, sizeof(*in));
}

const char *
parse_strip_mention(const char *text, bool group)
{
	while (*text == ' ' || *text == '\t' || *text == '\n')
		text++;
	if (group && *text == '@') {
		while (*text != '\0' && *text != ' ' && *text != '\t' && *text != '\n')
			text++;
		while (*text == ' ' || *text == '\t' || *text == '\n')
			text++;
	}
	return text;
}
