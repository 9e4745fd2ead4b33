/*
 * The drivers this daemon can run, by name: a new platform is a driver file
 * and one line in registry.c. The registry turns a driver's configuration
 * section (and its secret, from the environment or a file) into a driver.
 */
#ifndef CAMPAIGN_BOT_REGISTRY_H
#define CAMPAIGN_BOT_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "campaign/cfg.h"
#include "campaign/store.h"
#include "driver.h"

/* What the command line adds for the console driver. */
struct driver_args {
	const char *console_user;       /* who types */
	bool console_admin;             /* a local admin (no --as) */
	struct store *store;            /* for drivers that read their chats from it (channels) */
};

bool registry_known(const char *name);
/* Whether the driver keeps one connection per bot identity (lock it per database). */
bool registry_exclusive(const char *name);
/* Whether the daemon runs the driver without [chat] drivers naming it (channels). */
bool registry_implicit(const char *name);
/* Checks the driver's configuration and secret without starting anything. */
int registry_check(const char *name, const struct cfg *cfg, char *err, size_t errlen);
/* The driver, or NULL with a message in err. */
struct driver *registry_open(const char *name, const struct driver_host *host,
    const struct cfg *cfg, const struct driver_args *a, char *err, size_t errlen);

#endif
