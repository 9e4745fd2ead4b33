/*
 * campaignctl broadcast: reserved here; the broadcast issue (admin broadcasts
 * and reminders) implements it on top of the bot and the bridge.
 */
#include "cli.h"

int
cmd_broadcast(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	return cli_fail("broadcast is not available yet in this version");
}
