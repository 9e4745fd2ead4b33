/*
 * libFuzzer target: a Bot API answer body, any bytes, as tg_api.c's curl
 * completion sees it (tg_api.c is compiled into this file to reach it).
 * The outcome must be one of the four, a TG_API_ERROR must carry a
 * description, and the one-line detail that reaches the log must never
 * hold the token or its secret half, however the body spells it.
 */
#include "fuzz_common.h"

#include "../../bot/tg_api.c"

#define HALF "FUZZsecretTokenHalf"
#define TOKEN "4242:" HALF

static struct tg_api *api;
static CURL *easy;
static int outcome = -1;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz", LOG_LEVEL_ERROR);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	api = tg_api_new("http://127.0.0.1:9", TOKEN);
	easy = curl_easy_init();
	return 0;
}

static void
done(void *arg, struct tg_call *call, const struct tg_result *r)
{
	(void)arg;
	(void)call;
	outcome = (int)r->outcome;
	if (r->outcome > TG_API_ERROR)
		abort();
	if (r->outcome == TG_API_ERROR && r->description == NULL)
		abort();
	/* No piece of 12 bytes or more of the secret half. */
	for (size_t i = 0; i + 12 <= sizeof(HALF) - 1; i++)
		if (memmem(r->detail, strlen(r->detail), HALF + i, 12) != NULL)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tg_call call = { .api = api, .done = done, .retry_after_header = -1 };

	if (size == 0 || size > 64 * 1024)
		return 0;
	buf_init(&call.body, 64 * 1024);
	/* The first byte picks the method's kind: sendMessage skips parsing a plain ok. */
	call.want_result = (data[0] & 1) != 0;
	snprintf(call.method, sizeof(call.method), "%s", call.want_result ? "getUpdates" :
	    "sendMessage");
	buf_append(&call.body, data + 1, size - 1);
	finished(&call, easy, (data[0] & 2) != 0 ? CURLE_RECV_ERROR : CURLE_OK);
	json_decref(call.root);
	buf_free(&call.body);
	return 0;
}
