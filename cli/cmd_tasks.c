/* campaignctl tasks: the task list, one row per responsible unit. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "campaign/agenda.h"
#include "campaign/caldate.h"
#include "campaign/num.h"
#include "campaign/snapshot.h"
#include "cli.h"
#include "table.h"

/* "60%", "done", "no report". */
static void
cell_text(const struct progress_cell *c, char *out, size_t outlen)
{
	if (c->done)
		snprintf(out, outlen, "done");
	else if (c->reported)
		snprintf(out, outlen, "%d%%", c->percent);
	else
		snprintf(out, outlen, "no report");
}

static void
print_table(struct cli *cli, const struct agenda_item *items, size_t n, ssize_t unit)
{
	static const char *const headers[] = { "ID", "TASK", "WHEN", "DUE", "LEFT", "UNIT",
		"PROGRESS" };
	const struct plan *plan = cli->plan;
	struct table *t = table_new(7, headers);

	table_limit(t, 1, 30);
	for (size_t i = 0; i < n; i++) {
		const struct plan_task *task = &plan->tasks[items[i].task];
		char due[CALDATE_STRLEN], left[32];
		bool first = true;

		caldate_format(task->due, due);
		cli_days_left(task->due, cli->today, left, sizeof(left));
		if (items[i].done)
			snprintf(left, sizeof(left), "done");
		table_row(t);
		table_cell(t, "%s", task->id);
		table_cell(t, "%s", task->title);
		table_cell(t, "%s", task->when != NULL ? task->when : "-");
		table_cell(t, "%s", *due ? due : "-");
		table_cell(t, "%s", left);
		for (size_t u = 0; u < task->nunits; u++) {
			char progress[32];
			size_t ui = task->units[u];

			if (unit >= 0 && (size_t)unit != ui)
				continue;
			if (!first) {
				table_row(t);
				for (int k = 0; k < 5; k++)
					table_cell(t, "%s", "");
			}
			first = false;
			cell_text(progress_cell(cli->progress, items[i].task, ui), progress,
			    sizeof(progress));
			table_cell(t, "%s", plan->units[ui].name);
			table_cell(t, "%s", progress);
		}
		if (first) {
			char actors[512] = "-";

			if (task->nactors > 0)
				cli_actors(task, actors, sizeof(actors));
			table_cell(t, "%s", actors);
			table_cell(t, "%s", "-");
		}
	}
	if (n == 0)
		printf("no tasks\n");
	else
		table_print(t, stdout);
	table_free(t);
}

int
cmd_tasks(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "unit", required_argument, NULL, 'u' },
		{ "due", required_argument, NULL, 'd' },
		{ "overdue", no_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_command *cmd = cli_command_get("tasks");
	struct agenda_filter f;
	struct agenda_item *items;
	const char *unit_name = NULL;
	bool json = false;
	size_t n;
	int ch;

	agenda_filter_init(&f);
	optind = 0; /* 0: GNU getopt re-initializes (main parsed with "+") */
	while ((ch = getopt_long(argc, argv, "u:d:oj", options, NULL)) != -1) {
		switch (ch) {
		case 'u':
			unit_name = optarg;
			break;
		case 'd':
			if (num_parse_int(optarg, 0, 3660, &f.due_within) < 0)
				return cli_usage_error(cmd, "--due: expected a number of days");
			break;
		case 'o':
			f.overdue = true;
			break;
		case 'j':
			json = true;
			break;
		default:
			return cli_usage_error(cmd, "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error(cmd, "tasks: unexpected \"%s\"", argv[optind]);
	if (cli_load_plan(cli) != 0)
		return CLI_FAILED;
	if (unit_name != NULL && (f.unit = cli_find_unit(cli, unit_name)) < 0)
		return CLI_FAILED;
	n = agenda_select(cli->plan, cli->progress, cli->today, &f, &items);
	if (json) {
		json_t *arr = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, snapshot_task_json(cli->plan, cli->progress,
			    items[i].task, cli->today));
		cli_print_json(arr);
	} else {
		print_table(cli, items, n, f.unit);
	}
	free(items);
	return CLI_OK;
}
