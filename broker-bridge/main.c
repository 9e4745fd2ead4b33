/*
 * campaign-bridge: publishes every event of the store's outbox to MQTT.
 * main parses the options, checks the configuration, takes the one-bridge-
 * per-database lock and hands over to bridge_run. The admin options
 * --failed and --retry-failed work on the outbox and exit.
 */
#include <getopt.h>
#include <locale.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "campaign/cfg.h"
#include "campaign/clock.h"
#include "campaign/events.h"
#include "campaign/lockfile.h"
#include "campaign/log.h"
#include "campaign/version.h"
#include "campaign/num.h"
#include "campaign/plandb.h"
#include "campaign/store.h"
#include "campaign/xmalloc.h"

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: campaign-bridge [--config FILE] [--db PATH] [-n] [-v]\n"
	    "       campaign-bridge [--db PATH] --failed\n"
	    "       campaign-bridge [--db PATH] --retry-failed [ID|all]\n\n"
	    "Publishes the campaign's events to MQTT (see [mqtt] in the config).\n"
	    "  -c, --config FILE   INI configuration\n"
	    "  -d, --db PATH       database (else $CAMPAIGN_DB, [store] db, ./campaign.db)\n"
	    "  -n                  check the configuration and exit\n"
	    "  -v, --verbose       debug logging\n"
	    "      --failed        list events the broker refused\n"
	    "      --retry-failed  make refused events pending again (all, or one ID)\n");
}

static int
list_failed(struct store *s)
{
	struct event *ev;
	int64_t after = 0;
	size_t n, total = 0;

	do {
		if (events_failed(s, after, 256, &ev, &n) < 0)
			return 1;
		for (size_t i = 0; i < n; i++) {
			char done[CLOCK_ISO_STRLEN] = "-";

			if (ev[i].done_at > 0)
				clock_format_iso(ev[i].done_at, done);
			printf("%lld\t%s\treason %d (%s)\t%s\n", (long long)ev[i].id, ev[i].type,
			    ev[i].reason, ev[i].reason >= 0 ? mosquitto_reason_string(ev[i].reason) :
			    "unknown", done);
			after = ev[i].id;
		}
		total += n;
		events_free(ev, n);
	} while (n == 256);
	if (total == 0)
		printf("no failed events\n");
	return 0;
}

static int
retry_failed(struct store *s, const char *which)
{
	int64_t id = 0;
	int n;

	if (which != NULL && strcmp(which, "all") != 0 &&
	    num_parse_i64(which, 1, INT64_MAX, &id) < 0) {
		fprintf(stderr, "campaign-bridge: --retry-failed takes an event id or \"all\"\n");
		return 2;
	}
	n = events_retry(s, id);
	if (n < 0)
		return 1;
	printf("%d event%s pending again; a running bridge publishes %s when idle\n", n,
	    n == 1 ? "" : "s", n == 1 ? "it" : "them");
	return 0;
}

static int
admin(const char *db_path, bool failed, const char *retry)
{
	char err[512];
	struct store *s = store_open(db_path, err, sizeof(err));
	int rc;

	if (s == NULL) {
		fprintf(stderr, "campaign-bridge: %s\n", err);
		return 1;
	}
	if (plandb_present(s))
		plandb_use_zone(s, err, sizeof(err));
	rc = failed ? list_failed(s) : retry_failed(s, retry);
	store_close(s);
	return rc;
}

int
main(int argc, char **argv)
{
	enum { OPT_FAILED = 256, OPT_RETRY };
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "failed", no_argument, NULL, OPT_FAILED },
		{ "retry-failed", optional_argument, NULL, OPT_RETRY },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *db = NULL, *retry = NULL;
	bool check = false, verbose = false, failed = false, want_retry = false;
	struct cfg *cfg;
	char err[1024];
	char *lock_path = NULL, *db_copy = NULL;
	int ch, lock_fd = -1, rc = 1;

	setlocale(LC_CTYPE, "");
	log_init("campaign-bridge", LOG_LEVEL_INFO);
	while ((ch = getopt_long(argc, argv, "c:d:nvhV", options, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'd':
			db = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'v':
			verbose = true;
			break;
		case OPT_FAILED:
			failed = true;
			break;
		case OPT_RETRY:
			want_retry = true;
			retry = optarg != NULL ? optarg :
			    optind < argc && argv[optind][0] != '-' ? argv[optind++] : NULL;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("campaign-bridge %s\n", CAMPAIGN_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (clock_init(err, sizeof(err)) < 0) {
		fprintf(stderr, "campaign-bridge: %s\n", err);
		return 1;
	}
	cfg = cfg_load(config, err, sizeof(err));
	if (cfg == NULL || bridge_check_config(cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "campaign-bridge: %s\n", err);
		cfg_free(cfg);
		return 1;
	}
	if (check) {
		printf("configuration OK\n");
		cfg_free(cfg);
		return 0;
	}
	log_set_level(verbose ? LOG_LEVEL_DEBUG : cfg->log_level);
	db = cfg_db_path(cfg, db);
	if (failed || want_retry) {
		rc = admin(db, failed, retry);
		cfg_free(cfg);
		return rc;
	}
	lock_path = xasprintf("%s.bridge.lock", db);
	lock_fd = lockfile_acquire(lock_path, err, sizeof(err));
	if (lock_fd < 0) {
		log_error("bridge", "another campaign-bridge serves %s: %s", db, err);
		cfg_free(cfg);
		goto out;
	}
	mosquitto_lib_init();
	/* db may point into cfg, which bridge_run owns and may replace: copy it. */
	db_copy = xstrdup(db);
	rc = bridge_run(cfg, config, db_copy);
	mosquitto_lib_cleanup();
out:
	free(db_copy);
	lockfile_release(lock_fd);
	free(lock_path);
	return rc;
}
