/* The chat outbox and chats: order per chat, dedupe keys, 403, migration, targets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "campaign/chats.h"
#include "campaign/outbox.h"
#include "campaign/store.h"
#include "campaign/users.h"

static struct store *
fresh(char *path, size_t len)
{
	char err[256];
	struct store *s;

	snprintf(path, len, "/tmp/test_outbox.%d.db", (int)getpid());
	unlink(path);
	s = store_open(path, err, sizeof(err));
	if (s == NULL)
		fail_msg("%s", err);
	return s;
}

static void
done(struct store *s, const char *path)
{
	char wal[300];

	store_close(s);
	unlink(path);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", path);
	unlink(wal);
}

static int64_t
put(struct store *s, const char *chat, const char *text, const char *key)
{
	struct outbox_item it = { .platform = "telegram", .chat_id = chat, .text = text,
		.dedupe_key = key };

	return outbox_enqueue(s, &it, 1000);
}

static void
heads_in_order(void **state)
{
	char path[256];
	struct store *s = fresh(path, sizeof(path));
	struct delivery *d;
	size_t n;
	int64_t a1 = put(s, "1", "a1", NULL), b1 = put(s, "2", "b1", NULL);

	(void)state;
	put(s, "1", "a2", NULL);
	assert_int_equal(outbox_heads(s, "telegram", 10, &d, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(d[0].id, a1);
	assert_int_equal(d[1].id, b1);
	assert_string_equal(d[0].chat_kind, "private");
	deliveries_free(d, n);
	assert_int_equal(outbox_mark_sent(s, a1, 2000), 0);
	assert_int_equal(outbox_heads(s, "telegram", 10, &d, &n), 0);
	assert_string_equal(d[0].text, "b1");
	assert_string_equal(d[1].text, "a2");
	deliveries_free(d, n);
	assert_int_equal(outbox_pending(s, "telegram"), 2);
	done(s, path);
}

static void
dedupe_key(void **state)
{
	char path[256];
	struct store *s = fresh(path, sizeof(path));

	(void)state;
	assert_true(put(s, "1", "x", "reminder:2.4:1:d3") > 0);
	assert_int_equal(put(s, "1", "x", "reminder:2.4:1:d3"), 0);
	assert_int_equal(outbox_pending(s, "telegram"), 1);
	done(s, path);
}

static void
blocked_and_moved(void **state)
{
	char path[256];
	struct store *s = fresh(path, sizeof(path));
	struct chat_info info;
	struct delivery *d;
	size_t n;

	(void)state;
	assert_int_equal(chats_seen(s, "telegram", "-5", CHAT_GROUP, "Unit A", NULL, false, 1),
	    0);
	assert_int_equal(chats_set_subscribed(s, "telegram", "-5", true, 1), 0);
	put(s, "-5", "g1", NULL);
	put(s, "7", "p1", NULL);
	put(s, "7", "p2", NULL);
	assert_int_equal(chats_migrate(s, "telegram", "-5", "-1005", 2), 0);
	assert_int_equal(chats_get(s, "telegram", "-1005", &info), 0);
	assert_true(info.known && info.active && info.subscribed);
	assert_string_equal(info.kind, "group");
	chat_info_clear(&info);
	assert_int_equal(chats_get(s, "telegram", "-5", &info), 0);
	assert_false(info.active);
	chat_info_clear(&info);
	assert_int_equal(outbox_heads(s, "telegram", 10, &d, &n), 0);
	assert_string_equal(d[0].chat_id, "-1005");
	assert_string_equal(d[0].chat_kind, "group");
	deliveries_free(d, n);
	/* 403: the chat goes inactive and its pending deliveries fail. */
	assert_int_equal(chats_set_active(s, "telegram", "7", false, "blocked", 3), 0);
	assert_int_equal(outbox_fail_chat(s, "telegram", "7", "blocked", 3), 2);
	assert_int_equal(outbox_pending(s, "telegram"), 1);
	done(s, path);
}

static void
targets(void **state)
{
	char path[256];
	struct store *s = fresh(path, sizeof(path));
	struct chat_ref *t;
	size_t n;

	(void)state;
	assert_int_equal(store_exec(s, "INSERT INTO units(id, name, norm, seq) VALUES "
	    "(1, 'A', 'a', 1), (2, 'B', 'b', 2)"), 0);
	users_bind(s, "telegram", "10", NULL, 1, 1);
	users_bind(s, "telegram", "20", NULL, 2, 1);
	chats_seen(s, "telegram", "10", CHAT_PRIVATE, NULL, "10", false, 1);
	chats_seen(s, "telegram", "20", CHAT_PRIVATE, NULL, "20", false, 1);
	chats_seen(s, "telegram", "-9", CHAT_GROUP, "G", NULL, false, 1);
	chats_set_subscribed(s, "telegram", "-9", true, 1);
	assert_int_equal(chats_targets(s, NULL, 0, &t, &n), 0);
	assert_int_equal(n, 3);
	chat_refs_free(t, n);
	{
		int64_t only = 2;

		assert_int_equal(chats_targets(s, &only, 1, &t, &n), 0);
		assert_int_equal(n, 2);        /* the subscribed group and user 20 */
		chat_refs_free(t, n);
	}
	chats_set_active(s, "telegram", "20", false, "blocked", 2);
	assert_int_equal(chats_targets(s, NULL, 0, &t, &n), 0);
	assert_int_equal(n, 2);
	chat_refs_free(t, n);
	done(s, path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(heads_in_order),
		cmocka_unit_test(dedupe_key),
		cmocka_unit_test(blocked_and_moved),
		cmocka_unit_test(targets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
