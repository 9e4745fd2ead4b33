/* Channels: group robots as send-only chats (table channels; see channels.h). */
#include "campaign/channels.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "campaign/outbox.h"
#include "campaign/xmalloc.h"

static const char *const kind_names[] = { "dingtalk-robot", "wecom-robot", "feishu-bot" };

/* The path every webhook of a kind has (after the host). */
static const char *const kind_paths[] = {
	"/robot/send?access_token=", "/cgi-bin/webhook/send?key=", "/open-apis/bot/v2/hook/",
};

static const struct {
	const char *name;
	unsigned bit;
} send_names[] = {
	{ "broadcasts", CHANNEL_BROADCASTS },
	{ "reminders", CHANNEL_REMINDERS },
	{ "digest", CHANNEL_DIGEST },
};

const char *
channels_kind_name(enum channel_kind kind)
{
	return kind_names[kind];
}

int
channels_kind_parse(const char *name, enum channel_kind *kind)
{
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
		if (strcmp(name, kind_names[i]) == 0) {
			*kind = (enum channel_kind)i;
			return 0;
		}
	}
	return -1;
}

int
channels_sends_parse(const char *list, unsigned *sends, char *err, size_t errlen)
{
	const char *p = list;

	*sends = 0;
	while (*p != '\0') {
		size_t len = strcspn(p, ","), i;

		for (i = 0; i < sizeof(send_names) / sizeof(send_names[0]); i++)
			if (strlen(send_names[i].name) == len &&
			    strncmp(p, send_names[i].name, len) == 0)
				break;
		if (i == sizeof(send_names) / sizeof(send_names[0])) {
			snprintf(err, errlen, "--send: \"%.*s\" is not one of broadcasts, reminders, "
			    "digest", (int)(len > 40 ? 40 : len), p);
			return -1;
		}
		*sends |= send_names[i].bit;
		p += len;
		if (*p == ',')
			p++;
	}
	if (*sends == 0) {
		snprintf(err, errlen, "--send: name at least one of broadcasts, reminders, digest");
		return -1;
	}
	return 0;
}

void
channels_sends_format(unsigned sends, char *out, size_t outlen)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(send_names) / sizeof(send_names[0]); i++) {
		if ((sends & send_names[i].bit) == 0)
			continue;
		used += (size_t)snprintf(out + used, used < outlen ? outlen - used : 0, "%s%s",
		    used > 0 ? "," : "", send_names[i].name);
	}
	if (used == 0)
		snprintf(out, outlen, "nothing");
}

bool
channels_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > CHANNEL_NAME_MAX)
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
		if (*p < 0x80 && !(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '-' && *p != '_' && *p != '.')
			return false;
	return true;
}

/* The host part of url (after the scheme) into out; false if there is none. */
static bool
url_host(const char *url, char *out, size_t outlen)
{
	const char *p = strstr(url, "://"), *end;

	if (p == NULL)
		return false;
	p += 3;
	end = p + strcspn(p, "/?#");
	if (end == p || (size_t)(end - p) >= outlen)
		return false;
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
	return true;
}

int
channels_url_check(enum channel_kind kind, const char *url, char *err, size_t errlen)
{
	char host[256];
	const char *path;
	bool local;

	if (!url_host(url, host, sizeof(host))) {
		snprintf(err, errlen, "the URL file holds no URL (https://...)");
		return -1;
	}
	for (const char *p = url; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			snprintf(err, errlen, "the URL has a space or a control character");
			return -1;
		}
	}
	local = (strncmp(host, "127.0.0.1", 9) == 0 && (host[9] == '\0' || host[9] == ':')) ||
	    (strncmp(host, "localhost", 9) == 0 && (host[9] == '\0' || host[9] == ':'));
	if (strncasecmp(url, "https://", 8) != 0 && !(local && strncasecmp(url, "http://", 7) ==
	    0)) {
		snprintf(err, errlen, "the URL must start with https://");
		return -1;
	}
	path = url + (strstr(url, "://") - url) + 3 + strlen(host);
	if (strncmp(path, kind_paths[kind], strlen(kind_paths[kind])) != 0 ||
	    path[strlen(kind_paths[kind])] == '\0') {
		snprintf(err, errlen, "this is not a %s webhook URL (expected https://HOST%s...)",
		    kind_names[kind], kind_paths[kind]);
		return -1;
	}
	return 0;
}

void
channels_url_hint(const char *url, char *out, size_t outlen)
{
	char host[256];
	size_t len = strlen(url);

	if (!url_host(url, host, sizeof(host)))
		snprintf(host, sizeof(host), "?");
	snprintf(out, outlen, "%s…%s", host, len > 4 ? url + len - 4 : "");
}

static char *
units_json(char *const *units, size_t n)
{
	json_t *arr;
	char *text;

	if (n == 0)
		return NULL;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(units[i]));
	text = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return text;
}

static void
units_read(const char *text, struct channel *c)
{
	json_t *arr = text != NULL ? json_loads(text, 0, NULL) : NULL;
	size_t i;
	json_t *v;

	if (json_is_array(arr) && json_array_size(arr) > 0) {
		c->units = xcalloc(json_array_size(arr), sizeof(*c->units));
		json_array_foreach(arr, i, v)
			if (json_is_string(v))
				c->units[c->nunits++] = xstrdup(json_string_value(v));
	}
	json_decref(arr);
}

int
channels_add(struct store *s, const struct channel *c, time_t now, char *err,
    size_t errlen)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT INTO channels(name, kind, url, secret, units, "
	    "sends, created_at, updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)");
	struct channel old;
	char *units;
	int rc;

	if (st == NULL) {
		snprintf(err, errlen, "%s", store_errmsg(s));
		return -1;
	}
	if (channels_get(s, c->name, &old) == 1) {
		channel_clear(&old);
		snprintf(err, errlen, "a channel named \"%s\" exists (channel remove it first)",
		    c->name);
		return -1;
	}
	units = units_json(c->units, c->nunits);
	sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind_names[c->kind], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->url, -1, SQLITE_STATIC);
	store_bind_text(st, 4, c->secret);
	store_bind_text(st, 5, units);
	sqlite3_bind_int(st, 6, (int)c->sends);
	sqlite3_bind_int64(st, 7, (int64_t)now);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	free(units);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "cannot add the channel: %s", store_errmsg(s));
		return -1;
	}
	return 0;
}

static bool
changes_credentials(const struct channel_change *ch)
{
	return ch->url != NULL || ch->secret != NULL || ch->drop_secret;
}

int
channels_update(struct store *s, const char *name, const struct channel_change *ch,
    time_t now)
{
	sqlite3_stmt *st = store_stmt(s, "UPDATE channels SET url = coalesce(?2, url), "
	    "secret = CASE WHEN ?3 IS NOT NULL THEN ?3 WHEN ?4 THEN NULL ELSE secret END, "
	    "units = CASE WHEN ?5 THEN ?6 ELSE units END, "
	    "sends = CASE WHEN ?7 > 0 THEN ?7 ELSE sends END, "
	    "failing = CASE WHEN ?8 THEN 0 ELSE failing END, "
	    "error_code = CASE WHEN ?8 THEN NULL ELSE error_code END, "
	    "error = CASE WHEN ?8 THEN NULL ELSE error END, "
	    "updated_at = ?9 WHERE name = ?1");
	char *units = ch->set_units ? units_json(ch->units, ch->nunits) : NULL;
	int rc;

	if (st == NULL) {
		free(units);
		return -1;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	store_bind_text(st, 2, ch->url);
	store_bind_text(st, 3, ch->secret);
	sqlite3_bind_int(st, 4, ch->drop_secret);
	sqlite3_bind_int(st, 5, ch->set_units);
	store_bind_text(st, 6, units);  /* NULL: every unit, as channels_add stores it */
	sqlite3_bind_int(st, 7, (int)ch->sends);
	sqlite3_bind_int(st, 8, changes_credentials(ch));
	sqlite3_bind_int64(st, 9, (int64_t)now);
	rc = store_step_done(s, st, "update channel");
	sqlite3_clear_bindings(st);     /* no pointer to the secret outlives the call */
	free(units);
	if (rc < 0)
		return -1;
	return sqlite3_changes(store_db(s)) > 0;
}

int
channels_remove(struct store *s, const char *name, time_t now)
{
	sqlite3_stmt *st;
	int changed;

	if (store_begin(s) < 0)
		return -1;
	if (outbox_fail_chat(s, CHANNEL_PLATFORM, name, "channel removed", now) < 0 ||
	    (st = store_stmt(s, "DELETE FROM channels WHERE name = ?1")) == NULL)
		goto fail;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (store_step_done(s, st, "remove channel") < 0)
		goto fail;
	changed = sqlite3_changes(store_db(s));
	if (store_commit(s) < 0)
		return -1;
	return changed > 0;
fail:
	store_rollback(s);
	return -1;
}

#define COLUMNS "name, kind, url, secret, units, sends, failing, error_code, error, " \
	"created_at, updated_at"

static void
read_row(sqlite3_stmt *st, struct channel *c)
{
	const char *kind = (const char *)sqlite3_column_text(st, 1);

	memset(c, 0, sizeof(*c));
	c->name = store_column_text(st, 0);
	if (kind == NULL || channels_kind_parse(kind, &c->kind) < 0)
		c->kind = CHANNEL_DINGTALK;     /* the CHECK constraint rules this out */
	c->url = store_column_text(st, 2);
	c->secret = store_column_text(st, 3);
	units_read((const char *)sqlite3_column_text(st, 4), c);
	c->sends = (unsigned)sqlite3_column_int(st, 5);
	c->failing = sqlite3_column_int(st, 6) != 0;
	c->error_code = sqlite3_column_int64(st, 7);
	c->error = store_column_text(st, 8);
	c->created_at = (time_t)sqlite3_column_int64(st, 9);
	c->updated_at = (time_t)sqlite3_column_int64(st, 10);
	if (c->url == NULL)
		c->url = xstrdup("");
}

int
channels_get(struct store *s, const char *name, struct channel *out)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT " COLUMNS " FROM channels WHERE name = ?1");
	int rc;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_row(st, out);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_log_error(s, "read channel");
		return -1;
	}
	return rc == SQLITE_ROW;
}

int
channels_list(struct store *s, struct channel **out, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT " COLUMNS " FROM channels ORDER BY name");
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		read_row(st, &(*out)[(*n)++]);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(s, "list channels");
		channels_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int
channels_set_failing(struct store *s, const char *name, int64_t code, const char *msg,
    time_t now)
{
	sqlite3_stmt *st = store_stmt(s, "UPDATE channels SET failing = ?2, error_code = ?3, "
	    "error = ?4, updated_at = ?5 WHERE name = ?1");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, msg != NULL);
	if (msg != NULL) {
		sqlite3_bind_int64(st, 3, code);
		sqlite3_bind_text(st, 4, msg, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 5, (int64_t)now);
	return store_step_done(s, st, "set channel state");
}

bool
channels_has_unit(const struct channel *c, const char *unit)
{
	if (c->nunits == 0)
		return true;
	for (size_t i = 0; i < c->nunits; i++)
		if (strcmp(c->units[i], unit) == 0)
			return true;
	return false;
}

int
channels_wanting(struct store *s, unsigned what, char *const *units, size_t nunits,
    char ***names, size_t *n)
{
	struct channel *all;
	size_t nall;

	*names = NULL;
	*n = 0;
	if (channels_list(s, &all, &nall) < 0)
		return -1;
	for (size_t i = 0; i < nall; i++) {
		bool match = nunits == 0 || all[i].nunits == 0;

		if (all[i].failing || (all[i].sends & what) == 0)
			continue;
		for (size_t u = 0; u < nunits && !match; u++)
			match = channels_has_unit(&all[i], units[u]);
		if (!match)
			continue;
		*names = xreallocarray(*names, *n + 1, sizeof(**names));
		(*names)[(*n)++] = xstrdup(all[i].name);
	}
	channels_free(all, nall);
	return 0;
}

static void
wipe_free(char *secret)
{
	if (secret == NULL)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

void
channel_clear(struct channel *c)
{
	free(c->name);
	wipe_free(c->url);
	wipe_free(c->secret);
	for (size_t i = 0; i < c->nunits; i++)
		free(c->units[i]);
	free(c->units);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

void
channels_free(struct channel *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		channel_clear(&c[i]);
	free(c);
}

void
channels_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
