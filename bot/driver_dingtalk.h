/* The DingTalk Stream-mode driver; see driver_dingtalk.c. */
#ifndef CAMPAIGN_BOT_DRIVER_DINGTALK_H
#define CAMPAIGN_BOT_DRIVER_DINGTALK_H

#include "campaign/cfg.h"
#include "driver.h"

/* From [dingtalk] (client_id, robot_code, api_url); the AppSecret is copied. */
struct driver *driver_dingtalk_new(const struct driver_host *host, const struct cfg *cfg,
    const char *secret);

#endif
