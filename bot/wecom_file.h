/*
 * Files sent to the WeCom smart robot (issue 15) come encrypted: AES-256-CBC
 * with the message's own aeskey (base64 of 32 bytes), the IV the key's first
 * 16 bytes, PKCS#7 padding to a multiple of 32 bytes (WeCom's blocks, not
 * AES's 16). The message's file_ref keeps both halves: "<aeskey> <url>".
 */
#ifndef CAMPAIGN_BOT_WECOM_FILE_H
#define CAMPAIGN_BOT_WECOM_FILE_H

#include <stddef.h>

#include "campaign/buf.h"

/* "<aeskey> <url>" for a message's file; owned. */
char *wecom_file_ref(const char *aeskey, const char *url);
/* The URL part of a file_ref (borrowed), or NULL. */
const char *wecom_file_ref_url(const char *file_ref);
/* Decrypts data in place with the aeskey of file_ref; 0, or -1 with why (Chinese, for the user). */
int wecom_file_decrypt(const char *file_ref, struct buf *data, char *why, size_t why_len);

#endif
