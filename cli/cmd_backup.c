/*
 * campaignctl backup FILE | restore FILE (docs/REFERENCE.md). A backup is a
 * consistent copy while the daemons run; a restore waits for nobody: it is
 * refused while a daemon holds the database, and holds the daemons' locks
 * itself while it replaces the pages, so none can start in the middle.
 */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "campaign/dbadmin.h"
#include "campaign/lockfile.h"
#include "campaign/xmalloc.h"
#include "cli.h"

#define MAX_LOCKS 16

int
cmd_backup(struct cli *cli, int argc, char **argv)
{
	const struct cli_command *cmd = cli_command_get("backup");
	char err[1024];

	if (argc != 2 || argv[1][0] == '-')
		return cli_usage_error(cmd, "backup: expected one FILE");
	if (access(cli->db_path, F_OK) != 0)
		return cli_fail("%s: %s", cli->db_path, strerror(errno));
	if (cli_open_store(cli) != 0)
		return CLI_FAILED;
	if (dbadmin_backup(cli->store, argv[1], err, sizeof(err)) < 0)
		return cli_fail("backup failed: %s", err);
	printf("backed up %s to %s (schema %d, mode 0600)\n", cli->db_path, argv[1],
	    store_schema_version(cli->store));
	return CLI_OK;
}

struct locks {
	int fd[MAX_LOCKS];
	size_t n;
};

/* Locks path; a lock file we create belongs to the database's owner, so the daemons can open it. */
static int
take(struct locks *l, const char *path, const struct stat *db, char *err, size_t errlen)
{
	int fd;

	if (l->n == MAX_LOCKS) {
		snprintf(err, errlen, "too many lock files beside the database");
		return -1;
	}
	fd = lockfile_acquire(path, err, errlen);
	if (fd < 0)
		return -1;
	if (fchown(fd, db->st_uid, db->st_gid) < 0) {
		/* not root: the file is ours, as the database is */
	}
	l->fd[l->n++] = fd;
	return 0;
}

/*
 * The locks every daemon takes at start: the bridge's, the Telegram poller's,
 * and each bot's presence lock. Held: a daemon runs. Taken by us: none starts.
 */
static int
take_daemon_locks(const char *db, struct locks *l, char *err, size_t errlen)
{
	char *pattern = xasprintf("%s.bot-*.lock", db);
	char *bridge = xasprintf("%s.bridge.lock", db);
	char *poller = xasprintf("%s-telegram.lock", db);
	glob_t g = { 0 };
	struct stat st;
	int rc = -1;

	if (stat(db, &st) < 0) {
		snprintf(err, errlen, "%s: %s", db, strerror(errno));
		goto out;
	}
	if (take(l, bridge, &st, err, errlen) < 0 || take(l, poller, &st, err, errlen) < 0)
		goto out;
	if (glob(pattern, GLOB_NOSORT, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			if (take(l, g.gl_pathv[i], &st, err, errlen) < 0)
				goto out;
	}
	rc = 0;
out:
	globfree(&g);
	free(pattern);
	free(bridge);
	free(poller);
	return rc;
}

int
cmd_restore(struct cli *cli, int argc, char **argv)
{
	const struct cli_command *cmd = cli_command_get("restore");
	struct locks locks = { .n = 0 };
	char err[1024];
	int schema, rc = CLI_FAILED;

	if (argc != 2 || argv[1][0] == '-')
		return cli_usage_error(cmd, "restore: expected one FILE");
	if (dbadmin_verify(argv[1], &schema, err, sizeof(err)) < 0)
		return cli_fail("not restoring: %s", err);
	if (take_daemon_locks(cli->db_path, &locks, err, sizeof(err)) < 0) {
		cli_fail("not restoring while a daemon uses %s: %s; stop campaign-bot and "
		    "campaign-bridge first", cli->db_path, err);
		goto out;
	}
	if (dbadmin_restore(cli->db_path, argv[1], err, sizeof(err)) < 0) {
		cli_fail("restore failed, %s unchanged: %s", cli->db_path, err);
		goto out;
	}
	/* Opening migrates an older schema to this program's. */
	if (cli_open_store(cli) != 0)
		goto out;
	printf("restored %s (schema %d) into %s; the previous database is %s.before-restore\n",
	    argv[1], schema, cli->db_path, cli->db_path);
	rc = CLI_OK;
out:
	for (size_t i = 0; i < locks.n; i++)
		lockfile_release(locks.fd[i]);
	return rc;
}
