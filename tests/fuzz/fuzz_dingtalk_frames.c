/*
 * libFuzzer target: one Stream-mode frame from the DingTalk gateway, any
 * bytes. The driver (driver_dingtalk.c, compiled into this file to reach
 * its static functions) is fresh for each input and takes the frame as its
 * open connection would; its WebSocket never connected, so every ACK must
 * fail harmlessly. Bot messages reach a host whose batch() checks the event
 * and runs it through intake and the core against the seed plan, in a
 * transaction rolled back afterwards.
 */
#include "fuzz_common.h"

#include "../../bot/driver_dingtalk.c"

#include "fuzz_host.h"

static int
host_batch(void *ctx, const struct chat_batch *b)
{
	(void)ctx;
	return fuzz_apply_batch(b, "dingtalk");
}

/* Receiving never sends, so no send result can come. */
static void
host_sent(void *ctx, int64_t delivery_id, const struct send_result *r)
{
	(void)ctx;
	(void)delivery_id;
	(void)r;
	abort();
}

/* Only the gateway's open answer may be fatal, never a frame. */
static void
host_fatal(void *ctx, const char *message)
{
	(void)ctx;
	fprintf(stderr, "fuzz_dingtalk_frames: fatal from a frame: %s\n", message);
	abort();
}

static struct driver_host host = { .batch = host_batch, .cursor = fuzz_host_cursor,
	.sent = host_sent, .kick = fuzz_host_kick, .input_closed = fuzz_host_kick,
	.fatal = host_fatal };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_host_init(&host);
	cfg->dingtalk.client_id = xstrdup("dingfuzzclient");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct driver *d = driver_dingtalk_new(&host, cfg, "fuzzsecret");
	struct dingtalk *t = d->priv;

	t->state = DT_OPEN;     /* as after link_open, without a socket */
	nbatches = 0;
	link_message(t, (const char *)data, size);
	if (nbatches > 1)
		abort();
	d->ops->free(d);
	return 0;
}
