/*
 * strindex: the hash behind linear plan loading keeps every key through
 * growth, refuses to overwrite, and answers -1 for what it does not hold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "campaign/strindex.h"

#define N 20000

static void
keeps_every_key(void **state)
{
	static char keys[N][16];
	struct strindex *ix = strindex_new(4);  /* far too small: it must grow */

	(void)state;
	for (size_t i = 0; i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "9.%zu", i);
		assert_int_equal(strindex_put(ix, keys[i], i), i);
	}
	for (size_t i = 0; i < N; i++)
		assert_int_equal(strindex_get(ix, keys[i]), (ssize_t)i);
	/* A second put of a key keeps the first value: how duplicates are found. */
	assert_int_equal(strindex_put(ix, "9.7", 99), 7);
	assert_int_equal(strindex_get(ix, "9.20000"), -1);
	assert_int_equal(strindex_get(ix, ""), -1);
	strindex_free(ix);
	strindex_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keeps_every_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
