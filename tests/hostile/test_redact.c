/*
 * redact: a bot token echoed by an API in any form never reaches a log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "campaign/redact.h"

#define TOKEN "123456:AAE-secret_Half9"

static void
check(const char *in, const char *want)
{
	char text[512];

	snprintf(text, sizeof(text), "%s", in);
	redact_secret(text, TOKEN);
	assert_string_equal(text, want);
	assert_null(strstr(text, "secret_Half9"));
}

static void
every_form(void **state)
{
	(void)state;
	check("GET /bot" TOKEN "/getMe failed", "GET /bot<secret>/getMe failed");
	check("url /bot123456%3AAAE-secret_Half9/x", "url /bot<secret>/x");
	check("url /bot123456%3aAAE-secret_Half9/x", "url /bot<secret>/x");
	check("token AAE-secret_Half9 rejected", "token <secret> rejected");
	check("twice " TOKEN " and AAE-secret_Half9.", "twice <secret> and <secret>.");
	check("nothing here", "nothing here");
	/* an echo cut short, at either end */
	check("error at /bot123456%3aAAE-secret_Hal", "error at /bot<secret>");
	check("...-secret_Half9/getMe", "...<secret>/getMe");
	check("123456 alone is the bot's id, not a secret", "123456 alone is the bot's id, "
	    "not a secret");
}

static void
short_secret_is_starred(void **state)
{
	char text[64] = "pw=abc;";

	(void)state;
	redact_secret(text, "abc");
	assert_string_equal(text, "pw=***;");
	redact_secret(text, "");
	redact_secret(NULL, "abc");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_form),
		cmocka_unit_test(short_secret_is_starred),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
