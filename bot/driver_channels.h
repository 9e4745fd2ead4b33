/*
 * The channels driver (see driver_channels.c): group robots as the
 * send-only platform "channel". campaign-bot adds it by itself; it reads
 * the channels (URL, secret) from the store.
 */
#ifndef CAMPAIGN_BOT_DRIVER_CHANNELS_H
#define CAMPAIGN_BOT_DRIVER_CHANNELS_H

#include "campaign/store.h"
#include "driver.h"

struct driver *driver_channels_new(const struct driver_host *host, struct store *store);

#endif
