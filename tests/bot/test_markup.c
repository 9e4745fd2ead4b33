/*
 * Chat markup: escaping, the plain view, rendering per platform (Telegram
 * HTML as written, plain, DingTalk Markdown) and splitting in the platform's
 * unit (Telegram's 4096 UTF-16 units, a byte limit) with hostile text.
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
	size_t n = markup_split_rendered("一\n二\n", MARKUP_HTML, 4096, MARKUP_UNIT_UTF16,
	    &pieces);

	(void)state;
	assert_int_equal(n, 1);
	assert_string_equal(pieces[0], "一\n二");
	markup_pieces_free(pieces, n);
	n = markup_split_rendered("  \n\n", MARKUP_HTML, 4096, MARKUP_UNIT_UTF16, &pieces);
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
	n = markup_split_rendered(buf_str(&b), MARKUP_HTML, 4096, MARKUP_UNIT_UTF16, &pieces);
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
	n = markup_split_rendered(buf_str(&b), MARKUP_HTML, 4096, MARKUP_UNIT_UTF16, &pieces);
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
	size_t n = markup_split_rendered("x\ny", MARKUP_PLAIN, 0, MARKUP_UNIT_UTF16, &pieces);

	(void)state;
	assert_int_equal(n, 1);
	markup_pieces_free(pieces, n);
}

/* What the bot writes for a unit's task list (cmd_tasks.c, answer.c). */
static const char task_list[] =
    "<b>市扶贫办</b> 的任务(2项):\n"
    "• <b>2.4</b> 启动“百企帮百村”活动\n"
    "   10月17日截止,还有9天 · 60%\n"
    "• <b>2.5</b> 组织&lt;大走访&gt;\n"
    "发 /task 编号 查看详情。";

static void
render_html_is_the_markup(void **state)
{
	char *r = markup_render(task_list, MARKUP_HTML);

	(void)state;
	/* Telegram gets exactly what it got before renderings existed. */
	assert_string_equal(r, task_list);
	free(r);
	r = markup_render("a\xff" "b", MARKUP_HTML);
	assert_string_equal(r, "a\xef\xbf\xbd" "b");
	free(r);
}

static void
render_plain(void **state)
{
	char *r = markup_render(task_list, MARKUP_PLAIN);

	(void)state;
	assert_string_equal(r,
	    "市扶贫办 的任务(2项):\n"
	    "• 2.4 启动“百企帮百村”活动\n"
	    "   10月17日截止,还有9天 · 60%\n"
	    "• 2.5 组织<大走访>\n"
	    "发 /task 编号 查看详情。");
	free(r);
}

static void
render_markdown(void **state)
{
	char *r = markup_render(task_list, MARKUP_MARKDOWN);

	(void)state;
	/* Bold as **, items as "- ", a blank line around the list, visible breaks. */
	assert_string_equal(r,
	    "**市扶贫办** 的任务(2项):\n"
	    "\n"
	    "- **2.4** 启动“百企帮百村”活动  \n"
	    "  10月17日截止,还有9天 · 60%\n"
	    "- **2.5** 组织\\<大走访\\>\n"
	    "\n"
	    "发 /task 编号 查看详情。");
	free(r);
	r = markup_render("第一行\n第二行\n\n新段落 <i>斜</i> <code>/bind 码</code><b></b>",
	    MARKUP_MARKDOWN);
	assert_string_equal(r, "第一行  \n第二行\n\n新段落 *斜* `/bind 码`");
	free(r);
	/* Back to text (after a refusal): marks and escapes undone, code spans as they are. */
	r = markup_rendered_plain("- **2.4** \\*粗\\* `a*b\\c`  \n  第二行", MARKUP_MARKDOWN);
	assert_string_equal(r, "• 2.4 *粗* a*b\\c\n  第二行");
	free(r);
}

/* User text that would be Markdown if it were not escaped. */
static const char *const hostile[] = {
	"# 不是标题", "> 不是引用", "- 不是列表", "+ 也不是", "1. 不是编号", "2) 也不是",
	"=====", "---", "*不粗* **也不粗** _不斜_ __x__", "[不是链接](http://x.cn) ![图](y)",
	"`不是代码` ~~不删~~ &copy; &#42; a&b", "反斜杠 \\ 和 \\* 原样", "<font color=red>红</font>",
	"    四个空格不是代码块", "2.4 任务编号照常", "|a|b|", "|-|-|",
};

static void
render_markdown_escapes_user_text(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		char *m = markup_escape_dup(hostile[i]);
		char *r = markup_render(m, MARKUP_MARKDOWN);
		char *back = markup_rendered_plain(r, MARKUP_MARKDOWN);
		const char *want = hostile[i];

		/* Nothing special is left unescaped at the line start ... */
		assert_true(r[0] == '\\' || (unsigned char)r[0] >= 0x80 ||
		    (r[0] >= '0' && r[0] <= '9' && strchr(r, '\\') != NULL) ||
		    strncmp(r, "2.4", 3) == 0 || strncmp(r, "反", 3) == 0);
		/* ... nor anywhere: every * _ [ ] ` < > ~ | follows a backslash. */
		for (const char *p = r; *p != '\0'; p++)
			if (strchr("*_[]`<>~|", *p) != NULL)
				assert_true(p > r && p[-1] == '\\');
		/* And the reader sees the text as typed (leading spaces aside). */
		while (*want == ' ')
			want++;
		assert_string_equal(back, want);
		free(back);
		free(r);
		free(m);
	}
}

static void
render_invalid_utf8(void **state)
{
	char *r;

	(void)state;
	for (enum markup_format f = MARKUP_PLAIN; f <= MARKUP_MARKDOWN; f++) {
		r = markup_render("<b>a\xc3</b>\xff\xfe\n• \xe4\xb8", f);
		assert_true(utf8_valid(r, strlen(r)));
		assert_non_null(strstr(r, "\xef\xbf\xbd"));
		free(r);
	}
}

/* Count of "**" that are marks (not escaped) in s. */
static size_t
bold_marks(const char *s)
{
	size_t n = 0;

	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (p[0] == '*' && p[1] == '*')
			n++, p++;
	}
	return n;
}

static size_t
chars_but_spaces(const char *s)
{
	size_t n = utf8_chars(s);

	for (const char *p = s; *p != '\0'; p++)
		n -= *p == ' ';
	return n;
}

static void
split_markdown_10k_line_in_bytes(void **state)
{
	struct buf b, all;
	char **pieces, *r, *plain;
	size_t n;

	(void)state;
	buf_init(&b, 1 << 22);
	buf_init(&all, 1 << 22);
	/* One 10 KB line: bold spans, escapes and CJK text, no line break. */
	for (int i = 0; i < 300; i++)
		buf_printf(&b, "<b>任务%d</b> *_[]`&lt;说明%d&gt;*_ ", i, i);
	assert_true(b.len > 10000);
	r = markup_render(buf_str(&b), MARKUP_MARKDOWN);
	n = markup_split_rendered(r, MARKUP_MARKDOWN, 2000, MARKUP_UNIT_BYTES, &pieces);
	assert_true(n >= 6);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(pieces[i]);

		assert_true(len <= 2000);
		assert_true(utf8_valid(pieces[i], len));
		/* Spans are closed in each piece, escapes never cut from their character. */
		assert_int_equal(bold_marks(pieces[i]) % 2, 0);
		assert_false(pieces[i][len - 1] == '\\' && (len < 2 || pieces[i][len - 2] != '\\'));
		plain = markup_rendered_plain(pieces[i], MARKUP_MARKDOWN);
		buf_puts(&all, plain);
		free(plain);
	}
	/* Nothing lost, nothing added: the pieces read as the whole (spaces at cuts aside). */
	plain = markup_render(buf_str(&b), MARKUP_PLAIN);
	assert_int_equal(chars_but_spaces(buf_str(&all)), chars_but_spaces(plain));
	free(plain);
	markup_pieces_free(pieces, n);
	free(r);
	buf_free(&all);
	buf_free(&b);
}

static void
split_cjk_near_byte_limit(void **state)
{
	struct buf b;
	char **pieces;
	size_t n, chars = 0;

	(void)state;
	buf_init(&b, 1 << 20);
	/* 101 three-byte characters against 100 bytes: a cut must fall between characters. */
	for (int i = 0; i < 101; i++)
		buf_puts(&b, "办");
	for (enum markup_format f = MARKUP_PLAIN; f <= MARKUP_MARKDOWN; f++) {
		n = markup_split_rendered(buf_str(&b), f, 100, MARKUP_UNIT_BYTES, &pieces);
		assert_true(n >= 4);
		chars = 0;
		for (size_t i = 0; i < n; i++) {
			assert_true(strlen(pieces[i]) <= 100);
			assert_true(utf8_valid(pieces[i], strlen(pieces[i])));
			chars += utf8_chars(pieces[i]);
		}
		assert_int_equal(chars, 101);
		markup_pieces_free(pieces, n);
	}
	/* The same text is 101 UTF-16 units: one piece under Telegram's limit. */
	n = markup_split_rendered(buf_str(&b), MARKUP_HTML, 4096, MARKUP_UNIT_UTF16, &pieces);
	assert_int_equal(n, 1);
	markup_pieces_free(pieces, n);
	buf_free(&b);
}

static void
split_markdown_keeps_lines(void **state)
{
	char **pieces, *r;
	size_t n;

	(void)state;
	r = markup_render(task_list, MARKUP_MARKDOWN);
	n = markup_split_rendered(r, MARKUP_MARKDOWN, 60, MARKUP_UNIT_BYTES, &pieces);
	assert_true(n >= 2);
	for (size_t i = 0; i < n; i++) {
		assert_true(strlen(pieces[i]) <= 60);
		assert_int_equal(bold_marks(pieces[i]) % 2, 0);
	}
	/* Whole lines: the first piece is the heading, the item starts the next one. */
	assert_string_equal(pieces[0], "**市扶贫办** 的任务(2项):");
	assert_int_equal(strncmp(pieces[1], "- **2.4**", strlen("- **2.4**")), 0);
	markup_pieces_free(pieces, n);
	free(r);
}

#ifdef CMARK_BIN
/*
 * What a CommonMark reader (cmark, the reference implementation) makes of
 * a Markdown rendering: the bot's formatting where it meant formatting, the
 * user's text as typed everywhere else.
 */
static char *
cmark_html(const char *md)
{
	char path[64], cmd[256], chunk[4096];
	struct buf out;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/tmp/test_markup.%d.md", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(md, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s --to html %s", CMARK_BIN, path);
	f = popen(cmd, "r");
	assert_non_null(f);
	buf_init(&out, 1 << 20);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&out, chunk, n);
	assert_int_equal(pclose(f), 0);
	unlink(path);
	return buf_steal(&out);
}

static char *
html_escaped(const char *s)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	for (; *s != '\0'; s++) {
		if (*s == '<')
			buf_puts(&b, "&lt;");
		else if (*s == '>')
			buf_puts(&b, "&gt;");
		else if (*s == '&')
			buf_puts(&b, "&amp;");
		else if (*s == '"')
			buf_puts(&b, "&quot;");
		else
			buf_append(&b, s, 1);
	}
	return buf_steal(&b);
}

static void
commonmark_reads_user_text_as_typed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		char *m = markup_escape_dup(hostile[i]);
		char *r = markup_render(m, MARKUP_MARKDOWN);
		char *html = cmark_html(r), *want;
		const char *typed = hostile[i];
		struct buf p;

		while (*typed == ' ')
			typed++;
		want = html_escaped(typed);
		buf_init(&p, 1 << 20);
		buf_printf(&p, "<p>%s</p>\n", want);
		/* One plain paragraph: no heading, quote, list, rule, link, emphasis or code. */
		assert_string_equal(html, buf_str(&p));
		buf_free(&p);
		free(want);
		free(html);
		free(r);
		free(m);
	}
}

static void
commonmark_reads_our_formatting(void **state)
{
	char *r = markup_render(task_list, MARKUP_MARKDOWN);
	char *html = cmark_html(r);

	(void)state;
	assert_string_equal(html,
	    "<p><strong>市扶贫办</strong> 的任务(2项):</p>\n"
	    "<ul>\n"
	    "<li><strong>2.4</strong> 启动“百企帮百村”活动<br />\n"
	    "10月17日截止,还有9天 · 60%</li>\n"
	    "<li><strong>2.5</strong> 组织&lt;大走访&gt;</li>\n"
	    "</ul>\n"
	    "<p>发 /task 编号 查看详情。</p>\n");
	free(html);
	free(r);
	/* Bold around CJK quotes, italics and code; lines stay lines. */
	r = markup_render("我是<b>“扶贫日”</b>的助手\n<i>注意</i>:发<code>/bind 码</code>", MARKUP_MARKDOWN);
	html = cmark_html(r);
	assert_string_equal(html, "<p>我是 <strong>“扶贫日”</strong> 的助手<br />\n"
	    "<em>注意</em>:发<code>/bind 码</code></p>\n");
	free(html);
	free(r);
}
/* Every piece of a long line cut for a byte limit still reads as text. */
static void
commonmark_reads_cut_pieces_as_text(void **state)
{
	struct buf b;
	char **pieces, *m, *r;
	size_t n;

	(void)state;
	buf_init(&b, 1 << 20);
	for (int i = 0; i < 300; i++)
		buf_puts(&b, i % 2 ? "- # 1. 第一项    ======    " : "> +      ---  <b>粗</b> ");
	for (int i = 0; i < 300; i++)         /* nowhere a letter to cut before */
		buf_puts(&b, "- # = + ");
	m = markup_escape_dup(buf_str(&b));
	r = markup_render(m, MARKUP_MARKDOWN);
	n = markup_split_rendered(r, MARKUP_MARKDOWN, 200, MARKUP_UNIT_BYTES, &pieces);
	assert_true(n >= 20);
	for (size_t i = 0; i < n; i++) {
		char *html = cmark_html(pieces[i]);

		assert_true(strlen(pieces[i]) <= 200);
		assert_int_equal(strncmp(html, "<p>", 3), 0);
		assert_null(strstr(html, "<ul>"));
		assert_null(strstr(html, "<ol>"));
		assert_null(strstr(html, "<h"));
		assert_null(strstr(html, "<pre>"));
		assert_null(strstr(html, "<blockquote>"));
		assert_null(strstr(html, "<strong>"));  /* the user's <b> is text */
		free(html);
	}
	markup_pieces_free(pieces, n);
	free(r);
	free(m);
	buf_free(&b);
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escape_and_plain),
		cmocka_unit_test(split_short_is_one_piece),
		cmocka_unit_test(split_on_lines),
		cmocka_unit_test(split_long_line_by_utf16),
		cmocka_unit_test(no_limit),
		cmocka_unit_test(render_html_is_the_markup),
		cmocka_unit_test(render_plain),
		cmocka_unit_test(render_markdown),
		cmocka_unit_test(render_markdown_escapes_user_text),
		cmocka_unit_test(render_invalid_utf8),
		cmocka_unit_test(split_markdown_10k_line_in_bytes),
		cmocka_unit_test(split_cjk_near_byte_limit),
		cmocka_unit_test(split_markdown_keeps_lines),
#ifdef CMARK_BIN
		cmocka_unit_test(commonmark_reads_user_text_as_typed),
		cmocka_unit_test(commonmark_reads_our_formatting),
		cmocka_unit_test(commonmark_reads_cut_pieces_as_text),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
