/*
 * The log: one call is one line, whatever text a server or a user put in
 * its arguments (a newline would forge the next line of a journal; an
 * escape sequence would drive an admin's terminal).
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

#include "campaign/log.h"

/* What log_warnx wrote to stderr for one message. */
static char *
logged(const char *untrusted)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	char *out = calloc(1, 4096);

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	log_warnx("test", "frame %s: dropped", untrusted);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	assert_true(fread(out, 1, 4095, tmp) > 0);
	fclose(tmp);
	return out;
}

static void
one_call_one_line(void **state)
{
	char *line = logged("abc\nWARN bot: forged\r\x1b[2J\x7f");

	(void)state;
	assert_non_null(strstr(line, "frame abc?WARN bot: forged??[2J?: dropped\n"));
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
	free(line);
	line = logged("扶贫日 ok");
	assert_non_null(strstr(line, "frame 扶贫日 ok: dropped\n"));  /* UTF-8 untouched */
	free(line);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_call_one_line),
	};

	log_init("test", LOG_LEVEL_DEBUG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
