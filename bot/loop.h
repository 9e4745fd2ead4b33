/*
 * The daemon's one event loop: libcurl transfers (a long poll and sends in
 * flight at once), watched file descriptors (the signal self-pipe, the
 * database watch, the console's stdin) and timers, all in one poll() with
 * a bounded wait (libcurl's sockets through curl_multi_socket_action).
 * Callbacks run on the loop; nothing else runs anywhere, so no state needs
 * a lock.
 */
#ifndef CAMPAIGN_BOT_LOOP_H
#define CAMPAIGN_BOT_LOOP_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

struct loop;
struct loop_timer;

typedef void loop_fd_cb(void *arg, int fd);
/* The fd is readable (or hung up) and/or writable. */
typedef void loop_fd_events_cb(void *arg, int fd, bool readable, bool writable);
typedef void loop_timer_cb(void *arg);
/* A transfer ended: result is curl's code for it. */
typedef void loop_curl_cb(void *arg, CURL *easy, CURLcode result);

struct loop *loop_new(void);
void loop_free(struct loop *l);
/* Calls cb when fd is readable (or hung up). One watch per fd. */
void loop_watch_fd(struct loop *l, int fd, loop_fd_cb *cb, void *arg);
void loop_unwatch_fd(struct loop *l, int fd);
/* Like loop_watch_fd, and also for write readiness while want_write. Called
 * again for a fd it watches, it updates want_write, cb and arg. */
void loop_watch_fd_events(struct loop *l, int fd, bool want_write, loop_fd_events_cb *cb, void *arg);

struct loop_timer *loop_timer_new(struct loop *l, loop_timer_cb *cb, void *arg);
/* Arms (or re-arms) the timer for the monotonic time at_ms; -1 disarms. */
void loop_timer_at(struct loop_timer *t, int64_t at_ms);
void loop_timer_after(struct loop_timer *t, int64_t ms);
bool loop_timer_armed(const struct loop_timer *t);
void loop_timer_free(struct loop_timer *t);

/* Starts a transfer; cb is called once when it ends. */
int loop_curl_add(struct loop *l, CURL *easy, loop_curl_cb *cb, void *arg);
/* The same for a CURLOPT_CONNECT_ONLY transfer: when it ends the handle stays
 * in the multi, because libcurl closes such a connection when its handle
 * leaves; curl_easy_cleanup takes it out (before loop_free). */
int loop_curl_add_connect_only(struct loop *l, CURL *easy, loop_curl_cb *cb, void *arg);
/* Aborts a transfer without calling its callback. */
void loop_curl_remove(struct loop *l, CURL *easy);

/* cb runs at the start of every round, before the wait (one hook; NULL: none). */
void loop_before_wait(struct loop *l, loop_timer_cb *cb, void *arg);
/* One round: waits at most max_wait_ms (less when a timer is due), dispatches. */
void loop_run_once(struct loop *l, int max_wait_ms);
/* The monotonic clock in ms, as of the current round. */
int64_t loop_now(struct loop *l);

#endif
