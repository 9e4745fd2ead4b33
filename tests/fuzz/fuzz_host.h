/*
 * Shared by the targets that feed a chat driver frames (fuzz_dingtalk_frames,
 * fuzz_wecom_frames): the seed store, the core, a loop, and the host's parts
 * that do not depend on the platform. Include after fuzz_common.h and the
 * driver's .c file.
 */
#ifndef CAMPAIGN_FUZZ_HOST_H
#define CAMPAIGN_FUZZ_HOST_H

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
fuzz_check_event(const struct chat_event *ev)
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

/* One event of platform, checked, through intake and the core, rolled back. */
static int
fuzz_apply_batch(const struct chat_batch *b, const char *platform)
{
	size_t napplied;

	if (b->n != 1 || strcmp(b->platform, platform) != 0)
		abort();
	fuzz_check_event(&b->events[0]);
	nbatches++;
	if (store_begin(store) < 0)
		abort();
	if (intake_batch(store, core, b, &napplied) < 0) {
		fprintf(stderr, "fuzz %s frames: the store refused a message: %s\n", platform,
		    store_errmsg(store));
		abort();
	}
	store_rollback(store);
	return 0;
}

static char *
fuzz_host_cursor(void *ctx, const char *key)
{
	(void)ctx;
	(void)key;
	return NULL;
}

static void
fuzz_host_kick(void *ctx)
{
	(void)ctx;
}

/* The seed store, the default config, the core and a loop for the host. */
static void
fuzz_host_init(struct driver_host *host)
{
	char err[256];

	store = fuzz_seed_store(NULL);
	cfg = cfg_load(NULL, err, sizeof(err));
	if (cfg == NULL)
		abort();
	core = core_new(store, cfg);
	loop = loop_new();
	host->loop = loop;
}

#endif
