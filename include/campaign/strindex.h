/*
 * A string -> index hash table (open addressing, FNV-1a), so loading a plan
 * of n tasks looks each id up in constant time instead of scanning (docs/
 * ARCHITECTURE.md "Limits"). Keys are borrowed: they must outlive the table.
 */
#ifndef CAMPAIGN_STRINDEX_H
#define CAMPAIGN_STRINDEX_H

#include <stddef.h>
#include <sys/types.h>

struct strindex;

/* A table sized for about n keys (it grows past that). */
struct strindex *strindex_new(size_t n);
void strindex_free(struct strindex *ix);
/* Adds key -> value unless key is present; returns the value stored for key. */
size_t strindex_put(struct strindex *ix, const char *key, size_t value);
/* The value for key, or -1. */
ssize_t strindex_get(const struct strindex *ix, const char *key);

#endif
