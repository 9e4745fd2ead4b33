/*
 * INI configuration (docs/REFERENCE.md, Configuration). inih does the lexing; this module knows
 * the keys, their defaults and their checks. Unknown keys are errors, so a
 * typo never silently falls back to a default.
 */
#include "campaign/cfg.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "campaign/caldate.h"
#include "campaign/num.h"
#include "campaign/secretfile.h"
#include "campaign/topic.h"
#include "campaign/users.h"
#include "campaign/xmalloc.h"

struct parse_ctx {
	struct cfg *cfg;
	FILE *fp;
	int line;
	bool midline;           /* the last read stopped inside a line */
	bool continued;         /* the line read is indented: inih continues the last key */
	char **keys;            /* "section.key" seen so far: a second one is refused */
	size_t nkeys;
	char *err;
	size_t errlen;
	bool failed;
};

static void
set_str(char **slot, const char *value)
{
	free(*slot);
	*slot = *value == '\0' ? NULL : xstrdup(value);
}

static int
parse_hhmm(const char *s, int *minutes)
{
	int h, m;

	if (strlen(s) != 5 || s[2] != ':' || !isdigit((unsigned char)s[0]) ||
	    !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[3]) ||
	    !isdigit((unsigned char)s[4]))
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 23 || m > 59)
		return -1;
	*minutes = h * 60 + m;
	return 0;
}

/* Splits a comma-separated list into trimmed, non-empty items. */
static char **
split_list(const char *value, size_t *n)
{
	char **items = NULL;
	const char *p = value;

	*n = 0;
	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		const char *s = p;

		while (len > 0 && isspace((unsigned char)*s))
			s++, len--;
		while (len > 0 && isspace((unsigned char)s[len - 1]))
			len--;
		if (len > 0) {
			items = xreallocarray(items, *n + 1, sizeof(*items));
			items[(*n)++] = xstrndup(s, len);
		}
		p = end != NULL ? end + 1 : p + strlen(p);
	}
	return items;
}

static void
free_list(char **items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

static int
cmp_int_desc(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x < y) - (x > y);
}

static int
parse_days_before(struct cfg *cfg, const char *value)
{
	size_t n;
	char **items = split_list(value, &n);
	int *days = xcalloc(n, sizeof(*days));

	for (size_t i = 0; i < n; i++) {
		if (num_parse_int(items[i], 0, 366, &days[i]) < 0) {
			free(days);
			free_list(items, n);
			return -1;
		}
	}
	qsort(days, n, sizeof(*days), cmp_int_desc);
	free(cfg->reminders.days_before);
	cfg->reminders.days_before = days;
	cfg->reminders.ndays_before = n;
	free_list(items, n);
	return 0;
}

static int
parse_dates(const char *value, int32_t **out, size_t *nout)
{
	size_t n;
	char **items = split_list(value, &n);
	int32_t *days = xcalloc(n, sizeof(*days));

	for (size_t i = 0; i < n; i++) {
		if (caldate_parse(items[i], &days[i]) < 0) {
			free(days);
			free_list(items, n);
			return -1;
		}
	}
	free(*out);
	*out = days;
	*nout = n;
	free_list(items, n);
	return 0;
}

static int
parse_quiet(struct cfg *cfg, const char *value)
{
	char a[6], b[6];

	if (*value == '\0') {
		cfg->reminders.quiet_start = cfg->reminders.quiet_end = -1;
		return 0;
	}
	if (strlen(value) != 11 || value[5] != '-')
		return -1;
	memcpy(a, value, 5);
	a[5] = '\0';
	memcpy(b, value + 6, 5);
	b[5] = '\0';
	if (parse_hhmm(a, &cfg->reminders.quiet_start) < 0 ||
	    parse_hhmm(b, &cfg->reminders.quiet_end) < 0)
		return -1;
	return 0;
}

static const char *
apply_store(struct cfg *cfg, const char *name, const char *value)
{
	if (strcmp(name, "db") == 0)
		set_str(&cfg->store.db, value);
	else
		return "unknown key";
	return NULL;
}

/* An http(s) base URL, stored without trailing slashes. */
static const char *
set_base_url(char **slot, const char *key, const char *value)
{
	static char why[96];
	size_t len;

	if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0) {
		snprintf(why, sizeof(why), "%s must start with http:// or https://", key);
		return why;
	}
	set_str(slot, value);
	len = strlen(*slot);
	while (len > 0 && (*slot)[len - 1] == '/')
		(*slot)[--len] = '\0';
	return NULL;
}

static const char *
set_drivers(struct cfg *cfg, const char *value)
{
	static const char *const known[] = { "console", "telegram", "dingtalk", "wecom" };
	size_t n;
	char **items = split_list(value, &n);

	for (size_t i = 0; i < n; i++) {
		bool ok = false;

		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			ok = ok || strcmp(items[i], known[k]) == 0;
		for (size_t j = 0; j < i; j++)
			if (strcmp(items[i], items[j]) == 0)
				ok = false;
		if (!ok) {
			free_list(items, n);
			return "drivers must list console, telegram, dingtalk or wecom, each once";
		}
	}
	if (n == 0) {
		free_list(items, n);
		return "drivers must name at least one driver";
	}
	free_list(cfg->chat.drivers, cfg->chat.ndrivers);
	cfg->chat.drivers = items;
	cfg->chat.ndrivers = n;
	return NULL;
}

static const char *
set_admins(struct cfg *cfg, const char *value)
{
	static char why[320];
	size_t n;
	char **items = split_list(value, &n);

	for (size_t i = 0; i < n; i++) {
		char platform[USERS_PLATFORM_MAX], msg[256];
		const char *id;

		if (users_ref_split(items[i], platform, &id, msg, sizeof(msg)) < 0) {
			snprintf(why, sizeof(why), "%s", msg);
			free_list(items, n);
			return why;
		}
	}
	free_list(cfg->chat.admins, cfg->chat.nadmins);
	cfg->chat.admins = items;
	cfg->chat.nadmins = n;
	return NULL;
}

static const char *
apply_chat(struct cfg *cfg, const char *name, const char *value)
{
	if (strcmp(name, "drivers") == 0) {
		return set_drivers(cfg, value);
	} else if (strcmp(name, "admins") == 0) {
		return set_admins(cfg, value);
	} else if (strcmp(name, "rate_global") == 0) {
		if (num_parse_int(value, 1, 1000, &cfg->chat.rate_global) < 0)
			return "rate_global must be 1..1000 messages per second";
	} else if (strcmp(name, "rate_group_per_min") == 0) {
		if (num_parse_int(value, 1, 600, &cfg->chat.rate_group_per_min) < 0)
			return "rate_group_per_min must be 1..600";
	} else if (strcmp(name, "driver") == 0) {
		return "driver is gone: write drivers = telegram (or a list: telegram, dingtalk)";
	} else if (strcmp(name, "api_url") == 0 || strcmp(name, "token_file") == 0 ||
	    strcmp(name, "poll_timeout") == 0) {
		return "Telegram's keys moved: write this key under [telegram]";
	} else {
		return "unknown key";
	}
	return NULL;
}

static const char *
apply_telegram(struct cfg *cfg, const char *name, const char *value)
{
	if (strcmp(name, "api_url") == 0)
		return set_base_url(&cfg->telegram.api_url, "api_url", value);
	if (strcmp(name, "token_file") == 0)
		set_str(&cfg->telegram.token_file, value);
	else if (strcmp(name, "poll_timeout") == 0) {
		if (num_parse_int(value, 1, 50, &cfg->telegram.poll_timeout) < 0)
			return "poll_timeout must be 1..50 seconds";
	} else
		return "unknown key";
	return NULL;
}

static const char *
apply_dingtalk(struct cfg *cfg, const char *name, const char *value)
{
	if (strcmp(name, "api_url") == 0)
		return set_base_url(&cfg->dingtalk.api_url, "api_url", value);
	if (strcmp(name, "client_id") == 0) {
		if (!users_id_ok(value))
			return "client_id must be the app's AppKey (no spaces)";
		set_str(&cfg->dingtalk.client_id, value);
	} else if (strcmp(name, "client_secret_file") == 0) {
		set_str(&cfg->dingtalk.client_secret_file, value);
	} else if (strcmp(name, "robot_code") == 0) {
		if (*value != '\0' && !users_id_ok(value))
			return "robot_code must be the robot's code (no spaces)";
		set_str(&cfg->dingtalk.robot_code, value);
	} else {
		return "unknown key";
	}
	return NULL;
}

static const char *
apply_wecom(struct cfg *cfg, const char *name, const char *value)
{
	if (strcmp(name, "bot_id") == 0) {
		if (!users_id_ok(value))
			return "bot_id must be the robot's Bot ID (no spaces)";
		set_str(&cfg->wecom.bot_id, value);
	} else if (strcmp(name, "secret_file") == 0) {
		set_str(&cfg->wecom.secret_file, value);
	} else if (strcmp(name, "ws_url") == 0) {
		if (strncmp(value, "wss://", 6) != 0 && strncmp(value, "ws://", 5) != 0)
			return "ws_url must start with wss:// or ws://";
		set_str(&cfg->wecom.ws_url, value);
	} else {
		return "unknown key";
	}
	return NULL;
}

static const char *
apply_mqtt(struct cfg *cfg, const char *name, const char *value)
{
	if (strcmp(name, "host") == 0) {
		set_str(&cfg->mqtt.host, value);
	} else if (strcmp(name, "port") == 0) {
		if (num_parse_int(value, 1, 65535, &cfg->mqtt.port) < 0)
			return "port must be 1..65535";
	} else if (strcmp(name, "socket") == 0) {
		set_str(&cfg->mqtt.socket, value);
	} else if (strcmp(name, "client_id") == 0) {
		if (strlen(value) > 64)
			return "client_id is longer than 64 bytes";
		set_str(&cfg->mqtt.client_id, value);
	} else if (strcmp(name, "username") == 0) {
		set_str(&cfg->mqtt.username, value);
	} else if (strcmp(name, "password_file") == 0) {
		set_str(&cfg->mqtt.password_file, value);
	} else if (strcmp(name, "tls_ca") == 0) {
		set_str(&cfg->mqtt.tls_ca, value);
	} else if (strcmp(name, "tls_cert") == 0) {
		set_str(&cfg->mqtt.tls_cert, value);
	} else if (strcmp(name, "tls_key") == 0) {
		set_str(&cfg->mqtt.tls_key, value);
	} else if (strcmp(name, "topic_prefix") == 0) {
		const char *why = NULL;

		if (*value != '\0' && !topic_prefix_ok(value, &why))
			return why;
		set_str(&cfg->mqtt.topic_prefix, value);
	} else if (strcmp(name, "qos") == 0) {
		if (num_parse_int(value, 0, 2, &cfg->mqtt.qos) < 0)
			return "qos must be 0, 1 or 2";
	} else if (strcmp(name, "protocol") == 0) {
		if (strcmp(value, "5") == 0 || strcmp(value, "mqttv5") == 0)
			cfg->mqtt.protocol = CFG_MQTT_V5;
		else if (strcmp(value, "3.1.1") == 0 || strcmp(value, "mqttv311") == 0)
			cfg->mqtt.protocol = CFG_MQTT_V311;
		else
			return "protocol must be 5 or 3.1.1";
	} else if (strcmp(name, "keepalive") == 0) {
		if (num_parse_int(value, 5, 3600, &cfg->mqtt.keepalive) < 0)
			return "keepalive must be 5..3600 seconds";
	} else {
		return "unknown key";
	}
	return NULL;
}

/* [feed]: the bridge's Atom feed of announcements and completed tasks (off without path). */
static const char *
apply_feed(struct cfg *cfg, const char *name, const char *value)
{
	if (strcmp(name, "path") == 0) {
		set_str(&cfg->feed.path, value);
	} else if (strcmp(name, "entries") == 0) {
		if (num_parse_int(value, 1, 1000, &cfg->feed.entries) < 0)
			return "entries must be 1..1000";
	} else if (strcmp(name, "board_url") == 0) {
		if (*value != '\0' && strncmp(value, "http://", 7) != 0 &&
		    strncmp(value, "https://", 8) != 0)
			return "board_url must be an http:// or https:// URL";
		set_str(&cfg->feed.board_url, value);
	} else {
		return "unknown key";
	}
	return NULL;
}

static const char *
apply_reminders(struct cfg *cfg, const char *name, const char *value)
{
	if (strcmp(name, "at") == 0) {
		if (parse_hhmm(value, &cfg->reminders.at) < 0)
			return "at must be HH:MM";
	} else if (strcmp(name, "days_before") == 0) {
		if (parse_days_before(cfg, value) < 0)
			return "days_before must be a list of day counts, e.g. 7,3,1,0";
	} else if (strcmp(name, "escalate_after") == 0) {
		if (num_parse_int(value, 0, 365, &cfg->reminders.escalate_after) < 0)
			return "escalate_after must be 0..365 days";
	} else if (strcmp(name, "quiet_hours") == 0) {
		if (parse_quiet(cfg, value) < 0)
			return "quiet_hours must be HH:MM-HH:MM";
	} else if (strcmp(name, "holidays") == 0) {
		if (parse_dates(value, &cfg->reminders.holidays, &cfg->reminders.nholidays) < 0)
			return "holidays must be a list of YYYY-MM-DD dates";
	} else if (strcmp(name, "workdays") == 0) {
		if (parse_dates(value, &cfg->reminders.workdays, &cfg->reminders.nworkdays) < 0)
			return "workdays must be a list of YYYY-MM-DD dates";
	} else {
		return "unknown key";
	}
	return NULL;
}

/* [mail]: the office mailbox (issue 15). */
static const char *
apply_mail(struct cfg *cfg, const char *name, const char *value)
{
	int mb;

	if (strcmp(name, "imap_url") == 0) {
		if (*value != '\0' && strncmp(value, "imap://", 7) != 0 &&
		    strncmp(value, "imaps://", 8) != 0)
			return "must start with imaps:// or imap://";
		set_str(&cfg->mail.imap_url, value);
	} else if (strcmp(name, "username") == 0) {
		set_str(&cfg->mail.username, value);
	} else if (strcmp(name, "password_file") == 0) {
		set_str(&cfg->mail.password_file, value);
	} else if (strcmp(name, "poll_interval") == 0) {
		if (num_parse_int(value, 1, 86400, &cfg->mail.poll_interval) < 0)
			return "must be 1..86400 seconds";
	} else if (strcmp(name, "smtp_url") == 0) {
		if (*value != '\0' && strncmp(value, "smtp://", 7) != 0 &&
		    strncmp(value, "smtps://", 8) != 0)
			return "must start with smtps:// or smtp://";
		set_str(&cfg->mail.smtp_url, value);
	} else if (strcmp(name, "from") == 0) {
		set_str(&cfg->mail.from, value);
	} else if (strcmp(name, "max_size_mb") == 0) {
		if (num_parse_int(value, 1, 1024, &mb) < 0)
			return "must be 1..1024 (MB)";
		cfg->mail.max_size = (int64_t)mb * 1024 * 1024;
	} else if (strcmp(name, "imap_id") == 0) {
		if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0)
			cfg->mail.imap_id = 1;
		else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0)
			cfg->mail.imap_id = 0;
		else if (strcmp(value, "auto") == 0)
			cfg->mail.imap_id = -1;
		else
			return "must be yes, no or auto";
	} else if (strcmp(name, "types") == 0) {
		free_list(cfg->mail.types, cfg->mail.ntypes);
		cfg->mail.types = split_list(value, &cfg->mail.ntypes);
	} else {
		return "unknown key";
	}
	return NULL;
}

/* "monday 09:00", "周一 09:00", "daily 09:00" */
static int
parse_every(struct cfg *cfg, const char *value)
{
	static const char *const days[][3] = {
		{ "daily", "每天", "everyday" }, { "monday", "周一", "mon" },
		{ "tuesday", "周二", "tue" }, { "wednesday", "周三", "wed" },
		{ "thursday", "周四", "thu" }, { "friday", "周五", "fri" },
		{ "saturday", "周六", "sat" }, { "sunday", "周日", "sun" },
	};
	const char *sp = strrchr(value, ' ');
	size_t len;

	if (*value == '\0') {
		cfg->bulletin.weekday = -1;
		return 0;
	}
	if (sp == NULL || parse_hhmm(sp + 1, &cfg->bulletin.at) < 0)
		return -1;
	len = (size_t)(sp - value);
	for (int d = 0; d < 8; d++)
		for (int k = 0; k < 3; k++)
			if (strlen(days[d][k]) == len && strncasecmp(value, days[d][k], len) == 0) {
				cfg->bulletin.weekday = d;
				return 0;
			}
	return -1;
}

/* [bulletin]: the scheduled bulletin (issue 15). */
static const char *
apply_bulletin(struct cfg *cfg, const char *name, const char *value)
{
	if (strcmp(name, "every") == 0) {
		if (parse_every(cfg, value) < 0)
			return "must read like \"monday 09:00\" (or daily, 周一 ... 周日)";
	} else if (strcmp(name, "mail_to") == 0) {
		free_list(cfg->bulletin.mail_to, cfg->bulletin.nmail_to);
		cfg->bulletin.mail_to = split_list(value, &cfg->bulletin.nmail_to);
	} else {
		return "unknown key";
	}
	return NULL;
}

static bool
seen_before(struct parse_ctx *ctx, const char *section, const char *name)
{
	char *key = xasprintf("%s.%s", section, name);

	for (size_t i = 0; i < ctx->nkeys; i++) {
		if (strcmp(ctx->keys[i], key) == 0) {
			free(key);
			return true;
		}
	}
	ctx->keys = xreallocarray(ctx->keys, ctx->nkeys + 1, sizeof(*ctx->keys));
	ctx->keys[ctx->nkeys++] = key;
	return false;
}

static int
on_entry(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *ctx = user;
	struct cfg *cfg = ctx->cfg;
	const char *problem;

	if (ctx->failed)
		return 0;
	if (!ctx->continued && seen_before(ctx, section, name)) {
		snprintf(ctx->err, ctx->errlen, "%s:%d: [%s] %s: given twice; keep one (the "
		    "second would silently win)", cfg->path, ctx->line, section, name);
		ctx->failed = true;
		return 0;
	}
	if (strcmp(section, "store") == 0)
		problem = apply_store(cfg, name, value);
	else if (strcmp(section, "chat") == 0)
		problem = apply_chat(cfg, name, value);
	else if (strcmp(section, "telegram") == 0)
		problem = apply_telegram(cfg, name, value);
	else if (strcmp(section, "dingtalk") == 0)
		problem = apply_dingtalk(cfg, name, value);
	else if (strcmp(section, "wecom") == 0)
		problem = apply_wecom(cfg, name, value);
	else if (strcmp(section, "mqtt") == 0)
		problem = apply_mqtt(cfg, name, value);
	else if (strcmp(section, "reminders") == 0)
		problem = apply_reminders(cfg, name, value);
	else if (strcmp(section, "feed") == 0)
		problem = apply_feed(cfg, name, value);
	else if (strcmp(section, "mail") == 0)
		problem = apply_mail(cfg, name, value);
	else if (strcmp(section, "bulletin") == 0)
		problem = apply_bulletin(cfg, name, value);
	else if (strcmp(section, "log") == 0 && strcmp(name, "level") == 0)
		problem = log_level_parse(value, &cfg->log_level) < 0 ?
		    "level must be error, warn, info or debug" : NULL;
	else if (strcmp(section, "log") == 0)
		problem = "unknown key";
	else
		problem = "unknown section";
	if (problem != NULL) {
		snprintf(ctx->err, ctx->errlen, "%s:%d: [%s] %s: %s", cfg->path,
		    ctx->line, section, name, problem);
		ctx->failed = true;
		return 0;
	}
	return 1;
}

/*
 * inih calls the reader once per line of at most num - 1 bytes. A longer
 * line would be read in pieces, each parsed as a line of its own (the tail
 * of a comment as a key): it is refused, at its own line number.
 */
static char *
read_line(char *str, int num, void *stream)
{
	struct parse_ctx *ctx = stream;
	char *line = fgets(str, num, ctx->fp);
	size_t len;

	if (line == NULL || ctx->failed)
		return NULL;
	len = strlen(line);
	if (!ctx->midline)
		ctx->line++;
	ctx->continued = line[0] == ' ' || line[0] == '\t';
	ctx->midline = len > 0 && line[len - 1] != '\n' && !feof(ctx->fp);
	if (ctx->midline) {
		snprintf(ctx->err, ctx->errlen, "%s:%d: line longer than %d bytes; shorten it "
		    "(a comment too)", ctx->cfg->path, ctx->line, num - 2);
		ctx->failed = true;
		return NULL;
	}
	return line;
}

static struct cfg *
cfg_defaults(void)
{
	struct cfg *cfg = xcalloc(1, sizeof(*cfg));

	cfg->log_level = LOG_LEVEL_INFO;
	set_drivers(cfg, "console");
	cfg->telegram.api_url = xstrdup("https://api.telegram.org");
	cfg->telegram.poll_timeout = 30;
	cfg->dingtalk.api_url = xstrdup("https://api.dingtalk.com");
	cfg->wecom.ws_url = xstrdup("wss://openws.work.weixin.qq.com");
	cfg->chat.rate_global = 30;
	cfg->chat.rate_group_per_min = 20;
	cfg->mqtt.host = xstrdup("127.0.0.1");
	cfg->mqtt.port = 1883;
	cfg->mqtt.qos = 1;
	cfg->mqtt.protocol = CFG_MQTT_V5;
	cfg->mqtt.keepalive = 30;
	cfg->feed.entries = 50;
	cfg->reminders.at = 9 * 60;
	parse_days_before(cfg, "7,3,1,0");
	cfg->reminders.escalate_after = 3;
	cfg->reminders.quiet_start = 22 * 60;
	cfg->reminders.quiet_end = 8 * 60;
	cfg->mail.poll_interval = 60;
	cfg->mail.imap_id = -1;
	cfg->bulletin.weekday = -1;
	cfg->mail.max_size = 25 * 1024 * 1024;
	cfg->mail.types = split_list(".docx,.doc,.wps,.pdf,.jpg,.png,.zip", &cfg->mail.ntypes);
	return cfg;
}

struct cfg *
cfg_load(const char *path, char *err, size_t errlen)
{
	struct cfg *cfg = cfg_defaults();
	struct parse_ctx ctx = { .cfg = cfg, .err = err, .errlen = errlen };
	int rc;

	if (path == NULL)
		return cfg;
	cfg->path = xstrdup(path);
	ctx.fp = fopen(path, "r");
	if (ctx.fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	rc = ini_parse_stream(read_line, &ctx, on_entry, &ctx);
	fclose(ctx.fp);
	for (size_t i = 0; i < ctx.nkeys; i++)
		free(ctx.keys[i]);
	free(ctx.keys);
	if (ctx.failed)
		goto fail;
	if (rc != 0) {
		snprintf(err, errlen, "%s:%d: syntax error (expected [section] or key = value)",
		    path, rc);
		goto fail;
	}
	if (cfg_has_driver(cfg, "dingtalk") && cfg->dingtalk.client_id == NULL) {
		snprintf(err, errlen, "%s: [dingtalk] client_id is required by the dingtalk driver "
		    "(the app's AppKey)", path);
		goto fail;
	}
	if (cfg_has_driver(cfg, "wecom") && cfg->wecom.bot_id == NULL) {
		snprintf(err, errlen, "%s: [wecom] bot_id is required by the wecom driver "
		    "(the smart robot's Bot ID)", path);
		goto fail;
	}
	if ((cfg->mqtt.tls_cert == NULL) != (cfg->mqtt.tls_key == NULL)) {
		snprintf(err, errlen, "%s: [mqtt] tls_cert and tls_key go together", path);
		goto fail;
	}
	if (cfg->bulletin.nmail_to > 0 && (cfg->mail.smtp_url == NULL ||
	    cfg->mail.from == NULL || cfg->mail.imap_url == NULL)) {
		snprintf(err, errlen, "%s: [bulletin] mail_to needs [mail] imap_url, smtp_url "
		    "and from", path);
		goto fail;
	}
	if ((cfg->mqtt.tls_cert != NULL) && cfg->mqtt.tls_ca == NULL) {
		snprintf(err, errlen, "%s: [mqtt] a client certificate needs tls_ca", path);
		goto fail;
	}
	return cfg;
fail:
	cfg_free(cfg);
	return NULL;
}

void
cfg_free(struct cfg *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->store.db);
	free_list(cfg->chat.drivers, cfg->chat.ndrivers);
	free_list(cfg->chat.admins, cfg->chat.nadmins);
	free(cfg->telegram.api_url);
	free(cfg->telegram.token_file);
	free(cfg->dingtalk.client_id);
	free(cfg->dingtalk.client_secret_file);
	free(cfg->dingtalk.robot_code);
	free(cfg->dingtalk.api_url);
	free(cfg->wecom.bot_id);
	free(cfg->wecom.secret_file);
	free(cfg->wecom.ws_url);
	free(cfg->mail.imap_url);
	free(cfg->mail.username);
	free(cfg->mail.password_file);
	free(cfg->mail.smtp_url);
	free(cfg->mail.from);
	free_list(cfg->mail.types, cfg->mail.ntypes);
	free_list(cfg->bulletin.mail_to, cfg->bulletin.nmail_to);
	free(cfg->mqtt.host);
	free(cfg->mqtt.socket);
	free(cfg->mqtt.client_id);
	free(cfg->mqtt.username);
	free(cfg->mqtt.password_file);
	free(cfg->mqtt.tls_ca);
	free(cfg->mqtt.tls_cert);
	free(cfg->mqtt.tls_key);
	free(cfg->mqtt.topic_prefix);
	free(cfg->feed.path);
	free(cfg->feed.board_url);
	free(cfg->reminders.days_before);
	free(cfg->reminders.holidays);
	free(cfg->reminders.workdays);
	free(cfg);
}

bool
cfg_is_admin(const struct cfg *cfg, const char *platform, const char *user_id)
{
	size_t plen = strlen(platform);

	for (size_t i = 0; i < cfg->chat.nadmins; i++) {
		const char *ref = cfg->chat.admins[i];

		if (strncmp(ref, platform, plen) == 0 && ref[plen] == ':' &&
		    strcmp(ref + plen + 1, user_id) == 0)
			return true;
	}
	return false;
}

const char *
cfg_db_path(const struct cfg *cfg, const char *option)
{
	const char *env = getenv("CAMPAIGN_DB");

	if (option != NULL && *option != '\0')
		return option;
	if (env != NULL && *env != '\0')
		return env;
	if (cfg != NULL && cfg->store.db != NULL && *cfg->store.db != '\0')
		return cfg->store.db;
	return "./campaign.db";
}

bool
cfg_has_driver(const struct cfg *cfg, const char *driver)
{
	for (size_t i = 0; i < cfg->chat.ndrivers; i++)
		if (strcmp(cfg->chat.drivers[i], driver) == 0)
			return true;
	return false;
}

char *
cfg_read_secret(const char *path, char *err, size_t errlen)
{
	return secretfile_read(path, err, errlen);
}
