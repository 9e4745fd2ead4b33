/*
 * The office mailbox's state in the store (issue 15): the position
 * (mailbox, UIDVALIDITY, last UID) and the messages already handled, by
 * key. The poller writes both in the transaction of what a message
 * produced, so a crash repeats nothing and a UIDVALIDITY change (a rescan
 * from UID 1) doubles nothing.
 */
#ifndef CAMPAIGN_MAILSTORE_H
#define CAMPAIGN_MAILSTORE_H

#include <stdint.h>
#include <time.h>

#include "campaign/store.h"

/* 1 found, 0 none (both set to 0), -1 error. */
int mailstore_position(struct store *s, const char *mailbox, int64_t *uidvalidity,
    int64_t *last_uid);
int mailstore_set_position(struct store *s, const char *mailbox, int64_t uidvalidity,
    int64_t last_uid);
/* 1 if the message key was handled, 0 if not, -1 error. */
int mailstore_seen(struct store *s, const char *key);
/* Records a handled message (outcome: submitted, unassigned, bound, refused, ignored). */
int mailstore_handled(struct store *s, const char *key, const char *sender,
    const char *subject, const char *outcome, const char *note, time_t at);

#endif
