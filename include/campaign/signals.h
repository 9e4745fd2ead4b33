/*
 * Signals as loop events, for both daemons: the handlers only set a flag
 * and write a byte to a self-pipe; the loop watches the pipe's read end and
 * takes the flags, so every reaction (reload, shutdown) runs on the loop.
 * SIGTERM and SIGINT ask to stop (and arm stopping.h's bound), SIGHUP to
 * reload; SIGPIPE is ignored (a peer that went away is a write error, not a
 * death).
 */
#ifndef CAMPAIGN_SIGNALS_H
#define CAMPAIGN_SIGNALS_H

enum {
	SIGNALS_TERM = 1,       /* SIGTERM or SIGINT */
	SIGNALS_HUP = 2,        /* SIGHUP */
};

/* Installs the handlers; the fd to watch for reading, or -1 (errno set). */
int signals_open(void);
/* Drains the pipe: the signals seen since the last call (SIGNALS_* bits). */
int signals_take(void);
/* Restores the default handlers and closes the pipe. */
void signals_close(void);

#endif
