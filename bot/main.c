/*
 * campaign-bot: the chat daemon. main parses the options, loads the
 * configuration, opens the database, picks the drivers ([chat] drivers, or
 * --console / --telegram alone), runs the loop and cleans up. Everything
 * else lives in the modules: core.c answers, intake.c applies updates,
 * sender.c drains the outbox, registry.c makes drivers, driver_*.c speak
 * the platforms.
 */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot.h"
#include "campaign/channels.h"
#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/version.h"
#include "campaign/plandb.h"
#include "campaign/textnorm.h"
#include "campaign/users.h"
#include "registry.h"

#define CONSOLE_USER "local"

struct options {
	const char *config;
	const char *db;
	const char *driver;     /* NULL: the config's */
	const char *as;
	bool check;
	bool verbose;
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: campaign-bot [-n] [-v] [--config FILE] [--db PATH]\n"
	    "                    [--console [--as USER_ID] | --telegram]\n\n"
	    "Answers unit staff in chat: tasks, deadlines, progress reports.\n"
	    "  --console       only chat on stdin/stdout (a local admin; --as USER_ID to be\n"
	    "                  someone else)\n"
	    "  --telegram      only long-poll the Telegram Bot API; the token comes from\n"
	    "                  $TELEGRAM_BOT_TOKEN or [telegram] token_file\n"
	    "  -n              check the configuration and every driver's secret, print\n"
	    "                  \"configuration OK\" and exit\n"
	    "  -v              debug logging\n"
	    "Without --console or --telegram, every driver of [chat] drivers runs (console,\n"
	    "telegram, dingtalk; default console). The database is --db, else $CAMPAIGN_DB,\n"
	    "else [store] db, else ./campaign.db. $CAMPAIGN_NOW sets the campaign's clock.\n");
}

static int
parse_args(int argc, char **argv, struct options *o)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "console", no_argument, NULL, 'C' },
		{ "telegram", no_argument, NULL, 'T' },
		{ "as", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:d:nvhV", options, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'd':
			o->db = optarg;
			break;
		case 'C':
			o->driver = "console";
			break;
		case 'T':
			o->driver = "telegram";
			break;
		case 'a':
			o->as = optarg;
			break;
		case 'n':
			o->check = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("campaign-bot %s\n", CAMPAIGN_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "campaign-bot: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return -1;
	}
	return 0;
}

static bool
has_platform(const struct bot *b, const char *name)
{
	for (size_t i = 0; i < b->nplatforms; i++)
		if (strcmp(b->platforms[i].name, name) == 0)
			return true;
	return false;
}

/* The drivers to run: --console or --telegram alone, else [chat] drivers; and the channels. */
static int
pick_drivers(const struct options *o, const struct cfg *cfg, struct bot *b)
{
	char err[512];

	if (o->driver != NULL)
		bot_add_platform(b, o->driver);
	else
		for (size_t i = 0; i < cfg->chat.ndrivers; i++)
			bot_add_platform(b, cfg->chat.drivers[i]);
	/* The group robots (campaignctl channel add) need no config entry. */
	if (!has_platform(b, CHANNEL_PLATFORM))
		bot_add_platform(b, CHANNEL_PLATFORM);
	for (size_t i = 0; i < b->nplatforms; i++) {
		if (registry_check(b->platforms[i].name, cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "campaign-bot: %s\n", err);
			return -1;
		}
	}
	return 0;
}

static bool
has_console(const struct bot *b)
{
	return has_platform(b, "console");
}

/* The console is the only chat platform (the implicit channels aside). */
static bool
console_only(const struct bot *b)
{
	size_t chats = 0;

	for (size_t i = 0; i < b->nplatforms; i++)
		chats += !registry_implicit(b->platforms[i].name);
	return chats == 1 && has_console(b);
}

int
main(int argc, char **argv)
{
	struct options o = { 0 };
	struct bot b = { 0 };
	struct driver_args args;
	const char *db;
	char err[512];
	int rc = 1;

	setlocale(LC_CTYPE, "");
	log_init("campaign-bot", LOG_LEVEL_INFO);
	if (parse_args(argc, argv, &o) < 0)
		return 2;
	if (clock_init(err, sizeof(err)) < 0)
		fatalx("bot", "%s", err);
	b.config_path = o.config;
	b.cfg = cfg_load(o.config, err, sizeof(err));
	if (b.cfg == NULL) {
		fprintf(stderr, "campaign-bot: %s\n", err);
		return 1;
	}
	if (pick_drivers(&o, b.cfg, &b) < 0)
		goto out;
	if (o.as != NULL && !console_only(&b)) {
		fprintf(stderr, "campaign-bot: --as only works with --console\n");
		goto out;
	}
	if (o.as != NULL && !users_id_ok(o.as)) {
		fprintf(stderr, "campaign-bot: --as: \"%s\" is not a user id\n", o.as);
		goto out;
	}
	if (o.check) {
		printf("configuration OK\n");
		rc = 0;
		goto out;
	}
	/* A console is for people: only warnings on stderr, unless -v. */
	log_set_level(o.verbose ? LOG_LEVEL_DEBUG : has_console(&b) &&
	    b.cfg->log_level > LOG_LEVEL_WARN ? LOG_LEVEL_WARN : b.cfg->log_level);
	db = cfg_db_path(b.cfg, o.db);
	b.store = store_open(db, err, sizeof(err));
	if (b.store == NULL) {
		fprintf(stderr, "campaign-bot: %s\n", err);
		goto out;
	}
	/*
	 * The bot's queries are indexed lookups on a small database: a 512 KiB
	 * page cache (SQLite's default is 2 MiB) keeps the daemon's private
	 * memory small however long the outbox grows.
	 */
	store_exec(b.store, "PRAGMA cache_size = -512");
	if (plandb_use_zone(b.store, err, sizeof(err)) < 0)
		log_warnx("bot", "%s (answers will say so until a plan is loaded)", err);
	b.core = core_new(b.store, b.cfg);
	if (bot_init(&b) < 0)
		goto out;
	args = (struct driver_args){ .console_user = o.as != NULL ? o.as : CONSOLE_USER,
		.console_admin = o.as == NULL, .store = b.store };
	if (bot_open_platforms(&b, db, &args) < 0)
		goto out;
	rc = bot_run(&b);
out:
	bot_cleanup(&b);
	store_close(b.store);
	cfg_free(b.cfg);
	textnorm_shutdown();
	return rc;
}
