/*
 * campaign-bot: the chat daemon. main parses the options, loads the
 * configuration, opens the database, picks the driver (console or
 * telegram), runs the loop and cleans up. Everything else lives in the
 * modules: core.c answers, intake.c applies updates, sender.c drains the
 * outbox, driver_*.c speak the platforms.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "bot.h"
#include "campaign/clock.h"
#include "campaign/lockfile.h"
#include "campaign/log.h"
#include "campaign/plandb.h"
#include "campaign/textnorm.h"
#include "campaign/users.h"
#include "campaign/xmalloc.h"
#include "driver_console.h"
#include "driver_telegram.h"

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
	    "  --console       chat on stdin/stdout (a local admin; --as USER_ID to be someone else)\n"
	    "  --telegram      long-poll the Telegram Bot API; the token comes from\n"
	    "                  $TELEGRAM_BOT_TOKEN or [chat] token_file\n"
	    "  -n              check the configuration, print \"configuration OK\" and exit\n"
	    "  -v              debug logging\n"
	    "The driver defaults to [chat] driver (console). The database is --db, else\n"
	    "$CAMPAIGN_DB, else [store] db, else ./campaign.db. $CAMPAIGN_NOW sets the clock.\n");
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
			printf("campaign-bot 0.1.0\n");
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

/* The token: $TELEGRAM_BOT_TOKEN, else [chat] token_file. Never printed. */
static char *
read_token(const struct cfg *cfg, char *err, size_t errlen)
{
	const char *env = getenv("TELEGRAM_BOT_TOKEN");
	char *token;

	if (env != NULL && *env != '\0')
		token = xstrdup(env);
	else if (cfg->chat.token_file != NULL)
		token = cfg_read_secret(cfg->chat.token_file, err, errlen);
	else {
		snprintf(err, errlen, "the telegram driver needs a bot token: set "
		    "TELEGRAM_BOT_TOKEN or [chat] token_file (get one from @BotFather)");
		return NULL;
	}
	if (token == NULL)
		return NULL;
	for (const char *p = token; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != ':' && *p != '_' && *p != '-') {
			snprintf(err, errlen, "the bot token has characters a token cannot have "
			    "(expected 123456789:AA..., letters, digits, _ and -)");
			explicit_bzero(token, strlen(token));
			free(token);
			return NULL;
		}
	}
	if (strlen(token) < 8 || strlen(token) > 200) {
		snprintf(err, errlen, "the bot token has an impossible length");
		explicit_bzero(token, strlen(token));
		free(token);
		return NULL;
	}
	return token;
}

/* One telegram poller per database: a second would make the API answer 409. */
static int
lock_poller(const char *db, int *fd)
{
	char *path = xasprintf("%s-telegram.lock", db);

	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0) {
		log_warn("bot", "%s", path);
		free(path);
		return -1;
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		log_error("bot", "another campaign-bot is already polling Telegram for %s (lock %s)",
		    db, path);
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

static const char *
db_path(const struct options *o, const struct cfg *cfg)
{
	const char *db = o->db;

	if (db == NULL || *db == '\0')
		db = getenv("CAMPAIGN_DB");
	if (db == NULL || *db == '\0')
		db = cfg->store.db;
	return db != NULL && *db != '\0' ? db : "./campaign.db";
}

int
main(int argc, char **argv)
{
	struct options o = { 0 };
	struct bot b = { .sigpipe = { -1, -1 } };
	const char *driver, *db;
	char err[512], *token = NULL, *presence = NULL;
	int rc = 1, lockfd = -1, presencefd = -1;

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
	driver = o.driver != NULL ? o.driver : b.cfg->chat.driver;
	if (o.as != NULL && strcmp(driver, "console") != 0) {
		fprintf(stderr, "campaign-bot: --as only works with --console\n");
		goto out;
	}
	if (o.as != NULL && !users_id_ok(o.as)) {
		fprintf(stderr, "campaign-bot: --as: \"%s\" is not a user id\n", o.as);
		goto out;
	}
	if (strcmp(driver, "telegram") == 0 && (token = read_token(b.cfg, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "campaign-bot: %s\n", err);
		goto out;
	}
	if (o.check) {
		printf("configuration OK\n");
		rc = 0;
		goto out;
	}
	/* A console is for people: only warnings on stderr, unless -v. */
	log_set_level(o.verbose ? LOG_LEVEL_DEBUG : strcmp(driver, "console") == 0 &&
	    b.cfg->log_level > LOG_LEVEL_WARN ? LOG_LEVEL_WARN : b.cfg->log_level);
	db = db_path(&o, b.cfg);
	if (strcmp(driver, "telegram") == 0 && lock_poller(db, &lockfd) < 0)
		goto out;
	/* Tells campaignctl broadcast --wait that someone delivers this platform's chats. */
	presence = lockfile_bot_path(db, driver);
	if ((presencefd = lockfile_share(presence, err, sizeof(err))) < 0)
		log_warnx("bot", "%s (campaignctl cannot see this bot)", err);
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
	if (strcmp(driver, "console") == 0)
		b.driver = driver_console_new(&b.host, o.as != NULL ? o.as : CONSOLE_USER,
		    o.as == NULL);
	else
	{
		b.driver = driver_telegram_new(&b.host, b.cfg->chat.api_url, token,
		    b.cfg->chat.poll_timeout, b.cfg->chat.rate_global,
		    b.cfg->chat.rate_group_per_min);
		/* issue 15: documents sent to the bot */
		b.files = tgfiles_new(b.store, b.loop, b.cfg->chat.api_url, token, &b.host);
	}
	rc = bot_run(&b);
out:
	if (token != NULL) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	bot_cleanup(&b);
	store_close(b.store);
	cfg_free(b.cfg);
	textnorm_shutdown();
	if (lockfd >= 0)
		close(lockfd);
	lockfile_release(presencefd);
	free(presence);
	return rc;
}
