/*
 * campaignctl report: records a progress report received outside the chat
 * (by phone, on paper), exactly as the bot would: history, state and a
 * progress event for MQTT, in one transaction.
 */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "campaign/num.h"
#include "campaign/progress.h"
#include "cli.h"

/* "60", "60%" or "done" (also 完成). */
static int
parse_progress(const char *s, int *percent, bool *done)
{
	char digits[8];
	size_t len = strlen(s);

	if (strcmp(s, "done") == 0 || strcmp(s, "完成") == 0) {
		*done = true;
		*percent = 100;
		return 0;
	}
	if (len > 0 && s[len - 1] == '%')
		len--;
	if (len == 0 || len >= sizeof(digits))
		return -1;
	memcpy(digits, s, len);
	digits[len] = '\0';
	if (num_parse_int(digits, 0, 100, percent) < 0)
		return -1;
	*done = *percent == 100;
	return 0;
}

int
cmd_report(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "note", required_argument, NULL, 'n' },
		{ "by", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_command *cmd = cli_command_get("report");
	struct report_input in = { .platform = "cli" };
	const struct passwd *pw = getpwuid(getuid());
	char err[512];
	int64_t event_id = 0;
	ssize_t unit;
	int ch;

	optind = 0; /* 0: GNU getopt re-initializes (main parsed with "+") */
	while ((ch = getopt_long(argc, argv, "n:b:", options, NULL)) != -1) {
		if (ch == 'n')
			in.note = optarg;
		else if (ch == 'b')
			in.user_name = optarg;
		else
			return cli_usage_error(cmd, "unknown option");
	}
	if (argc - optind != 3)
		return cli_usage_error(cmd, "report: expected TASK UNIT PERCENT|done");
	if (parse_progress(argv[optind + 2], &in.percent, &in.done) < 0)
		return cli_usage_error(cmd, "report: \"%s\" is not a percent (0-100) or done",
		    argv[optind + 2]);
	if (cli_load_plan(cli) != 0)
		return CLI_FAILED;
	if (plan_task_get(cli->plan, argv[optind]) == NULL)
		return cli_fail("no task \"%s\" (campaignctl tasks lists them)", argv[optind]);
	unit = cli_find_unit(cli, argv[optind + 1]);
	if (unit < 0)
		return CLI_FAILED;
	in.task_id = argv[optind];
	in.unit = (size_t)unit;
	in.user_id = pw != NULL ? pw->pw_name : "admin";
	in.at = cli->now;
	switch (progress_report(cli->store, cli->plan, &in, &event_id, err, sizeof(err))) {
	case REPORT_RECORDED:
		break;
	case REPORT_DUPLICATE:
		return cli_fail("this report was already recorded");
	case REPORT_INVALID:
	case REPORT_ERROR:
		return cli_fail("%s", err);
	}
	printf("recorded: %s %s %s%s (event %lld)\n", in.task_id, cli->plan->units[unit].name,
	    in.done ? "done" : argv[optind + 2], in.done || strchr(argv[optind + 2], '%') ?
	    "" : "%", (long long)event_id);
	return CLI_OK;
}
