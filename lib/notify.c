/*
 * sd_notify for the daemons (see campaign/notify.h). libsystemd does the
 * socket work and reads $NOTIFY_SOCKET and $WATCHDOG_USEC/$WATCHDOG_PID; this
 * module keeps the once-only and pacing rules in one place.
 */
#include "campaign/notify.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "campaign/clock.h"
#include "campaign/log.h"

#define STATUS_MAX 256

static bool ready, stopping, watchdog_checked;
static int64_t watchdog_every_ms = -1;  /* -1: no watchdog */
static int64_t watchdog_next_ms;
static char last_status[STATUS_MAX];

static void
send_state(const char *state)
{
	int rc = sd_notify(0, state);

	if (rc < 0)
		log_debug("notify", "sd_notify: %s", strerror(-rc));
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
	uint64_t usec = 0;

	watchdog_checked = true;
	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
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
