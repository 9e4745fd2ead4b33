/* Group robots' signatures (see channel_sign.h): HMAC-SHA256 and base64 from libcrypto. */
#include "channel_sign.h"

#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "campaign/xmalloc.h"

/* base64(HMAC-SHA256(key, msg)) into out; 0 or -1. */
static int
hmac_b64(const char *key, size_t keylen, const char *msg, size_t msglen,
    char out[CHANNEL_SIGN_MAX])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	if (HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, msglen, mac,
	    &maclen) == NULL || maclen != 32)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, mac, (int)maclen);
	explicit_bzero(mac, sizeof(mac));
	return 0;
}

int
channel_sign_dingtalk(const char *secret, int64_t ts_ms, char out[CHANNEL_SIGN_MAX])
{
	char *msg = xasprintf("%" PRId64 "\n%s", ts_ms, secret), raw[CHANNEL_SIGN_MAX];
	size_t j = 0;
	int rc = hmac_b64(secret, strlen(secret), msg, strlen(msg), raw);

	explicit_bzero(msg, strlen(msg));
	free(msg);
	if (rc < 0)
		return -1;
	/* Percent-encode base64's +, / and = for the query. */
	for (const char *p = raw; *p != '\0' && j + 4 < CHANNEL_SIGN_MAX; p++) {
		if (*p == '+' || *p == '/' || *p == '=')
			j += (size_t)snprintf(out + j, CHANNEL_SIGN_MAX - j, "%%%02X",
			    (unsigned)(unsigned char)*p);
		else
			out[j++] = *p;
	}
	out[j] = '\0';
	return 0;
}

int
channel_sign_feishu(const char *secret, int64_t ts_s, char out[CHANNEL_SIGN_MAX])
{
	char *key = xasprintf("%" PRId64 "\n%s", ts_s, secret);
	int rc = hmac_b64(key, strlen(key), "", 0, out);

	explicit_bzero(key, strlen(key));
	free(key);
	return rc;
}

char *
channel_sign_url(enum channel_kind kind, const char *url, const char *secret,
    int64_t now_ms)
{
	char sign[CHANNEL_SIGN_MAX];

	if (kind != CHANNEL_DINGTALK || secret == NULL || *secret == '\0' ||
	    channel_sign_dingtalk(secret, now_ms, sign) < 0)
		return xstrdup(url);
	return xasprintf("%s%ctimestamp=%" PRId64 "&sign=%s", url,
	    strchr(url, '?') != NULL ? '&' : '?', now_ms, sign);
}
