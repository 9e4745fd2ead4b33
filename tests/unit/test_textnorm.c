/* Normalization: traditional/simplified, full-width, pinyin annotations, dots, names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "campaign/textnorm.h"
#include "campaign/utf8.h"

static void
check_text(const char *in, const char *want)
{
	char *got = textnorm_text(in);

	assert_string_equal(got, want);
	free(got);
}

static void
check_name(const char *in, const char *want)
{
	char *got = textnorm_name(in);

	assert_string_equal(got, want);
	free(got);
}

static void
test_traditional_to_simplified(void **state)
{
	(void)state;
	check_text("市扶貧辦", "市扶贫办");
	check_text("(責任單位:市委宣傳部、市扶貧辦)", "(责任单位:市委宣传部、市扶贫办)");
	check_text("於20xx年10月底前", "于20xx年10月底前");
	check_text("市扶贫办", "市扶贫办"); /* idempotent on simplified text */
}

static void
test_pinyin_annotations(void **state)
{
	(void)state;
	/* The seed's scrape annotates characters; structure parentheses stay. */
	check_text("為開(kāi)展好“扶貧日”活動(dòng)", "为开展好“扶贫日”活动");
	check_text("(一)發(fā)表市委書(shū)記署名文章。", "(一)发表市委书记署名文章。");
	check_text("(責(zé)任單位:市委宣傳部)", "(责任单位:市委宣传部)");
	/* Not annotations: digits, CJK or no vowel inside, or nothing CJK before. */
	check_text("活动(2019)", "活动(2019)");
	check_text("活动(xx)", "活动(xx)");
	check_text("abc(kai)", "abc(kai)");
	check_text("县(市、区)", "县(市、区)");
}

static void
test_full_width_and_dots(void **state)
{
	(void)state;
	check_text("（责任单位：市委宣传部）", "(责任单位:市委宣传部)");
	check_text("１０月１７日", "10月17日");
	check_text("ＸＸ日报", "XX日报");
	check_text("a\xe3\x80\x80" "b", "a b");        /* ideographic space */
	check_text("10•17 10・17 10‧17", "10·17 10·17 10·17");
	check_text("〝扶贫日〞", "“扶贫日”");
	check_text("㈠㈡ ⑴⑵", "(一)(二) (1)(2)");
	check_text("①", "①");                           /* kept: NFKC would lose it */
}

static void
test_names(void **state)
{
	(void)state;
	check_name("市扶貧辦", "市扶贫办");
	check_name(" 市 扶贫\t办 ", "市扶贫办");
	check_name("ＸＸ日报", "xx日报");
	check_name("《xx日报》", "xx日报");
	check_name("“百企幫百村”", "百企帮百村");
	check_name("9—10月", "9-10月");
	check_name("", "");
}

static void
test_invalid_utf8(void **state)
{
	char *got = textnorm_text("市\xff扶贫\xc3办");

	(void)state;
	assert_true(utf8_valid(got, strlen(got)));
	assert_non_null(strstr(got, "\xef\xbf\xbd"));
	free(got);
}

static int
teardown(void **state)
{
	(void)state;
	textnorm_shutdown();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_traditional_to_simplified),
		cmocka_unit_test(test_pinyin_annotations),
		cmocka_unit_test(test_full_width_and_dots),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_invalid_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
