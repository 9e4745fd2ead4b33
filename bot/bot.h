/*
 * The daemon: the store, the core, the platforms (each a driver with its own
 * outbox sender and pacer), the scheduler and the loop, and the host side of
 * the driver interface (apply a batch, report a send, wake on other
 * processes' commits). main.c sets it up and tears it down.
 */
#ifndef CAMPAIGN_BOT_BOT_H
#define CAMPAIGN_BOT_BOT_H

#include <signal.h>
#include <stdbool.h>

#include "campaign/cfg.h"
#include "campaign/dbwatch.h"
#include "campaign/store.h"
#include "core.h"
#include "driver.h"
#include "loop.h"
#include "registry.h"
#include "bulletin_job.h"
#include "file_fetch.h"
#include "mailbox.h"
#include "scheduler.h"
#include "sender.h"

/* One chat platform the daemon serves: its driver, its sender, its host. */
struct bot_platform {
	struct bot *bot;
	char *name;             /* the driver's name */
	struct driver *driver;
	struct sender *sender;
	struct file_fetch *files;       /* files sent in chat; NULL if the platform has none */
	struct driver_host host;
	int lock_fd;            /* one connection per bot identity and database; -1: none */
	int presence_fd;        /* tells campaignctl broadcast --wait someone delivers */
};

struct bot {
	struct cfg *cfg;
	const char *config_path;
	struct store *store;
	struct core *core;
	struct loop *loop;
	struct bot_platform *platforms;
	size_t nplatforms;
	struct scheduler *scheduler;    /* deadline reminders */
	struct mailbox *mailbox;        /* issue 15: the office mailbox; NULL without [mail] */
	struct bulletinjob *bulletin;   /* issue 15: the scheduled 通报; NULL without [bulletin] */
	struct dbwatch *watch;
	struct loop_timer *housekeeping;
	struct loop_timer *dbcheck;     /* coalesces database notifications */
	bool rechecking;        /* a notified commit was not visible yet: looking again */
	uint64_t writes_seen;   /* store_writes() at the last look (own_writes) */
	bool stopping;
	bool input_closed;      /* the console reached EOF: drain, then exit */
	int64_t closed_at;
	int exit_code;
};

/* Prepares the loop, signals and the database watch. */
int bot_init(struct bot *b);
/* Adds the named platform (a registry name). */
void bot_add_platform(struct bot *b, const char *name);
/* Takes each platform's locks and makes its driver from the configuration. */
int bot_open_platforms(struct bot *b, const char *db, const struct driver_args *a);
/* Starts the drivers and runs until a signal, EOF (console) or a fatal error. */
int bot_run(struct bot *b);
void bot_cleanup(struct bot *b);

#endif
