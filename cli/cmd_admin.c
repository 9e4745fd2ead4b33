/* campaignctl admin add | remove | list: admins are platform:id identities. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/users.h"
#include "cli.h"

int
cmd_admin(struct cli *cli, int argc, char **argv)
{
	const struct cli_command *cmd = cli_command_get("admin");
	const char *sub = argc >= 2 ? argv[1] : "";
	char platform[USERS_PLATFORM_MAX], why[256];
	const char *id;
	int rc;

	if (strcmp(sub, "list") == 0) {
		char **ids;
		size_t n;

		if (argc != 2)
			return cli_usage_error(cmd, "admin list takes no arguments");
		if (cli_open_store(cli) != 0)
			return CLI_FAILED;
		if (admins_list(cli->store, &ids, &n) < 0)
			return cli_fail("cannot read admins: %s", store_errmsg(cli->store));
		for (size_t i = 0; i < n; i++) {
			printf("%s\n", ids[i]);
			free(ids[i]);
		}
		free(ids);
		if (n == 0)
			fprintf(stderr, "no admins (besides [chat] admins in the config)\n");
		return CLI_OK;
	}
	if (strcmp(sub, "add") != 0 && strcmp(sub, "remove") != 0)
		return cli_usage_error(cmd, "admin: expected add, remove or list");
	if (argc != 3)
		return cli_usage_error(cmd, "admin %s: expected one PLATFORM:USER_ID", sub);
	if (users_ref_split(argv[2], platform, &id, why, sizeof(why)) < 0)
		return cli_usage_error(cmd, "admin %s: %s", sub, why);
	if (cli_open_store(cli) != 0)
		return CLI_FAILED;
	if (strcmp(sub, "add") == 0) {
		if (admins_add(cli->store, platform, id, cli->now) < 0)
			return cli_fail("cannot add admin: %s", store_errmsg(cli->store));
		printf("%s is an admin\n", argv[2]);
		return CLI_OK;
	}
	rc = admins_remove(cli->store, platform, id);
	if (rc < 0)
		return cli_fail("cannot remove admin: %s", store_errmsg(cli->store));
	if (rc == 0)
		return cli_fail("%s is not an admin", argv[2]);
	printf("%s is no longer an admin\n", argv[2]);
	return CLI_OK;
}
