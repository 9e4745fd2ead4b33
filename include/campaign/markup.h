/*
 * Chat markup: the text format of every chat message the campaign sends.
 * UTF-8 with three inline tags, <b>, <i> and <code>, and the entities &lt;
 * &gt; &amp; &quot;. A tag opens and closes on the same line. Telegram takes
 * it as parse_mode=HTML, Matrix as formatted_body; platforms without
 * formatting (console, XMPP) show markup_to_plain(). Writers (the bot's
 * answers, campaignctl broadcast) escape whatever they did not write
 * themselves with markup_escape.
 */
#ifndef CAMPAIGN_MARKUP_H
#define CAMPAIGN_MARKUP_H

#include <stdbool.h>
#include <stddef.h>

#include "campaign/buf.h"

/* Appends text with <, >, & and " escaped. Invalid UTF-8 becomes U+FFFD. */
void markup_escape(struct buf *b, const char *text);
/* Owned escaped copy. */
char *markup_escape_dup(const char *text);
/* Owned plain text: tags dropped, entities decoded. */
char *markup_to_plain(const char *markup);
/*
 * Splits text into pieces of at most max_units UTF-16 code units each, on line
 * boundaries; a single longer line is cut between characters (never inside a
 * tag or an entity when is_markup). Whitespace-only pieces are dropped, so a
 * piece is never empty. max_units 0: no limit. Returns the count; *pieces is
 * an owned array of owned strings.
 */
size_t markup_split(const char *text, bool is_markup, size_t max_units, char ***pieces);
void markup_pieces_free(char **pieces, size_t n);

#endif
