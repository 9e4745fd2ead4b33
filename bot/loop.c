/*
 * Event loop on curl_multi_poll(): libcurl waits on its own sockets and on
 * our extra descriptors in one poll, so a long poll, sends, signals and the
 * database watch never starve each other. Timers are a short list (a daemon
 * has a handful); the nearest one bounds the wait.
 */
#include "loop.h"

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
	int64_t now;
	loop_timer_cb *before_wait;
	void *before_wait_arg;
};

struct loop *
loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof(*l));

	l->multi = curl_multi_init();
	if (l->multi == NULL)
		fatalx("loop", "curl_multi_init failed");
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

void
loop_run_once(struct loop *l, int max_wait_ms)
{
	struct curl_waitfd fds[MAX_FDS];
	struct watch ready[MAX_FDS];
	short revents[MAX_FDS];
	size_t nready = 0, n = l->nwatches;
	int running;
	CURLMcode rc;

	if (l->before_wait != NULL)
		l->before_wait(l->before_wait_arg);
	n = l->nwatches;
	l->now = clock_mono_ms();
	for (size_t i = 0; i < n; i++)
		fds[i] = (struct curl_waitfd){ .fd = l->watches[i].fd,
		    .events = CURL_WAIT_POLLIN | (l->watches[i].want_write ? CURL_WAIT_POLLOUT : 0) };
	rc = curl_multi_poll(l->multi, fds, (unsigned)n, wait_ms(l, max_wait_ms), NULL);
	if (rc != CURLM_OK)
		log_warnx("loop", "curl_multi_poll: %s", curl_multi_strerror(rc));
	l->now = clock_mono_ms();
	/* Collect first: a callback may change the watch list. */
	for (size_t i = 0; i < n; i++)
		if (fds[i].revents != 0) {
			revents[nready] = fds[i].revents;
			ready[nready++] = l->watches[i];
		}
	for (size_t i = 0; i < nready; i++) {
		bool still = false;

		for (size_t k = 0; k < l->nwatches; k++)
			still |= l->watches[k].fd == ready[i].fd && l->watches[k].cb == ready[i].cb &&
			    l->watches[k].ecb == ready[i].ecb;
		if (!still)
			continue;
		if (ready[i].ecb != NULL)
			ready[i].ecb(ready[i].arg, ready[i].fd, (revents[i] & ~CURL_WAIT_POLLOUT) != 0,
			    (revents[i] & CURL_WAIT_POLLOUT) != 0);
		else
			ready[i].cb(ready[i].arg, ready[i].fd);
	}
	if (l->ntransfers > 0) {
		curl_multi_perform(l->multi, &running);
		finish_transfers(l);
	}
	l->now = clock_mono_ms();
	run_timers(l);
}
