/*
 * The bot's side of mailparse.h: finds and dlopens campaign-mailparse.so on
 * first use and forwards to it. See mailparse.h for why GMime is a module.
 */
#include "mailparse.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "campaign/log.h"

#define MODULE "campaign-mailparse.so"

#ifndef CAMPAIGN_PKGLIBDIR
#define CAMPAIGN_PKGLIBDIR "/usr/lib/campaign-bot"
#endif

static void *module;
static int (*do_message)(const void *, size_t, struct mail_msg *, char *, size_t);
static void (*do_clear)(struct mail_msg *);
static void (*do_shutdown)(void);

static void *
open_module(char *err, size_t errlen)
{
	char exe[PATH_MAX], path[PATH_MAX + sizeof(MODULE)];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	void *h;

	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash != NULL) {
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/%s", exe, MODULE);
			if (access(path, R_OK) == 0 && (h = dlopen(path, RTLD_NOW | RTLD_LOCAL)))
				return h;
		}
	}
	snprintf(path, sizeof(path), "%s/%s", CAMPAIGN_PKGLIBDIR, MODULE);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		snprintf(err, errlen, "cannot load %s (mail needs it): %s", MODULE, dlerror());
	return h;
}

int
mailparse_load(char *err, size_t errlen)
{
	void *h;

	if (module != NULL)
		return 0;
	h = open_module(err, errlen);
	if (h == NULL)
		return -1;
	*(void **)&do_message = dlsym(h, "mailparse_gmime_message");
	*(void **)&do_clear = dlsym(h, "mailparse_gmime_clear");
	*(void **)&do_shutdown = dlsym(h, "mailparse_gmime_shutdown");
	if (do_message == NULL || do_clear == NULL || do_shutdown == NULL) {
		snprintf(err, errlen, "%s: missing entry points", MODULE);
		dlclose(h);
		return -1;
	}
	module = h;
	return 0;
}

int
mailparse_message(const void *raw, size_t len, struct mail_msg *out, char *err,
    size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (mailparse_load(err, errlen) < 0)
		return -1;
	return do_message(raw, len, out, err, errlen);
}

void
mail_msg_clear(struct mail_msg *m)
{
	if (do_clear != NULL)
		do_clear(m);
}

/* The module stays mapped: GLib does not support being unloaded. */
void
mailparse_shutdown(void)
{
	if (do_shutdown != NULL)
		do_shutdown();
}
