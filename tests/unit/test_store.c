/*
 * The store on a real SQLite file: creation mode, migrations, refusing what
 * it cannot read, nested transactions, plan replacement keeping progress,
 * reports with their outbox events, and invite semantics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "campaign/caldate.h"
#include "campaign/events.h"
#include "campaign/invites.h"
#include "campaign/plandb.h"
#include "campaign/progress.h"
#include "campaign/textnorm.h"
#include "campaign/users.h"
#include "seeddb.h"

static const time_t NOW = 1822957200; /* 2027-10-08T09:00:00+08:00 */

static struct plan *
load_json(const char *json)
{
	struct plan_load_opts opts = { .today = caldate_from_ymd(2027, 10, 8) };
	char err[512];
	struct plan *p = plan_load_string(json, "test", &opts, err, sizeof(err));

	if (p == NULL)
		fail_msg("%s", err);
	return p;
}

static int
setup(void **state)
{
	*state = seeddb_new(caldate_from_ymd(2027, 10, 8), NOW);
	return 0;
}

static int
teardown(void **state)
{
	seeddb_free(*state);
	return 0;
}

static void
test_created_private_and_migrated(void **state)
{
	struct seeddb *f = *state;
	struct stat st;
	char err[512];

	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(store_schema_version(f->store), store_schema_latest());
	/* Reopening an up-to-date database migrates nothing and works. */
	store_close(f->store);
	f->store = store_open(f->path, err, sizeof(err));
	assert_non_null(f->store);
	assert_int_equal(store_schema_version(f->store), store_schema_latest());
}

static void
test_refuses_newer_schema_and_garbage(void **state)
{
	struct seeddb *f = *state;
	char err[512], other[160];
	FILE *fp;

	assert_int_equal(store_exec(f->store, "PRAGMA user_version = 999"), 0);
	store_close(f->store);
	f->store = store_open(f->path, err, sizeof(err));
	assert_null(f->store);
	assert_non_null(strstr(err, "newer"));

	snprintf(other, sizeof(other), "%s/notes.txt", f->dir);
	fp = fopen(other, "w");
	assert_non_null(fp);
	fputs("this is not a database, just a text file that is long enough to matter\n", fp);
	fclose(fp);
	assert_null(store_open(other, err, sizeof(err)));
	assert_non_null(strstr(err, "notes.txt"));
	/* Back to a version we know, so teardown can open it. */
	{
		sqlite3 *db;
		char sql[64];

		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", store_schema_latest());
		assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	f->store = store_open(f->path, err, sizeof(err));
	assert_non_null(f->store);
}

static void
test_nested_transactions(void **state)
{
	struct seeddb *f = *state;
	char *v = NULL;

	assert_int_equal(store_begin(f->store), 0);
	assert_int_equal(store_kv_set(f->store, "outer", "1"), 0);
	assert_int_equal(store_begin(f->store), 0);
	assert_int_equal(store_kv_set(f->store, "inner", "1"), 0);
	store_rollback(f->store);
	assert_int_equal(store_commit(f->store), 0);
	assert_false(store_in_transaction(f->store));
	assert_int_equal(store_kv_get(f->store, "outer", &v), 1);
	free(v);
	assert_int_equal(store_kv_get(f->store, "inner", &v), 0);
}

static void
test_plan_roundtrip(void **state)
{
	struct seeddb *f = *state;
	const struct plan_task *t;

	assert_string_equal(f->plan->id, "fupinri");
	assert_int_equal(f->plan->ntasks, 7);
	assert_int_equal(f->plan->nunits, 15);
	assert_int_equal(f->plan->key_date, caldate_from_ymd(2027, 10, 17));
	t = plan_task_get(f->plan, "2.4");
	assert_non_null(t);
	assert_string_equal(t->title, "启动“百企帮百村”活动");
	assert_int_equal(t->start, CALDATE_NONE);
	assert_int_equal(t->due, caldate_from_ymd(2027, 10, 17));
	assert_int_equal(t->nunits, 4);
	assert_string_equal(f->plan->units[t->units[0]].name, "市委统战部");
	t = plan_task_get(f->plan, "3.4");
	assert_int_equal(t->nunits, 0);
	assert_int_equal(t->nactors, 2);
	assert_int_equal(t->nreport_to, 1);
	assert_int_equal(plan_unit_index_norm(f->plan, "扶贫办"),
	    (ssize_t)seeddb_unit(f, "市扶贫办"));
}

static enum report_result
report(struct seeddb *f, const char *task, const char *unit, int percent, bool done,
    const char *key)
{
	struct report_input in = {
		.task_id = task, .unit = seeddb_unit(f, unit), .percent = percent,
		.done = done, .note = "笔记", .platform = "test", .user_id = "u1",
		.user_name = "张三", .at = NOW, .source_key = key,
	};
	char err[256];

	return progress_report(f->store, f->plan, &in, NULL, err, sizeof(err));
}

static void
test_report_writes_state_history_and_event(void **state)
{
	struct seeddb *f = *state;
	struct progress *p;
	struct event *events;
	size_t n;
	struct report_row *rows;
	size_t ti = 3; /* 2.4 */

	assert_int_equal(report(f, "2.4", "市工商联", 60, false, "k1"), REPORT_RECORDED);
	assert_int_equal(report(f, "2.4", "市工商联", 60, false, "k1"), REPORT_DUPLICATE);
	assert_int_equal(report(f, "2.4", "市国资委", 0, true, "k2"), REPORT_RECORDED);
	assert_int_equal(report(f, "2.4", "市委宣传部", 50, false, "k3"), REPORT_INVALID);
	assert_int_equal(report(f, "9.9", "市工商联", 50, false, "k4"), REPORT_INVALID);
	assert_int_equal(report(f, "2.4", "市工商联", 101, false, "k5"), REPORT_INVALID);

	p = progress_load(f->store, f->plan);
	assert_int_equal(progress_cell(p, ti, seeddb_unit(f, "市工商联"))->percent, 60);
	assert_true(progress_cell(p, ti, seeddb_unit(f, "市国资委"))->done);
	assert_int_equal(progress_cell(p, ti, seeddb_unit(f, "市国资委"))->percent, 100);
	assert_false(progress_cell(p, ti, seeddb_unit(f, "市扶贫办"))->reported);
	assert_int_equal(progress_task_percent(p, f->plan, ti), 40);
	assert_false(progress_task_done(p, f->plan, ti));
	progress_free(p);

	/* Exactly one event per recorded report, in order, with the task's new state. */
	assert_int_equal(events_pending(f->store, 0, 10, &events, &n), 0);
	assert_int_equal(n, 2);
	assert_true(events[0].id < events[1].id);
	assert_string_equal(events[0].type, "progress");
	assert_string_equal(events[0].ts, "2027-10-08T09:00:00+08:00");
	assert_non_null(strstr(events[0].payload, "\"unit\":\"市工商联\""));
	assert_non_null(strstr(events[1].payload, "\"percent\":40"));
	{
		char *msg = events_message(&events[1]);

		assert_non_null(strstr(msg, "{\"v\":1,\"id\":"));
		assert_non_null(strstr(msg, "\"campaign\":\"fupinri\""));
		free(msg);
	}
	events_free(events, n);

	assert_int_equal(progress_history(f->store, "2.4", &rows, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].unit, "市工商联");
	assert_string_equal(rows[0].user_name, "张三");
	report_rows_free(rows, n);
}

static void
test_reload_keeps_progress_of_surviving_tasks(void **state)
{
	struct seeddb *f = *state;
	struct plandb_stats stats;
	struct progress *p;
	struct plan *next;

	assert_int_equal(report(f, "2.4", "市工商联", 60, false, NULL), REPORT_RECORDED);
	assert_int_equal(report(f, "2.6", "相关单位", 30, false, NULL), REPORT_RECORDED);
	assert_int_equal(users_bind(f->store, "t", "u9", "李四",
	    f->plan->units[seeddb_unit(f, "相关单位")].id, NOW), 0);
	/* A corrected plan: 2.4 survives (its unit renamed in traditional script), 2.6 and
	   相关单位 are gone. */
	next = load_json("{\"schema\":\"campaign-plan/1\",\"id\":\"fupinri\",\"title\":\"T\","
	    "\"key_date\":\"10-17\",\"units\":[{\"name\":\"市工商聯\"},{\"name\":\"市扶贫办\"}],"
	    "\"tasks\":[{\"id\":\"2.4\",\"title\":\"启动\",\"due\":\"10-17\",\"units\":"
	    "[\"市工商联\",\"市扶贫办\"]}]}");
	assert_int_equal(plandb_replace(f->store, next, "next", NOW, &stats), 0);
	plan_free(next);
	assert_int_equal(stats.tasks_kept, 1);
	assert_int_equal(stats.tasks_removed, 6);
	assert_int_equal(stats.units_kept, 2);
	assert_int_equal(stats.progress_kept, 1);
	assert_int_equal(stats.bindings_dropped, 1);
	seeddb_reload(f);
	assert_string_equal(f->plan->units[0].name, "市工商聯");
	p = progress_load(f->store, f->plan);
	assert_int_equal(progress_cell(p, 0, 0)->percent, 60);
	progress_free(p);
}

static void
test_invites(void **state)
{
	struct seeddb *f = *state;
	char code[INVITES_CODE_STRLEN], lower[INVITES_CODE_STRLEN];
	int64_t unit = 0, want;
	struct user_info info;
	sqlite3_stmt *st;

	want = f->plan->units[seeddb_unit(f, "市扶贫办")].id;
	assert_int_equal(invites_create(f->store, want, 86400, NOW, code), 0);
	assert_int_equal(strlen(code), 11);
	assert_int_equal(code[5], '-');
	/* Only a hash is stored. */
	st = store_stmt(f->store, "SELECT count(*) FROM invites WHERE code_hash LIKE ?1");
	{
		char pattern[32];

		snprintf(pattern, sizeof(pattern), "%%%.5s%%", code);
		sqlite3_bind_text(st, 1, pattern, -1, SQLITE_TRANSIENT);
	}
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	sqlite3_reset(st);

	assert_int_equal(invites_redeem(f->store, "NOPE0-NOPE0", "t", "u1", NULL, NOW, &unit),
	    INVITE_UNKNOWN);
	assert_int_equal(invites_redeem(f->store, "", "t", "u1", NULL, NOW, &unit),
	    INVITE_UNKNOWN);
	/* Typed in lower case without the dash still works. */
	for (size_t i = 0, j = 0; i < sizeof(code); i++)
		if (code[i] != '-')
			lower[j++] = (char)(code[i] >= 'A' && code[i] <= 'Z' ? code[i] + 32 : code[i]);
	assert_int_equal(invites_redeem(f->store, lower, "t", "u1", "王五", NOW + 10, &unit),
	    INVITE_BOUND);
	assert_int_equal(unit, want);
	assert_int_equal(users_get(f->store, "t", "u1", &info), 0);
	assert_true(info.known);
	assert_string_equal(info.unit_name, "市扶贫办");
	assert_string_equal(info.name, "王五");
	user_info_clear(&info);
	/* Single use. */
	assert_int_equal(invites_redeem(f->store, code, "t", "u2", NULL, NOW + 20, &unit),
	    INVITE_USED);
	/* Expiry. */
	assert_int_equal(invites_create(f->store, want, 60, NOW, code), 0);
	assert_int_equal(invites_redeem(f->store, code, "t", "u3", NULL, NOW + 60, &unit),
	    INVITE_EXPIRED);
	assert_int_equal(users_get(f->store, "t", "u3", &info), 0);
	assert_false(info.known);
}

static void
test_events_size_limit(void **state)
{
	struct seeddb *f = *state;
	json_t *payload = json_object();
	char *big = malloc(EVENTS_PAYLOAD_MAX + 10);
	char err[256];

	memset(big, 'a', EVENTS_PAYLOAD_MAX + 9);
	big[EVENTS_PAYLOAD_MAX + 9] = '\0';
	json_object_set_new(payload, "text", json_string(big));
	assert_int_equal(events_append(f->store, "announcement", "x", payload, NOW, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "too large"));
	json_decref(payload);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_created_private_and_migrated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_newer_schema_and_garbage, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_nested_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_writes_state_history_and_event, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reload_keeps_progress_of_surviving_tasks,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_invites, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_size_limit, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	textnorm_shutdown();
	return rc;
}
