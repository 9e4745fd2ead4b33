/*
 * libFuzzer target: one frame from WeCom's long connection, any bytes after
 * a first byte that sets the driver's state. The driver (driver_wecom.c,
 * compiled into this file to reach its static functions) is fresh for each
 * input: even first byte, just connected and waiting for the answer to
 * aibot_subscribe; odd, subscribed with a ping and a send awaiting their
 * answers (a stream reply when bit 1 is set). Its WebSocket never
 * connected, so whatever it sends must fail harmlessly. Messages reach a
 * host whose batch() checks the event and runs it through intake and the
 * core against the seed plan, in a transaction rolled back afterwards.
 */
#include "fuzz_common.h"

/* Closes are recorded (then done): an answer to nothing we asked must not close. */
#define ws_link_close fuzz_ws_link_close
#include "../../bot/driver_wecom.c"
#undef ws_link_close
void ws_link_close(struct ws_link *k, int code, const char *why);

#include "campaign/cfg.h"
#include "core.h"
#include "intake.h"

#define SUB_REQ "aibot_subscribe_1_1"
#define PING_REQ "ping_1_2"
#define SEND_REQ "aibot_send_msg_1_3"
#define CALLBACK_REQ "callback_req_1"   /* the stream's: a callback's req_id */

static struct store *store;
static struct core *core;
static struct cfg *cfg;
static struct loop *loop;
static size_t nbatches, nsent, nfatal;
static const char *close_why;

void
fuzz_ws_link_close(struct ws_link *k, int code, const char *why)
{
	close_why = why;
	ws_link_close(k, code, why);
}

/* What every driver promises the core (chat.h), whatever the frame held. */
static void
check_event(const struct chat_event *ev)
{
	const char *sp;

	if (ev->kind != CHAT_EV_MESSAGE || ev->chat_id == NULL || *ev->chat_id == '\0' ||
	    ev->user_id == NULL || ev->event_id == NULL || ev->chat_kind == NULL)
		abort();
	if (ev->text != NULL && ev->text_len != strlen(ev->text))
		abort();
	if (ev->text == NULL && ev->text_len != 0)
		abort();
	if (ev->file_ref == NULL)
		return;
	/* "<aeskey> <url>": the key has no space, so the fetcher splits it back. */
	sp = strchr(ev->file_ref, ' ');
	if (ev->file_name == NULL || sp == NULL || sp == ev->file_ref)
		abort();
	if (wecom_file_ref_url(ev->file_ref) != NULL &&
	    wecom_file_ref_url(ev->file_ref) != sp + 1)
		abort();
}

static int
host_batch(void *ctx, const struct chat_batch *b)
{
	size_t napplied;

	(void)ctx;
	if (b->n != 1 || strcmp(b->platform, "wecom") != 0)
		abort();
	check_event(&b->events[0]);
	nbatches++;
	if (store_begin(store) < 0)
		abort();
	if (intake_batch(store, core, b, &napplied) < 0) {
		fprintf(stderr, "fuzz_wecom_frames: the store refused a message: %s\n",
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

static void
host_sent(void *ctx, int64_t delivery_id, const struct send_result *r)
{
	(void)ctx;
	if (delivery_id != 7 || r->detail == NULL)
		abort();
	nsent++;
}

static void
host_kick(void *ctx)
{
	(void)ctx;
}

static void
host_fatal(void *ctx, const char *message)
{
	(void)ctx;
	(void)message;
	nfatal++;
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
	cfg->wecom.bot_id = xstrdup("aibfuzzbot");
	core = core_new(store, cfg);
	loop = loop_new();
	host.loop = loop;
	return 0;
}

/* Subscribed, with a ping and one send awaiting their answers. */
static void
set_ready(struct wecom *w, bool stream)
{
	w->state = WC_READY;
	w->ever_ready = true;
	snprintf(w->ping_req, sizeof(w->ping_req), "%s", PING_REQ);
	w->missed = 1;
	w->cur.active = true;
	w->cur.delivery = 7;
	w->cur.stream = stream;
	w->cur.chat_id = xstrdup("zhangsan");
	w->cur.text = xstrdup("**收到**");
	snprintf(w->cur.req_id, sizeof(w->cur.req_id), "%s", stream ? CALLBACK_REQ : SEND_REQ);
	if (stream)
		route_keep(w, "zhangsan", CALLBACK_REQ);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct driver *d;
	struct wecom *w;
	bool ready;

	if (size == 0)
		return 0;
	d = driver_wecom_new(&host, cfg, "fuzzsecret");
	w = d->priv;
	ready = data[0] & 1;
	nbatches = nsent = nfatal = 0;
	close_why = NULL;
	if (ready) {
		set_ready(w, data[0] & 2);
	} else {
		link_open(w);   /* its subscribe cannot be sent: the close is recorded */
		close_why = NULL;
		snprintf(w->sub_req, sizeof(w->sub_req), "%s", SUB_REQ);
	}
	link_message(w, (const char *)data + 1, size - 1);
	if (nbatches > 1 || nsent > 1 || (nsent == 1 && w->cur.active))
		abort();
	/* Only the answer to our one subscribe, before any success, may end the daemon. */
	if (nfatal > 0 && (ready || w->state != WC_STOPPED))
		abort();
	/* No subscribe is awaited once subscribed: nothing may count as its refusal. */
	if (ready && close_why != NULL && strcmp(close_why, "subscribe refused") == 0) {
		fprintf(stderr, "fuzz_wecom_frames: a frame was taken for a subscribe answer\n");
		abort();
	}
	d->ops->free(d);
	return 0;
}
