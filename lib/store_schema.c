/*
 * The schema, as an ordered list of migrations. Migration N brings the
 * database from user_version N-1 to N; never edit a released one, append.
 * Times are unix seconds; calendar days are day numbers (caldate.h).
 */
#include "store_schema.h"

static const char *const migration_v1 =
    /* The loaded plan's scalars: plan.id, plan.title, plan.year ... */
    "CREATE TABLE meta("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL) WITHOUT ROWID;"

    /* Units keep their id across plan reloads (matched on the normalized name),
       so bindings, invites and progress survive a corrected plan. */
    "CREATE TABLE units("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  norm TEXT NOT NULL UNIQUE,"
    "  seq INTEGER NOT NULL);"
    "CREATE TABLE unit_aliases("
    "  norm TEXT PRIMARY KEY,"
    "  alias TEXT NOT NULL,"
    "  unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE tasks("
    "  id TEXT PRIMARY KEY,"
    "  seq INTEGER NOT NULL,"
    "  title TEXT NOT NULL,"
    "  detail TEXT,"
    "  when_text TEXT,"
    "  start_day INTEGER,"
    "  due_day INTEGER,"
    "  fuzzy INTEGER NOT NULL DEFAULT 0,"
    "  actors TEXT,"         /* JSON arrays of names, or NULL */
    "  report_to TEXT) WITHOUT ROWID;"
    "CREATE TABLE task_units("
    "  task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,"
    "  unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL,"
    "  PRIMARY KEY(task_id, unit_id)) WITHOUT ROWID;"
    "CREATE INDEX task_units_unit ON task_units(unit_id);"

    /* Progress: the history of reports and the current state per task and unit. */
    "CREATE TABLE reports("
    "  id INTEGER PRIMARY KEY,"
    "  task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,"
    "  unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,"
    "  percent INTEGER NOT NULL CHECK(percent BETWEEN 0 AND 100),"
    "  done INTEGER NOT NULL,"
    "  note TEXT,"
    "  platform TEXT NOT NULL,"
    "  user_id TEXT NOT NULL,"
    "  user_name TEXT,"
    "  at INTEGER NOT NULL,"
    "  source_key TEXT UNIQUE);"
    "CREATE INDEX reports_task ON reports(task_id, unit_id, id);"
    "CREATE TABLE task_state("
    "  task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,"
    "  unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,"
    "  percent INTEGER NOT NULL,"
    "  done INTEGER NOT NULL,"
    "  note TEXT,"
    "  report_id INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  PRIMARY KEY(task_id, unit_id)) WITHOUT ROWID;"

    /* People: chat users and their unit, admins, invites (only a hash is kept). */
    "CREATE TABLE users("
    "  platform TEXT NOT NULL,"
    "  user_id TEXT NOT NULL,"
    "  name TEXT,"
    "  unit_id INTEGER REFERENCES units(id) ON DELETE SET NULL,"
    "  bound_at INTEGER,"
    "  PRIMARY KEY(platform, user_id)) WITHOUT ROWID;"
    "CREATE INDEX users_unit ON users(unit_id);"
    "CREATE TABLE admins("
    "  user_id TEXT PRIMARY KEY,"
    "  added_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE invites("
    "  code_hash TEXT PRIMARY KEY,"
    "  unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  used_at INTEGER,"
    "  used_by TEXT) WITHOUT ROWID;"

    /* Chats the bot talks in; subscribed ones get broadcasts and reminders. */
    "CREATE TABLE chats("
    "  platform TEXT NOT NULL,"
    "  chat_id TEXT NOT NULL,"
    "  kind TEXT NOT NULL DEFAULT 'private',"
    "  title TEXT,"
    "  active INTEGER NOT NULL DEFAULT 1,"
    "  subscribed INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  user_id TEXT,"         /* a private chat's peer: where a user's broadcasts go */
    "  reason TEXT,"          /* why the chat went inactive (403 ...) */
    "  updated_at INTEGER,"
    "  PRIMARY KEY(platform, chat_id)) WITHOUT ROWID;"
    "CREATE INDEX chats_user ON chats(platform, user_id) WHERE user_id IS NOT NULL;"

    /* The event outbox for MQTT. AUTOINCREMENT: ids never go back, even after
       the newest row is deleted, so subscribers can rely on them. */
    "CREATE TABLE events("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  type TEXT NOT NULL,"
    "  campaign TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  ts TEXT NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  state INTEGER NOT NULL DEFAULT 0,"   /* 0 pending, 1 delivered, 2 failed */
    "  reason INTEGER,"
    "  done_at INTEGER);"
    "CREATE INDEX events_pending ON events(id) WHERE state = 0;"

    /* The chat outbox: replies, broadcasts, reminders; sent marks only after the API's ok. */
    "CREATE TABLE deliveries("
    "  id INTEGER PRIMARY KEY,"
    "  platform TEXT NOT NULL,"
    "  chat_id TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  ref INTEGER,"
    "  reply_to TEXT,"
    "  text TEXT NOT NULL,"
    "  markup INTEGER NOT NULL DEFAULT 1,"  /* 1: chat markup (markup.h), 0: plain */
    "  parts_sent INTEGER NOT NULL DEFAULT 0," /* pieces of a split text already sent */
    "  dedupe_key TEXT,"                    /* enqueue once per key (reminders) */
    "  state INTEGER NOT NULL DEFAULT 0,"   /* 0 pending, 1 sent, 2 failed */
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  not_before INTEGER NOT NULL DEFAULT 0," /* real unix ms, never CAMPAIGN_NOW */
    "  error TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  sent_at INTEGER);"                   /* real unix time (pacing across restarts) */
    "CREATE INDEX deliveries_sent ON deliveries(platform, sent_at) WHERE state = 1;"
    "CREATE INDEX deliveries_pending ON deliveries(platform, chat_id, id) WHERE state = 0;"
    "CREATE INDEX deliveries_ref ON deliveries(kind, ref) WHERE ref IS NOT NULL;"
    "CREATE UNIQUE INDEX deliveries_dedupe ON deliveries(dedupe_key) "
    "  WHERE dedupe_key IS NOT NULL;"

    /* Chat intake: update ids already applied, for exactly-once effects. */
    "CREATE TABLE seen_updates("
    "  platform TEXT NOT NULL,"
    "  update_id TEXT NOT NULL,"
    "  seen_at INTEGER NOT NULL,"
    "  PRIMARY KEY(platform, update_id)) WITHOUT ROWID;"

    /* Cursors and small daemon state (telegram.offset ...). */
    "CREATE TABLE kv("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL) WITHOUT ROWID;";

/*
 * v2: admin broadcasts, the keys of the reminders already sent (exactly once
 * across restarts, double ticks and clock jumps), and an expiry for chat
 * deliveries (a notice that can no longer be on time is not sent late).
 */
static const char *const migration_v2 =
    /* One row per broadcast; its chat deliveries carry kind 'broadcast' and ref = id.
       AUTOINCREMENT: an id printed to an admin never comes back for another text. */
    "CREATE TABLE broadcasts("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  text TEXT NOT NULL,"               /* as the admin wrote it (plain text) */
    "  units TEXT,"                       /* JSON array of the targeted unit names; NULL: all */
    "  created_at INTEGER NOT NULL,"      /* campaign clock */
    "  expires_at INTEGER,"               /* campaign clock; NULL: never */
    "  event_id INTEGER,"                 /* the announcement event for MQTT */
    "  chats INTEGER NOT NULL,"           /* deliveries queued */
    "  platform TEXT NOT NULL,"           /* where it came from: cli, telegram, console */
    "  user_id TEXT);"                    /* who sent it */

    /* Reminders already sent, by key: a second insert of a key does nothing.
       unit_id 0 with kind 'escalation' is the admins' digest of that day. */
    "CREATE TABLE reminders_sent("
    "  task_id TEXT NOT NULL,"
    "  unit_id INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"               /* before-7 ... before-0, overdue, escalation */
    "  day INTEGER NOT NULL,"             /* the nominal day (day number) */
    "  sent_at INTEGER NOT NULL,"         /* campaign clock */
    "  event_id INTEGER,"
    "  chats INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY(task_id, unit_id, kind, day)) WITHOUT ROWID;"

    /* Campaign clock (unix seconds); a pending delivery is failed as expired after it. */
    "ALTER TABLE deliveries ADD COLUMN expires_at INTEGER;";

/*
 * v3: the platform is part of every identity. Admins were bare user ids, so
 * Telegram user 123 would have been admin 123 on any platform; the rows of
 * v2 were Telegram's (numeric ids) or the console's.
 */
static const char *const migration_v3 =
    "CREATE TABLE admins_v3("
    "  platform TEXT NOT NULL,"
    "  user_id TEXT NOT NULL,"
    "  added_at INTEGER NOT NULL,"
    "  PRIMARY KEY(platform, user_id)) WITHOUT ROWID;"
    "INSERT INTO admins_v3(platform, user_id, added_at) "
    "  SELECT CASE WHEN user_id GLOB '[0-9]*' OR user_id GLOB '-[0-9]*' "
    "  THEN 'telegram' ELSE 'console' END, user_id, added_at FROM admins;"
    "DROP TABLE admins;"
    "ALTER TABLE admins_v3 RENAME TO admins;";
/* v4: placeholder units and the roles of a task's units (the importer's). */
static const char *const migration_v4 =
    /* Placeholder units ("相关单位"): named by a plan, never reminded, invited
       or waited for. A unit's role in a task: 'lead', 'support' or NULL. */
    "ALTER TABLE units ADD COLUMN placeholder INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE task_units ADD COLUMN role TEXT;";

/*
 * v5: the units' written submissions (summary reports sent by mail or chat),
 * the files by content hash, the office mailbox's position, and every mail
 * message already handled. A mail address is bound to a unit as a user of
 * platform "mail" (table users), so invite codes work unchanged.
 */
static const char *const migration_v5 =
    /* A task whose units each submit a document ("…总结"). */
    "ALTER TABLE tasks ADD COLUMN deliverable TEXT;"

    /* Each file once, stored as <state dir>/files/<sha256>. */
    "CREATE TABLE files("
    "  sha256 TEXT PRIMARY KEY,"
    "  size INTEGER NOT NULL,"
    "  stored_at INTEGER NOT NULL) WITHOUT ROWID;"

    /* One row per file received; unit_id NULL: from an unknown sender, for an
       admin to assign. source_id is unique: a repeat is not a second submission.
       AUTOINCREMENT: an id printed to an admin never names another file. */
    "CREATE TABLE submissions("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  task_id TEXT,"                     /* the deliverable; NULL: none matched */
    "  unit_id INTEGER REFERENCES units(id) ON DELETE SET NULL,"
    "  sha256 TEXT NOT NULL REFERENCES files(sha256),"
    "  name TEXT NOT NULL,"               /* the original file name (UTF-8) */
    "  size INTEGER NOT NULL,"
    "  type TEXT,"                        /* MIME type as sent */
    "  channel TEXT NOT NULL,"            /* mail, telegram ... */
    "  sender TEXT NOT NULL,"             /* mail address or platform user id */
    "  source_id TEXT NOT NULL UNIQUE,"   /* message key and part */
    "  subject TEXT,"
    "  received_at INTEGER NOT NULL,"     /* campaign clock */
    "  event_id INTEGER);"
    "CREATE INDEX submissions_unit ON submissions(unit_id, task_id, id);"

    /* The office mailbox's position, committed with what the messages produced. */
    "CREATE TABLE mail_state("
    "  mailbox TEXT PRIMARY KEY,"
    "  uidvalidity INTEGER NOT NULL,"
    "  last_uid INTEGER NOT NULL) WITHOUT ROWID;"

    /* Every message handled, by Message-ID (or a hash of it): a rescan after a
       UIDVALIDITY change, or a repeat, produces nothing twice. */
    "CREATE TABLE mail_messages("
    "  key TEXT PRIMARY KEY,"
    "  sender TEXT NOT NULL,"
    "  subject TEXT,"
    "  outcome TEXT NOT NULL,"            /* submitted, unassigned, bound, refused, ignored */
    "  note TEXT,"
    "  at INTEGER NOT NULL) WITHOUT ROWID;"

    /* Files sent to the bot in a private chat, recorded with the message and
       downloaded after it (the platform's handle stays valid for a while). */
    "CREATE TABLE chat_files("
    "  id INTEGER PRIMARY KEY,"
    "  platform TEXT NOT NULL,"
    "  chat_id TEXT NOT NULL,"
    "  user_id TEXT NOT NULL,"
    "  message_id TEXT NOT NULL,"
    "  unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,"
    "  file_ref TEXT NOT NULL,"           /* Telegram file_id ... */
    "  name TEXT NOT NULL,"
    "  type TEXT,"
    "  size INTEGER,"
    "  state INTEGER NOT NULL DEFAULT 0," /* 0 pending, 1 stored, 2 failed */
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  UNIQUE(platform, chat_id, message_id));";

/*
 * v6: group robots as send-only channels (campaignctl channel). The webhook
 * URL and the signing secret are stored here: the database is created 0600
 * and only the daemon that delivers needs them, so this is the simple, sound
 * place (no second secrets file to keep in step). They are never printed or
 * logged: campaignctl shows the URL's host and last four characters only.
 * A channel's deliveries are chats of platform 'channel' (chat_id = name).
 */
static const char *const migration_v6 =
    "CREATE TABLE channels("
    "  name TEXT PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK(kind IN ('dingtalk-robot', 'wecom-robot', 'feishu-bot')),"
    "  url TEXT NOT NULL,"                /* secret: carries the token or key */
    "  secret TEXT,"                      /* secret: the signing key; NULL: unsigned */
    "  units TEXT,"                       /* JSON array of unit names; NULL: every unit */
    "  sends INTEGER NOT NULL,"           /* bits: 1 broadcasts, 2 reminders, 4 digest */
    "  failing INTEGER NOT NULL DEFAULT 0,"
    "  error_code INTEGER,"               /* the platform's last error (failing) */
    "  error TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL) WITHOUT ROWID;";

/*
 * v7: failed /bind attempts per user, with the start of their window, so a
 * restart does not forgive a guesser (lib/bindlock.c).
 */
static const char *const migration_v7 =
    "CREATE TABLE bind_failures("
    "  platform TEXT NOT NULL,"
    "  user_id TEXT NOT NULL,"
    "  count INTEGER NOT NULL,"
    "  first_at INTEGER NOT NULL,"        /* real clock (unix seconds), not the campaign's */
    "  PRIMARY KEY(platform, user_id)) WITHOUT ROWID;";

const char *const store_migrations[] = {
	migration_v1,
	migration_v2,
	migration_v3,
	migration_v4,
	migration_v5,
	migration_v6,
	migration_v7,
};

const int store_nmigrations = sizeof(store_migrations) / sizeof(store_migrations[0]);
