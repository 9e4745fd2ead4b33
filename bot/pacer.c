/*
 * Pacing state: a ring of the last global_max send times, and per chat the
 * last send time and (for groups) a ring of the last group_max. Chats live in
 * an open-addressing hash table; entries whose windows have passed are
 * dropped when the table is rebuilt, so memory follows the chats of the last
 * minute, not every chat ever seen.
 */
#include "pacer.h"

#include <stdlib.h>
#include <string.h>

#include "campaign/xmalloc.h"

/* A chat's own sliding window: a ring of its last max send times. */
struct chat_window {
	struct pace_window lim;
	int64_t *ring;
	size_t head, count;
};

struct chat_pace {
	char *id;               /* NULL: empty slot */
	int64_t last;
	int64_t *ring;          /* group send times, group_max slots; NULL for private chats */
	size_t head, count;
	struct chat_window win[PACE_CHAT_WINDOWS];
	size_t nwin;
	int64_t paused_until;
};

struct pacer {
	struct pace_limits lim;
	int64_t paused_until;
	int64_t *global;        /* ring of global_max times */
	size_t ghead, gcount;
	struct chat_pace *slots;
	size_t nslots, used;
	int64_t now;            /* the latest time seen, for pruning */
};

static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

struct pacer *
pacer_new(const struct pace_limits *limits)
{
	struct pacer *p = xcalloc(1, sizeof(*p));

	p->lim = *limits;
	if (p->lim.global_max > 0 && p->lim.global_window_ms > 0)
		p->global = xcalloc((size_t)p->lim.global_max, sizeof(*p->global));
	p->nslots = 64;
	p->slots = xcalloc(p->nslots, sizeof(*p->slots));
	return p;
}

static void
clear_windows(struct chat_pace *c)
{
	for (size_t i = 0; i < c->nwin; i++)
		free(c->win[i].ring);
	memset(c->win, 0, sizeof(c->win));
	c->nwin = 0;
}

static void
clear_slot(struct chat_pace *c)
{
	clear_windows(c);
	free(c->id);
	free(c->ring);
	memset(c, 0, sizeof(*c));
}

void
pacer_free(struct pacer *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nslots; i++)
		clear_slot(&p->slots[i]);
	free(p->slots);
	free(p->global);
	free(p);
}

static struct chat_pace *
find(struct pacer *p, const char *id)
{
	size_t i = (size_t)(hash(id) & (p->nslots - 1));

	while (p->slots[i].id != NULL) {
		if (strcmp(p->slots[i].id, id) == 0)
			return &p->slots[i];
		i = (i + 1) & (p->nslots - 1);
	}
	return NULL;
}

/* True while an entry still limits a future send. */
static bool
live(const struct pacer *p, const struct chat_pace *c)
{
	int64_t span = p->lim.per_chat_ms + PACER_MARGIN_MS;

	if (c->ring != NULL && p->lim.group_window_ms + PACER_MARGIN_MS > span)
		span = p->lim.group_window_ms + PACER_MARGIN_MS;
	for (size_t i = 0; i < c->nwin; i++)
		if (c->win[i].lim.window_ms + PACER_MARGIN_MS > span)
			span = c->win[i].lim.window_ms + PACER_MARGIN_MS;
	return c->last + span > p->now || c->paused_until > p->now;
}

/* Rebuilds the table without stale entries, growing it if it stays full. */
static void
rebuild(struct pacer *p)
{
	struct chat_pace *old = p->slots;
	size_t nold = p->nslots, keep = 0;

	for (size_t i = 0; i < nold; i++)
		if (old[i].id != NULL && live(p, &old[i]))
			keep++;
	while (keep * 2 >= p->nslots)
		p->nslots *= 2;
	while (p->nslots > 64 && keep * 8 < p->nslots)
		p->nslots /= 2;
	p->slots = xcalloc(p->nslots, sizeof(*p->slots));
	p->used = 0;
	for (size_t i = 0; i < nold; i++) {
		if (old[i].id == NULL)
			continue;
		if (!live(p, &old[i])) {
			clear_slot(&old[i]);
			continue;
		}
		size_t k = (size_t)(hash(old[i].id) & (p->nslots - 1));

		while (p->slots[k].id != NULL)
			k = (k + 1) & (p->nslots - 1);
		p->slots[k] = old[i];
		p->used++;
	}
	free(old);
}

static struct chat_pace *
insert(struct pacer *p, const char *id)
{
	size_t i;

	if ((p->used + 1) * 10 > p->nslots * 7)
		rebuild(p);
	i = (size_t)(hash(id) & (p->nslots - 1));
	while (p->slots[i].id != NULL)
		i = (i + 1) & (p->nslots - 1);
	p->slots[i].id = xstrdup(id);
	p->used++;
	return &p->slots[i];
}

static int64_t
max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

int64_t
pacer_ready_at(struct pacer *p, const char *chat_id, bool group, int64_t now)
{
	int64_t t = max64(now, p->paused_until);
	const struct chat_pace *c = find(p, chat_id);

	p->now = max64(p->now, now);
	if (p->global != NULL && p->gcount == (size_t)p->lim.global_max)
		t = max64(t, p->global[p->ghead] + p->lim.global_window_ms + PACER_MARGIN_MS);
	if (c == NULL)
		return t;
	if (p->lim.per_chat_ms > 0)
		t = max64(t, c->last + p->lim.per_chat_ms + PACER_MARGIN_MS);
	if (group && c->ring != NULL && c->count == (size_t)p->lim.group_max)
		t = max64(t, c->ring[c->head] + p->lim.group_window_ms + PACER_MARGIN_MS);
	for (size_t i = 0; i < c->nwin; i++) {
		const struct chat_window *w = &c->win[i];

		if (w->count == (size_t)w->lim.max)
			t = max64(t, w->ring[w->head] + w->lim.window_ms + PACER_MARGIN_MS);
	}
	return max64(t, c->paused_until);
}

/* Pushes now into a ring of max slots. */
static void
ring_push(int64_t *ring, size_t max, size_t *head, size_t *count, int64_t now)
{
	if (*count < max) {
		ring[(*head + *count) % max] = now;
		(*count)++;
	} else {
		ring[*head] = now;
		*head = (*head + 1) % max;
	}
}

static struct chat_pace *
find_or_insert(struct pacer *p, const char *chat_id)
{
	struct chat_pace *c = find(p, chat_id);

	return c != NULL ? c : insert(p, chat_id);
}

void
pacer_chat_windows(struct pacer *p, const char *chat_id, const struct pace_window *w,
    size_t n)
{
	struct chat_pace *c = find(p, chat_id);
	bool same;

	if (n > PACE_CHAT_WINDOWS)
		n = PACE_CHAT_WINDOWS;
	if (c == NULL && n == 0)
		return;
	if (c == NULL)
		c = insert(p, chat_id);
	same = c->nwin == n;
	for (size_t i = 0; i < n && same; i++)
		same = c->win[i].lim.max == w[i].max && c->win[i].lim.window_ms == w[i].window_ms;
	if (same)
		return;
	clear_windows(c);
	for (size_t i = 0; i < n; i++) {
		if (w[i].max <= 0 || w[i].window_ms <= 0)
			continue;
		c->win[c->nwin].lim = w[i];
		c->win[c->nwin].ring = xcalloc((size_t)w[i].max, sizeof(int64_t));
		c->nwin++;
	}
}

void
pacer_pause_chat(struct pacer *p, const char *chat_id, int64_t until)
{
	struct chat_pace *c = find_or_insert(p, chat_id);

	c->paused_until = max64(c->paused_until, until);
}

void
pacer_record(struct pacer *p, const char *chat_id, bool group, int64_t now)
{
	struct chat_pace *c;

	p->now = max64(p->now, now);
	if (p->global != NULL) {
		size_t max = (size_t)p->lim.global_max;

		if (p->gcount < max) {
			p->global[(p->ghead + p->gcount) % max] = now;
			p->gcount++;
		} else {
			p->global[p->ghead] = now;
			p->ghead = (p->ghead + 1) % max;
		}
	}
	c = find(p, chat_id);
	if (c == NULL && p->lim.per_chat_ms == 0 && (p->lim.group_max == 0 || !group))
		return;
	if (c == NULL)
		c = insert(p, chat_id);
	c->last = now;
	for (size_t i = 0; i < c->nwin; i++)
		ring_push(c->win[i].ring, (size_t)c->win[i].lim.max, &c->win[i].head,
		    &c->win[i].count, now);
	if (!group || p->lim.group_max <= 0 || p->lim.group_window_ms <= 0)
		return;
	if (c->ring == NULL)
		c->ring = xcalloc((size_t)p->lim.group_max, sizeof(*c->ring));
	if (c->count < (size_t)p->lim.group_max) {
		c->ring[(c->head + c->count) % (size_t)p->lim.group_max] = now;
		c->count++;
	} else {
		c->ring[c->head] = now;
		c->head = (c->head + 1) % (size_t)p->lim.group_max;
	}
}

/* The newest entry of a ring equal to started moves to now. */
static void
ring_done(int64_t *ring, size_t head, size_t count, size_t max, int64_t started, int64_t now)
{
	for (size_t k = count; k > 0; k--) {
		int64_t *t = &ring[(head + k - 1) % max];

		if (*t == started) {
			*t = max64(*t, now);
			return;
		}
	}
}

void
pacer_done(struct pacer *p, const char *chat_id, bool group, int64_t started, int64_t now)
{
	struct chat_pace *c = find(p, chat_id);

	p->now = max64(p->now, now);
	if (p->global != NULL)
		ring_done(p->global, p->ghead, p->gcount, (size_t)p->lim.global_max, started, now);
	if (c == NULL)
		return;
	if (c->last == started)
		c->last = max64(c->last, now);
	if (group && c->ring != NULL)
		ring_done(c->ring, c->head, c->count, (size_t)p->lim.group_max, started, now);
}

void
pacer_pause(struct pacer *p, int64_t until)
{
	p->paused_until = max64(p->paused_until, until);
}

int64_t
pacer_paused_until(const struct pacer *p)
{
	return p->paused_until;
}
