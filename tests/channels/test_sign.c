/*
 * The group robots' signatures against vectors computed independently with
 * Python's hmac, base64 and urllib.parse.quote_plus:
 *   DingTalk: quote_plus(b64encode(hmac.new(secret, ts + "\n" + secret, sha256)))
 *   Feishu:   b64encode(hmac.new(ts + "\n" + secret, b"", sha256))
 * and the URLs each kind posts to (WeCom's is the registered one: no signature).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "channel_sign.h"

static void
dingtalk_vector(void **state)
{
	char sign[CHANNEL_SIGN_MAX];

	(void)state;
	assert_int_equal(channel_sign_dingtalk("SECtest-secret", 1700000000123, sign), 0);
	assert_string_equal(sign, "y0pgYANLUSMjMfpcgR3VXhLNFtynW99C0SWp4U5wOwg%3D");
}

/* A sign with + and / in its base64: each is percent-encoded for the query. */
static void
dingtalk_vector_encoded(void **state)
{
	char sign[CHANNEL_SIGN_MAX];

	(void)state;
	assert_int_equal(channel_sign_dingtalk("SECtest-secret", 1700000000129, sign), 0);
	assert_string_equal(sign, "1%2FbofVc0jO%2BwdlfpXvIF6i1JqOAPBylayNFzYfphW8k%3D");
}

static void
feishu_vector(void **state)
{
	char sign[CHANNEL_SIGN_MAX];

	(void)state;
	assert_int_equal(channel_sign_feishu("feishu-secret", 1700000000, sign), 0);
	assert_string_equal(sign, "OrBzY1Y01Gq+HgJsl+7OfWcMVwc7YocohQm5iiZwjhU=");
}

static void
urls(void **state)
{
	char *u;

	(void)state;
	u = channel_sign_url(CHANNEL_DINGTALK, "https://oapi.dingtalk.com/robot/send?access_token=T",
	    "SECtest-secret", 1700000000123);
	assert_string_equal(u, "https://oapi.dingtalk.com/robot/send?access_token=T"
	    "&timestamp=1700000000123&sign=y0pgYANLUSMjMfpcgR3VXhLNFtynW99C0SWp4U5wOwg%3D");
	free(u);
	/* Unsigned DingTalk (keyword or IP security), WeCom and Feishu: the URL as registered. */
	u = channel_sign_url(CHANNEL_DINGTALK, "https://h/robot/send?access_token=T", NULL, 1);
	assert_string_equal(u, "https://h/robot/send?access_token=T");
	free(u);
	u = channel_sign_url(CHANNEL_WECOM, "https://h/cgi-bin/webhook/send?key=K", "x", 1);
	assert_string_equal(u, "https://h/cgi-bin/webhook/send?key=K");
	free(u);
	u = channel_sign_url(CHANNEL_FEISHU, "https://h/open-apis/bot/v2/hook/ID", "x", 1);
	assert_string_equal(u, "https://h/open-apis/bot/v2/hook/ID");
	free(u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dingtalk_vector),
		cmocka_unit_test(dingtalk_vector_encoded),
		cmocka_unit_test(feishu_vector),
		cmocka_unit_test(urls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
