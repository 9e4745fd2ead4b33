/*
 * Test fixture: a fresh database in a temporary directory with the seed plan
 * (data/plans/fupinri.json) loaded, read back with store ids, in the plan's
 * zone. Shared by the cmocka tests that need a real store.
 */
#ifndef CAMPAIGN_TEST_SEEDDB_H
#define CAMPAIGN_TEST_SEEDDB_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "campaign/plan.h"
#include "campaign/store.h"

struct seeddb {
	char dir[64];
	char path[128];
	struct store *store;
	struct plan *plan;      /* the stored plan (units carry their ids) */
};

/* Creates the database; today resolves the seed's year, now stamps the load. */
struct seeddb *seeddb_new(int32_t today, time_t now);
/* Removes the directory too. */
void seeddb_free(struct seeddb *db);
/* Reads the stored plan again (after a replace). */
void seeddb_reload(struct seeddb *db);
/* Index of the unit named exactly name; fails the test if there is none. */
size_t seeddb_unit(const struct seeddb *db, const char *name);

#endif
