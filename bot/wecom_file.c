/*
 * WeCom's encrypted chat files: see wecom_file.h. The rules are those of
 * WeCom's own SDK (decryptFile in @wecom/aibot-node-sdk): a key that does
 * not decode to 32 bytes, a length that is not whole blocks, or padding
 * that does not check is refused, never stored as garbage.
 */
#include "wecom_file.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "campaign/xmalloc.h"

#define KEY_BYTES 32
#define PAD_BLOCK 32

char *
wecom_file_ref(const char *aeskey, const char *url)
{
	return xasprintf("%s %s", aeskey, url);
}

const char *
wecom_file_ref_url(const char *file_ref)
{
	const char *sp = strchr(file_ref, ' ');

	return sp != NULL && sp[1] != '\0' ? sp + 1 : NULL;
}

/* The aeskey (base64, padded or not) as 32 bytes; -1 if it is anything else. */
static int
decode_key(const char *file_ref, unsigned char key[KEY_BYTES])
{
	size_t len = strcspn(file_ref, " ");
	char b64[64];
	unsigned char raw[48];
	int n, pad = 0;

	if (len == 0 || len > 44)
		return -1;
	memcpy(b64, file_ref, len);
	while (len % 4 != 0)
		b64[len++] = '=';       /* Node's base64 accepts the key unpadded */
	b64[len] = '\0';
	for (size_t i = len; i > 0 && b64[i - 1] == '='; i--)
		pad++;
	n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)len);
	if (n < 0 || n - pad != KEY_BYTES)
		return -1;
	memcpy(key, raw, KEY_BYTES);
	return 0;
}

int
wecom_file_decrypt(const char *file_ref, struct buf *data, char *why, size_t why_len)
{
	unsigned char key[KEY_BYTES];
	EVP_CIPHER_CTX *ctx;
	int out = 0, last = 0, ok;
	size_t pad;

	if (decode_key(file_ref, key) < 0) {
		snprintf(why, why_len, "企业微信给的解密密钥无效");
		return -1;
	}
	if (data->len == 0 || data->len % PAD_BLOCK != 0 || data->len > (size_t)INT32_MAX) {
		snprintf(why, why_len, "下载的文件不完整，无法解密");
		explicit_bzero(key, sizeof(key));
		return -1;
	}
	/* The IV is the key's first 16 bytes: the key itself is passed as the IV. */
	ctx = EVP_CIPHER_CTX_new();
	ok = ctx != NULL && EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, key) == 1 &&
	    EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	    EVP_DecryptUpdate(ctx, (unsigned char *)data->data, &out,
	    (unsigned char *)data->data, (int)data->len) == 1 &&
	    EVP_DecryptFinal_ex(ctx, (unsigned char *)data->data + out, &last) == 1;
	EVP_CIPHER_CTX_free(ctx);
	explicit_bzero(key, sizeof(key));
	pad = ok ? (unsigned char)data->data[data->len - 1] : 0;
	if (!ok || pad < 1 || pad > PAD_BLOCK || pad > data->len) {
		snprintf(why, why_len, "文件解密失败");
		return -1;
	}
	for (size_t i = data->len - pad; i < data->len; i++)
		if ((unsigned char)data->data[i] != pad) {
			snprintf(why, why_len, "文件解密失败");
			return -1;
		}
	data->len -= pad;
	data->data[data->len] = '\0';
	return 0;
}
