/*
 * The daemon: the store, the core, one driver, the sender, the scheduler and the loop, and
 * the host side of the driver interface (apply a batch, report a send,
 * wake on other processes' commits). main.c sets it up and tears it down.
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
#include "bulletin_job.h"
#include "tg_files.h"
#include "mailbox.h"
#include "scheduler.h"
#include "sender.h"

struct bot {
	struct cfg *cfg;
	const char *config_path;
	struct store *store;
	struct core *core;
	struct loop *loop;
	struct driver *driver;
	struct sender *sender;
	struct scheduler *scheduler;    /* deadline reminders */
	struct mailbox *mailbox;        /* issue 15: the office mailbox; NULL without [mail] */
	struct bulletinjob *bulletin;   /* issue 15: the scheduled 通报; NULL without [bulletin] */
	struct tgfiles *files;          /* issue 15: Telegram documents; NULL on the console */
	struct dbwatch *watch;
	struct driver_host host;
	struct loop_timer *housekeeping;
	struct loop_timer *dbcheck;     /* coalesces database notifications */
	bool rechecking;        /* a notified commit was not visible yet: looking again */
	int sigpipe[2];
	bool stopping;
	bool input_closed;      /* the console reached EOF: drain, then exit */
	int64_t closed_at;
	int exit_code;
};

/* Prepares the loop, the host, signals and the database watch. */
int bot_init(struct bot *b);
/* Starts the driver and runs until a signal, EOF (console) or a fatal error. */
int bot_run(struct bot *b);
void bot_cleanup(struct bot *b);

#endif
