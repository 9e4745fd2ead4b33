/*
 * UTF-8 helpers: strict decoding (no overlongs, no surrogates), validation,
 * terminal display width (East Asian wide = 2 columns) and UTF-16 length
 * (Telegram counts message length in UTF-16 code units).
 */
#ifndef CAMPAIGN_UTF8_H
#define CAMPAIGN_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes one code point from s (at most len bytes). Returns its byte length, 0 if invalid. */
size_t utf8_decode(const char *s, size_t len, uint32_t *cp);
/* Encodes cp into out (4 bytes room); returns the byte length. */
size_t utf8_encode(uint32_t cp, char *out);
bool utf8_valid(const char *s, size_t len);
/* Offset of the first invalid byte, or len if valid. */
size_t utf8_invalid_offset(const char *s, size_t len);
/* Copy with every invalid byte replaced by U+FFFD. */
char *utf8_sanitize(const char *s, size_t len);
/* The code points of s (invalid bytes become U+FFFD); owned array, count returned. */
size_t utf8_decode_all(const char *s, uint32_t **out);
/* Number of code points (invalid bytes count one each). */
size_t utf8_chars(const char *s);
/* Columns on a terminal: wide/fullwidth 2, combining 0, else 1. */
int utf8_cp_width(uint32_t cp);
size_t utf8_width(const char *s);
/* UTF-16 code units (astral code points count 2). */
size_t utf8_utf16_units(const char *s);
/* Byte length of the longest prefix of s with at most max_chars code points. */
size_t utf8_prefix_chars(const char *s, size_t max_chars);
/* Byte length of the longest prefix of s that fits max_cols columns. */
size_t utf8_prefix_width(const char *s, size_t max_cols);
bool utf8_is_cjk(uint32_t cp);

#endif
