/*
 * libFuzzer target for the WebSocket client's frame layer (built with
 * -DCAMPAIGN_FUZZ=ON and CC=clang). The client runs over a socketpair
 * (lib/ws_test.h); the fuzzer plays the server.
 * First input byte even: a correct 101 answer, with the rest of the input
 * (server frames) in the same write, so the bytes that come with the
 * answer are decoded too. Odd: the rest is the whole answer (the header
 * parser). Then EOF. Whatever the bytes: no crash, leak or UB; closed()
 * exactly once with a code a user could see; a correct answer always
 * opens; no message over max_message.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "campaign/ws.h"
#include "ws_test.h"

#define MAX_MESSAGE (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct state {
	struct ws *w;
	bool opened;
	int closed;
	int code;
	size_t messages;
};

static void
on_message(void *arg, const char *data, size_t len, bool binary)
{
	struct state *s = arg;

	(void)binary;
	if (len > MAX_MESSAGE)
		abort();
	s->messages++;
	if (len >= 5 && memcmp(data, "close", 5) == 0)
		ws_close(s->w, 4000, "asked to");
	else if (s->messages % 3 == 0)
		ws_send_text(s->w, data, len);  /* exercises masking and partial writes */
}

static void
on_open(void *arg)
{
	struct state *s = arg;

	s->opened = true;
}

static void
on_closed(void *arg, int code, const char *why)
{
	struct state *s = arg;

	if (why == NULL || (code < 1000 || code > 4999))
		abort();
	s->closed++;
	s->code = code;
}

/* Reads what the client wrote (the request, pongs, echoes), up to cap bytes kept. */
static size_t
drain(int fd, char *keep, size_t cap)
{
	char buf[65536];
	size_t kept = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		size_t k = (size_t)n < cap - kept ? (size_t)n : cap - kept;

		memcpy(keep + kept, buf, k);
		kept += k;
	}
	return kept;
}

static void
accept_for(const char *request, size_t len, char *out)
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	const char *k = memmem(request, len, "Sec-WebSocket-Key: ", 19);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char text[128];

	out[0] = '\0';
	if (k == NULL || (size_t)(k - request) + 19 + 24 > len)
		abort();                /* the client always sends its key */
	memcpy(text, k + 19, 24);
	memcpy(text + 24, guid, sizeof(guid));
	EVP_Digest(text, 24 + sizeof(guid) - 1, md, &mdlen, EVP_sha1(), NULL);
	EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state s = { 0 };
	struct ws_config cfg = { .url = "ws://fuzz.test/v1/stream?ticket=t", .max_message = MAX_MESSAGE };
	struct ws_handler h = { &s, on_open, on_message, on_closed };
	char request[4096], accept[64], err[256];
	char *out = NULL;
	size_t outlen = 0, off = 0, reqlen;
	int sv[2];

	if (size < 1 || size > 1 << 20)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);
	s.w = ws_new_on_fd(&cfg, &h, sv[0], err, sizeof(err));
	if (s.w == NULL)
		abort();
	ws_io(s.w, false, true);                /* the request */
	reqlen = drain(sv[1], request, sizeof(request));
	if (data[0] % 2 == 0) {
		static const char head[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		    "Connection: Upgrade\r\nSec-WebSocket-Accept: ";

		accept_for(request, reqlen, accept);
		outlen = sizeof(head) - 1 + strlen(accept) + 4 + size - 1;
		out = malloc(outlen);
		memcpy(out, head, sizeof(head) - 1);
		memcpy(out + sizeof(head) - 1, accept, strlen(accept));
		memcpy(out + sizeof(head) - 1 + strlen(accept), "\r\n\r\n", 4);
		memcpy(out + outlen - (size - 1), data + 1, size - 1);
	} else {
		outlen = size - 1;
		out = malloc(outlen + 1);
		memcpy(out, data + 1, size - 1);
	}
	/* Feed it all, reading what the client answers so neither side blocks. */
	while (off < outlen && !s.closed) {
		ssize_t n = write(sv[1], out + off, outlen - off);

		if (n > 0)
			off += (size_t)n;
		ws_io(s.w, true, true);
		drain(sv[1], request, sizeof(request));
	}
	shutdown(sv[1], SHUT_WR);
	for (int i = 0; i < 64 && !s.closed; i++) {
		ws_io(s.w, true, true);
		drain(sv[1], request, sizeof(request));
	}
	if (s.closed != 1)
		abort();                        /* EOF always ends it, exactly once */
	if (data[0] % 2 == 0 && !s.opened)
		abort();                        /* a correct answer always opens */
	ws_io(s.w, true, true);                 /* nothing more after closed() */
	if (s.closed != 1)
		abort();
	ws_free(s.w);
	close(sv[1]);
	free(out);
	return 0;
}
