/*
 * Secrets: a configured file, else a systemd credential (see
 * campaign/credentials.h). One reader, cfg_read_secret, for both.
 */
#include "campaign/credentials.h"

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

void
credentials_free(char *secret)
{
	if (secret == NULL)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}
