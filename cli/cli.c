/* Helpers every campaignctl subcommand shares (see cli.h). */
#include "cli.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/caldate.h"
#include "campaign/clock.h"
#include "campaign/plandb.h"
#include "campaign/units.h"

const struct cli_command *
cli_command_get(const char *name)
{
	for (const struct cli_command *c = cli_commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int
cli_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("campaignctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_FAILED;
}

static void
print_usage(const struct cli_command *cmd, FILE *fp)
{
	const char *p = cmd->usage;

	fprintf(fp, "usage:");
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		int len = nl != NULL ? (int)(nl - p) : (int)strlen(p);

		fprintf(fp, " campaignctl %.*s\n", len, p);
		p += len + (nl != NULL);
		if (*p != '\0')
			fprintf(fp, "     ");
	}
	fprintf(fp, "\n%s\n", cmd->summary);
}

int
cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("campaignctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	print_usage(cmd, stderr);
	return CLI_USAGE;
}

bool
cli_wants_help(const struct cli_command *cmd, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			print_usage(cmd, stdout);
			return true;
		}
	}
	return false;
}

int
cli_open_store(struct cli *cli)
{
	char err[512];

	if (cli->store != NULL)
		return 0;
	cli->store = store_open(cli->db_path, err, sizeof(err));
	if (cli->store == NULL)
		return cli_fail("%s", err);
	if (plandb_use_zone(cli->store, err, sizeof(err)) < 0)
		return cli_fail("%s", err);
	cli->today = clock_local_day(cli->now);
	return 0;
}

int
cli_load_plan(struct cli *cli)
{
	char err[512];

	if (cli->plan != NULL)
		return 0;
	if (cli_open_store(cli) != 0)
		return CLI_FAILED;
	cli->plan = plandb_load(cli->store, err, sizeof(err));
	if (cli->plan == NULL)
		return cli_fail("%s", err);
	cli->progress = progress_load(cli->store, cli->plan);
	if (cli->progress == NULL)
		return cli_fail("%s: cannot read progress: %s", cli->db_path,
		    store_errmsg(cli->store));
	return 0;
}

void
cli_days_left(int32_t due, int32_t today, char *out, size_t outlen)
{
	int32_t left = due - today;

	if (due == CALDATE_NONE)
		snprintf(out, outlen, "-");
	else if (left == 0)
		snprintf(out, outlen, "today");
	else if (left == 1)
		snprintf(out, outlen, "tomorrow");
	else if (left > 1)
		snprintf(out, outlen, "in %d days", (int)left);
	else if (left == -1)
		snprintf(out, outlen, "overdue 1 day");
	else
		snprintf(out, outlen, "overdue %d days", (int)-left);
}

void
cli_join(char *out, size_t outlen, char *const *names, size_t n)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && len < outlen; i++) {
		int w = snprintf(out + len, outlen - len, "%s%s", i > 0 ? "、" : "", names[i]);

		if (w < 0)
			break;
		len += (size_t)w;
	}
}

void
cli_actors(const struct plan_task *t, char *out, size_t outlen)
{
	char names[512];

	cli_join(names, sizeof(names), t->actors, t->nactors);
	snprintf(out, outlen, "(%s)", names);
}

void
cli_print_json(void *json)
{
	json_t *j = json;

	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(j);
}

ssize_t
cli_find_unit(struct cli *cli, const char *name)
{
	struct unit_lookup lk;
	char list[1024] = "";

	units_lookup(cli->plan, name, &lk);
	if (lk.match != UNIT_NONE && lk.match != UNIT_AMBIGUOUS)
		return (ssize_t)lk.unit;
	for (size_t i = 0; i < lk.ncandidates; i++) {
		size_t len = strlen(list);

		snprintf(list + len, sizeof(list) - len, "%s%s", i > 0 ? ", " : "",
		    cli->plan->units[lk.candidates[i]].name);
	}
	if (lk.match == UNIT_AMBIGUOUS)
		cli_fail("unit \"%s\" is ambiguous: %s", name, list);
	else if (lk.ncandidates > 0)
		cli_fail("no unit \"%s\"; did you mean: %s", name, list);
	else
		cli_fail("no unit \"%s\" (campaignctl unit list shows them)", name);
	return -1;
}
