/*
 * The driver registry (see registry.h): one entry per platform, each with a
 * check of its section and secret and a constructor. Secrets are read here
 * and handed to the driver, which keeps its own copy; ours is wiped.
 */
#include "registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/credentials.h"
#include "campaign/xmalloc.h"
#include "campaign/channels.h"
#include "driver_channels.h"
#include "driver_console.h"
#include "driver_dingtalk.h"
#include "driver_telegram.h"
#include "driver_wecom.h"

struct driver_entry {
	const char *name;
	bool exclusive;
	bool implicit;          /* always runs; one daemon per database serves it */
	/* The secret (owned), or NULL with err; NULL function: needs none. */
	char *(*secret)(const struct cfg *cfg, char *err, size_t errlen);
	struct driver *(*open)(const struct driver_host *host, const struct cfg *cfg,
	    const struct driver_args *a, const char *secret);
};

/* The secret from env, else the config's file, else the systemd credential. */
static char *
secret_read(const char *env_name, const char *file, const char *credential,
    const char *what, char *err, size_t errlen)
{
	const char *env = getenv(env_name);
	char *secret;

	if (env != NULL && *env != '\0')
		return xstrdup(env);
	*err = '\0';
	secret = credentials_secret(file, credential, err, errlen);
	if (secret == NULL && *err == '\0')
		snprintf(err, errlen, "%s: set %s, the config's file for it or the systemd "
		    "credential %s", what, env_name, credential);
	return secret;
}

/* Telegram's token: $TELEGRAM_BOT_TOKEN, [telegram] token_file or the credential. */
static char *
telegram_token(const struct cfg *cfg, char *err, size_t errlen)
{
	return credentials_telegram_token(cfg, err, errlen);
}

static char *
dingtalk_secret(const struct cfg *cfg, char *err, size_t errlen)
{
	return secret_read("DINGTALK_CLIENT_SECRET", cfg->dingtalk.client_secret_file,
	    CREDENTIAL_DINGTALK_SECRET,
	    "the dingtalk driver needs the app's AppSecret ([dingtalk] client_secret_file)",
	    err, errlen);
}

static char *
wecom_secret(const struct cfg *cfg, char *err, size_t errlen)
{
	return secret_read("WECOM_BOT_SECRET", cfg->wecom.secret_file, CREDENTIAL_WECOM_SECRET,
	    "the wecom driver needs the robot's Secret ([wecom] secret_file)", err, errlen);
}

static struct driver *
open_console(const struct driver_host *host, const struct cfg *cfg,
    const struct driver_args *a, const char *secret)
{
	(void)cfg;
	(void)secret;
	return driver_console_new(host, a->console_user, a->console_admin);
}

static struct driver *
open_telegram(const struct driver_host *host, const struct cfg *cfg,
    const struct driver_args *a, const char *token)
{
	(void)a;
	return driver_telegram_new(host, cfg->telegram.api_url, token,
	    cfg->telegram.poll_timeout, cfg->chat.rate_global, cfg->chat.rate_group_per_min);
}

static struct driver *
open_dingtalk(const struct driver_host *host, const struct cfg *cfg,
    const struct driver_args *a, const char *secret)
{
	(void)a;
	return driver_dingtalk_new(host, cfg, secret);
}

static struct driver *
open_wecom(const struct driver_host *host, const struct cfg *cfg,
    const struct driver_args *a, const char *secret)
{
	(void)a;
	return driver_wecom_new(host, cfg, secret);
}

static struct driver *
open_channels(const struct driver_host *host, const struct cfg *cfg,
    const struct driver_args *a, const char *secret)
{
	(void)cfg;
	(void)secret;
	return driver_channels_new(host, a->store);
}

static const struct driver_entry entries[] = {
	{ "console", false, false, NULL, open_console },
	{ "telegram", true, false, telegram_token, open_telegram },
	{ "dingtalk", true, false, dingtalk_secret, open_dingtalk },
	{ "wecom", true, false, wecom_secret, open_wecom },
	{ CHANNEL_PLATFORM, true, true, NULL, open_channels },
};

static const struct driver_entry *
find(const char *name)
{
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
		if (strcmp(entries[i].name, name) == 0)
			return &entries[i];
	return NULL;
}

bool
registry_known(const char *name)
{
	return find(name) != NULL;
}

bool
registry_implicit(const char *name)
{
	const struct driver_entry *e = find(name);

	return e != NULL && e->implicit;
}

bool
registry_exclusive(const char *name)
{
	const struct driver_entry *e = find(name);

	return e != NULL && e->exclusive;
}

int
registry_check(const char *name, const struct cfg *cfg, char *err, size_t errlen)
{
	const struct driver_entry *e = find(name);
	char *secret;

	if (e == NULL) {
		snprintf(err, errlen, "unknown driver \"%s\"", name);
		return -1;
	}
	if (e->secret == NULL)
		return 0;
	if ((secret = e->secret(cfg, err, errlen)) == NULL)
		return -1;
	credentials_free(secret);
	return 0;
}

struct driver *
registry_open(const char *name, const struct driver_host *host, const struct cfg *cfg,
    const struct driver_args *a, char *err, size_t errlen)
{
	const struct driver_entry *e = find(name);
	struct driver *d;
	char *secret = NULL;

	if (e == NULL) {
		snprintf(err, errlen, "unknown driver \"%s\"", name);
		return NULL;
	}
	if (e->secret != NULL && (secret = e->secret(cfg, err, errlen)) == NULL)
		return NULL;
	d = e->open(host, cfg, a, secret);
	credentials_free(secret);
	if (d == NULL)
		snprintf(err, errlen, "the %s driver could not be created", name);
	return d;
}
