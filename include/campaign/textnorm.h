/*
 * Text normalization shared by the plan importer, the plan loader and every
 * message a user types, so that "市扶貧辦", "市扶贫办 " and "ＸＸ日报" compare
 * equal to what the plan says. Pipeline: invalid UTF-8 -> U+FFFD, strip
 * pinyin annotations "開(kāi)", OpenCC t2s, fold full-width forms, 〝〞 and
 * the middle dots. The OpenCC converter is opened once per process.
 */
#ifndef CAMPAIGN_TEXTNORM_H
#define CAMPAIGN_TEXTNORM_H

/* Document or message text: the pipeline above, spaces and dashes kept. Owned result. */
char *textnorm_text(const char *in);
/*
 * A name or a search key: textnorm_text, then dashes folded to '-', quotes
 * and book-title marks dropped, whitespace dropped, ASCII lowercased. Owned result.
 */
char *textnorm_name(const char *in);
/*
 * The name form of text that already went through textnorm_text (the bot
 * normalizes a message once, then matches names in it): the folding of
 * textnorm_name without a second OpenCC pass. Owned result.
 */
char *textnorm_name_of_text(const char *text);
/* Only the pinyin-annotation strip (exposed for the importer and tests). Owned result. */
char *textnorm_strip_pinyin(const char *in);
/* Releases the OpenCC converter (optional; for leak checkers). */
void textnorm_shutdown(void);

#endif
