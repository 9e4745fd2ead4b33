/*
 * campaignctl: the admin's command line. main only parses the global
 * options, finds the subcommand and cleans up; each subcommand lives in its
 * own cmd_<name>.c (tmux's pattern) and the shared helpers in cli.c.
 */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/version.h"
#include "campaign/safetext.h"
#include "campaign/textnorm.h"
#include "cli.h"

const struct cli_command cli_commands[] = {
	{ "plan", cmd_plan,
	    "plan load FILE.json [--year Y]\n"
	    "plan import FILE.txt [--year Y] [--id ID] [-o plan.json | --load]\n"
	    "plan show [--json]",
	    "load, import or show the campaign plan" },
	{ "tasks", cmd_tasks,
	    "tasks [--unit NAME] [--due DAYS] [--overdue] [--json]",
	    "tasks with due dates and progress per unit, soonest first" },
	{ "task", cmd_task,
	    "task ID [--json]",
	    "one task: units, progress and report history" },
	{ "unit", cmd_unit,
	    "unit list [--json]\n"
	    "unit invite NAME [--ttl 7d]",
	    "list units; make a one-time invite code that binds a chat user to a unit" },
	{ "admin", cmd_admin,
	    "admin add PLATFORM:USER_ID\n"
	    "admin remove PLATFORM:USER_ID\n"
	    "admin list",
	    "campaign admins, e.g. telegram:123456789 or dingtalk:manager01 (may report for "
	    "any unit and broadcast from chat, on that platform only)" },
	{ "status", cmd_status,
	    "status [--missing] [--json]",
	    "days to the key date, overall progress, who has not reported" },
	{ "report", cmd_report,
	    "report TASK UNIT PERCENT|done [--note TEXT] [--by NAME]",
	    "record a progress report received outside the chat" },
	{ "broadcast", cmd_broadcast,
	    "broadcast TEXT [--units A,B] [--expires DURATION] [--wait [--timeout DURATION]]\n"
	    "broadcast - [OPTIONS]       (the text from stdin)\n"
	    "broadcast status [ID] [--json]",
	    "announce to MQTT, every subscribed chat and the units' staff; delivery status" },
	{ "backup", cmd_backup,
	    "backup FILE",
	    "a consistent copy of the database while the daemons run (mode 0600)" },
	{ "restore", cmd_restore,
	    "restore FILE",
	    "replace the database with a checked backup (daemons stopped; the old one kept)" },
	{ "check", cmd_check,
	    "check [--json]",
	    "integrity, foreign keys, schema version, outbox health" },
	{ "doctor", cmd_doctor,
	    "doctor [--config FILE]",
	    "check config, database, time zone, broker, chat credentials, disk; say what to do" },
	{ "submissions", cmd_submissions,
	    "submissions [--missing] [--task ID] [--json]\n"
	    "submissions export DIR\n"
	    "submissions unassigned [--json]\n"
	    "submissions assign ID UNIT",
	    "the units' written summaries: who has sent them, export, unassigned mail" },
	{ "bulletin", cmd_bulletin,
	    "bulletin [--date YYYY-MM-DD] -o 通报.docx [--pdf 通报.pdf] [--text]",
	    "the office's bulletin (通报) as of a day: .docx to edit, PDF to preview" },
	{ "channel", cmd_channel,
	    "channel add NAME KIND --url-file FILE [--secret-file FILE] [--units A,B] "
	    "[--send broadcasts,reminders,digest]\n"
	    "channel update NAME [--url-file FILE] [--secret-file FILE | --no-secret] "
	    "[--units A,B | --all-units] [--send LIST]\n"
	    "channel list\nchannel remove NAME\nchannel test NAME",
	    "group robots (KIND dingtalk-robot, wecom-robot, feishu-bot) that get broadcasts, "
	    "reminders, the digest" },
	{ NULL, NULL, NULL, NULL },
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: campaignctl [--db PATH] [--config FILE] COMMAND [ARGS]\n\n"
	    "The database is --db, else $CAMPAIGN_DB, else [store] db of the config, "
	    "else ./campaign.db.\n$CAMPAIGN_NOW (ISO-8601) sets the clock.\n\ncommands:\n");
	for (const struct cli_command *c = cli_commands; c->name != NULL; c++)
		fprintf(fp, "  %-10s %s\n", c->name, c->summary);
	fprintf(fp, "\n'campaignctl COMMAND --help' shows a command's usage.\n");
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { 0 };
	const struct cli_command *cmd;
	const char *db = NULL, *config = NULL;
	char err[512];
	int ch, rc;

	setlocale(LC_CTYPE, "");
	safetext_filter_stdio();        /* chat text never steers the admin's terminal */
	log_init("campaignctl", LOG_LEVEL_WARN);
	/* '+': stop at the command name; the command parses the rest. */
	while ((ch = getopt_long(argc, argv, "+d:c:hV", options, NULL)) != -1) {
		switch (ch) {
		case 'd':
			db = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'h':
			usage(stdout);
			return CLI_OK;
		case 'V':
			printf("campaignctl %s\n", CAMPAIGN_VERSION);
			return CLI_OK;
		default:
			usage(stderr);
			return CLI_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CLI_USAGE;
	}
	cmd = cli_command_get(argv[optind]);
	if (cmd == NULL) {
		fprintf(stderr, "campaignctl: unknown command \"%s\"\n\n", argv[optind]);
		usage(stderr);
		return CLI_USAGE;
	}
	if (clock_init(err, sizeof(err)) < 0)
		return cli_fail("%s", err);
	cli.cfg = cfg_load(config, err, sizeof(err));
	if (cli.cfg == NULL)
		return cli_fail("%s", err);
	cli.db_explicit = (db != NULL && *db != '\0') ||
	    (getenv("CAMPAIGN_DB") != NULL && *getenv("CAMPAIGN_DB") != '\0');
	cli.db_path = cfg_db_path(cli.cfg, db);
	cli.now = clock_now();

	argc -= optind;
	argv += optind;
	if (cli_wants_help(cmd, argc, argv))
		rc = CLI_OK;
	else
		rc = cmd->run(&cli, argc, argv);

	progress_free(cli.progress);
	plan_free(cli.plan);
	store_close(cli.store);
	cfg_free(cli.cfg);
	textnorm_shutdown();
	return rc;
}
