/*
 * libFuzzer target: one chat message, any bytes (NULs included), from a
 * private or group chat, from an admin or not. It goes through the parsers
 * (command, report, free-text intent) and then through intake and the whole
 * core against the seed plan, inside a transaction rolled back after each
 * input so every run starts from the same store. A store error, a crash or
 * a sanitizer report is a finding; replies are not checked.
 */
#include "fuzz_common.h"

#include "campaign/textnorm.h"
#include "cmd.h"
#include "core.h"
#include "intake.h"
#include "parse.h"

static struct store *store;
static struct plan *plan;
static struct taskwords *words;
static struct core *core;
static struct cfg *cfg;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	store = fuzz_seed_store(&plan);
	cfg = cfg_load(NULL, err, sizeof(err));
	if (plan == NULL || cfg == NULL)
		abort();
	words = taskwords_new(plan);
	core = core_new(store, cfg);
	return 0;
}

static void
parse_all(const char *text)
{
	char *norm = textnorm_text(text);
	struct command cmd;
	struct report_args ra;
	struct intent in;
	const char *why;
	size_t found[INTENT_MAX_TASKS];

	if (cmd_parse(norm, &cmd)) {
		if (parse_report(cmd.args, &ra, &why) == 0) {
			if (ra.percent < 0 || ra.percent > 100 || ra.task_id == NULL)
				abort();
			report_args_clear(&ra);
		}
		command_clear(&cmd);
	}
	parse_intent(plan, words, norm, clock_today(), &in);
	if (in.ntasks > INTENT_MAX_TASKS || (in.unit >= 0 && (size_t)in.unit >= plan->nunits))
		abort();
	for (size_t i = 0; i < in.ntasks; i++)
		if (in.tasks[i] >= plan->ntasks)
			abort();
	intent_clear(&in);
	if (parse_find_tasks(plan, words, norm, found, INTENT_MAX_TASKS) > INTENT_MAX_TASKS)
		abort();
	free(norm);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned long serial;
	char id[32];
	char *text;
	size_t napplied;
	uint8_t flags;
	struct chat_event ev;
	struct chat_batch b;

	if (size == 0 || size > 16384)
		return 0;
	flags = data[0];
	text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	parse_all(text);
	snprintf(id, sizeof(id), "%lu", ++serial);
	ev = (struct chat_event){
		.kind = CHAT_EV_MESSAGE, .event_id = id, .message_id = id,
		.chat_id = flags & 2 ? "-100" : "7", .chat_kind = flags & 2 ? "group" : "private",
		.chat_title = flags & 2 ? "组" : NULL, .user_id = "7", .user_name = "fuzz",
		.text = text, .text_len = size - 1, .as_admin = (flags & 1) != 0,
	};
	b = (struct chat_batch){ .platform = "console", .events = &ev, .n = 1 };
	if (store_begin(store) < 0)
		abort();
	if (intake_batch(store, core, &b, &napplied) < 0 || napplied != 1) {
		fprintf(stderr, "fuzz_chat: the store refused a message: %s\n",
		    store_errmsg(store));
		abort();
	}
	store_rollback(store);
	free(text);
	return 0;
}
