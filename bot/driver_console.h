/* The console driver (stdin lines in, replies on stdout); see driver_console.c. */
#ifndef CAMPAIGN_BOT_DRIVER_CONSOLE_H
#define CAMPAIGN_BOT_DRIVER_CONSOLE_H

#include <stdbool.h>

#include "driver.h"

/* user_id: who types (chat id too); admin: a local admin (no --as). */
struct driver *driver_console_new(const struct driver_host *host, const char *user_id,
    bool admin);

#endif
