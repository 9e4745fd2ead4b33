/*
 * sd_notify for the daemons (see campaign/notify.h): the once-only and
 * pacing rules in one place, and the protocol itself, which systemd
 * documents as stable for reimplementation (sd_notify(3), NOTES): one
 * datagram of "KEY=value" lines to the AF_UNIX socket $NOTIFY_SOCKET (a
 * leading '@' is the abstract namespace), and the watchdog interval from
 * $WATCHDOG_USEC when $WATCHDOG_PID is unset or ours. Linking libsystemd
 * for this pulled six more libraries (and about 1 MiB of RSS) into the bot.
 */
#include "campaign/notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "campaign/num.h"

#include "campaign/clock.h"
#include "campaign/log.h"

#define STATUS_MAX 256

static bool ready, stopping, watchdog_checked;
static int64_t watchdog_every_ms = -1;  /* -1: no watchdog */
static int64_t watchdog_next_ms;
static char last_status[STATUS_MAX];

/* One datagram to $NOTIFY_SOCKET; 0 sent or not under systemd, -errno. */
static int
notify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = path != NULL ? strlen(path) : 0;
	socklen_t salen;
	int fd, rc = 0;

	if (len == 0)
		return 0;
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path))
		return -EAFNOSUPPORT;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static void
send_state(const char *state)
{
	int rc = notify_send(state);

	if (rc < 0)
		log_debug("notify", "sd_notify: %s", strerror(-rc));
}

/* sd_watchdog_enabled(3): $WATCHDOG_USEC, if $WATCHDOG_PID is unset or ours. */
static uint64_t
watchdog_usec(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	int64_t v, p;

	if (usec == NULL || num_parse_i64(usec, 1, INT64_MAX, &v) < 0)
		return 0;
	if (pid != NULL && (num_parse_i64(pid, 1, INT64_MAX, &p) < 0 || p != (int64_t)getpid()))
		return 0;
	return (uint64_t)v;
}

static void
vstatus(const char *prefix, const char *fmt, va_list ap)
{
	char line[STATUS_MAX], msg[STATUS_MAX + 32];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (prefix == NULL && strcmp(line, last_status) == 0)
		return;
	memcpy(last_status, line, sizeof(last_status));
	snprintf(msg, sizeof(msg), "%sSTATUS=%s", prefix != NULL ? prefix : "", line);
	send_state(msg);
}

void
notify_ready(const char *fmt, ...)
{
	va_list ap;

	if (ready)
		return;
	ready = true;
	va_start(ap, fmt);
	vstatus("READY=1\n", fmt, ap);
	va_end(ap);
	log_debug("notify", "ready: %s", last_status);
}

bool
notify_is_ready(void)
{
	return ready;
}

void
notify_status(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vstatus(NULL, fmt, ap);
	va_end(ap);
}

void
notify_stopping(void)
{
	if (stopping)
		return;
	stopping = true;
	send_state("STOPPING=1\nSTATUS=stopping");
}

void
notify_reloading(void)
{
	send_state("RELOADING=1\nSTATUS=reloading the configuration");
}

void
notify_reloaded(void)
{
	send_state("READY=1");
	if (last_status[0] != '\0') {
		char msg[STATUS_MAX + 8];

		snprintf(msg, sizeof(msg), "STATUS=%s", last_status);
		send_state(msg);
	}
}

/* WatchdogSec=: systemd's interval, pinged at half of it (sd_watchdog_enabled(3)). */
static void
watchdog_setup(void)
{
	uint64_t usec = watchdog_usec();

	watchdog_checked = true;
	if (usec == 0)
		return;
	watchdog_every_ms = (int64_t)(usec / 2000);
	if (watchdog_every_ms < 1)
		watchdog_every_ms = 1;
	watchdog_next_ms = clock_mono_ms();
}

int
notify_watchdog_due(void)
{
	int64_t d;

	if (!watchdog_checked)
		watchdog_setup();
	if (watchdog_every_ms < 0)
		return -1;
	d = watchdog_next_ms - clock_mono_ms();
	return d <= 0 ? 0 : d > INT32_MAX ? INT32_MAX : (int)d;
}

void
notify_watchdog(void)
{
	if (notify_watchdog_due() != 0)
		return;
	send_state("WATCHDOG=1");
	watchdog_next_ms = clock_mono_ms() + watchdog_every_ms;
}
