/* Reading what staff type: commands, reports, and free text in both scripts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "campaign/buf.h"
#include "campaign/caldate.h"
#include "campaign/plan.h"
#include "campaign/textnorm.h"
#include "cmd.h"
#include "parse.h"

static struct plan *seed;
static struct taskwords *tw;
static int32_t today;

static int
setup(void **state)
{
	struct plan_load_opts opts = { .today = caldate_from_ymd(2027, 10, 8) };
	char err[512];

	(void)state;
	today = opts.today;
	seed = plan_load_file(CAMPAIGN_SOURCE_DIR "/data/plans/fupinri.json", &opts, err,
	    sizeof(err));
	if (seed == NULL)
		fail_msg("%s", err);
	tw = taskwords_new(seed);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	taskwords_free(tw);
	plan_free(seed);
	textnorm_shutdown();
	return 0;
}

static void
check_command(const char *typed, const struct cmd_entry *entry, const char *args)
{
	char *norm = textnorm_text(typed);
	struct command c = { 0 };

	if (!cmd_parse(norm, &c))
		fail_msg("not a command: %s", typed);
	assert_ptr_equal(c.entry, entry);
	assert_string_equal(c.args, args);
	command_clear(&c);
	free(norm);
}

static void
commands(void **state)
{
	struct command c = { 0 };

	(void)state;
	check_command("/tasks 市扶贫办", &cmd_tasks_entry, "市扶贫办");
	check_command("  /TASKS  ", &cmd_tasks_entry, "");
	check_command("/tasks@campaign_test_bot 宣传部", &cmd_tasks_entry, "宣传部");
	check_command("任务 市扶贫办", &cmd_tasks_entry, "市扶贫办");
	check_command("任務 市扶貧辦", &cmd_tasks_entry, "市扶贫办");      /* traditional */
	check_command("查詢 百企幫百村", &cmd_task_entry, "百企帮百村");
	check_command("汇报:2.4 60", &cmd_report_entry, "2.4 60");
	check_command("取消订阅", &cmd_unsubscribe_entry, "");
	check_command("訂閱", &cmd_subscribe_entry, "");
	check_command("倒計時", &cmd_countdown_entry, "");
	check_command("／ｈｅｌｐ", &cmd_help_entry, "");                  /* full-width */
	check_command("/whatever x", NULL, "x");
	check_command("/绑定 ABCDE-FGHJK", &cmd_bind_entry, "ABCDE-FGHJK");
	/* A command word glued to more text is free text, not a command. */
	assert_false(cmd_parse("任务怎么样", &c));
	assert_false(cmd_parse("市扶贫办有哪些任务", &c));
}

static void
reports(void **state)
{
	struct report_args r;
	const char *why;

	(void)state;
	assert_int_equal(parse_report("2.4 60% 已动员180家企业", &r, &why), 0);
	assert_string_equal(r.task_id, "2.4");
	assert_null(r.unit);
	assert_int_equal(r.percent, 60);
	assert_false(r.done);
	assert_string_equal(r.note, "已动员180家企业");
	report_args_clear(&r);

	assert_int_equal(parse_report("2.1 done", &r, &why), 0);
	assert_true(r.done);
	assert_int_equal(r.percent, 100);
	assert_null(r.note);
	report_args_clear(&r);

	assert_int_equal(parse_report("2.1 完成,已发表", &r, &why), 0);
	assert_true(r.done);
	assert_string_equal(r.note, "已发表");
	report_args_clear(&r);

	assert_int_equal(parse_report("2.4 市扶贫办 100", &r, &why), 0);
	assert_string_equal(r.unit, "市扶贫办");
	assert_true(r.done);
	report_args_clear(&r);

	assert_int_equal(parse_report("2.4 60%已动员", &r, &why), 0);
	assert_string_equal(r.note, "已动员");
	report_args_clear(&r);

	assert_int_equal(parse_report("2.4 150", &r, &why), -1);
	assert_non_null(strstr(why, "0到100"));
	assert_int_equal(parse_report("2.4", &r, &why), -1);
	assert_int_equal(parse_report("百企 60", &r, &why), -1);
	assert_int_equal(parse_report("2.4 60.5", &r, &why), -1);
}

static void
check_intent(const char *typed, const struct cmd_entry *cmd, const char *unit,
    const char *task)
{
	struct intent in;
	char *text = textnorm_text(typed);   /* as core.c hands messages over */

	parse_intent(seed, tw, text, today, &in);
	free(text);
	if (in.cmd != cmd)
		fail_msg("\"%s\": answered by %s, expected %s", typed,
		    in.cmd != NULL ? in.cmd->name : "nothing", cmd != NULL ? cmd->name : "nothing");
	if (unit == NULL) {
		assert_true(in.unit < 0);
	} else {
		assert_true(in.unit >= 0);
		assert_string_equal(seed->units[in.unit].name, unit);
	}
	if (task != NULL) {
		assert_int_equal(in.ntasks, 1);
		assert_string_equal(seed->tasks[in.tasks[0]].id, task);
	}
	intent_clear(&in);
}

static void
free_text(void **state)
{
	struct intent in;

	(void)state;
	check_intent("市扶贫办有哪些任务", &cmd_tasks_entry, "市扶贫办", NULL);
	check_intent("市扶貧辦有哪些任務?", &cmd_tasks_entry, "市扶贫办", NULL);
	check_intent("扶贫办要做什么", &cmd_tasks_entry, "市扶贫办", NULL);
	check_intent("本周截止", &cmd_due_entry, NULL, NULL);
	check_intent("宣传部本周到期的", &cmd_due_entry, "市委宣传部", NULL);
	check_intent("有哪些逾期的", &cmd_overdue_entry, NULL, NULL);
	check_intent("超期任务", &cmd_overdue_entry, NULL, NULL);
	check_intent("百企帮百村进度如何", &cmd_task_entry, NULL, "2.4");
	check_intent("百企幫百村進度怎麼樣", &cmd_task_entry, NULL, "2.4");
	check_intent("2.4怎么样了", &cmd_task_entry, NULL, "2.4");
	check_intent("扶贫功臣评选情况", &cmd_task_entry, NULL, "2.3");
	check_intent("还有几天", &cmd_countdown_entry, NULL, NULL);
	check_intent("倒计时", &cmd_countdown_entry, NULL, NULL);
	check_intent("今天天气不错", NULL, NULL, NULL);
	/* 2027-10-08 is a Friday: "this week" ends in two days. */
	parse_intent(seed, tw, "本周截止", today, &in);
	assert_int_equal(in.days, 2);
	intent_clear(&in);
	parse_intent(seed, tw, "3天内截止", today, &in);
	assert_int_equal(in.days, 3);
	intent_clear(&in);
	parse_intent(seed, tw, "我们的任务", today, &in);
	assert_true(in.mine);
	intent_clear(&in);
}

static void
find_tasks(void **state)
{
	size_t found[INTENT_MAX_TASKS];

	(void)state;
	assert_int_equal(parse_find_tasks(seed, tw, "2.4", found, INTENT_MAX_TASKS), 1);
	assert_int_equal(parse_find_tasks(seed, tw, "百企帮百村", found, INTENT_MAX_TASKS), 1);
	assert_string_equal(seed->tasks[found[0]].id, "2.4");
	assert_int_equal(parse_find_tasks(seed, tw, "电视讲话", found, INTENT_MAX_TASKS), 1);
	assert_string_equal(seed->tasks[found[0]].id, "2.2");
	/* "发表" is in two titles: both come back. */
	assert_int_equal(parse_find_tasks(seed, tw, "发表", found, INTENT_MAX_TASKS), 2);
	assert_int_equal(parse_find_tasks(seed, tw, "火星探测", found, INTENT_MAX_TASKS), 0);
}

static const struct cmd_entry *const every_entry[] = {
	&cmd_help_entry, &cmd_tasks_entry, &cmd_task_entry, &cmd_due_entry,
	&cmd_overdue_entry, &cmd_countdown_entry, &cmd_report_entry, &cmd_bind_entry,
	&cmd_whoami_entry, &cmd_subscribe_entry, &cmd_unsubscribe_entry,
	&cmd_broadcast_entry,
};

/* Reads typed (after textnorm, as core.c does) and expects entry e with args "x". */
static void
reads_as(const char *typed, const struct cmd_entry *e)
{
	char *norm = textnorm_text(typed);
	struct command c = { 0 };

	if (!cmd_parse(norm, &c))
		fail_msg("%s: not read as a command", typed);
	if (c.entry != e)
		fail_msg("%s: read as %s, declared by %s", typed,
		    c.entry != NULL ? c.entry->name : "unknown", e->name);
	assert_string_equal(c.args, "x");
	command_clear(&c);
	free(norm);
}

/* Every name and word a command declares reaches it, and /help shows what it should. */
static void
command_table(void **state)
{
	struct buf user, admin;
	char line[256];

	(void)state;
	buf_init(&user, 1 << 16);
	buf_init(&admin, 1 << 16);
	cmd_help_list(&user, false);
	cmd_help_list(&admin, true);
	for (size_t i = 0; i < sizeof(every_entry) / sizeof(every_entry[0]); i++) {
		const struct cmd_entry *e = every_entry[i];

		snprintf(line, sizeof(line), "/%s x", e->name);
		reads_as(line, e);
		snprintf(line, sizeof(line), "/%s@campaign_test_bot x", e->name);
		reads_as(line, e);
		for (size_t j = 0; e->aliases != NULL && e->aliases[j] != NULL; j++) {
			snprintf(line, sizeof(line), "/%s x", e->aliases[j]);
			reads_as(line, e);
		}
		assert_non_null(e->words);
		for (size_t j = 0; e->words[j] != NULL; j++) {
			snprintf(line, sizeof(line), "%s x", e->words[j]);
			reads_as(line, e);
			snprintf(line, sizeof(line), "/%s x", e->words[j]);
			reads_as(line, e);
		}
		/* A refusal for whoever may not use it; a help line with its usage. */
		if (e->who != CMD_ANYONE)
			assert_non_null(e->refusal);
		assert_true((e->usage == NULL) == (e->help == NULL));
		if (e->usage == NULL)
			continue;
		snprintf(line, sizeof(line), "%s — %s", e->usage, e->help);
		assert_non_null(strstr(buf_str(&admin), line));
		/* Admin-only commands are listed to admins only. */
		if (e->who == CMD_ADMIN)
			assert_null(strstr(buf_str(&user), e->usage));
		else
			assert_non_null(strstr(buf_str(&user), line));
	}
	assert_null(strstr(buf_str(&user), "/broadcast"));
	assert_non_null(strstr(buf_str(&admin), "/broadcast 内容"));
	buf_free(&user);
	buf_free(&admin);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(commands),
		cmocka_unit_test(command_table),
		cmocka_unit_test(reports),
		cmocka_unit_test(free_text),
		cmocka_unit_test(find_tasks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
