/*
 * campaignctl channel add | update | list | remove | test: group robots
 * (DingTalk, WeCom, Feishu) as send-only channels. The webhook URL and the
 * signing secret are read from files, never from the command line (argv is
 * visible to every user of the machine), and never printed: list shows the
 * URL's host and last four characters.
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

/* The options of add and update; update alone takes the two flags. */
struct channel_opts {
	const char *url_file, *secret_file, *units, *sends;
	bool no_secret, all_units;
};

/* Parses argv[first..] into o; CLI_OK or a usage error that names the option. */
static int
parse_opts(const struct cli_command *cmd, const char *verb, int argc, char **argv,
    int first, struct channel_opts *o)
{
	bool update = strcmp(verb, "update") == 0;

	for (int i = first; i < argc; i++) {
		const char **slot = strcmp(argv[i], "--url-file") == 0 ? &o->url_file :
		    strcmp(argv[i], "--secret-file") == 0 ? &o->secret_file :
		    strcmp(argv[i], "--units") == 0 ? &o->units :
		    strcmp(argv[i], "--send") == 0 ? &o->sends : NULL;

		if (update && strcmp(argv[i], "--no-secret") == 0) {
			o->no_secret = true;
			continue;
		}
		if (update && strcmp(argv[i], "--all-units") == 0) {
			o->all_units = true;
			continue;
		}
		if (slot == NULL)
			return cli_usage_error(cmd, "channel %s: unknown option \"%s\" (the URL "
			    "and secret are read from files: --url-file, --secret-file)", verb,
			    argv[i]);
		if (i + 1 >= argc)
			return cli_usage_error(cmd, "channel %s: %s needs a value", verb, argv[i]);
		*slot = argv[++i];
	}
	return CLI_OK;
}

/* A WeCom robot's key is its URL: a secret file for one is a mistake worth naming. */
static int
check_secret_allowed(const struct cli_command *cmd, const char *verb,
    enum channel_kind kind, const struct channel_opts *o)
{
	if (kind == CHANNEL_WECOM && o->secret_file != NULL)
		return cli_usage_error(cmd, "channel %s: a WeCom group robot has no signing "
		    "secret (its key is in the URL)", verb);
	return CLI_OK;
}

/* c's unit filter from --units, checked against the plan when one is loaded (a typo is
   caught now, not when no message ever reaches the group). */
static int
load_units(struct cli *cli, const struct cli_command *cmd, const char *list,
    struct channel *c)
{
	if (!plandb_present(cli->store))
		fprintf(stderr, "campaignctl: no plan loaded: unit names are not checked\n");
	else if (cli_load_plan(cli) != 0)
		return CLI_FAILED;
	return parse_units(cli, cmd, list, c);
}

/* c->url from path, checked to be a webhook of c->kind; never printed. */
static int
read_url(struct channel *c, const char *path)
{
	char err[512];

	if ((c->url = cfg_read_secret(path, err, sizeof(err))) == NULL)
		return cli_fail("--url-file: %s", err);
	if (channels_url_check(c->kind, c->url, err, sizeof(err)) < 0)
		return cli_fail("--url-file %s: %s", path, err);
	return CLI_OK;
}

static int
read_signing_secret(struct channel *c, const char *path)
{
	char err[512];

	if ((c->secret = cfg_read_secret(path, err, sizeof(err))) == NULL)
		return cli_fail("--secret-file: %s", err);
	return CLI_OK;
}

static void
warn_unsigned(enum channel_kind kind)
{
	if (kind != CHANNEL_WECOM)
		fprintf(stderr, "campaignctl: no --secret-file: the robot must then use a keyword "
		    "or IP allow-list (signing is recommended)\n");
}

static int
channel_add(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	struct channel c = { .sends = CHANNEL_SENDS_DEFAULT };
	struct channel_opts o = { 0 };
	char err[512];
	int rc;

	if (argc < 4)
		return cli_usage_error(cmd, "channel add: expected NAME KIND --url-file FILE");
	if (!channels_name_ok(argv[2]))
		return cli_usage_error(cmd, "channel add: \"%s\" cannot name a channel (letters, "
		    "digits, - _ ., at most %d bytes)", argv[2], CHANNEL_NAME_MAX);
	if (channels_kind_parse(argv[3], &c.kind) < 0)
		return cli_usage_error(cmd, "channel add: KIND is dingtalk-robot, wecom-robot or "
		    "feishu-bot, not \"%s\"", argv[3]);
	if ((rc = parse_opts(cmd, "add", argc, argv, 4, &o)) != CLI_OK)
		return rc;
	if (o.url_file == NULL)
		return cli_usage_error(cmd, "channel add: --url-file FILE is required");
	if (o.sends != NULL && channels_sends_parse(o.sends, &c.sends, err, sizeof(err)) < 0)
		return cli_usage_error(cmd, "channel add: %s", err);
	if ((rc = check_secret_allowed(cmd, "add", c.kind, &o)) != CLI_OK)
		return rc;
	if (cli_open_store(cli) != 0)
		return CLI_FAILED;
	if ((o.units != NULL && (rc = load_units(cli, cmd, o.units, &c)) != CLI_OK) ||
	    (rc = read_url(&c, o.url_file)) != CLI_OK ||
	    (o.secret_file != NULL && (rc = read_signing_secret(&c, o.secret_file)) != CLI_OK))
		goto out;
	rc = CLI_FAILED;
	c.name = xstrdup(argv[2]);
	if (c.secret == NULL)
		warn_unsigned(c.kind);
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

/* "no channel named X" with the names there are, so a typo is seen at once. */
static int
fail_unknown(struct cli *cli, const char *name)
{
	struct channel *all;
	char **names, known[512];
	size_t n;

	if (channels_list(cli->store, &all, &n) < 0)
		return cli_fail("cannot read channels: %s", store_errmsg(cli->store));
	names = xcalloc(n + 1, sizeof(*names));
	for (size_t i = 0; i < n; i++)
		names[i] = all[i].name;
	cli_join(known, sizeof(known), names, n);
	free(names);
	cli_fail("no channel named \"%s\" (%s%s)", name, n > 0 ? "channels: " : "there are no "
	    "channels", n > 0 ? known : "");
	channels_free(all, n);
	return CLI_FAILED;
}

/* What update was given, for its message: "URL, secret, units". */
static void
describe_change(const struct channel_opts *o, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s%s%s%s%s", o->url_file != NULL ? ", URL" : "",
	    o->secret_file != NULL ? ", secret" : "", o->no_secret ? ", no secret" : "",
	    o->units != NULL || o->all_units ? ", units" : "", o->sends != NULL ? ", sends" : "");
	memmove(out, out + 2, strlen(out + 2) + 1);     /* the leading ", " */
}

static int
check_update_opts(const struct cli_command *cmd, const struct channel_opts *o)
{
	if (o->url_file == NULL && o->secret_file == NULL && !o->no_secret &&
	    o->units == NULL && !o->all_units && o->sends == NULL)
		return cli_usage_error(cmd, "channel update: nothing to update (give --url-file, "
		    "--secret-file, --no-secret, --units, --all-units or --send)");
	if (o->secret_file != NULL && o->no_secret)
		return cli_usage_error(cmd, "channel update: --secret-file or --no-secret, "
		    "not both");
	if (o->units != NULL && o->all_units)
		return cli_usage_error(cmd, "channel update: --units or --all-units, not both");
	return CLI_OK;
}

/* Reads the new values into got (of cur's kind); CLI_OK when all are good. */
static int
read_update(struct cli *cli, const struct cli_command *cmd, const struct channel_opts *o,
    const struct channel *cur, struct channel *got)
{
	int rc;

	got->kind = cur->kind;
	if ((rc = check_secret_allowed(cmd, "update", cur->kind, o)) != CLI_OK ||
	    (o->units != NULL && (rc = load_units(cli, cmd, o->units, got)) != CLI_OK) ||
	    (o->url_file != NULL && (rc = read_url(got, o->url_file)) != CLI_OK) ||
	    (o->secret_file != NULL && (rc = read_signing_secret(got, o->secret_file)) != CLI_OK))
		return rc;
	if (o->no_secret && cur->secret != NULL)
		warn_unsigned(cur->kind);
	return CLI_OK;
}

/*
 * Changes what is given and nothing else, in place: unlike remove and add,
 * the channel keeps its pending deliveries and history. campaign-bot reads
 * a channel again before each message, so it needs no restart.
 */
static int
channel_update(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	struct channel cur, got = { 0 };
	struct channel_opts o = { 0 };
	struct channel_change change;
	char what[80], err[512];
	unsigned sends = 0;
	int rc, found;

	if (argc < 3 || strncmp(argv[2], "--", 2) == 0)
		return cli_usage_error(cmd, "channel update: expected NAME and what to change");
	if ((rc = parse_opts(cmd, "update", argc, argv, 3, &o)) != CLI_OK ||
	    (rc = check_update_opts(cmd, &o)) != CLI_OK)
		return rc;
	if (o.sends != NULL && channels_sends_parse(o.sends, &sends, err, sizeof(err)) < 0)
		return cli_usage_error(cmd, "channel update: %s", err);
	if (cli_open_store(cli) != 0)
		return CLI_FAILED;
	if ((found = channels_get(cli->store, argv[2], &cur)) <= 0)
		return found < 0 ? cli_fail("cannot read channels: %s", store_errmsg(cli->store)) :
		    fail_unknown(cli, argv[2]);
	if ((rc = read_update(cli, cmd, &o, &cur, &got)) != CLI_OK)
		goto out;
	change = (struct channel_change){ .url = got.url, .secret = got.secret,
		.drop_secret = o.no_secret, .set_units = o.units != NULL || o.all_units,
		.units = got.units, .nunits = got.nunits, .sends = sends };
	rc = CLI_FAILED;
	if ((found = channels_update(cli->store, argv[2], &change, cli->now)) <= 0) {
		if (found < 0)
			cli_fail("cannot update the channel: %s", store_errmsg(cli->store));
		else
			fail_unknown(cli, argv[2]);     /* removed meanwhile */
		goto out;
	}
	describe_change(&o, what, sizeof(what));
	/* A new credential is the admin's fix for a refused one (channels_update). */
	printf("channel %s updated (%s)%s; campaign-bot uses it from its next message\n",
	    argv[2], what, cur.failing && (o.url_file != NULL || o.secret_file != NULL ||
	    o.no_secret) ? ", no longer failing" : "");
	channel_clear(&cur);
	if (channels_get(cli->store, argv[2], &cur) == 1)
		print_channel(&cur);
	rc = CLI_OK;
out:
	channel_clear(&got);
	channel_clear(&cur);
	return rc;
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
	if (strcmp(sub, "update") == 0)
		return channel_update(cli, cmd, argc, argv);
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
	return cli_usage_error(cmd, "channel: expected add, update, list, remove or test");
}
