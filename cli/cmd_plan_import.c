/*
 * campaignctl plan import: reserved here; the plan-import issue implements
 * reading the official plan document.
 */
#include "cli.h"

int
cmd_plan_import(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	return cli_fail("plan import is not available yet in this version");
}
