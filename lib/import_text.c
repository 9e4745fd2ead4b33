/*
 * From the document's bytes to normalized lines: refuse empty, binary and
 * oversized input; detect the encoding (UTF-8, UTF-16 by BOM, else the one of
 * GB18030 and Big5 that reads as more common Chinese) and convert with iconv;
 * repair the scrape glitches of the seed's site family; then the shared
 * textnorm pipeline (pinyin strip, t2s, fold). Line numbers are kept.
 */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/buf.h"
#include "campaign/textnorm.h"
#include "campaign/utf8.h"
#include "campaign/xmalloc.h"
#include "import_priv.h"

/*
 * Converts len bytes from charset to UTF-8. NULL if iconv does not know the
 * charset or the input is not valid in it.
 */
static char *
convert(const char *in, size_t len, const char *charset)
{
	iconv_t cd = iconv_open("UTF-8", charset);
	size_t cap = len * 4 + 16, inleft = len, outleft;
	char *out, *ip = (char *)(uintptr_t)in, *op;

	if (cd == (iconv_t)-1)
		return NULL;
	out = xmalloc(cap);
	op = out;
	outleft = cap - 1;
	if (iconv(cd, &ip, &inleft, &op, &outleft) == (size_t)-1 ||
	    iconv(cd, NULL, NULL, &op, &outleft) == (size_t)-1) {
		iconv_close(cd);
		free(out);
		return NULL;
	}
	iconv_close(cd);
	*op = '\0';
	if (strlen(out) != (size_t)(op - out)) { /* a NUL came through */
		free(out);
		return NULL;
	}
	return out;
}

/*
 * How Chinese a decoding looks: the share of its CJK characters that are
 * among the most frequent ones of plan documents (both scripts). GB18030
 * decodes Big5 bytes "successfully" into rare characters; this tells them apart.
 */
static double
chinese_score(const char *s)
{
	static const char common[] =
	    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发"
	    "年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如"
	    "水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然"
	    "前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但"
	    "活动方案市委单位责任宣传工作组织领导开展扶贫办局县区镇村月日前通知要求"
	    "這為個們來說發會動開關對時後還過與進實現應種當點從務機戰頭鄉鎮單責貧辦傳組織"
	    "領導區縣時間報論議說請經歲東條陽陰學長門問題處產業計劃";
	size_t len = strlen(s), off = 0, cjk = 0, hits = 0;

	while (off < len) {
		uint32_t cp;
		size_t n = utf8_decode(s + off, len - off, &cp);

		if (n == 0)
			return 0;
		if (utf8_is_cjk(cp)) {
			char enc[5];

			cjk++;
			enc[utf8_encode(cp, enc)] = '\0';
			if (strstr(common, enc) != NULL)
				hits++;
		}
		off += n;
	}
	return cjk == 0 ? 0 : (double)hits / (double)cjk;
}

/* UTF-16 without a BOM: most ASCII characters have a zero high byte. */
static const char *
utf16_guess(const unsigned char *d, size_t len)
{
	size_t even = 0, odd = 0;

	for (size_t i = 0; i + 1 < len; i += 2) {
		even += d[i] == 0;
		odd += d[i + 1] == 0;
	}
	if (len >= 4 && odd * 3 > len / 2)
		return "UTF-16LE";
	if (len >= 4 && even * 3 > len / 2)
		return "UTF-16BE";
	return NULL;
}

/* Decodes to UTF-8 and sets doc->encoding; NULL with err if it is not text. */
static char *
decode(const unsigned char *d, size_t len, struct imp_doc *doc, char *err, size_t errlen)
{
	const char *utf16 = NULL;
	char *gb, *big5;
	size_t controls = 0;

	if (len >= 3 && d[0] == 0xef && d[1] == 0xbb && d[2] == 0xbf) {
		d += 3, len -= 3;
	} else if (len >= 2 && d[0] == 0xff && d[1] == 0xfe) {
		utf16 = "UTF-16LE", d += 2, len -= 2;
	} else if (len >= 2 && d[0] == 0xfe && d[1] == 0xff) {
		utf16 = "UTF-16BE", d += 2, len -= 2;
	} else if (memchr(d, 0, len) != NULL) {
		utf16 = utf16_guess(d, len);
	}
	if (utf16 != NULL) {
		char *out = convert((const char *)d, len, utf16);

		if (out != NULL) {
			doc->encoding = utf16;
			return out;
		}
	}
	for (size_t i = 0; i < len; i++)
		if ((d[i] < 0x20 && d[i] != '\t' && d[i] != '\n' && d[i] != '\r' &&
		    d[i] != '\f' && d[i] != '\v' && d[i] != 0x1a) || d[i] == 0x7f)
			controls++;
	if (memchr(d, 0, len) != NULL || controls * 50 > len + 50) {
		snprintf(err, errlen, "this is a binary file, not a plan document "
		    "(%s at byte %zu); save the plan as text (UTF-8 or GBK) first",
		    memchr(d, 0, len) != NULL ? "NUL bytes" : "control bytes",
		    memchr(d, 0, len) != NULL ? (size_t)((const unsigned char *)memchr(d, 0, len) - d) : 0);
		return NULL;
	}
	if (utf8_valid((const char *)d, len)) {
		doc->encoding = "UTF-8";
		return xstrndup((const char *)d, len);
	}
	gb = convert((const char *)d, len, "GB18030");
	big5 = convert((const char *)d, len, "BIG5");
	if (gb != NULL && (big5 == NULL || chinese_score(gb) >= chinese_score(big5))) {
		free(big5);
		doc->encoding = "GB18030";
		return gb;
	}
	if (big5 != NULL) {
		free(gb);
		doc->encoding = "BIG5";
		return big5;
	}
	doc->encoding = "UTF-8 (with invalid bytes)";
	return utf8_sanitize((const char *)d, len);
}

static void
replace_all(struct buf *b, const char *from, const char *to, int *count)
{
	const char *s = buf_str(b), *hit;
	struct buf out;

	if (strstr(s, from) == NULL)
		return;
	buf_init(&out, b->max);
	while ((hit = strstr(s, from)) != NULL) {
		buf_append(&out, s, (size_t)(hit - s));
		buf_puts(&out, to);
		s = hit + strlen(from);
		(*count)++;
	}
	buf_puts(&out, s);
	buf_free(b);
	*b = out;
}

static bool
is_pinyin_char(const char *s, size_t *n)
{
	static const char toned[] = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü";
	char enc[5];
	uint32_t cp;

	if (*s >= 'a' && *s <= 'z') {
		*n = 1;
		return true;
	}
	*n = utf8_decode(s, strnlen(s, 4), &cp);
	if (*n < 2)
		return false;
	memcpy(enc, s, *n);
	enc[*n] = '\0';
	return strstr(toned, enc) != NULL;
}

static bool
is_ascii_digit_at(const char *s)
{
	return *s >= '0' && *s <= '9';
}

char *
imp_glitch_repair(const char *line, int *repaired, int *lost)
{
	static const struct { const char *from, *to; } known[] = {
		{ "?qǐng)?bào)", "報" },   /* 日報 lost its 報 in a GBK round trip */
		{ "?yè)P(yáng)", "揚" },   /* 表揚 */
		{ ";顒(dòng)", "。活動" }, /* the full stop and 活 of 活動 */
	};
	struct buf b, out;
	const char *s;

	buf_init(&b, strlen(line) * 2 + 16);
	buf_puts(&b, line);
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		replace_all(&b, known[i].from, known[i].to, repaired);
	/* "10?17" -> "10·17", and the unrecoverable "?pinyin)" -> U+FFFD. */
	buf_init(&out, b.max * 2 + 16);
	s = buf_str(&b);
	for (size_t i = 0; s[i] != '\0'; i++) {
		if (s[i] == '?' && i > 0 && is_ascii_digit_at(s + i - 1) &&
		    is_ascii_digit_at(s + i + 1)) {
			buf_puts(&out, "·");
			(*repaired)++;
			continue;
		}
		if (s[i] == '?') {
			size_t j = i + 1, n, letters = 0;

			while (letters < 7 && is_pinyin_char(s + j, &n))
				j += n, letters++;
			if (letters >= 1 && letters <= 6 && s[j] == ')') {
				buf_puts(&out, "\xef\xbf\xbd");
				(*lost)++;
				i = j;
				continue;
			}
		}
		buf_append(&out, s + i, 1);
	}
	buf_free(&b);
	return buf_steal(&out);
}

/*
 * Page furniture of the sites plans are copied from (发布时间:2024-11-19
 * 来源:…, 上一篇:…, 相关文章): never part of the plan, and its dates are not
 * the campaign's.
 */
static bool
boilerplate(const char *s)
{
	static const char *const starts[] = {
		"发布时间", "发布日期", "来源:", "浏览次数", "点击数", "作者:", "责任编辑",
		"编辑:", "上一篇", "下一篇", "相关文章", "相关推荐", "热门文章", "推荐阅读",
		"分享到", "打印本页", "关闭窗口", "【打印】", "【关闭】", "字号", "时间:",
	};

	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		if (imp_starts(s, starts[i])) {
			/* "时间:" is furniture only with an ISO date ("时间:2024-11-19"). */
			const char *p = s + strlen(starts[i]);

			if (strcmp(starts[i], "时间:") != 0)
				return true;
			return p[0] >= '0' && p[0] <= '9' && strlen(p) >= 10 && p[4] == '-' &&
			    p[7] == '-';
		}
	}
	return false;
}

/* Control characters become spaces; surrounding whitespace goes. */
static char *
tidy(char *s)
{
	size_t len, start = 0;

	for (char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	len = strlen(s);
	while (len > 0 && s[len - 1] == ' ')
		s[--len] = '\0';
	while (s[start] == ' ')
		start++;
	memmove(s, s + start, len - start + 1);
	return s;
}

int
imp_text_load(const void *data, size_t len, struct imp_doc *doc, struct imp_notes *notes,
    char *err, size_t errlen)
{
	char *text = NULL, *p, *line_start;
	int no = 0, repaired = 0, lost = 0, first_repair = 0;
	int rc = -1;
	size_t cap = 0;

	memset(doc, 0, sizeof(*doc));
	if (len == 0) {
		snprintf(err, errlen, "the file is empty");
		goto out;
	}
	if (len > IMPORT_MAX_BYTES) {
		snprintf(err, errlen, "the file is too large for a plan document (%zu bytes; "
		    "the limit is %u)", len, IMPORT_MAX_BYTES);
		goto out;
	}
	text = decode(data, len, doc, err, errlen);
	if (text == NULL)
		goto out;
	for (p = line_start = text;; p++) {
		char *repaired_line, *norm;
		int r0 = repaired, l0 = lost;
		bool end = *p == '\0';
		char c = *p;

		if (!end && c != '\n' && c != '\r')
			continue;
		*p = '\0';
		no++;
		repaired_line = imp_glitch_repair(line_start, &repaired, &lost);
		if (repaired > r0 && first_repair == 0)
			first_repair = no;
		if (lost > l0)
			imp_note(notes, no, no, IMPORT_WARNING, "%d garbled character(s) could "
			    "not be recovered (shown as U+FFFD)", lost - l0);
		norm = tidy(textnorm_text(repaired_line));
		free(repaired_line);
		if (*norm != '\0' && boilerplate(norm)) {
			char excerpt[96];

			imp_excerpt(norm, 24, excerpt, sizeof(excerpt));
			imp_note(notes, no, no, IMPORT_NOTE, "page furniture ignored: \"%s\"",
			    excerpt);
			*norm = '\0';
		}
		if (*norm != '\0' && doc->nlines < IMP_MAX_LINES) {
			if (doc->nlines == cap) {
				cap = cap == 0 ? 64 : cap * 2;
				doc->lines = xreallocarray(doc->lines, cap, sizeof(*doc->lines));
			}
			doc->lines[doc->nlines++] = (struct imp_line){ .text = norm, .no = no };
		} else {
			free(norm);
		}
		if (end)
			break;
		if (c == '\r' && p[1] == '\n')
			p++; /* CR LF */
		line_start = p + 1;
	}
	doc->total_lines = no;
	if (repaired > 0)
		imp_note(notes, first_repair, first_repair, IMPORT_NOTE, "repaired %d scrape "
		    "glitch(es) (10?17 -> 10·17, 日?qǐng)?bào) -> 日報 ...), the first here",
		    repaired);
	if (doc->nlines == 0) {
		snprintf(err, errlen, "the file has no text (only blank lines)");
		goto out;
	}
	rc = 0;
out:
	free(text);
	if (rc < 0)
		imp_doc_free(doc);
	return rc;
}

void
imp_doc_free(struct imp_doc *doc)
{
	for (size_t i = 0; i < doc->nlines; i++)
		free(doc->lines[i].text);
	free(doc->lines);
	doc->lines = NULL;
	doc->nlines = 0;
}
