/* Send pacing: per chat, per group, overall, and the global pause after a 429. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "pacer.h"

static const struct pace_limits telegram = {
	.per_chat_ms = 1000, .group_max = 20, .group_window_ms = 60000,
	.global_max = 30, .global_window_ms = 1000,
};

static void
per_chat(void **state)
{
	struct pacer *p = pacer_new(&telegram);

	(void)state;
	assert_int_equal(pacer_ready_at(p, "42", false, 1000), 1000);
	pacer_record(p, "42", false, 1000);
	/* A second message to the same chat waits a second (plus the margin) ... */
	assert_int_equal(pacer_ready_at(p, "42", false, 1001), 2000 + PACER_MARGIN_MS);
	/* ... another chat does not. */
	assert_int_equal(pacer_ready_at(p, "43", false, 1001), 1001);
	pacer_free(p);
}

static void
per_group(void **state)
{
	struct pacer *p = pacer_new(&telegram);
	int64_t t = 0;

	(void)state;
	for (int i = 0; i < 20; i++) {
		t = pacer_ready_at(p, "-5", true, t);
		pacer_record(p, "-5", true, t);
	}
	/* The 21st message to the group waits until the first leaves the minute. */
	assert_true(pacer_ready_at(p, "-5", true, t) >= 60000);
	pacer_free(p);
}

/*
 * A chat with windows of its own (a Feishu robot: 100 a minute, 5 a second),
 * on a platform without limits: the sixth message in a second waits for the
 * first to leave it, another chat does not, and a pause of one chat holds
 * only that chat.
 */
static void
chat_windows(void **state)
{
	static const struct pace_limits none = { .chat_window_ms = 60000 };
	static const struct pace_window feishu[] = { { 100, 60000 }, { 5, 1000 } };
	struct pacer *p = pacer_new(&none);

	(void)state;
	pacer_chat_windows(p, "fs", feishu, 2);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(pacer_ready_at(p, "fs", false, 100 + i), 100 + i);
		pacer_record(p, "fs", false, 100 + i);
	}
	assert_int_equal(pacer_ready_at(p, "fs", false, 105), 1100 + PACER_MARGIN_MS);
	/* Setting the same windows again keeps what was recorded. */
	pacer_chat_windows(p, "fs", feishu, 2);
	assert_int_equal(pacer_ready_at(p, "fs", false, 105), 1100 + PACER_MARGIN_MS);
	assert_int_equal(pacer_ready_at(p, "other", false, 105), 105);
	pacer_pause_chat(p, "other", 9000);
	assert_int_equal(pacer_ready_at(p, "other", false, 106), 9000);
	assert_int_equal(pacer_ready_at(p, "third", false, 106), 106);
	pacer_free(p);
}

/* Twenty in any minute (a DingTalk or WeCom robot): the 21st waits out the minute. */
static void
chat_window_minute(void **state)
{
	static const struct pace_limits none = { .chat_window_ms = 60000 };
	static const struct pace_window dingtalk[] = { { 20, 60000 } };
	struct pacer *p = pacer_new(&none);
	int64_t t = 0;

	(void)state;
	for (int i = 0; i < 20; i++) {
		pacer_chat_windows(p, "dt", dingtalk, 1);
		t = pacer_ready_at(p, "dt", false, t);
		pacer_record(p, "dt", false, t);
	}
	assert_int_equal(t, 0);
	pacer_chat_windows(p, "dt", dingtalk, 1);
	assert_int_equal(pacer_ready_at(p, "dt", false, t), 60000 + PACER_MARGIN_MS);
	pacer_free(p);
}

static void
global(void **state)
{
	struct pacer *p = pacer_new(&telegram);
	char chat[16];

	(void)state;
	for (int i = 0; i < 30; i++) {
		snprintf(chat, sizeof(chat), "%d", i);
		pacer_record(p, chat, false, 5000 + i);
	}
	assert_int_equal(pacer_ready_at(p, "999", false, 5030), 6000 + PACER_MARGIN_MS);
	pacer_free(p);
}

static void
pause_all(void **state)
{
	struct pacer *p = pacer_new(&telegram);

	(void)state;
	pacer_pause(p, 9000);
	pacer_pause(p, 4000);   /* an earlier end never shortens a pause */
	assert_int_equal(pacer_ready_at(p, "1", false, 100), 9000);
	pacer_free(p);
}

static void
many_chats(void **state)
{
	struct pace_limits lim = telegram;
	struct pacer *p;
	char chat[16];

	(void)state;
	lim.global_max = 1000;
	p = pacer_new(&lim);
	/* 100k chats over time: stale entries are dropped, lookups stay right. */
	for (int i = 0; i < 100000; i++) {
		snprintf(chat, sizeof(chat), "%d", i);
		pacer_record(p, chat, false, (int64_t)i * 10);
	}
	assert_int_equal(pacer_ready_at(p, "99999", false, 999991), 999990 + 1000 +
	    PACER_MARGIN_MS);
	assert_int_equal(pacer_ready_at(p, "5", false, 999991), 999991);
	pacer_free(p);
}

/* A slow answer: the next message to that chat counts its second from the answer. */
static void
gap_from_the_answer(void **state)
{
	struct pacer *p = pacer_new(&telegram);

	(void)state;
	pacer_record(p, "42", false, 1000);
	pacer_done(p, "42", false, 1000, 1400);
	assert_true(pacer_ready_at(p, "42", false, 1500) >= 2400);
	/* Another chat is not held back by it. */
	assert_int_equal(pacer_ready_at(p, "43", false, 1500), 1500);
	pacer_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(per_chat),
		cmocka_unit_test(per_group),
		cmocka_unit_test(global),
		cmocka_unit_test(chat_windows),
		cmocka_unit_test(chat_window_minute),
		cmocka_unit_test(pause_all),
		cmocka_unit_test(many_chats),
		cmocka_unit_test(gap_from_the_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
