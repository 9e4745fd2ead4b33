/*
 * The /bind lockout: failed invite codes per user, kept in the store with
 * the start of their window, so neither a restart nor a second bot process
 * forgives a guesser. BINDLOCK_MAX_FAILS failures within BINDLOCK_WINDOW_S
 * lock the user out until the window ends. Real clock, not the campaign's
 * (SPEC "Time": protocol times never follow CAMPAIGN_NOW).
 */
#ifndef CAMPAIGN_BINDLOCK_H
#define CAMPAIGN_BINDLOCK_H

#include <stdbool.h>
#include <time.h>

#include "campaign/store.h"

#define BINDLOCK_MAX_FAILS 5
#define BINDLOCK_WINDOW_S (10 * 60)

/* True while the user is locked out; a store error counts as not locked (logged). */
bool bindlock_limited(struct store *s, const char *platform, const char *user_id, time_t now);
/* Counts one failure (a new window if the last one ended); -1 on a store error. */
int bindlock_failed(struct store *s, const char *platform, const char *user_id, time_t now);

#endif
