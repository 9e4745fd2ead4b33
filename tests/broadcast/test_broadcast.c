/*
 * Broadcasts on a real store: what text is accepted, who gets a delivery
 * (subscribed chats and bound users, of the targeted units), the event for
 * MQTT, all-or-nothing writing, the status counts and reasons, the sender's
 * expiry rule, and a v1 database upgrading to the schema that holds them.
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
#include <jansson.h>

#include "campaign/broadcast.h"
#include "campaign/caldate.h"
#include "campaign/chats.h"
#include "campaign/clock.h"
#include "campaign/events.h"
#include "campaign/plandb.h"
#include "campaign/textnorm.h"
#include "campaign/users.h"
#include "seeddb.h"
#include "store_schema.h"

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
	textnorm_shutdown();
	return 0;
}

static int64_t
count(struct seeddb *f, const char *sql)
{
	sqlite3_stmt *st = store_stmt(f->store, sql);
	int64_t n = -1;

	assert_non_null(st);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

/* A telegram user bound to a unit, with an active private chat. */
static void
staff(struct seeddb *f, const char *user, const char *unit_name)
{
	assert_int_equal(users_bind(f->store, "telegram", user, NULL,
	    f->plan->units[seeddb_unit(f, unit_name)].id, NOW), 0);
	assert_int_equal(chats_seen(f->store, "telegram", user, CHAT_PRIVATE, NULL, user,
	    false, NOW), 0);
}

static void
people(struct seeddb *f)
{
	staff(f, "101", "市扶贫办");
	staff(f, "102", "市扶贫办");
	staff(f, "201", "市委宣传部");
	staff(f, "301", "xx日报");
	/* Blocked the bot: bound, but inactive. */
	staff(f, "302", "xx日报");
	assert_int_equal(chats_set_active(f->store, "telegram", "302", false, "blocked", NOW), 0);
	/* Someone who only asked questions: no unit, not subscribed. */
	assert_int_equal(chats_seen(f->store, "telegram", "999", CHAT_PRIVATE, NULL, "999",
	    false, NOW), 0);
	/* The office's group, subscribed; another group that is not. */
	assert_int_equal(chats_seen(f->store, "telegram", "-100", CHAT_GROUP, "办公室", NULL,
	    false, NOW), 0);
	assert_int_equal(chats_set_subscribed(f->store, "telegram", "-100", true, NOW), 0);
	assert_int_equal(chats_seen(f->store, "telegram", "-200", CHAT_GROUP, "闲聊", NULL,
	    false, NOW), 0);
}

static void
text_rules(void **state)
{
	char err[256], *out, *big;
	size_t n = BROADCAST_TEXT_MAX_UNITS;

	(void)state;
	assert_int_equal(broadcast_text_clean("", &out, err, sizeof(err)), -1);
	assert_string_equal(err, "the text is empty");
	assert_int_equal(broadcast_text_clean(" \t\n\xe3\x80\x80 ", &out, err, sizeof(err)), -1);
	assert_int_equal(broadcast_text_clean(NULL, &out, err, sizeof(err)), -1);
	assert_int_equal(broadcast_text_clean("\xe3\x80\x80 明天开会\r\n请准时 \n", &out, err,
	    sizeof(err)), 0);
	assert_string_equal(out, "明天开会\n请准时");
	free(out);
	assert_int_equal(broadcast_text_clean("ok\x07", &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "U+0007"));
	assert_int_equal(broadcast_text_clean("a\xc2\x85", &out, err, sizeof(err)), -1);
	assert_int_equal(broadcast_text_clean("abc\xff", &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "UTF-8 (byte 4)"));
	/* The limit counts UTF-16 units: exactly at it passes, one more fails. */
	big = malloc(n * 3 + 8);
	for (size_t i = 0; i < n; i++)
		memcpy(big + i * 3, "通", 3);
	big[n * 3] = '\0';
	assert_int_equal(broadcast_text_clean(big, &out, err, sizeof(err)), 0);
	free(out);
	memcpy(big + (n - 1) * 3, "\xf0\x9f\x98\x80", 5);  /* an emoji is two units */
	assert_int_equal(broadcast_text_clean(big, &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "at most 3800"));
	free(big);
}

/* The chat ids a broadcast went to, sorted, joined with spaces. */
static void
targets_of(struct seeddb *f, int64_t id, char *out, size_t len)
{
	sqlite3_stmt *st = store_stmt(f->store, "SELECT group_concat(chat_id, ' ') FROM "
	    "(SELECT chat_id FROM deliveries WHERE kind = 'broadcast' AND ref = ?1 "
	    "ORDER BY chat_id)");
	const unsigned char *t;

	sqlite3_bind_int64(st, 1, id);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	t = sqlite3_column_text(st, 0);
	snprintf(out, len, "%s", t != NULL ? (const char *)t : "");
	sqlite3_reset(st);
}

static void
fan_out_to_everyone(void **state)
{
	struct seeddb *f = *state;
	struct broadcast_request rq = { .text = "明天9点开会 <b>带材料</b> & 准时",
		.platform = "cli", .user_id = "admin" };
	struct broadcast_sent sent;
	struct broadcast_info b;
	struct event e;
	json_t *payload;
	char err[256], got[256];
	struct delivery d;

	people(f);
	assert_int_equal(broadcast_create(f->store, f->plan, &rq, NOW, &sent, err,
	    sizeof(err)), 0);
	assert_int_equal(sent.chats, 5);
	targets_of(f, sent.id, got, sizeof(got));
	assert_string_equal(got, "-100 101 102 201 301");
	/* The text is plain for the chat: escaped, under a heading. */
	assert_int_equal(count(f, "SELECT count(*) FROM deliveries WHERE text = "
	    "'📢 <b>活动通知</b>' || char(10) || "
	    "'明天9点开会 &lt;b&gt;带材料&lt;/b&gt; &amp; 准时'"), 5);
	assert_int_equal(count(f, "SELECT count(*) FROM deliveries WHERE expires_at IS NULL"), 5);
	/* One announcement event, with what the bridge and displays read. */
	assert_int_equal(events_get(f->store, sent.event_id, &e), 1);
	assert_string_equal(e.type, "announcement");
	assert_string_equal(e.campaign, "fupinri");
	payload = json_loads(e.payload, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(payload, "text")), rq.text);
	assert_int_equal(json_integer_value(json_object_get(payload, "broadcast")), sent.id);
	assert_int_equal(json_integer_value(json_object_get(payload, "chats")), 5);
	assert_true(json_is_null(json_object_get(payload, "units")));
	assert_null(json_object_get(payload, "expires_at"));
	json_decref(payload);
	event_clear(&e);
	assert_int_equal(broadcast_get(f->store, sent.id, &b), 1);
	assert_int_equal(b.counts.pending, 5);
	assert_int_equal(b.chats, 5);
	assert_int_equal(b.event_state, EVENT_PENDING);
	assert_string_equal(b.user_id, "admin");
	assert_int_equal(b.nunits, 0);
	broadcast_info_clear(&b);
	/* Deliveries carry kind and ref, as the sender and the status read them. */
	assert_int_equal(outbox_chat_head(f->store, "telegram", "101", &d), 1);
	assert_string_equal(d.kind, OUTBOX_BROADCAST);
	assert_int_equal(d.ref, sent.id);
	assert_true(d.markup);
	delivery_clear(&d);
}

static void
targeted_units_and_expiry(void **state)
{
	struct seeddb *f = *state;
	size_t units[] = { seeddb_unit(f, "市委宣传部"), seeddb_unit(f, "xx日报") };
	struct broadcast_request rq = { .text = "宣传口明早开会", .units = units, .nunits = 2,
		.ttl = 7200, .platform = "telegram", .user_id = "900" };
	struct broadcast_sent sent;
	struct broadcast_info b;
	struct event e;
	json_t *payload;
	char err[256], got[256];

	people(f);
	assert_int_equal(broadcast_create(f->store, f->plan, &rq, NOW, &sent, err,
	    sizeof(err)), 0);
	/* The subscribed group always; staff of the two units only (302 blocked the bot). */
	targets_of(f, sent.id, got, sizeof(got));
	assert_string_equal(got, "-100 201 301");
	assert_int_equal(count(f, "SELECT count(*) FROM deliveries WHERE expires_at = "
	    "1822957200 + 7200"), 3);
	assert_int_equal(count(f, "SELECT count(*) FROM deliveries WHERE text LIKE "
	    "'%致 市委宣传部、xx日报%'"), 3);
	assert_int_equal(events_get(f->store, sent.event_id, &e), 1);
	payload = json_loads(e.payload, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(payload, "expires_at")),
	    "2027-10-08T11:00:00+08:00");
	assert_string_equal(json_string_value(json_array_get(json_object_get(payload, "units"),
	    1)), "xx日报");
	json_decref(payload);
	event_clear(&e);
	assert_int_equal(broadcast_get(f->store, sent.id, &b), 1);
	assert_int_equal(b.nunits, 2);
	assert_string_equal(b.units[0], "市委宣传部");
	assert_int_equal(b.expires_at, NOW + 7200);
	broadcast_info_clear(&b);
	/* Refused: a ttl out of range, a bad text. Nothing written. */
	rq.ttl = BROADCAST_TTL_MAX + 1;
	assert_int_equal(broadcast_create(f->store, f->plan, &rq, NOW, &sent, err,
	    sizeof(err)), -1);
	rq.ttl = 0;
	rq.text = "   ";
	assert_int_equal(broadcast_create(f->store, f->plan, &rq, NOW, &sent, err,
	    sizeof(err)), -1);
	assert_int_equal(count(f, "SELECT count(*) FROM broadcasts"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM events"), 1);
}

static void
all_or_nothing(void **state)
{
	struct seeddb *f = *state;
	struct broadcast_request rq = { .text = "test", .platform = "cli" };
	struct broadcast_sent sent;
	char err[256];

	people(f);
	/* The fourth delivery fails: the row, the event and the first three roll back. */
	assert_int_equal(store_exec(f->store, "CREATE TEMP TRIGGER poison BEFORE INSERT ON "
	    "deliveries WHEN NEW.chat_id = '201' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"),
	    0);
	assert_int_equal(broadcast_create(f->store, f->plan, &rq, NOW, &sent, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "disk on fire"));
	assert_int_equal(count(f, "SELECT count(*) FROM broadcasts"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM events"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM deliveries"), 0);
	assert_false(store_in_transaction(f->store));
	assert_int_equal(store_exec(f->store, "DROP TRIGGER poison"), 0);
	assert_int_equal(broadcast_create(f->store, f->plan, &rq, NOW, &sent, err,
	    sizeof(err)), 0);
	assert_int_equal(sent.id, 1);   /* nobody ever saw the failed one */
	assert_int_equal(count(f, "SELECT count(*) FROM deliveries"), 5);
}

static void
status_counts_and_reasons(void **state)
{
	struct seeddb *f = *state;
	struct broadcast_request rq = { .text = "状态", .platform = "cli", .ttl = 3600 };
	struct broadcast_sent sent;
	struct broadcast_info *list, none;
	struct outbox_failure *fails;
	struct delivery d;
	size_t n;
	char err[256];

	people(f);
	assert_int_equal(broadcast_create(f->store, f->plan, &rq, NOW, &sent, err,
	    sizeof(err)), 0);
	assert_int_equal(outbox_chat_head(f->store, "telegram", "101", &d), 1);
	assert_false(outbox_expired(&d, NOW + 3599));
	assert_true(outbox_expired(&d, NOW + 3600));
	assert_int_equal(outbox_mark_sent(f->store, d.id, NOW), 0);
	delivery_clear(&d);
	assert_int_equal(outbox_fail_chat(f->store, "telegram", "102", "Forbidden: bot was "
	    "blocked by the user", NOW), 1);
	assert_int_equal(outbox_fail_chat(f->store, "telegram", "201", "Forbidden: bot was "
	    "blocked by the user", NOW), 1);
	assert_int_equal(outbox_chat_head(f->store, "telegram", "301", &d), 1);
	assert_int_equal(outbox_mark_failed(f->store, d.id, "expired", NOW), 0);
	delivery_clear(&d);
	assert_int_equal(broadcast_create(f->store, f->plan, &rq, NOW, &sent, err,
	    sizeof(err)), 0);
	assert_int_equal(broadcast_recent(f->store, 10, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].id, 2);        /* newest first */
	assert_int_equal(list[0].counts.pending, 5);
	assert_int_equal(list[1].counts.sent, 1);
	assert_int_equal(list[1].counts.failed, 3);
	assert_int_equal(list[1].counts.pending, 1);
	broadcasts_free(list, n);
	assert_int_equal(outbox_failures(f->store, OUTBOX_BROADCAST, 1, &fails, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(fails[0].error, "Forbidden: bot was blocked by the user");
	assert_int_equal(fails[0].count, 2);
	assert_string_equal(fails[1].error, "expired");
	outbox_failures_free(fails, n);
	assert_int_equal(broadcast_get(f->store, 99, &none), 0);
}

/* A database written by schema v1 (before broadcasts) opens and upgrades in place. */
static void
v1_database_upgrades(void **state)
{
	struct seeddb *f = *state;
	char path[160], err[256];
	sqlite3 *db;
	struct store *s;
	struct delivery d;

	(void)f;
	snprintf(path, sizeof(path), "%s/v1.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, store_migrations[0], NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 1;"
	    "INSERT INTO chats(platform, chat_id, kind, subscribed, created_at) "
	    "VALUES('telegram', '-5', 'group', 1, 1);"
	    "INSERT INTO deliveries(platform, chat_id, kind, text, created_at) "
	    "VALUES('telegram', '-5', 'reply', 'queued before the upgrade', 1);",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	s = store_open(path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(store_schema_version(s), store_schema_latest());
	/* What was queued survives, without an expiry; the new tables work. */
	assert_int_equal(outbox_chat_head(s, "telegram", "-5", &d), 1);
	assert_string_equal(d.text, "queued before the upgrade");
	assert_int_equal(d.expires_at, 0);
	delivery_clear(&d);
	assert_int_equal(store_exec(s, "INSERT INTO reminders_sent(task_id, unit_id, kind, day, "
	    "sent_at) VALUES('2.4', 1, 'before-7', 21100, 1)"), 0);
	assert_int_equal(store_exec(s, "INSERT INTO broadcasts(text, created_at, chats, "
	    "platform) VALUES('x', 1, 0, 'cli')"), 0);
	store_close(s);
	/* Opening it again migrates nothing. */
	s = store_open(path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(store_schema_version(s), store_schema_latest());
	store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_rules),
		cmocka_unit_test_setup_teardown(fan_out_to_everyone, setup, teardown),
		cmocka_unit_test_setup_teardown(targeted_units_and_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(status_counts_and_reasons, setup, teardown),
		cmocka_unit_test_setup_teardown(v1_database_upgrades, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
