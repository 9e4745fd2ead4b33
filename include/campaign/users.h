/*
 * Chat users (platform + user id, both text so any platform's ids fit),
 * their unit binding, and the campaign admins added with campaignctl.
 */
#ifndef CAMPAIGN_USERS_H
#define CAMPAIGN_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "campaign/store.h"

struct user_info {
	bool known;
	char *name;             /* display name, may be NULL */
	int64_t unit_id;        /* 0 when not bound */
	char *unit_name;        /* NULL when not bound */
	time_t bound_at;
};

/* A user id as platforms give it: printable UTF-8, no spaces, at most 128 bytes. */
bool users_id_ok(const char *id);
/* 0 (info->known tells whether the user exists) or -1. */
int users_get(struct store *s, const char *platform, const char *user_id,
    struct user_info *info);
void user_info_clear(struct user_info *info);
/* Records or refreshes a user's display name. */
int users_touch(struct store *s, const char *platform, const char *user_id,
    const char *name, time_t now);
/* Binds a user to a unit (unit_id 0 unbinds). */
int users_bind(struct store *s, const char *platform, const char *user_id,
    const char *name, int64_t unit_id, time_t now);

/* Users bound to a unit; -1 on error. */
int users_count_bound(struct store *s, int64_t unit_id);

int admins_add(struct store *s, const char *user_id, time_t now);
/* 1 removed, 0 was not an admin, -1 error. */
int admins_remove(struct store *s, const char *user_id);
/* 1 yes, 0 no, -1 error. */
int admins_is(struct store *s, const char *user_id);
/* Owned array of owned strings, in the order they were added. */
int admins_list(struct store *s, char ***ids, size_t *n);

#endif
