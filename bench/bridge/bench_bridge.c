/*
 * Benchmark driver for campaign-bridge (run by bench/bridge/run, not ctest).
 * A QoS 1 subscriber (libmosquitto, its own thread) times what arrives:
 *
 *   bench_bridge throughput DB PORT N OUT
 *       commits N progress events in one transaction and times commit -> the
 *       subscriber holding all N on <prefix>/events; writes the payloads as
 *       received to OUT (one per line) for the mosquitto_pub -l peer.
 *   bench_bridge peer PORT N FILE
 *       runs mosquitto_pub -q 1 -l with FILE on bench/peer and times start ->
 *       the subscriber holding all N.
 *   bench_bridge latency DB PORT N GAP_MS
 *       N reports through progress_report (as campaignctl does), GAP_MS apart;
 *       prints commit -> subscriber latency p50/p99/max.
 *
 * Loopback only; every wait is bounded.
 */
#include <inttypes.h>
#include <jansson.h>
#include <mosquitto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "campaign/clock.h"
#include "campaign/events.h"
#include "campaign/num.h"
#include "campaign/plandb.h"
#include "campaign/progress.h"
#include "campaign/store.h"

#define WAIT_MAX_US (120LL * 1000000)

struct sub {
	pthread_mutex_t lock;
	int64_t base;           /* ids counted: base < id <= base + n */
	size_t n, got;
	int64_t *at_us;         /* arrival per id, 0 if not yet */
	FILE *save;             /* payloads, one per line */
	bool by_line;           /* peer: count messages, not ids */
	bool ready;
};

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
	struct sub *s = obj;
	int64_t t = now_us(), id = 0;
	const char *p;

	(void)m;
	pthread_mutex_lock(&s->lock);
	if (s->by_line) {
		if (s->got < s->n)
			s->at_us[s->got++] = t;
	} else if (msg->payloadlen > 0 && (p = strstr(msg->payload, "\"id\":")) != NULL) {
		id = strtoll(p + 5, NULL, 10);
		if (id > s->base && id <= s->base + (int64_t)s->n && s->at_us[id - s->base - 1] == 0) {
			s->at_us[id - s->base - 1] = t;
			s->got++;
			if (s->save != NULL)
				fprintf(s->save, "%.*s\n", msg->payloadlen, (const char *)msg->payload);
		}
	}
	pthread_mutex_unlock(&s->lock);
}

static void
on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *qos)
{
	struct sub *s = obj;

	(void)m;
	(void)mid;
	(void)n;
	(void)qos;
	pthread_mutex_lock(&s->lock);
	s->ready = true;
	pthread_mutex_unlock(&s->lock);
}

static struct mosquitto *
subscribe(struct sub *s, int port, const char *topic)
{
	struct mosquitto *m = mosquitto_new(NULL, true, s);

	mosquitto_message_callback_set(m, on_message);
	mosquitto_subscribe_callback_set(m, on_subscribe);
	if (mosquitto_connect(m, "127.0.0.1", port, 30) != 0 ||
	    mosquitto_subscribe(m, NULL, topic, 1) != 0 || mosquitto_loop_start(m) != 0) {
		fprintf(stderr, "bench_bridge: cannot subscribe on port %d\n", port);
		exit(1);
	}
	for (int i = 0; i < 500; i++) {
		bool ready;

		pthread_mutex_lock(&s->lock);
		ready = s->ready;
		pthread_mutex_unlock(&s->lock);
		if (ready)
			return m;
		usleep(10000);
	}
	fprintf(stderr, "bench_bridge: no SUBACK\n");
	exit(1);
}

/* Waits for all n; returns the arrival time of the last one. */
static int64_t
wait_all(struct sub *s, int64_t since)
{
	for (;;) {
		size_t got;
		int64_t last = 0;

		pthread_mutex_lock(&s->lock);
		got = s->got;
		if (got == s->n)
			for (size_t i = 0; i < s->n; i++)
				if (s->at_us[i] > last)
					last = s->at_us[i];
		pthread_mutex_unlock(&s->lock);
		if (got == s->n)
			return last;
		if (now_us() - since > WAIT_MAX_US) {
			fprintf(stderr, "bench_bridge: only %zu of %zu arrived\n", got, s->n);
			exit(1);
		}
		usleep(1000);
	}
}

static void
sub_init(struct sub *s, size_t n)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->n = n;
	s->at_us = calloc(n, sizeof(*s->at_us));
}

static struct store *
open_store(const char *db, struct plan **plan)
{
	char err[256];
	struct store *st = store_open(db, err, sizeof(err));

	if (st == NULL || (*plan = plandb_load(st, err, sizeof(err))) == NULL ||
	    plandb_use_zone(st, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_bridge: %s\n", err);
		exit(1);
	}
	return st;
}

static int64_t
last_event_id(struct store *st)
{
	sqlite3_stmt *q = store_stmt(st, "SELECT coalesce(max(id), 0) FROM events");
	int64_t id;

	sqlite3_step(q);
	id = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return id;
}

static int
throughput(const char *db, int port, size_t n, const char *out)
{
	struct plan *plan;
	struct store *st = open_store(db, &plan);
	char topic[128], err[256];
	struct sub s;
	struct mosquitto *m;
	int64_t t0, t1;

	sub_init(&s, n);
	s.save = fopen(out, "w");
	snprintf(topic, sizeof(topic), "campaign/%s/events", plan->id);
	m = subscribe(&s, port, topic);
	s.base = last_event_id(st);
	/* Realistic progress payloads (the shape progress_report writes). */
	store_begin(st);
	for (size_t i = 0; i < n; i++) {
		const struct plan_task *t = &plan->tasks[i % plan->ntasks];
		json_t *p = json_pack("{s:{s:s,s:s,s:s,s:i,s:b},s:s,s:i,s:b,s:s,s:s}",
		    "task", "id", t->id, "title", t->title, "due", "2027-10-17", "percent",
		    (int)(i % 100), "done", 0, "unit", "市扶贫办", "percent", (int)(i % 100),
		    "done", 0, "note", "已动员180家企业参与结对帮扶", "by", "bench");

		if (events_append(st, "progress", plan->id, p, clock_now(), err, sizeof(err)) < 0) {
			fprintf(stderr, "bench_bridge: %s\n", err);
			return 1;
		}
		json_decref(p);
	}
	store_commit(st);
	t0 = now_us();
	t1 = wait_all(&s, t0);
	printf("bridge %zu events in %.3f s: %.0f events/s\n", n, (t1 - t0) / 1e6,
	    n / ((t1 - t0) / 1e6));
	mosquitto_disconnect(m);
	mosquitto_loop_stop(m, false);
	mosquitto_destroy(m);
	fclose(s.save);
	store_close(st);
	plan_free(plan);
	return 0;
}

static int
peer(int port, size_t n, const char *file)
{
	char cmd[512];
	struct sub s;
	struct mosquitto *m;
	int64_t t0, t1;
	int rc;

	sub_init(&s, n);
	s.by_line = true;
	m = subscribe(&s, port, "bench/peer");
	snprintf(cmd, sizeof(cmd), "mosquitto_pub -h 127.0.0.1 -p %d -q 1 -t bench/peer -l < %s",
	    port, file);
	t0 = now_us();
	rc = system(cmd);
	t1 = wait_all(&s, t0);
	printf("mosquitto_pub -l %zu messages in %.3f s: %.0f messages/s (exit %d)\n", n,
	    (t1 - t0) / 1e6, n / ((t1 - t0) / 1e6), rc);
	mosquitto_disconnect(m);
	mosquitto_loop_stop(m, false);
	mosquitto_destroy(m);
	return 0;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int
latency(const char *db, int port, size_t n, int gap_ms)
{
	struct plan *plan;
	struct store *st = open_store(db, &plan);
	int64_t *commit = calloc(n, sizeof(*commit)), *lat = calloc(n, sizeof(*lat));
	char topic[128], err[256], key[64];
	struct sub s;
	struct mosquitto *m;

	sub_init(&s, n);
	snprintf(topic, sizeof(topic), "campaign/%s/events", plan->id);
	m = subscribe(&s, port, topic);
	s.base = last_event_id(st);
	for (size_t i = 0, k = 0; i < n; i++) {
		const struct plan_task *t;

		while ((t = &plan->tasks[k++ % plan->ntasks])->nunits == 0)
			;
		struct report_input in = { .task_id = t->id, .unit = t->units[0],
		    .percent = (int)(i % 100), .platform = "bench", .user_id = "bench",
		    .at = clock_now(), .source_key = key, .note = "进度更新" };
		int64_t id;

		snprintf(key, sizeof(key), "bench:%zu:%" PRId64, i, now_us());
		if (progress_report(st, plan, &in, &id, err, sizeof(err)) != REPORT_RECORDED) {
			fprintf(stderr, "bench_bridge: %s\n", err);
			return 1;
		}
		commit[id - s.base - 1] = now_us();
		usleep((useconds_t)gap_ms * 1000);
	}
	wait_all(&s, now_us());
	for (size_t i = 0; i < n; i++)
		lat[i] = s.at_us[i] - commit[i];
	qsort(lat, n, sizeof(*lat), cmp_i64);
	printf("commit -> subscriber latency over %zu reports: p50 %.2f ms, p99 %.2f ms, "
	    "max %.2f ms\n", n, lat[n / 2] / 1000.0, lat[(n * 99) / 100] / 1000.0,
	    lat[n - 1] / 1000.0);
	mosquitto_disconnect(m);
	mosquitto_loop_stop(m, false);
	mosquitto_destroy(m);
	store_close(st);
	plan_free(plan);
	return 0;
}

int
main(int argc, char **argv)
{
	char err[256];
	int64_t n, port, gap;

	mosquitto_lib_init();
	if (clock_init(err, sizeof(err)) < 0)
		return 1;
	if (argc == 6 && strcmp(argv[1], "throughput") == 0 &&
	    num_parse_i64(argv[3], 1, 65535, &port) == 0 &&
	    num_parse_i64(argv[4], 1, 10000000, &n) == 0)
		return throughput(argv[2], (int)port, (size_t)n, argv[5]);
	if (argc == 5 && strcmp(argv[1], "peer") == 0 &&
	    num_parse_i64(argv[2], 1, 65535, &port) == 0 &&
	    num_parse_i64(argv[3], 1, 10000000, &n) == 0)
		return peer((int)port, (size_t)n, argv[4]);
	if (argc == 6 && strcmp(argv[1], "latency") == 0 &&
	    num_parse_i64(argv[3], 1, 65535, &port) == 0 &&
	    num_parse_i64(argv[4], 1, 100000, &n) == 0 &&
	    num_parse_i64(argv[5], 0, 10000, &gap) == 0)
		return latency(argv[2], (int)port, (size_t)n, (int)gap);
	fprintf(stderr, "usage: bench_bridge throughput DB PORT N OUT | peer PORT N FILE | "
	    "latency DB PORT N GAP_MS\n");
	return 2;
}
