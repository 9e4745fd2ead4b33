/*
 * The command table (see cmd.h) and what is built from it: reading a
 * command, the checks every command shares, and the list in /help. The
 * table's order is the order of /help.
 */
#include "cmd.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "campaign/xmalloc.h"
#include "core.h"

static const struct cmd_entry *const cmd_table[] = {
	&cmd_help_entry, &cmd_tasks_entry, &cmd_task_entry, &cmd_due_entry,
	&cmd_overdue_entry, &cmd_countdown_entry, &cmd_report_entry, &cmd_bind_entry,
	&cmd_whoami_entry, &cmd_subscribe_entry, &cmd_unsubscribe_entry,
	&cmd_broadcast_entry,
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define FULLWIDTH_COLON "\xef\xbc\x9a"

static const char *
skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* The argument text after a command word: separators skipped, trailing space trimmed. */
static char *
args_after(const char *p)
{
	size_t len;

	p = skip_space(p);
	if (*p == ':')
		p = skip_space(p + 1);
	else if (strncmp(p, FULLWIDTH_COLON, strlen(FULLWIDTH_COLON)) == 0)
		p = skip_space(p + strlen(FULLWIDTH_COLON));
	len = strlen(p);
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\n' || p[len - 1] == '\t' ||
	    p[len - 1] == '\r'))
		len--;
	return xstrndup(p, len);
}

static bool
word_ends(const char *p)
{
	return *p == '\0' || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
	    *p == ':' || strncmp(p, FULLWIDTH_COLON, strlen(FULLWIDTH_COLON)) == 0;
}

static bool
listed(const char *const *names, const char *name)
{
	for (size_t i = 0; names != NULL && names[i] != NULL; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

static const struct cmd_entry *
by_slash_name(const char *name)
{
	for (size_t i = 0; i < NELEM(cmd_table); i++) {
		const struct cmd_entry *e = cmd_table[i];

		if (strcmp(e->name, name) == 0 || listed(e->aliases, name))
			return e;
	}
	return NULL;
}

/* The entry whose Chinese word starts p as a whole word (the longest); its length. */
static const struct cmd_entry *
by_word(const char *p, size_t *len)
{
	const struct cmd_entry *best = NULL;

	*len = 0;
	for (size_t i = 0; i < NELEM(cmd_table); i++) {
		const char *const *w = cmd_table[i]->words;

		for (size_t j = 0; w != NULL && w[j] != NULL; j++) {
			size_t n = strlen(w[j]);

			if (n > *len && strncmp(p, w[j], n) == 0 && word_ends(p + n)) {
				best = cmd_table[i];
				*len = n;
			}
		}
	}
	return best;
}

bool
cmd_parse(const char *text, struct command *out)
{
	const char *p = skip_space(text), *name, *end;
	const struct cmd_entry *e;
	size_t n;

	if (*p == '/') {
		name = end = p + 1;
		while (isalnum((unsigned char)*end) || *end == '_')
			end++;
		if (end == name) {
			p = name;       /* "/任务": a Chinese command word behind a slash */
			goto word;
		}
		out->word = xstrndup(p, (size_t)(end - p));
		for (char *c = out->word; *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
		if (*end == '@')        /* "/tasks@bot": the driver kept only ours */
			while (*end != '\0' && !word_ends(end))
				end++;
		out->entry = by_slash_name(out->word + 1);
		out->args = args_after(end);
		return true;
	}
word:
	if ((e = by_word(p, &n)) == NULL)
		return false;
	out->entry = e;
	out->word = xstrndup(p, n);
	out->args = args_after(p + n);
	return true;
}

void
command_clear(struct command *c)
{
	free(c->word);
	free(c->args);
	memset(c, 0, sizeof(*c));
}

static bool
may_use(const struct ctx *c, const struct cmd_entry *e)
{
	switch (e->who) {
	case CMD_ANYONE:
		return true;
	case CMD_BOUND:
		return c->user_unit >= 0;
	case CMD_BOUND_OR_ADMIN:
		return c->admin || c->user_unit >= 0;
	case CMD_ADMIN:
		return c->admin;
	}
	return false;
}

/* Who may, and the plan: true if e may run, else the refusal is written. */
static bool
allowed(struct ctx *c, const struct cmd_entry *e)
{
	if (!may_use(c, e)) {
		buf_puts(&c->out, e->refusal);
		return false;
	}
	if (e->needs_plan && c->plan == NULL) {
		buf_puts(&c->out, e->no_plan != NULL ? e->no_plan : "还没有加载活动方案,暂时无法查询。"
		    "请管理员运行 campaignctl plan load 方案.json。");
		return false;
	}
	return true;
}

int
cmd_run(struct ctx *c, const struct command *cmd)
{
	const struct cmd_entry *e = cmd->entry;

	if (e == NULL) {
		if (c->group)
			return 0;       /* "/foo" in a group is probably another bot's */
		buf_puts(&c->out, "没有 ");
		answer_text(&c->out, cmd->word);
		buf_puts(&c->out, " 这个命令。发 /help 查看可以用的命令。");
		return 0;
	}
	if (!allowed(c, e))
		return 0;
	if (e->usage_error != NULL && *cmd->args == '\0') {
		buf_puts(&c->out, e->usage_error);
		return 0;
	}
	return e->exec(c, cmd->args);
}

int
cmd_ask(struct ctx *c, const struct cmd_entry *e, const struct intent *in)
{
	if (!allowed(c, e))
		return 0;
	return e->ask(c, in);
}

void
cmd_help_list(struct buf *out, bool admin)
{
	const char *sep = "";

	for (size_t i = 0; i < NELEM(cmd_table); i++)
		if (cmd_table[i]->usage != NULL && cmd_table[i]->who != CMD_ADMIN)
			buf_printf(out, "%s — %s\n", cmd_table[i]->usage, cmd_table[i]->help);
	buf_puts(out, "中文也行:");
	for (size_t i = 0; i < NELEM(cmd_table); i++) {
		if (cmd_table[i]->who == CMD_ADMIN || cmd_table[i]->words == NULL)
			continue;
		buf_printf(out, "%s%s", sep, cmd_table[i]->words[0]);
		sep = "、";
	}
	buf_puts(out, ",或直接问“本周截止”“市扶贫办有哪些任务”。");
	if (!admin)
		return;
	buf_puts(out, "\n管理员:");
	sep = "";
	for (size_t i = 0; i < NELEM(cmd_table); i++) {
		const struct cmd_entry *e = cmd_table[i];

		if (e->admin_usage != NULL)
			buf_printf(out, "%s%s", sep, e->admin_usage);
		else if (e->who == CMD_ADMIN && e->usage != NULL)
			buf_printf(out, "%s%s — %s", sep, e->usage, e->help);
		else
			continue;
		sep = ";";
	}
	buf_puts(out, "。");
}
