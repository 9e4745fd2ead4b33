/*
 * The importer's stages one by one: glitch repair, numbers, unit lists and
 * responsibility lines (every label form of docs/plan-text.md §3), doers and
 * recipients, aliases, the outline (link lists, numbering, glued headings),
 * encodings (GBK made here with iconv, UTF-16, Big5) and refused input.
 */
#include <iconv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "campaign/import.h"
#include "campaign/textnorm.h"
#include "import_priv.h"

static void
assert_names(const struct imp_names *got, const char *const *want, size_t n)
{
	for (size_t i = 0; i < n && i < got->n; i++)
		assert_string_equal(got->v[i], want[i]);
	assert_int_equal(got->n, n);
}

#define NAMES(...) (const char *const[]){ __VA_ARGS__ }, \
	sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *)

static void
test_glitch_repair(void **state)
{
	int repaired = 0, lost = 0;
	char *s;

	(void)state;
	s = imp_glitch_repair("在“10?17”當天,《xx日?qǐng)?bào)》,表?yè)P(yáng),開展;顒(dòng)方案", &repaired,
	    &lost);
	assert_string_equal(s, "在“10·17”當天,《xx日報》,表揚,開展。活動方案");
	assert_int_equal(repaired, 4);
	assert_int_equal(lost, 0);
	free(s);
	s = imp_glitch_repair("某?zhèn)字,問題?", &repaired, &lost);
	assert_string_equal(s, "某\xef\xbf\xbd字,問題?");
	assert_int_equal(lost, 1);
	free(s);
}

static void
test_numbers(void **state)
{
	enum imp_num_kind kind;
	int v;

	(void)state;
	assert_int_equal(imp_number("17日", &v, &kind), 2);
	assert_int_equal(v, 17);
	assert_int_equal(imp_number("十七日", &v, &kind), strlen("十七"));
	assert_int_equal(v, 17);
	assert_int_equal(imp_number("二十一", &v, &kind), strlen("二十一"));
	assert_int_equal(v, 21);
	assert_int_equal(imp_number("二〇二四年", &v, &kind), strlen("二〇二四"));
	assert_int_equal(v, 2024);
	assert_int_equal(imp_number("20xx年", &v, &kind), 4);
	assert_int_equal(kind, IMP_NUM_PLACEHOLDER);
	assert_int_equal(imp_number("x光", &v, &kind), 0);
}

static void
test_unit_lists(void **state)
{
	struct imp_names units = { 0 }, rejected = { 0 };

	(void)state;
	imp_units_split("市委政研室、市委宣传部、xx日报、市扶贫办", &units, &rejected);
	assert_names(&units, NAMES("市委政研室", "市委宣传部", "xx日报", "市扶贫办"));
	imp_names_free(&units);
	/* Never on 和; on 及 and 以及; a trailing 等 goes. */
	imp_units_split("市人力资源和社会保障局,市住房和城乡建设局;市教育局及相关单位以及"
	    "团市委等", &units, &rejected);
	assert_names(&units, NAMES("市人力资源和社会保障局", "市住房和城乡建设局",
	    "市教育局", "相关单位", "团市委"));
	imp_names_free(&units);
	/* Parentheses nest: split at depth 0 only. */
	imp_units_split("各村(社区)、各县(市、区)扶贫办、单位部门", &units, &rejected);
	assert_names(&units, NAMES("各村(社区)", "各县(市、区)扶贫办", "单位部门"));
	imp_names_free(&units);
	assert_int_equal(rejected.n, 0);
}

static void
check_extract(const char *text, const char *rest, const char *const *want, size_t n)
{
	struct imp_names units = { 0 }, rejected = { 0 };
	char *left = imp_units_extract(text, &units, &rejected);

	assert_string_equal(left, rest);
	assert_names(&units, want, n);
	free(left);
	imp_names_free(&units);
	imp_names_free(&rejected);
}

static void
test_responsibility_lines(void **state)
{
	(void)state;
	check_extract("开展宣传。(责任单位:市委宣传部、市扶贫办)", "开展宣传。",
	    NAMES("市委宣传部", "市扶贫办"));
	check_extract("开展宣传。(牵头单位:市文明办;配合单位:市教育局、团市委)", "开展宣传。",
	    NAMES("市文明办", "市教育局", "团市委"));
	check_extract("开展宣传。(责任单位:各村(社区)、单位部门)", "开展宣传。",
	    NAMES("各村(社区)", "单位部门"));
	check_extract("组织座谈。(市委宣传部牵头,各成员单位配合)", "组织座谈。",
	    NAMES("市委宣传部", "各成员单位"));
	check_extract("责任单位:市卫健委、市疾控中心", "", NAMES("市卫健委", "市疾控中心"));
	check_extract("开展义诊。责任部门:市卫健委", "开展义诊。", NAMES("市卫健委"));
	check_extract("开展义诊。【责任单位】市卫健委", "开展义诊。", NAMES("市卫健委"));
	/* The prose forms stay in the text. */
	check_extract("此项工作由市司法局负责。", "此项工作由市司法局负责。",
	    NAMES("市司法局"));
	check_extract("由市总工会牵头,各县区配合。", "由市总工会牵头,各县区配合。",
	    NAMES("市总工会", "各县区"));
	/* Units inside the sentence (issue 13, classes 3 and 13). */
	check_extract("由市委宣传部、各新闻单位负责。", "由市委宣传部、各新闻单位负责。",
	    NAMES("市委宣传部", "各新闻单位"));
	check_extract("市安监局牵头,各成员单位配合", "市安监局牵头,各成员单位配合",
	    NAMES("市安监局", "各成员单位"));
	check_extract("县安监局会同县公安局开展检查", "县安监局会同县公安局开展检查",
	    NAMES("县安监局", "县公安局"));
	check_extract("此项工作由市委宣传部部署,各新闻单位落实,市安监局负责协调。",
	    "此项工作由市委宣传部部署,各新闻单位落实,市安监局负责协调。",
	    NAMES("市委宣传部", "各新闻单位", "市安监局"));
	check_extract("举办开幕式由县科委牵头,举办开幕式。", "举办开幕式由县科委牵头,举办开幕式。",
	    NAMES("县科委"));
	/* A label wins over the names in the sentence. */
	check_extract("县安委办牵头,会同有关单位开展。责任单位:县安委办", "县安委办牵头,会同有关单位开展。",
	    NAMES("县安委办"));
	/* Not responsibility lines. */
	check_extract("力争经过市、县(市、区)两级努力", "力争经过市、县(市、区)两级努力",
	    NULL, 0);
	check_extract("也可以由市扶贫攻坚领导小组办公室安排走访地",
	    "也可以由市扶贫攻坚领导小组办公室安排走访地", NULL, 0);
	check_extract("以书面形式(含电子版)报送", "以书面形式(含电子版)报送", NULL, 0);
}

static void
test_doers_and_recipients(void **state)
{
	struct imp_names names = { 0 };

	(void)state;
	imp_units_actors("各地、各部门开展“扶贫日”活动的初步情况总结,于20xx年10月底前以书面"
	    "形式(含电子版)报送市扶贫攻坚工作领导小组办公室", &names);
	assert_names(&names, NAMES("各地", "各部门"));
	imp_names_free(&names);
	imp_units_actors("通过报刊杂志、网络媒体等新闻媒介,及时发布", &names);
	assert_int_equal(names.n, 0);
	imp_units_report_to("于20xx年10月底前以书面形式(含电子版)报送市扶贫攻坚工作领导小组"
	    "办公室。", &names);
	assert_names(&names, NAMES("市扶贫攻坚工作领导小组办公室"));
	imp_names_free(&names);
}

static void
test_aliases(void **state)
{
	static const char *const names[] = {
		"市委宣传部", "县委宣传部", "市委办公室", "市政府办公室", "市扶贫办",
		"市扶贫攻坚领导小组办公室", "xx日报", "相关单位",
	};
	struct imp_names units = { (char **)(uintptr_t)names, 8 }, extra = { 0 };
	struct imp_names aliases[8] = { 0 };

	(void)state;
	imp_names_add(&extra, "市扶贫攻坚工作领导小组办公室");
	imp_units_aliases(&units, &extra, aliases);
	/* 宣传部 would name two units: dropped from both. */
	assert_int_equal(aliases[0].n, 0);
	assert_int_equal(aliases[1].n, 0);
	assert_names(&aliases[2], NAMES("市委办"));
	assert_true(imp_names_has(&aliases[3], "市政府办"));
	assert_names(&aliases[4], NAMES("扶贫办"));
	assert_true(imp_names_has(&aliases[5], "市扶贫攻坚工作领导小组办公室"));
	assert_true(imp_names_has(&aliases[5], "扶贫攻坚领导小组办公室"));
	assert_int_equal(aliases[6].n, 0);
	assert_int_equal(aliases[7].n, 0);
	for (size_t i = 0; i < 8; i++)
		imp_names_free(&aliases[i]);
	imp_names_free(&extra);
}

static struct import_result *
import_text(const char *text)
{
	struct import_opts opts = { .name = "test.txt" };

	return import_document(text, strlen(text), &opts);
}

static bool
json_has(const struct import_result *r, const char *needle)
{
	return r->json != NULL && strstr(r->json, needle) != NULL;
}

static void
test_outline(void **state)
{
	struct import_result *r;

	(void)state;
	/* A pasted list out of sequence: ignored, numbering goes on. */
	r = import_text("一、活动内容\n(一)甲活动。\n10月1日前完成。(责任单位:市甲局)\n"
	    "一、链接一\n二、链接二\n三、链接三\n(二)乙活动。\n10月2日前完成。(责任单位:市乙局)\n"
	    "二、工作要求\n(一)加强领导。\n各单位要高度重视。\n");
	assert_non_null(r->json);
	assert_int_equal(r->ntasks, 2);
	assert_true(json_has(r, "\"id\": \"1.2\""));
	assert_false(json_has(r, "链接"));
	import_result_free(r);
	/* An in-sequence list between an item's heading and its body. */
	r = import_text("一、活动内容\n(一)甲活动\n二、链接一\n三、链接二\n四、链接三\n"
	    "10月1日前完成甲活动。(责任单位:市甲局)\n");
	assert_int_equal(r->ntasks, 1);
	assert_true(json_has(r, "\"id\": \"1.1\""));
	assert_true(json_has(r, "10月1日前完成甲活动"));
	import_result_free(r);
	/* Headings glued into one paragraph. */
	r = import_text("为做好工作,制定本方案。一、活动内容(一)甲活动。10月1日前完成。"
	    "(责任单位:市甲局)(二)乙活动。10月2日,举办。(责任单位:市乙局)二、工作要求"
	    "(一)加强领导。各单位要高度重视。");
	assert_int_equal(r->ntasks, 2);
	assert_true(json_has(r, "\"title\": \"乙活动\""));
	import_result_free(r);
	/* Circled and full-width enumerators; a field line is not an item. */
	r = import_text("一、活动安排\n（一）宣传活动（责任单位：市委宣传部）\n"
	    "①发放资料\n时间：１０月１７日\n②悬挂横幅\n1、活动时间:10月20日\n");
	/* The group heading names its own units: a task beside its items. */
	assert_int_equal(r->ntasks, 3);
	assert_true(json_has(r, "\"id\": \"1.1\""));
	assert_true(json_has(r, "\"id\": \"1.1.1\""));
	assert_true(json_has(r, "\"id\": \"1.1.2\""));
	assert_true(json_has(r, "\"due\": \"10-17\""));
	assert_true(json_has(r, "\"due\": \"10-20\""));
	import_result_free(r);
}

static char *
to_charset(const char *utf8, const char *charset, size_t *len)
{
	iconv_t cd = iconv_open(charset, "UTF-8");
	size_t inleft = strlen(utf8), outleft = inleft * 4 + 8;
	char *out = malloc(outleft), *ip = (char *)(uintptr_t)utf8, *op = out;

	assert_true(cd != (iconv_t)-1);
	assert_true(iconv(cd, &ip, &inleft, &op, &outleft) != (size_t)-1);
	iconv_close(cd);
	*len = (size_t)(op - out);
	return out;
}

static void
test_encodings(void **state)
{
	static const char doc[] =
	    "2024年“扶贫日”活动方案\n一、活动内容\n(一)启动“百企帮百村”活动。\n"
	    "10月17日前,启动全市活动。(责任单位:市委统战部、市扶贫办)\n";
	static const char trad[] =
	    "一、活動內容\n(一)啟動“百企幫百村”活動。\n10月17日前,啟動全市活動。"
	    "(責任單位:市委統戰部、市扶貧辦)\n";
	const struct { const char *text, *charset, *name; } cases[] = {
		{ doc, "GBK", "GB18030" },
		{ doc, "GB18030", "GB18030" },
		{ doc, "UTF-16", "UTF-16LE" },
		{ trad, "BIG5", "BIG5" },
		{ trad, "GBK", "GB18030" },
	};
	struct import_opts opts = { .name = "doc.txt" };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		char *bytes = to_charset(cases[i].text, cases[i].charset, &len);
		struct import_result *r = import_document(bytes, len, &opts);

		assert_non_null(r->json);
		assert_string_equal(r->encoding, cases[i].name);
		assert_true(json_has(r, "\"市扶贫办\""));
		assert_true(json_has(r, "启动“百企帮百村”活动"));
		import_result_free(r);
		free(bytes);
	}
}

static void
test_refused_input(void **state)
{
	static const unsigned char png[] = {
		0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
	};
	struct import_opts opts = { .name = "x" };
	struct import_result *r;

	(void)state;
	r = import_document("", 0, &opts);
	assert_null(r->json);
	assert_non_null(strstr(r->error, "empty"));
	import_result_free(r);
	r = import_document(png, sizeof(png), &opts);
	assert_null(r->json);
	assert_non_null(strstr(r->error, "binary"));
	import_result_free(r);
	r = import_document(" \n\r\n\t\n", 6, &opts);
	assert_non_null(strstr(r->error, "no text"));
	import_result_free(r);
	r = import_text("Just some English text.\nNo plan here.\n");
	assert_null(r->json);
	assert_non_null(strstr(r->error, "no tasks"));
	import_result_free(r);
}

static void
test_slug(void **state)
{
	char *s;

	(void)state;
	s = imp_meta_slug("tests/seed/fupinri-plan.txt");
	assert_string_equal(s, "fupinri-plan");
	free(s);
	s = imp_meta_slug("2024年 扶贫日 方案.txt");
	assert_string_equal(s, "2024");
	free(s);
	s = imp_meta_slug("扶贫日.txt");
	assert_string_equal(s, "plan");
	free(s);
	/* Plan ids are at most 32 characters (campaign-plan/1). */
	s = imp_meta_slug("crash-3ba8e4048b67c4e9a3fdcde559dc8b71a32ef56d");
	assert_string_equal(s, "crash-3ba8e4048b67c4e9a3fdcde559");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glitch_repair),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_unit_lists),
		cmocka_unit_test(test_responsibility_lines),
		cmocka_unit_test(test_doers_and_recipients),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_outline),
		cmocka_unit_test(test_encodings),
		cmocka_unit_test(test_refused_input),
		cmocka_unit_test(test_slug),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	textnorm_shutdown();
	return rc;
}
