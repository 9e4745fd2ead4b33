/*
 * campaignctl plan import FILE [--year Y] [--id ID] [-o plan.json] [--load]:
 * the official plan document (text, .docx, .pdf or .html, told apart by
 * content: lib/import/formats/) to campaign-plan/1 (lib/import/ does the
 * reading). The JSON goes to stdout, or to -o (written atomically), and/or
 * straight into the store through the same path as `plan load`. The report
 * (what was found, every line that was not resolved) goes to stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "campaign/clock.h"
#include "campaign/import.h"
#include "campaign/import_formats.h"
#include "campaign/num.h"
#include "campaign/xmalloc.h"
#include "cli.h"

/* A .docx or .pdf with pictures is larger than its text: its own cap. */
#define IMPORT_MAX_FILE_BYTES (64u << 20)

/*
 * Reads at most max + 1 bytes, so the importer can refuse an oversized file;
 * *size is the file's real size when it is a regular file, else *len.
 */
static char *
read_file(const char *path, size_t max, size_t *len, unsigned long long *size)
{
	FILE *fp = fopen(path, "rb");
	struct stat st;
	char *data;

	if (fp == NULL)
		return NULL;
	data = xmalloc(max + 2);
	*len = fread(data, 1, max + 1, fp);
	*size = fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) ?
	    (unsigned long long)st.st_size : *len;
	if (ferror(fp)) {
		int saved = errno;

		fclose(fp);
		free(data);
		errno = saved;
		return NULL;
	}
	fclose(fp);
	data[*len] = '\0';
	return data;
}

/* Writes path atomically: a temporary file beside it, then rename. */
static int
write_file(const char *path, const char *text)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	FILE *fp = fopen(tmp, "w");
	int rc = -1;

	if (fp == NULL)
		goto out;
	if (fputs(text, fp) == EOF || fputc('\n', fp) == EOF) {
		fclose(fp);
		unlink(tmp);
		goto out;
	}
	if (fclose(fp) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	return rc;
}

static bool
id_ok(const char *id)
{
	if (*id == '\0' || strlen(id) > PLAN_TASK_ID_MAX)
		return false;
	for (const char *p = id; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("._-", *p) != NULL))
			return false;
	return true;
}

int
cmd_plan_import(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "year", required_argument, NULL, 'y' },
		{ "id", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "load", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_command *cmd = cli_command_get("plan");
	struct import_opts opts = { 0 };
	struct import_result *r = NULL;
	struct plan_load_opts load_opts = { 0 };
	struct plan *plan = NULL;
	const char *output = NULL, *path;
	bool load = false;
	char *data = NULL, err[1024];
	size_t len = 0;
	unsigned long long size = 0;
	enum import_format format;
	int ch, rc = CLI_FAILED;

	optind = 0; /* 0: GNU getopt re-initializes (main parsed with "+") */
	while ((ch = getopt_long(argc, argv, "y:i:o:", options, NULL)) != -1) {
		switch (ch) {
		case 'y':
			if (num_parse_int(optarg, 1900, 9999, &opts.year) < 0)
				return cli_usage_error(cmd, "--year: expected a four-digit year");
			break;
		case 'i':
			if (!id_ok(optarg))
				return cli_usage_error(cmd, "--id: letters, digits, '.', '_' and "
				    "'-' only (at most 32)");
			opts.id = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'l':
			load = true;
			break;
		default:
			return cli_usage_error(cmd, "unknown option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(cmd, "plan import: expected one FILE (.txt, .docx, .pdf "
		    "or .html)");
	path = argv[optind];
	opts.name = path;
	data = read_file(path, IMPORT_MAX_FILE_BYTES, &len, &size);
	if (data == NULL)
		return cli_fail("%s: %s", path, strerror(errno));
	/* By content: a Word file, a PDF or a saved web page becomes text first. */
	format = import_format_detect(data, len);
	if (format != IMPORT_FORMAT_TEXT && len <= IMPORT_MAX_FILE_BYTES) {
		size_t text_len = 0;
		char *text = import_format_text(format, data, len, &text_len, err, sizeof(err));

		if (text == NULL) {
			cli_fail("%s: %s", path, err);
			goto out;
		}
		free(data);
		data = text;
		len = text_len;
		size = text_len;
		if (len > IMPORT_MAX_BYTES) {
			cli_fail("%s: the %s file's text is too large for a plan document (%zu "
			    "bytes; the limit is %u)", path, import_format_name(format), len,
			    IMPORT_MAX_BYTES);
			goto out;
		}
	}
	if (len > IMPORT_MAX_BYTES) {
		/* Name the real size; a pipe read only up to the cap has none. */
		if (!(len > IMPORT_MAX_FILE_BYTES && size <= len))
			cli_fail("%s: the file is too large for a plan document (%llu bytes; "
			    "the limit is %u)", path, size, IMPORT_MAX_BYTES);
		else
			cli_fail("%s: the file is too large for a plan document (more than %u "
			    "bytes, the limit)", path, IMPORT_MAX_BYTES);
		goto out;
	}
	r = import_document(data, len, &opts);
	if (r->json == NULL) {
		import_report_print(r, path, stderr);
		cli_fail("%s: %s", path, r->error);
		goto out;
	}
	/* What the importer writes must load; check before anyone relies on it. */
	load_opts.today = clock_local_day(cli->now);
	plan = plan_load_string(r->json, path, &load_opts, err, sizeof(err));
	if (plan == NULL) {
		import_report_print(r, path, stderr);
		cli_fail("internal error: the imported plan does not load: %s", err);
		goto out;
	}
	if (output != NULL && write_file(output, r->json) < 0) {
		cli_fail("%s: %s", output, strerror(errno));
		goto out;
	}
	if (output == NULL && !load)
		printf("%s\n", r->json);
	if (load) {
		plan_free(plan);
		plan = NULL;
		if (cli_open_store(cli) != 0)
			goto out;
		load_opts.today = cli->today;
		plan = plan_load_string(r->json, path, &load_opts, err, sizeof(err));
		if (plan == NULL) {
			cli_fail("%s", err);
			goto out;
		}
		if (cli_plan_store(cli, plan, path) != CLI_OK)
			goto out;
	}
	fflush(stdout);
	import_report_print(r, path, stderr);
	rc = CLI_OK;
out:
	plan_free(plan);
	import_result_free(r);
	free(data);
	return rc;
}
