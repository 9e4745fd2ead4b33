/*
 * UTF-8 decoding, validation and measuring. Strict: overlong forms,
 * surrogates and code points above U+10FFFF are invalid, so everything
 * that passes utf8_valid can go into JSON, SQLite and MQTT unchanged.
 */
#include "campaign/utf8.h"

#include <string.h>

#include "campaign/buf.h"
#include "campaign/xmalloc.h"

size_t
utf8_decode(const char *str, size_t len, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t c;
	size_t n, i;

	if (len == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

size_t
utf8_encode(uint32_t cp, char *out)
{
	unsigned char *o = (unsigned char *)out;

	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	} else if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	} else if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

size_t
utf8_invalid_offset(const char *s, size_t len)
{
	size_t off = 0;
	uint32_t cp;

	while (off < len) {
		size_t n = utf8_decode(s + off, len - off, &cp);

		if (n == 0)
			return off;
		off += n;
	}
	return len;
}

bool
utf8_valid(const char *s, size_t len)
{
	return utf8_invalid_offset(s, len) == len;
}

char *
utf8_sanitize(const char *s, size_t len)
{
	struct buf b;
	size_t off = 0;
	uint32_t cp;

	buf_init(&b, len * 3 + 1);
	while (off < len) {
		size_t n = utf8_decode(s + off, len - off, &cp);

		if (n == 0 || cp == 0) {
			buf_append(&b, "\xef\xbf\xbd", 3);
			n = n == 0 ? 1 : n;
		} else {
			buf_append(&b, s + off, n);
		}
		off += n;
	}
	return buf_steal(&b);
}

size_t
utf8_decode_all(const char *s, uint32_t **out)
{
	size_t len = strlen(s), off = 0, n = 0;
	uint32_t *cps = xcalloc(len + 1, sizeof(*cps));

	while (off < len) {
		size_t k = utf8_decode(s + off, len - off, &cps[n]);

		if (k == 0)
			cps[n] = 0xfffd, k = 1;
		off += k;
		n++;
	}
	*out = cps;
	return n;
}

size_t
utf8_chars(const char *s)
{
	size_t len = strlen(s), off = 0, chars = 0;
	uint32_t cp;

	while (off < len) {
		size_t n = utf8_decode(s + off, len - off, &cp);

		off += n == 0 ? 1 : n;
		chars++;
	}
	return chars;
}

bool
utf8_is_cjk(uint32_t cp)
{
	return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
	    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x20000 && cp <= 0x3ffff);
}

int
utf8_cp_width(uint32_t cp)
{
	/* East Asian Wide and Fullwidth blocks that occur in Chinese text. */
	static const struct { uint32_t lo, hi; } wide[] = {
		{ 0x1100, 0x115f }, { 0x2e80, 0x303e }, { 0x3041, 0x33ff },
		{ 0x3400, 0x4dbf }, { 0x4e00, 0x9fff }, { 0xa000, 0xa4cf },
		{ 0xac00, 0xd7a3 }, { 0xf900, 0xfaff }, { 0xfe10, 0xfe19 },
		{ 0xfe30, 0xfe6f }, { 0xff00, 0xff60 }, { 0xffe0, 0xffe6 },
		{ 0x1f300, 0x1f64f }, { 0x1f900, 0x1f9ff }, { 0x20000, 0x3fffd },
	};

	if (cp == 0)
		return 0;
	if ((cp >= 0x300 && cp <= 0x36f) || cp == 0x200b || cp == 0x200d ||
	    (cp >= 0xfe00 && cp <= 0xfe0f))
		return 0;
	for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++)
		if (cp >= wide[i].lo && cp <= wide[i].hi)
			return 2;
	return 1;
}

size_t
utf8_width(const char *s)
{
	size_t len = strlen(s), off = 0, cols = 0;
	uint32_t cp;

	while (off < len) {
		size_t n = utf8_decode(s + off, len - off, &cp);

		if (n == 0) {
			cols++;
			off++;
			continue;
		}
		cols += (size_t)utf8_cp_width(cp);
		off += n;
	}
	return cols;
}

size_t
utf8_utf16_units(const char *s)
{
	size_t len = strlen(s), off = 0, units = 0;
	uint32_t cp;

	while (off < len) {
		size_t n = utf8_decode(s + off, len - off, &cp);

		if (n == 0) {
			units++;
			off++;
			continue;
		}
		units += cp >= 0x10000 ? 2 : 1;
		off += n;
	}
	return units;
}

size_t
utf8_prefix_chars(const char *s, size_t max_chars)
{
	size_t len = strlen(s), off = 0, chars = 0;
	uint32_t cp;

	while (off < len && chars < max_chars) {
		size_t n = utf8_decode(s + off, len - off, &cp);

		off += n == 0 ? 1 : n;
		chars++;
	}
	return off;
}

size_t
utf8_prefix_width(const char *s, size_t max_cols)
{
	size_t len = strlen(s), off = 0, cols = 0;
	uint32_t cp;

	while (off < len) {
		size_t n = utf8_decode(s + off, len - off, &cp);
		size_t w = n == 0 ? 1 : (size_t)utf8_cp_width(cp);

		if (cols + w > max_cols)
			break;
		cols += w;
		off += n == 0 ? 1 : n;
	}
	return off;
}
