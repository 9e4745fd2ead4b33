/*
 * /bind failure counts in the table bind_failures: one upsert per failure,
 * one lookup per attempt. Rows of ended windows are simply overwritten.
 */
#include "campaign/bindlock.h"

#include <stdint.h>

bool
bindlock_limited(struct store *s, const char *platform, const char *user_id, time_t now)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT count FROM bind_failures WHERE platform = ?1 "
	    "AND user_id = ?2 AND first_at > ?3");
	bool limited = false;
	int rc;

	if (st == NULL)
		return false;
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)now - BINDLOCK_WINDOW_S);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		limited = sqlite3_column_int(st, 0) >= BINDLOCK_MAX_FAILS;
	else if (rc != SQLITE_DONE)
		store_log_error(s, "read bind failures");
	sqlite3_reset(st);
	return limited;
}

int
bindlock_failed(struct store *s, const char *platform, const char *user_id, time_t now)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT INTO bind_failures(platform, user_id, count, "
	    "first_at) VALUES(?1, ?2, 1, ?3) ON CONFLICT(platform, user_id) DO UPDATE SET "
	    "count = CASE WHEN first_at > ?3 - ?4 THEN count + 1 ELSE 1 END, "
	    "first_at = CASE WHEN first_at > ?3 - ?4 THEN first_at ELSE ?3 END");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)now);
	sqlite3_bind_int(st, 4, BINDLOCK_WINDOW_S);
	return store_step_done(s, st, "count a bind failure");
}
