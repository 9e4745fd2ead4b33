/*
 * One-time invite codes that bind a chat user to a unit. Codes are random
 * (getrandom), shown once, stored only as a SHA-256 hash, single-use and
 * expiring. Redeeming a code binds the user in the same transaction.
 */
#ifndef CAMPAIGN_INVITES_H
#define CAMPAIGN_INVITES_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "campaign/store.h"

/* "ABCDE-FGHJK": 10 Crockford base32 characters (50 bits) and a dash. */
#define INVITES_CODE_STRLEN 12

enum invite_result {
	INVITE_BOUND,
	INVITE_UNKNOWN,         /* no such code (or malformed) */
	INVITE_USED,
	INVITE_EXPIRED,
	INVITE_ERROR,
};

int invites_create(struct store *s, int64_t unit_id, int64_t ttl_seconds, time_t now,
    char code[INVITES_CODE_STRLEN]);
/*
 * Redeems code for (platform, user_id): marks it used and binds the user to
 * its unit. *unit_id is set on INVITE_BOUND.
 */
enum invite_result invites_redeem(struct store *s, const char *code, const char *platform,
    const char *user_id, const char *user_name, time_t now, int64_t *unit_id);

#endif
