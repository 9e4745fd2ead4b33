/*
 * Commit notification across processes through inotify. A commit in WAL
 * mode writes the -wal file, so IN_MODIFY on it is the signal; the directory
 * is watched (not the file) because the WAL file comes and goes with
 * checkpoints and connections.
 */
#include "campaign/dbwatch.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "campaign/log.h"
#include "campaign/xmalloc.h"

#define RECHECK_FIRST_MS 1      /* on a fast disk the commit shows within a millisecond */
#define RECHECK_LAST_MS 512     /* 1 + 2 + ... + 512: a slow disk's fsync, with room */

struct dbwatch {
	int fd;
	char *base;             /* "campaign.db": matches campaign.db and campaign.db-wal */
	int recheck_ms;         /* the last delay handed out; 0: not re-checking */
};

struct dbwatch *
dbwatch_open(const char *db_path)
{
	struct dbwatch *w = xcalloc(1, sizeof(*w));
	const char *slash = strrchr(db_path, '/');
	char *dir = slash != NULL ? xstrndup(db_path, (size_t)(slash - db_path)) : xstrdup(".");

	if (*dir == '\0') {
		free(dir);
		dir = xstrdup("/");
	}
	w->base = xstrdup(slash != NULL ? slash + 1 : db_path);
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		log_warn("dbwatch", "inotify_init1 (falling back to polling)");
	} else if (inotify_add_watch(w->fd, dir, IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE |
	    IN_MOVED_TO) < 0) {
		log_warn("dbwatch", "watch %s (falling back to polling)", dir);
		close(w->fd);
		w->fd = -1;
	}
	free(dir);
	return w;
}

void
dbwatch_close(struct dbwatch *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free(w->base);
	free(w);
}

int
dbwatch_fd(const struct dbwatch *w)
{
	return w->fd;
}

/* Reads every queued event: whether one names the database. */
static bool
take_events(struct dbwatch *w)
{
	char events[16 * (sizeof(struct inotify_event) + NAME_MAX + 1)]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	size_t baselen = strlen(w->base);
	bool hit = false;
	ssize_t n;

	if (w->fd < 0)
		return true;
	while ((n = read(w->fd, events, sizeof(events))) > 0) {
		for (char *p = events; p < events + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)p;

			/* An overflowed queue loses names: count it as a change. */
			if ((ev->mask & IN_Q_OVERFLOW) != 0 ||
			    (ev->len > 0 && strncmp(ev->name, w->base, baselen) == 0))
				hit = true;
			p += sizeof(*ev) + ev->len;
		}
		/* Room left for another event: the queue was empty (no read for EAGAIN;
		 * an event queued since wakes the loop as any other). */
		if ((size_t)n <= sizeof(events) - (sizeof(struct inotify_event) + NAME_MAX + 1))
			return hit;
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		log_warn("dbwatch", "read");
	return hit;
}

bool
dbwatch_drain(struct dbwatch *w)
{
	bool hit = take_events(w);

	if (hit)
		w->recheck_ms = 0;      /* a new commit on its way: start the waits over */
	return hit;
}

void
dbwatch_discard(struct dbwatch *w)
{
	take_events(w);
}

int
dbwatch_recheck_ms(struct dbwatch *w, bool changed)
{
	if (changed || w->recheck_ms >= RECHECK_LAST_MS) {
		w->recheck_ms = 0;
		return -1;
	}
	w->recheck_ms = w->recheck_ms == 0 ? RECHECK_FIRST_MS : w->recheck_ms * 2;
	return w->recheck_ms;
}
