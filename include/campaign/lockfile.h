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

/*
 * Presence: every campaign-bot holds a shared lock on "<db>.bot-<platform>.lock"
 * while it delivers that platform's chats, so campaignctl can tell whether
 * anyone is draining the outbox. The path (owned).
 */
char *lockfile_bot_path(const char *db_path, const char *platform);
/* Takes a shared lock at path (created 0600); the fd to keep, or -1 with err. */
int lockfile_share(const char *path, char *err, size_t errlen);
/* 1 if a process holds a lock on path, 0 if none does (or no file), -1 on error. */
int lockfile_held(const char *path);

#endif
