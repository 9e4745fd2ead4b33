/*
 * The WebSocket client against a real server on loopback (ws_server.py,
 * python3-websockets), driven the way the bot drives it: the connect phase
 * as a transfer on the loop's curl multi, then the socket watched by the
 * same curl_multi_poll, ws_deadline on a loop timer. One case per run
 * (argv[1] names it), so CTest lists each case.
 */
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "campaign/clock.h"
#include "campaign/ws.h"
#include "loop.h"

#define BIG (200 * 1024)
#define RUN_BOUND_MS 20000

struct server {
	pid_t pid;
	int out;                /* its stdout */
	int port;
	int proxy_port;         /* with --proxy */
	char ca[640];
	char tmp[64];
};

struct client {
	struct loop *loop;
	struct loop_timer *deadline;
	struct ws *w;
	int fd;                 /* watched */
	bool opened, closed;
	int code;
	char why[512];
	size_t nmessages;
	char *last;             /* the last message, NUL-terminated */
	size_t last_len;
	/* the script */
	const char *send_on_open;
	bool echo_big;          /* send a big message back as it came */
	const char *close_after; /* ws_close(1000, "done") after this message */
	char side_url[128];     /* after open, a plain HTTP transfer on the same multi */
	struct loop_timer *side;
	bool side_done;
};

static const char *
pattern(void)
{
	static char buf[BIG + 1];
	static const char unit[] = "0123456789abcdefghijklmnopqrstuvwxyz";

	for (size_t i = 0; i < BIG; i++)
		buf[i] = unit[i % (sizeof(unit) - 1)];
	return buf;
}

/* ---- the server process ---- */

static bool
read_line(struct server *s, char *line, size_t len, int timeout_ms)
{
	size_t n = 0;

	while (n + 1 < len) {
		struct pollfd p = { s->out, POLLIN, 0 };
		char c;

		if (poll(&p, 1, timeout_ms) <= 0 || read(s->out, &c, 1) != 1)
			return false;
		if (c == '\n')
			break;
		line[n++] = c;
	}
	line[n] = '\0';
	return true;
}

static void
server_start_with(struct server *s, const char *name, bool tls, bool proxy)
{
	int p[2];
	char line[600];

	memset(s, 0, sizeof(*s));
	if (tls) {
		snprintf(s->tmp, sizeof(s->tmp), "/tmp/ws-test-XXXXXX");
		assert_non_null(mkdtemp(s->tmp));
	}
	assert_int_equal(pipe(p), 0);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		if (tls && proxy)
			execl(WS_PYTHON, WS_PYTHON, WS_SERVER, name, "--tls", s->tmp, "--proxy",
			    (char *)NULL);
		else if (tls)
			execl(WS_PYTHON, WS_PYTHON, WS_SERVER, name, "--tls", s->tmp, (char *)NULL);
		else
			execl(WS_PYTHON, WS_PYTHON, WS_SERVER, name, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	s->out = p[0];
	assert_true(read_line(s, line, sizeof(line), 15000));
	assert_int_equal(sscanf(line, "port %d", &s->port), 1);
	if (tls) {
		assert_true(read_line(s, line, sizeof(line), 15000));
		assert_int_equal(strncmp(line, "ca ", 3), 0);
		snprintf(s->ca, sizeof(s->ca), "%s", line + 3);
	}
	if (proxy) {
		assert_true(read_line(s, line, sizeof(line), 15000));
		assert_int_equal(sscanf(line, "proxy %d", &s->proxy_port), 1);
	}
}

static void
server_start(struct server *s, const char *name, bool tls)
{
	server_start_with(s, name, tls, false);
}

/* The server's own verdict, "ok" or "fail: why". */
static void
server_result(struct server *s, char *out, size_t len)
{
	char line[600];

	out[0] = '\0';
	while (read_line(s, line, sizeof(line), 10000)) {
		if (strncmp(line, "result ", 7) == 0) {
			snprintf(out, len, "%s", line + 7);
			return;
		}
	}
	snprintf(out, len, "no result from the server");
}

static void
server_stop(struct server *s)
{
	char cmd[128];

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
	}
	if (s->out > 0)
		close(s->out);
	if (s->tmp[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", s->tmp);
	}
}

/* ---- the client on the bot's loop ---- */

static void on_fd(void *arg, int fd, bool readable, bool writable);

/* After every ws_* call: watch for writing while output waits; arm the deadline. */
static void
rewatch(struct client *c)
{
	int fd = ws_fd(c->w);

	if (c->closed) {
		if (c->fd >= 0)
			loop_unwatch_fd(c->loop, c->fd);
		c->fd = -1;
		loop_timer_at(c->deadline, -1);
		return;
	}
	if (fd >= 0) {
		c->fd = fd;
		loop_watch_fd_events(c->loop, fd, ws_wants_write(c->w), on_fd, c);
	}
	loop_timer_at(c->deadline, ws_deadline(c->w));
}

static void
on_fd(void *arg, int fd, bool readable, bool writable)
{
	struct client *c = arg;

	(void)fd;
	ws_io(c->w, readable, writable);
	rewatch(c);
}

static void
on_deadline(void *arg)
{
	struct client *c = arg;

	ws_io(c->w, false, false);
	rewatch(c);
}

static void
on_connected(void *arg, CURL *easy, CURLcode result)
{
	struct client *c = arg;

	(void)easy;
	ws_connected(c->w, result);
	rewatch(c);
}

static size_t
sink(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static void
on_side_done(void *arg, CURL *easy, CURLcode result)
{
	struct client *c = arg;

	(void)result;           /* any answer will do: the point is the WebSocket after it */
	curl_easy_cleanup(easy);
	c->side_done = true;
	assert_int_equal(ws_send_text(c->w, "still here", 10), 0);
	rewatch(c);
}

/* An HTTP request to the same host and port, on the same multi, with a
 * connection cache that takes any idle connection for dead: the WebSocket's
 * connection must be neither reused nor pruned. */
static void
start_side(void *arg)
{
	struct client *c = arg;
	CURL *e = curl_easy_init();

	assert_non_null(e);
	curl_easy_setopt(e, CURLOPT_URL, c->side_url);
	curl_easy_setopt(e, CURLOPT_MAXAGE_CONN, 0L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
	assert_int_equal(loop_curl_add(c->loop, e, on_side_done, c), 0);
}

static void
on_open(void *arg)
{
	struct client *c = arg;

	c->opened = true;
	if (c->side_url[0] != '\0')
		loop_timer_after(c->side, 1100);    /* the cache's idle age counts whole seconds */
	if (c->send_on_open != NULL)
		assert_int_equal(ws_send_text(c->w, c->send_on_open, strlen(c->send_on_open)), 0);
}

static void
on_message(void *arg, const char *data, size_t len, bool binary)
{
	struct client *c = arg;

	assert_false(binary);
	c->nmessages++;
	free(c->last);
	c->last = malloc(len + 1);
	assert_non_null(c->last);
	memcpy(c->last, data, len);
	c->last[len] = '\0';
	c->last_len = len;
	if (len == BIG)
		assert_memory_equal(data, pattern(), BIG);
	if (c->echo_big && len == BIG)
		assert_int_equal(ws_send_text(c->w, data, len), 0);
	if (c->close_after != NULL && strcmp(c->last, c->close_after) == 0)
		ws_close(c->w, 1000, "done");
}

static void
on_closed(void *arg, int code, const char *why)
{
	struct client *c = arg;

	fprintf(stderr, "closed(%d, \"%s\")\n", code, why);
	assert_false(c->closed);        /* exactly once */
	c->closed = true;
	c->code = code;
	snprintf(c->why, sizeof(c->why), "%s", why);
}

/* Connects to url and runs the loop until closed() (bounded). */
static void
run(struct client *c, const char *url, const char *ca_file, size_t max_message, long timeout_ms)
{
	static const char *const extra[] = { "X-Campaign-Test: 1", NULL };
	struct ws_config cfg = {
		.url = url, .ca_file = ca_file, .connect_timeout_ms = timeout_ms,
		.max_message = max_message, .user_agent = "campaign-bot-test", .headers = extra,
	};
	struct ws_handler h = { c, on_open, on_message, on_closed };
	char err[256];
	int64_t until = clock_mono_ms() + RUN_BOUND_MS;

	c->fd = -1;
	c->loop = loop_new();
	c->deadline = loop_timer_new(c->loop, on_deadline, c);
	c->side = loop_timer_new(c->loop, start_side, c);
	c->w = ws_new(&cfg, &h, err, sizeof(err));
	assert_non_null(c->w);
	assert_int_equal(loop_curl_add_connect_only(c->loop, ws_easy(c->w), on_connected, c), 0);
	while (!c->closed && clock_mono_ms() < until)
		loop_run_once(c->loop, 200);
	assert_true(c->closed);
	ws_free(c->w);                  /* after ws_io returned: never from a callback */
	loop_timer_free(c->deadline);
	loop_timer_free(c->side);
	loop_free(c->loop);
}

static void
client_done(struct client *c)
{
	free(c->last);
}

static char *
url_for(const struct server *s, const char *scheme, const char *host)
{
	static char url[128];

	snprintf(url, sizeof(url), "%s://%s:%d/v1/stream?ticket=t-123", scheme, host, s->port);
	return url;
}

/* ---- cases ---- */

static void
expect_server_ok(struct server *s)
{
	char verdict[600];

	server_result(s, verdict, sizeof(verdict));
	assert_string_equal(verdict, "ok");
}

static void
echo_case(bool tls)
{
	struct server s;
	struct client c = { .send_on_open = "你好 hello", .close_after = "你好 hello" };

	server_start(&s, "echo", tls);
	run(&c, url_for(&s, tls ? "wss" : "ws", tls ? "localhost" : "127.0.0.1"),
	    tls ? s.ca : NULL, 0, 5000);
	assert_true(c.opened);
	assert_int_equal(c.nmessages, 1);
	assert_string_equal(c.last, "你好 hello");
	/* our close 1000 "done", echoed by the server */
	assert_int_equal(c.code, 1000);
	assert_string_equal(c.why, "done");
	expect_server_ok(&s);
	client_done(&c);
	server_stop(&s);
}

static void
test_echo(void **state)
{
	(void)state;
	echo_case(false);
}

static void
test_tls_echo(void **state)
{
	(void)state;
	echo_case(true);
}

/* wss through the HTTP CONNECT proxy that https_proxy names, as on an
 * intranet: libcurl tunnels, TLS runs inside, the server checks the tunnel. */
static void
test_tls_proxy(void **state)
{
	struct server s;
	struct client c = { .send_on_open = "via proxy", .close_after = "via proxy" };
	char proxy[64];

	(void)state;
	server_start_with(&s, "echo", true, true);
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", s.proxy_port);
	setenv("https_proxy", proxy, 1);
	unsetenv("HTTPS_PROXY");
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	run(&c, url_for(&s, "wss", "localhost"), s.ca, 0, 5000);
	unsetenv("https_proxy");
	assert_true(c.opened);
	assert_string_equal(c.last, "via proxy");
	assert_int_equal(c.code, 1000);
	expect_server_ok(&s);
	client_done(&c);
	server_stop(&s);
}

/* The system bundle does not know the test CA: a TLS error, no open(). */
static void
test_tls_unknown_ca(void **state)
{
	struct server s;
	struct client c = { 0 };

	(void)state;
	server_start(&s, "echo", true);
	run(&c, url_for(&s, "wss", "localhost"), NULL, 0, 5000);
	assert_false(c.opened);
	assert_int_equal(c.code, 1006);
	assert_non_null(strstr(c.why, "connect to localhost failed"));
	assert_non_null(strcasestr(c.why, "certificate"));
	client_done(&c);
	server_stop(&s);
}

/* The bot runs its HTTP calls on the multi that holds the WebSocket. */
static void
test_shared_multi(void **state)
{
	struct server s;
	struct client c = { .close_after = "still here" };

	(void)state;
	server_start(&s, "echo", false);
	snprintf(c.side_url, sizeof(c.side_url), "http://127.0.0.1:%d/", s.port);
	run(&c, url_for(&s, "ws", "127.0.0.1"), NULL, 0, 5000);
	assert_true(c.side_done);
	assert_string_equal(c.last, "still here");
	assert_int_equal(c.code, 1000);
	expect_server_ok(&s);
	client_done(&c);
	server_stop(&s);
}

static void
test_fragments(void **state)
{
	struct server s;
	struct client c = { .close_after = "one-two-three" };

	(void)state;
	server_start(&s, "fragments", false);
	run(&c, url_for(&s, "ws", "127.0.0.1"), NULL, 0, 5000);
	assert_int_equal(c.nmessages, 1);
	assert_string_equal(c.last, "one-two-three");
	assert_int_equal(c.code, 1000);
	client_done(&c);
	server_stop(&s);
}

/* 200 KiB each way: 64-bit frame lengths, partial writes, masking; over
 * TLS, decrypted bytes wait in OpenSSL where poll cannot see them. */
static void
big_case(bool tls)
{
	struct server s;
	struct client c = { .echo_big = true, .close_after = "intact" };

	server_start(&s, "big", tls);
	run(&c, url_for(&s, tls ? "wss" : "ws", tls ? "localhost" : "127.0.0.1"),
	    tls ? s.ca : NULL, 1 << 20, 5000);
	assert_int_equal(c.nmessages, 2);
	assert_string_equal(c.last, "intact");
	assert_int_equal(c.code, 1000);
	expect_server_ok(&s);
	client_done(&c);
	server_stop(&s);
}

static void
test_big(void **state)
{
	(void)state;
	big_case(false);
}

static void
test_tls_big(void **state)
{
	(void)state;
	big_case(true);
}

static void
test_oversize(void **state)
{
	struct server s;
	struct client c = { 0 };

	(void)state;
	server_start(&s, "oversize", false);
	run(&c, url_for(&s, "ws", "127.0.0.1"), NULL, 64 * 1024, 5000);
	assert_int_equal(c.nmessages, 0);
	assert_int_equal(c.code, 1009);
	assert_non_null(strstr(c.why, "max_message (65536 bytes)"));
	expect_server_ok(&s);       /* the server saw our close 1009 */
	client_done(&c);
	server_stop(&s);
}

static void
test_server_close(void **state)
{
	struct server s;
	struct client c = { 0 };

	(void)state;
	server_start(&s, "close4001", false);
	run(&c, url_for(&s, "ws", "127.0.0.1"), NULL, 0, 5000);
	assert_true(c.opened);
	assert_int_equal(c.code, 4001);
	assert_string_equal(c.why, "bye");
	client_done(&c);
	server_stop(&s);
}

static void
test_ping(void **state)
{
	struct server s;
	struct client c = { .close_after = "pong received" };

	(void)state;
	server_start(&s, "ping", false);
	run(&c, url_for(&s, "ws", "127.0.0.1"), NULL, 0, 5000);
	assert_string_equal(c.last, "pong received");
	assert_int_equal(c.code, 1000);
	expect_server_ok(&s);
	client_done(&c);
	server_stop(&s);
}

static void
test_reset(void **state)
{
	struct server s;
	struct client c = { 0 };

	(void)state;
	server_start(&s, "reset", false);
	run(&c, url_for(&s, "ws", "127.0.0.1"), NULL, 0, 5000);
	assert_true(c.opened);
	assert_int_equal(c.nmessages, 0);   /* half a frame is no message */
	assert_int_equal(c.code, 1006);
	assert_non_null(strcasestr(c.why, "reset"));
	client_done(&c);
	server_stop(&s);
}

static void
test_forbidden(void **state)
{
	struct server s;
	struct client c = { 0 };

	(void)state;
	server_start(&s, "forbidden", false);
	run(&c, url_for(&s, "ws", "127.0.0.1"), NULL, 0, 5000);
	assert_false(c.opened);
	assert_int_equal(c.code, 1006);
	assert_non_null(strstr(c.why, "HTTP 403"));
	client_done(&c);
	server_stop(&s);
}

static void
test_bad_accept(void **state)
{
	struct server s;
	struct client c = { 0 };

	(void)state;
	server_start(&s, "bad_accept", false);
	run(&c, url_for(&s, "ws", "127.0.0.1"), NULL, 0, 5000);
	assert_false(c.opened);
	assert_int_equal(c.code, 1006);
	assert_non_null(strstr(c.why, "Sec-WebSocket-Accept"));
	client_done(&c);
	server_stop(&s);
}

static void
test_bad_frame(void **state)
{
	struct server s;
	struct client c = { 0 };

	(void)state;
	server_start(&s, "bad_frame", false);
	run(&c, url_for(&s, "ws", "127.0.0.1"), NULL, 0, 5000);
	assert_true(c.opened);
	assert_int_equal(c.nmessages, 0);
	assert_int_equal(c.code, 1002);
	assert_non_null(strstr(c.why, "protocol error"));
	expect_server_ok(&s);           /* and it got our close frame */
	client_done(&c);
	server_stop(&s);
}

/* Connected, request sent, no answer: ws_deadline ends it after the bound. */
static void
test_silent(void **state)
{
	struct server s;
	struct client c = { 0 };

	(void)state;
	server_start(&s, "silent", false);
	run(&c, url_for(&s, "ws", "127.0.0.1"), NULL, 0, 1000);
	assert_false(c.opened);
	assert_int_equal(c.code, 1006);
	assert_non_null(strstr(c.why, "no answer within 1000 ms"));
	client_done(&c);
	server_stop(&s);
}

static void
test_bad_config(void **state)
{
	const char *crlf[] = { "X-Ok: 1", "X-Evil: a\r\nHost: b", NULL };
	struct ws_config cfg = { .url = "http://127.0.0.1/" };
	struct ws_handler h = { 0 };
	char err[256];

	(void)state;
	assert_null(ws_new(&cfg, &h, err, sizeof(err)));
	assert_non_null(strstr(err, "expected ws or wss"));
	cfg.url = "ws://127.0.0.1/";
	cfg.headers = crlf;
	assert_null(ws_new(&cfg, &h, err, sizeof(err)));
	assert_non_null(strstr(err, "header 2"));
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_tls_echo),
		cmocka_unit_test(test_tls_proxy),
		cmocka_unit_test(test_tls_unknown_ca),
		cmocka_unit_test(test_shared_multi),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_big),
		cmocka_unit_test(test_tls_big),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_server_close),
		cmocka_unit_test(test_ping),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_forbidden),
		cmocka_unit_test(test_bad_accept),
		cmocka_unit_test(test_bad_frame),
		cmocka_unit_test(test_silent),
		cmocka_unit_test(test_bad_config),
	};

	pattern();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
