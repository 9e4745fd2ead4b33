/* campaignctl plan load | import | show */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "campaign/caldate.h"
#include "campaign/clock.h"
#include "campaign/num.h"
#include "campaign/plandb.h"
#include "campaign/snapshot.h"
#include "cli.h"
#include "table.h"

int
cli_plan_store(struct cli *cli, struct plan *plan, const char *source)
{
	struct plandb_stats stats;
	char err[1024], key[CALDATE_STRLEN];

	/* Dates are shown in the new plan's zone from now on; check it exists first. */
	if (clock_set_zone(plan->timezone, err, sizeof(err)) < 0)
		return cli_fail("%s: timezone: %s", source, err);
	if (plandb_replace(cli->store, plan, source, cli->now, &stats) < 0)
		return cli_fail("%s: cannot store the plan: %s", cli->db_path,
		    store_errmsg(cli->store));
	caldate_format(plan->key_date, key);
	printf("loaded plan %s (%s): %zu tasks, %zu units, year %d%s%s%s\n", plan->id,
	    plan->title, plan->ntasks, plan->nunits, plan->year,
	    plan->year_given ? "" : " (resolved from month-day dates)",
	    plan->key_date != CALDATE_NONE ? ", key date " : "", key);
	printf("tasks: %d added, %d kept, %d removed; units: %d added, %d kept, %d removed; "
	    "progress kept for %d task/unit pairs\n", stats.tasks_added, stats.tasks_kept,
	    stats.tasks_removed, stats.units_added, stats.units_kept, stats.units_removed,
	    stats.progress_kept);
	if (stats.bindings_dropped > 0)
		printf("warning: %d chat users were bound to units that left the plan and "
		    "are unbound now\n", stats.bindings_dropped);
	return CLI_OK;
}

static int
plan_load(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option options[] = {
		{ "year", required_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 },
	};
	struct plan_load_opts opts = { 0 };
	struct plan *plan;
	char err[1024];
	int ch, rc;

	optind = 0; /* 0: GNU getopt re-initializes (main parsed with "+") */
	while ((ch = getopt_long(argc, argv, "y:", options, NULL)) != -1) {
		if (ch == 'y' && num_parse_int(optarg, 1900, 9999, &opts.year) == 0)
			continue;
		if (ch == 'y')
			return cli_usage_error(cmd, "--year: expected a four-digit year");
		return cli_usage_error(cmd, "unknown option");
	}
	if (optind != argc - 1)
		return cli_usage_error(cmd, "plan load: expected one FILE.json");
	if (cli_open_store(cli) != 0)
		return CLI_FAILED;
	opts.today = cli->today;
	plan = plan_load_file(argv[optind], &opts, err, sizeof(err));
	if (plan == NULL)
		return cli_fail("%s", err);
	rc = cli_plan_store(cli, plan, argv[optind]);
	plan_free(plan);
	return rc;
}

static json_t *
names_json(char *const *names, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(names[i]));
	return arr;
}

/* The stored plan as campaign-plan/1, with its resolved dates. */
static json_t *
plan_json(const struct plan *plan)
{
	json_t *o = json_object(), *units = json_array(), *tasks = json_array();

	json_object_set_new(o, "schema", json_string("campaign-plan/1"));
	json_object_set_new(o, "id", json_string(plan->id));
	json_object_set_new(o, "title", json_string(plan->title));
	json_object_set_new(o, "theme", plan->theme ? json_string(plan->theme) : json_null());
	json_object_set_new(o, "year", json_integer(plan->year));
	json_object_set_new(o, "timezone", json_string(plan->timezone));
	json_object_set_new(o, "key_date", snapshot_date_json(plan->key_date));
	for (size_t i = 0; i < plan->nunits; i++) {
		json_t *u = json_object();

		json_object_set_new(u, "name", json_string(plan->units[i].name));
		json_object_set_new(u, "aliases", names_json(plan->units[i].aliases,
		    plan->units[i].naliases));
		if (plan->units[i].placeholder)
			json_object_set_new(u, "placeholder", json_true());
		json_array_append_new(units, u);
	}
	for (size_t i = 0; i < plan->ntasks; i++) {
		const struct plan_task *t = &plan->tasks[i];
		json_t *j = json_object(), *tu = json_array();

		json_object_set_new(j, "id", json_string(t->id));
		json_object_set_new(j, "title", json_string(t->title));
		json_object_set_new(j, "detail", t->detail ? json_string(t->detail) : json_null());
		json_object_set_new(j, "when", t->when ? json_string(t->when) : json_null());
		json_object_set_new(j, "start", snapshot_date_json(t->start));
		json_object_set_new(j, "due", snapshot_date_json(t->due));
		json_object_set_new(j, "fuzzy", json_boolean(t->fuzzy));
		json_t *lead = json_array(), *support = json_array();

		for (size_t u = 0; u < t->nunits; u++) {
			const char *name = plan->units[t->units[u]].name;

			json_array_append_new(tu, json_string(name));
			if (t->roles != NULL && t->roles[u] != PLAN_ROLE_NONE)
				json_array_append_new(t->roles[u] == PLAN_ROLE_LEAD ? lead : support,
				    json_string(name));
		}
		/* placeholders are the plan's units too, only never waited for */
		for (size_t u = 0; u < t->nplaceholders; u++)
			json_array_append_new(tu, json_string(plan->units[t->placeholders[u]].name));
		json_object_set_new(j, "units", tu);
		if (json_array_size(lead) > 0)
			json_object_set_new(j, "lead", json_incref(lead));
		if (json_array_size(support) > 0)
			json_object_set_new(j, "support", json_incref(support));
		json_decref(lead);
		json_decref(support);
		if (t->nactors > 0)
			json_object_set_new(j, "actors", names_json(t->actors, t->nactors));
		if (t->nreport_to > 0)
			json_object_set_new(j, "report_to", names_json(t->report_to,
			    t->nreport_to));
		json_array_append_new(tasks, j);
	}
	json_object_set_new(o, "units", units);
	json_object_set_new(o, "tasks", tasks);
	return o;
}

static int
plan_show(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const char *const task_headers[] = { "ID", "TITLE", "WHEN", "START", "DUE",
		"UNITS" };
	static const char *const unit_headers[] = { "UNIT", "ALIASES" };
	const struct plan *plan;
	struct table *t;
	char key[CALDATE_STRLEN], left[32];
	bool json = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else
			return cli_usage_error(cmd, "plan show: unexpected \"%s\"", argv[i]);
	}
	if (cli_load_plan(cli) != 0)
		return CLI_FAILED;
	plan = cli->plan;
	if (json) {
		cli_print_json(plan_json(plan));
		return CLI_OK;
	}
	caldate_format(plan->key_date, key);
	cli_days_left(plan->key_date, cli->today, left, sizeof(left));
	printf("plan      %s\ntitle     %s\n", plan->id, plan->title);
	if (plan->theme != NULL)
		printf("theme     %s\n", plan->theme);
	printf("year      %d%s\n", plan->year, plan->year_given ? "" :
	    " (resolved from month-day dates when loaded)");
	if (plan->key_date != CALDATE_NONE)
		printf("key date  %s (%s)\n", key, left);
	printf("zone      %s\n\n", plan->timezone);

	t = table_new(6, task_headers);
	table_limit(t, 1, 30);
	for (size_t i = 0; i < plan->ntasks; i++) {
		const struct plan_task *task = &plan->tasks[i];
		char start[CALDATE_STRLEN], due[CALDATE_STRLEN], units[1024] = "";

		caldate_format(task->start, start);
		caldate_format(task->due, due);
		for (size_t u = 0; u < task->nunits; u++) {
			size_t len = strlen(units);

			snprintf(units + len, sizeof(units) - len, "%s%s", u > 0 ? "、" : "",
			    plan->units[task->units[u]].name);
		}
		if (task->nunits == 0 && task->nactors > 0)
			cli_actors(task, units, sizeof(units));
		table_row(t);
		table_cell(t, "%s", task->id);
		table_cell(t, "%s", task->title);
		table_cell(t, "%s%s", task->when != NULL ? task->when : "-",
		    task->fuzzy ? " (~)" : "");
		table_cell(t, "%s", *start ? start : "-");
		table_cell(t, "%s", *due ? due : "-");
		table_cell(t, "%s", *units ? units : "-");
	}
	table_print(t, stdout);
	table_free(t);
	printf("\n");
	t = table_new(2, unit_headers);
	for (size_t i = 0; i < plan->nunits; i++) {
		char aliases[1024];

		cli_join(aliases, sizeof(aliases), plan->units[i].aliases,
		    plan->units[i].naliases);
		table_row(t);
		table_cell(t, "%s", plan->units[i].name);
		table_cell(t, "%s", *aliases ? aliases : "-");
	}
	table_print(t, stdout);
	table_free(t);
	return CLI_OK;
}

int
cmd_plan(struct cli *cli, int argc, char **argv)
{
	const struct cli_command *cmd = cli_command_get("plan");

	if (argc < 2)
		return cli_usage_error(cmd, "plan: expected load, import or show");
	if (strcmp(argv[1], "load") == 0)
		return plan_load(cli, cmd, argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return plan_show(cli, cmd, argc - 1, argv + 1);
	if (strcmp(argv[1], "import") == 0)
		return cmd_plan_import(cli, argc - 1, argv + 1);
	return cli_usage_error(cmd, "plan: unknown subcommand \"%s\"", argv[1]);
}
