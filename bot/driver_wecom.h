/* The WeCom smart-robot long-connection driver; see driver_wecom.c. */
#ifndef CAMPAIGN_BOT_DRIVER_WECOM_H
#define CAMPAIGN_BOT_DRIVER_WECOM_H

#include "campaign/cfg.h"
#include "driver.h"

/* From [wecom] (bot_id, ws_url); the secret is copied. */
struct driver *driver_wecom_new(const struct driver_host *host, const struct cfg *cfg,
    const char *secret);

#endif
