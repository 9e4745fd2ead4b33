/*
 * INI configuration (SPEC "Config"). inih does the lexing; this module knows
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
#include <sys/stat.h>

#include "campaign/caldate.h"
#include "campaign/num.h"
#include "campaign/secretfile.h"
#include "campaign/topic.h"
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

static const char *
apply_chat(struct cfg *cfg, const char *name, const char *value)
{
	if (strcmp(name, "driver") == 0) {
		if (strcmp(value, "console") != 0 && strcmp(value, "telegram") != 0)
			return "driver must be console or telegram";
		set_str(&cfg->chat.driver, value);
	} else if (strcmp(name, "api_url") == 0) {
		size_t len = strlen(value);

		if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0)
			return "api_url must start with http:// or https://";
		set_str(&cfg->chat.api_url, value);
		while (len > 0 && cfg->chat.api_url[len - 1] == '/')
			cfg->chat.api_url[--len] = '\0';
	} else if (strcmp(name, "token_file") == 0) {
		set_str(&cfg->chat.token_file, value);
	} else if (strcmp(name, "poll_timeout") == 0) {
		if (num_parse_int(value, 1, 50, &cfg->chat.poll_timeout) < 0)
			return "poll_timeout must be 1..50 seconds";
	} else if (strcmp(name, "admins") == 0) {
		free_list(cfg->chat.admins, cfg->chat.nadmins);
		cfg->chat.admins = split_list(value, &cfg->chat.nadmins);
	} else if (strcmp(name, "rate_global") == 0) {
		if (num_parse_int(value, 1, 1000, &cfg->chat.rate_global) < 0)
			return "rate_global must be 1..1000 messages per second";
	} else if (strcmp(name, "rate_group_per_min") == 0) {
		if (num_parse_int(value, 1, 600, &cfg->chat.rate_group_per_min) < 0)
			return "rate_group_per_min must be 1..600";
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
	else if (strcmp(section, "mqtt") == 0)
		problem = apply_mqtt(cfg, name, value);
	else if (strcmp(section, "reminders") == 0)
		problem = apply_reminders(cfg, name, value);
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
	cfg->chat.driver = xstrdup("console");
	cfg->chat.api_url = xstrdup("https://api.telegram.org");
	cfg->chat.poll_timeout = 30;
	cfg->chat.rate_global = 30;
	cfg->chat.rate_group_per_min = 20;
	cfg->mqtt.host = xstrdup("127.0.0.1");
	cfg->mqtt.port = 1883;
	cfg->mqtt.qos = 1;
	cfg->mqtt.protocol = CFG_MQTT_V5;
	cfg->mqtt.keepalive = 30;
	cfg->reminders.at = 9 * 60;
	parse_days_before(cfg, "7,3,1,0");
	cfg->reminders.escalate_after = 3;
	cfg->reminders.quiet_start = 22 * 60;
	cfg->reminders.quiet_end = 8 * 60;
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
	if ((cfg->mqtt.tls_cert == NULL) != (cfg->mqtt.tls_key == NULL)) {
		snprintf(err, errlen, "%s: [mqtt] tls_cert and tls_key go together", path);
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
	free(cfg->chat.driver);
	free(cfg->chat.api_url);
	free(cfg->chat.token_file);
	free_list(cfg->chat.admins, cfg->chat.nadmins);
	free(cfg->mqtt.host);
	free(cfg->mqtt.socket);
	free(cfg->mqtt.client_id);
	free(cfg->mqtt.username);
	free(cfg->mqtt.password_file);
	free(cfg->mqtt.tls_ca);
	free(cfg->mqtt.tls_cert);
	free(cfg->mqtt.tls_key);
	free(cfg->mqtt.topic_prefix);
	free(cfg->reminders.days_before);
	free(cfg->reminders.holidays);
	free(cfg->reminders.workdays);
	free(cfg);
}

bool
cfg_is_admin(const struct cfg *cfg, const char *user_id)
{
	for (size_t i = 0; i < cfg->chat.nadmins; i++)
		if (strcmp(cfg->chat.admins[i], user_id) == 0)
			return true;
	return false;
}

char *
cfg_read_secret(const char *path, char *err, size_t errlen)
{
	return secretfile_read(path, err, errlen);
}
