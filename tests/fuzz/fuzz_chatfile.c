/*
 * libFuzzer target: what a file server hands the chat-file fetcher. An even
 * first byte: the rest is a Content-Disposition value, whose name
 * (file_fetch_disposition_name) must be non-empty UTF-8 with no path in it.
 * An odd one: the rest is a WeCom file_ref ("<aeskey> <url>"), a newline,
 * then the downloaded bytes, decrypted in place (wecom_file_decrypt) in a
 * buffer of exactly their size plus the NUL, so ASan sees any stray access;
 * a success strips 1..32 padding bytes and leaves the buffer terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/buf.h"
#include "campaign/utf8.h"
#include "campaign/xmalloc.h"
#include "file_fetch.h"
#include "wecom_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_disposition(const char *value, size_t len)
{
	char *v = xstrndup(value, len), *name = file_fetch_disposition_name(v);

	if (name != NULL) {
		if (*name == '\0' || !utf8_valid(name, strlen(name)) ||
		    strpbrk(name, "/\\") != NULL || strlen(name) > strlen(v))
			abort();
	}
	free(name);
	free(v);
}

static void
check_decrypt(const char *in, size_t len)
{
	const char *nl = memchr(in, '\n', len);
	char *ref, why[256] = "";
	struct buf b;
	size_t before;

	if (nl == NULL)
		return;
	ref = xstrndup(in, (size_t)(nl - in));
	buf_init(&b, len - (size_t)(nl + 1 - in));
	if (buf_append(&b, nl + 1, b.max) < 0)
		abort();
	before = b.len;
	if (wecom_file_decrypt(ref, &b, why, sizeof(why)) == 0) {
		if (before - b.len < 1 || before - b.len > 32 || b.len > before ||
		    b.data[b.len] != '\0')
			abort();
	} else if (why[0] == '\0' || b.len != before) {
		abort();        /* a refusal says why, and leaves the length alone */
	}
	buf_free(&b);
	free(ref);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		check_disposition((const char *)data + 1, size - 1);
	else
		check_decrypt((const char *)data + 1, size - 1);
	return 0;
}
