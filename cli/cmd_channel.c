/*
 * campaignctl channel add | list | remove | test: group robots (DingTalk,
 * WeCom, Feishu) as send-only channels. The webhook URL and the signing
 * secret are read from files, never from the command line (argv is visible
 * to every user of the machine), and never printed: list shows the URL's
 * host and last four characters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "campaign/channels.h"
#include "campaign/clock.h"
#include "campaign/lockfile.h"
#include "campaign/outbox.h"
#include "campaign/plandb.h"
#include "campaign/xmalloc.h"
#include "cli.h"

#define TEST_WAIT_MS 30000

/* Splits "A,B" into unit names checked against the plan (when one is loaded). */
static int
parse_units(struct cli *cli, const struct cli_command *cmd, const char *list,
    struct channel *c)
{
	const char *p = list;

	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		char *name = xstrndup(p, len);
		ssize_t unit = -1;

		if (len == 0 || (cli->plan != NULL && (unit = cli_find_unit(cli, name)) < 0)) {
			free(name);
			if (len == 0)
				return cli_usage_error(cmd, "--units: an empty unit name");
			return CLI_FAILED;
		}
		if (unit >= 0) {
			/* The plan's name, as messages carry it (the admin may type an alias). */
			free(name);
			name = xstrdup(cli->plan->units[unit].name);
		}
		c->units = xreallocarray(c->units, c->nunits + 1, sizeof(*c->units));
		c->units[c->nunits++] = name;
		p += len;
		if (*p == ',')
			p++;
	}
	return CLI_OK;
}

static int
channel_add(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	struct channel c = { .sends = CHANNEL_SENDS_DEFAULT };
	const char *url_file = NULL, *secret_file = NULL, *units = NULL, *sends = NULL;
	char err[512];
	int rc = CLI_FAILED;

	if (argc < 4)
		return cli_usage_error(cmd, "channel add: expected NAME KIND --url-file FILE");
	if (!channels_name_ok(argv[2]))
		return cli_usage_error(cmd, "channel add: \"%s\" cannot name a channel (letters, "
		    "digits, - _ ., at most %d bytes)", argv[2], CHANNEL_NAME_MAX);
	if (channels_kind_parse(argv[3], &c.kind) < 0)
		return cli_usage_error(cmd, "channel add: KIND is dingtalk-robot, wecom-robot or "
		    "feishu-bot, not \"%s\"", argv[3]);
	for (int i = 4; i < argc; i++) {
		const char **slot = strcmp(argv[i], "--url-file") == 0 ? &url_file :
		    strcmp(argv[i], "--secret-file") == 0 ? &secret_file :
		    strcmp(argv[i], "--units") == 0 ? &units :
		    strcmp(argv[i], "--send") == 0 ? &sends : NULL;

		if (slot == NULL)
			return cli_usage_error(cmd, "channel add: unknown option \"%s\" (the URL "
			    "and secret are read from files: --url-file, --secret-file)", argv[i]);
		if (i + 1 >= argc)
			return cli_usage_error(cmd, "channel add: %s needs a value", argv[i]);
		*slot = argv[++i];
	}
	if (url_file == NULL)
		return cli_usage_error(cmd, "channel add: --url-file FILE is required");
	if (sends != NULL && channels_sends_parse(sends, &c.sends, err, sizeof(err)) < 0)
		return cli_usage_error(cmd, "channel add: %s", err);
	if (c.kind == CHANNEL_WECOM && secret_file != NULL)
		return cli_usage_error(cmd, "channel add: a WeCom group robot has no signing "
		    "secret (its key is in the URL)");
	if (cli_open_store(cli) != 0)
		return CLI_FAILED;
	if (units != NULL) {
		/* Checked against the plan when one is loaded, so a typo is caught now. */
		if (!plandb_present(cli->store))
			fprintf(stderr, "campaignctl: no plan loaded: unit names are not checked\n");
		else if (cli_load_plan(cli) != 0)
			goto out;
		if ((rc = parse_units(cli, cmd, units, &c)) != CLI_OK)
			goto out;
		rc = CLI_FAILED;
	}
	c.name = xstrdup(argv[2]);
	if ((c.url = cfg_read_secret(url_file, err, sizeof(err))) == NULL) {
		cli_fail("--url-file: %s", err);
		goto out;
	}
	if (channels_url_check(c.kind, c.url, err, sizeof(err)) < 0) {
		cli_fail("--url-file %s: %s", url_file, err);
		goto out;
	}
	if (secret_file != NULL &&
	    (c.secret = cfg_read_secret(secret_file, err, sizeof(err))) == NULL) {
		cli_fail("--secret-file: %s", err);
		goto out;
	}
	if (c.secret == NULL && c.kind != CHANNEL_WECOM)
		fprintf(stderr, "campaignctl: no --secret-file: the robot must then use a keyword "
		    "or IP allow-list (signing is recommended)\n");
	if (channels_add(cli->store, &c, cli->now, err, sizeof(err)) < 0) {
		cli_fail("%s", err);
		goto out;
	}
	channels_sends_format(c.sends, err, sizeof(err));
	printf("channel %s added (%s, gets %s); campaign-bot delivers to it\n", c.name,
	    channels_kind_name(c.kind), err);
	rc = CLI_OK;
out:
	channel_clear(&c);
	return rc;
}

static void
print_channel(const struct channel *c)
{
	char hint[300], sends[64], units[512];

	channels_url_hint(c->url, hint, sizeof(hint));
	channels_sends_format(c->sends, sends, sizeof(sends));
	if (c->nunits > 0)
		cli_join(units, sizeof(units), c->units, c->nunits);
	printf("%s\t%s\t%s\t%s%s%s\t", c->name, channels_kind_name(c->kind), hint, sends,
	    c->nunits > 0 ? " of " : "", c->nunits > 0 ? units : "");
	if (c->failing)
		printf("failing: %lld %s\n", (long long)c->error_code,
		    c->error != NULL ? c->error : "");
	else
		printf("ok\n");
}

static int
channel_list(struct cli *cli)
{
	struct channel *c;
	size_t n;

	if (cli_open_store(cli) != 0)
		return CLI_FAILED;
	if (channels_list(cli->store, &c, &n) < 0)
		return cli_fail("cannot read channels: %s", store_errmsg(cli->store));
	for (size_t i = 0; i < n; i++)
		print_channel(&c[i]);
	if (n == 0)
		fprintf(stderr, "no channels (campaignctl channel add NAME KIND --url-file FILE)\n");
	channels_free(c, n);
	return CLI_OK;
}

/* The state of delivery id: 0 pending, 1 sent, 2 failed (error owned), -1 error. */
static int
delivery_state(struct cli *cli, int64_t id, char **error)
{
	sqlite3_stmt *st = store_stmt(cli->store, "SELECT state, error FROM deliveries "
	    "WHERE id = ?1");
	int rc, state = -1;

	*error = NULL;
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		state = sqlite3_column_int(st, 0);
		*error = store_column_text(st, 1);
	}
	sqlite3_reset(st);
	return state;
}

static int
wait_outcome(struct cli *cli, const char *name, int64_t id)
{
	int64_t deadline = clock_mono_ms() + TEST_WAIT_MS;
	struct timespec pause = { 0, 200 * 1000000L };
	char *error = NULL;
	int state;

	while ((state = delivery_state(cli, id, &error)) == DELIVERY_PENDING &&
	    clock_mono_ms() < deadline) {
		free(error);
		error = NULL;
		nanosleep(&pause, NULL);
	}
	if (state == DELIVERY_SENT) {
		printf("test message delivered to %s\n", name);
		free(error);
		return CLI_OK;
	}
	if (state == DELIVERY_FAILED) {
		cli_fail("test message to %s failed: %s (campaignctl channel list shows the "
		    "channel's state)", name, error != NULL ? error : "unknown error");
		free(error);
		return CLI_FAILED;
	}
	free(error);
	printf("test message to %s still queued after %d s (paced, or being retried); "
	    "campaign-bot delivers it\n", name, TEST_WAIT_MS / 1000);
	return CLI_OK;
}

static int
channel_test(struct cli *cli, const char *name)
{
	struct channel c;
	char *text, iso[CLOCK_ISO_STRLEN], *path;
	struct outbox_item it;
	int64_t id;
	int found, running;

	if (cli_open_store(cli) != 0)
		return CLI_FAILED;
	if ((found = channels_get(cli->store, name, &c)) <= 0)
		return found < 0 ? cli_fail("cannot read channels: %s", store_errmsg(cli->store)) :
		    cli_fail("no channel named \"%s\" (campaignctl channel list)", name);
	clock_format_iso(cli->now, iso);
	text = xasprintf("🔔 <b>测试消息</b>\n群机器人 %s 已接入活动通知(%s)。", name, iso);
	it = (struct outbox_item){ .platform = CHANNEL_PLATFORM, .chat_id = name,
		.kind = "test", .text = text };
	id = outbox_enqueue(cli->store, &it, cli->now);
	free(text);
	if (c.failing)
		printf("channel %s is failing (%lld %s): the test goes out anyway\n", name,
		    (long long)c.error_code, c.error != NULL ? c.error : "");
	channel_clear(&c);
	if (id <= 0)
		return cli_fail("cannot queue the test message: %s", store_errmsg(cli->store));
	path = lockfile_bot_path(cli->db_path, CHANNEL_PLATFORM);
	running = lockfile_held(path);
	free(path);
	if (running != 1) {
		printf("test message queued for %s; no campaign-bot runs now: it delivers it when "
		    "started\n", name);
		return CLI_OK;
	}
	printf("test message queued for %s; waiting for campaign-bot ...\n", name);
	fflush(stdout);
	return wait_outcome(cli, name, id);
}

int
cmd_channel(struct cli *cli, int argc, char **argv)
{
	const struct cli_command *cmd = cli_command_get("channel");
	const char *sub = argc >= 2 ? argv[1] : "";
	int rc;

	if (cli_wants_help(cmd, argc, argv))
		return CLI_OK;
	if (strcmp(sub, "add") == 0)
		return channel_add(cli, cmd, argc, argv);
	if (strcmp(sub, "list") == 0) {
		if (argc != 2)
			return cli_usage_error(cmd, "channel list takes no arguments");
		return channel_list(cli);
	}
	if (strcmp(sub, "test") == 0 || strcmp(sub, "remove") == 0) {
		if (argc != 3)
			return cli_usage_error(cmd, "channel %s: expected one NAME", sub);
		if (strcmp(sub, "test") == 0)
			return channel_test(cli, argv[2]);
		if (cli_open_store(cli) != 0)
			return CLI_FAILED;
		rc = channels_remove(cli->store, argv[2], cli->now);
		if (rc < 0)
			return cli_fail("cannot remove the channel: %s", store_errmsg(cli->store));
		if (rc == 0)
			return cli_fail("no channel named \"%s\"", argv[2]);
		printf("channel %s removed\n", argv[2]);
		return CLI_OK;
	}
	return cli_usage_error(cmd, "channel: expected add, list, remove or test");
}
