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

#include "campaign/buf.h"
#include "campaign/clock.h"
#include "campaign/credentials.h"
#include "campaign/lockfile.h"
#include "campaign/log.h"
#include "campaign/notify.h"
#include "campaign/outbox.h"
#include "campaign/signals.h"
#include "campaign/stopping.h"
#include "campaign/xmalloc.h"
#include "driver_telegram.h"
#include "intake.h"
#include "registry.h"

#define WAIT_MAX_MS 1000
#define DRAIN_MAX_MS 10000
#define SHUTDOWN_MAX_MS 5000
#define HOUSEKEEPING_MS 1000
#define PRUNE_EVERY_MS (3600 * 1000)
#define DBWATCH_COALESCE_MS 20

static void tell_status(const struct bot *b);

static void
kick_all(struct bot *b)
{
	for (size_t i = 0; i < b->nplatforms; i++)
		if (b->platforms[i].sender != NULL)
			sender_kick(b->platforms[i].sender);
}

/* Another process committed (or we are not sure): reload what may have changed. */
static bool
db_changed(struct bot *b)
{
	if (!store_changed(b->store))
		return false;
	core_plan_changed(b->core);
	kick_all(b);
	if (b->scheduler != NULL)
		scheduler_poke(b->scheduler);
	return true;
}

/*
 * Our own commits touch the WAL too, and inotify cannot tell whose write it
 * saw. Those notifications are taken before the loop waits (own_writes), so
 * the bot does not wake for its own commits. What remains is another
 * process's: coalesce, stop watching for a moment, then drain everything at
 * once and look whether it committed.
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

/* SIGHUP: the chat platform's credentials as the new config names them (a rotated token). */
static void
reload_credentials(struct bot *b, const struct cfg *cfg)
{
	char err[512], *token;

	for (size_t i = 0; i < b->nplatforms; i++) {
		struct driver *d = b->platforms[i].driver;

		if (d == NULL || strcmp(d->ops->name, "telegram") != 0)
			continue;
		token = credentials_telegram_token(cfg, err, sizeof(err));
		if (token == NULL) {
			log_warnx("bot", "SIGHUP: keeping the bot token: %s", err);
			return;
		}
		driver_telegram_set_token(d, token);
		credentials_free(token);
	}
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
	reload_credentials(b, cfg);
	core_set_cfg(b->core, cfg);
	if (b->scheduler != NULL)
		scheduler_set_cfg(b->scheduler, cfg);
	cfg_free(b->cfg);
	b->cfg = cfg;
	log_set_level(cfg->log_level);
	log_info("bot", "configuration reloaded from %s: admins, reminders, chat credentials "
	    "(driver, database and rates apply at restart)", b->config_path);
}

static void
on_signal_pipe(void *arg, int fd)
{
	struct bot *b = arg;
	int signals = signals_take();

	(void)fd;
	if (signals & SIGNALS_HUP) {
		notify_reloading();     /* systemd */
		reload_config(b);
		notify_reloaded();      /* systemd */
	}
	if ((signals & SIGNALS_TERM) && !b->stopping) {
		log_info("bot", "signal received: shutting down");
		notify_stopping();      /* systemd */
		b->stopping = true;
	}
}

/*
 * Before the loop waits: if we committed since the last look, the watch's
 * events are (mostly) our own, queued by the kernel during our writes. Take
 * them now and look once whether another process committed too. A commit of
 * another process notified in the same moment but not yet visible is the
 * one case this misses; housekeeping's look every second catches it.
 */
static void
own_writes(void *arg)
{
	struct bot *b = arg;
	uint64_t writes = store_writes(b->store);

	if (writes == b->writes_seen)
		return;
	b->writes_seen = writes;
	/* Even during a re-check: left queued, our events would wake the next wait. */
	dbwatch_discard(b->watch);
	if (!b->rechecking && !loop_timer_armed(b->dbcheck))
		db_changed(b);
}

static void
housekeeping(void *arg)
{
	struct bot *b = arg;
	static int64_t last_prune;
	int64_t now = clock_mono_ms();

	/* Another process's commit we were not told about (see own_writes). */
	db_changed(b);
	/* systemd: the status line, once serving ("telegram, dingtalk: serving; 0 pending"). */
	if (notify_is_ready())
		tell_status(b);
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
	struct bot_platform *p = ctx;
	struct bot *b = p->bot;
	size_t applied = 0;
	int rc;

	db_changed(b);
	durable(b, true);
	rc = intake_batch(b->store, b->core, batch, &applied);
	durable(b, false);
	if (rc == 0 && applied > 0)
		sender_kick(p->sender);
	log_debug("bot", "%s batch: %zu events, %zu new%s", batch->platform, batch->n, applied,
	    rc < 0 ? ", not stored" : "");
	return rc;
}

static char *
host_cursor(void *ctx, const char *key)
{
	struct bot_platform *p = ctx;
	char *value = NULL;

	if (store_kv_get(p->bot->store, key, &value) != 1)
		return NULL;
	return value;
}

static void
host_sent(void *ctx, int64_t delivery_id, const struct send_result *r)
{
	struct bot_platform *p = ctx;

	sender_result(p->sender, delivery_id, r);
}

/* The scheduler queued reminders: they may be for any platform. */
static void
reminders_queued(void *arg)
{
	kick_all(arg);
}

/* issue 15: the scheduled bulletin queued mail and chat texts. */
static void
bulletin_queued(void *arg)
{
	struct bot *b = arg;

	kick_all(b);
	mailbox_kick(b->mailbox);
}

static void
host_kick(void *ctx)
{
	struct bot_platform *p = ctx;

	if (p->sender != NULL)
		sender_kick(p->sender);
}

static void
host_input_closed(void *ctx)
{
	struct bot *b = ((struct bot_platform *)ctx)->bot;

	if (!b->input_closed) {
		b->input_closed = true;
		b->closed_at = clock_mono_ms();
	}
}

static void
host_fatal(void *ctx, const char *message)
{
	struct bot_platform *p = ctx;
	struct bot *b = p->bot;

	log_error("bot", "%s: %s", p->driver != NULL ? p->driver->ops->name : "driver", message);
	b->exit_code = 1;
	b->stopping = true;
}

int
bot_init(struct bot *b)
{
	int fd;

	b->loop = loop_new();
	if ((fd = signals_open()) < 0) {
		log_warn("bot", "signal pipe");
		return -1;
	}
	loop_watch_fd(b->loop, fd, on_signal_pipe, b);
	b->watch = dbwatch_open(store_path(b->store));
	loop_watch_fd(b->loop, dbwatch_fd(b->watch), on_dbwatch, b);
	b->housekeeping = loop_timer_new(b->loop, housekeeping, b);
	b->dbcheck = loop_timer_new(b->loop, dbcheck, b);
	b->writes_seen = store_writes(b->store);
	loop_before_wait(b->loop, own_writes, b);
	durable(b, false);
	return 0;
}

void
bot_add_platform(struct bot *b, const char *name)
{
	struct bot_platform *p;

	b->platforms = xreallocarray(b->platforms, b->nplatforms + 1, sizeof(*b->platforms));
	p = &b->platforms[b->nplatforms++];
	memset(p, 0, sizeof(*p));
	p->bot = b;
	p->name = xstrdup(name);
	p->lock_fd = p->presence_fd = -1;
}

/* Platforms whose bot identity allows one connection take a lock per database. */
static int
lock_platform(struct bot_platform *p, const char *db)
{
	char err[512], *path;

	if (registry_exclusive(p->name)) {
		path = xasprintf("%s-%s.lock", db, p->name);
		p->lock_fd = lockfile_acquire(path, err, sizeof(err));
		free(path);
		if (p->lock_fd < 0) {
			if (registry_implicit(p->name))
				return -1;
			log_error("bot", "another campaign-bot already serves %s for %s (%s)",
			    p->name, db, err);
			return -1;
		}
	}
	/* Tells campaignctl broadcast --wait that someone delivers this platform's chats. */
	path = lockfile_bot_path(db, p->name);
	if ((p->presence_fd = lockfile_share(path, err, sizeof(err))) < 0)
		log_warnx("bot", "%s (campaignctl cannot see this bot)", err);
	free(path);
	return 0;
}

int
bot_open_platforms(struct bot *b, const char *db, const struct driver_args *a)
{
	char err[512];

	for (size_t i = 0; i < b->nplatforms; i++) {
		struct bot_platform *p = &b->platforms[i];

		p->host = (struct driver_host){
			.ctx = p, .loop = b->loop, .batch = host_batch, .cursor = host_cursor,
			.sent = host_sent, .kick = host_kick, .input_closed = host_input_closed,
			.fatal = host_fatal,
		};
		if (lock_platform(p, db) < 0) {
			if (!registry_implicit(p->name))
				return -1;
			/* Another daemon on this database serves the channels: fine. */
			log_info("bot", "the %s platform is served by the other campaign-bot",
			    p->name);
			free(p->name);
			memmove(p, p + 1, (b->nplatforms - i - 1) * sizeof(*p));
			b->nplatforms--;
			i--;
			continue;
		}
		p->driver = registry_open(p->name, &p->host, b->cfg, a, err, sizeof(err));
		if (p->driver == NULL) {
			log_error("bot", "%s", err);
			return -1;
		}
		if (p->driver->ops->file_url != NULL)  /* issue 15: summaries sent in chat */
			p->files = file_fetch_new(b->store, b->loop, p->driver, b->cfg);
	}
	return 0;
}

/* Every platform signed in and receiving (systemd's READY=1). */
static bool
all_serving(const struct bot *b)
{
	for (size_t i = 0; i < b->nplatforms; i++) {
		struct driver *d = b->platforms[i].driver;

		if (!(d->ops->serving != NULL ? d->ops->serving(d) : d->ops->can_send(d)))
			return false;
	}
	return true;
}

/* "telegram, dingtalk" into names (the group robots' implicit platform aside). */
static void
platform_names(const struct bot *b, struct buf *names)
{
	bool first = true;

	for (size_t i = 0; i < b->nplatforms; i++) {
		if (registry_implicit(b->platforms[i].name))
			continue;
		buf_printf(names, "%s%s", first ? "" : ", ", b->platforms[i].driver->ops->name);
		first = false;
	}
}

static void
tell_ready(const struct bot *b)
{
	struct buf names;

	buf_init(&names, 256);
	platform_names(b, &names);
	notify_ready("%s: serving", buf_str(&names));
	buf_free(&names);
}

/* systemd's STATUS=: the platforms and what waits in the outbox. */
static void
tell_status(const struct bot *b)
{
	struct buf names;
	int64_t pending = 0;

	buf_init(&names, 256);
	platform_names(b, &names);
	for (size_t i = 0; i < b->nplatforms; i++) {
		int64_t n = outbox_pending(b->store, b->platforms[i].driver->ops->name);

		pending += n > 0 ? n : 0;
	}
	notify_status("%s: serving; %lld pending", buf_str(&names), (long long)pending);
	buf_free(&names);
}

static bool
all_idle(const struct bot *b, bool senders_too)
{
	for (size_t i = 0; i < b->nplatforms; i++) {
		const struct bot_platform *p = &b->platforms[i];

		if (!p->driver->ops->idle(p->driver))
			return false;
		if (senders_too ? !sender_idle(p->sender) : sender_in_flight(p->sender) > 0)
			return false;
	}
	return true;
}

/* Stop receiving, let the sends in flight finish (bounded), keep the rest queued. */
static void
shut_down(struct bot *b)
{
	int64_t deadline = clock_mono_ms() + SHUTDOWN_MAX_MS;
	int left = 0;

	for (size_t i = 0; i < b->nplatforms; i++)
		b->platforms[i].driver->ops->stop(b->platforms[i].driver);
	while (!all_idle(b, false) && clock_mono_ms() < deadline)
		loop_run_once(b->loop, 100);
	for (size_t i = 0; i < b->nplatforms; i++)
		left += sender_in_flight(b->platforms[i].sender);
	if (left > 0)
		log_warnx("bot", "%d send(s) still in flight at exit; they will be sent again",
		    left);
	log_info("bot", "stopped");
}

int
bot_run(struct bot *b)
{
	struct buf names;

	loop_timer_at(b->housekeeping, 0);
	for (size_t i = 0; i < b->nplatforms; i++) {
		struct bot_platform *p = &b->platforms[i];

		p->sender = sender_new(b->store, b->loop, p->driver, &p->driver->limits);
	}
	for (size_t i = 0; i < b->nplatforms; i++)
		if (b->platforms[i].driver->ops->start(b->platforms[i].driver) < 0)
			return 1;
	/* After the drivers' start, so a console's own chat exists for the first tick. */
	b->scheduler = scheduler_new(b->store, b->loop, b->cfg, reminders_queued, b);
	scheduler_start(b->scheduler);
	/* issue 15: the office mailbox, only with [mail] (GMime is loaded only then) */
	{
		bool failed;

		b->mailbox = mailbox_new(b->store, b->loop, b->cfg, &failed);
		if (failed)
			return 1;
		b->bulletin = bulletinjob_new(b->store, b->loop, b->cfg, bulletin_queued, b);
	}
	kick_all(b);
	buf_init(&names, 256);
	platform_names(b, &names);
	log_info("bot", "serving %s on %s", buf_str(&names), store_path(b->store));
	buf_free(&names);
	while (!b->stopping) {
		loop_run_once(b->loop, WAIT_MAX_MS);
		/* systemd: READY=1 once every platform serves; WATCHDOG=1 from this loop. */
		if (!notify_is_ready() && all_serving(b))
			tell_ready(b);
		notify_watchdog();
		if (b->input_closed && all_idle(b, true) && scheduler_ticked(b->scheduler))
			break;
		if (b->input_closed && clock_mono_ms() - b->closed_at > DRAIN_MAX_MS) {
			log_warnx("bot", "replies still queued after %d s; leaving them for next time",
			    DRAIN_MAX_MS / 1000);
			break;
		}
	}
	notify_stopping();      /* systemd */
	shut_down(b);
	return b->exit_code;
}

void
bot_cleanup(struct bot *b)
{
	for (size_t i = 0; i < b->nplatforms; i++) {
		struct bot_platform *p = &b->platforms[i];

		if (p->driver != NULL)
			p->driver->ops->free(p->driver);        /* ends its file_url calls */
		file_fetch_free(p->files);
		sender_free(p->sender);
		lockfile_release(p->lock_fd);
		lockfile_release(p->presence_fd);
		free(p->name);
	}
	free(b->platforms);
	bulletinjob_free(b->bulletin);  /* issue 15 */
	mailbox_free(b->mailbox);       /* issue 15 */
	scheduler_free(b->scheduler);
	loop_timer_free(b->housekeeping);
	loop_timer_free(b->dbcheck);
	dbwatch_close(b->watch);
	signals_close();
	loop_free(b->loop);
	core_free(b->core);
}
