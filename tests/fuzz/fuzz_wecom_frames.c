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

#include "fuzz_host.h"

#define SUB_REQ "aibot_subscribe_1_1"
#define PING_REQ "ping_1_2"
#define SEND_REQ "aibot_send_msg_1_3"
#define CALLBACK_REQ "callback_req_1"   /* the stream's: a callback's req_id */

static size_t nsent, nfatal;
static const char *close_why;

void
fuzz_ws_link_close(struct ws_link *k, int code, const char *why)
{
	close_why = why;
	ws_link_close(k, code, why);
}

/* Beyond what every driver promises: a file_ref the fetcher can split back. */
static void
check_file_ref(const struct chat_event *ev)
{
	const char *sp;

	if (ev->file_ref == NULL)
		return;
	/* "<aeskey> <url>": the key has no space, so the fetcher splits it back. */
	sp = strchr(ev->file_ref, ' ');
	if (sp == NULL || sp == ev->file_ref)
		abort();
	if (wecom_file_ref_url(ev->file_ref) != NULL &&
	    wecom_file_ref_url(ev->file_ref) != sp + 1)
		abort();
}

static int
host_batch(void *ctx, const struct chat_batch *b)
{
	(void)ctx;
	if (b->n == 1)
		check_file_ref(&b->events[0]);
	return fuzz_apply_batch(b, "wecom");
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
host_fatal(void *ctx, const char *message)
{
	(void)ctx;
	(void)message;
	nfatal++;
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
	cfg->wecom.bot_id = xstrdup("aibfuzzbot");
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
