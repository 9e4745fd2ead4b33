/* campaignctl unit list | invite */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "campaign/clock.h"
#include "campaign/invites.h"
#include "campaign/num.h"
#include "campaign/users.h"
#include "cli.h"
#include "table.h"

static size_t
task_count(const struct plan *plan, size_t unit)
{
	size_t n = 0;

	for (size_t i = 0; i < plan->ntasks; i++)
		n += plan_task_has_unit(&plan->tasks[i], unit);
	return n;
}

static int
unit_list(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const char *const headers[] = { "UNIT", "ALIASES", "TASKS", "USERS" };
	const struct plan *plan;
	bool json = false;
	json_t *arr = NULL;
	struct table *t = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else
			return cli_usage_error(cmd, "unit list: unexpected \"%s\"", argv[i]);
	}
	if (cli_load_plan(cli) != 0)
		return CLI_FAILED;
	plan = cli->plan;
	if (json)
		arr = json_array();
	else
		t = table_new(4, headers);
	for (size_t i = 0; i < plan->nunits; i++) {
		const struct plan_unit *u = &plan->units[i];
		int users = users_count_bound(cli->store, u->id);
		char aliases[1024];

		cli_join(aliases, sizeof(aliases), u->aliases, u->naliases);
		if (json) {
			json_t *o = json_object(), *al = json_array();

			for (size_t a = 0; a < u->naliases; a++)
				json_array_append_new(al, json_string(u->aliases[a]));
			json_object_set_new(o, "name", json_string(u->name));
			json_object_set_new(o, "aliases", al);
			json_object_set_new(o, "tasks", json_integer((json_int_t)task_count(plan, i)));
			json_object_set_new(o, "users", json_integer(users));
			json_array_append_new(arr, o);
			continue;
		}
		table_row(t);
		table_cell(t, "%s", u->name);
		table_cell(t, "%s", *aliases ? aliases : "-");
		table_cell(t, "%zu", task_count(plan, i));
		table_cell(t, "%d", users);
	}
	if (json) {
		cli_print_json(arr);
	} else {
		table_print(t, stdout);
		table_free(t);
	}
	return CLI_OK;
}

static int
unit_invite(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option options[] = {
		{ "ttl", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t ttl = 7 * 86400;
	char code[INVITES_CODE_STRLEN], until[CLOCK_ISO_STRLEN];
	ssize_t unit;
	int ch;

	optind = 0; /* 0: GNU getopt re-initializes (main parsed with "+") */
	while ((ch = getopt_long(argc, argv, "t:", options, NULL)) != -1) {
		if (ch == 't' && num_parse_duration(optarg, &ttl) == 0 && ttl > 0 &&
		    ttl <= 366 * 86400)
			continue;
		if (ch == 't')
			return cli_usage_error(cmd, "--ttl: expected a duration such as 7d, "
			    "36h or 90m (at most 366d)");
		return cli_usage_error(cmd, "unknown option");
	}
	if (optind != argc - 1)
		return cli_usage_error(cmd, "unit invite: expected one unit NAME");
	if (cli_load_plan(cli) != 0)
		return CLI_FAILED;
	unit = cli_find_unit(cli, argv[optind]);
	if (unit < 0)
		return CLI_FAILED;
	if (cli->plan->units[unit].placeholder)
		return cli_fail("%s is a placeholder the plan names (\"placeholder\": true), not "
		    "a unit anyone reports for; invite the units it stands for",
		    cli->plan->units[unit].name);
	if (invites_create(cli->store, cli->plan->units[unit].id, ttl, cli->now, code) < 0)
		return cli_fail("cannot create the invite: %s", store_errmsg(cli->store));
	clock_format_iso(cli->now + (time_t)ttl, until);
	printf("one-time invite for %s, valid until %s.\n", cli->plan->units[unit].name, until);
	printf("The user sends \"/bind CODE\" (or 绑定 CODE) to the bot:\n");
	printf("%s\n", code);
	return CLI_OK;
}

int
cmd_unit(struct cli *cli, int argc, char **argv)
{
	const struct cli_command *cmd = cli_command_get("unit");

	if (argc < 2)
		return cli_usage_error(cmd, "unit: expected list or invite");
	if (strcmp(argv[1], "list") == 0)
		return unit_list(cli, cmd, argc - 1, argv + 1);
	if (strcmp(argv[1], "invite") == 0)
		return unit_invite(cli, cmd, argc - 1, argv + 1);
	return cli_usage_error(cmd, "unit: unknown subcommand \"%s\"", argv[1]);
}
