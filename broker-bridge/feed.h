/*
 * The Atom 1.0 feed ([feed] path) for newsroom and web CMSs that pull
 * feeds: the announcements and the tasks reaching done, newest first, at
 * most [feed] entries. It is rebuilt from the outbox (so a restart or a
 * repeated event changes nothing) and written atomically (a temporary file,
 * fsync, rename) whenever a new entry may have appeared. Ids are stable
 * tag: URIs, times carry the plan's offset, xml:lang is zh-CN; with
 * [feed] board_url every entry links to the board. docs/mqtt.md, "The feed".
 */
#ifndef BRIDGE_FEED_H
#define BRIDGE_FEED_H

#include <stdbool.h>

#include "campaign/cfg.h"
#include "campaign/events.h"
#include "campaign/store.h"

struct feed;

/* NULL when cfg has no [feed] path. */
struct feed *feed_new(const struct cfg *cfg, struct store *s);
void feed_free(struct feed *f);
/* An event was published: marks the feed for a rewrite if it adds an entry. */
void feed_event(struct feed *f, const struct event *e);
/*
 * Rewrites the file if marked; on a tick, also after a failed write. 0 done
 * or nothing to do, -1 failed (logged).
 */
int feed_flush(struct feed *f, bool tick);

#endif
