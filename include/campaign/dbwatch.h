/*
 * Wakes a daemon when another process commits to the database: inotify on
 * the database's directory, filtered to the database and its WAL file. The
 * fd goes into the daemon's poll set; after it fires, drain it and check
 * store_changed(). Where inotify is unavailable the fd is -1 and the caller
 * falls back to a timer.
 */
#ifndef CAMPAIGN_DBWATCH_H
#define CAMPAIGN_DBWATCH_H

#include <stdbool.h>

struct dbwatch;

/* Never NULL; dbwatch_fd() is -1 if watching is not possible (logged). */
struct dbwatch *dbwatch_open(const char *db_path);
void dbwatch_close(struct dbwatch *w);
int dbwatch_fd(const struct dbwatch *w);
/* Reads pending notifications; true if one concerned the database files. */
bool dbwatch_drain(struct dbwatch *w);

#endif
