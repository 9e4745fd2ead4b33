/*
 * campaignctl submissions: who has sent the written documents the plan asks
 * for (issue 15), exporting the latest files, and the files from unknown
 * senders that wait for an admin.
 *   submissions [--missing] [--task ID] [--json]
 *   submissions export DIR
 *   submissions unassigned [--json]
 *   submissions assign ID UNIT
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "campaign/clock.h"
#include "campaign/num.h"
#include "campaign/submissions.h"
#include "campaign/xmalloc.h"
#include "cli.h"
#include "table.h"

static void
local_time(time_t t, char out[32])
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%d %H:%M", &tm);
}

static int
list(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const char *const headers[] = { "TASK", "UNIT", "STATUS", "FILE", "RECEIVED",
		"VERSIONS" };
	const char *only = NULL;
	bool missing = false, json = false;
	const struct plan *plan;
	struct table *t = NULL;
	json_t *arr = NULL;
	size_t submitted = 0, owed = 0;
	int rc = CLI_FAILED;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--missing") == 0)
			missing = true;
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--task") == 0 && i + 1 < argc)
			only = argv[++i];
		else
			return cli_usage_error(cmd, "submissions: unexpected \"%s\"", argv[i]);
	}
	if (cli_load_plan(cli) != 0)
		return CLI_FAILED;
	plan = cli->plan;
	if (only != NULL && (plan_task_get(plan, only) == NULL ||
	    plan_task_get(plan, only)->deliverable == NULL))
		return cli_fail("task %s asks for no document (no \"deliverable\" in the plan)",
		    only);
	if (json)
		arr = json_array();
	else
		t = table_new(6, headers);
	for (size_t i = 0; i < plan->ntasks; i++) {
		const struct plan_task *task = &plan->tasks[i];

		if (task->deliverable == NULL || (only != NULL && strcmp(only, task->id) != 0))
			continue;
		for (size_t u = 0; u < plan->nunits; u++) {
			struct submission sub;
			int found, versions;
			char when[32] = "";

			if (!submissions_owed(plan, task, u))
				continue;
			owed++;
			found = submissions_latest(cli->store, task->id, plan->units[u].id, &sub);
			if (found < 0)
				goto out;
			submitted += found;
			if (found && missing) {
				submission_clear(&sub);
				continue;
			}
			versions = found ? submissions_versions(cli->store, task->id,
			    plan->units[u].id) : 0;
			if (found)
				local_time(sub.at, when);
			if (json) {
				json_t *o = json_object();

				json_object_set_new(o, "task", json_string(task->id));
				json_object_set_new(o, "deliverable", json_string(task->deliverable));
				json_object_set_new(o, "unit", json_string(plan->units[u].name));
				json_object_set_new(o, "submitted", json_boolean(found));
				if (found) {
					char iso[CLOCK_ISO_STRLEN];

					clock_format_iso(sub.at, iso);
					json_object_set_new(o, "file", json_string(sub.name));
					json_object_set_new(o, "size", json_integer(sub.size));
					json_object_set_new(o, "sha256", json_string(sub.sha256));
					json_object_set_new(o, "received", json_string(iso));
					json_object_set_new(o, "channel", json_string(sub.channel));
					json_object_set_new(o, "versions", json_integer(versions));
				}
				json_array_append_new(arr, o);
			} else {
				table_row(t);
				table_cell(t, "%s", task->id);
				table_cell(t, "%s", plan->units[u].name);
				table_cell(t, "%s", found ? "已提交" : "未提交");
				table_cell(t, "%s", found ? sub.name : "-");
				table_cell(t, "%s", found ? when : "-");
				table_cell(t, "%d", versions);
			}
			submission_clear(&sub);
		}
	}
	if (json) {
		cli_print_json(arr);
		arr = NULL;
	} else {
		table_limit(t, 3, 40);
		table_print(t, stdout);
		printf("\n%zu of %zu submitted\n", submitted, owed);
	}
	rc = CLI_OK;
out:
	json_decref(arr);
	table_free(t);
	return rc;
}

/* A file or folder name from text: no '/', no control characters, no leading dot. */
static char *
safe_name(const char *text)
{
	char *s = xstrdup(*text != '\0' ? text : "_");

	for (char *p = s; *p != '\0'; p++)
		if (*p == '/' || *p == '\\' || (unsigned char)*p < 0x20)
			*p = '_';
	if (s[0] == '.')
		s[0] = '_';
	return s;
}

static int
copy_file(const char *from, const char *to)
{
	char block[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
	ssize_t n;

	if (in < 0)
		goto out;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (out < 0)
		goto out;
	while ((n = read(in, block, sizeof(block))) > 0)
		if (write(out, block, (size_t)n) != n)
			goto out;
	rc = n < 0 ? -1 : 0;
out:
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0)
		rc = -1;
	return rc;
}

static int
export(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const struct plan *plan;
	json_t *manifest = json_array();
	FILE *sums = NULL;
	char *path = NULL;
	size_t files = 0;
	int rc = CLI_FAILED;

	if (argc != 2)
		return cli_usage_error(cmd, "submissions export: expected DIR");
	if (cli_load_plan(cli) != 0)
		return CLI_FAILED;
	plan = cli->plan;
	if (mkdir(argv[1], 0755) < 0 && errno != EEXIST) {
		cli_fail("%s: %s", argv[1], strerror(errno));
		goto out;
	}
	path = xasprintf("%s/SHA256SUMS", argv[1]);
	sums = fopen(path, "w");
	if (sums == NULL) {
		cli_fail("%s: %s", path, strerror(errno));
		goto out;
	}
	for (size_t u = 0; u < plan->nunits; u++) {
		for (size_t i = 0; i < plan->ntasks; i++) {
			const struct plan_task *task = &plan->tasks[i];
			struct submission sub;
			char *unit = NULL, *name = NULL, *dir = NULL, *dest = NULL, *src = NULL;
			char iso[CLOCK_ISO_STRLEN];
			json_t *o;
			int found;

			if (!submissions_owed(plan, task, u))
				continue;
			found = submissions_latest(cli->store, task->id, plan->units[u].id, &sub);
			if (found <= 0) {
				if (found < 0)
					goto out;
				continue;
			}
			unit = safe_name(plan->units[u].name);
			name = safe_name(sub.name);
			dir = xasprintf("%s/%s", argv[1], unit);
			/* "3.4 宣传部总结.docx": the task in front keeps two deliverables apart */
			dest = xasprintf("%s/%s %s", dir, task->id, name);
			src = submissions_file_path(cli->store, sub.sha256);
			found = (mkdir(dir, 0755) == 0 || errno == EEXIST) && copy_file(src, dest) == 0;
			if (!found)
				cli_fail("%s: %s", dest, strerror(errno));
			else {
				fprintf(sums, "%s  %s/%s %s\n", sub.sha256, unit, task->id, name);
				clock_format_iso(sub.at, iso);
				o = json_object();
				json_object_set_new(o, "unit", json_string(plan->units[u].name));
				json_object_set_new(o, "task", json_string(task->id));
				json_object_set_new(o, "deliverable", json_string(task->deliverable));
				json_object_set_new(o, "path", json_string(dest + strlen(argv[1]) + 1));
				json_object_set_new(o, "original_name", json_string(sub.name));
				json_object_set_new(o, "size", json_integer(sub.size));
				json_object_set_new(o, "sha256", json_string(sub.sha256));
				json_object_set_new(o, "received", json_string(iso));
				json_object_set_new(o, "channel", json_string(sub.channel));
				json_object_set_new(o, "sender", json_string(sub.sender));
				json_array_append_new(manifest, o);
				files++;
			}
			free(unit);
			free(name);
			free(dir);
			free(dest);
			free(src);
			submission_clear(&sub);
			if (!found)
				goto out;
		}
	}
	free(path);
	path = xasprintf("%s/manifest.json", argv[1]);
	if (json_dump_file(manifest, path, JSON_INDENT(2)) < 0) {
		cli_fail("%s: cannot write", path);
		goto out;
	}
	printf("exported %zu file(s) to %s (manifest.json, SHA256SUMS)\n", files, argv[1]);
	rc = CLI_OK;
out:
	if (sums != NULL && fclose(sums) != 0 && rc == CLI_OK)
		rc = cli_fail("%s/SHA256SUMS: %s", argv[1], strerror(errno));
	json_decref(manifest);
	free(path);
	return rc;
}

static int
unassigned(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const char *const headers[] = { "ID", "FROM", "FILE", "SIZE", "RECEIVED",
		"SUBJECT" };
	struct submission *subs = NULL;
	bool json = argc == 2 && strcmp(argv[1], "--json") == 0;
	size_t n = 0;

	if (argc > 2 || (argc == 2 && !json))
		return cli_usage_error(cmd, "submissions unassigned: unexpected \"%s\"", argv[1]);
	if (cli_open_store(cli) != 0)
		return CLI_FAILED;
	if (submissions_unassigned(cli->store, &subs, &n) < 0)
		return cli_fail("cannot read submissions: %s", store_errmsg(cli->store));
	if (json) {
		json_t *arr = json_array();

		for (size_t i = 0; i < n; i++) {
			char iso[CLOCK_ISO_STRLEN];

			clock_format_iso(subs[i].at, iso);
			json_array_append_new(arr, json_pack("{sI ss ss sI ss ss s?s}", "id",
			    (json_int_t)subs[i].id, "from", subs[i].sender, "file", subs[i].name,
			    "size", (json_int_t)subs[i].size, "received", iso, "channel",
			    subs[i].channel, "subject", subs[i].subject));
		}
		cli_print_json(arr);
	} else if (n == 0) {
		printf("no unassigned files\n");
	} else {
		struct table *t = table_new(6, headers);

		for (size_t i = 0; i < n; i++) {
			char when[32];

			local_time(subs[i].at, when);
			table_row(t);
			table_cell(t, "%lld", (long long)subs[i].id);
			table_cell(t, "%s", subs[i].sender);
			table_cell(t, "%s", subs[i].name);
			table_cell(t, "%lld", (long long)subs[i].size);
			table_cell(t, "%s", when);
			table_cell(t, "%s", subs[i].subject != NULL ? subs[i].subject : "-");
		}
		table_limit(t, 2, 40);
		table_limit(t, 5, 30);
		table_print(t, stdout);
		printf("\nassign one with: campaignctl submissions assign ID UNIT\n");
		table_free(t);
	}
	submissions_free(subs, n);
	return CLI_OK;
}

static int
assign(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	char err[256];
	int64_t id;
	ssize_t u;
	int rc;

	if (argc != 3 || num_parse_i64(argv[1], 1, INT64_MAX, &id) < 0)
		return cli_usage_error(cmd, "submissions assign: expected ID UNIT");
	if (cli_load_plan(cli) != 0)
		return CLI_FAILED;
	u = cli_find_unit(cli, argv[2]);
	if (u < 0)
		return CLI_FAILED;
	rc = submissions_assign(cli->store, cli->plan, id, cli->plan->units[u].id,
	    clock_now(), err, sizeof(err));
	if (rc < 0)
		return cli_fail("%s", err);
	if (rc == 0)
		return cli_fail("no unassigned file %lld (campaignctl submissions unassigned "
		    "lists them)", (long long)id);
	printf("file %lld assigned to %s; its sender is now bound to the unit\n",
	    (long long)id, cli->plan->units[u].name);
	return CLI_OK;
}

int
cmd_submissions(struct cli *cli, int argc, char **argv)
{
	const struct cli_command *cmd = cli_command_get("submissions");

	if (cli_wants_help(cmd, argc, argv))
		return CLI_OK;
	if (argc >= 2 && strcmp(argv[1], "export") == 0)
		return export(cli, cmd, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "unassigned") == 0)
		return unassigned(cli, cmd, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "assign") == 0)
		return assign(cli, cmd, argc - 1, argv + 1);
	return list(cli, cmd, argc - 1, argv + 1);
}
