/*
 * libFuzzer target: a getUpdates answer, any bytes. The Telegram driver's
 * update reader (driver_telegram.c, compiled into this file to reach its
 * static functions) turns each update into a chat event; the events then go
 * through intake and the core against the seed plan, in a transaction
 * rolled back after each input. Events must be well formed (a message has
 * a chat; text_len matches the text) and the store must take them.
 */
#include "fuzz_common.h"

#include "../../bot/driver_telegram.c"

#include "campaign/cfg.h"
#include "core.h"
#include "intake.h"

#define MAX_UPDATES 200

static struct store *store;
static struct core *core;
static struct cfg *cfg;

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
	core = core_new(store, cfg);
	return 0;
}

static void
check_event(const struct chat_event *ev)
{
	if (ev->kind == CHAT_EV_MESSAGE || ev->kind == CHAT_EV_JOINED ||
	    ev->kind == CHAT_EV_LEFT || ev->kind == CHAT_EV_MIGRATED) {
		if (ev->chat_id == NULL)
			abort();
	}
	if (ev->text != NULL && ev->text_len > strlen(ev->text) &&
	    memchr(ev->text, '\0', ev->text_len) == NULL)
		abort();
	if (ev->kind == CHAT_EV_MIGRATED && ev->new_chat_id == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char username[] = "campaign_test_bot";
	struct telegram t = { .username = username, .bot_id = 4242 };
	struct chat_event evs[MAX_UPDATES];
	struct pool p = { NULL, 0 };
	json_t *root, *result;
	const json_t *u;
	struct chat_batch b;
	size_t n = 0, i, napplied;

	root = json_loadb((const char *)data, size, 0, NULL);
	result = json_is_object(root) ? json_object_get(root, "result") : root;
	json_array_foreach(result, i, u) {
		if (n == MAX_UPDATES)
			break;
		read_update(&t, &p, u, &evs[n]);
		check_event(&evs[n]);
		n++;
	}
	if (n > 0) {
		b = (struct chat_batch){ .platform = PLATFORM, .events = evs, .n = n,
		    .cursor_key = CURSOR_KEY, .cursor = "1" };
		if (store_begin(store) < 0)
			abort();
		if (intake_batch(store, core, &b, &napplied) < 0) {
			fprintf(stderr, "fuzz_tg_updates: the store refused a batch: %s\n",
			    store_errmsg(store));
			abort();
		}
		store_rollback(store);
	}
	pool_free(&p);
	json_decref(root);
	return 0;
}
