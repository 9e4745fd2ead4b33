/*
 * campaignctl doctor [--config FILE]: the checks an admin runs when
 * something is wrong (docs/REFERENCE.md), one line each, "OK" or "FAIL" with
 * what to do: the configuration; the database (there, readable, writable,
 * mode 0600, intact, a plan loaded); the time zone data; free disk space; the
 * broker with the configured credentials and TLS (libmosquitto, as the
 * bridge connects); the chat platform's credentials (Telegram getMe).
 * Exit 1 when any check fails. Secrets are read as the daemons read them and
 * never printed.
 */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <mosquitto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "campaign/buf.h"
#include "campaign/clock.h"
#include "campaign/credentials.h"
#include "campaign/dbadmin.h"
#include "campaign/plandb.h"
#include "campaign/xmalloc.h"
#include "cli.h"

#define DISK_MIN_MB 100
#define CREDSTORE "/etc/credstore"    /* where the units' LoadCredential= finds secrets */
#define PROBE_TIMEOUT_MS 8000
#define REPLY_MAX (64 * 1024)

struct doctor {
	int failed;
};

static void
report(struct doctor *d, bool good, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
report(struct doctor *d, bool good, const char *what, const char *fmt, ...)
{
	va_list ap;

	printf("%-4s %s: ", good ? "OK" : "FAIL", what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!good)
		d->failed++;
}

/* ---- database, time zone, disk ---- */

static struct store *
check_database(struct doctor *d, const char *db)
{
	struct stat st;
	struct store *s;
	char err[1024];
	int schema;

	if (stat(db, &st) < 0) {
		report(d, false, "database", "%s: %s: load a plan (campaignctl plan load FILE) "
		    "or fix [store] db", db, strerror(errno));
		return NULL;
	}
	if (access(db, R_OK | W_OK) < 0) {
		report(d, false, "database", "%s: %s: the daemons' user (campaign) must own it: "
		    "chown campaign: %s", db, strerror(errno), db);
		return NULL;
	}
	if (dbadmin_verify(db, &schema, err, sizeof(err)) < 0) {
		report(d, false, "database", "%s: stop the daemons and restore a backup "
		    "(campaignctl restore FILE)", err);
		return NULL;
	}
	if ((st.st_mode & 077) != 0)
		report(d, false, "database", "%s has mode %04o, others may read it: chmod 600 %s",
		    db, (unsigned)(st.st_mode & 07777), db);
	else
		report(d, true, "database", "%s: intact, schema %d, mode 0600", db, schema);
	s = store_open(db, err, sizeof(err));
	if (s == NULL)
		report(d, false, "database", "%s", err);
	else if (!plandb_present(s))
		report(d, false, "plan", "no plan loaded: campaignctl plan load FILE.json");
	return s;
}

static void
check_zone(struct doctor *d, struct store *s)
{
	char err[512];

	if (s != NULL && plandb_present(s)) {
		if (plandb_use_zone(s, err, sizeof(err)) < 0)
			report(d, false, "time zone", "%s: apt-get install tzdata", err);
		else
			report(d, true, "time zone", "%s", clock_zone());
		return;
	}
	if (clock_set_zone("Asia/Shanghai", err, sizeof(err)) < 0)
		report(d, false, "time zone", "%s: apt-get install tzdata", err);
	else
		report(d, true, "time zone", "tzdata present");
}

static void
check_disk(struct doctor *d, const char *db)
{
	char *dir = xstrdup(db), *slash = strrchr(dir, '/');
	struct statvfs vfs;
	unsigned long long mb;

	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else
		snprintf(dir, strlen(dir) + 1, ".");
	if (statvfs(dir, &vfs) < 0) {
		report(d, false, "disk", "%s: %s", dir, strerror(errno));
	} else {
		mb = (unsigned long long)vfs.f_bavail * vfs.f_frsize / (1024 * 1024);
		if (mb < DISK_MIN_MB)
			report(d, false, "disk", "%llu MiB free on %s: free some space (the "
			    "database and its WAL need room to grow)", mb, dir);
		else
			report(d, true, "disk", "%llu MiB free on %s", mb, dir);
	}
	free(dir);
}

/* ---- the broker ---- */

struct probe {
	bool answered;
	int rc;
};

static void
on_connect(struct mosquitto *m, void *arg, int rc)
{
	struct probe *p = arg;

	(void)m;
	p->answered = true;
	p->rc = rc;
}

static void
check_broker(struct doctor *d, const struct cfg *cfg)
{
	const char *host = cfg->mqtt.socket != NULL ? cfg->mqtt.socket : cfg->mqtt.host;
	int port = cfg->mqtt.socket != NULL ? 0 : cfg->mqtt.port;
	struct probe p = { false, 0 };
	struct mosquitto *m;
	char where[300], err[512];
	char *password = NULL;
	int64_t deadline;
	int rc;

	snprintf(where, sizeof(where), cfg->mqtt.socket != NULL ? "broker %s" : "broker %s:%d",
	    host, port);
	if (cfg->mqtt.username != NULL) {
		password = credentials_secret(cfg->mqtt.password_file, CREDENTIAL_MQTT_PASSWORD,
		    err, sizeof(err));
		if (password == NULL && *err != '\0') {
			report(d, false, where, "%s", err);
			return;
		}
	}
	m = mosquitto_new(NULL, true, &p);
	if (m == NULL) {
		report(d, false, where, "cannot create an MQTT client");
		goto out;
	}
	mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION,
	    cfg->mqtt.protocol == CFG_MQTT_V5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
	mosquitto_connect_callback_set(m, on_connect);
	if (cfg->mqtt.username != NULL)
		mosquitto_username_pw_set(m, cfg->mqtt.username, password);
	if (cfg->mqtt.tls_ca != NULL && (rc = mosquitto_tls_set(m, cfg->mqtt.tls_ca, NULL,
	    cfg->mqtt.tls_cert, cfg->mqtt.tls_key, NULL)) != MOSQ_ERR_SUCCESS) {
		report(d, false, where, "TLS files: %s: check tls_ca, tls_cert, tls_key",
		    mosquitto_strerror(rc));
		goto out;
	}
	rc = mosquitto_connect(m, host, port, cfg->mqtt.keepalive);
	deadline = clock_mono_ms() + PROBE_TIMEOUT_MS;
	while (rc == MOSQ_ERR_SUCCESS && !p.answered && clock_mono_ms() < deadline)
		rc = mosquitto_loop(m, 100, 1);
	if (p.answered && p.rc == 0)
		report(d, true, where, "connected%s%s", cfg->mqtt.username != NULL ? " as " : "",
		    cfg->mqtt.username != NULL ? cfg->mqtt.username : "");
	else if (p.answered)
		report(d, false, where, "refused: %s: check [mqtt] username and password_file "
		    "(or the credential mqtt-password) against the broker's password file",
		    cfg->mqtt.protocol == CFG_MQTT_V5 ? mosquitto_reason_string(p.rc) :
		    mosquitto_connack_string(p.rc));
	else if (rc == MOSQ_ERR_TLS)
		report(d, false, where, "TLS failed: check tls_ca (the broker's CA) and the "
		    "broker's certificate name");
	else if (rc != MOSQ_ERR_SUCCESS)
		report(d, false, where, "%s: is mosquitto running there? (systemctl status "
		    "mosquitto; [mqtt] host, port, socket)", rc == MOSQ_ERR_ERRNO ?
		    strerror(errno) : mosquitto_strerror(rc));
	else
		report(d, false, where, "no answer in %d s: a firewall, or TLS expected "
		    "(tls_ca)?", PROBE_TIMEOUT_MS / 1000);
	mosquitto_disconnect(m);
out:
	mosquitto_destroy(m);
	credentials_free(password);
}

/* ---- Telegram ---- */

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	return buf_append(b, data, size * n) < 0 ? 0 : size * n;
}

/* The token as the bot reads it; NULL with err "" when none is configured. */
static char *
telegram_token(const struct cfg *cfg, const char **source, char *err, size_t errlen)
{
	const char *env = getenv("TELEGRAM_BOT_TOKEN");

	if (env != NULL && *env != '\0') {
		*source = "$TELEGRAM_BOT_TOKEN";
		return xstrdup(env);
	}
	*source = cfg->telegram.token_file != NULL ? cfg->telegram.token_file :
	    "the credential " CREDENTIAL_TELEGRAM_TOKEN;
	return credentials_secret(cfg->telegram.token_file, CREDENTIAL_TELEGRAM_TOKEN, err, errlen);
}

static void
check_telegram(struct doctor *d, const struct cfg *cfg)
{
	const char *source = NULL;
	char err[512], *token, *url = NULL;
	struct buf body;
	CURL *c = NULL;
	CURLcode cc;
	long status = 0;
	json_t *reply = NULL;

	buf_init(&body, REPLY_MAX);
	token = telegram_token(cfg, &source, err, sizeof(err));
	if (token == NULL) {
		if (*err != '\0' || cfg_has_driver(cfg, "telegram"))
			report(d, false, "telegram", "%s", *err != '\0' ? err : "no bot token: set "
			    "[telegram] token_file or the credential " CREDENTIAL_TELEGRAM_TOKEN);
		goto out;
	}
	url = xasprintf("%s/bot%s/getMe", cfg->telegram.api_url, token);
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)PROBE_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (cc == CURLE_OK)
		reply = json_loads(buf_str(&body), 0, NULL);
	if (cc != CURLE_OK)
		report(d, false, "telegram", "cannot reach %s: %s (network, proxy, or [telegram] "
		    "api_url)", cfg->telegram.api_url, curl_easy_strerror(cc));
	else if (status == 401 || status == 404)
		report(d, false, "telegram", "the bot token from %s was refused (%ld): revoked "
		    "or mistyped; get the current one from @BotFather (/token)", source, status);
	else if (!json_is_true(json_object_get(reply, "ok")))
		report(d, false, "telegram", "getMe answered %ld: try again later", status);
	else
		report(d, true, "telegram", "the token from %s signs in as @%s", source,
		    json_string_value(json_object_get(json_object_get(reply, "result"),
		    "username")) != NULL ? json_string_value(json_object_get(
		    json_object_get(reply, "result"), "username")) : "?");
out:
	json_decref(reply);
	curl_easy_cleanup(c);
	if (url != NULL)
		explicit_bzero(url, strlen(url));
	free(url);
	credentials_free(token);
	buf_free(&body);
}

/* DingTalk: the app's AppKey and AppSecret get an access token. */
static void
check_dingtalk(struct doctor *d, const struct cfg *cfg)
{
	const char *env = getenv("DINGTALK_CLIENT_SECRET");
	char err[512] = "", *secret, *url = NULL, *body = NULL;
	struct buf answer;
	struct curl_slist *headers = NULL;
	json_t *req = NULL, *reply = NULL;
	CURL *c = NULL;
	CURLcode cc;
	long status = 0;

	buf_init(&answer, REPLY_MAX);
	secret = env != NULL && *env != '\0' ? xstrdup(env) :
	    credentials_secret(cfg->dingtalk.client_secret_file, CREDENTIAL_DINGTALK_SECRET, err,
	    sizeof(err));
	if (secret == NULL) {
		report(d, false, "dingtalk", "%s", *err != '\0' ? err : "no AppSecret: set "
		    "[dingtalk] client_secret_file or the credential " CREDENTIAL_DINGTALK_SECRET);
		goto out;
	}
	req = json_pack("{s:s, s:s}", "appKey", cfg->dingtalk.client_id, "appSecret", secret);
	body = json_dumps(req, JSON_COMPACT);
	url = xasprintf("%s/v1.0/oauth2/accessToken", cfg->dingtalk.api_url);
	headers = curl_slist_append(NULL, "Content-Type: application/json");
	headers = curl_slist_append(headers, "Accept: application/json");
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)PROBE_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (cc == CURLE_OK)
		reply = json_loads(buf_str(&answer), 0, NULL);
	if (cc != CURLE_OK)
		report(d, false, "dingtalk", "cannot reach %s: %s (network, proxy, or [dingtalk] "
		    "api_url)", cfg->dingtalk.api_url, curl_easy_strerror(cc));
	else if (status == 200 && json_is_string(json_object_get(reply, "accessToken")))
		report(d, true, "dingtalk", "the app %s gets an access token", cfg->dingtalk.client_id);
	else if (status == 400 || status == 401 || status == 403)
		report(d, false, "dingtalk", "the AppKey %s and its AppSecret were refused (%ld %s): "
		    "copy both again from the app's 凭证与基础信息 page", cfg->dingtalk.client_id,
		    status, json_string_value(json_object_get(reply, "code")) != NULL ?
		    json_string_value(json_object_get(reply, "code")) : "");
	else
		report(d, false, "dingtalk", "the token endpoint answered %ld: try again later",
		    status);
out:
	json_decref(req);
	json_decref(reply);
	curl_easy_cleanup(c);
	curl_slist_free_all(headers);
	if (body != NULL)
		explicit_bzero(body, strlen(body));
	free(body);
	free(url);
	credentials_free(secret);
	buf_free(&answer);
}

int
cmd_doctor(struct cli *cli, int argc, char **argv)
{
	const struct cli_command *cmd = cli_command_get("doctor");
	const char *path = cli->cfg->path, *db = cli->db_path;
	struct doctor d = { 0 };
	struct cfg *cfg = NULL;
	struct store *s;
	char err[1024];

	if (argc == 3 && strcmp(argv[1], "--config") == 0)
		path = argv[2];
	else if (argc != 1)
		return cli_usage_error(cmd, "doctor: only --config FILE");
	/* From a shell, try the secrets the units would load (root can read them). */
	if (getenv("CREDENTIALS_DIRECTORY") == NULL && access(CREDSTORE, R_OK | X_OK) == 0)
		setenv("CREDENTIALS_DIRECTORY", CREDSTORE, 0);
	cfg = cfg_load(path, err, sizeof(err));
	if (cfg == NULL)
		report(&d, false, "config", "%s", err);
	else
		report(&d, true, "config", "%s", path != NULL ? path :
		    "none given, the defaults (campaignctl doctor --config FILE)");
	if (cfg != NULL && !cli->db_explicit && cfg->store.db != NULL)
		db = cfg->store.db;
	s = check_database(&d, db);
	check_zone(&d, s);
	check_disk(&d, db);
	store_close(s);
	if (cfg != NULL) {
		mosquitto_lib_init();
		check_broker(&d, cfg);
		mosquitto_lib_cleanup();
		curl_global_init(CURL_GLOBAL_DEFAULT);
		check_telegram(&d, cfg);
		if (cfg_has_driver(cfg, "dingtalk"))
			check_dingtalk(&d, cfg);
		curl_global_cleanup();
	}
	cfg_free(cfg);
	if (d.failed > 0)
		fprintf(stderr, "campaignctl doctor: %d check%s failed\n", d.failed,
		    d.failed == 1 ? "" : "s");
	return d.failed > 0 ? CLI_FAILED : CLI_OK;
}
