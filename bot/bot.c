/*
 * The daemon's runtime: the host callbacks a driver calls, signal handling
 * through a self-pipe, other processes' commits through dbwatch, periodic
 * housekeeping, and an orderly shutdown bounded in time.
 */
#include "bot.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/stopping.h"
#include "campaign/xmalloc.h"
#include "intake.h"

#define WAIT_MAX_MS 1000
#define DRAIN_MAX_MS 10000
#define SHUTDOWN_MAX_MS 5000
#define HOUSEKEEPING_MS 1000
#define PRUNE_EVERY_MS (3600 * 1000)
#define DBWATCH_COALESCE_MS 20

static volatile sig_atomic_t got_term, got_hup;
static int signal_fd = -1;

static void
on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1, stopping_request(STOPPING_BOUND_S);
	if (signal_fd >= 0 && write(signal_fd, &c, 1) < 0) {
		/* the pipe is full: a wakeup is already pending */
	}
	errno = saved;
}

/* Another process committed (or we are not sure): reload what may have changed. */
static bool
db_changed(struct bot *b)
{
	if (!store_changed(b->store))
		return false;
	core_plan_changed(b->core);
	sender_kick(b->sender);
	if (b->scheduler != NULL)
		scheduler_poke(b->scheduler);
	return true;
}

/*
 * Our own commits touch the WAL too, so the watch fires for every message.
 * Coalesce: after a notification, stop watching for a moment, then drain
 * everything at once and look whether another process committed.
 */
static void
on_dbwatch(void *arg, int fd)
{
	struct bot *b = arg;

	loop_unwatch_fd(b->loop, fd);
	loop_timer_after(b->dbcheck, DBWATCH_COALESCE_MS);
}

static void
dbcheck(void *arg)
{
	struct bot *b = arg;
	bool hit = dbwatch_drain(b->watch);

	if (hit || b->rechecking) {
		/* A commit we were told about may not be visible yet: look again soon. */
		int ms = dbwatch_recheck_ms(b->watch, db_changed(b));

		b->rechecking = ms >= 0;
		if (b->rechecking) {
			loop_timer_after(b->dbcheck, ms);
			return;
		}
	}
	loop_watch_fd(b->loop, dbwatch_fd(b->watch), on_dbwatch, b);
}

static void
reload_config(struct bot *b)
{
	char err[512];
	struct cfg *cfg;

	if (b->config_path == NULL) {
		log_info("bot", "SIGHUP: no configuration file to reload");
		return;
	}
	cfg = cfg_load(b->config_path, err, sizeof(err));
	if (cfg == NULL) {
		log_warnx("bot", "SIGHUP: keeping the old configuration: %s", err);
		return;
	}
	core_set_cfg(b->core, cfg);
	if (b->scheduler != NULL)
		scheduler_set_cfg(b->scheduler, cfg);
	cfg_free(b->cfg);
	b->cfg = cfg;
	log_set_level(cfg->log_level);
	log_info("bot", "configuration reloaded from %s (driver, database and rates "
	    "apply at restart)", b->config_path);
}

static void
on_signal_pipe(void *arg, int fd)
{
	struct bot *b = arg;
	char drain[64];

	while (read(fd, drain, sizeof(drain)) > 0)
		;
	if (got_hup) {
		got_hup = 0;
		reload_config(b);
	}
	if (got_term && !b->stopping) {
		log_info("bot", "signal received: shutting down");
		b->stopping = true;
	}
}

static void
housekeeping(void *arg)
{
	struct bot *b = arg;
	static int64_t last_prune;
	int64_t now = clock_mono_ms();

	/* Without inotify, look for other processes' commits every second. */
	if (dbwatch_fd(b->watch) < 0)
		db_changed(b);
	if (now - last_prune >= PRUNE_EVERY_MS || last_prune == 0) {
		int n = intake_prune(b->store);

		if (n > 0)
			log_info("bot", "forgot %d old update ids", n);
		last_prune = now;
	}
	loop_timer_after(b->housekeeping, HOUSEKEEPING_MS);
}

/*
 * The bot's connection commits with synchronous=NORMAL (WAL: safe when the
 * process dies, not yet on disk after a power cut) except for the intake's
 * batches, which carry reports and the confirmations of them: those commit
 * with synchronous=FULL, which also makes every earlier commit durable (the
 * WAL is sequential). So a confirmed report survives a power cut, and a
 * power cut can at most lose a "sent" mark, which repeats that message.
 */
static void
durable(struct bot *b, bool full)
{
	if (store_exec(b->store, full ? "PRAGMA synchronous = FULL" :
	    "PRAGMA synchronous = NORMAL") < 0)
		log_warnx("bot", "cannot set synchronous");
}

/* ---- the host side of the driver interface ---- */

static int
host_batch(void *ctx, const struct chat_batch *batch)
{
	struct bot *b = ctx;
	size_t applied = 0;
	int rc;

	db_changed(b);
	durable(b, true);
	rc = intake_batch(b->store, b->core, batch, &applied);
	durable(b, false);
	if (rc == 0 && applied > 0)
		sender_kick(b->sender);
	log_debug("bot", "%s batch: %zu events, %zu new%s", batch->platform, batch->n, applied,
	    rc < 0 ? ", not stored" : "");
	return rc;
}

static char *
host_cursor(void *ctx, const char *key)
{
	struct bot *b = ctx;
	char *value = NULL;

	if (store_kv_get(b->store, key, &value) != 1)
		return NULL;
	return value;
}

static void
host_sent(void *ctx, int64_t delivery_id, const struct send_result *r)
{
	struct bot *b = ctx;

	sender_result(b->sender, delivery_id, r);
}

/* The scheduler queued reminders. */
static void
reminders_queued(void *arg)
{
	struct bot *b = arg;

	sender_kick(b->sender);
}

static void
host_kick(void *ctx)
{
	struct bot *b = ctx;

	sender_kick(b->sender);
}

static void
host_input_closed(void *ctx)
{
	struct bot *b = ctx;

	if (!b->input_closed) {
		b->input_closed = true;
		b->closed_at = clock_mono_ms();
	}
}

static void
host_fatal(void *ctx, const char *message)
{
	struct bot *b = ctx;

	log_error("bot", "%s", message);
	b->exit_code = 1;
	b->stopping = true;
}

int
bot_init(struct bot *b)
{
	struct sigaction sa;

	b->loop = loop_new();
	b->host = (struct driver_host){
		.ctx = b, .loop = b->loop, .batch = host_batch, .cursor = host_cursor,
		.sent = host_sent, .kick = host_kick, .input_closed = host_input_closed,
		.fatal = host_fatal,
	};
	if (pipe2(b->sigpipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		log_warn("bot", "pipe");
		return -1;
	}
	signal_fd = b->sigpipe[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	loop_watch_fd(b->loop, b->sigpipe[0], on_signal_pipe, b);
	b->watch = dbwatch_open(store_path(b->store));
	loop_watch_fd(b->loop, dbwatch_fd(b->watch), on_dbwatch, b);
	b->housekeeping = loop_timer_new(b->loop, housekeeping, b);
	b->dbcheck = loop_timer_new(b->loop, dbcheck, b);
	durable(b, false);
	return 0;
}

/* Stop receiving, let the sends in flight finish (bounded), keep the rest queued. */
static void
shut_down(struct bot *b)
{
	int64_t deadline = clock_mono_ms() + SHUTDOWN_MAX_MS;

	b->driver->ops->stop(b->driver);
	while ((sender_in_flight(b->sender) > 0 || !b->driver->ops->idle(b->driver)) &&
	    clock_mono_ms() < deadline)
		loop_run_once(b->loop, 100);
	if (sender_in_flight(b->sender) > 0)
		log_warnx("bot", "%d send(s) still in flight at exit; they will be sent again",
		    sender_in_flight(b->sender));
	log_info("bot", "stopped");
}

int
bot_run(struct bot *b)
{
	struct sender *s;

	s = b->sender = sender_new(b->store, b->loop, b->driver, &b->driver->limits);
	loop_timer_at(b->housekeeping, 0);
	if (b->driver->ops->start(b->driver) < 0)
		return 1;
	/* After the driver's start, so a console's own chat exists for the first tick. */
	b->scheduler = scheduler_new(b->store, b->loop, b->cfg, reminders_queued, b);
	scheduler_start(b->scheduler);
	sender_kick(s);
	log_info("bot", "running with the %s driver on %s", b->driver->ops->name,
	    store_path(b->store));
	while (!b->stopping) {
		loop_run_once(b->loop, WAIT_MAX_MS);
		if (b->input_closed && sender_idle(s) && b->driver->ops->idle(b->driver) &&
		    scheduler_ticked(b->scheduler))
			break;
		if (b->input_closed && clock_mono_ms() - b->closed_at > DRAIN_MAX_MS) {
			log_warnx("bot", "replies still queued after %d s; leaving them for next time",
			    DRAIN_MAX_MS / 1000);
			break;
		}
	}
	shut_down(b);
	return b->exit_code;
}

void
bot_cleanup(struct bot *b)
{
	if (b->driver != NULL)
		b->driver->ops->free(b->driver);
	sender_free(b->sender);
	scheduler_free(b->scheduler);
	loop_timer_free(b->housekeeping);
	loop_timer_free(b->dbcheck);
	dbwatch_close(b->watch);
	if (b->sigpipe[0] > 0) {
		signal_fd = -1;
		close(b->sigpipe[0]);
		close(b->sigpipe[1]);
	}
	loop_free(b->loop);
	core_free(b->core);
}
