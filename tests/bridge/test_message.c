/*
 * Unit tests for the bridge's pure parts: event -> messages (topics,
 * payload, retain, v5 expiry), snapshot topics, and the topic checks in
 * lib/topic.c that keep hostile ids out of topic levels.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "campaign/clock.h"
#include "campaign/topic.h"
#include "message.h"

#define PFX "campaign/fupinri"

static time_t
at(const char *iso)
{
	time_t t;

	assert_int_equal(clock_parse_iso(iso, &t), 0);
	return t;
}

static struct event
event(int64_t id, const char *type, const char *payload)
{
	return (struct event){ .id = id, .type = strdup(type), .campaign = strdup("fupinri"),
	    .ts = strdup("2027-10-08T09:00:00+08:00"), .payload = strdup(payload) };
}

static void
test_topic_level(void **state)
{
	static const char *const good[] = { "2.4", "a_b-c", "任务一", "3.10", "x.y.z" };
	static const char *const bad[] = { "", "a/b", "a+", "#", "..", ".", "a\nb",
	    "a\x7f", "\xc3\x28", "a\xc2\x85" };

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(topic_level_ok(good[i], strlen(good[i])));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(topic_level_ok(bad[i], strlen(bad[i])));
	assert_false(topic_level_ok("a\0b", 3));
	char long_id[TOPIC_LEVEL_MAX + 2];
	memset(long_id, 'a', sizeof(long_id));
	assert_true(topic_level_ok(long_id, TOPIC_LEVEL_MAX));
	assert_false(topic_level_ok(long_id, TOPIC_LEVEL_MAX + 1));
}

static void
test_topic_prefix(void **state)
{
	const char *why;

	(void)state;
	assert_true(topic_prefix_ok("campaign/fupinri", &why));
	assert_true(topic_prefix_ok("城市/扶贫日", &why));
	assert_false(topic_prefix_ok("campaign/#", &why));
	assert_non_null(strstr(why, "wildcard"));
	assert_false(topic_prefix_ok("/campaign", &why));
	assert_false(topic_prefix_ok("a//b", &why));
	assert_false(topic_prefix_ok("campaign/", &why));
	assert_false(topic_prefix_ok("$SYS/x", &why));
	assert_false(topic_prefix_ok("", &why));
	assert_false(topic_prefix_ok("a\tb", &why));
}

static void
test_progress(void **state)
{
	struct event e = event(7, "progress", "{\"task\":{\"id\":\"2.4\",\"due\":\"2027-10-17\"},"
	    "\"unit\":\"市扶贫办\",\"percent\":60,\"id\":999,\"type\":\"forged\"}");
	struct event_messages m;
	char err[128];
	int reason;

	(void)state;
	assert_int_equal(message_from_event(PFX, &e, at("2027-10-08T09:00:00+08:00"), &m,
	    &reason, err, sizeof(err)), 0);
	assert_int_equal(m.n, 1);
	assert_string_equal(m.msg[0].topic, PFX "/events");
	assert_false(m.msg[0].retain);
	assert_int_equal(m.msg[0].expiry, 0);
	assert_string_equal(m.msg[0].content_type, "application/json");
	assert_string_equal(m.msg[0].schema, "campaign-event/1");
	/* The envelope wins over payload keys; Chinese is not escaped. */
	assert_non_null(strstr(m.msg[0].payload, "{\"v\":1,\"id\":7,\"type\":\"progress\","));
	assert_non_null(strstr(m.msg[0].payload, "\"unit\":\"市扶贫办\""));
	assert_null(strstr(m.msg[0].payload, "forged"));
	assert_string_equal(m.task_id, "2.4");
	event_messages_clear(&m);
	event_clear(&e);
}

static void
test_announcement_and_reminder(void **state)
{
	time_t now = at("2027-10-08T09:00:00+08:00");
	struct event a = event(8, "announcement",
	    "{\"text\":\"hi\",\"expires_at\":\"2027-10-08T10:00:00+08:00\"}");
	struct event stale = event(9, "announcement",
	    "{\"text\":\"old\",\"expires_at\":\"2027-10-01T10:00:00+08:00\"}");
	struct event r = event(10, "reminder", "{\"task\":{\"id\":\"2.5\",\"due\":\"2027-10-10\"}}");
	struct event overdue = event(11, "reminder",
	    "{\"task\":{\"id\":\"2.6\",\"due\":\"2027-09-30\"}}");
	struct event nodue = event(12, "reminder", "{\"task\":{\"id\":\"2.6\"}}");
	struct event_messages m;
	char err[128];
	int reason;

	(void)state;
	assert_int_equal(message_from_event(PFX, &a, now, &m, &reason, err, sizeof(err)), 0);
	assert_int_equal(m.n, 2);
	assert_string_equal(m.msg[1].topic, PFX "/announcements");
	assert_int_equal(m.msg[0].expiry, 0);
	assert_int_equal(m.msg[1].expiry, 3600);
	assert_string_equal(m.msg[0].payload, m.msg[1].payload);
	event_messages_clear(&m);
	assert_int_equal(message_from_event(PFX, &stale, now, &m, &reason, err, sizeof(err)), 0);
	assert_int_equal(m.msg[1].expiry, 1);
	event_messages_clear(&m);

	assert_int_equal(message_from_event(PFX, &r, now, &m, &reason, err, sizeof(err)), 0);
	assert_string_equal(m.msg[1].topic, PFX "/reminders");
	assert_int_equal(m.msg[1].expiry, 2 * 86400 + 15 * 3600);   /* to 10-11 00:00 +08 */
	assert_null(m.task_id);
	event_messages_clear(&m);
	/* Past its due day: news until the end of today. */
	assert_int_equal(message_from_event(PFX, &overdue, now, &m, &reason, err, sizeof(err)), 0);
	assert_int_equal(m.msg[1].expiry, 15 * 3600);
	event_messages_clear(&m);
	assert_int_equal(message_from_event(PFX, &nodue, now, &m, &reason, err, sizeof(err)), 0);
	assert_int_equal(m.msg[1].expiry, 0);
	event_messages_clear(&m);
	event_clear(&a);
	event_clear(&stale);
	event_clear(&r);
	event_clear(&overdue);
	event_clear(&nodue);
}

static void
test_refused(void **state)
{
	static const char *const broken[] = { "{\"a\":", "[1,2]", "\"x\"", "{\"a\":1,\"a\":2}",
	    "{\"a\":\"\xff\"}" };
	struct event_messages m;
	char err[128], *big;
	int reason;

	(void)state;
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		struct event e = event(1, "progress", broken[i]);

		assert_int_equal(message_from_event(PFX, &e, 0, &m, &reason, err, sizeof(err)), -1);
		assert_int_equal(reason, MESSAGE_REASON_PAYLOAD_INVALID);
		event_clear(&e);
	}
	big = malloc(EVENTS_PAYLOAD_MAX + 64);
	memset(big, 'x', EVENTS_PAYLOAD_MAX + 63);
	memcpy(big, "{\"t\":\"", 6);
	memcpy(big + EVENTS_PAYLOAD_MAX + 60, "\"}", 3);
	struct event e = event(1, "announcement", big);
	assert_int_equal(message_from_event(PFX, &e, 0, &m, &reason, err, sizeof(err)), -1);
	assert_int_equal(reason, MESSAGE_REASON_TOO_LARGE);
	assert_non_null(strstr(err, "exceeds"));
	event_clear(&e);
	free(big);
	/* A NUL hidden in a string (a task id cut short) is refused outright. */
	struct event nul = event(2, "progress", "{\"task\":{\"id\":\"2.4\\u0000/#\"}}");
	assert_int_equal(message_from_event(PFX, &nul, 0, &m, &reason, err, sizeof(err)), -1);
	assert_int_equal(reason, MESSAGE_REASON_PAYLOAD_INVALID);
	event_clear(&nul);
}

static void
test_snapshots(void **state)
{
	json_t *j = json_pack("{s:s}", "id", "2.4");
	struct message m;

	(void)state;
	assert_int_equal(message_task(PFX, "2.4", j, &m), 0);
	assert_string_equal(m.topic, PFX "/tasks/2.4");
	assert_true(m.retain);
	assert_string_equal(m.payload, "{\"id\":\"2.4\"}");
	message_clear(&m);
	assert_int_equal(message_task(PFX, "x/#", j, &m), -1);
	assert_int_equal(message_task(PFX, "a+b", j, &m), -1);
	assert_int_equal(message_task(PFX, "2.4", NULL, &m), 0);
	assert_null(m.payload);
	assert_int_equal(m.len, 0);
	assert_true(m.retain);
	message_clear(&m);
	message_summary(PFX, j, &m);
	assert_string_equal(m.topic, PFX "/summary");
	message_clear(&m);
	message_status(PFX, false, &m);
	assert_string_equal(m.topic, PFX "/bridge/status");
	assert_string_equal(m.payload, "offline");
	assert_true(m.retain);
	message_clear(&m);
	json_decref(j);
}

/* Every retained payload starts with "v" and the bridge's time; the body cannot replace them. */
static void
test_versioned(void **state)
{
	json_t *body = json_pack("{s:s,s:i,s:s}", "title", "扶贫日", "v", 7, "ts", "forged");
	json_t *o;
	struct message m;

	(void)state;
	o = message_versioned(body, at("2027-10-08T09:00:00+08:00"));
	message_announcements(PFX, o, &m);
	assert_string_equal(m.topic, PFX "/announcements/current");
	assert_true(m.retain);
	assert_string_equal(m.schema, "campaign-announcements/1");
	assert_string_equal(m.payload,
	    "{\"v\":1,\"ts\":\"2027-10-08T09:00:00+08:00\",\"title\":\"扶贫日\"}");
	message_clear(&m);
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topic_level),
		cmocka_unit_test(test_topic_prefix),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_announcement_and_reminder),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_snapshots),
		cmocka_unit_test(test_versioned),
	};
	char err[128];

	if (clock_set_zone("Asia/Shanghai", err, sizeof(err)) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
