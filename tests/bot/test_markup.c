/* Chat markup: escaping, the plain view, and splitting under Telegram's 4096 UTF-16 units. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "campaign/buf.h"
#include "campaign/markup.h"
#include "campaign/utf8.h"

static void
escape_and_plain(void **state)
{
	char *e = markup_escape_dup("<b>a & \"b\"</b>");
	char *p;

	(void)state;
	assert_string_equal(e, "&lt;b&gt;a &amp; &quot;b&quot;&lt;/b&gt;");
	p = markup_to_plain(e);
	assert_string_equal(p, "<b>a & \"b\"</b>");
	free(e);
	free(p);
	p = markup_to_plain("<b>2.4</b> 启动&lt;百企&gt;");
	assert_string_equal(p, "2.4 启动<百企>");
	free(p);
	/* Invalid UTF-8 never reaches a platform. */
	e = markup_escape_dup("a\xff\xfe" "b");
	assert_true(utf8_valid(e, strlen(e)));
	free(e);
}

static void
split_short_is_one_piece(void **state)
{
	char **pieces;
	size_t n = markup_split("一\n二\n", true, 4096, &pieces);

	(void)state;
	assert_int_equal(n, 1);
	assert_string_equal(pieces[0], "一\n二");
	markup_pieces_free(pieces, n);
	n = markup_split("  \n\n", true, 4096, &pieces);
	assert_int_equal(n, 0);
	markup_pieces_free(pieces, n);
}

static void
split_on_lines(void **state)
{
	struct buf b;
	char **pieces;
	size_t n, total = 0;

	(void)state;
	buf_init(&b, 1 << 22);
	for (int i = 0; i < 500; i++)
		buf_printf(&b, "<b>%d</b> 第%d行:市扶贫办 进度60%%\n", i, i);
	n = markup_split(buf_str(&b), true, 4096, &pieces);
	assert_true(n >= 3);
	for (size_t i = 0; i < n; i++) {
		char *plain = markup_to_plain(pieces[i]);

		assert_true(utf8_utf16_units(pieces[i]) <= 4096);
		/* Every piece ends at a line end: tags stay closed. */
		assert_int_equal(strncmp(pieces[i], "<b>", 3), 0);
		total += strlen(plain);
		free(plain);
	}
	assert_true(total > 0);
	markup_pieces_free(pieces, n);
	buf_free(&b);
}

static void
split_long_line_by_utf16(void **state)
{
	struct buf b;
	char **pieces;
	size_t n, chars = 0;

	(void)state;
	buf_init(&b, 1 << 22);
	/* 5000 emoji = 10000 UTF-16 units on one line, with entities in between. */
	for (int i = 0; i < 5000; i++)
		buf_puts(&b, i % 100 == 0 ? "&amp;" : "\xf0\x9f\x98\x80");
	n = markup_split(buf_str(&b), true, 4096, &pieces);
	assert_true(n >= 3);
	for (size_t i = 0; i < n; i++) {
		char *plain = markup_to_plain(pieces[i]);

		assert_true(utf8_utf16_units(pieces[i]) <= 4096);
		assert_true(utf8_valid(pieces[i], strlen(pieces[i])));
		/* Never cut inside an entity: the plain text has no stray '&amp' pieces. */
		assert_null(strstr(plain, "&amp"));
		chars += utf8_chars(plain);
		free(plain);
	}
	assert_int_equal(chars, 5000);
	markup_pieces_free(pieces, n);
	buf_free(&b);
}

static void
no_limit(void **state)
{
	char **pieces;
	size_t n = markup_split("x\ny", false, 0, &pieces);

	(void)state;
	assert_int_equal(n, 1);
	markup_pieces_free(pieces, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escape_and_plain),
		cmocka_unit_test(split_short_is_one_piece),
		cmocka_unit_test(split_on_lines),
		cmocka_unit_test(split_long_line_by_utf16),
		cmocka_unit_test(no_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
