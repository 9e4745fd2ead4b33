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
#include "campaign/safetext.h"
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

/*
 * A decoding with replacement: every byte sequence that is not valid in the
 * charset becomes U+FFFD and is counted, with the line it is on (a line break
 * byte is never part of a GB18030 or Big5 sequence, so lines are counted on
 * the raw bytes). NULL if iconv does not know the charset.
 */
struct lossy {
	char *text;
	size_t bad;             /* invalid sequences replaced */
	int bad_lines[8];       /* the first lines holding one */
	size_t nbad_lines;
	const char *scan;       /* line counting so far: up to here, */
	int scan_line;          /* ... which is on this line */
};

static void
lossy_mark(struct lossy *l, const char *start, const char *at)
{
	int line;

	if (l->scan == NULL)
		l->scan = start, l->scan_line = 1;
	for (; l->scan < at; l->scan++)
		l->scan_line += *l->scan == '\n';
	line = l->scan_line;
	l->bad++;
	if (l->nbad_lines > 0 && l->bad_lines[l->nbad_lines - 1] == line)
		return;
	if (l->nbad_lines < sizeof(l->bad_lines) / sizeof(l->bad_lines[0]))
		l->bad_lines[l->nbad_lines++] = line;
}

static bool
convert_lossy(const char *in, size_t len, const char *charset, struct lossy *l)
{
	iconv_t cd = iconv_open("UTF-8", charset);
	size_t cap = len * 4 + 16, inleft = len, outleft;
	char *ip = (char *)(uintptr_t)in, *op;

	memset(l, 0, sizeof(*l));
	if (cd == (iconv_t)-1)
		return false;
	l->text = xmalloc(cap);
	op = l->text;
	outleft = cap - 4;
	while (inleft > 0) {
		if (iconv(cd, &ip, &inleft, &op, &outleft) != (size_t)-1)
			break;
		if (errno != EILSEQ && errno != EINVAL)
			break; /* E2BIG cannot happen: 4 bytes out per byte in */
		lossy_mark(l, in, ip);
		memcpy(op, "\xef\xbf\xbd", 3); /* U+FFFD for the first byte of it */
		op += 3, outleft -= 3;
		ip++, inleft--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	iconv(cd, NULL, NULL, &op, &outleft);
	iconv_close(cd);
	*op = '\0';
	/* A NUL cannot come through: binary input was refused before. */
	return true;
}

/* UTF-8 with replacement, counted as convert_lossy does. */
static void
utf8_lossy(const char *in, size_t len, struct lossy *l)
{
	size_t off = 0;

	memset(l, 0, sizeof(*l));
	while (off < len) {
		size_t bad = utf8_invalid_offset(in + off, len - off);

		if (bad >= len - off)
			break;
		lossy_mark(l, in, in + off + bad);
		off += bad + 1;
	}
	l->text = utf8_sanitize(in, len);
}

/* "3 invalid byte(s) ... on lines 4, 9" as a warning the admin reads. */
static void
lossy_note(const struct lossy *l, const char *charset, struct imp_notes *notes)
{
	char lines[96] = "";
	size_t used = 0;

	for (size_t i = 0; i < l->nbad_lines && used < sizeof(lines); i++) {
		int n = snprintf(lines + used, sizeof(lines) - used, "%s%d", i ? ", " : "",
		    l->bad_lines[i]);

		if (n < 0)
			break;
		used += (size_t)n;
	}
	imp_note(notes, l->bad_lines[0], l->bad_lines[0], IMPORT_WARNING,
	    "%zu invalid byte sequence(s) for %s, shown as U+FFFD, on line%s %s%s: "
	    "check these lines against the original", l->bad, charset,
	    l->nbad_lines > 1 ? "s" : "", lines,
	    l->nbad_lines == sizeof(l->bad_lines) / sizeof(l->bad_lines[0]) ? " ..." : "");
}

/* Bytes that are not 7-bit ASCII: what an encoding has to account for. */
static size_t
non_ascii(const unsigned char *d, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += d[i] >= 0x80;
	return n;
}

/*
 * Decodes to UTF-8 and sets doc->encoding; NULL with err if it is not text.
 * Valid UTF-8 is taken as is; otherwise each of UTF-8, GB18030 and Big5 is
 * decoded with replacement and the one with the fewest invalid sequences
 * wins (GB18030 or Big5 by how common their characters are when both read
 * cleanly), so one stray byte does not make a GBK document unreadable. The
 * bad bytes' lines are reported.
 */
static char *
decode(const unsigned char *d, size_t len, struct imp_doc *doc, struct imp_notes *notes,
    char *err, size_t errlen)
{
	const char *utf16 = NULL;
	struct lossy cand[3];
	static const char *const names[3] = { "UTF-8", "GB18030", "BIG5" };
	size_t controls = 0, best = 0, high;

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
	utf8_lossy((const char *)d, len, &cand[0]);
	for (size_t i = 1; i < 3; i++)
		if (!convert_lossy((const char *)d, len, names[i], &cand[i]))
			cand[i].bad = SIZE_MAX;
	for (size_t i = 1; i < 3; i++) {
		if (cand[i].bad < cand[best].bad)
			best = i;
		else if (i == 2 && best == 1 && cand[2].bad == cand[1].bad &&
		    chinese_score(cand[2].text) > chinese_score(cand[1].text))
			best = 2;
	}
	/* Mostly invalid whatever the charset: not a Chinese text document. */
	high = non_ascii(d, len);
	if (cand[best].bad * 5 > high + 5) {
		snprintf(err, errlen, "this file is not text in a known encoding (UTF-8, "
		    "GBK/GB18030, Big5): %zu of its %zu non-ASCII bytes are invalid even "
		    "in the best guess; save the plan as UTF-8 text", cand[best].bad, high);
		for (size_t i = 0; i < 3; i++)
			free(cand[i].text);
		return NULL;
	}
	doc->encoding = best == 0 ? "UTF-8 (with invalid bytes)" : names[best];
	if (cand[best].bad > 0)
		lossy_note(&cand[best], names[best], notes);
	for (size_t i = 0; i < 3; i++)
		if (i != best)
			free(cand[i].text);
	return cand[best].text;
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

/*
 * "一" used as the dash of a range ("3月5日一3月31日", "5日一8日"): after 日 and
 * before a number that is a day or month, it is a dash.
 */
static char *
dash_one(char *s)
{
	static const char ri_yi[] = "日一";
	char *p = s;

	while ((p = strstr(p, ri_yi)) != NULL) {
		char *after = p + strlen(ri_yi), *q = after;

		while (*q >= '0' && *q <= '9')
			q++;
		if (q > after && (imp_starts(q, "月") || imp_starts(q, "日"))) {
			/* "一" (3 bytes) -> "-" and two spaces squeezed out */
			char *dash = p + strlen("日");

			*dash = '-';
			memmove(dash + 1, after, strlen(after) + 1);
		}
		p += strlen("日");
	}
	return s;
}

/*
 * Control characters become spaces; C1 controls, direction overrides and
 * invisible characters (a PDF's text layer has them) go, as the plan loader
 * refuses them in any text; surrounding whitespace goes.
 */
static char *
tidy(char *s)
{
	size_t len = strlen(s), start = 0, in = 0, out = 0;

	while (in < len) {
		uint32_t cp;
		size_t n = utf8_decode(s + in, len - in, &cp);

		if (n == 0) {
			s[out++] = s[in++];     /* invalid bytes are the encoding step's concern */
		} else if (cp < 0x20 || cp == 0x7f) {
			s[out++] = ' ';
			in += n;
		} else if (safetext_unsafe(cp) || safetext_invisible(cp)) {
			in += n;
		} else {
			memmove(s + out, s + in, n);
			out += n;
			in += n;
		}
	}
	s[out] = '\0';
	len = out;
	while (len > 0 && s[len - 1] == ' ')
		s[--len] = '\0';
	while (s[start] == ' ')
		start++;
	memmove(s, s + start, len - start + 1);
	return s;
}

/*
 * Document sites cut a long text into numbered chunks, even inside a word:
 * "1、全区科技活动整体方案 为…与市科技局、市科协" then "2、、市教育局…".
 * Chunks are long lines that start 1、, 2、 … in sequence: their numbers go
 * and each chunk joins the one before it.
 */
static void
join_chunks(struct imp_doc *doc, struct imp_notes *notes)
{
	size_t out = 0;
	int next = 1, first_line = 0;

	for (size_t i = 0; i < doc->nlines; i++) {
		char *t = doc->lines[i].text;
		char prefix[8];
		int n = snprintf(prefix, sizeof(prefix), "%d、", next);

		if (n > 0 && imp_starts(t, prefix) && utf8_chars(t) > 150) {
			char *rest = t + n;

			if (next == 1) {
				memmove(t, rest, strlen(rest) + 1);
				first_line = doc->lines[i].no;
			} else {
				struct imp_line *prev = &doc->lines[out - 1];
				char *joined = xasprintf("%s%s", prev->text, rest);

				free(prev->text);
				prev->text = joined;
				free(t);
				next++;
				continue;
			}
			next++;
		} else if (next > 1 && !imp_starts(t, prefix)) {
			next = 0; /* only a run from 1 in sequence */
		}
		doc->lines[out++] = doc->lines[i];
	}
	if (next > 2)
		imp_note(notes, first_line, first_line, IMPORT_NOTE, "the text is cut into %d "
		    "numbered chunks (a document site's): joined again", next - 1);
	doc->nlines = out;
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
	text = decode(data, len, doc, notes, err, errlen);
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
		norm = dash_one(tidy(textnorm_text(repaired_line)));
		free(repaired_line);
		if (*norm != '\0' && boilerplate(norm)) {
			char excerpt[96];

			imp_excerpt(norm, 24, excerpt, sizeof(excerpt));
			imp_note(notes, no, no, IMPORT_NOTE, "page furniture ignored: \"%s\"",
			    excerpt);
			*norm = '\0';
		}
		if (*norm != '\0' && doc->nlines == IMP_MAX_LINES) {
			/* Never a silent truncation: the rest would be lost unseen. */
			free(norm);
			snprintf(err, errlen, "the file has more than %d non-empty lines (line "
			    "%d is one too many); a plan document is far shorter: check that "
			    "this is the plan, or split it", IMP_MAX_LINES, no);
			goto out;
		}
		if (*norm != '\0') {
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
	join_chunks(doc, notes);
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
