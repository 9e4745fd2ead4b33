/*
 * WebSocket client: libcurl connects (CONNECT_ONLY, on the caller's multi),
 * this module writes the HTTP/1.1 Upgrade and checks the answer, libwslay
 * encodes and decodes frames; every read and write is a non-blocking
 * curl_easy_recv/send (or read/write on a test socket, ws_test.h).
 * Invariants: closed() is reported once, from the outermost ws_* call,
 * never from inside wslay; after it nothing is read, written or delivered.
 */
#include "campaign/ws.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <wslay/wslay.h>

#include "campaign/buf.h"
#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/xmalloc.h"
#include "ws_test.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define HEAD_MAX (16 * 1024)            /* the Upgrade answer's status and headers */
#define READ_CHUNK 4096
#define DEFAULT_TIMEOUT_MS 10000L
#define DEFAULT_MAX_MESSAGE ((size_t)1 << 20)
#define WHY_MAX 512

enum ws_state {
	WS_CONNECTING,          /* the curl transfer runs */
	WS_HANDSHAKE,           /* request going out, answer coming in */
	WS_OPEN,
	WS_CLOSING,             /* we sent (or queued) a close frame */
	WS_DONE                 /* closed() reported or about to be */
};

struct ws {
	CURL *easy;             /* NULL on a test socket */
	int fd;
	bool own_fd;            /* a test socket: ours to close */
	enum ws_state state;
	struct ws_handler h;
	long timeout_ms;
	size_t max_message;
	int64_t deadline;       /* -1: none */
	char host[128];         /* for messages: never the URL (it may hold a ticket) */
	char errbuf[CURL_ERROR_SIZE];

	char *request;          /* the Upgrade request */
	size_t request_len, request_off;
	char accept[32];        /* the Sec-WebSocket-Accept we expect */
	char *in;               /* the answer, then frame bytes read with it */
	size_t in_len, in_off;

	wslay_event_context_ptr ctx;
	char io_why[WHY_MAX];   /* why the last read or write failed */

	int64_t last_rx;        /* clock_mono_ms of the last frame received (any opcode) */
	bool ending;            /* the end is decided: end_code/end_why */
	bool report_now;        /* ... and closed() is due */
	bool reported;
	int end_code;
	char end_why[WHY_MAX];
};

static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Records why the connection ends; the first cause wins. */
static void __attribute__((format(printf, 3, 4)))
note_end(struct ws *w, int code, const char *fmt, ...)
{
	va_list ap;

	if (w->ending)
		return;
	w->ending = true;
	w->end_code = code;
	va_start(ap, fmt);
	vsnprintf(w->end_why, sizeof(w->end_why), fmt, ap);
	va_end(ap);
}

/* The connection is over now: nothing more is read or written. */
static void
finish(struct ws *w)
{
	if (!w->ending)
		note_end(w, 1006, "connection ended");
	w->report_now = true;
	w->state = WS_DONE;
	w->deadline = -1;
}

static void
report(struct ws *w)
{
	if (!w->report_now || w->reported)
		return;
	w->reported = true;
	if (w->h.closed != NULL)
		w->h.closed(w->h.arg, w->end_code, w->end_why);
}

/* ---- transport: libcurl after CONNECT_ONLY, or a plain test socket ---- */

/* Bytes read (> 0), 0 at EOF, -1 with io_why set, or -2 for EAGAIN. */
static ssize_t
xrecv(struct ws *w, void *buf, size_t len)
{
	if (w->easy != NULL) {
		size_t n = 0;
		CURLcode rc;

		w->errbuf[0] = '\0';
		rc = curl_easy_recv(w->easy, buf, len, &n);
		if (rc == CURLE_AGAIN)
			return -2;
		if (rc != CURLE_OK) {
			snprintf(w->io_why, sizeof(w->io_why), "receive from %s failed: %s", w->host,
			    w->errbuf[0] != '\0' ? w->errbuf : curl_easy_strerror(rc));
			return -1;
		}
		return (ssize_t)n;
	}
	for (;;) {
		ssize_t n = recv(w->fd, buf, len, 0);

		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -2;
		snprintf(w->io_why, sizeof(w->io_why), "receive failed: %s", strerror(errno));
		return -1;
	}
}

/* Bytes written (>= 0), -1 with io_why set, or -2 for EAGAIN. */
static ssize_t
xsend(struct ws *w, const void *buf, size_t len)
{
	if (w->easy != NULL) {
		size_t n = 0;
		CURLcode rc;

		w->errbuf[0] = '\0';
		rc = curl_easy_send(w->easy, buf, len, &n);
		if (rc == CURLE_AGAIN)
			return -2;
		if (rc != CURLE_OK) {
			snprintf(w->io_why, sizeof(w->io_why), "send to %s failed: %s", w->host,
			    w->errbuf[0] != '\0' ? w->errbuf : curl_easy_strerror(rc));
			return -1;
		}
		return (ssize_t)n;
	}
	for (;;) {
		ssize_t n = send(w->fd, buf, len, MSG_NOSIGNAL);

		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -2;
		snprintf(w->io_why, sizeof(w->io_why), "send failed: %s", strerror(errno));
		return -1;
	}
}

/* ---- wslay callbacks ---- */

static ssize_t
on_wslay_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *arg)
{
	struct ws *w = arg;
	ssize_t n;

	(void)flags;
	if (w->in_off < w->in_len) {    /* frame bytes that came with the answer */
		size_t k = w->in_len - w->in_off;

		if (k > len)
			k = len;
		memcpy(buf, w->in + w->in_off, k);
		w->in_off += k;
		return (ssize_t)k;
	}
	n = xrecv(w, buf, len);
	if (n > 0)
		return n;
	if (n == -2) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (n == 0)
		snprintf(w->io_why, sizeof(w->io_why),
		    "%s closed the connection without a close frame", w->host);
	wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static ssize_t
on_wslay_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *arg)
{
	struct ws *w = arg;
	ssize_t n;

	(void)flags;
	n = xsend(w, data, len);
	if (n >= 0)
		return n;
	wslay_event_set_error(ctx, n == -2 ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static int
on_wslay_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *arg)
{
	(void)arg;
	if (len > 0 && RAND_bytes(buf, (int)len) != 1) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return 0;
}

/* Copies printable ASCII of s (len bytes) into out, other bytes as '?'. */
static void
printable(char *out, size_t outlen, const uint8_t *s, size_t len)
{
	size_t k = 0;

	for (size_t i = 0; i < len && k + 1 < outlen; i++)
		out[k++] = (s[i] >= 0x20 && s[i] < 0x7f) || s[i] >= 0x80 ? (char)s[i] : '?';
	out[k] = '\0';
}

static void
on_wslay_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *m, void *arg)
{
	struct ws *w = arg;

	(void)ctx;
	w->last_rx = clock_mono_ms();
	if (m->opcode == WSLAY_CONNECTION_CLOSE) {
		char why[WHY_MAX];

		/* wslay has queued the answer; closed() follows once it is written. */
		if (m->msg_length > 2)
			printable(why, sizeof(why), m->msg + 2, m->msg_length - 2);
		else
			why[0] = '\0';
		note_end(w, m->status_code == 0 ? 1005 : m->status_code, "%s", why);
		return;
	}
	if (m->opcode != WSLAY_TEXT_FRAME && m->opcode != WSLAY_BINARY_FRAME)
		return;                 /* pings are answered by wslay; pongs need nothing */
	if (w->state != WS_OPEN || w->ending || w->h.message == NULL)
		return;                 /* we are closing: the caller wants no more */
	w->h.message(w->h.arg, (const char *)m->msg, m->msg_length, m->opcode == WSLAY_BINARY_FRAME);
}

/* ---- the frame phase ---- */

static const char *
failure_text(int code)
{
	switch (code) {
	case WSLAY_CODE_MESSAGE_TOO_BIG:
		return "incoming message over max_message";
	case WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA:
		return "invalid UTF-8 in a text message from the server";
	default:
		return "protocol error in the server's frames";
	}
}

static void
frames_io(struct ws *w)
{
	int r;

	if (wslay_event_get_read_enabled(w->ctx)) {
		w->io_why[0] = '\0';
		r = wslay_event_recv(w->ctx);
		if (r != 0) {
			if (w->io_why[0] != '\0')
				note_end(w, 1006, "%s", w->io_why);
			else if (r == WSLAY_ERR_CALLBACK_FAILURE) {
				/* a frame wslay cannot parse: it queued a close; send it if we can */
				note_end(w, 1002, "%s", failure_text(1002));
				wslay_event_send(w->ctx);
			} else
				note_end(w, 1006, "wslay_event_recv: error %d", r);
			finish(w);
			return;
		}
	}
	if (wslay_event_want_write(w->ctx)) {
		w->io_why[0] = '\0';
		r = wslay_event_send(w->ctx);
		if (r != 0) {
			note_end(w, 1006, "%s", w->io_why[0] != '\0' ? w->io_why : "wslay_event_send failed");
			finish(w);
			return;
		}
	}
	if (!w->ending && !wslay_event_get_read_enabled(w->ctx) &&
	    !wslay_event_get_close_received(w->ctx) && wslay_event_get_close_sent(w->ctx)) {
		/* wslay failed the connection (oversize, bad frame, bad UTF-8) and
		 * sent a close frame: report its code. */
		int code = wslay_event_get_status_code_sent(w->ctx);

		if (code == WSLAY_CODE_MESSAGE_TOO_BIG)
			note_end(w, code, "incoming message over max_message (%zu bytes)",
			    w->max_message);
		else
			note_end(w, code, "%s", failure_text(code));
	}
	/* Over once our last frame is out, after the peer's close or our failure. */
	if (w->ending && !wslay_event_want_write(w->ctx))
		finish(w);
}

static void
frames_start(struct ws *w)
{
	struct wslay_event_callbacks cb = {
		.recv_callback = on_wslay_recv,
		.send_callback = on_wslay_send,
		.genmask_callback = on_wslay_genmask,
		.on_msg_recv_callback = on_wslay_msg,
	};

	if (wslay_event_context_client_init(&w->ctx, &cb, w) != 0)
		fatalx("ws", "wslay_event_context_client_init: out of memory");
	wslay_event_config_set_max_recv_msg_length(w->ctx, w->max_message);
}

/* ---- the handshake ---- */

static void
base64(const unsigned char *in, size_t len, char *out, size_t outlen)
{
	if (outlen < 4 * ((len + 2) / 3) + 1)
		fatalx("ws", "base64 buffer too small");
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

/* The Sec-WebSocket-Accept for key (RFC 6455 4.2.2): base64(SHA-1(key GUID)). */
static void
accept_for(const char *key, char *out, size_t outlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char text[64];
	int n = snprintf(text, sizeof(text), "%s%s", key, WS_GUID);

	if (n < 0 || (size_t)n >= sizeof(text) ||
	    EVP_Digest(text, (size_t)n, md, &mdlen, EVP_sha1(), NULL) != 1)
		fatalx("ws", "SHA-1 failed");
	base64(md, mdlen, out, outlen);
}

/* Is token (case-insensitive) one of the comma-separated items of value? */
static bool
has_token(const char *value, size_t len, const char *token)
{
	size_t tlen = strlen(token), i = 0;

	while (i < len) {
		size_t start, end;

		while (i < len && (value[i] == ' ' || value[i] == '\t' || value[i] == ','))
			i++;
		start = i;
		while (i < len && value[i] != ',')
			i++;
		end = i;
		while (end > start && (value[end - 1] == ' ' || value[end - 1] == '\t'))
			end--;
		if (end - start == tlen && strncasecmp(value + start, token, tlen) == 0)
			return true;
	}
	return false;
}

/* Checks the answer's status line and headers (head ends before its blank line). */
static int
check_answer(struct ws *w, const char *head, size_t len)
{
	const char *eol = memchr(head, '\r', len), *p;
	bool upgrade = false, connection = false, accepted = false;
	int status;

	if (eol == NULL || len < 12 || strncmp(head, "HTTP/1.", 7) != 0 || head[8] != ' ' ||
	    head[9] < '1' || head[9] > '5' || head[10] < '0' || head[10] > '9' ||
	    head[11] < '0' || head[11] > '9') {
		note_end(w, 1006, "handshake with %s: the answer is not HTTP", w->host);
		return -1;
	}
	status = (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
	if (status != 101) {
		char phrase[64];

		printable(phrase, sizeof(phrase), (const uint8_t *)head + 12, (size_t)(eol - head) - 12);
		note_end(w, 1006, "handshake refused by %s: HTTP %d%s (expected 101)", w->host, status,
		    phrase);
		return -1;
	}
	for (p = eol + 2; p < head + len; ) {
		const char *end = memchr(p, '\r', (size_t)(head + len - p));
		const char *colon, *v, *ve;
		size_t nlen;

		if (end == NULL)
			end = head + len;
		colon = memchr(p, ':', (size_t)(end - p));
		if (colon != NULL) {
			nlen = (size_t)(colon - p);
			v = colon + 1;
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			ve = end;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
#define IS(name) (nlen == sizeof(name) - 1 && strncasecmp(p, name, nlen) == 0)
			if (IS("Upgrade"))
				upgrade = has_token(v, (size_t)(ve - v), "websocket");
			else if (IS("Connection"))
				connection = has_token(v, (size_t)(ve - v), "upgrade");
			else if (IS("Sec-WebSocket-Accept"))
				accepted = (size_t)(ve - v) == strlen(w->accept) &&
				    memcmp(v, w->accept, (size_t)(ve - v)) == 0;
			else if (IS("Sec-WebSocket-Extensions") || IS("Sec-WebSocket-Protocol")) {
				note_end(w, 1006, "handshake with %s: the server chose an extension or "
				    "subprotocol we did not offer", w->host);
				return -1;
			}
#undef IS
		}
		p = end + 2;
	}
	if (!upgrade || !connection) {
		note_end(w, 1006, "handshake with %s: 101 without Upgrade: websocket and "
		    "Connection: Upgrade", w->host);
		return -1;
	}
	if (!accepted) {
		note_end(w, 1006, "handshake with %s: wrong or missing Sec-WebSocket-Accept", w->host);
		return -1;
	}
	return 0;
}

static void
handshake_io(struct ws *w)
{
	while (w->request_off < w->request_len) {
		ssize_t n = xsend(w, w->request + w->request_off, w->request_len - w->request_off);

		if (n == -2)
			break;
		if (n < 0) {
			note_end(w, 1006, "%s", w->io_why);
			finish(w);
			return;
		}
		w->request_off += (size_t)n;
	}
	/* Read until EAGAIN: TLS may hold bytes poll cannot see. */
	for (;;) {
		char *blank;
		ssize_t n;

		if (w->in_len == HEAD_MAX + READ_CHUNK) {
			note_end(w, 1006, "handshake with %s: answer headers over %d bytes", w->host,
			    HEAD_MAX);
			finish(w);
			return;
		}
		n = xrecv(w, w->in + w->in_len, HEAD_MAX + READ_CHUNK - w->in_len);
		if (n == -2)
			return;
		if (n <= 0) {
			if (n == 0)
				note_end(w, 1006, "handshake with %s: the server closed the connection "
				    "before answering", w->host);
			else
				note_end(w, 1006, "%s", w->io_why);
			finish(w);
			return;
		}
		w->in_len += (size_t)n;
		w->in[w->in_len] = '\0';
		blank = memmem(w->in, w->in_len, "\r\n\r\n", 4);
		if (blank == NULL) {
			if (w->in_len > HEAD_MAX) {
				note_end(w, 1006, "handshake with %s: answer headers over %d bytes",
				    w->host, HEAD_MAX);
				finish(w);
				return;
			}
			continue;
		}
		if ((size_t)(blank - w->in) > HEAD_MAX)
			note_end(w, 1006, "handshake with %s: answer headers over %d bytes", w->host,
			    HEAD_MAX);
		else
			check_answer(w, w->in, (size_t)(blank - w->in));
		if (w->ending) {
			finish(w);
			return;
		}
		w->in_off = (size_t)(blank - w->in) + 4;
		break;
	}
	frames_start(w);
	w->state = WS_OPEN;
	w->deadline = -1;
	if (w->h.open != NULL)
		w->h.open(w->h.arg);
}

/* ---- construction ---- */

static bool
header_ok(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") == NULL;
}

/* Builds the request and the easy handle's URL from c->url; -1 with err. */
static int
prepare(struct ws *w, const struct ws_config *c, char **http_url, char *err, size_t errlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL;
	unsigned char raw[16];
	char key[32];
	struct buf req;
	int rc = -1;

	buf_init(&req, 64 * 1024);
	if (u == NULL)
		fatalx("ws", "curl_url: out of memory");
	if (c->url == NULL || curl_url_set(u, CURLUPART_URL, c->url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		set_err(err, errlen, "not a URL");
		goto out;
	}
	if (strcmp(scheme, "ws") != 0 && strcmp(scheme, "wss") != 0) {
		set_err(err, errlen, "scheme %s: expected ws or wss", scheme);
		goto out;
	}
	snprintf(w->host, sizeof(w->host), "%s", host);
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	if (curl_url_set(u, CURLUPART_SCHEME, strcmp(scheme, "wss") == 0 ? "https" : "http", 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, http_url, 0) != CURLUE_OK) {
		set_err(err, errlen, "not a URL");
		goto out;
	}
	if (c->user_agent != NULL && !header_ok(c->user_agent)) {
		set_err(err, errlen, "user agent with a line break");
		goto out;
	}
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		fatalx("ws", "RAND_bytes failed");
	base64(raw, sizeof(raw), key, sizeof(key));
	accept_for(key, w->accept, sizeof(w->accept));

	buf_printf(&req, "GET %s%s%s HTTP/1.1\r\nHost: %s%s%s\r\n", path != NULL ? path : "/",
	    query != NULL ? "?" : "", query != NULL ? query : "", host, port != NULL ? ":" : "",
	    port != NULL ? port : "");
	buf_printf(&req, "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", key);
	if (c->user_agent != NULL)
		buf_printf(&req, "User-Agent: %s\r\n", c->user_agent);
	for (size_t i = 0; c->headers != NULL && c->headers[i] != NULL; i++) {
		if (!header_ok(c->headers[i]) || strchr(c->headers[i], ':') == NULL) {
			set_err(err, errlen, "header %zu: expected \"Name: value\" on one line", i + 1);
			goto out;
		}
		buf_printf(&req, "%s\r\n", c->headers[i]);
	}
	buf_puts(&req, "\r\n");
	if (req.overflow) {
		set_err(err, errlen, "request headers over 64 KiB");
		goto out;
	}
	w->request_len = req.len;
	w->request = buf_steal(&req);
	rc = 0;
out:
	buf_free(&req);
	curl_free(query);
	curl_free(path);
	curl_free(port);
	curl_free(host);
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

static struct ws *
ws_alloc(const struct ws_config *c, const struct ws_handler *h)
{
	struct ws *w = xcalloc(1, sizeof(*w));

	w->fd = -1;
	w->deadline = -1;
	w->h = *h;
	w->timeout_ms = c->connect_timeout_ms > 0 ? c->connect_timeout_ms : DEFAULT_TIMEOUT_MS;
	w->max_message = c->max_message > 0 ? c->max_message : DEFAULT_MAX_MESSAGE;
	w->in = xmalloc(HEAD_MAX + READ_CHUNK + 1);
	return w;
}

struct ws *
ws_new(const struct ws_config *c, const struct ws_handler *h, char *err, size_t errlen)
{
	struct ws *w = ws_alloc(c, h);
	char *url = NULL;
	CURL *e;

	if (prepare(w, c, &url, err, errlen) != 0) {
		curl_free(url);
		ws_free(w);
		return NULL;
	}
	e = curl_easy_init();
	if (e == NULL)
		fatalx("ws", "curl_easy_init failed");
	w->easy = e;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	/* Through an HTTP proxy, ask for a tunnel (CONNECT) even for ws://. */
	curl_easy_setopt(e, CURLOPT_HTTPPROXYTUNNEL, 1L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, w->timeout_ms);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, w->errbuf);
	if (c->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
	curl_free(url);
	w->state = WS_CONNECTING;
	return w;
}

struct ws *
ws_new_on_fd(const struct ws_config *c, const struct ws_handler *h, int fd, char *err, size_t errlen)
{
	struct ws *w = ws_alloc(c, h);
	char *url = NULL;
	int fl;

	w->fd = fd;
	w->own_fd = true;
	if (prepare(w, c, &url, err, errlen) != 0) {
		curl_free(url);
		ws_free(w);
		return NULL;
	}
	curl_free(url);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		set_err(err, errlen, "fcntl: %s", strerror(errno));
		ws_free(w);
		return NULL;
	}
	w->state = WS_HANDSHAKE;
	w->deadline = clock_mono_ms() + w->timeout_ms;
	return w;
}

/* ---- the API ---- */

static void step(struct ws *w);

CURL *
ws_easy(struct ws *w)
{
	return w->easy;
}

void
ws_connected(struct ws *w, CURLcode result)
{
	curl_socket_t s = CURL_SOCKET_BAD;

	if (w->state != WS_CONNECTING)
		return;
	if (result != CURLE_OK) {
		note_end(w, 1006, "connect to %s failed: %s", w->host,
		    w->errbuf[0] != '\0' ? w->errbuf : curl_easy_strerror(result));
		finish(w);
		report(w);
		return;
	}
	if (curl_easy_getinfo(w->easy, CURLINFO_ACTIVESOCKET, &s) != CURLE_OK || s == CURL_SOCKET_BAD) {
		note_end(w, 1006, "connect to %s: no socket (was the handle taken out of the multi?)",
		    w->host);
		finish(w);
		report(w);
		return;
	}
	w->fd = (int)s;
	w->state = WS_HANDSHAKE;
	w->deadline = clock_mono_ms() + w->timeout_ms;
	/* Writing now also ties the connection to the handle, so libcurl's
	 * connection cache never takes it for an idle one and prunes it. */
	step(w);
}

int
ws_fd(const struct ws *w)
{
	return w->fd;
}

bool
ws_wants_write(const struct ws *w)
{
	switch (w->state) {
	case WS_HANDSHAKE:
		return w->request_off < w->request_len;
	case WS_OPEN:
	case WS_CLOSING:
		return wslay_event_want_write(w->ctx) != 0;
	default:
		return false;
	}
}

int64_t
ws_deadline(const struct ws *w)
{
	return w->deadline;
}

/*
 * One step of I/O in whatever phase we are. Both directions are tried
 * whatever poll said: reads stop at EAGAIN, a write that would block costs
 * one call, and frame bytes that came with the answer are decoded at once
 * (poll would not report them again).
 */
static void
step(struct ws *w)
{
	if (w->state == WS_HANDSHAKE)
		handshake_io(w);
	if (w->state == WS_OPEN || w->state == WS_CLOSING)
		frames_io(w);
	if (w->state != WS_DONE && w->deadline >= 0 && clock_mono_ms() >= w->deadline) {
		if (w->state == WS_HANDSHAKE)
			note_end(w, 1006, "handshake with %s: no answer within %ld ms", w->host,
			    w->timeout_ms);
		else
			note_end(w, 1006, "%s did not answer our close frame within %d ms", w->host,
			    WS_CLOSE_WAIT_MS);
		finish(w);
	}
	report(w);
}

void
ws_io(struct ws *w, bool readable, bool writable)
{
	(void)readable;
	(void)writable;
	step(w);
}

int
ws_send_text(struct ws *w, const char *data, size_t len)
{
	struct wslay_event_msg m = { WSLAY_TEXT_FRAME, (const uint8_t *)data, len };

	if (w->state != WS_OPEN || w->ending)
		return -1;
	return wslay_event_queue_msg(w->ctx, &m) == 0 ? 0 : -1;
}

int
ws_ping(struct ws *w)
{
	struct wslay_event_msg m = { WSLAY_PING, (const uint8_t *)"", 0 };

	if (w->state != WS_OPEN || w->ending)
		return -1;
	return wslay_event_queue_msg(w->ctx, &m) == 0 ? 0 : -1;
}

int64_t
ws_last_received(const struct ws *w)
{
	return w->last_rx;
}

void
ws_close(struct ws *w, int code, const char *reason)
{
	size_t rlen = reason != NULL ? strlen(reason) : 0;

	switch (w->state) {
	case WS_CONNECTING:
	case WS_HANDSHAKE:
		note_end(w, 1006, "closed by us before the handshake finished");
		finish(w);
		report(w);
		return;
	case WS_OPEN:
		break;
	default:
		return;
	}
	if (code < 1000 || code > 4999)
		code = 1000;
	if (rlen > 123)
		rlen = 123;
	w->state = WS_CLOSING;
	w->deadline = clock_mono_ms() + WS_CLOSE_WAIT_MS;
	if (w->ending)
		return;         /* wslay already answers a close or failed the connection */
	if (wslay_event_queue_close(w->ctx, (uint16_t)code, (const uint8_t *)reason, rlen) != 0)
		w->deadline = clock_mono_ms();
}

void
ws_free(struct ws *w)
{
	if (w == NULL)
		return;
	if (w->ctx != NULL)
		wslay_event_context_free(w->ctx);
	if (w->easy != NULL)
		curl_easy_cleanup(w->easy);     /* also takes it out of its multi */
	if (w->own_fd && w->fd >= 0)
		close(w->fd);
	free(w->request);
	free(w->in);
	free(w);
}
