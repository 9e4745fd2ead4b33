/*
 * The store: one SQLite file (WAL, foreign keys, mode 0600), the single
 * source of truth shared by the bot, the bridge and campaignctl. It owns the
 * connection, the schema migrations (PRAGMA user_version) and a cache of
 * prepared statements. Domain modules (plandb, reports, events, invites,
 * users ...) run their SQL through store_stmt.
 */
#ifndef CAMPAIGN_STORE_H
#define CAMPAIGN_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/*
 * Opens (creating with mode 0600 if needed) and migrates the database.
 * NULL with a message in err on error (unreadable, not a database, newer schema).
 */
struct store *store_open(const char *path, char *err, size_t errlen);
void store_close(struct store *s);
const char *store_path(const struct store *s);
sqlite3 *store_db(struct store *s);
int store_schema_version(struct store *s);
/* The schema version this program writes (the number of migrations). */
int store_schema_latest(void);

/*
 * Transactions nest: the outermost store_begin is BEGIN IMMEDIATE (so writers
 * queue on the lock instead of failing to upgrade), inner ones are savepoints.
 */
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);
bool store_in_transaction(const struct store *s);

/*
 * A prepared statement for sql, prepared once and cached for the life of the
 * store. Returned reset with its bindings cleared. NULL (logged) if the SQL
 * does not compile, which is a programming error.
 */
sqlite3_stmt *store_stmt(struct store *s, const char *sql);
/* Logs the last SQLite error of the store for a failed step. */
void store_log_error(struct store *s, const char *what);
const char *store_errmsg(struct store *s);

/* Binds a nullable text. */
int store_bind_text(sqlite3_stmt *st, int idx, const char *text);
/* Copies a nullable text column. */
char *store_column_text(sqlite3_stmt *st, int col);

/* Steps a statement that returns no rows and resets it; 0 or -1 (logged with what). */
int store_step_done(struct store *s, sqlite3_stmt *st, const char *what);
/* Runs one statement to completion (no rows expected); 0 or -1 (logged). */
int store_exec(struct store *s, const char *sql);

/* Key-value state for the daemons (poll cursors and the like). 1 found, 0 not, -1 error. */
int store_kv_get(struct store *s, const char *key, char **value);
int store_kv_set(struct store *s, const char *key, const char *value);
int store_kv_get_i64(struct store *s, const char *key, int64_t *value);
int store_kv_set_i64(struct store *s, const char *key, int64_t value);

/* How many commits this connection made (a counter that only grows). */
uint64_t store_writes(const struct store *s);
/* True if another connection committed since the last call (PRAGMA data_version). */
bool store_changed(struct store *s);

#endif
