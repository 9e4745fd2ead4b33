/*
 * Telegram documents sent to the bot (issue 15): the chat_files recorded by
 * the core are fetched one at a time (getFile, then the file by URL, at
 * most 20 MB as the Bot API allows), stored as submissions with their
 * confirmation (lib/chatfiles.c), and the sender kicked. A download that
 * fails is retried; after five attempts, or a refusal, the sender is told.
 */
#ifndef CAMPAIGN_BOT_TG_FILES_H
#define CAMPAIGN_BOT_TG_FILES_H

#include "campaign/store.h"
#include "driver.h"
#include "loop.h"

struct tgfiles;

struct tgfiles *tgfiles_new(struct store *s, struct loop *l, const char *api_url,
    const char *token, const struct driver_host *host);
void tgfiles_free(struct tgfiles *f);

#endif
