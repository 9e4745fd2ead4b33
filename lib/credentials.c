/*
 * Secrets: a configured file, else a systemd credential (see
 * campaign/credentials.h). One reader, cfg_read_secret, for both.
 */
#include "campaign/credentials.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "campaign/cfg.h"
#include "campaign/xmalloc.h"

char *
credentials_path(const char *name)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	char *path;

	if (dir == NULL || *dir == '\0' || strchr(name, '/') != NULL)
		return NULL;
	path = xasprintf("%s/%s", dir, name);
	if (access(path, F_OK) != 0) {
		free(path);
		return NULL;
	}
	return path;
}

char *
credentials_secret(const char *file, const char *name, char *err, size_t errlen)
{
	char *path, *secret;

	if (errlen > 0)
		err[0] = '\0';
	if (file != NULL)
		return cfg_read_secret(file, err, errlen);
	path = credentials_path(name);
	if (path == NULL)
		return NULL;
	secret = cfg_read_secret(path, err, errlen);
	free(path);
	return secret;
}

char *
credentials_telegram_token(const struct cfg *cfg, char *err, size_t errlen)
{
	const char *env = getenv("TELEGRAM_BOT_TOKEN");
	char *token;
	size_t len;

	if (env != NULL && *env != '\0')
		token = xstrdup(env);
	else
		token = credentials_secret(cfg->telegram.token_file, CREDENTIAL_TELEGRAM_TOKEN,
		    err, errlen);
	if (token == NULL && *err == '\0')
		snprintf(err, errlen, "the telegram driver needs a bot token: set "
		    "TELEGRAM_BOT_TOKEN, [telegram] token_file or the systemd credential "
		    CREDENTIAL_TELEGRAM_TOKEN " (get one from @BotFather)");
	if (token == NULL)
		return NULL;
	for (const char *p = token; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != ':' && *p != '_' && *p != '-') {
			snprintf(err, errlen, "the bot token has characters a token cannot have "
			    "(expected 123456789:AA..., letters, digits, _ and -)");
			credentials_free(token);
			return NULL;
		}
	}
	len = strlen(token);
	if (len < 8 || len > 200) {
		snprintf(err, errlen, "the bot token has an impossible length");
		credentials_free(token);
		return NULL;
	}
	return token;
}

void
credentials_free(char *secret)
{
	if (secret == NULL)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}
