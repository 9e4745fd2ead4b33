/* Unit lookup: exact, alias, substring, ambiguous, unknown (with candidates). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "campaign/caldate.h"
#include "campaign/plan.h"
#include "campaign/textnorm.h"
#include "campaign/units.h"

static struct plan *seed;

static int
setup(void **state)
{
	struct plan_load_opts opts = { .today = caldate_from_ymd(2027, 10, 8) };
	char err[512];

	(void)state;
	seed = plan_load_file(CAMPAIGN_SOURCE_DIR "/data/plans/fupinri.json", &opts, err,
	    sizeof(err));
	if (seed == NULL)
		fail_msg("%s", err);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	plan_free(seed);
	textnorm_shutdown();
	return 0;
}

static const char *
found(const char *query, enum unit_match want)
{
	struct unit_lookup lk;

	units_lookup(seed, query, &lk);
	assert_int_equal(lk.match, want);
	return seed->units[lk.unit].name;
}

static void
test_exact(void **state)
{
	(void)state;
	assert_string_equal(found("市扶贫办", UNIT_EXACT), "市扶贫办");
	assert_string_equal(found("市扶貧辦", UNIT_EXACT), "市扶贫办");
	assert_string_equal(found(" 市 扶贫办 ", UNIT_EXACT), "市扶贫办");
	assert_string_equal(found("ＸＸ日报", UNIT_EXACT), "xx日报");
}

static void
test_alias(void **state)
{
	(void)state;
	assert_string_equal(found("扶贫办", UNIT_ALIAS), "市扶贫办");
	assert_string_equal(found("扶貧辦", UNIT_ALIAS), "市扶贫办");
	assert_string_equal(found("市扶贫攻坚工作领导小组办公室", UNIT_ALIAS),
	    "市扶贫攻坚领导小组办公室");
}

static void
test_substring(void **state)
{
	(void)state;
	assert_string_equal(found("广电", UNIT_SUBSTRING), "市广电局");
	assert_string_equal(found("统战", UNIT_SUBSTRING), "市委统战部");
}

static void
test_ambiguous(void **state)
{
	struct unit_lookup lk;
	bool saw_zhengyan = false, saw_xuanchuan = false;

	(void)state;
	units_lookup(seed, "市委", &lk);
	assert_int_equal(lk.match, UNIT_AMBIGUOUS);
	assert_true(lk.ncandidates >= 2);
	for (size_t i = 0; i < lk.ncandidates; i++) {
		const char *name = seed->units[lk.candidates[i]].name;

		saw_zhengyan |= strcmp(name, "市委政研室") == 0;
		saw_xuanchuan |= strcmp(name, "市委宣传部") == 0;
	}
	assert_true(saw_zhengyan && saw_xuanchuan);
}

static void
test_unknown_with_candidates(void **state)
{
	struct unit_lookup lk;

	(void)state;
	/* A typo: 宣传处 for 宣传部. */
	units_lookup(seed, "市委宣传处", &lk);
	assert_int_equal(lk.match, UNIT_NONE);
	assert_true(lk.ncandidates >= 1);
	assert_string_equal(seed->units[lk.candidates[0]].name, "市委宣传部");
	/* Nothing alike: no candidates. */
	units_lookup(seed, "气象局", &lk);
	assert_int_equal(lk.match, UNIT_NONE);
	assert_int_equal(lk.ncandidates, 0);
	units_lookup(seed, "", &lk);
	assert_int_equal(lk.match, UNIT_NONE);
}

static void
test_in_text(void **state)
{
	char *norm = textnorm_name("市扶貧辦有哪些任務?");
	size_t at = 0, len = 0;
	ssize_t u = units_in_text(seed, norm, &at, &len);

	(void)state;
	assert_true(u >= 0);
	assert_string_equal(seed->units[u].name, "市扶贫办");
	assert_int_equal(at, 0);
	assert_int_equal(len, strlen("市扶贫办"));
	free(norm);
	norm = textnorm_name("宣传部本周截止");
	u = units_in_text(seed, norm, &at, &len);
	assert_true(u >= 0);
	assert_string_equal(seed->units[u].name, "市委宣传部");
	free(norm);
	assert_int_equal(units_in_text(seed, "百企帮百村进度", &at, &len), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact),
		cmocka_unit_test(test_alias),
		cmocka_unit_test(test_substring),
		cmocka_unit_test(test_ambiguous),
		cmocka_unit_test(test_unknown_with_candidates),
		cmocka_unit_test(test_in_text),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
