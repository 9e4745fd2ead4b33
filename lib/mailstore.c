/*
 * The office mailbox's position and handled messages. See
 * include/campaign/mailstore.h.
 */
#include "campaign/mailstore.h"

int
mailstore_position(struct store *s, const char *mailbox, int64_t *uidvalidity,
    int64_t *last_uid)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT uidvalidity, last_uid FROM mail_state "
	    "WHERE mailbox = ?1");
	int rc;

	*uidvalidity = *last_uid = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, mailbox, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*uidvalidity = sqlite3_column_int64(st, 0);
		*last_uid = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_log_error(s, "mailbox position");
		return -1;
	}
	return rc == SQLITE_ROW;
}

int
mailstore_set_position(struct store *s, const char *mailbox, int64_t uidvalidity,
    int64_t last_uid)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT INTO mail_state(mailbox, uidvalidity, "
	    "last_uid) VALUES(?1, ?2, ?3) ON CONFLICT(mailbox) DO UPDATE SET "
	    "uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, uidvalidity);
	sqlite3_bind_int64(st, 3, last_uid);
	return store_step_done(s, st, "set mailbox position");
}

int
mailstore_seen(struct store *s, const char *key)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT 1 FROM mail_messages WHERE key = ?1");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_log_error(s, "mail seen");
		return -1;
	}
	return rc == SQLITE_ROW;
}

int
mailstore_handled(struct store *s, const char *key, const char *sender, const char *subject,
    const char *outcome, const char *note, time_t at)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT INTO mail_messages(key, sender, subject, "
	    "outcome, note, at) VALUES(?1,?2,?3,?4,?5,?6) ON CONFLICT(key) DO NOTHING");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sender, -1, SQLITE_STATIC);
	store_bind_text(st, 3, subject);
	sqlite3_bind_text(st, 4, outcome, -1, SQLITE_STATIC);
	store_bind_text(st, 5, note);
	sqlite3_bind_int64(st, 6, (int64_t)at);
	return store_step_done(s, st, "mail handled");
}
