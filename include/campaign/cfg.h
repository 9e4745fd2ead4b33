/*
 * Configuration: an INI file (inih) parsed into a fresh struct, validated,
 * then handed to the caller, who swaps it in (SIGHUP reloads take the same
 * path). Every key has a working default for a local demo. Errors read
 * "file:line: message". Secrets are not in the struct, only their files.
 */
#ifndef CAMPAIGN_CFG_H
#define CAMPAIGN_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "campaign/log.h"

enum cfg_mqtt_protocol { CFG_MQTT_V311 = 4, CFG_MQTT_V5 = 5 };

struct cfg {
	char *path;                     /* the file read, NULL for defaults only */
	enum log_level log_level;       /* [log] level */

	struct {
		char *db;               /* [store] db; NULL: the caller's default */
	} store;

	struct {
		char **drivers;         /* console, telegram, dingtalk: each runs on the one loop */
		size_t ndrivers;
		char **admins;          /* "platform:id" identities allowed to administer */
		size_t nadmins;
		int rate_global;        /* messages per second, all chats of one platform */
		int rate_group_per_min; /* messages per minute to one group */
	} chat;

	struct {
		char *api_url;          /* Bot API base URL, no trailing slash */
		char *token_file;       /* NULL: TELEGRAM_BOT_TOKEN only */
		int poll_timeout;       /* long-poll seconds, 1..50 */
	} telegram;

	struct {
		char *client_id;        /* the app's AppKey */
		char *client_secret_file; /* NULL: DINGTALK_CLIENT_SECRET only */
		char *robot_code;       /* NULL: the client id */
		char *api_url;          /* gateway, token and robot APIs; no trailing slash */
	} dingtalk;

	struct {
		char *bot_id;           /* the smart robot's Bot ID */
		char *secret_file;      /* NULL: WECOM_BOT_SECRET only */
		char *ws_url;           /* the long connection's address */
	} wecom;

	struct {
		char *host;
		int port;
		char *socket;           /* unix socket path; wins over host/port */
		char *client_id;        /* NULL: campaign-bridge-<host>-<db hash> */
		char *username;
		char *password_file;
		char *tls_ca;
		char *tls_cert;
		char *tls_key;
		char *topic_prefix;     /* NULL: "campaign/<plan id>" */
		int qos;
		enum cfg_mqtt_protocol protocol;
		int keepalive;          /* seconds */
	} mqtt;

	struct {
		char *path;             /* [feed] path: the Atom file; NULL: no feed */
		int entries;            /* newest entries kept, default 50 */
		char *board_url;        /* link from every entry, NULL: none */
	} feed;

	struct {
		int at;                 /* minutes after local midnight */
		int *days_before;       /* sorted descending, e.g. 7,3,1,0 */
		size_t ndays_before;
		int escalate_after;     /* days overdue before admins get a digest */
		int quiet_start;        /* minutes, or -1 for no quiet hours */
		int quiet_end;
		int32_t *holidays;      /* day numbers of non-working days */
		size_t nholidays;
		int32_t *workdays;      /* weekend days that are working days (调休) */
		size_t nworkdays;
	} reminders;

	struct {                        /* [mail] (issue 15): off while imap_url is NULL */
		char *imap_url;         /* imaps://host/INBOX, or imap:// (STARTTLS unless loopback) */
		char *username;
		char *password_file;    /* NULL: $CAMPAIGN_MAIL_PASSWORD */
		int poll_interval;      /* seconds, default 60 */
		char *smtp_url;         /* confirmations; NULL: none sent */
		char *from;             /* the office's address for confirmations */
		int64_t max_size;       /* largest attachment accepted, bytes */
		char **types;           /* accepted file name extensions (".docx" ...) */
		size_t ntypes;
		int imap_id;            /* send IMAP ID: 1 yes, 0 no, -1 for NetEase hosts only */
	} mail;

	struct {                        /* [bulletin] (issue 15): the scheduled 通报 */
		int weekday;            /* ISO 1..7, 0 every day, -1 never */
		int at;                 /* minutes after local midnight */
		char **mail_to;         /* addresses that get the files */
		size_t nmail_to;
	} bulletin;
};

/* Loads path (NULL: defaults only). NULL with "file:line: message" in err on error. */
struct cfg *cfg_load(const char *path, char *err, size_t errlen);
void cfg_free(struct cfg *cfg);
/* True if platform:user_id is listed in [chat] admins. */
bool cfg_is_admin(const struct cfg *cfg, const char *platform, const char *user_id);
/*
 * The database every program uses: the --db option, else $CAMPAIGN_DB, else
 * [store] db, else ./campaign.db; an empty value counts as unset everywhere.
 * Borrowed from option, the environment or cfg.
 */
const char *cfg_db_path(const struct cfg *cfg, const char *option);
/* True if [chat] drivers names this driver. */
bool cfg_has_driver(const struct cfg *cfg, const char *driver);
/*
 * Reads a one-line secret file (token, password): trailing newline removed.
 * NULL with a message in err on error; the message never contains the secret.
 */
char *cfg_read_secret(const char *path, char *err, size_t errlen);

#endif
