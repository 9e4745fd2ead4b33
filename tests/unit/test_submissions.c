/*
 * Submissions on a real store with the seed plan: who owes the 3.4 summary
 * (every unit: the item names only "各地、各部门"), files kept once by hash,
 * a repeat of the same source is not a second submission, the latest of
 * several versions counts, unassigned files and their assignment (which
 * binds the mail sender), and the importer's "…总结…报送…" detection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "campaign/caldate.h"
#include "campaign/cfg.h"
#include "campaign/clock.h"
#include "campaign/progress.h"
#include "campaign/reminders.h"
#include "campaign/mailstore.h"
#include "campaign/submissions.h"
#include "campaign/users.h"
#include "../../lib/import/import_priv.h"
#include "seeddb.h"

static const time_t NOW = 1822957200; /* 2027-10-08T09:00:00+08:00 */

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

static int64_t
add(struct seeddb *f, const char *unit, const char *source, const char *name,
    const char *content)
{
	char sha[SUBMISSIONS_SHA_STRLEN], err[256];
	struct submission_in in = {
		.unit_id = unit != NULL ? f->plan->units[seeddb_unit(f, unit)].id : 0,
		.name = name, .size = (int64_t)strlen(content), .channel = "mail",
		.sender = "xcb@example.gov.cn", .source_id = source, .at = NOW,
	};
	int64_t id;

	assert_int_equal(store_begin(f->store), 0);
	assert_int_equal(submissions_put_file(f->store, content, strlen(content), NOW, sha,
	    err, sizeof(err)), 0);
	in.sha256 = sha;
	id = submissions_add(f->store, f->plan, &in, err, sizeof(err));
	assert_true(id >= 0);
	assert_int_equal(store_commit(f->store), 0);
	return id;
}

static void
test_everyone_owes_the_summary(void **state)
{
	struct seeddb *f = *state;
	const struct plan_task *t = plan_task_get(f->plan, "3.4");
	size_t submitted, owed;

	assert_non_null(t->deliverable);
	for (size_t u = 0; u < f->plan->nunits; u++)
		assert_true(submissions_owed(f->plan, t, u));
	assert_false(submissions_owed(f->plan, plan_task_get(f->plan, "2.4"), 0));
	assert_int_equal(submissions_count(f->store, f->plan, &submitted, &owed), 0);
	assert_int_equal(submitted, 0);
	assert_int_equal(owed, f->plan->nunits);
}

static void
test_repeat_and_versions(void **state)
{
	struct seeddb *f = *state;
	struct submission sub;
	size_t submitted, owed;
	struct stat st;
	char *path;

	assert_true(add(f, "市委宣传部", "mid:a#0", "总结.docx", "first") > 0);
	/* the same message again: nothing new */
	assert_int_equal(add(f, "市委宣传部", "mid:a#0", "总结.docx", "first"), 0);
	assert_true(add(f, "市委宣传部", "mid:b#0", "总结v2.docx", "second") > 0);
	assert_int_equal(submissions_versions(f->store, "3.4",
	    f->plan->units[seeddb_unit(f, "市委宣传部")].id), 2);
	assert_int_equal(submissions_latest(f->store, "3.4",
	    f->plan->units[seeddb_unit(f, "市委宣传部")].id, &sub), 1);
	assert_string_equal(sub.name, "总结v2.docx");
	path = submissions_file_path(f->store, sub.sha256);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 6);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(path);
	submission_clear(&sub);
	assert_int_equal(submissions_count(f->store, f->plan, &submitted, &owed), 0);
	assert_int_equal(submitted, 1);
}

static void
test_unassigned_then_assigned(void **state)
{
	struct seeddb *f = *state;
	struct submission *subs;
	struct user_info ui;
	size_t n, submitted, owed;
	int64_t id = add(f, NULL, "mid:c#0", "县里.docx", "county");
	char err[256];

	assert_int_equal(submissions_unassigned(f->store, &subs, &n), 0);
	assert_int_equal(n, 1);
	assert_null(subs[0].task_id);
	submissions_free(subs, n);
	assert_int_equal(submissions_assign(f->store, f->plan, id,
	    f->plan->units[seeddb_unit(f, "市扶贫办")].id, NOW, err, sizeof(err)), 1);
	assert_int_equal(submissions_assign(f->store, f->plan, id,
	    f->plan->units[seeddb_unit(f, "市扶贫办")].id, NOW, err, sizeof(err)), 0);
	assert_int_equal(submissions_unassigned(f->store, &subs, &n), 0);
	assert_int_equal(n, 0);
	free(subs);
	assert_int_equal(submissions_count(f->store, f->plan, &submitted, &owed), 0);
	assert_int_equal(submitted, 1);
	/* later mail from the address needs no admin */
	assert_int_equal(users_get(f->store, "mail", "xcb@example.gov.cn", &ui), 0);
	assert_int_equal(ui.unit_id, f->plan->units[seeddb_unit(f, "市扶贫办")].id);
	user_info_clear(&ui);
}

/* Reminders of 3.4 go to every unit, and stop for a unit once its file is in. */
static void
test_reminders_until_submitted(void **state)
{
	struct seeddb *f = *state;
	struct cfg *cfg = cfg_load(NULL, NULL, 0);
	time_t thursday = clock_local_time(caldate_from_ymd(2027, 10, 28), 9 * 60);
	ssize_t t34 = plan_task_index(f->plan, "3.4");
	struct progress *p;
	struct reminder *due;
	size_t n, for34;

	for (int round = 0; round < 2; round++) {
		p = progress_load(f->store, f->plan);
		n = reminders_due(f->plan, p, cfg, thursday, &due);
		for34 = 0;
		for (size_t i = 0; i < n; i++)
			if (due[i].task == (size_t)t34) {
				for34++;
				assert_string_equal(due[i].kind, "before-3");
				if (round == 1)
					assert_int_not_equal(due[i].unit, seeddb_unit(f, "市委宣传部"));
			}
		assert_int_equal(for34, round == 0 ? f->plan->nunits : f->plan->nunits - 1);
		free(due);
		progress_free(p);
		if (round == 0)
			add(f, "市委宣传部", "mid:r#0", "总结.docx", "done");
	}
	cfg_free(cfg);
}

/* A hostile name cannot drive a terminal that lists it. */
static void
test_names_cleaned(void **state)
{
	struct seeddb *f = *state;
	struct submission sub;

	add(f, "市委宣传部", "mid:e#0", "总结\x1b[2J\n.docx", "esc");
	assert_int_equal(submissions_latest(f->store, "3.4",
	    f->plan->units[seeddb_unit(f, "市委宣传部")].id, &sub), 1);
	assert_string_equal(sub.name, "总结_[2J_.docx");
	submission_clear(&sub);
}

static void
test_mailbox_position(void **state)
{
	struct seeddb *f = *state;
	int64_t v, last;

	assert_int_equal(mailstore_position(f->store, "INBOX", &v, &last), 0);
	assert_int_equal(mailstore_set_position(f->store, "INBOX", 77, 5), 0);
	assert_int_equal(mailstore_position(f->store, "INBOX", &v, &last), 1);
	assert_int_equal(v, 77);
	assert_int_equal(last, 5);
	assert_int_equal(mailstore_seen(f->store, "mid:x"), 0);
	assert_int_equal(mailstore_handled(f->store, "mid:x", "a@b", NULL, "ignored", NULL,
	    NOW), 0);
	assert_int_equal(mailstore_seen(f->store, "mid:x"), 1);
}

static void
test_import_detects_deliverable(void **state)
{
	char *d;

	(void)state;
	d = imp_deliverable("同时,要认真总结活动开展情况,对作出突出贡献的单位予以表扬。"
	    "各地、各部门开展“扶贫日”活动的初步情况总结,于20xx年10月底前以书面形式"
	    "(含电子版)报送市扶贫攻坚工作领导小组办公室。");
	assert_non_null(d);
	assert_string_equal(d, "“扶贫日”活动的初步情况总结");
	free(d);
	/* 总结 without 报送 in the same sentence asks for nothing */
	assert_null(imp_deliverable("要认真总结活动开展情况。请于10月底前报送名单。"));
	d = imp_deliverable("市扶贫办要在11月5日前将工作总结报告报送市委。");
	assert_non_null(d);
	assert_string_equal(d, "工作总结报告");
	free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_everyone_owes_the_summary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repeat_and_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unassigned_then_assigned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_cleaned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reminders_until_submitted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mailbox_position, setup, teardown),
		cmocka_unit_test(test_import_detects_deliverable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
