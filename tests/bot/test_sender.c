/*
 * The sender with a Markdown platform (DingTalk's shape: Markdown, a byte
 * limit): it renders the stored markup in the driver's format, splits it in
 * the driver's unit, says which format each piece is in, and after a
 * refused markup sends what is left as plain text without repeating what
 * already went out. The driver is a stub that records what it was given.
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
#include <sqlite3.h>

#include "campaign/buf.h"
#include "campaign/markup.h"
#include "campaign/outbox.h"
#include "campaign/store.h"
#include "campaign/utf8.h"
#include "campaign/xmalloc.h"
#include "driver.h"
#include "loop.h"
#include "sender.h"

#define PLATFORM "mdstub"
#define MAX_BYTES 300
#define SENT_MAX 64

struct stub {
	struct sender *sender;
	struct loop_timer *answer;
	int64_t pending;                /* delivery whose result is due; 0: none */
	int refuse_at;                  /* the send (0-based) answered SEND_BAD_MARKUP; -1: none */
	char *text[SENT_MAX];
	enum markup_format format[SENT_MAX];
	int n;
};

static struct stub stub;

static bool
stub_can_send(struct driver *d)
{
	(void)d;
	return stub.pending == 0;
}

/* Results come from the loop, never from inside send() (driver.h). */
static void
stub_answer(void *arg)
{
	struct send_result r = { .status = SEND_OK, .detail = "ok" };
	int64_t id = stub.pending;

	(void)arg;
	if (stub.n - 1 == stub.refuse_at)
		r = (struct send_result){ .status = SEND_BAD_MARKUP, .detail = "bad markdown" };
	stub.pending = 0;
	sender_result(stub.sender, id, &r);
}

static int
stub_send(struct driver *d, const struct chat_out *m)
{
	(void)d;
	if (stub.n == SENT_MAX)
		fail_msg("too many sends");
	stub.text[stub.n] = xstrdup(m->text);
	stub.format[stub.n] = m->format;
	stub.n++;
	stub.pending = m->delivery_id;
	loop_timer_at(stub.answer, 0);
	return 0;
}

static bool
stub_idle(struct driver *d)
{
	(void)d;
	return stub.pending == 0;
}

static const struct driver_ops stub_ops = {
	.name = PLATFORM,
	.format = MARKUP_MARKDOWN,
	.max_text = MAX_BYTES,
	.max_unit = MARKUP_UNIT_BYTES,
	.can_send = stub_can_send,
	.send = stub_send,
	.idle = stub_idle,
};

/* A reply the way the bot writes one: a heading, list items, user text with Markdown in it. */
static char *
long_reply(void)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	buf_puts(&b, "<b>市扶贫办</b> 的任务(12项):\n");
	for (int i = 0; i < 12; i++) {
		char *title = markup_escape_dup("# *百企帮百村* [活动] _第二批_ `x` > 引用");

		buf_printf(&b, "• <b>2.%d</b> %s\n   10月17日截止,还有9天 · 60%%\n", i, title);
		free(title);
	}
	buf_puts(&b, "发 /task 编号 查看详情。");
	return buf_steal(&b);
}

/* Sends everything pending through the stub; the delivery's final state (DELIVERY_*). */
static int
drain(struct store *s, int64_t id)
{
	struct loop *l = loop_new();
	struct driver drv = { .ops = &stub_ops };
	struct pace_limits none = { 0 };
	sqlite3_stmt *st;
	int state = -1;

	stub.answer = loop_timer_new(l, stub_answer, NULL);
	stub.sender = sender_new(s, l, &drv, &none);
	sender_kick(stub.sender);
	for (int i = 0; i < 500 && outbox_pending(s, PLATFORM) > 0; i++)
		loop_run_once(l, 10);
	sender_free(stub.sender);
	loop_timer_free(stub.answer);
	loop_free(l);
	st = store_stmt(s, "SELECT state FROM deliveries WHERE id = ?1");
	assert_non_null(st);
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		state = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return state;
}

static struct store *
fresh(char *path, size_t len)
{
	char err[256];
	struct store *s;

	snprintf(path, len, "/tmp/test_sender.%d.db", (int)getpid());
	unlink(path);
	s = store_open(path, err, sizeof(err));
	if (s == NULL)
		fail_msg("%s", err);
	return s;
}

static void
done(struct store *s, const char *path)
{
	char side[300];

	store_close(s);
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	for (int i = 0; i < stub.n; i++)
		free(stub.text[i]);
	memset(&stub, 0, sizeof(stub));
}

static int64_t
enqueue(struct store *s, const char *text)
{
	struct outbox_item it = { .platform = PLATFORM, .chat_id = "staff01",
		.kind = OUTBOX_REPLY, .text = text };

	return outbox_enqueue(s, &it, 1000);
}

static void
markdown_in_bytes(void **state)
{
	char path[256], *text = long_reply();
	struct store *s = fresh(path, sizeof(path));
	int64_t id = enqueue(s, text);
	struct buf all;

	(void)state;
	stub.refuse_at = -1;
	assert_true(id > 0);
	assert_int_equal(drain(s, id), DELIVERY_SENT);
	assert_true(stub.n >= 3);
	buf_init(&all, 1 << 20);
	for (int i = 0; i < stub.n; i++) {
		char *plain = markup_rendered_plain(stub.text[i], MARKUP_MARKDOWN);

		assert_int_equal(stub.format[i], MARKUP_MARKDOWN);
		assert_true(strlen(stub.text[i]) <= MAX_BYTES);
		assert_true(utf8_valid(stub.text[i], strlen(stub.text[i])));
		assert_null(strstr(stub.text[i], "<b>"));
		assert_null(strstr(stub.text[i], "&lt;"));
		buf_puts(&all, plain);
		buf_puts(&all, "\n");
		free(plain);
	}
	/* Bold and items in Markdown; the title's own Markdown escaped. */
	assert_non_null(strstr(stub.text[0], "**市扶贫办**"));
	assert_non_null(strstr(stub.text[1], "- **2."));
	assert_non_null(strstr(stub.text[1], "# \\*百企帮百村\\* \\[活动\\] \\_第二批\\_ \\`x\\` \\> 引用"));
	/* Every item of the reply arrived, once. */
	for (int i = 0; i < 12; i++) {
		char line[64];
		const char *at;

		snprintf(line, sizeof(line), "• 2.%d # *百企帮百村*", i);
		at = strstr(buf_str(&all), line);
		assert_non_null(at);
		assert_null(strstr(at + 1, line));
	}
	buf_free(&all);
	free(text);
	done(s, path);
}

static void
refused_markdown_goes_plain(void **state)
{
	char path[256], *text = long_reply();
	struct store *s = fresh(path, sizeof(path));
	int64_t id = enqueue(s, text);
	char *refused;

	(void)state;
	stub.refuse_at = 1;             /* the second piece is refused */
	assert_int_equal(drain(s, id), DELIVERY_SENT);
	assert_true(stub.n >= 4);
	assert_int_equal(stub.format[0], MARKUP_MARKDOWN);
	assert_int_equal(stub.format[1], MARKUP_MARKDOWN);
	for (int i = 2; i < stub.n; i++) {
		assert_int_equal(stub.format[i], MARKUP_PLAIN);
		assert_true(strlen(stub.text[i]) <= MAX_BYTES);
		assert_null(strstr(stub.text[i], "**"));
		assert_null(strstr(stub.text[i], "\\"));
	}
	/* The plain text starts with the refused piece, not again from the heading. */
	refused = markup_rendered_plain(stub.text[1], MARKUP_MARKDOWN);
	*strchr(refused, '\n') = '\0';
	assert_int_equal(strncmp(stub.text[2], refused, strlen(refused)), 0);
	assert_int_equal(strncmp(refused, "• 2.", strlen("• 2.")), 0);
	assert_null(strstr(stub.text[2], "市扶贫办 的任务"));
	free(refused);
	free(text);
	done(s, path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(markdown_in_bytes),
		cmocka_unit_test(refused_markdown_goes_plain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
