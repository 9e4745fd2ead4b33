/*
 * Backup, verify, restore and health of the database (see campaign/dbadmin.h).
 * Every copy goes through sqlite3_backup with all pages in one step: one read
 * transaction, so the copy is one instant of the source.
 */
#include "campaign/dbadmin.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "campaign/xmalloc.h"

#define BUSY_MS 10000

/* Copies every page of src's main database into dst's. */
static int
copy_pages(sqlite3 *dst, sqlite3 *src, const char *what, char *err, size_t errlen)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	int rc;

	if (b == NULL) {
		snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(dst));
		return -1;
	}
	do {
		rc = sqlite3_backup_step(b, -1);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(50);
	} while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s: %s", what, sqlite3_errstr(rc));
		return -1;
	}
	return 0;
}

static int
open_file(const char *path, int flags, sqlite3 **db, char *err, size_t errlen)
{
	if (sqlite3_open_v2(path, db, flags | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, *db != NULL ? sqlite3_errmsg(*db) :
		    "out of memory");
		sqlite3_close(*db);
		*db = NULL;
		return -1;
	}
	sqlite3_busy_timeout(*db, BUSY_MS);
	return 0;
}

int
dbadmin_backup(struct store *s, const char *dest, char *err, size_t errlen)
{
	sqlite3 *dst = NULL;
	int fd, rc = -1;

	/* 0600 from the first byte, and never over an existing file. */
	fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", dest, strerror(errno));
		return -1;
	}
	close(fd);
	if (open_file(dest, SQLITE_OPEN_READWRITE, &dst, err, errlen) < 0)
		goto out;
	if (copy_pages(dst, store_db(s), dest, err, errlen) < 0)
		goto out;
	/* A backup is one file: no WAL beside it. */
	if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", dest, sqlite3_errmsg(dst));
		goto out;
	}
	rc = 0;
out:
	if (dst != NULL && sqlite3_close(dst) != SQLITE_OK && rc == 0) {
		snprintf(err, errlen, "%s: cannot close", dest);
		rc = -1;
	}
	if (rc < 0)
		unlink(dest);
	return rc;
}

/* The first text column of the first row of sql, or NULL. */
static char *
query_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	char *out = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		out = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

/* The first column of the first row of sql as an integer; -1 when it fails. */
static int64_t
query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Counts the rows sql returns; -1 when it fails. */
static int64_t
count_rows(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t n = 0;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		n++;
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? n : -1;
}

int
dbadmin_verify(const char *path, int *schema, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	char *integrity = NULL;
	int64_t v, fk;
	int rc = -1;

	if (access(path, R_OK) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (open_file(path, SQLITE_OPEN_READONLY, &db, err, errlen) < 0)
		return -1;
	integrity = query_text(db, "PRAGMA integrity_check");
	if (integrity == NULL) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	if (strcmp(integrity, "ok") != 0) {
		snprintf(err, errlen, "%s: integrity check failed: %.200s", path, integrity);
		goto out;
	}
	fk = count_rows(db, "PRAGMA foreign_key_check");
	if (fk != 0) {
		snprintf(err, errlen, "%s: %s", path, fk < 0 ? sqlite3_errmsg(db) :
		    "foreign keys point to missing rows");
		goto out;
	}
	v = query_int(db, "PRAGMA user_version");
	if (v < 1 || v > store_schema_latest() ||
	    count_rows(db, "SELECT 1 FROM sqlite_schema WHERE name = 'events'") != 1) {
		snprintf(err, errlen, "%s: not a campaign database of schema 1..%d "
		    "(its version is %lld)", path, store_schema_latest(), (long long)v);
		goto out;
	}
	*schema = (int)v;
	rc = 0;
out:
	free(integrity);
	sqlite3_close(db);
	return rc;
}

int
dbadmin_restore(const char *db_path, const char *src_path, char *err, size_t errlen)
{
	sqlite3 *live = NULL, *src = NULL, *keep = NULL;
	char *keep_path = xasprintf("%s.before-restore", db_path);
	int rc = -1, fd;

	if (open_file(db_path, SQLITE_OPEN_READWRITE, &live, err, errlen) < 0 ||
	    open_file(src_path, SQLITE_OPEN_READONLY, &src, err, errlen) < 0)
		goto out;
	/* The old database, kept beside: a fresh 0600 file each time. */
	if (unlink(keep_path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", keep_path, strerror(errno));
		goto out;
	}
	fd = open(keep_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", keep_path, strerror(errno));
		goto out;
	}
	close(fd);
	if (open_file(keep_path, SQLITE_OPEN_READWRITE, &keep, err, errlen) < 0 ||
	    copy_pages(keep, live, keep_path, err, errlen) < 0 ||
	    sqlite3_exec(keep, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	/* One write transaction on the live file: all of src, or nothing. */
	if (copy_pages(live, src, db_path, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	sqlite3_close(keep);
	sqlite3_close(src);
	sqlite3_close(live);
	free(keep_path);
	return rc;
}

static int
health_platforms(sqlite3 *db, struct dbadmin_health *h)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT platform, sum(state = 0), sum(state = 2) "
	    "FROM deliveries GROUP BY platform ORDER BY platform", -1, &st, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct dbadmin_platform_pending *p;

		h->platforms = xreallocarray(h->platforms, h->nplatforms + 1,
		    sizeof(*h->platforms));
		p = &h->platforms[h->nplatforms++];
		p->platform = xstrdup((const char *)sqlite3_column_text(st, 0));
		p->pending = sqlite3_column_int64(st, 1);
		p->failed = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
health_events(sqlite3 *db, struct dbadmin_health *h)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM events WHERE state = 0), "
	    "(SELECT count(*) FROM events WHERE state = 2), "
	    "(SELECT id FROM events WHERE state = 0 ORDER BY id LIMIT 1), "
	    "(SELECT created_at FROM events WHERE state = 0 ORDER BY id LIMIT 1)",
	    -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		h->events_pending = sqlite3_column_int64(st, 0);
		h->events_failed = sqlite3_column_int64(st, 1);
		h->oldest_pending_id = sqlite3_column_int64(st, 2);
		h->oldest_pending_at = sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int
dbadmin_health(struct store *s, struct dbadmin_health *h, char *err, size_t errlen)
{
	sqlite3 *db = store_db(s);

	memset(h, 0, sizeof(*h));
	h->schema = store_schema_version(s);
	h->schema_latest = store_schema_latest();
	h->integrity = query_text(db, "PRAGMA integrity_check");
	h->fk_violations = count_rows(db, "PRAGMA foreign_key_check");
	if (h->integrity == NULL || h->fk_violations < 0 || health_events(db, h) < 0 ||
	    health_platforms(db, h) < 0) {
		snprintf(err, errlen, "%s: %s", store_path(s), sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

void
dbadmin_health_free(struct dbadmin_health *h)
{
	free(h->integrity);
	for (size_t i = 0; i < h->nplatforms; i++)
		free(h->platforms[i].platform);
	free(h->platforms);
	memset(h, 0, sizeof(*h));
}
