/*
 * Files sent in chat (issue 15): the name a download's Content-Disposition
 * gives (the WeCom file's only name), and WeCom's encryption undone as its
 * SDK does (AES-256-CBC, IV = the key's first 16 bytes, PKCS#7 to 32 bytes).
 * The end-to-end check against the vendor's SDK is fake.wecom.official_sdk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "campaign/buf.h"
#include "file_fetch.h"
#include "wecom_file.h"

static void
name_is(const char *header, const char *want)
{
	char *got = file_fetch_disposition_name(header);

	if (want == NULL) {
		if (got != NULL)
			fail_msg("%s: got %s, want none", header, got);
	} else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
	free(got);
}

static void
disposition(void **state)
{
	(void)state;
	/* RFC 5987 UTF-8, as WeCom's SDK reads first */
	name_is("attachment; filename*=UTF-8''%E6%89%B6%E8%B4%AB%E6%97%A5%E6%80%BB%E7%BB%93.docx",
	    "扶贫日总结.docx");
	name_is("attachment; filename=\"fallback.docx\"; filename*=utf-8''%E6%80%BB.pdf", "总.pdf");
	/* the plain forms: quoted, bare, percent-encoded, raw UTF-8 */
	name_is("attachment; filename=\"a b.pdf\"", "a b.pdf");
	name_is("attachment;filename=report.zip", "report.zip");
	name_is("attachment; filename=%E6%80%BB%E7%BB%93.docx", "总结.docx");
	name_is("attachment; filename=\"宣传部总结.docx\"", "宣传部总结.docx");
	/* a name, never a path */
	name_is("attachment; filename=\"../../etc/passwd\"", "passwd");
	name_is("attachment; filename=\"C:\\\\tmp\\\\x.pdf\"", "x.pdf");
	/* nothing usable */
	name_is("inline", NULL);
	name_is("attachment; filename=\"dir/\"", NULL);
	name_is("attachment; filename*=UTF-8''%FF%FE.docx", NULL);   /* not UTF-8 */
	name_is("attachment; filename*=UTF-8''%Z1.docx", NULL);      /* a bad escape */
	name_is("attachment; myfilename=\"x.docx\"", NULL);
}

/* What WeCom does to a file before it sends the URL. */
static size_t
encrypt(const unsigned char key[32], const unsigned char *in, size_t len, unsigned char *out)
{
	size_t pad = 32 - len % 32, n = len + pad;
	unsigned char *padded = malloc(n);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int a = 0, b = 0;

	memcpy(padded, in, len);
	memset(padded + len, (int)pad, pad);
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, key), 1);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	assert_int_equal(EVP_EncryptUpdate(ctx, out, &a, padded, (int)n), 1);
	assert_int_equal(EVP_EncryptFinal_ex(ctx, out + a, &b), 1);
	EVP_CIPHER_CTX_free(ctx);
	free(padded);
	return (size_t)(a + b);
}

static char *
ref_for(const unsigned char key[32], bool padded)
{
	char b64[64];
	size_t n;

	EVP_EncodeBlock((unsigned char *)b64, key, 32);
	n = strlen(b64);
	while (!padded && n > 0 && b64[n - 1] == '=')
		b64[--n] = '\0';
	return wecom_file_ref(b64, "http://127.0.0.1:1/files/x");
}

static void
decrypt_roundtrip(void **state)
{
	unsigned char key[32], cipher[4096];
	const char *plain = "PK\x03\x04 一个单位的总结";
	char why[128];
	/* 0, 1, 31, 32 and 33 bytes over a block boundary: every padding length */
	size_t lens[] = { 1, 31, 32, 33, 64, 1000 };

	(void)state;
	for (int i = 0; i < 32; i++)
		key[i] = (unsigned char)(i * 7 + 3);
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		unsigned char in[1000];
		struct buf data;
		char *ref = ref_for(key, k % 2 == 0);
		size_t n;

		for (size_t i = 0; i < lens[k]; i++)
			in[i] = (unsigned char)plain[i % strlen(plain)];
		n = encrypt(key, in, lens[k], cipher);
		assert_int_equal(n % 32, 0);
		buf_init(&data, 1 << 20);
		buf_append(&data, cipher, n);
		assert_int_equal(wecom_file_decrypt(ref, &data, why, sizeof(why)), 0);
		assert_int_equal(data.len, lens[k]);
		assert_memory_equal(data.data, in, lens[k]);
		assert_string_equal(wecom_file_ref_url(ref), "http://127.0.0.1:1/files/x");
		buf_free(&data);
		free(ref);
	}
}

static void
decrypt_refusals(void **state)
{
	unsigned char key[32], other[32], cipher[256];
	char why[128], *ref, *wrong;
	struct buf data;
	size_t n;

	(void)state;
	for (int i = 0; i < 32; i++) {
		key[i] = (unsigned char)(i * 7 + 3);
		other[i] = (unsigned char)(i * 11 + 5);
	}
	n = encrypt(key, (const unsigned char *)"summary", 7, cipher);
	ref = ref_for(key, true);
	wrong = ref_for(other, true);

	buf_init(&data, 1 << 20);
	buf_append(&data, cipher, n);
	assert_int_equal(wecom_file_decrypt(wrong, &data, why, sizeof(why)), -1);
	assert_string_equal(why, "文件解密失败");

	buf_reset(&data);
	buf_append(&data, cipher, n - 5);       /* cut short */
	assert_int_equal(wecom_file_decrypt(ref, &data, why, sizeof(why)), -1);
	assert_string_equal(why, "下载的文件不完整，无法解密");

	buf_reset(&data);
	buf_append(&data, cipher, n);
	assert_int_equal(wecom_file_decrypt("c2hvcnQ= http://x/", &data, why, sizeof(why)), -1);
	assert_string_equal(why, "企业微信给的解密密钥无效");
	assert_int_equal(wecom_file_decrypt("not*base64!* http://x/", &data, why, sizeof(why)), -1);
	assert_null(wecom_file_ref_url("no-space-here"));

	buf_reset(&data);
	assert_int_equal(wecom_file_decrypt(ref, &data, why, sizeof(why)), -1);  /* empty */
	buf_free(&data);
	free(ref);
	free(wrong);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(disposition),
		cmocka_unit_test(decrypt_roundtrip),
		cmocka_unit_test(decrypt_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
