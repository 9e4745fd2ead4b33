/*
 * Stop requests with a hard bound: SIGALRM, armed by the first request,
 * ends a process stuck past its shutdown bound. Only async-signal-safe
 * calls here (sigaction, alarm, write, _exit).
 */
#include "campaign/stopping.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t requested;

static void
on_alarm(int sig)
{
	static const char msg[] = "ERROR stop: still running at the shutdown bound after "
	    "SIGTERM; exiting now (state is in the store)\n";

	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nowhere to tell */
	}
	_exit(EXIT_FAILURE);
}

void
stopping_request(unsigned bound_s)
{
	struct sigaction sa;

	if (requested)
		return;
	requested = 1;
	if (bound_s == 0)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(bound_s);
}

bool
stopping_requested(void)
{
	return requested != 0;
}
