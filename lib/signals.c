/* The signal self-pipe (see signals.h). One per process: signals are. */
#include "campaign/signals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "campaign/stopping.h"

static volatile sig_atomic_t got_term, got_hup;
static int pipe_fds[2] = { -1, -1 };

static void
on_signal(int sig)
{
	int saved = errno;

	if (sig == SIGHUP) {
		got_hup = 1;
	} else {
		got_term = 1;
		/* Whatever the loop is doing, the daemon ends within the bound. */
		stopping_request(STOPPING_BOUND_S);
	}
	if (pipe_fds[1] >= 0 && write(pipe_fds[1], "", 1) < 0) {
		/* The pipe is full: a wake-up is already pending. */
	}
	errno = saved;
}

int
signals_open(void)
{
	struct sigaction sa;

	if (pipe_fds[0] >= 0)
		return pipe_fds[0];
	if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return pipe_fds[0];
}

int
signals_take(void)
{
	char drain[64];
	int seen = 0;

	while (pipe_fds[0] >= 0 && read(pipe_fds[0], drain, sizeof(drain)) > 0)
		;
	if (got_term) {
		got_term = 0;
		seen |= SIGNALS_TERM;
	}
	if (got_hup) {
		got_hup = 0;
		seen |= SIGNALS_HUP;
	}
	return seen;
}

void
signals_close(void)
{
	if (pipe_fds[0] < 0)
		return;
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	pipe_fds[0] = pipe_fds[1] = -1;
}
