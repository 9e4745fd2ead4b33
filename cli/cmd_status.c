/*
 * campaignctl status: how the campaign stands today, and who has not done
 * their part for what is due soon or overdue (the plan's 督办检查).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "campaign/caldate.h"
#include "campaign/snapshot.h"
#include "cli.h"
#include "table.h"

/* A task needs attention when it is not done and due within a week or overdue. */
static bool
needs_attention(const struct cli *cli, size_t ti)
{
	const struct plan_task *t = &cli->plan->tasks[ti];

	return t->due != CALDATE_NONE && t->due - cli->today <= SNAPSHOT_DUE_SOON_DAYS &&
	    !progress_task_done(cli->progress, cli->plan, ti);
}

static json_t *
attention_json(const struct cli *cli, bool missing_only)
{
	json_t *arr = json_array();

	for (size_t ti = 0; ti < cli->plan->ntasks; ti++) {
		const struct plan_task *t = &cli->plan->tasks[ti];
		json_t *units, *o;
		char due[CALDATE_STRLEN];

		if (!needs_attention(cli, ti))
			continue;
		units = json_array();
		for (size_t u = 0; u < t->nunits; u++) {
			const struct progress_cell *c = progress_cell(cli->progress, ti, t->units[u]);
			json_t *j;

			if (c->done || (missing_only && c->reported))
				continue;
			j = json_object();
			json_object_set_new(j, "unit", json_string(cli->plan->units[t->units[u]].name));
			json_object_set_new(j, "reported", json_boolean(c->reported));
			json_object_set_new(j, "percent", json_integer(c->percent));
			json_array_append_new(units, j);
		}
		if (json_array_size(units) == 0) {
			json_decref(units);
			continue;
		}
		caldate_format(t->due, due);
		o = json_object();
		json_object_set_new(o, "task", json_string(t->id));
		json_object_set_new(o, "title", json_string(t->title));
		json_object_set_new(o, "due", json_string(due));
		json_object_set_new(o, "days_left", json_integer(t->due - cli->today));
		json_object_set_new(o, "units", units);
		json_array_append_new(arr, o);
	}
	return arr;
}

static void
print_attention(const struct cli *cli, bool missing_only)
{
	static const char *const headers[] = { "ID", "TASK", "DUE", "LEFT", "UNIT", "STATE" };
	struct table *t = table_new(6, headers);
	size_t rows = 0;

	table_limit(t, 1, 24);
	for (size_t ti = 0; ti < cli->plan->ntasks; ti++) {
		const struct plan_task *task = &cli->plan->tasks[ti];
		char due[CALDATE_STRLEN], left[32];
		bool first = true;

		if (!needs_attention(cli, ti))
			continue;
		caldate_format(task->due, due);
		cli_days_left(task->due, cli->today, left, sizeof(left));
		for (size_t u = 0; u < task->nunits; u++) {
			const struct progress_cell *c = progress_cell(cli->progress, ti,
			    task->units[u]);

			if (c->done || (missing_only && c->reported))
				continue;
			table_row(t);
			table_cell(t, "%s", first ? task->id : "");
			table_cell(t, "%s", first ? task->title : "");
			table_cell(t, "%s", first ? due : "");
			table_cell(t, "%s", first ? left : "");
			table_cell(t, "%s", cli->plan->units[task->units[u]].name);
			if (c->reported)
				table_cell(t, "%d%%", c->percent);
			else
				table_cell(t, "no report");
			first = false;
			rows++;
		}
	}
	if (rows == 0)
		printf("%s\n", missing_only ? "every unit with a task due within 7 days or "
		    "overdue has reported" : "nothing due within 7 days or overdue is behind");
	else
		table_print(t, stdout);
	table_free(t);
}

int
cmd_status(struct cli *cli, int argc, char **argv)
{
	const struct cli_command *cmd = cli_command_get("status");
	bool missing = false, json = false;
	struct summary s;
	char today[CALDATE_STRLEN], key[CALDATE_STRLEN];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--missing") == 0)
			missing = true;
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else
			return cli_usage_error(cmd, "status: unexpected \"%s\"", argv[i]);
	}
	if (cli_load_plan(cli) != 0)
		return CLI_FAILED;
	if (json) {
		json_t *o = snapshot_summary_json(cli->plan, cli->progress, cli->today);

		json_object_set_new(o, missing ? "missing" : "attention",
		    attention_json(cli, missing));
		cli_print_json(o);
		return CLI_OK;
	}
	snapshot_summary(cli->plan, cli->progress, cli->today, &s);
	caldate_format(cli->today, today);
	caldate_format(s.key_date, key);
	if (!missing) {
		printf("%s (%s), %s\n", cli->plan->title, cli->plan->id, today);
		if (s.key_date != CALDATE_NONE) {
			if (s.days_to_key > 0)
				printf("key date  %s, in %d days\n", key, s.days_to_key);
			else if (s.days_to_key == 0)
				printf("key date  %s, today\n", key);
			else
				printf("key date  %s, %d days ago\n", key, -s.days_to_key);
		}
		printf("progress  %d%% overall; %zu tasks: %zu done, %zu overdue, %zu due within "
		    "%d days\n", s.percent, s.ntasks, s.ndone, s.noverdue, s.ndue_soon,
		    SNAPSHOT_DUE_SOON_DAYS);
		printf("reports   %zu of %zu unit responsibilities have reported\n\n",
		    s.npairs_reported, s.npairs);
		printf("behind on tasks due within %d days or overdue:\n", SNAPSHOT_DUE_SOON_DAYS);
	} else {
		printf("not reported yet, on tasks due within %d days or overdue (%s):\n",
		    SNAPSHOT_DUE_SOON_DAYS, today);
	}
	print_attention(cli, missing);
	return CLI_OK;
}
