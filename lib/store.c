/*
 * The SQLite connection: open with mode 0600, WAL, foreign keys and a busy
 * timeout (three processes share the file), migrate, cache prepared
 * statements, nest transactions as savepoints. synchronous=FULL: a report
 * the bot confirmed must survive a power cut, not only a crash.
 */
#include "campaign/store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "campaign/log.h"
#include "campaign/num.h"
#include "campaign/xmalloc.h"
#include "store_schema.h"

struct cached_stmt {
	char *sql;
	const char *key;        /* the caller's last pointer for sql: found without a scan */
	sqlite3_stmt *stmt;
};

struct store {
	sqlite3 *db;
	char *path;
	struct cached_stmt *stmts;
	size_t nstmts;
	int depth;              /* open transaction levels */
	int64_t data_version;
	uint64_t writes;        /* commits of this connection (sqlite3_commit_hook) */
	char failure[384];      /* the last error, with what to do: a rollback clears SQLite's */
};

/* Counts this connection's commits, autocommit statements included. */
static int
count_commit(void *arg)
{
	((struct store *)arg)->writes++;
	return 0;
}

int
store_schema_latest(void)
{
	return store_nmigrations;
}

/* SQLite would create the file with the umask's mode; we want 0600 from the start. */
static int
create_private(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0) {
		if (errno == EEXIST)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

static int
pragma_int(struct store *s, const char *sql, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	*out = sqlite3_column_int64(st, 0);
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/*
 * A database without our schema version but with tables is someone else's:
 * adding ours to it would mix two programs' data. One statement reads both,
 * so a process creating the schema meanwhile is seen whole or not at all.
 */
static bool
foreign(struct store *s, int64_t *version, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	bool refuse = false;

	if (sqlite3_prepare_v2(s->db, "SELECT (SELECT user_version FROM pragma_user_version), "
	    "(SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
	    "LIMIT 1)", -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		snprintf(err, errlen, "%s: %s", s->path, sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
		return true;
	}
	*version = sqlite3_column_int64(st, 0);
	if (*version == 0 && sqlite3_column_type(st, 1) != SQLITE_NULL) {
		snprintf(err, errlen, "%s: not a campaign database (it holds a table \"%.60s\" "
		    "and no campaign schema version); give a new file or a campaign database",
		    s->path, (const char *)sqlite3_column_text(st, 1));
		refuse = true;
	}
	sqlite3_finalize(st);
	return refuse;
}

static int
migrate(struct store *s, char *err, size_t errlen)
{
	int64_t version;

	if (pragma_int(s, "PRAGMA user_version", &version) < 0) {
		snprintf(err, errlen, "%s: %s", s->path, sqlite3_errmsg(s->db));
		return -1;
	}
	if (version == 0 && foreign(s, &version, err, errlen))
		return -1;
	if (version > store_nmigrations) {
		snprintf(err, errlen, "%s: schema version %" PRId64 " is newer than this "
		    "program's (%d); upgrade campaign-bot", s->path, version, store_nmigrations);
		return -1;
	}
	for (int v = (int)version; v < store_nmigrations; v++) {
		char *msg = NULL;
		char pragma[64];

		if (store_begin(s) < 0) {
			snprintf(err, errlen, "%s: %s", s->path, sqlite3_errmsg(s->db));
			return -1;
		}
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
		if (sqlite3_exec(s->db, store_migrations[v], NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(s->db, pragma, NULL, NULL, &msg) != SQLITE_OK) {
			snprintf(err, errlen, "%s: migration to schema %d failed: %s", s->path,
			    v + 1, msg != NULL ? msg : sqlite3_errmsg(s->db));
			sqlite3_free(msg);
			store_rollback(s);
			return -1;
		}
		if (store_commit(s) < 0) {
			snprintf(err, errlen, "%s: %s", s->path, sqlite3_errmsg(s->db));
			return -1;
		}
		/* A new database is simply created; an existing one is upgraded. */
		if (version > 0)
			log_info("store", "migrated %s to schema %d", s->path, v + 1);
	}
	return 0;
}

struct store *
store_open(const char *path, char *err, size_t errlen)
{
	struct store *s = xcalloc(1, sizeof(*s));
	char *msg = NULL;
	int64_t dummy;

	s->path = xstrdup(path);
	if (create_private(path, err, errlen) < 0)
		goto fail;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW,
	    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, s->db != NULL ?
		    sqlite3_errmsg(s->db) : "cannot open");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, 10000);
	/* The first read tells us whether this is a database at all. */
	if (pragma_int(s, "PRAGMA schema_version", &dummy) < 0) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->db));
		goto fail;
	}
	if (sqlite3_exec(s->db, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;"
	    "PRAGMA synchronous = FULL;", NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, msg != NULL ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		goto fail;
	}
	if (migrate(s, err, errlen) < 0)
		goto fail;
	pragma_int(s, "PRAGMA data_version", &s->data_version);
	sqlite3_commit_hook(s->db, count_commit, s);
	return s;
fail:
	store_close(s);
	return NULL;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nstmts; i++) {
		sqlite3_finalize(s->stmts[i].stmt);
		free(s->stmts[i].sql);
	}
	free(s->stmts);
	if (s->db != NULL)
		sqlite3_close(s->db);
	free(s->path);
	free(s);
}

const char *
store_path(const struct store *s)
{
	return s->path;
}

sqlite3 *
store_db(struct store *s)
{
	return s->db;
}

int
store_schema_version(struct store *s)
{
	int64_t v = -1;

	pragma_int(s, "PRAGMA user_version", &v);
	return (int)v;
}

const char *
store_errmsg(struct store *s)
{
	if (sqlite3_errcode(s->db) == SQLITE_OK && s->failure[0] != '\0')
		return s->failure;
	return sqlite3_errmsg(s->db);
}

/* Keeps the error SQLite just gave, and what an admin can do about it. */
static void
remember(struct store *s, const char *msg)
{
	const char *hint = "";

	switch (sqlite3_errcode(s->db)) {
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
		hint = " (this user cannot write the database: check the owner and mode of "
		    "the file, its folder and its -wal and -shm files)";
		break;
	case SQLITE_FULL:
		hint = " (the disk is full: free space, then retry)";
		break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		hint = " (the database is damaged: restore a backup)";
		break;
	default:
		break;
	}
	snprintf(s->failure, sizeof(s->failure), "%s%s", msg, hint);
}

void
store_log_error(struct store *s, const char *what)
{
	remember(s, sqlite3_errmsg(s->db));
	log_warnx("store", "%s: %s (%s)", what, sqlite3_errmsg(s->db), s->path);
}

int
store_step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(s, what);
		return -1;
	}
	return 0;
}

int
store_exec(struct store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		remember(s, msg != NULL ? msg : sqlite3_errmsg(s->db));
		log_warnx("store", "%s: %s", sql, msg != NULL ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/*
 * store_exec for a statement run again and again (BEGIN, COMMIT, savepoints):
 * prepared once, where sqlite3_exec would parse it every time.
 */
static int
exec_cached(struct store *s, const char *sql)
{
	sqlite3_stmt *st = store_stmt(s, sql);
	int rc;

	if (st == NULL)
		return store_exec(s, sql);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		remember(s, sqlite3_errmsg(s->db));
		log_warnx("store", "%s: %s", sql, sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

int
store_begin(struct store *s)
{
	char sql[48];

	if (s->depth == 0)
		snprintf(sql, sizeof(sql), "BEGIN IMMEDIATE");
	else
		snprintf(sql, sizeof(sql), "SAVEPOINT sp%d", s->depth);
	if (exec_cached(s, sql) < 0)
		return -1;
	s->depth++;
	return 0;
}

int
store_commit(struct store *s)
{
	char sql[48];

	if (s->depth == 0)
		return -1;
	if (s->depth == 1)
		snprintf(sql, sizeof(sql), "COMMIT");
	else
		snprintf(sql, sizeof(sql), "RELEASE sp%d", s->depth - 1);
	if (exec_cached(s, sql) < 0) {
		store_rollback(s);
		return -1;
	}
	s->depth--;
	return 0;
}

void
store_rollback(struct store *s)
{
	char sql[64];

	if (s->depth == 0)
		return;
	if (s->depth == 1) {
		/* A failed COMMIT may already have ended the transaction. */
		if (!sqlite3_get_autocommit(s->db))
			store_exec(s, "ROLLBACK");
	} else {
		snprintf(sql, sizeof(sql), "ROLLBACK TO sp%d; RELEASE sp%d", s->depth - 1,
		    s->depth - 1);
		store_exec(s, sql);
	}
	s->depth--;
}

bool
store_in_transaction(const struct store *s)
{
	return s->depth > 0;
}

sqlite3_stmt *
store_stmt(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	size_t i;

	/* Callers mostly pass the same literal: its pointer finds it (checked: a
	 * buffer's pointer may come back with other SQL). */
	for (i = 0; i < s->nstmts; i++)
		if (s->stmts[i].key == sql && strcmp(s->stmts[i].sql, sql) == 0)
			break;
	if (i == s->nstmts)
		for (i = 0; i < s->nstmts; i++)
			if (strcmp(s->stmts[i].sql, sql) == 0)
				break;
	if (i < s->nstmts) {
		s->stmts[i].key = sql;
		st = s->stmts[i].stmt;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
	    SQLITE_OK) {
		log_warnx("store", "prepare failed: %s: %s", sqlite3_errmsg(s->db), sql);
		return NULL;
	}
	s->stmts = xreallocarray(s->stmts, s->nstmts + 1, sizeof(*s->stmts));
	s->stmts[s->nstmts].sql = xstrdup(sql);
	s->stmts[s->nstmts].key = sql;
	s->stmts[s->nstmts].stmt = st;
	s->nstmts++;
	return st;
}

int
store_bind_text(sqlite3_stmt *st, int idx, const char *text)
{
	if (text == NULL)
		return sqlite3_bind_null(st, idx);
	return sqlite3_bind_text(st, idx, text, -1, SQLITE_TRANSIENT);
}

char *
store_column_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t == NULL ? NULL : xstrdup((const char *)t);
}

int
store_kv_get(struct store *s, const char *key, char **value)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT value FROM kv WHERE key = ?1");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*value = store_column_text(st, 0);
		sqlite3_reset(st);
		return 1;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	store_log_error(s, "kv get");
	return -1;
}

int
store_kv_set(struct store *s, const char *key, const char *value)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT INTO kv(key, value) VALUES(?1, ?2) "
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(s, "kv set");
		return -1;
	}
	return 0;
}

int
store_kv_get_i64(struct store *s, const char *key, int64_t *value)
{
	char *text = NULL;
	int rc = store_kv_get(s, key, &text);

	if (rc == 1 && num_parse_i64(text, INT64_MIN, INT64_MAX, value) < 0) {
		log_warnx("store", "kv %s holds a non-number", key);
		rc = -1;
	}
	free(text);
	return rc;
}

int
store_kv_set_i64(struct store *s, const char *key, int64_t value)
{
	char text[32];

	snprintf(text, sizeof(text), "%" PRId64, value);
	return store_kv_set(s, key, text);
}

uint64_t
store_writes(const struct store *s)
{
	return s->writes;
}

bool
store_changed(struct store *s)
{
	/* Asked several times a message: prepared once. */
	sqlite3_stmt *st = store_stmt(s, "PRAGMA data_version");
	int64_t v;
	int rc;

	if (st == NULL)
		return true;
	rc = sqlite3_step(st);
	v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return true;
	if (v == s->data_version)
		return false;
	s->data_version = v;
	return true;
}
