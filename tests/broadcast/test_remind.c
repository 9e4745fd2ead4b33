/*
 * The reminder runner stepped through the seed campaign on a real store, the
 * way the bot's scheduler calls it: exactly the expected messages at each
 * step, to the right chats (a unit's staff, one list per task for subscribed
 * chats, the digest for admins), once each across double ticks, a second
 * daemon, a restart, quiet hours and a clock moved backwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "campaign/caldate.h"
#include "campaign/channels.h"
#include "campaign/chats.h"
#include "campaign/clock.h"
#include "campaign/events.h"
#include "campaign/plandb.h"
#include "campaign/progress.h"
#include "campaign/remind.h"
#include "campaign/textnorm.h"
#include "campaign/users.h"
#include "campaign/xmalloc.h"
#include "seeddb.h"

struct fixture {
	struct seeddb *db;
	struct cfg *cfg;
	int64_t seen;           /* deliveries read so far */
};

static time_t
local(int m, int d, int hh, int mm)
{
	return clock_local_time(caldate_from_ymd(2027, m, d), hh * 60 + mm);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	f->db = seeddb_new(caldate_from_ymd(2027, 9, 1), local(9, 1, 9, 0));
	f->cfg = cfg_load(NULL, err, sizeof(err));
	assert_non_null(f->cfg);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	cfg_free(f->cfg);
	seeddb_free(f->db);
	free(f);
	textnorm_shutdown();
	return 0;
}

static int64_t
unit_id(struct fixture *f, const char *name)
{
	return f->db->plan->units[seeddb_unit(f->db, name)].id;
}

static int64_t
count(struct fixture *f, const char *sql)
{
	sqlite3_stmt *st = store_stmt(f->db->store, sql);
	int64_t n = -1;

	assert_non_null(st);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

/*
 * 101 works at 市扶贫办 and also subscribed its private chat; 102 at 相关单位;
 * -500 is the office's subscribed group; 900 is an admin.
 */
static void
people(struct fixture *f)
{
	assert_int_equal(users_bind(f->db->store, "telegram", "101", NULL, unit_id(f, "市扶贫办"), 1),
	    0);
	assert_int_equal(chats_seen(f->db->store, "telegram", "101", CHAT_PRIVATE, NULL, "101",
	    false, 1), 0);
	assert_int_equal(chats_set_subscribed(f->db->store, "telegram", "101", true, 1), 0);
	assert_int_equal(users_bind(f->db->store, "telegram", "102", NULL, unit_id(f, "相关单位"), 1),
	    0);
	assert_int_equal(chats_seen(f->db->store, "telegram", "102", CHAT_PRIVATE, NULL, "102",
	    false, 1), 0);
	assert_int_equal(chats_seen(f->db->store, "telegram", "-500", CHAT_GROUP, "办公室", NULL,
	    false, 1), 0);
	assert_int_equal(chats_set_subscribed(f->db->store, "telegram", "-500", true, 1), 0);
	assert_int_equal(admins_add(f->db->store, "telegram", "900", 1), 0);
	assert_int_equal(chats_seen(f->db->store, "telegram", "900", CHAT_PRIVATE, NULL, "900",
	    false, 1), 0);
}

static int
by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The deliveries queued since the last call, as sorted lines "CHAT TASK KIND"
 * (KIND: unit, list, or escalation without a task); texts kept for checks.
 */
static void
queued(struct fixture *f, char *out, size_t outlen, char *texts, size_t textslen)
{
	sqlite3_stmt *st = store_stmt(f->db->store, "SELECT id, chat_id, text FROM deliveries "
	    "WHERE id > ?1 ORDER BY id");
	char *lines[64];
	size_t n = 0, len = 0, tlen = 0;

	sqlite3_bind_int64(st, 1, f->seen);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *chat = (const char *)sqlite3_column_text(st, 1);
		const char *text = (const char *)sqlite3_column_text(st, 2);
		const char *id = strstr(text, "\n<b>"), *end;

		f->seen = sqlite3_column_int64(st, 0);
		assert_true(n < 64);
		if (strncmp(text, "🚨", strlen("🚨")) == 0) {
			lines[n++] = xasprintf("%s escalation", chat);
		} else {
			assert_non_null(id);
			id += 4;
			end = strstr(id, "</b>");
			lines[n++] = xasprintf("%s %.*s %s", chat, (int)(end - id), id,
			    strstr(text, "本单位进度") != NULL ? "unit" : "list");
		}
		if (texts != NULL)
			tlen += (size_t)snprintf(texts + tlen, textslen - tlen, "%s\n--\n", text);
	}
	sqlite3_reset(st);
	qsort(lines, n, sizeof(*lines), by_text);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		len += (size_t)snprintf(out + len, outlen - len, "%s\n", lines[i]);
		free(lines[i]);
	}
}

static void
tick(struct fixture *f, time_t now, struct remind_stats *st)
{
	assert_int_equal(remind_tick(f->db->store, f->cfg, now, st), 0);
}

static void
step(struct fixture *f, time_t now, const char *want, size_t reminders, char *texts,
    size_t textslen)
{
	struct remind_stats st;
	char got[2048];

	tick(f, now, &st);
	queued(f, got, sizeof(got), texts, textslen);
	assert_string_equal(got, want);
	assert_int_equal(st.reminders, reminders);
	assert_int_equal(st.events, reminders);
	/* A double tick at the same instant changes nothing. */
	tick(f, now, &st);
	assert_int_equal(st.reminders + st.deliveries + st.escalations, 0);
	queued(f, got, sizeof(got), NULL, 0);
	assert_string_equal(got, "");
}

static void
report(struct fixture *f, const char *task, const char *unit, int percent, time_t at)
{
	struct report_input in = { .task_id = task, .percent = percent, .done = percent == 100,
		.platform = "test", .user_id = "t", .at = at };
	char err[256];

	for (size_t i = 0; i < f->db->plan->nunits; i++)
		if (strcmp(f->db->plan->units[i].name, unit) == 0)
			in.unit = i;
	assert_int_equal(progress_report(f->db->store, f->db->plan, &in, NULL, err, sizeof(err)),
	    REPORT_RECORDED);
}

static void
through_the_campaign(void **state)
{
	struct fixture *f = *state;
	struct remind_stats st;
	struct store *second;
	struct event e;
	char texts[16384], err[256];
	json_t *p;

	people(f);
	/* Thursday 09-23: 2.6 (due Thursday 09-30) is 7 days away. */
	step(f, local(9, 23, 9, 30),
	    "-500 2.6 list\n"
	    "101 2.6 list\n"
	    "102 2.6 unit\n", 2, NULL, 0);
	assert_int_equal(events_get(f->db->store, 2, &e), 1);
	p = json_loads(e.payload, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(p, "unit")), "相关单位");
	assert_string_equal(json_string_value(json_object_get(p, "kind")), "before-7");
	assert_string_equal(json_string_value(json_object_get(p, "date")), "2027-09-23");
	assert_int_equal(json_integer_value(json_object_get(p, "days_left")), 7);
	assert_string_equal(json_string_value(json_object_get(json_object_get(p, "task"),
	    "due")), "2027-09-30");
	json_decref(p);
	event_clear(&e);
	/* Wednesday 09-29: only the newest ("1 day"), not the missed "3 days". */
	step(f, local(9, 29, 9, 30),
	    "-500 2.6 list\n"
	    "101 2.6 list\n"
	    "102 2.6 unit\n", 2, NULL, 0);
	/* Monday 10-04 (the weekend passed): 2.6 overdue, 2.5's "7 days" moved off
	   Sunday 10-03, and the admins' digest. 101 gets its unit's 2.5 message and
	   not the list too. */
	step(f, local(10, 4, 10, 0),
	    "-500 2.5 list\n"
	    "-500 2.6 list\n"
	    "101 2.5 unit\n"
	    "101 2.6 list\n"
	    "102 2.6 unit\n"
	    "900 escalation\n", 7, texts, sizeof(texts));
	assert_non_null(strstr(texts, "⏰ <b>截止提醒</b> · 市扶贫办\n<b>2.5</b> "
	    "组织“大走访、大慰问”活动\n约10月10日(周日)截止,还有6天\n本单位进度:还没有汇报\n"
	    "完成后发送 /report 2.5 done;汇报进度如 /report 2.5 80 说明。"));
	assert_non_null(strstr(texts, "⚠️ <b>逾期提醒</b>\n<b>2.6</b> "));
	assert_non_null(strstr(texts, "已逾期4天 · 任务总进度0%\n尚未完成的单位:"
	    "市扶贫攻坚领导小组办公室(未汇报)、相关单位(未汇报)"));
	assert_non_null(strstr(texts, "🚨 <b>督办提醒</b> · 10月4日(周一)\n以下任务已逾期3天以上"));
	/* Each message expires at the end of the day it was meant for. */
	assert_int_equal(count(f, "SELECT count(*) FROM deliveries WHERE expires_at IS NULL"), 0);
	assert_int_equal(count(f, "SELECT max(expires_at) FROM deliveries"),
	    local(10, 5, 0, 0));
	/* Monday 23:00 is quiet: nothing, not even a catch-up. */
	tick(f, local(10, 4, 23, 0), &st);
	assert_int_equal(st.deliveries + st.events, 0);
	/* Friday 10-08, and a second daemon on the same database at the same instant. */
	step(f, local(10, 8, 9, 0),
	    "-500 2.5 list\n"
	    "-500 2.6 list\n"
	    "101 2.5 unit\n"
	    "101 2.6 list\n"
	    "102 2.6 unit\n"
	    "900 escalation\n", 7, texts, sizeof(texts));
	assert_non_null(strstr(texts, "约10月10日(周日)截止,还有2天"));
	second = store_open(f->db->path, err, sizeof(err));
	assert_non_null(second);
	assert_int_equal(remind_tick(second, f->cfg, local(10, 8, 9, 0), &st), 0);
	assert_int_equal(st.deliveries + st.events, 0);
	store_close(second);
	/* A restart: the store reopened, the same instant. */
	store_close(f->db->store);
	f->db->store = store_open(f->db->path, err, sizeof(err));
	assert_non_null(f->db->store);
	tick(f, local(10, 8, 9, 0), &st);
	assert_int_equal(st.deliveries + st.events, 0);
	/* 市扶贫办 finishes 2.5; 相关单位 reports 30% on 2.6. */
	report(f, "2.5", "市扶贫办", 100, local(10, 8, 15, 0));
	report(f, "2.6", "相关单位", 30, local(10, 8, 15, 0));
	/* Monday 10-11: the 10-17 tasks' "7 days" (moved off Sunday 10-10); 2.5 overdue
	   for the four others, so 101 is only on the list; one digest. */
	step(f, local(10, 11, 9, 0),
	    "-500 2.1 list\n"
	    "-500 2.2 list\n"
	    "-500 2.4 list\n"
	    "-500 2.5 list\n"
	    "-500 2.6 list\n"
	    "101 2.1 unit\n"
	    "101 2.2 unit\n"
	    "101 2.4 unit\n"
	    "101 2.5 list\n"
	    "101 2.6 list\n"
	    "102 2.6 unit\n"
	    "900 escalation\n", 2 + 4 + 4 + 4 + 4, texts, sizeof(texts));
	assert_non_null(strstr(texts, "本单位进度:30%"));
	assert_non_null(strstr(texts, "相关单位(30%)"));
	assert_null(strstr(texts, "市扶贫办(未汇报)、市委办公室"));
	/* 2.5 is one day late: below escalate_after (3), only 2.6 is escalated. */
	assert_null(strstr(strstr(texts, "🚨"), "2.5"));
	/* The clock moved back to a day already sent: nothing repeats. */
	tick(f, local(10, 4, 10, 0), &st);
	assert_int_equal(st.deliveries + st.events, 0);
	assert_int_equal(count(f, "SELECT count(*) FROM reminders_sent"),
	    2 + 2 + 8 + 8 + 19);
	assert_int_equal(count(f, "SELECT count(*) FROM events WHERE type = 'reminder'"),
	    2 + 2 + 7 + 7 + 18);
}

static void
digest_waits_for_an_admin(void **state)
{
	struct fixture *f = *state;
	struct remind_stats st;
	char got[1024];

	/* Nobody to tell: not recorded, so an admin who writes later today gets it. */
	tick(f, local(10, 4, 10, 0), &st);
	assert_int_equal(st.escalations, 0);
	assert_int_equal(count(f, "SELECT count(*) FROM reminders_sent WHERE kind = "
	    "'escalation'"), 0);
	assert_int_equal(st.events, 7);       /* the reminders still go to MQTT */
	f->cfg->chat.admins = calloc(1, sizeof(char *));
	f->cfg->chat.admins[0] = strdup("telegram:777");
	f->cfg->chat.nadmins = 1;
	assert_int_equal(chats_seen(f->db->store, "telegram", "777", CHAT_PRIVATE, NULL, "777",
	    false, 1), 0);
	tick(f, local(10, 4, 15, 0), &st);
	assert_int_equal(st.escalations, 2);
	queued(f, got, sizeof(got), NULL, 0);
	assert_string_equal(got, "777 escalation\n");
	tick(f, local(10, 4, 16, 0), &st);
	assert_int_equal(st.escalations, 0);
}

static void
no_plan_nothing_due(void **state)
{
	struct fixture *f = *state;
	struct remind_stats st;
	char err[256], path[160];
	struct store *empty;

	snprintf(path, sizeof(path), "%s/empty.db", f->db->dir);
	empty = store_open(path, err, sizeof(err));
	assert_non_null(empty);
	assert_int_equal(remind_tick(empty, f->cfg, local(10, 4, 10, 0), &st), 0);
	assert_int_equal(st.events + st.deliveries, 0);
	store_close(empty);
}

static void
add_channel(struct fixture *f, const char *name, unsigned sends, const char *unit)
{
	char *units[1] = { (char *)(uintptr_t)unit };
	struct channel c = { .name = (char *)(uintptr_t)name, .kind = CHANNEL_WECOM,
		.url = (char *)(uintptr_t)"https://h/cgi-bin/webhook/send?key=k", .sends = sends,
		.units = unit != NULL ? units : NULL, .nunits = unit != NULL };
	char err[256];

	assert_int_equal(channels_add(f->db->store, &c, 1, err, sizeof(err)), 0);
}

/*
 * Group robots: one list per task for the channel's units (none when no
 * unit of it is late), the digest to those that want it, nothing to a
 * failing one, which the digest names.
 */
static void
channels_get_their_units(void **state)
{
	struct fixture *f = *state;
	char texts[32768];
	const char *ops;

	people(f);
	add_channel(f, "ops", CHANNEL_REMINDERS, "市扶贫办");
	add_channel(f, "all", CHANNEL_REMINDERS | CHANNEL_BROADCASTS, NULL);
	add_channel(f, "dig", CHANNEL_DIGEST, NULL);
	add_channel(f, "bad", CHANNEL_REMINDERS | CHANNEL_DIGEST, NULL);
	assert_int_equal(channels_set_failing(f->db->store, "bad", 310000, "sign not match", 1),
	    0);
	step(f, local(10, 4, 10, 0),
	    "-500 2.5 list\n"
	    "-500 2.6 list\n"
	    "101 2.5 unit\n"
	    "101 2.6 list\n"
	    "102 2.6 unit\n"
	    "900 escalation\n"
	    "all 2.5 list\n"
	    "all 2.6 list\n"
	    "dig escalation\n"
	    "ops 2.5 list\n", 7, texts, sizeof(texts));
	assert_int_equal(count(f, "SELECT count(*) FROM deliveries WHERE platform = 'channel' "
	    "AND chat_id = 'bad'"), 0);
	/* ops's list names its own unit only. */
	ops = strstr(texts, "尚未完成的单位:市扶贫办(");
	assert_non_null(ops);
	assert_true(strstr(ops, "、") == NULL || strstr(ops, "、") > ops + strcspn(ops, "\n"));
	assert_non_null(strstr(texts, "群机器人 bad 发送失败(310000 sign not match)"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(through_the_campaign, setup, teardown),
		cmocka_unit_test_setup_teardown(digest_waits_for_an_admin, setup, teardown),
		cmocka_unit_test_setup_teardown(channels_get_their_units, setup, teardown),
		cmocka_unit_test_setup_teardown(no_plan_nothing_due, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
