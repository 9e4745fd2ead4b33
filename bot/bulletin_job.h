/*
 * The scheduled bulletin (issue 15, [bulletin] every, mail_to): at the
 * configured weekday and time (campaign clock), once per day, the bot runs
 * `campaignctl bulletin` (rendering stays out of the daemon), then in one
 * transaction records the day and queues the files by mail to mail_to and a
 * short text to the admins' private chats. The files are kept as
 * <state dir>/bulletins/通报-YYYY-MM-DD.docx and .pdf.
 */
#ifndef CAMPAIGN_BOT_BULLETIN_JOB_H
#define CAMPAIGN_BOT_BULLETIN_JOB_H

#include <stdint.h>

#include "campaign/cfg.h"
#include "campaign/store.h"
#include "loop.h"

struct bulletinjob;

/* kick is called after deliveries were queued. NULL when [bulletin] every is unset. */
struct bulletinjob *bulletinjob_new(struct store *s, struct loop *l, const struct cfg *cfg,
    void (*kick)(void *), void *arg);
void bulletinjob_free(struct bulletinjob *j);
/* The kept file of a day: ext "docx" or "pdf". Owned. */
char *bulletinjob_file(struct store *s, int32_t day, const char *ext);

#endif
