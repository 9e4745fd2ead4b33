/*
 * Mail from the office (issue 15): the chat outbox's deliveries of platform
 * "mail" (confirmations, the bulletin) go out by SMTP with libcurl one at a
 * time, marked sent only after the server accepted them (a crash repeats at
 * most the one in flight), retried with backoff, failed after 8 attempts.
 * A delivery's text is "subject\n\nbody"; kind "bulletin" carries that day's
 * .docx and .pdf as attachments.
 */
#ifndef CAMPAIGN_BOT_MAILSEND_H
#define CAMPAIGN_BOT_MAILSEND_H

#include <stdbool.h>

#include "campaign/store.h"
#include "loop.h"

struct mailsend;

/* from may carry a display name ("办公室 <a@b>"); username/password may be NULL. NULL on a bad URL. */
struct mailsend *mailsend_new(struct store *s, struct loop *l, const char *url,
    const char *from, const char *username, const char *password);
/* Looks at the outbox now. */
void mailsend_kick(struct mailsend *m);
bool mailsend_idle(const struct mailsend *m);
void mailsend_free(struct mailsend *m);

#endif
