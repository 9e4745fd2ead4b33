/*
 * The office mailbox (issue 15), on the bot's loop: every poll_interval,
 * IMAP STATUS (UIDVALIDITY, UIDNEXT), UID SEARCH above the last UID handled,
 * the sizes, then each new message fetched whole by URL (or only its header
 * when it is over the size limit) and handed to mailintake, which commits
 * the position with what the message produced. A changed UIDVALIDITY
 * rescans from UID 1; handled messages are known by Message-ID, so nothing
 * doubles. Confirmations queued for platform "mail" go out by SMTP one at a
 * time and are marked sent after the server accepted them. Plain IMAP/SMTP
 * must upgrade with STARTTLS unless the server is on loopback.
 */
#ifndef CAMPAIGN_BOT_MAILBOX_H
#define CAMPAIGN_BOT_MAILBOX_H

#include <stdbool.h>

#include "campaign/cfg.h"
#include "campaign/store.h"
#include "loop.h"

struct mailbox;

/* NULL when [mail] imap_url is not set, or on a setup error (logged; *failed set). */
struct mailbox *mailbox_new(struct store *s, struct loop *l, const struct cfg *cfg,
    bool *failed);
/* Looks at the mail outbox now (something may have been queued). */
void mailbox_kick(struct mailbox *mb);
/* No transfer in flight. */
bool mailbox_idle(const struct mailbox *mb);
void mailbox_free(struct mailbox *mb);

#endif
