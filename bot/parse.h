/*
 * Reading what staff type beyond a command (commands: cmd.h): a progress
 * report ("2.4 60% 已动员180家企业"), or free text with a unit, an intent
 * word and task words ("市扶贫办有哪些任务", "本周截止", "百企帮百村进度如何"),
 * mapped onto the command that answers it. Input is normalized first
 * (textnorm: traditional -> simplified, full-width folded), so both scripts
 * read alike.
 */
#ifndef CAMPAIGN_BOT_PARSE_H
#define CAMPAIGN_BOT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "campaign/plan.h"

struct cmd_entry;

/* A progress report's arguments: "ID [UNIT] PCT|done [note]". */
struct report_args {
	char *task_id;
	char *unit;             /* NULL when not given */
	int percent;
	bool done;
	char *note;             /* NULL when none */
};

/* 0, or -1 with a reason (Chinese, for the user) in why. */
int parse_report(const char *args, struct report_args *out, const char **why);
void report_args_clear(struct report_args *r);
/* "60", "60%", "done", "完成": the percent and done flag; -1 if not progress. */
int parse_progress(const char *token, int *percent, bool *done, const char **rest);

#define INTENT_MAX_TASKS 6

/* What a free-text message asks. */
struct intent {
	const struct cmd_entry *cmd;    /* the command that answers it (tasks, task, due,
	                                   overdue, countdown, help); NULL: not understood */
	bool asks;              /* an intent word was present */
	bool mine;              /* "我的", "我们": the user's own unit */
	ssize_t unit;           /* unit named in the text, or -1 */
	size_t tasks[INTENT_MAX_TASKS]; /* tasks the words match, best first */
	size_t ntasks;
	int days;               /* for /due: the window asked for */
	char *rest;             /* the words left over (normalized); owned */
};

/* The plan's task titles and details in normalized form, made once per plan. */
struct taskwords;

struct taskwords *taskwords_new(const struct plan *plan);
void taskwords_free(struct taskwords *tw);

/*
 * text: the message after textnorm_text (core.c normalizes each message once);
 * today: the campaign's day (for "本周").
 */
void parse_intent(const struct plan *plan, const struct taskwords *tw, const char *text,
    int32_t today, struct intent *out);
void intent_clear(struct intent *in);
/* Tasks whose id, title or detail match words (normalized text), best first; the count. */
size_t parse_find_tasks(const struct plan *plan, const struct taskwords *tw,
    const char *words, size_t *out, size_t max);

/*
 * A group message as DingTalk and WeCom deliver it: leading spaces, and in a
 * group an @mention of the robot ("@机器人 /tasks") before what was said.
 * Borrowed: a pointer into text.
 */
const char *parse_strip_mention(const char *text, bool group);

#endif
