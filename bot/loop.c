/*
 * Event loop on poll() and curl_multi_socket_action(): libcurl tells us its
 * sockets and its next timeout, and one poll waits on those and on our extra
 * descriptors, so a long poll, sends, signals and the database watch never
 * starve each other. libcurl then works only on the socket that is ready
 * (curl_multi_perform would look at every transfer, with a poll each).
 * Timers are a short list (a daemon has a handful); the nearest one, or
 * libcurl's, bounds the wait.
 */
#include "loop.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/xmalloc.h"

#define MAX_FDS 8

struct watch {
	int fd;
	loop_fd_cb *cb;
	void *arg;
	loop_fd_events_cb *ecb;  /* instead of cb: also reports writability */
	bool want_write;
};

struct transfer {
	CURL *easy;
	loop_curl_cb *cb;
	void *arg;
	bool keep;              /* CONNECT_ONLY: stays in the multi when done */
};

/* A socket libcurl wants watched (CURLMOPT_SOCKETFUNCTION). */
struct csock {
	curl_socket_t fd;
	short events;
};

struct loop_timer {
	struct loop *loop;
	int64_t at;             /* -1: disarmed */
	loop_timer_cb *cb;
	void *arg;
};

struct loop {
	CURLM *multi;
	struct watch watches[MAX_FDS];
	size_t nwatches;
	struct transfer *transfers;
	size_t ntransfers;
	struct loop_timer **timers;
	size_t ntimers;
	struct csock *csocks;
	size_t ncsocks;
	int64_t curl_at;        /* libcurl's timeout (CURLMOPT_TIMERFUNCTION); -1: none */
	struct pollfd *pfds;    /* the wait's descriptors: watches, then libcurl's */
	size_t npfds_cap;
	int64_t now;
	loop_timer_cb *before_wait;
	void *before_wait_arg;
};

static int
on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct loop *l = arg;
	short events = (short)((what == CURL_POLL_IN || what == CURL_POLL_INOUT ? POLLIN : 0) |
	    (what == CURL_POLL_OUT || what == CURL_POLL_INOUT ? POLLOUT : 0));

	(void)easy;
	(void)sockp;
	for (size_t i = 0; i < l->ncsocks; i++) {
		if (l->csocks[i].fd == fd) {
			if (what == CURL_POLL_REMOVE)
				l->csocks[i] = l->csocks[--l->ncsocks];
			else
				l->csocks[i].events = events;
			return 0;
		}
	}
	if (what != CURL_POLL_REMOVE) {
		l->csocks = xreallocarray(l->csocks, l->ncsocks + 1, sizeof(*l->csocks));
		l->csocks[l->ncsocks++] = (struct csock){ fd, events };
	}
	return 0;
}

static int
on_curl_timer(CURLM *multi, long ms, void *arg)
{
	struct loop *l = arg;

	(void)multi;
	l->curl_at = ms < 0 ? -1 : clock_mono_ms() + ms;
	return 0;
}

struct loop *
loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof(*l));

	l->multi = curl_multi_init();
	if (l->multi == NULL)
		fatalx("loop", "curl_multi_init failed");
	l->curl_at = -1;
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
	l->now = clock_mono_ms();
	return l;
}

void
loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->ntransfers; i++)
		curl_multi_remove_handle(l->multi, l->transfers[i].easy);
	free(l->transfers);
	for (size_t i = 0; i < l->ntimers; i++)
		l->timers[i]->loop = NULL;
	free(l->timers);
	curl_multi_cleanup(l->multi);
	free(l->csocks);
	free(l->pfds);
	free(l);
}

void
loop_watch_fd(struct loop *l, int fd, loop_fd_cb *cb, void *arg)
{
	if (fd < 0)
		return;
	if (l->nwatches == MAX_FDS)
		fatalx("loop", "too many watched descriptors");
	l->watches[l->nwatches++] = (struct watch){ fd, cb, arg, NULL, false };
}

void
loop_watch_fd_events(struct loop *l, int fd, bool want_write, loop_fd_events_cb *cb, void *arg)
{
	if (fd < 0)
		return;
	for (size_t i = 0; i < l->nwatches; i++) {
		if (l->watches[i].fd == fd && l->watches[i].ecb != NULL) {
			l->watches[i] = (struct watch){ fd, NULL, arg, cb, want_write };
			return;
		}
	}
	if (l->nwatches == MAX_FDS)
		fatalx("loop", "too many watched descriptors");
	l->watches[l->nwatches++] = (struct watch){ fd, NULL, arg, cb, want_write };
}

void
loop_unwatch_fd(struct loop *l, int fd)
{
	for (size_t i = 0; i < l->nwatches; i++) {
		if (l->watches[i].fd == fd) {
			l->watches[i] = l->watches[--l->nwatches];
			return;
		}
	}
}

struct loop_timer *
loop_timer_new(struct loop *l, loop_timer_cb *cb, void *arg)
{
	struct loop_timer *t = xcalloc(1, sizeof(*t));

	t->loop = l;
	t->at = -1;
	t->cb = cb;
	t->arg = arg;
	l->timers = xreallocarray(l->timers, l->ntimers + 1, sizeof(*l->timers));
	l->timers[l->ntimers++] = t;
	return t;
}

void
loop_timer_at(struct loop_timer *t, int64_t at_ms)
{
	t->at = at_ms;
}

void
loop_timer_after(struct loop_timer *t, int64_t ms)
{
	t->at = clock_mono_ms() + (ms < 0 ? 0 : ms);
}

bool
loop_timer_armed(const struct loop_timer *t)
{
	return t->at >= 0;
}

void
loop_timer_free(struct loop_timer *t)
{
	struct loop *l;

	if (t == NULL)
		return;
	l = t->loop;
	if (l != NULL) {
		for (size_t i = 0; i < l->ntimers; i++) {
			if (l->timers[i] == t) {
				l->timers[i] = l->timers[--l->ntimers];
				break;
			}
		}
	}
	free(t);
}

static int
add_transfer(struct loop *l, CURL *easy, loop_curl_cb *cb, void *arg, bool keep)
{
	CURLMcode rc = curl_multi_add_handle(l->multi, easy);

	if (rc != CURLM_OK) {
		log_warnx("loop", "curl_multi_add_handle: %s", curl_multi_strerror(rc));
		return -1;
	}
	l->transfers = xreallocarray(l->transfers, l->ntransfers + 1, sizeof(*l->transfers));
	l->transfers[l->ntransfers++] = (struct transfer){ easy, cb, arg, keep };
	return 0;
}

int
loop_curl_add(struct loop *l, CURL *easy, loop_curl_cb *cb, void *arg)
{
	return add_transfer(l, easy, cb, arg, false);
}

int
loop_curl_add_connect_only(struct loop *l, CURL *easy, loop_curl_cb *cb, void *arg)
{
	return add_transfer(l, easy, cb, arg, true);
}

/* Forgets a transfer; true if it was known (its callback is then ours to call).
 * A finished CONNECT_ONLY transfer stays in the multi (done), unless aborted. */
static bool
forget(struct loop *l, CURL *easy, bool done, struct transfer *out)
{
	for (size_t i = 0; i < l->ntransfers; i++) {
		if (l->transfers[i].easy == easy) {
			*out = l->transfers[i];
			l->transfers[i] = l->transfers[--l->ntransfers];
			if (!done || !out->keep)
				curl_multi_remove_handle(l->multi, easy);
			return true;
		}
	}
	return false;
}

void
loop_curl_remove(struct loop *l, CURL *easy)
{
	struct transfer t;

	forget(l, easy, false, &t);
}

int64_t
loop_now(struct loop *l)
{
	return l->now;
}

static int
wait_ms(struct loop *l, int max_wait_ms)
{
	int64_t wait = max_wait_ms;

	for (size_t i = 0; i < l->ntimers; i++) {
		int64_t at = l->timers[i]->at;

		if (at >= 0 && at - l->now < wait)
			wait = at - l->now;
	}
	if (l->curl_at >= 0 && l->curl_at - l->now < wait)
		wait = l->curl_at - l->now;
	return wait < 0 ? 0 : (int)wait;
}

static void
run_timers(struct loop *l)
{
	/* A callback may arm, disarm or free timers: rescan after each one. */
	for (;;) {
		struct loop_timer *due = NULL;

		for (size_t i = 0; i < l->ntimers; i++) {
			struct loop_timer *t = l->timers[i];

			if (t->at >= 0 && t->at <= l->now && (due == NULL || t->at < due->at))
				due = t;
		}
		if (due == NULL)
			return;
		due->at = -1;
		due->cb(due->arg);
	}
}

static void
finish_transfers(struct loop *l)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(l->multi, &left)) != NULL) {
		struct transfer t;

		if (msg->msg != CURLMSG_DONE)
			continue;
		CURLcode result = msg->data.result;
		CURL *easy = msg->easy_handle;

		if (forget(l, easy, true, &t))
			t.cb(t.arg, easy, result);
	}
}

void
loop_before_wait(struct loop *l, loop_timer_cb *cb, void *arg)
{
	l->before_wait = cb;
	l->before_wait_arg = arg;
}

/* libcurl's timeout, if due: what it does then (a transfer just added starts). */
static void
curl_timeout(struct loop *l)
{
	int running;

	if (l->curl_at < 0 || l->curl_at > l->now)
		return;
	l->curl_at = -1;
	curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
}

void
loop_run_once(struct loop *l, int max_wait_ms)
{
	struct watch ready[MAX_FDS];
	short revents[MAX_FDS];
	size_t nready = 0, n, nc, ncready = 0;
	int running, rc;

	/* Transfers added since the last round start now, not after a wait of 0. */
	l->now = clock_mono_ms();
	curl_timeout(l);
	finish_transfers(l);
	if (l->before_wait != NULL)
		l->before_wait(l->before_wait_arg);
	n = l->nwatches;
	nc = l->ncsocks;
	if (n + nc > l->npfds_cap) {
		l->npfds_cap = n + nc + 8;
		l->pfds = xreallocarray(l->pfds, l->npfds_cap, sizeof(*l->pfds));
	}
	for (size_t i = 0; i < n; i++)
		l->pfds[i] = (struct pollfd){ .fd = l->watches[i].fd,
		    .events = POLLIN | (l->watches[i].want_write ? POLLOUT : 0) };
	for (size_t i = 0; i < nc; i++)
		l->pfds[n + i] = (struct pollfd){ .fd = l->csocks[i].fd,
		    .events = l->csocks[i].events };
	l->now = clock_mono_ms();
	rc = poll(l->pfds, (nfds_t)(n + nc), wait_ms(l, max_wait_ms));
	if (rc < 0 && errno != EINTR)
		log_warn("loop", "poll");
	if (rc < 0)
		rc = 0;
	l->now = clock_mono_ms();
	/* Collect first: a callback may change the watch list. */
	for (size_t i = 0; i < n && rc > 0; i++)
		if (l->pfds[i].revents != 0) {
			revents[nready] = l->pfds[i].revents;
			ready[nready++] = l->watches[i];
		}
	/* libcurl's ready sockets move to the front of their part of pfds. */
	for (size_t i = 0; i < nc && rc > 0; i++)
		if (l->pfds[n + i].revents != 0)
			l->pfds[n + ncready++] = l->pfds[n + i];
	for (size_t i = 0; i < nready; i++) {
		bool still = false;

		for (size_t k = 0; k < l->nwatches; k++)
			still |= l->watches[k].fd == ready[i].fd && l->watches[k].cb == ready[i].cb &&
			    l->watches[k].ecb == ready[i].ecb;
		if (!still)
			continue;
		if (ready[i].ecb != NULL)
			ready[i].ecb(ready[i].arg, ready[i].fd, (revents[i] & ~POLLOUT) != 0,
			    (revents[i] & POLLOUT) != 0);
		else
			ready[i].cb(ready[i].arg, ready[i].fd);
	}
	for (size_t i = 0; i < ncready; i++) {
		short re = l->pfds[n + i].revents;
		int ev = (re & (POLLIN | POLLHUP | POLLERR) ? CURL_CSELECT_IN : 0) |
		    (re & (POLLOUT | POLLERR) ? CURL_CSELECT_OUT : 0) |
		    (re & (POLLERR | POLLNVAL) ? CURL_CSELECT_ERR : 0);

		curl_multi_socket_action(l->multi, l->pfds[n + i].fd, ev, &running);
	}
	l->now = clock_mono_ms();
	curl_timeout(l);
	finish_transfers(l);
	l->now = clock_mono_ms();
	run_timers(l);
}
