/*
 * The chat commands, each declared once (tmux's cmd_entry): its slash
 * names and Chinese words, who may use it, whether it needs a loaded plan,
 * its line in /help and its handlers. Each entry lives in its cmd_<name>.c;
 * cmd.c holds the table and builds from it what every command shares:
 * reading a command ("/tasks", "/tasks@bot", "任务", "/任务"), the checks
 * (who may, plan loaded, arguments given) done once before a handler runs,
 * the refusals and usage answers, and /help. Free text (parse_intent) is
 * answered by the same entries' ask handlers.
 */
#ifndef CAMPAIGN_BOT_CMD_H
#define CAMPAIGN_BOT_CMD_H

#include <stdbool.h>

#include "campaign/buf.h"

struct ctx;
struct intent;

/* Who may use a command. */
enum cmd_who {
	CMD_ANYONE,
	CMD_BOUND,              /* a user bound to a unit */
	CMD_BOUND_OR_ADMIN,     /* a bound user or a campaign admin */
	CMD_ADMIN,              /* a campaign admin; listed in /help for admins only */
};

struct cmd_entry {
	const char *name;               /* the slash name, "tasks" */
	const char *const *aliases;     /* more slash names ("start"), NULL-terminated; or NULL */
	const char *const *words;       /* Chinese words, simplified (input is normalized) */
	enum cmd_who who;
	const char *refusal;            /* the answer to someone who may not use it */
	bool needs_plan;
	const char *no_plan;            /* the answer without a plan; NULL: the common one */
	const char *usage_error;        /* the answer to no arguments; NULL: they are optional */
	const char *usage;              /* its /help line, "/tasks 市扶贫办"; NULL: not listed */
	const char *help;               /* ... and what it does */
	const char *admin_usage;        /* what admins may do more, shown to them in /help */
	/* 0 (the reply written to c->out) or -1 on a store error. */
	int (*exec)(struct ctx *c, const char *args);
	/* The answer to a free-text question parse_intent mapped to this entry; may be NULL. */
	int (*ask)(struct ctx *c, const struct intent *in);
};

extern const struct cmd_entry cmd_help_entry, cmd_tasks_entry, cmd_task_entry,
    cmd_due_entry, cmd_overdue_entry, cmd_countdown_entry, cmd_report_entry,
    cmd_bind_entry, cmd_whoami_entry, cmd_subscribe_entry, cmd_unsubscribe_entry,
    cmd_broadcast_entry;

/* A command as typed. */
struct command {
	const struct cmd_entry *entry;  /* NULL: a "/word" we do not have */
	char *word;             /* the command as typed ("/tasks", "任务"); owned */
	char *args;             /* the rest, trimmed; owned, "" when none */
};

/*
 * Recognizes a command at the start of text (already normalized; a
 * "/cmd@bot" suffix is skipped). Returns false (out untouched) when text is
 * not a command.
 */
bool cmd_parse(const char *text, struct command *out);
void command_clear(struct command *c);
/* Runs a command after the table's checks; 0 or -1 on a store error. */
int cmd_run(struct ctx *c, const struct command *cmd);
/* Answers a free-text question mapped to e (e->ask), after the same checks. */
int cmd_ask(struct ctx *c, const struct cmd_entry *e, const struct intent *in);
/* The command list of /help (admin: with the admins' lines). */
void cmd_help_list(struct buf *out, bool admin);

#endif
