/*
 * Text from chat users and documents that is safe to store and to show
 * (docs/ARCHITECTURE.md "Hostile text"). Unsafe code points are those that
 * steer a terminal or reorder what a reader sees: C0 controls other than tab
 * and line feed, DEL, C1 controls, and the bidirectional overrides,
 * embeddings, isolates and marks. Stored user text has them stripped;
 * names (units, aliases) also refuse invisible zero-width characters;
 * campaignctl's and the console's output escapes whatever still holds them.
 */
#ifndef CAMPAIGN_SAFETEXT_H
#define CAMPAIGN_SAFETEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

bool safetext_unsafe(uint32_t cp);
/* Zero-width and other invisible format characters (U+200B..U+200D, U+2060, U+FEFF, U+00AD). */
bool safetext_invisible(uint32_t cp);
/*
 * An owned copy of s (NULL in, NULL out) without unsafe code points; invalid
 * UTF-8 becomes U+FFFD; with newlines false, line feeds and tabs become spaces.
 */
char *safetext_strip(const char *s, bool newlines);
/* Binds a nullable one-line text (a user's or chat's name) stripped as above. */
int safetext_bind(sqlite3_stmt *st, int idx, const char *text);
/* The first unsafe or invisible code point of a name, or 0 if there is none. */
uint32_t safetext_name_bad(const char *s);
/*
 * From here on, stdout and stderr escape unsafe code points as \uXXXX (valid
 * inside JSON strings too) and invalid bytes as U+FFFD: for programs whose
 * output reaches an admin's terminal.
 */
int safetext_filter_stdio(void);
/*
 * The program's own control sequence (a progress line's "\r\033[K"), past
 * the filter: flushes fp, then writes s to fp's descriptor (stdout or stderr).
 * Binary output, likewise, goes to the descriptor with write(2).
 */
void safetext_raw(FILE *fp, const char *s);

#endif
