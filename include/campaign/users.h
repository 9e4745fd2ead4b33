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
/* The platforms an identity may name: console, telegram, dingtalk, wecom. */
bool users_platform_known(const char *platform);
/* "console, telegram, ...": for messages that list them. */
const char *users_platforms_text(void);
/*
 * Splits an identity "platform:id" (telegram:123456789, dingtalk:manager01):
 * 0 with the platform copied into platform[] and *id pointing into ref, or
 * -1 with a message for the user in err.
 */
#define USERS_PLATFORM_MAX 16
int users_ref_split(const char *ref, char platform[USERS_PLATFORM_MAX], const char **id,
    char *err, size_t errlen);
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

/* Admins are identities: an admin on one platform is not one on another. */
int admins_add(struct store *s, const char *platform, const char *user_id, time_t now);
/* 1 removed, 0 was not an admin, -1 error. */
int admins_remove(struct store *s, const char *platform, const char *user_id);
/* 1 yes, 0 no, -1 error. */
int admins_is(struct store *s, const char *platform, const char *user_id);
/* Owned array of owned "platform:id" strings, in the order they were added. */
int admins_list(struct store *s, char ***refs, size_t *n);

#endif
