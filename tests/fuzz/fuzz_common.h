/*
 * Shared by the libFuzzer targets of tests/fuzz: a store in a temporary
 * directory holding the seed plan, set up once per process.
 */
#ifndef CAMPAIGN_FUZZ_COMMON_H
#define CAMPAIGN_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include "campaign/caldate.h"
#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/plan.h"
#include "campaign/plandb.h"
#include "campaign/store.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_dir[] = "/tmp/campaign-fuzz-XXXXXX";

/* At exit (libFuzzer ends with exit()): the temporary store goes. */
static inline void
fuzz_remove_dir(void)
{
	DIR *d = opendir(fuzz_dir);
	struct dirent *e;
	char path[256];

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", fuzz_dir, e->d_name);
		unlink(path);
	}
	if (d != NULL)
		closedir(d);
	rmdir(fuzz_dir);
}

/* The seed plan (data/plans/fupinri.json) in a fresh store; aborts if that fails. */
static inline struct store *
fuzz_seed_store(struct plan **plan_out)
{
	char *dir = fuzz_dir;
	char path[128], err[512];
	struct plan_load_opts opts = { .today = 0 };
	struct store *s;
	struct plan *plan;

	setenv("CAMPAIGN_NOW", "2027-10-08T09:00:00+08:00", 1);
	log_init("fuzz", LOG_LEVEL_ERROR);
	if (clock_init(err, sizeof(err)) < 0 || mkdtemp(dir) == NULL)
		abort();
	atexit(fuzz_remove_dir);
	opts.today = clock_today();
	snprintf(path, sizeof(path), "%s/campaign.db", dir);
	s = store_open(path, err, sizeof(err));
	plan = plan_load_file(CAMPAIGN_SOURCE_DIR "/data/plans/fupinri.json", &opts, err,
	    sizeof(err));
	if (s == NULL || plan == NULL || plandb_replace(s, plan, "seed", clock_now(), NULL) < 0) {
		fprintf(stderr, "fuzz: cannot set up the seed store: %s\n", err);
		abort();
	}
	plan_free(plan);
	if (plandb_use_zone(s, err, sizeof(err)) < 0)
		abort();
	if (plan_out != NULL)
		*plan_out = plandb_load(s, err, sizeof(err));
	return s;
}

#endif
