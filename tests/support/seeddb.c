/* The seed-database fixture (see seeddb.h). */
#include "seeddb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "campaign/clock.h"
#include "campaign/plandb.h"

struct seeddb *
seeddb_new(int32_t today, time_t now)
{
	struct seeddb *db = calloc(1, sizeof(*db));
	struct plan_load_opts opts = { .today = today };
	struct plan *seed;
	char err[512];

	assert_non_null(db);
	snprintf(db->dir, sizeof(db->dir), "/tmp/campaign-test-XXXXXX");
	assert_non_null(mkdtemp(db->dir));
	snprintf(db->path, sizeof(db->path), "%s/campaign.db", db->dir);
	db->store = store_open(db->path, err, sizeof(err));
	if (db->store == NULL)
		fail_msg("%s", err);
	if (clock_set_zone("Asia/Shanghai", err, sizeof(err)) < 0)
		fail_msg("%s", err);
	seed = plan_load_file(CAMPAIGN_SOURCE_DIR "/data/plans/fupinri.json", &opts, err,
	    sizeof(err));
	if (seed == NULL)
		fail_msg("seed: %s", err);
	assert_int_equal(plandb_replace(db->store, seed, "seed", now, NULL), 0);
	plan_free(seed);
	seeddb_reload(db);
	return db;
}

void
seeddb_reload(struct seeddb *db)
{
	char err[512];

	plan_free(db->plan);
	db->plan = plandb_load(db->store, err, sizeof(err));
	if (db->plan == NULL)
		fail_msg("%s", err);
}

void
seeddb_free(struct seeddb *db)
{
	char cmd[160];

	if (db == NULL)
		return;
	plan_free(db->plan);
	store_close(db->store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", db->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", db->dir);
	free(db);
}

size_t
seeddb_unit(const struct seeddb *db, const char *name)
{
	for (size_t i = 0; i < db->plan->nunits; i++)
		if (strcmp(db->plan->units[i].name, name) == 0)
			return i;
	fail_msg("no unit %s", name);
	return 0;
}
