/*
 * Chats the bot talks in (table chats): private chats and groups of every
 * platform, ids as text. A chat goes inactive when the platform says the bot
 * may no longer write there (blocked, kicked) and active again when someone
 * writes from it; subscribed chats receive broadcasts and reminders. When a
 * platform moves a chat (Telegram: group -> supergroup), the row and its
 * pending deliveries move with it.
 */
#ifndef CAMPAIGN_CHATS_H
#define CAMPAIGN_CHATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "campaign/store.h"

#define CHAT_PRIVATE "private"
#define CHAT_GROUP "group"
#define CHAT_CHANNEL "channel"

struct chat_info {
	bool known;
	char *kind;             /* CHAT_PRIVATE ... */
	char *title;            /* may be NULL */
	char *user_id;          /* a private chat's peer; may be NULL */
	bool active;
	bool subscribed;
	char *reason;           /* why inactive; may be NULL */
};

/* A chat to deliver to. */
struct chat_ref {
	char *platform;
	char *chat_id;
};

/*
 * Records a chat someone wrote from: creates it (subscribed as given) or
 * refreshes its kind and title, and marks it active again.
 */
int chats_seen(struct store *s, const char *platform, const char *chat_id, const char *kind,
    const char *title, const char *user_id, bool subscribe_new, time_t now);
/* 0 (info->known tells) or -1. */
int chats_get(struct store *s, const char *platform, const char *chat_id,
    struct chat_info *info);
void chat_info_clear(struct chat_info *info);
int chats_set_active(struct store *s, const char *platform, const char *chat_id,
    bool active, const char *reason, time_t now);
int chats_set_subscribed(struct store *s, const char *platform, const char *chat_id,
    bool subscribed, time_t now);
/* Moves a chat to a new id, with its subscription and pending deliveries. */
int chats_migrate(struct store *s, const char *platform, const char *from, const char *to,
    time_t now);
/*
 * Where a broadcast goes: every active subscribed chat, and the active private
 * chat of every user bound to one of units (all bound users when nunits is 0),
 * each chat once. Owned array.
 */
int chats_targets(struct store *s, const int64_t *units, size_t nunits,
    struct chat_ref **out, size_t *n);
/* The active private chats of the users bound to one unit (reminders). Owned array. */
int chats_of_unit(struct store *s, int64_t unit_id, struct chat_ref **out, size_t *n);
/* Every active subscribed chat. Owned array. */
int chats_subscribed(struct store *s, struct chat_ref **out, size_t *n);
/* The active private chats of these "platform:id" users (admins). Owned array. */
int chats_of_users(struct store *s, char *const *user_refs, size_t nusers,
    struct chat_ref **out, size_t *n);
void chat_refs_free(struct chat_ref *refs, size_t n);

#endif
