/*
 * safetext and where it is applied: names and chat titles from a platform
 * are stored without control and direction characters; the output filter
 * escapes them even when a write cuts a character in two.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "campaign/caldate.h"
#include "campaign/chats.h"
#include "campaign/safetext.h"
#include "campaign/users.h"
#include "seeddb.h"

#define RLO "\xe2\x80\xae"      /* U+202E RIGHT-TO-LEFT OVERRIDE */
#define ZWSP "\xe2\x80\x8b"     /* U+200B ZERO WIDTH SPACE */

static void
strip_removes_what_steers(void **state)
{
	char *s = safetext_strip("a\x1b[2J\x07" RLO "b\xc2\x9b" "c\x7f\r\nd\te", true);

	(void)state;
	assert_string_equal(s, "a[2Jbc\nd\te");
	free(s);
	s = safetext_strip("one\ntwo\tthree", false);
	assert_string_equal(s, "one two three");
	free(s);
	s = safetext_strip("bad\xff", false);
	assert_string_equal(s, "bad\xef\xbf\xbd");
	free(s);
	assert_null(safetext_strip(NULL, false));
}

static void
names_refuse_invisible(void **state)
{
	(void)state;
	assert_int_equal(safetext_name_bad("市扶贫办"), 0);
	assert_int_equal(safetext_name_bad("市扶" ZWSP "贫办"), 0x200b);
	assert_int_equal(safetext_name_bad("市扶贫办" RLO), 0x202e);
}

static void
stored_names_are_clean(void **state)
{
	struct seeddb *db = seeddb_new(caldate_from_ymd(2027, 10, 8), 1823000000);
	struct user_info info;

	(void)state;
	assert_int_equal(users_touch(db->store, "telegram", "42", "Eve" RLO "\x1b]0;x\x07",
	    1823000000), 0);
	assert_int_equal(users_get(db->store, "telegram", "42", &info), 0);
	assert_string_equal(info.name, "Eve]0;x");
	user_info_clear(&info);
	assert_int_equal(chats_seen(db->store, "telegram", "-100", "group", "组" RLO "\x1b[31m",
	    NULL, false, 1823000000), 0);
	{
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_prepare_v2(store_db(db->store),
		    "SELECT title FROM chats WHERE chat_id = '-100'", -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(st, 0), "组[31m");
		sqlite3_finalize(st);
	}
	seeddb_free(db);
}

/* The filter in a child writing byte by byte to a pipe; returns what came out. */
static char *
filtered(const char *text)
{
	static char out[512];
	int fds[2], status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		if (safetext_filter_stdio() < 0)
			_exit(2);
		setvbuf(stdout, NULL, _IONBF, 0);
		for (const char *p = text; *p != '\0'; p++)
			fputc(*p, stdout);
		_exit(0);
	}
	close(fds[1]);
	while ((n = read(fds[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return out;
}

static void
filter_escapes_across_writes(void **state)
{
	(void)state;
	assert_string_equal(filtered("x\x1b[2J\x07y"), "x\\u001b[2J\\u0007y");
	assert_string_equal(filtered("任务" RLO "2.4\n"), "任务\\u202e2.4\n");
	assert_string_equal(filtered("tab\tok\xc2\x9b."), "tab\tok\\u009b.");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(strip_removes_what_steers),
		cmocka_unit_test(names_refuse_invisible),
		cmocka_unit_test(stored_names_are_clean),
		cmocka_unit_test(filter_escapes_across_writes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
