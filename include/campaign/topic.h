/*
 * MQTT topic names built from data. A task id or any other stored name
 * becomes a topic level only after topic_level_ok: no '/', '+', '#', NUL,
 * control characters or invalid UTF-8, so a hostile name can never add a
 * level, a wildcard or a cut to a topic. Used by the bridge (tasks/<id>)
 * and by config checks (topic_prefix).
 */
#ifndef CAMPAIGN_TOPIC_H
#define CAMPAIGN_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

/* Longest single level taken from data (task ids are at most 32 bytes). */
#define TOPIC_LEVEL_MAX 64
/* Longest topic prefix accepted from a config file. */
#define TOPIC_PREFIX_MAX 200

/*
 * True if the len bytes at s may be one topic level: 1..TOPIC_LEVEL_MAX
 * bytes of valid UTF-8 without '/', '+', '#', NUL or control characters,
 * and not "." or ".." (they read as paths on displays that map topics to files).
 */
bool topic_level_ok(const char *s, size_t len);
/*
 * True if s may prefix published topics: 1..TOPIC_PREFIX_MAX bytes of valid
 * UTF-8, levels separated by single '/', no empty level, no wildcard, no
 * control character, not starting with '$' (reserved for the broker).
 * On false, *why (if not NULL) says what is wrong.
 */
bool topic_prefix_ok(const char *s, const char **why);

#endif
