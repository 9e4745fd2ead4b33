/*
 * campaignctl bulletin [--date D] -o 通报.docx [--pdf 通报.pdf] [--text]
 * The office's bulletin from the store alone (issue 15); see bulletin.h.
 */
#include <stdio.h>
#include <string.h>

#include "bulletin.h"
#include "campaign/caldate.h"
#include "cli.h"

int
cmd_bulletin(struct cli *cli, int argc, char **argv)
{
	const struct cli_command *cmd = cli_command_get("bulletin");
	const char *docx = NULL, *pdf = NULL;
	struct bulletin *b = NULL;
	bool text = false;
	int32_t day;
	char err[512];
	int rc = CLI_FAILED;

	if (cli_wants_help(cmd, argc, argv))
		return CLI_OK;
	if (cli_load_plan(cli) != 0)
		return CLI_FAILED;
	day = cli->today;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--date") == 0 && i + 1 < argc) {
			if (caldate_parse(argv[++i], &day) < 0)
				return cli_usage_error(cmd, "bulletin: --date wants YYYY-MM-DD");
		} else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			docx = argv[++i];
		} else if (strcmp(argv[i], "--pdf") == 0 && i + 1 < argc) {
			pdf = argv[++i];
		} else if (strcmp(argv[i], "--text") == 0) {
			text = true;
		} else {
			return cli_usage_error(cmd, "bulletin: unexpected \"%s\"", argv[i]);
		}
	}
	if (docx == NULL && pdf == NULL && !text)
		return cli_usage_error(cmd, "bulletin: say where: -o FILE.docx, --pdf or --text");
	b = bulletin_build(cli->store, cli->plan, day, err, sizeof(err));
	if (b == NULL)
		return cli_fail("%s", err);
	if (docx != NULL && bulletin_write_docx(b, docx, err, sizeof(err)) < 0) {
		cli_fail("%s", err);
		goto out;
	}
	if (pdf != NULL && bulletin_write_pdf(b, pdf, err, sizeof(err)) < 0) {
		cli_fail("%s", err);
		goto out;
	}
	if (text)
		printf("%s\n", b->plain);
	if (docx != NULL)
		printf("wrote %s\n", docx);
	if (pdf != NULL)
		printf("wrote %s\n", pdf);
	rc = CLI_OK;
out:
	bulletin_free(b);
	return rc;
}
