/*
 * String -> index hash table: linear probing over a power-of-two array kept
 * at most half full. Used where a plan's ids and names are matched in bulk.
 */
#include "campaign/strindex.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/xmalloc.h"

struct slot {
	const char *key;        /* NULL: empty */
	size_t value;
};

struct strindex {
	struct slot *slots;
	size_t cap;             /* a power of two */
	size_t n;
};

static uint64_t
hash(const char *s)
{
	uint64_t h = 14695981039346656037u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static size_t
find(const struct strindex *ix, const char *key)
{
	size_t i = (size_t)hash(key) & (ix->cap - 1);

	while (ix->slots[i].key != NULL && strcmp(ix->slots[i].key, key) != 0)
		i = (i + 1) & (ix->cap - 1);
	return i;
}

struct strindex *
strindex_new(size_t n)
{
	struct strindex *ix = xcalloc(1, sizeof(*ix));

	ix->cap = 16;
	while (ix->cap < 2 * n + 2 && ix->cap < SIZE_MAX / 4)
		ix->cap *= 2;
	ix->slots = xcalloc(ix->cap, sizeof(*ix->slots));
	return ix;
}

void
strindex_free(struct strindex *ix)
{
	if (ix == NULL)
		return;
	free(ix->slots);
	free(ix);
}

static void
grow(struct strindex *ix)
{
	struct slot *old = ix->slots;
	size_t oldcap = ix->cap;

	ix->cap *= 2;
	ix->slots = xcalloc(ix->cap, sizeof(*ix->slots));
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key != NULL)
			ix->slots[find(ix, old[i].key)] = old[i];
	free(old);
}

size_t
strindex_put(struct strindex *ix, const char *key, size_t value)
{
	size_t i;

	if (2 * (ix->n + 1) > ix->cap)
		grow(ix);
	i = find(ix, key);
	if (ix->slots[i].key == NULL) {
		ix->slots[i].key = key;
		ix->slots[i].value = value;
		ix->n++;
	}
	return ix->slots[i].value;
}

ssize_t
strindex_get(const struct strindex *ix, const char *key)
{
	size_t i = find(ix, key);

	return ix->slots[i].key == NULL ? -1 : (ssize_t)ix->slots[i].value;
}
