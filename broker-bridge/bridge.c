/*
 * The daemon loop (see bridge.h). One thread, one poll over three fds:
 * the self-pipe the signal handlers write to, the inotify fd of the
 * database directory (another process committed: read the outbox now) and
 * the MQTT socket. A slow timer covers a missed or unavailable inotify.
 *
 * Phases: RUN publishes; DRAIN stops taking events and waits (bounded)
 * for the acks in flight; CLOSE publishes the retained "offline" and waits
 * for its ack; then the bridge exits, or switches to new settings (SIGHUP
 * with changed MQTT settings, or a new plan id under the default prefix).
 */
#include "bridge.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "campaign/clock.h"
#include "campaign/credentials.h"
#include "campaign/dbwatch.h"
#include "campaign/log.h"
#include "campaign/signals.h"
#include "campaign/notify.h"
#include "campaign/plandb.h"
#include "campaign/stopping.h"
#include "campaign/store.h"
#include "campaign/topic.h"
#include "campaign/xmalloc.h"
#include "feed.h"
#include "relay.h"
#include "retained.h"

#define DRAIN_MS 5000           /* SIGTERM: wait this long for acks in flight */
#define CLOSE_MS 1000           /* ... and this long for the "offline" ack */
#define FALLBACK_MS 2000        /* outbox check without an inotify wake-up */
#define FALLBACK_NOWATCH_MS 250 /* ... when inotify is unavailable */
#define TICK_MS 10000           /* new-day check */
#define CACHE_KIB 512           /* SQLite page cache: the outbox is read front to back */

#define STR2(x) #x
#define STR(x) STR2(x)

enum phase { PHASE_RUN, PHASE_DRAIN, PHASE_CLOSE, PHASE_DONE };

struct bridge {
	struct cfg *cfg;
	const char *config_path;
	const char *db_path;
	struct store *store;
	struct dbwatch *watch;
	struct mqtt *mqtt;              /* NULL until the topic prefix is known */
	struct relay *relay;
	struct retained *retained;
	struct feed *feed;              /* NULL without [feed] path */
	char *prefix;
	enum phase phase;
	bool exiting;                   /* after CLOSE: exit, else switch to next */
	struct mqtt_settings next;
	char *next_prefix;
	int64_t deadline_ms;
	int64_t next_read_ms;
	int64_t next_tick_ms;
	int64_t recheck_ms;             /* look again then (dbwatch_recheck_ms); 0: no */
	bool told_waiting;
	int signal_fd;                  /* signals.h */
};


static bool
readable(const char *path, const char *key, char *err, size_t errlen)
{
	if (path == NULL || access(path, R_OK) == 0)
		return true;
	snprintf(err, errlen, "[mqtt] %s %s: %s", key, path, strerror(errno));
	return false;
}

int
bridge_check_config(const struct cfg *cfg, char *err, size_t errlen)
{
	const char *why;
	char *secret;

	if (cfg->mqtt.topic_prefix != NULL && !topic_prefix_ok(cfg->mqtt.topic_prefix, &why)) {
		snprintf(err, errlen, "[mqtt] topic_prefix %s", why);
		return -1;
	}
	if (cfg->mqtt.password_file != NULL && cfg->mqtt.username == NULL) {
		snprintf(err, errlen, "[mqtt] password_file needs a username");
		return -1;
	}
	if (cfg->mqtt.username != NULL) {
		secret = credentials_secret(cfg->mqtt.password_file, CREDENTIAL_MQTT_PASSWORD,
		    err, errlen);
		if (secret == NULL && *err != '\0')
			return -1;
		credentials_free(secret);
	}
	if (!readable(cfg->mqtt.tls_ca, "tls_ca", err, errlen) ||
	    !readable(cfg->mqtt.tls_cert, "tls_cert", err, errlen) ||
	    !readable(cfg->mqtt.tls_key, "tls_key", err, errlen))
		return -1;
	return 0;
}

/* FNV-1a: a short stable tag for the database path. */
static uint32_t
path_tag(const char *db_path)
{
	char *abs = realpath(db_path, NULL);
	const char *p = abs != NULL ? abs : db_path;
	uint32_t h = 2166136261u;

	for (; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	free(abs);
	return h;
}

int
bridge_settings(const struct cfg *cfg, const char *prefix, const char *db_path,
    struct mqtt_settings *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	/* [mqtt] password_file, else the systemd credential mqtt-password. */
	if (cfg->mqtt.username != NULL) {
		out->password = credentials_secret(cfg->mqtt.password_file,
		    CREDENTIAL_MQTT_PASSWORD, err, errlen);
		if (out->password == NULL && *err != '\0')
			return -1;
	}
	out->host = xstrdup(cfg->mqtt.host);
	out->port = cfg->mqtt.port;
	out->socket = xstrdup_or_null(cfg->mqtt.socket);
	if (cfg->mqtt.client_id != NULL) {
		out->client_id = xstrdup(cfg->mqtt.client_id);
	} else {
		char host[HOST_NAME_MAX + 1] = "localhost";

		gethostname(host, sizeof(host) - 1);
		host[strcspn(host, ".")] = '\0';
		out->client_id = xasprintf("campaign-bridge-%.32s-%08x", host,
		    path_tag(db_path));
	}
	out->username = xstrdup_or_null(cfg->mqtt.username);
	out->tls_ca = xstrdup_or_null(cfg->mqtt.tls_ca);
	out->tls_cert = xstrdup_or_null(cfg->mqtt.tls_cert);
	out->tls_key = xstrdup_or_null(cfg->mqtt.tls_key);
	out->qos = cfg->mqtt.qos;
	out->protocol = cfg->mqtt.protocol == CFG_MQTT_V5 ? 5 : 4;
	out->keepalive = cfg->mqtt.keepalive;
	out->will_topic = message_status_topic(prefix);
	return 0;
}

/* The configured prefix, or campaign/<plan id>; NULL while no plan is loaded. */
static char *
resolve_prefix(struct bridge *b, const struct cfg *cfg)
{
	char *id;
	char *prefix;

	if (cfg->mqtt.topic_prefix != NULL)
		return xstrdup(cfg->mqtt.topic_prefix);
	id = retained_plan_id(b->store);
	if (id == NULL)
		return NULL;
	prefix = xasprintf("campaign/%s", id);
	free(id);
	if (!topic_prefix_ok(prefix, NULL)) {
		log_error("bridge", "plan id gives an invalid topic prefix; set [mqtt] topic_prefix");
		free(prefix);
		return NULL;
	}
	return prefix;
}

static void
on_published(void *arg, const struct event *e, const char *task_id)
{
	struct bridge *b = arg;

	if (task_id != NULL)
		retained_task(b->retained, task_id);
	else if (strcmp(e->type, "announcement") == 0)
		retained_announcement(b->retained);
	feed_event(b->feed, e);
}

/* Creates the connection once the prefix is known. */
static void
try_start(struct bridge *b)
{
	struct mqtt_settings set;
	char err[512];
	char *prefix = resolve_prefix(b, b->cfg);

	if (prefix == NULL) {
		if (!b->told_waiting)
			log_info("bridge", "no plan loaded yet (campaignctl plan load); waiting");
		b->told_waiting = true;
		return;
	}
	if (bridge_settings(b->cfg, prefix, b->db_path, &set, err, sizeof(err)) < 0) {
		log_error("bridge", "%s", err);
		free(prefix);
		return;
	}
	log_info("bridge", "publishing under %s/ as %s", prefix, set.client_id);
	b->prefix = prefix;
	relay_set_prefix(b->relay, prefix);
	b->mqtt = mqtt_new(&set);
}

/* Starts DRAIN; then CLOSE; then exit (exiting) or switch to b->next. */
static void
begin_close(struct bridge *b, bool exiting, int64_t now)
{
	b->exiting = b->exiting || exiting;
	if (b->phase != PHASE_RUN)
		return;
	if (b->mqtt == NULL) {
		b->phase = PHASE_DONE;
		return;
	}
	log_info("bridge", "%s: waiting up to %d s for %zu publishes in flight",
	    b->exiting ? "stopping" : "reconnecting with new settings", DRAIN_MS / 1000,
	    relay_inflight(b->relay));
	b->phase = PHASE_DRAIN;
	b->deadline_ms = now + DRAIN_MS;
}

static void
finish_close(struct bridge *b)
{
	mqtt_disconnect(b->mqtt);
	relay_flush(b->relay, clock_mono_ms(), true);
	if (b->exiting) {
		b->phase = PHASE_DONE;
		return;
	}
	mqtt_free(b->mqtt);
	relay_lost(b->relay);
	free(b->prefix);
	b->prefix = b->next_prefix;
	b->next_prefix = NULL;
	relay_set_prefix(b->relay, b->prefix);
	b->mqtt = mqtt_new(&b->next);
	b->phase = PHASE_RUN;
}

static void
advance_phase(struct bridge *b, int64_t now)
{
	struct message msg;
	bool up = b->mqtt != NULL && mqtt_connected(b->mqtt);

	if (b->phase == PHASE_DRAIN) {
		if (up && relay_inflight(b->relay) > 0 && now < b->deadline_ms)
			return;
		if (relay_inflight(b->relay) > 0)
			log_warnx("bridge", "%zu publishes still unacknowledged; they stay pending "
			    "in the store", relay_inflight(b->relay));
		relay_flush(b->relay, now, true);
		if (!up) {
			finish_close(b);
			return;
		}
		message_status(b->prefix, false, &msg);
		relay_publish(b->relay, b->mqtt, &msg, 'b');
		message_clear(&msg);
		b->phase = PHASE_CLOSE;
		b->deadline_ms = now + CLOSE_MS;
	} else if (b->phase == PHASE_CLOSE) {
		if (up && relay_inflight(b->relay) > 0 && now < b->deadline_ms)
			return;
		finish_close(b);
	}
}

static void
reload_config(struct bridge *b, int64_t now)
{
	struct mqtt_settings set;
	struct cfg *cfg;
	char err[512];
	char *prefix;

	if (b->config_path == NULL) {
		log_info("bridge", "SIGHUP: no --config file to reload");
		return;
	}
	cfg = cfg_load(b->config_path, err, sizeof(err));
	if (cfg == NULL || bridge_check_config(cfg, err, sizeof(err)) < 0) {
		log_error("bridge", "reload: %s; keeping the running configuration", err);
		cfg_free(cfg);
		return;
	}
	log_set_level(log_get_level() == LOG_LEVEL_DEBUG && cfg->log_level < LOG_LEVEL_DEBUG ?
	    log_get_level() : cfg->log_level);
	cfg_free(b->cfg);
	b->cfg = cfg;
	feed_free(b->feed);
	b->feed = feed_new(cfg, b->store);
	if (b->mqtt == NULL) {
		try_start(b);
		return;
	}
	prefix = resolve_prefix(b, cfg);
	if (prefix == NULL)
		prefix = xstrdup(b->prefix);
	if (bridge_settings(cfg, prefix, b->db_path, &set, err, sizeof(err)) < 0) {
		log_error("bridge", "reload: %s; keeping the running connection", err);
		free(prefix);
		return;
	}
	if (mqtt_settings_equal(&set, mqtt_settings_get(b->mqtt)) &&
	    strcmp(prefix, b->prefix) == 0) {
		log_info("bridge", "configuration reloaded; MQTT settings unchanged");
		mqtt_settings_clear(&set);
		free(prefix);
		return;
	}
	log_info("bridge", "configuration reloaded; MQTT settings changed");
	mqtt_settings_clear(&b->next);
	free(b->next_prefix);
	b->next = set;
	b->next_prefix = prefix;
	begin_close(b, false, now);
}

/* Another process committed (or the fallback timer fired). */
static void
db_changed(struct bridge *b, int64_t now)
{
	char *prefix;

	relay_wake(b->relay);
	retained_db_changed(b->retained);
	if (b->mqtt == NULL) {
		try_start(b);
		return;
	}
	if (b->cfg->mqtt.topic_prefix != NULL || b->phase != PHASE_RUN)
		return;
	prefix = resolve_prefix(b, b->cfg);
	if (prefix != NULL && strcmp(prefix, b->prefix) != 0) {
		struct mqtt_settings set;
		char err[512];

		log_info("bridge", "the plan id changed: moving to %s/", prefix);
		if (bridge_settings(b->cfg, prefix, b->db_path, &set, err, sizeof(err)) == 0) {
			mqtt_settings_clear(&b->next);
			free(b->next_prefix);
			b->next = set;
			b->next_prefix = prefix;
			prefix = NULL;
			begin_close(b, false, now);
		} else {
			log_error("bridge", "%s", err);
		}
	}
	free(prefix);
}

static void
process_acks(struct bridge *b)
{
	const struct mqtt_ack *acks;
	size_t n = mqtt_acks(b->mqtt, &acks);

	if (n > 0) {
		relay_acks(b->relay, acks, n);
		mqtt_acks_clear(b->mqtt);
	}
}

static void
service_mqtt(struct bridge *b, short revents, int64_t now)
{
	struct message msg;

	mqtt_service(b->mqtt, revents, now);
	if (mqtt_take_lost(b->mqtt))
		relay_lost(b->relay);
	process_acks(b);
	if (mqtt_take_connect(b->mqtt)) {
		/* Every connect: birth, and the retained state a broker restart may have lost. */
		message_status(b->prefix, true, &msg);
		relay_publish(b->relay, b->mqtt, &msg, 'b');
		message_clear(&msg);
		retained_all(b->retained);
		relay_wake(b->relay);
	}
	if (b->phase == PHASE_RUN) {
		relay_pump(b->relay, b->mqtt);
		retained_pump(b->retained, b->relay, b->mqtt, b->prefix);
	}
	process_acks(b);
}

static int
min_timeout(int a, int64_t at, int64_t now)
{
	int64_t d = at <= now ? 0 : at - now;

	if (d > INT_MAX)
		d = INT_MAX;
	return a < 0 || d < a ? (int)d : a;
}

/*
 * systemd: READY=1 once serving (the broker connected, or being retried, or
 * waiting for a plan to name the topics), a STATUS= line, WATCHDOG=1.
 */
static void
tell_systemd(struct bridge *b)
{
	struct relay_stats st;
	const char *state;

	notify_watchdog();
	if (b->phase != PHASE_RUN)
		return;
	relay_stats(b->relay, &st);
	if (b->mqtt == NULL)
		state = "waiting for a plan (campaignctl plan load)";
	else if (mqtt_connected(b->mqtt))
		state = "broker connected";
	else if (mqtt_failed_attempts(b->mqtt) > 0)
		state = "broker unreachable, retrying";
	else
		return;         /* the first attempt is under way: not serving yet */
	notify_ready("%s", state);
	notify_status("%s; %llu delivered, %llu failed", state,
	    (unsigned long long)st.delivered, (unsigned long long)st.failed);
}

static void
loop(struct bridge *b)
{
	int fallback = dbwatch_fd(b->watch) >= 0 ? FALLBACK_MS : FALLBACK_NOWATCH_MS;

	while (b->phase != PHASE_DONE) {
		struct pollfd pfd[3] = {
			{ .fd = b->signal_fd, .events = POLLIN },
			{ .fd = dbwatch_fd(b->watch), .events = POLLIN },
			{ .fd = b->mqtt != NULL ? mqtt_fd(b->mqtt) : -1 },
		};
		int64_t now = clock_mono_ms();
		int timeout = -1, t;
		bool poke = false, notified = false;
		int signals;

		if (b->mqtt != NULL) {
			pfd[2].events = mqtt_events(b->mqtt);
			timeout = mqtt_timeout(b->mqtt, now);
		}
		if ((t = relay_timeout(b->relay, now)) >= 0 && (timeout < 0 || t < timeout))
			timeout = t;
		timeout = min_timeout(timeout, b->next_read_ms, now);
		timeout = min_timeout(timeout, b->next_tick_ms, now);
		if (b->recheck_ms > 0)
			timeout = min_timeout(timeout, b->recheck_ms, now);
		if (b->phase == PHASE_DRAIN || b->phase == PHASE_CLOSE)
			timeout = min_timeout(timeout, b->deadline_ms, now);
		if ((t = notify_watchdog_due()) >= 0 && (timeout < 0 || t < timeout))
			timeout = t;    /* systemd: WatchdogSec */
		if (poll(pfd, 3, timeout) < 0 && errno != EINTR)
			fatal("bridge", "poll");
		now = clock_mono_ms();
		signals = (pfd[0].revents & POLLIN) ? signals_take() : 0;
		if (signals & SIGNALS_HUP) {
			notify_reloading();     /* systemd */
			reload_config(b, now);
			notify_reloaded();      /* systemd */
		}
		if (signals & SIGNALS_TERM) {
			notify_stopping();      /* systemd */
			if (b->exiting)
				log_info("bridge", "stopping already");
			begin_close(b, true, now);
		}
		/* A notified commit may not be visible yet: dbwatch says when to look again. */
		if ((pfd[1].revents & POLLIN) && dbwatch_drain(b->watch))
			notified = true;
		else if (b->recheck_ms > 0 && now >= b->recheck_ms)
			notified = true;
		if (now >= b->next_read_ms) {
			poke = true;
			b->next_read_ms = now + fallback;
		}
		if (poke || notified) {
			bool changed = store_changed(b->store);

			if (notified) {
				int ms = dbwatch_recheck_ms(b->watch, changed);

				b->recheck_ms = ms < 0 ? 0 : now + ms;
			}
			if (changed)
				db_changed(b, now);
		}
		if (now >= b->next_tick_ms) {
			retained_tick(b->retained);
			feed_flush(b->feed, true);
			b->next_tick_ms = now + TICK_MS;
		}
		if (b->mqtt != NULL)
			service_mqtt(b, pfd[2].revents, now);
		feed_flush(b->feed, false);
		relay_flush(b->relay, now, false);
		advance_phase(b, now);
		tell_systemd(b);
	}
}

int
bridge_run(struct cfg *cfg, const char *config_path, const char *db_path)
{
	struct bridge b = { .cfg = cfg, .config_path = config_path, .db_path = db_path,
		.signal_fd = -1 };
	struct relay_stats stats;
	char err[512];
	int status = 1;

	b.store = store_open(db_path, err, sizeof(err));
	if (b.store == NULL) {
		log_error("bridge", "%s", err);
		goto out;
	}
	if (store_exec(b.store, "PRAGMA cache_size = -" STR(CACHE_KIB)) < 0)
		log_warnx("bridge", "cannot shrink the SQLite cache");
	if (plandb_present(b.store) && plandb_use_zone(b.store, err, sizeof(err)) < 0)
		log_warnx("bridge", "%s", err);
	if ((b.signal_fd = signals_open()) < 0)
		fatal("bridge", "signal pipe");
	b.watch = dbwatch_open(db_path);
	b.retained = retained_new(b.store);
	b.feed = feed_new(cfg, b.store);
	b.relay = relay_new(b.store, on_published, &b);
	log_info("bridge", "started: db %s", db_path);
	try_start(&b);
	loop(&b);
	relay_stats(b.relay, &stats);
	log_info("bridge", "stopped: %llu events published, %llu delivered, %llu failed",
	    (unsigned long long)stats.published, (unsigned long long)stats.delivered,
	    (unsigned long long)stats.failed);
	status = 0;
out:
	mqtt_free(b.mqtt);
	relay_free(b.relay);
	retained_free(b.retained);
	feed_free(b.feed);
	dbwatch_close(b.watch);
	store_close(b.store);
	mqtt_settings_clear(&b.next);
	signals_close();
	free(b.next_prefix);
	free(b.prefix);
	cfg_free(b.cfg);
	return status;
}
