/*
 * stopping: a process stuck in a long loop after SIGTERM still ends, with
 * status 1 and a line saying why, at its shutdown bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "campaign/stopping.h"

static volatile sig_atomic_t term_seen;

static void
on_term(int sig)
{
	(void)sig;
	term_seen = 1;
	stopping_request(1);
}

static void
busy_after_sigterm_ends_at_bound(void **state)
{
	int fds[2], status;
	char out[256] = "";
	ssize_t n;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		volatile uint64_t spin = 0;

		dup2(fds[1], STDERR_FILENO);
		signal(SIGTERM, on_term);
		raise(SIGTERM);
		if (!stopping_requested() || !term_seen)
			_exit(3);
		for (;;)        /* a loop that never looks at the flag */
			spin++;
	}
	close(fds[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	n = read(fds[0], out, sizeof(out) - 1);
	close(fds[0]);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_true(n > 0);
	assert_non_null(strstr(out, "shutdown bound"));
}

static void
not_requested_by_default(void **state)
{
	(void)state;
	assert_false(stopping_requested());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(not_requested_by_default),
		cmocka_unit_test(busy_after_sigterm_ends_at_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
