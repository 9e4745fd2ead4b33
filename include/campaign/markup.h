/*
 * Chat markup: the platform-neutral document every chat message the
 * campaign sends is written in (the bot's answers, reminders, campaignctl
 * broadcast), stored as is in the chat outbox and rendered per platform
 * only when it is sent.
 *
 * The format: UTF-8 lines separated by "\n".
 * - Inline: <b>bold</b>, <i>italics</i>, <code>code</code>; a tag opens and
 *   closes on the same line. The entities &lt; &gt; &amp; &quot; stand for
 *   < > & ". Writers escape whatever they did not write themselves with
 *   markup_escape, so user text (task titles, notes, unit names) never
 *   carries a tag or a line structure of its own.
 * - A list item is a line that starts with "• " (U+2022, a space); a line
 *   that starts with spaces right after an item continues it.
 * - An empty line separates paragraphs; every other "\n" is a visible break.
 *
 * Renderings (markup_render):
 * - MARKUP_HTML (Telegram, parse_mode=HTML): the markup itself, byte for byte.
 * - MARKUP_PLAIN (console, a refused markup): tags dropped, entities decoded.
 * - MARKUP_MARKDOWN (DingTalk, WeCom, Feishu): <b> as **..**, <i> as *..*,
 *   <code> as `..`, items as "- ", a blank line between a list and the text
 *   around it, and every other break as two trailing spaces before "\n"
 *   (Markdown folds a bare "\n" inside a paragraph into a space; DingTalk's
 *   message-type page documents the break as "\n" with two spaces around
 *   it, and leading spaces mean nothing to Markdown, so the trailing pair is
 *   the part that counts). A space goes outside an emphasis mark that would
 *   otherwise touch CJK punctuation inside and a letter outside (Markdown
 *   would not open or close it there). Text is escaped with backslashes:
 *   \ * _ ` [ ] < > ~ | everywhere, & where it would start an entity, and
 *   at a line start # + - = and the dot of "1." (so user text never becomes
 *   a heading, a quote, a list, a table or a rule); leading spaces of a
 *   plain line are dropped (four would make a code block).
 * Every rendering turns invalid UTF-8 into U+FFFD.
 */
#ifndef CAMPAIGN_MARKUP_H
#define CAMPAIGN_MARKUP_H

#include <stdbool.h>
#include <stddef.h>

#include "campaign/buf.h"

enum markup_format {
	MARKUP_PLAIN,
	MARKUP_HTML,            /* Telegram parse_mode=HTML */
	MARKUP_MARKDOWN,        /* DingTalk/WeCom/Feishu Markdown */
};

/* What a platform's length limit counts. */
enum markup_unit {
	MARKUP_UNIT_UTF16,      /* UTF-16 code units (Telegram) */
	MARKUP_UNIT_BYTES,      /* UTF-8 bytes (DingTalk, WeCom) */
};

/* Appends text with <, >, & and " escaped. Invalid UTF-8 becomes U+FFFD. */
void markup_escape(struct buf *b, const char *text);
/* Owned escaped copy. */
char *markup_escape_dup(const char *text);
/* Owned plain text: tags dropped, entities decoded (markup_render(m, MARKUP_PLAIN)). */
char *markup_to_plain(const char *markup);

/* Owned rendering of markup in format f; escapes what the format needs. */
char *markup_render(const char *markup, enum markup_format f);
/*
 * Owned plain text of a rendering (what is left to say after a platform
 * refused the formatting of a piece already rendered in f).
 */
char *markup_rendered_plain(const char *rendered, enum markup_format f);
/*
 * Splits a rendering into pieces of at most max units each, on line
 * boundaries; a single longer line is cut between characters, never inside
 * a UTF-8 sequence, an HTML tag or entity, or a Markdown escape (a Markdown
 * span cut in two is closed at the end of one piece and opened again at the
 * start of the next). Whitespace-only pieces are dropped, so a piece is
 * never empty. max 0: no limit. Returns the count; *pieces is an owned
 * array of owned strings (markup_pieces_free).
 */
size_t markup_split_rendered(const char *rendered, enum markup_format f, size_t max,
    enum markup_unit unit, char ***pieces);
void markup_pieces_free(char **pieces, size_t n);

#endif
