/*
 * dbwatch on a real database: another connection's commit wakes the watcher
 * and becomes visible through store_changed; the re-check schedule backs off
 * and stops.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "campaign/dbwatch.h"
#include "campaign/store.h"

static void
test_other_connection_wakes_the_watch(void **state)
{
	char dir[] = "/tmp/campaign-dbwatch-XXXXXX", path[64], err[256], cmd[96];
	struct store *s;
	struct dbwatch *w;
	struct pollfd pfd;
	sqlite3 *other;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/campaign.db", dir);
	s = store_open(path, err, sizeof(err));
	assert_non_null(s);
	w = dbwatch_open(path);
	assert_true(dbwatch_fd(w) >= 0);
	dbwatch_drain(w);
	assert_false(store_changed(s));

	assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "INSERT INTO kv(key, value) VALUES('k', 'v')",
	    NULL, NULL, NULL), SQLITE_OK);
	pfd = (struct pollfd){ .fd = dbwatch_fd(w), .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_true(dbwatch_drain(w));
	assert_true(store_changed(s));
	assert_false(store_changed(s));     /* seen once */

	/* A commit notified in the middle of a re-check series starts it over. */
	assert_int_equal(dbwatch_recheck_ms(w, false), 1);
	assert_int_equal(dbwatch_recheck_ms(w, false), 2);
	assert_int_equal(sqlite3_exec(other, "UPDATE kv SET value = 'w'", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_true(dbwatch_drain(w));
	assert_int_equal(dbwatch_recheck_ms(w, false), 1);
	sqlite3_close(other);

	dbwatch_close(w);
	store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_recheck_schedule(void **state)
{
	struct dbwatch *w = dbwatch_open("/tmp/nonexistent-dir-for-dbwatch/x.db");
	int total = 0, n = 0, ms;

	(void)state;
	/* Nothing visible yet: growing waits, then give up within a second or two. */
	while ((ms = dbwatch_recheck_ms(w, false)) >= 0) {
		assert_true(ms > 0);
		total += ms;
		n++;
		assert_true(n < 20);
	}
	assert_true(total >= 500 && total <= 2000);
	/* Seen: stop at once, and the next notification starts from the shortest wait. */
	assert_int_equal(dbwatch_recheck_ms(w, false), 1);
	assert_int_equal(dbwatch_recheck_ms(w, true), -1);
	assert_int_equal(dbwatch_recheck_ms(w, false), 1);
	dbwatch_close(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_other_connection_wakes_the_watch),
		cmocka_unit_test(test_recheck_schedule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
