/*
 * libFuzzer target: plan JSON (campaign-plan/1), any bytes. plan_load_string
 * must refuse with a located reason or give a consistent plan: unique task
 * ids, unit indexes in range and not repeated, start <= due, within limits;
 * a plan that loads must also go into the store and come back the same size.
 */
#include "fuzz_common.h"

#include "campaign/strindex.h"

static struct store *store;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	store = fuzz_seed_store(NULL);
	return 0;
}

static void
check(const struct plan *p)
{
	struct strindex *ids = strindex_new(p->ntasks);

	if (p->ntasks > PLAN_MAX_TASKS || p->nunits > PLAN_MAX_UNITS)
		abort();
	for (size_t i = 0; i < p->ntasks; i++) {
		const struct plan_task *t = &p->tasks[i];

		if (strindex_put(ids, t->id, i) != i || t->nunits > PLAN_MAX_TASK_UNITS)
			abort();
		if (t->start != CALDATE_NONE && t->due != CALDATE_NONE && t->start > t->due)
			abort();
		for (size_t u = 0; u < t->nunits; u++) {
			if (t->units[u] >= p->nunits)
				abort();
			for (size_t v = 0; v < u; v++)
				if (t->units[v] == t->units[u])
					abort();
		}
	}
	strindex_free(ids);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plan_load_opts opts = { .today = caldate_from_ymd(2027, 10, 8) };
	char err[1024], *text;
	struct plan *plan, *back;

	if (size > 256 * 1024)
		return 0;
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	plan = plan_load_string(text, "fuzz.json", &opts, err, sizeof(err));
	free(text);
	if (plan == NULL) {
		if (strncmp(err, "fuzz.json", 9) != 0)
			abort();        /* every refusal names the file */
		return 0;
	}
	check(plan);
	if (plandb_replace(store, plan, "fuzz", 1823000000, NULL) < 0)
		abort();
	back = plandb_load(store, err, sizeof(err));
	if (back == NULL || back->ntasks != plan->ntasks || back->nunits != plan->nunits)
		abort();
	check(back);
	plan_free(back);
	plan_free(plan);
	return 0;
}
