/* The Telegram Bot API driver (long polling); see driver_telegram.c. */
#ifndef CAMPAIGN_BOT_DRIVER_TELEGRAM_H
#define CAMPAIGN_BOT_DRIVER_TELEGRAM_H

#include "driver.h"

/* api_url without trailing slash; poll_timeout 1..50 s; the token is copied. */
struct driver *driver_telegram_new(const struct driver_host *host, const char *api_url,
    const char *token, int poll_timeout, int rate_global, int rate_group_per_min);
/* SIGHUP: the calls started from now on use token (copied); getMe runs again. */
void driver_telegram_set_token(struct driver *d, const char *token);

#endif
