/*
 * Files sent to the bot in chat (issue 15), for every platform whose driver
 * can locate them (driver_ops.file_url): the chat_files recorded by the core
 * are fetched one at a time (the driver finds the URL: Telegram getFile,
 * DingTalk messageFiles/download, WeCom's URL as sent), downloaded under the
 * platform's cap and the configured size, decoded when the driver must
 * (WeCom decrypts), named from Content-Disposition when the message carried
 * no name, checked against the allowed types, and stored as submissions
 * with their confirmation (lib/chatfiles.c); then the sender is kicked. A
 * download that fails is retried; after five attempts, or a refusal, the
 * sender is told why.
 */
#ifndef CAMPAIGN_BOT_FILE_FETCH_H
#define CAMPAIGN_BOT_FILE_FETCH_H

#include "campaign/cfg.h"
#include "campaign/store.h"
#include "driver.h"
#include "loop.h"

struct file_fetch;

/* d must outlive the fetcher's calls: free the driver first (it ends them). */
struct file_fetch *file_fetch_new(struct store *s, struct loop *l, struct driver *d,
    const struct cfg *cfg);
void file_fetch_free(struct file_fetch *f);

/* The file name in a Content-Disposition value (RFC 6266/5987), or NULL; owned. */
char *file_fetch_disposition_name(const char *value);

#endif
