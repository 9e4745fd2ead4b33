/*
 * Wakes a daemon when another process commits to the database: inotify on
 * the database's directory, filtered to the database and its WAL file. The
 * fd goes into the daemon's poll set; after it fires, drain it and check
 * store_changed(). Where inotify is unavailable the fd is -1 and the caller
 * falls back to a timer.
 *
 * The notification can come before the commit is visible: a writer appends
 * its WAL frames (the event) and only then syncs and publishes them in the
 * shared-memory index, which inotify does not see. So a look that finds
 * nothing new must be repeated a little later: dbwatch_recheck_ms says when.
 */
#ifndef CAMPAIGN_DBWATCH_H
#define CAMPAIGN_DBWATCH_H

#include <stdbool.h>

struct dbwatch;

/* Never NULL; dbwatch_fd() is -1 if watching is not possible (logged). */
struct dbwatch *dbwatch_open(const char *db_path);
void dbwatch_close(struct dbwatch *w);
int dbwatch_fd(const struct dbwatch *w);
/*
 * Reads pending notifications; true if one concerned the database files
 * (which also restarts the re-check schedule below).
 */
bool dbwatch_drain(struct dbwatch *w);
/* Reads the queued events as our own (a commit of ours caused them): no re-check starts. */
void dbwatch_discard(struct dbwatch *w);
/*
 * After a look prompted by a notification: changed says whether it found
 * another process's commit. Returns how long to wait before looking again
 * (the commit may still be on its way: 1, 2, 4 ... 512 ms), or -1 when
 * there is nothing more to wait for.
 */
int dbwatch_recheck_ms(struct dbwatch *w, bool changed);

#endif
