/*
 * One office mail message into the store (issue 15), in one transaction with
 * the mailbox position: an invite code in the subject binds the sender's
 * address; attachments from a bound address become the unit's submissions,
 * from an unknown one unassigned files (a message without attachments is
 * kept whole as .eml), never dropped; types and sizes outside the limits are
 * refused with the reason. The confirmation to the sender is queued in the
 * chat outbox (platform "mail", the address as chat), once per message.
 */
#ifndef CAMPAIGN_BOT_MAILINTAKE_H
#define CAMPAIGN_BOT_MAILINTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "campaign/store.h"

/* The outbox platform of mail confirmations. */
#define MAIL_PLATFORM "mail"

struct mailintake_opts {
	int64_t max_size;       /* largest attachment, bytes */
	char *const *types;     /* accepted extensions (".docx" ...) */
	size_t ntypes;
	bool reply;             /* queue confirmations (SMTP configured) */
};

struct mail_pos {
	const char *mailbox;
	int64_t uidvalidity;
	int64_t uid;
};

/* A whole message. 0, or -1 (store error: rolled back, to be retried). */
int mailintake_message(struct store *s, const struct mailintake_opts *o,
    const struct mail_pos *pos, const void *raw, size_t len, time_t now);
/* A message too large to fetch: only its header, and its size. */
int mailintake_too_large(struct store *s, const struct mailintake_opts *o,
    const struct mail_pos *pos, const void *header, size_t len, int64_t size, time_t now);
/* Only advances the position (a message that vanished, or unparsable). */
int mailintake_skip(struct store *s, const struct mail_pos *pos);

#endif
