/* The one checked number parser (STYLE: no atoi). */
#ifndef CAMPAIGN_NUM_H
#define CAMPAIGN_NUM_H

#include <stdint.h>

/* Parses a whole decimal string in [min, max]; -1 on junk, overflow or range. */
int num_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int num_parse_int(const char *s, int min, int max, int *out);
/*
 * Parses a duration such as "90", "90s", "15m", "36h", "7d" into seconds.
 * Bare numbers are seconds. -1 on junk or a negative value.
 */
int num_parse_duration(const char *s, int64_t *seconds);

#endif
