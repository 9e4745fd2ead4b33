/*
 * One daemon of a kind per database: an exclusive flock on a file next to
 * it ("<db>.bridge.lock"). The kernel drops the lock when the process dies,
 * even by SIGKILL, so a crash never leaves a stale lock behind.
 */
#ifndef CAMPAIGN_LOCKFILE_H
#define CAMPAIGN_LOCKFILE_H

#include <stddef.h>

/*
 * Takes the lock at path (created 0600) and writes our pid into it. Returns
 * the fd to keep open for the life of the process, or -1 with a message in
 * err (held by another process: its pid is named).
 */
int lockfile_acquire(const char *path, char *err, size_t errlen);
/* Releases and closes (the file stays: removing it would race a new owner). */
void lockfile_release(int fd);

#endif
