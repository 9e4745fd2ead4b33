/*
 * Single-instance locks (see lockfile.h). flock rather than a pid file
 * check: no stale-pid guessing, and the lock follows the open file.
 */
#include "campaign/lockfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "campaign/xmalloc.h"

int
lockfile_acquire(const char *path, char *err, size_t errlen)
{
	char pid[32] = "";
	ssize_t n;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int saved = errno;

		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (saved == EWOULDBLOCK && *pid != '\0')
			snprintf(err, errlen, "%s is locked by another process (pid %s)", path,
			    pid);
		else if (saved == EWOULDBLOCK)
			snprintf(err, errlen, "%s is locked by another process", path);
		else
			snprintf(err, errlen, "%s: lock: %s", path, strerror(saved));
		close(fd);
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		/* The lock holds without the pid; only the message gets poorer. */
	}
	return fd;
}

void
lockfile_release(int fd)
{
	if (fd < 0)
		return;
	flock(fd, LOCK_UN);
	close(fd);
}

char *
lockfile_bot_path(const char *db_path, const char *platform)
{
	return xasprintf("%s.bot-%s.lock", db_path, platform);
}

int
lockfile_share(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* Blocking: an exclusive holder is only ever a lockfile_held() probe, for a moment. */
	while (flock(fd, LOCK_SH) < 0) {
		if (errno == EINTR)
			continue;
		snprintf(err, errlen, "%s: lock: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
lockfile_held(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), held;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		flock(fd, LOCK_UN);
		held = 0;
	} else {
		held = errno == EWOULDBLOCK ? 1 : -1;
	}
	close(fd);
	return held;
}
