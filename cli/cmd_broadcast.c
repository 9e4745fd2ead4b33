/*
 * campaignctl broadcast: an admin's announcement to MQTT and every chat
 * (broadcast.h does the writing, in one transaction), its delivery status,
 * and --wait: a live progress bar on a terminal (plain lines otherwise)
 * until the bot has delivered or failed every message, bounded in time and
 * saying so at once when no bot is running to deliver them.
 */
#include <getopt.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "campaign/broadcast.h"
#include "campaign/buf.h"
#include "campaign/clock.h"
#include "campaign/events.h"
#include "campaign/lockfile.h"
#include "campaign/num.h"
#include "campaign/outbox.h"
#include "campaign/safetext.h"
#include "campaign/xmalloc.h"
#include "cli.h"
#include "table.h"

#define STDIN_MAX (64 * 1024)
#define RECENT_MAX 20
#define POLL_MS 200
#define NO_BOT_GRACE_MS 3000    /* a bot may be starting: look twice before saying none */
#define BAR_WIDTH 24

/* ---- creating ---- */

/* TEXT "-": the text from stdin (multi-line announcements from scripts). */
static char *
read_stdin(void)
{
	struct buf b;
	char chunk[4096];
	size_t got;

	buf_init(&b, STDIN_MAX);
	while ((got = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if (buf_append(&b, chunk, got) < 0)
			break;
	if (b.overflow) {
		buf_free(&b);
		cli_fail("the text on stdin is longer than %d KiB", STDIN_MAX / 1024);
		return NULL;
	}
	if (memchr(buf_str(&b), '\0', b.len) != NULL) {
		buf_free(&b);
		cli_fail("the text on stdin holds a NUL byte");
		return NULL;
	}
	return buf_steal(&b);
}

static bool
is_unit_separator(const char *p, size_t *len)
{
	static const char *const seps[] = { ",", "，", "、", ";", "；" };

	for (size_t i = 0; i < sizeof(seps) / sizeof(seps[0]); i++) {
		*len = strlen(seps[i]);
		if (strncmp(p, seps[i], *len) == 0)
			return true;
	}
	return false;
}

/* --units "A,B" (also "A、B", "A，B"): plan indexes, each once; -1 if one is unknown. */
static int
parse_units(struct cli *cli, const char *list, size_t **out, size_t *n)
{
	const char *p = list;

	*out = NULL;
	*n = 0;
	while (*p != '\0') {
		const char *start = p;
		size_t seplen = 0;
		char *name;
		ssize_t u;
		bool dup = false;

		while (*p != '\0' && !is_unit_separator(p, &seplen))
			p++;
		name = xstrndup(start, (size_t)(p - start));
		if (*p != '\0')
			p += seplen;
		/* Trim spaces around a name. */
		for (char *e = name + strlen(name); e > name && e[-1] == ' '; e--)
			e[-1] = '\0';
		if (name[strspn(name, " ")] == '\0') {
			free(name);
			continue;
		}
		u = cli_find_unit(cli, name + strspn(name, " "));
		free(name);
		if (u < 0) {
			free(*out);
			*out = NULL;
			*n = 0;
			return -1;
		}
		for (size_t i = 0; i < *n; i++)
			dup |= (*out)[i] == (size_t)u;
		if (!dup) {
			*out = xreallocarray(*out, *n + 1, sizeof(**out));
			(*out)[(*n)++] = (size_t)u;
		}
	}
	if (*n == 0) {
		cli_fail("--units: no unit named");
		return -1;
	}
	return 0;
}

static void
print_created(const struct cli *cli, const struct broadcast_sent *sent, const size_t *units,
    size_t nunits, time_t expires, bool json)
{
	char iso[CLOCK_ISO_STRLEN];

	if (expires != 0)
		clock_format_iso(expires, iso);
	if (json) {
		json_t *o = json_object(), *u = json_array();

		for (size_t i = 0; i < nunits; i++)
			json_array_append_new(u, json_string(cli->plan->units[units[i]].name));
		json_object_set_new(o, "id", json_integer(sent->id));
		json_object_set_new(o, "event", json_integer(sent->event_id));
		json_object_set_new(o, "chats", json_integer((json_int_t)sent->chats));
		json_object_set_new(o, "units", nunits > 0 ? u : (json_decref(u), json_null()));
		json_object_set_new(o, "expires_at", expires != 0 ? json_string(iso) :
		    json_null());
		cli_print_json(o);
		return;
	}
	printf("broadcast %lld", (long long)sent->id);
	for (size_t i = 0; i < nunits; i++)
		printf("%s%s", i == 0 ? " to " : "、", cli->plan->units[units[i]].name);
	if (sent->chats > 0)
		printf(": queued for %zu chat%s", sent->chats, sent->chats == 1 ? "" : "s");
	else
		printf(": no chat to deliver to (no subscribed chat, no bound user%s)",
		    nunits > 0 ? " of those units" : "");
	printf("; MQTT announcement: event %lld", (long long)sent->event_id);
	if (expires != 0)
		printf("; expires %s", iso);
	printf("\n");
	fflush(stdout);
}

/* ---- waiting ---- */

static int64_t
mono_ms(void)
{
	return clock_mono_ms();
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The pending platforms nobody delivers for, joined with ", " into out; their count. */
static size_t
undelivered_platforms(struct cli *cli, int64_t id, char *out, size_t outlen)
{
	char **platforms = NULL;
	size_t n = 0, missing = 0, len = 0;

	out[0] = '\0';
	if (outbox_pending_platforms(cli->store, OUTBOX_BROADCAST, id, &platforms, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char *path = lockfile_bot_path(cli->db_path, platforms[i]);

		if (lockfile_held(path) == 0) {
			int w = snprintf(out + len, outlen - len, "%s%s", missing > 0 ? ", " : "",
			    platforms[i]);

			if (w > 0 && (size_t)w < outlen - len)
				len += (size_t)w;
			missing++;
		}
		free(path);
		free(platforms[i]);
	}
	free(platforms);
	return missing;
}

static void
draw(int64_t id, const struct outbox_counts *c, int64_t elapsed_ms, bool tty)
{
	int64_t total = c->sent + c->failed + c->pending, done = c->sent + c->failed;
	int filled = total > 0 ? (int)(done * BAR_WIDTH / total) : BAR_WIDTH;

	if (!tty) {
		printf("broadcast %lld: %lld delivered, %lld failed, %lld pending (%lld s)\n",
		    (long long)id, (long long)c->sent, (long long)c->failed,
		    (long long)c->pending, (long long)(elapsed_ms / 1000));
		fflush(stdout);
		return;
	}
	safetext_raw(stdout, "\r\033[K");     /* our own control sequence, past the filter */
	printf("[");
	for (int i = 0; i < BAR_WIDTH; i++)
		fputs(i < filled ? "#" : "-", stdout);
	printf("] %lld/%lld %3d%%  delivered %lld · failed %lld · pending %lld  %llds",
	    (long long)done, (long long)total, total > 0 ? (int)(done * 100 / total) : 100,
	    (long long)c->sent, (long long)c->failed, (long long)c->pending,
	    (long long)(elapsed_ms / 1000));
	fflush(stdout);
}

static void
print_failures(struct cli *cli, int64_t id, const char *indent)
{
	struct outbox_failure *f;
	size_t n;

	if (outbox_failures(cli->store, OUTBOX_BROADCAST, id, &f, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		printf("%s%lld %s\n", indent, (long long)f[i].count, f[i].error);
	outbox_failures_free(f, n);
}

/* How long no bot has served a pending platform (checked once a second); -1: one does. */
static int64_t
no_bot_for(struct cli *cli, int64_t id, int64_t now, int64_t *since, int64_t *checked,
    char *missing, size_t missinglen)
{
	if (*checked < 0 || now - *checked >= 1000) {
		*checked = now;
		if (undelivered_platforms(cli, id, missing, missinglen) == 0)
			*since = -1;
		else if (*since < 0)
			*since = now;
	}
	return *since < 0 ? -1 : now - *since;
}

/*
 * Polls the counts until nothing is pending. Bounded by timeout_s; gives up
 * early, with the reason, when no bot runs for the platforms still pending.
 */
static int
wait_delivered(struct cli *cli, int64_t id, int64_t timeout_s)
{
	bool tty = isatty(STDOUT_FILENO);
	int64_t start = mono_ms(), no_bot_since = -1, last_line = -1, checked = -1;
	struct outbox_counts c, last = { -1, -1, -1 };
	char missing[256];

	for (;;) {
		int64_t now = mono_ms();
		bool changed;

		if (outbox_counts(cli->store, OUTBOX_BROADCAST, id, &c) < 0)
			return cli_fail("cannot read the deliveries: %s",
			    store_errmsg(cli->store));
		changed = memcmp(&c, &last, sizeof(c)) != 0;
		if (tty || (changed && (last_line < 0 || now - last_line >= 1000 ||
		    c.pending == 0))) {
			draw(id, &c, now - start, tty);
			last_line = now;
			last = c;
		}
		if (c.pending == 0)
			break;
		if (no_bot_for(cli, id, now, &no_bot_since, &checked, missing,
		    sizeof(missing)) >= NO_BOT_GRACE_MS) {
			if (tty)
				printf("\n");
			return cli_fail("no campaign-bot is running for the %s chats of %s: %lld "
			    "deliveries wait in the outbox and go out when it starts (campaignctl "
			    "broadcast status %lld)", missing, cli->db_path, (long long)c.pending,
			    (long long)id);
		}
		if (now - start >= timeout_s * 1000) {
			if (tty)
				printf("\n");
			return cli_fail("gave up waiting after %lld s: %lld deliveries still "
			    "pending; they stay queued (campaignctl broadcast status %lld)",
			    (long long)timeout_s, (long long)c.pending, (long long)id);
		}
		sleep_ms(POLL_MS);
	}
	if (tty)
		printf("\n");
	printf("broadcast %lld: done in %lld s: %lld delivered, %lld failed\n", (long long)id,
	    (long long)((mono_ms() - start + 500) / 1000), (long long)c.sent,
	    (long long)c.failed);
	print_failures(cli, id, "  failed: ");
	return CLI_OK;
}

static int
create(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option options[] = {
		{ "units", required_argument, NULL, 'u' },
		{ "expires", required_argument, NULL, 'e' },
		{ "wait", no_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const struct passwd *pw = getpwuid(getuid());
	struct broadcast_request rq = { .platform = "cli" };
	struct broadcast_sent sent;
	const char *units_arg = NULL;
	char *text = NULL, *input = NULL, err[512];
	size_t *units = NULL, nunits = 0;
	int64_t ttl = 0, timeout = -1;
	bool wait = false, json = false;
	int ch, rc = CLI_FAILED;

	optind = 0; /* 0: GNU getopt re-initializes (main parsed with "+") */
	while ((ch = getopt_long(argc, argv, "u:e:wt:j", options, NULL)) != -1) {
		switch (ch) {
		case 'u':
			units_arg = optarg;
			break;
		case 'e':
			if (num_parse_duration(optarg, &ttl) < 0 || ttl < 60 ||
			    ttl > BROADCAST_TTL_MAX)
				return cli_usage_error(cmd, "--expires: expected a duration from 1m to "
				    "%dd, such as 2h, 90m or 3d", BROADCAST_TTL_MAX / 86400);
			break;
		case 'w':
			wait = true;
			break;
		case 't':
			if (num_parse_duration(optarg, &timeout) < 0 || timeout < 1 ||
			    timeout > 7 * 86400)
				return cli_usage_error(cmd, "--timeout: expected a duration such as "
				    "90s or 10m");
			break;
		case 'j':
			json = true;
			break;
		default:
			return cli_usage_error(cmd, "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(cmd, "broadcast: expected one TEXT (quote it; \"-\" reads "
		    "it from stdin; -- before a text that starts with -)");
	if (json && wait)
		return cli_usage_error(cmd, "broadcast: --json and --wait do not go together");
	if (strcmp(argv[optind], "-") == 0 && (input = read_stdin()) == NULL)
		return CLI_FAILED;
	if (broadcast_text_clean(input != NULL ? input : argv[optind], &text, err,
	    sizeof(err)) < 0) {
		rc = cli_fail("%s; nothing was sent", err);
		goto out;
	}
	if (cli_load_plan(cli) != 0)
		goto out;
	if (units_arg != NULL && parse_units(cli, units_arg, &units, &nunits) < 0)
		goto out;
	rq.text = text;
	rq.units = units;
	rq.nunits = nunits;
	rq.ttl = ttl;
	rq.user_id = pw != NULL ? pw->pw_name : NULL;
	if (broadcast_create(cli->store, cli->plan, &rq, cli->now, &sent, err,
	    sizeof(err)) < 0) {
		rc = cli_fail("%s; nothing was sent", err);
		goto out;
	}
	print_created(cli, &sent, units, nunits, ttl > 0 ? cli->now + (time_t)ttl : 0, json);
	rc = CLI_OK;
	if (wait && sent.chats > 0)
		rc = wait_delivered(cli, sent.id, timeout > 0 ? timeout :
		    120 + (int64_t)sent.chats / 10);
out:
	free(units);
	free(text);
	free(input);
	return rc;
}

/* ---- status ---- */

static const char *
mqtt_state(int state)
{
	switch (state) {
	case EVENT_PENDING:
		return "waiting for campaign-bridge";
	case EVENT_DELIVERED:
		return "published";
	case EVENT_FAILED:
		return "refused by the broker (campaign-bridge log has the reason)";
	default:
		return "no event";
	}
}

static json_t *
info_json(struct cli *cli, const struct broadcast_info *b, bool details)
{
	char iso[CLOCK_ISO_STRLEN];
	json_t *o = json_object(), *units = json_array();

	for (size_t i = 0; i < b->nunits; i++)
		json_array_append_new(units, json_string(b->units[i]));
	json_object_set_new(o, "id", json_integer(b->id));
	json_object_set_new(o, "text", json_string(b->text));
	json_object_set_new(o, "units", b->nunits > 0 ? units : (json_decref(units),
	    json_null()));
	clock_format_iso(b->created_at, iso);
	json_object_set_new(o, "created_at", json_string(iso));
	if (b->expires_at != 0)
		clock_format_iso(b->expires_at, iso);
	json_object_set_new(o, "expires_at", b->expires_at != 0 ? json_string(iso) :
	    json_null());
	json_object_set_new(o, "from", json_pack("{s:s,s:s?}", "platform", b->platform,
	    "user", b->user_id));
	json_object_set_new(o, "event", json_pack("{s:I,s:s}", "id", (json_int_t)b->event_id,
	    "state", b->event_state == EVENT_DELIVERED ? "published" :
	    b->event_state == EVENT_PENDING ? "pending" : b->event_state == EVENT_FAILED ?
	    "failed" : "gone"));
	json_object_set_new(o, "chats", json_integer(b->chats));
	json_object_set_new(o, "delivered", json_integer(b->counts.sent));
	json_object_set_new(o, "failed", json_integer(b->counts.failed));
	json_object_set_new(o, "pending", json_integer(b->counts.pending));
	if (details) {
		struct outbox_failure *f;
		size_t n;
		json_t *arr = json_array();

		if (outbox_failures(cli->store, OUTBOX_BROADCAST, b->id, &f, &n) == 0) {
			for (size_t i = 0; i < n; i++)
				json_array_append_new(arr, json_pack("{s:s,s:I}", "error", f[i].error,
				    "count", (json_int_t)f[i].count));
			outbox_failures_free(f, n);
		}
		json_object_set_new(o, "failures", arr);
	}
	return o;
}

static void
print_one(struct cli *cli, const struct broadcast_info *b)
{
	char iso[CLOCK_ISO_STRLEN];

	clock_format_iso(b->created_at, iso);
	printf("broadcast %lld, sent %s from %s%s%s\n", (long long)b->id, iso, b->platform,
	    b->user_id != NULL ? " by " : "", b->user_id != NULL ? b->user_id : "");
	printf("to        ");
	if (b->nunits == 0)
		printf("every unit");
	for (size_t i = 0; i < b->nunits; i++)
		printf("%s%s", i > 0 ? "、" : "", b->units[i]);
	printf(" and every subscribed chat: %lld chat%s\n", (long long)b->chats,
	    b->chats == 1 ? "" : "s");
	if (b->expires_at != 0) {
		clock_format_iso(b->expires_at, iso);
		printf("expires   %s%s\n", iso, cli->now >= b->expires_at ? " (expired)" : "");
	}
	printf("MQTT      event %lld: %s\n", (long long)b->event_id, mqtt_state(b->event_state));
	printf("chats     %lld delivered, %lld failed, %lld pending\n",
	    (long long)b->counts.sent, (long long)b->counts.failed,
	    (long long)b->counts.pending);
	print_failures(cli, b->id, "  failed: ");
	printf("text\n");
	for (const char *p = b->text; *p != '\0'; ) {
		size_t len = strcspn(p, "\n");

		printf("  %.*s\n", (int)len, p);
		p += len + (p[len] == '\n');
	}
}

static void
print_recent(const struct broadcast_info *b, size_t n)
{
	static const char *const headers[] = { "ID", "SENT", "TO", "TEXT", "CHATS", "DELIVERED",
		"FAILED", "PENDING", "MQTT" };
	struct table *t = table_new(9, headers);

	table_limit(t, 2, 16);
	table_limit(t, 3, 30);
	for (size_t i = 0; i < n; i++) {
		char iso[CLOCK_ISO_STRLEN], to[256];
		size_t line = strcspn(b[i].text, "\n");

		clock_format_iso(b[i].created_at, iso);
		cli_join(to, sizeof(to), b[i].units, b[i].nunits);
		table_row(t);
		table_cell(t, "%lld", (long long)b[i].id);
		table_cell(t, "%.5s %.5s", iso + 5, iso + 11);
		table_cell(t, "%s", b[i].nunits > 0 ? to : "all");
		table_cell(t, "%.*s%s", (int)line, b[i].text, b[i].text[line] != '\0' ? " …" : "");
		table_cell(t, "%lld", (long long)b[i].chats);
		table_cell(t, "%lld", (long long)b[i].counts.sent);
		table_cell(t, "%lld", (long long)b[i].counts.failed);
		table_cell(t, "%lld", (long long)b[i].counts.pending);
		table_cell(t, "%s", b[i].event_state == EVENT_DELIVERED ? "published" :
		    b[i].event_state == EVENT_PENDING ? "pending" : "failed");
	}
	table_print(t, stdout);
	table_free(t);
}

static int
status(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	bool json = false;
	const char *id_arg = NULL;
	int64_t id;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (id_arg == NULL && argv[i][0] != '-')
			id_arg = argv[i];
		else
			return cli_usage_error(cmd, "broadcast status: unexpected \"%s\"", argv[i]);
	}
	if (id_arg != NULL && num_parse_i64(id_arg, 1, INT64_MAX, &id) < 0)
		return cli_usage_error(cmd, "broadcast status: \"%s\" is not a broadcast id",
		    id_arg);
	if (cli_open_store(cli) != 0)
		return CLI_FAILED;
	if (id_arg != NULL) {
		struct broadcast_info b;
		int found = broadcast_get(cli->store, id, &b);

		if (found < 0)
			return cli_fail("cannot read broadcast %lld: %s", (long long)id,
			    store_errmsg(cli->store));
		if (found == 0)
			return cli_fail("no broadcast %lld (campaignctl broadcast status lists them)",
			    (long long)id);
		if (json)
			cli_print_json(info_json(cli, &b, true));
		else
			print_one(cli, &b);
		broadcast_info_clear(&b);
		return CLI_OK;
	}
	{
		struct broadcast_info *list;
		size_t n;

		if (broadcast_recent(cli->store, RECENT_MAX, &list, &n) < 0)
			return cli_fail("cannot read broadcasts: %s", store_errmsg(cli->store));
		if (json) {
			json_t *arr = json_array();

			for (size_t i = 0; i < n; i++)
				json_array_append_new(arr, info_json(cli, &list[i], false));
			cli_print_json(arr);
		} else if (n == 0) {
			printf("no broadcasts yet (campaignctl broadcast TEXT sends one)\n");
		} else {
			print_recent(list, n);
		}
		broadcasts_free(list, n);
	}
	return CLI_OK;
}

int
cmd_broadcast(struct cli *cli, int argc, char **argv)
{
	const struct cli_command *cmd = cli_command_get("broadcast");

	if (argc >= 2 && strcmp(argv[1], "status") == 0)
		return status(cli, cmd, argc - 1, argv + 1);
	return create(cli, cmd, argc, argv);
}
