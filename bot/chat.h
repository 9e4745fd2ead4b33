/*
 * Normalized incoming chat events: what every driver turns its platform's
 * updates into, and all the core ever sees of a platform. Ids are text so
 * any platform's ids fit (Telegram's 52-bit integers, Matrix's
 * "!room:server", XMPP JIDs). Everything is borrowed for the call.
 */
#ifndef CAMPAIGN_BOT_CHAT_H
#define CAMPAIGN_BOT_CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum chat_event_kind {
	CHAT_EV_MESSAGE,        /* someone wrote (text may be NULL: a sticker, a photo) */
	CHAT_EV_EDITED,         /* a message was edited: never a new report; ignored */
	CHAT_EV_JOINED,         /* the bot was added to the chat or unblocked */
	CHAT_EV_LEFT,           /* the bot was removed from the chat or blocked */
	CHAT_EV_MIGRATED,       /* the chat moved to new_chat_id */
	CHAT_EV_OTHER,          /* anything else: confirmed and ignored */
};

struct chat_event {
	enum chat_event_kind kind;
	const char *event_id;   /* platform-unique (Telegram update_id); NULL: no dedupe */
	const char *chat_id;
	const char *chat_kind;  /* CHAT_PRIVATE, CHAT_GROUP, CHAT_CHANNEL (chats.h) */
	const char *chat_title; /* may be NULL */
	const char *user_id;    /* may be NULL for service events */
	const char *user_name;  /* display name; may be NULL */
	const char *message_id; /* may be NULL */
	const char *text;       /* NULL when not text */
	size_t text_len;        /* bytes of text (it may contain NUL bytes from a console) */
	const char *new_chat_id;/* CHAT_EV_MIGRATED */
	/* issue 15: a file attached (a Telegram document); file_ref NULL if none */
	const char *file_ref;   /* the platform's handle to fetch it (file_id) */
	const char *file_name;
	const char *file_type;  /* MIME type; may be NULL */
	int64_t file_size;      /* bytes as announced; 0 unknown */
	bool as_admin;          /* the driver vouches for a local admin (console) */
};

struct chat_batch {
	const char *platform;
	const struct chat_event *events;
	size_t n;
	const char *cursor_key; /* kv key of the cursor; NULL: none */
	const char *cursor;     /* the cursor that confirms this batch */
};

#endif
