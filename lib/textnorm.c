/*
 * Normalization of Chinese text for matching (see docs/plan-text.md §2).
 * Owns the process's single OpenCC t2s converter: opening one costs ~2 ms and
 * 1 MB, converting costs ~15 µs, and the converter is thread-safe.
 */
#include "campaign/textnorm.h"

#include <opencc.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/buf.h"
#include "campaign/log.h"
#include "campaign/utf8.h"
#include "campaign/xmalloc.h"

static opencc_t t2s = NULL;

static opencc_t
converter(void)
{
	if (t2s == NULL) {
		t2s = opencc_open("t2s.json");
		if (t2s == (opencc_t)-1) {
			t2s = NULL;
			fatalx("textnorm", "cannot open OpenCC t2s.json: %s "
			    "(is the opencc data package installed?)", opencc_error());
		}
	}
	return t2s;
}

void
textnorm_shutdown(void)
{
	if (t2s != NULL)
		opencc_close(t2s);
	t2s = NULL;
}

static bool
is_pinyin_letter(uint32_t cp, bool *vowel)
{
	static const char toned[] =
	    "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹ";
	char enc[5];
	size_t n;

	if (cp >= 'a' && cp <= 'z') {
		if (strchr("aeiou", (int)cp) != NULL)
			*vowel = true;
		return true;
	}
	n = utf8_encode(cp, enc);
	enc[n] = '\0';
	if (strstr(toned, enc) != NULL) {
		*vowel = true;
		return true;
	}
	return false;
}

/* Length in bytes of a "(pinyin)" annotation starting at s, or 0. */
static size_t
pinyin_annotation_len(const char *s, size_t len)
{
	size_t off, letters = 0;
	uint32_t cp;
	bool vowel = false;
	size_t n = utf8_decode(s, len, &cp);

	if (n == 0 || (cp != '(' && cp != 0xff08))
		return 0;
	off = n;
	while (off < len) {
		n = utf8_decode(s + off, len - off, &cp);
		if (n == 0)
			return 0;
		off += n;
		if (cp == ')' || cp == 0xff09)
			return letters >= 1 && vowel ? off : 0;
		if (++letters > 6 || !is_pinyin_letter(cp, &vowel))
			return 0;
	}
	return 0;
}

char *
textnorm_strip_pinyin(const char *in)
{
	size_t len = strlen(in), off = 0;
	bool after_cjk = false;
	struct buf b;

	buf_init(&b, len + 1);
	while (off < len) {
		uint32_t cp;
		size_t n = utf8_decode(in + off, len - off, &cp);

		if (n == 0) {
			buf_append(&b, in + off, 1);
			off++;
			after_cjk = false;
			continue;
		}
		if (after_cjk) {
			size_t skip = pinyin_annotation_len(in + off, len - off);

			if (skip > 0) {
				off += skip;
				continue;
			}
		}
		buf_append(&b, in + off, n);
		after_cjk = utf8_is_cjk(cp);
		off += n;
	}
	return buf_steal(&b);
}

static void
put_cp(struct buf *b, uint32_t cp)
{
	char enc[4];

	buf_append(b, enc, utf8_encode(cp, enc));
}

/* Full-width forms, ideographic space, 〝〞, middle dots, ㈠ and ⑴. */
static bool
fold_cp(struct buf *b, uint32_t cp)
{
	static const char *const chinese_numerals[] = {
		"一", "二", "三", "四", "五", "六", "七", "八", "九", "十",
	};

	if (cp >= 0xff01 && cp <= 0xff5e)
		put_cp(b, cp - 0xfee0);
	else if (cp == 0x3000 || cp == 0x00a0)
		buf_puts(b, " ");
	else if (cp == 0x301d)
		buf_puts(b, "“");
	else if (cp == 0x301e || cp == 0x301f)
		buf_puts(b, "”");
	else if (cp == 0x2022 || cp == 0x30fb || cp == 0x2027 || cp == 0xff65)
		buf_puts(b, "·");
	else if (cp >= 0x3220 && cp <= 0x3229)
		buf_printf(b, "(%s)", chinese_numerals[cp - 0x3220]);
	else if (cp >= 0x2474 && cp <= 0x2487)
		buf_printf(b, "(%u)", (unsigned)(cp - 0x2474 + 1));
	else
		return false;
	return true;
}

static bool
is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

char *
textnorm_text(const char *in)
{
	char *clean;
	char *stripped, *simplified;
	struct buf b;
	size_t len, off = 0;

	/* Nothing to strip, convert or fold in ASCII ("/due", "2.4 60%"). */
	if (is_ascii(in))
		return xstrdup(in);
	clean = utf8_sanitize(in, strlen(in));
	stripped = textnorm_strip_pinyin(clean);
	simplified = opencc_convert_utf8(converter(), stripped, (size_t)-1);
	free(clean);
	if (simplified == NULL)
		fatalx("textnorm", "OpenCC conversion failed: %s", opencc_error());
	free(stripped);
	len = strlen(simplified);
	buf_init(&b, len * 2 + 16);
	while (off < len) {
		uint32_t cp;
		size_t n = utf8_decode(simplified + off, len - off, &cp);

		if (n == 0)
			n = 1, cp = 0xfffd;
		if (!fold_cp(&b, cp))
			buf_append(&b, simplified + off, n);
		off += n;
	}
	opencc_convert_utf8_free(simplified);
	return buf_steal(&b);
}

static bool
is_dash(uint32_t cp)
{
	return cp == '~' || (cp >= 0x2010 && cp <= 0x2015) || cp == 0x301c ||
	    cp == 0x2212 || cp == 0xfe63;
}

static bool
is_dropped_in_name(uint32_t cp)
{
	return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '"' ||
	    cp == '\'' || cp == 0x201c || cp == 0x201d || cp == 0x2018 ||
	    cp == 0x2019 || cp == 0x300a || cp == 0x300b || (cp >= 0x300c && cp <= 0x300f);
}

char *
textnorm_name(const char *in)
{
	char *text = textnorm_text(in);
	char *name = textnorm_name_of_text(text);

	free(text);
	return name;
}

char *
textnorm_name_of_text(const char *text)
{
	size_t len = strlen(text), off = 0;
	struct buf b;

	buf_init(&b, len + 1);
	while (off < len) {
		uint32_t cp;
		size_t n = utf8_decode(text + off, len - off, &cp);

		if (n == 0)
			n = 1, cp = 0xfffd;
		if (is_dash(cp))
			buf_puts(&b, "-");
		else if (is_dropped_in_name(cp))
			;
		else if (cp >= 'A' && cp <= 'Z')
			put_cp(&b, cp - 'A' + 'a');
		else
			buf_append(&b, text + off, n);
		off += n;
	}
	return buf_steal(&b);
}
