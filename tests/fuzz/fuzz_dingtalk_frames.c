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

#include "campaign/cfg.h"
#include "core.h"
#include "intake.h"

static struct store *store;
static struct core *core;
static struct cfg *cfg;
static struct loop *loop;
static size_t nbatches;

/* What every driver promises the core (chat.h), whatever the frame held. */
static void
check_event(const struct chat_event *ev)
{
	if (ev->kind != CHAT_EV_MESSAGE || ev->chat_id == NULL || *ev->chat_id == '\0' ||
	    ev->user_id == NULL || ev->event_id == NULL || ev->chat_kind == NULL)
		abort();
	if (ev->text != NULL && ev->text_len != strlen(ev->text))
		abort();
	if (ev->text == NULL && ev->text_len != 0)
		abort();
	if (ev->file_ref != NULL && ev->file_name == NULL)
		abort();
}

static int
host_batch(void *ctx, const struct chat_batch *b)
{
	size_t napplied;

	(void)ctx;
	if (b->n != 1 || strcmp(b->platform, "dingtalk") != 0)
		abort();
	check_event(&b->events[0]);
	nbatches++;
	if (store_begin(store) < 0)
		abort();
	if (intake_batch(store, core, b, &napplied) < 0) {
		fprintf(stderr, "fuzz_dingtalk_frames: the store refused a message: %s\n",
		    store_errmsg(store));
		abort();
	}
	store_rollback(store);
	return 0;
}

static char *
host_cursor(void *ctx, const char *key)
{
	(void)ctx;
	(void)key;
	return NULL;
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

static void
host_kick(void *ctx)
{
	(void)ctx;
}

/* Only the gateway's open answer may be fatal, never a frame. */
static void
host_fatal(void *ctx, const char *message)
{
	(void)ctx;
	fprintf(stderr, "fuzz_dingtalk_frames: fatal from a frame: %s\n", message);
	abort();
}

static struct driver_host host = { .batch = host_batch, .cursor = host_cursor,
	.sent = host_sent, .kick = host_kick, .input_closed = host_kick, .fatal = host_fatal };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	store = fuzz_seed_store(NULL);
	cfg = cfg_load(NULL, err, sizeof(err));
	if (cfg == NULL)
		abort();
	cfg->dingtalk.client_id = xstrdup("dingfuzzclient");
	core = core_new(store, cfg);
	loop = loop_new();
	host.loop = loop;
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
