/*
 * campaignctl's shared context: the database and the plan, opened lazily by
 * the subcommands that need them, and the output conventions (exit 0 on
 * success, 1 with a one-line reason on stderr, 2 on a usage error).
 */
#ifndef CAMPAIGNCTL_CLI_H
#define CAMPAIGNCTL_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "campaign/cfg.h"
#include "campaign/plan.h"
#include "campaign/progress.h"
#include "campaign/store.h"

#define CLI_OK 0
#define CLI_FAILED 1
#define CLI_USAGE 2

struct cli {
	const char *db_path;
	bool db_explicit;       /* --db or $CAMPAIGN_DB, not the config's */
	struct cfg *cfg;
	struct store *store;
	struct plan *plan;
	struct progress *progress;
	time_t now;
	int32_t today;
};

struct cli_command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *usage;      /* "plan load FILE.json [--year Y]\n..." */
	const char *summary;
};

/* Opens the store and selects the plan's time zone (today is then valid). */
int cli_open_store(struct cli *cli);
/* cli_open_store, then loads the plan and its progress; fails if none is loaded. */
int cli_load_plan(struct cli *cli);

/* Prints "campaignctl: message" on stderr; returns CLI_FAILED. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints an error and the command's usage on stderr; returns CLI_USAGE. */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* True (and usage printed to stdout) when argv asks for --help or -h. */
bool cli_wants_help(const struct cli_command *cmd, int argc, char **argv);

/* "in 9 days", "today", "overdue 8 days", "-" (no due date). */
void cli_days_left(int32_t due, int32_t today, char *out, size_t outlen);
/* Joins names with "、" into out (cut at outlen). */
void cli_join(char *out, size_t outlen, char *const *names, size_t n);
/* "(各地、各部门)": the doers of a task that names no units. */
void cli_actors(const struct plan_task *t, char *out, size_t outlen);
/* Prints a JSON value to stdout, pretty and UTF-8 unescaped. Steals the reference. */
void cli_print_json(void *json);
/* Looks a unit up by name, printing "did you mean" on failure; -1 if not found. */
ssize_t cli_find_unit(struct cli *cli, const char *name);

/* Stores a loaded plan as the campaign's (plan load, plan import --load); prints the outcome. */
int cli_plan_store(struct cli *cli, struct plan *plan, const char *source);

/* Subcommands, one file each. */
int cmd_plan(struct cli *cli, int argc, char **argv);
int cmd_plan_import(struct cli *cli, int argc, char **argv);
int cmd_tasks(struct cli *cli, int argc, char **argv);
int cmd_task(struct cli *cli, int argc, char **argv);
int cmd_unit(struct cli *cli, int argc, char **argv);
int cmd_admin(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_report(struct cli *cli, int argc, char **argv);
int cmd_broadcast(struct cli *cli, int argc, char **argv);
int cmd_backup(struct cli *cli, int argc, char **argv);
int cmd_restore(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_doctor(struct cli *cli, int argc, char **argv);
int cmd_submissions(struct cli *cli, int argc, char **argv);
int cmd_bulletin(struct cli *cli, int argc, char **argv);
int cmd_channel(struct cli *cli, int argc, char **argv);

extern const struct cli_command cli_commands[];
const struct cli_command *cli_command_get(const char *name);

#endif
