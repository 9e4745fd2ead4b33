/*
 * The database as an admin handles it (campaignctl backup, restore, check;
 * docs/REFERENCE.md): a consistent copy while the daemons write, a check of a
 * file before it may replace the live database, and the live database's
 * health. SQLite's online backup API copies pages under one read
 * transaction, so a copy is the database at one instant, and WAL readers
 * never block the daemons' writers.
 */
#ifndef CAMPAIGN_DBADMIN_H
#define CAMPAIGN_DBADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "campaign/store.h"

/* Copies the open store to dest, a new file created mode 0600. 0, or -1 with err. */
int dbadmin_backup(struct store *s, const char *dest, char *err, size_t errlen);

/*
 * Whether path is a campaign database this program can use: a SQLite file,
 * integrity_check "ok", no foreign key violation, a schema version from 1 to
 * ours. 0 with *schema set, or -1 with err saying what is wrong.
 */
int dbadmin_verify(const char *path, int *schema, char *err, size_t errlen);

/*
 * Replaces the live database at db_path with the verified file src: first a
 * copy of the live one to keep (db_path ".before-restore", replaced if there),
 * then src's pages into the live file in one transaction. The caller holds
 * the daemons' locks. 0, or -1 with err (the live database is then unchanged).
 */
int dbadmin_restore(const char *db_path, const char *src, char *err, size_t errlen);

struct dbadmin_platform_pending {
	char *platform;
	int64_t pending;
	int64_t failed;
};

struct dbadmin_health {
	char *integrity;                /* "ok", or the first problem */
	int64_t fk_violations;
	int schema, schema_latest;
	int64_t events_pending, events_failed;
	int64_t oldest_pending_id;      /* 0: none */
	int64_t oldest_pending_at;      /* unix time it was created */
	struct dbadmin_platform_pending *platforms;
	size_t nplatforms;
};

/* Fills h from the open store; -1 with err on a read error. Free with dbadmin_health_free. */
int dbadmin_health(struct store *s, struct dbadmin_health *h, char *err, size_t errlen);
void dbadmin_health_free(struct dbadmin_health *h);

#endif
