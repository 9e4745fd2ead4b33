/*
 * Channels (table channels): group robots that only receive, a DingTalk
 * custom robot, a WeCom group robot or a Feishu custom bot, each added by
 * an admin with its webhook URL (and signing secret). A channel is a chat
 * of platform CHANNEL_PLATFORM whose chat_id is its name: broadcasts,
 * reminders and the admins' digest reach it through the same outbox as
 * every chat, and campaign-bot's channels driver posts them.
 *
 * The URL and the secret are secrets: the struct carries them for the
 * driver, but nothing prints or logs them (channels_url_hint() is what a
 * person sees). A channel is "failing" after the platform refused its
 * signature or key; it gets no new deliveries until it is given a new URL
 * or secret (channels_update) or added again.
 */
#ifndef CAMPAIGN_CHANNELS_H
#define CAMPAIGN_CHANNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "campaign/store.h"

#define CHANNEL_PLATFORM "channel"
#define CHANNEL_NAME_MAX 64

enum channel_kind { CHANNEL_DINGTALK, CHANNEL_WECOM, CHANNEL_FEISHU };

/* What a channel gets (bits). */
#define CHANNEL_BROADCASTS 1u
#define CHANNEL_REMINDERS 2u
#define CHANNEL_DIGEST 4u
#define CHANNEL_SENDS_DEFAULT (CHANNEL_BROADCASTS | CHANNEL_REMINDERS)

struct channel {
	char *name;
	enum channel_kind kind;
	char *url;              /* secret */
	char *secret;           /* secret; NULL: none */
	char **units;           /* unit names; nunits 0: every unit */
	size_t nunits;
	unsigned sends;
	bool failing;
	int64_t error_code;
	char *error;            /* NULL unless failing */
	time_t created_at, updated_at;
};

/* "dingtalk-robot" ... */
const char *channels_kind_name(enum channel_kind kind);
/* 0 and *kind, or -1 for an unknown name. */
int channels_kind_parse(const char *name, enum channel_kind *kind);
/* Parses "broadcasts,reminders,digest" into bits; -1 with err. */
int channels_sends_parse(const char *list, unsigned *sends, char *err, size_t errlen);
/* "broadcasts,reminders" into out. */
void channels_sends_format(unsigned sends, char *out, size_t outlen);
/* Whether name can name a channel (letters, digits, - _ . and non-ASCII; 1..64 bytes). */
bool channels_name_ok(const char *name);
/*
 * Whether url is a webhook of kind (https, the platform's path; http only
 * to 127.0.0.1 or localhost, for tests and demos). -1 with err.
 */
int channels_url_check(enum channel_kind kind, const char *url, char *err, size_t errlen);
/* What a person may see of a URL: "host…abcd" (the last four characters). */
void channels_url_hint(const char *url, char *out, size_t outlen);

/* Adds a channel; -1 with err (a name taken, a store error). */
int channels_add(struct store *s, const struct channel *c, time_t now, char *err,
    size_t errlen);
/*
 * What channels_update changes; NULL, false or 0 keeps a field. A new URL or
 * secret (or dropping it) means the admin fixed the credential the platform
 * refused, so it clears the failing mark.
 */
struct channel_change {
	const char *url;        /* secret */
	const char *secret;     /* secret */
	bool drop_secret;
	bool set_units;         /* units replace the filter; nunits 0: every unit */
	char *const *units;
	size_t nunits;
	unsigned sends;
};

/*
 * Changes a channel in place, in one statement: its pending deliveries and
 * history stay. 1 changed, 0 no such channel, -1 error.
 */
int channels_update(struct store *s, const char *name, const struct channel_change *ch,
    time_t now);
/* 1 removed, 0 no such channel, -1 error. Pending deliveries to it are failed. */
int channels_remove(struct store *s, const char *name, time_t now);
/* 1 found, 0 not, -1 error. */
int channels_get(struct store *s, const char *name, struct channel *out);
/* Every channel, by name. */
int channels_list(struct store *s, struct channel **out, size_t *n);
/* Marks a channel failing (with the platform's code and message) or ok (msg NULL). */
int channels_set_failing(struct store *s, const char *name, int64_t code, const char *msg,
    time_t now);
/*
 * The names of the channels in good standing that get what (one bit) for
 * these units: a channel without a unit filter gets everything, one with a
 * filter what concerns one of its units (nunits 0: everyone, so every
 * channel). Owned array of owned strings.
 */
int channels_wanting(struct store *s, unsigned what, char *const *units, size_t nunits,
    char ***names, size_t *n);
/* Whether c's filter lets unit through. */
bool channels_has_unit(const struct channel *c, const char *unit);

void channel_clear(struct channel *c);
void channels_free(struct channel *c, size_t n);
void channels_names_free(char **names, size_t n);

#endif
