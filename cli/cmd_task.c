/* campaignctl task ID: one task, its units' progress and the report history. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/caldate.h"
#include "campaign/clock.h"
#include "campaign/snapshot.h"
#include "cli.h"
#include "table.h"

/* "2027-10-08 09:00" in the plan's zone. */
static void
local_time(time_t t, char *out, size_t outlen)
{
	char iso[CLOCK_ISO_STRLEN];

	clock_format_iso(t, iso);
	snprintf(out, outlen, "%.10s %.5s", iso, iso + 11);
}

static json_t *
history_json(const struct report_row *rows, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *r = json_object();
		char at[CLOCK_ISO_STRLEN];

		clock_format_iso(rows[i].at, at);
		json_object_set_new(r, "unit", json_string(rows[i].unit));
		json_object_set_new(r, "percent", json_integer(rows[i].percent));
		json_object_set_new(r, "done", json_boolean(rows[i].done));
		json_object_set_new(r, "note", rows[i].note ? json_string(rows[i].note) :
		    json_null());
		json_object_set_new(r, "user", json_string(rows[i].user_name != NULL ?
		    rows[i].user_name : rows[i].user_id));
		json_object_set_new(r, "user_id", json_string(rows[i].user_id));
		json_object_set_new(r, "platform", json_string(rows[i].platform));
		json_object_set_new(r, "at", json_string(at));
		json_array_append_new(arr, r);
	}
	return arr;
}

static void
print_task(struct cli *cli, size_t ti, const struct report_row *rows, size_t n)
{
	static const char *const unit_headers[] = { "UNIT", "PROGRESS", "UPDATED", "NOTE" };
	static const char *const history_headers[] = { "AT", "UNIT", "PROGRESS", "BY", "NOTE" };
	const struct plan *plan = cli->plan;
	const struct plan_task *t = &plan->tasks[ti];
	char start[CALDATE_STRLEN], due[CALDATE_STRLEN], left[32];
	struct table *tab;

	caldate_format(t->start, start);
	caldate_format(t->due, due);
	cli_days_left(t->due, cli->today, left, sizeof(left));
	printf("%s  %s\n", t->id, t->title);
	printf("when      %s%s\n", t->when != NULL ? t->when : "-",
	    t->fuzzy ? " (approximate)" : "");
	if (*start && strcmp(start, due) != 0)
		printf("period    %s .. %s\n", start, *due ? due : "open");
	if (*due)
		printf("due       %s (%s)\n", due, progress_task_done(cli->progress, plan, ti) ?
		    "done" : left);
	printf("progress  %d%%\n", progress_task_percent(cli->progress, plan, ti));
	for (size_t i = 0; i < t->nactors; i++)
		printf("%s%s", i == 0 ? "doers     " : "、", t->actors[i]);
	if (t->nactors > 0)
		printf("\n");
	for (size_t i = 0; i < t->nreport_to; i++)
		printf("%s%s", i == 0 ? "report to " : "、", t->report_to[i]);
	if (t->nreport_to > 0)
		printf("\n");
	if (t->detail != NULL)
		printf("detail    %s\n", t->detail);

	printf("\n");
	if (t->nunits == 0) {
		printf("no responsible units\n");
	} else {
		tab = table_new(4, unit_headers);
		table_limit(tab, 3, 40);
		for (size_t u = 0; u < t->nunits; u++) {
			const struct progress_cell *c = progress_cell(cli->progress, ti, t->units[u]);
			char at[32] = "-";

			if (c->reported)
				local_time(c->at, at, sizeof(at));
			table_row(tab);
			table_cell(tab, "%s", plan->units[t->units[u]].name);
			if (c->done)
				table_cell(tab, "done");
			else if (c->reported)
				table_cell(tab, "%d%%", c->percent);
			else
				table_cell(tab, "no report");
			table_cell(tab, "%s", at);
			table_cell(tab, "%s", c->note != NULL ? c->note : "");
		}
		table_print(tab, stdout);
		table_free(tab);
	}
	/* named by the plan, nobody to wait for: shown, never "no report" */
	for (size_t u = 0; u < t->nplaceholders; u++)
		printf("%s%s", u == 0 ? "also named " : "、", plan->units[t->placeholders[u]].name);
	if (t->nplaceholders > 0)
		printf(" (placeholder: no reports expected)\n");
	printf("\n");
	if (n == 0) {
		printf("no reports yet\n");
		return;
	}
	tab = table_new(5, history_headers);
	table_limit(tab, 4, 40);
	for (size_t i = 0; i < n; i++) {
		char at[32];

		local_time(rows[i].at, at, sizeof(at));
		table_row(tab);
		table_cell(tab, "%s", at);
		table_cell(tab, "%s", rows[i].unit);
		if (rows[i].done)
			table_cell(tab, "done");
		else
			table_cell(tab, "%d%%", rows[i].percent);
		table_cell(tab, "%s", rows[i].user_name != NULL ? rows[i].user_name :
		    rows[i].user_id);
		table_cell(tab, "%s", rows[i].note != NULL ? rows[i].note : "");
	}
	table_print(tab, stdout);
	table_free(tab);
}

int
cmd_task(struct cli *cli, int argc, char **argv)
{
	const struct cli_command *cmd = cli_command_get("task");
	struct report_row *rows;
	const char *id = NULL;
	bool json = false;
	ssize_t ti;
	size_t n;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (id == NULL)
			id = argv[i];
		else
			return cli_usage_error(cmd, "task: unexpected \"%s\"", argv[i]);
	}
	if (id == NULL)
		return cli_usage_error(cmd, "task: expected a task ID");
	if (cli_load_plan(cli) != 0)
		return CLI_FAILED;
	ti = plan_task_index(cli->plan, id);
	if (ti < 0)
		return cli_fail("no task \"%s\" (campaignctl tasks lists them)", id);
	if (progress_history(cli->store, id, &rows, &n) < 0)
		return cli_fail("cannot read the history: %s", store_errmsg(cli->store));
	if (json) {
		json_t *o = snapshot_task_json(cli->plan, cli->progress, (size_t)ti, cli->today);

		json_object_set_new(o, "reports", history_json(rows, n));
		cli_print_json(o);
	} else {
		print_task(cli, (size_t)ti, rows, n);
	}
	report_rows_free(rows, n);
	return CLI_OK;
}
