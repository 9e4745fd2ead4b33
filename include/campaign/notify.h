/*
 * The service manager's notifications (sd_notify, docs/REFERENCE.md
 * "Environment"): READY=1 once, when the daemon really serves; STATUS= lines;
 * WATCHDOG=1 from the event loop at half the WatchdogSec pace; STOPPING=1 on
 * shutdown; RELOADING=1 around a SIGHUP reload. Without $NOTIFY_SOCKET every
 * call does nothing, so the daemons call them unconditionally.
 */
#ifndef CAMPAIGN_NOTIFY_H
#define CAMPAIGN_NOTIFY_H

#include <stdbool.h>

/* READY=1, with a STATUS= line from fmt; only the first call sends anything. */
void notify_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool notify_is_ready(void);
/* A STATUS= line (sent only when it differs from the last one). */
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* STOPPING=1 with a status line; once. */
void notify_stopping(void);
/* RELOADING=1 before a reload; notify_reloaded() sends READY=1 after it. */
void notify_reloading(void);
void notify_reloaded(void);
/*
 * The watchdog: milliseconds until the next WATCHDOG=1 is due (0: now), or -1
 * when systemd set no WatchdogSec for this process. A loop caps its wait
 * with it and calls notify_watchdog() every turn; that sends only when due.
 */
int notify_watchdog_due(void);
void notify_watchdog(void);

#endif
