/*
 * Outbox -> MQTT (see relay.h). The window is a ring of publishes in the
 * order they were handed to libmosquitto; an event's copies sit next to
 * each other. Acks fill in reasons; completed entries leave from the head
 * only, so outcomes reach the store in publish order. Outcomes wait in
 * `marks` and are written in one transaction per batch (the commit is an
 * fsync: batching is what keeps up with the broker).
 *
 * The cursor is the last event id handed over. When nothing is in flight
 * and nothing waits to be written, reading starts again from the first
 * pending event, which also picks up events an admin set back to pending.
 */
#include "relay.h"

#include <mosquitto.h>
#include <string.h>

#include "campaign/clock.h"
#include "campaign/events.h"
#include "campaign/log.h"
#include "campaign/xmalloc.h"
#include "message.h"

#define RING_CAP 256            /* publishes in flight: far below the 65535 mids */
#define RING_RESERVE 8          /* kept free for the status message */
#define READ_BATCH 128          /* events per outbox read */
#define MARK_BATCH 2048         /* outcomes per transaction, at most */
#define MARK_DELAY_MS 50        /* ... and written at the latest this long after the first */
#define MARK_MAX 8192           /* stop publishing while the store cannot take outcomes */
#define MARK_RETRY_MS 1000

struct slot {
	int64_t event_id;       /* 0: not an event (retained state, status) */
	int mid;                /* 0: no publish (refused before it went out) */
	int reason;             /* -1 while waiting for the ack */
	char kind;              /* 'e' events, 'a' announcements, 'r' reminders, 't', 's', 'b' */
};

struct mark {
	int64_t id;
	int reason;             /* -1 delivered, else the refusal */
};

struct relay {
	struct store *store;
	relay_published_fn *on_published;
	void *arg;
	char *prefix;

	struct slot ring[RING_CAP];
	size_t head, len;
	int64_t cursor;
	bool want_read;
	bool rescan;            /* start again from the first pending event when idle */

	struct mark *marks;
	size_t nmarks, marks_cap;
	int64_t first_mark_ms;
	int64_t retry_ms;       /* after a failed write */

	struct relay_stats stats;
};

struct relay *
relay_new(struct store *s, relay_published_fn *on_published, void *arg)
{
	struct relay *r = xcalloc(1, sizeof(*r));

	r->store = s;
	r->on_published = on_published;
	r->arg = arg;
	r->want_read = true;
	return r;
}

void
relay_free(struct relay *r)
{
	if (r == NULL)
		return;
	free(r->prefix);
	free(r->marks);
	free(r);
}

void
relay_set_prefix(struct relay *r, const char *prefix)
{
	free(r->prefix);
	r->prefix = xstrdup(prefix);
}

void
relay_wake(struct relay *r)
{
	r->want_read = true;
	r->rescan = true;
}

size_t
relay_room(const struct relay *r)
{
	return r->len + RING_RESERVE >= RING_CAP ? 0 : RING_CAP - RING_RESERVE - r->len;
}

size_t
relay_inflight(const struct relay *r)
{
	return r->len;
}

static struct slot *
slot_at(struct relay *r, size_t i)
{
	return &r->ring[(r->head + i) % RING_CAP];
}

static void
push(struct relay *r, int64_t event_id, int mid, int reason, char kind)
{
	if (r->len == RING_CAP)
		fatalx("relay", "window overflow");
	*slot_at(r, r->len++) = (struct slot){ event_id, mid, reason, kind };
}

static const char *
kind_name(char kind)
{
	switch (kind) {
	case 'e': return "events";
	case 'a': return "announcements";
	case 'r': return "reminders";
	case 't': return "tasks";
	case 's': return "summary";
	case 'b': return "bridge/status";
	default: return "?";
	}
}

static void
add_mark(struct relay *r, int64_t id, int reason)
{
	if (r->nmarks == r->marks_cap) {
		r->marks_cap = r->marks_cap == 0 ? 256 : r->marks_cap * 2;
		r->marks = xreallocarray(r->marks, r->marks_cap, sizeof(*r->marks));
	}
	if (r->nmarks == 0)
		r->first_mark_ms = clock_mono_ms();
	r->marks[r->nmarks++] = (struct mark){ id, reason };
	if (reason >= 0) {
		r->stats.failed++;
	} else {
		r->stats.delivered++;
	}
}

/* Moves completed publishes off the head of the window. */
static void
pop_completed(struct relay *r)
{
	while (r->len > 0) {
		struct slot *s = slot_at(r, 0);
		size_t k = 1;
		int worst = -1;
		char worst_kind = s->kind;

		if (s->event_id == 0) {
			if (s->reason < 0)
				return;
			if (s->reason >= 0x80)
				log_warnx("relay", "the broker refused a %s message: %s (reason %d)",
				    kind_name(s->kind), mosquitto_reason_string(s->reason), s->reason);
			r->head = (r->head + 1) % RING_CAP;
			r->len--;
			continue;
		}
		while (k < r->len && slot_at(r, k)->event_id == s->event_id)
			k++;
		for (size_t i = 0; i < k; i++) {
			const struct slot *c = slot_at(r, i);

			if (c->reason < 0)
				return;
			if (c->reason >= 0x80 && c->reason > worst) {
				worst = c->reason;
				worst_kind = c->kind;
			}
		}
		if (worst >= 0x80)
			log_warnx("relay", "event %lld refused on %s: %s (reason %d); marked failed",
			    (long long)s->event_id, kind_name(worst_kind),
			    mosquitto_reason_string(worst), worst);
		add_mark(r, s->event_id, worst >= 0x80 ? worst : -1);
		r->head = (r->head + k) % RING_CAP;
		r->len -= k;
	}
}

void
relay_acks(struct relay *r, const struct mqtt_ack *acks, size_t n)
{
	for (size_t a = 0; a < n; a++) {
		size_t i;

		for (i = 0; i < r->len; i++) {
			struct slot *s = slot_at(r, i);

			if (s->mid == acks[a].mid && s->reason < 0) {
				/* v3.1.1 acks carry no reason: 0 is success. */
				s->reason = acks[a].reason < 0 ? 0 : acks[a].reason;
				break;
			}
		}
		if (i == r->len)
			log_debug("relay", "ack for unknown mid %d", acks[a].mid);
	}
	pop_completed(r);
}

void
relay_lost(struct relay *r)
{
	int64_t first = 0;

	for (size_t i = 0; i < r->len; i++) {
		int64_t id = slot_at(r, i)->event_id;

		if (id > 0 && (first == 0 || id < first))
			first = id;
	}
	if (first > 0) {
		log_info("relay", "%zu publishes dropped with the old connection; resuming at "
		    "event %lld", r->len, (long long)first);
		r->cursor = first - 1;
	}
	r->head = r->len = 0;
	r->want_read = true;
}

int
relay_publish(struct relay *r, struct mqtt *m, const struct message *msg, char kind)
{
	int mid, reason;

	if (r->len == RING_CAP)
		return -1;
	switch (mqtt_publish(m, msg, &mid, &reason)) {
	case MQTT_PUB_QUEUED:
		push(r, 0, mid, -1, kind);
		return 0;
	case MQTT_PUB_REJECTED:
		log_warnx("relay", "cannot publish to %s (reason %d)", msg->topic, reason);
		return 0;
	case MQTT_PUB_RETRY:
		break;
	}
	return -1;
}

/* Publishes every copy of one event; false if it must be tried again later. */
static bool
publish_event(struct relay *r, struct mqtt *m, const struct event *e)
{
	struct event_messages em;
	char err[256];
	size_t first = r->len;
	int reason;

	if (message_from_event(r->prefix, e, clock_now(), &em, &reason, err,
	    sizeof(err)) < 0) {
		log_warnx("relay", "event %lld (%s) cannot be published: %s; marked failed",
		    (long long)e->id, e->type, err);
		push(r, e->id, 0, reason, 'e');
		return true;
	}
	for (size_t i = 0; i < em.n; i++) {
		char kind = i == 0 ? 'e' : strcmp(e->type, "announcement") == 0 ? 'a' : 'r';
		int mid;

		switch (mqtt_publish(m, &em.msg[i], &mid, &reason)) {
		case MQTT_PUB_QUEUED:
			push(r, e->id, mid, -1, kind);
			break;
		case MQTT_PUB_REJECTED:
			push(r, e->id, 0, reason, kind);
			break;
		case MQTT_PUB_RETRY:
			/* Copies already handed over stay in flight, but count for no event. */
			for (size_t j = first; j < r->len; j++)
				slot_at(r, j)->event_id = 0;
			event_messages_clear(&em);
			return false;
		}
	}
	r->stats.published++;
	if (r->on_published != NULL)
		r->on_published(r->arg, e, em.task_id);
	event_messages_clear(&em);
	return true;
}

void
relay_pump(struct relay *r, struct mqtt *m)
{
	/* Idle: start from the first pending event (see the top of this file). */
	if (r->rescan && r->len == 0 && r->nmarks == 0) {
		r->cursor = 0;
		r->rescan = false;
		r->want_read = true;
	}
	while (r->want_read && mqtt_connected(m) && r->prefix != NULL &&
	    r->nmarks < MARK_MAX && relay_room(r) >= MESSAGE_MAX_COPIES) {
		size_t max = relay_room(r) / MESSAGE_MAX_COPIES, n;
		struct event *events;

		if (max > READ_BATCH)
			max = READ_BATCH;
		if (events_pending(r->store, r->cursor, max, &events, &n) < 0) {
			r->want_read = false;   /* the fallback timer tries again */
			return;
		}
		if (n < max)
			r->want_read = false;
		for (size_t i = 0; i < n; i++) {
			if (!publish_event(r, m, &events[i])) {
				r->want_read = false;   /* a reconnect wakes us */
				break;
			}
			r->cursor = events[i].id;
		}
		events_free(events, n);
	}
	/* Events refused before publishing complete without an ack. */
	pop_completed(r);
}

void
relay_flush(struct relay *r, int64_t now, bool force)
{
	time_t at = clock_now();
	size_t i;

	if (r->nmarks == 0 || now < r->retry_ms)
		return;
	if (!force && r->nmarks < MARK_BATCH && r->len > 0 &&
	    now - r->first_mark_ms < MARK_DELAY_MS)
		return;
	if (store_begin(r->store) < 0)
		goto fail;
	for (i = 0; i < r->nmarks; i++) {
		const struct mark *k = &r->marks[i];

		if (events_mark(r->store, k->id, k->reason < 0 ? EVENT_DELIVERED : EVENT_FAILED,
		    k->reason, at) < 0) {
			store_rollback(r->store);
			goto fail;
		}
	}
	if (store_commit(r->store) < 0)
		goto fail;
	log_debug("relay", "recorded %zu outcomes up to event %lld", r->nmarks,
	    (long long)r->marks[r->nmarks - 1].id);
	r->nmarks = 0;
	r->retry_ms = 0;
	return;
fail:
	log_error("relay", "cannot record %zu delivery outcomes; retrying in %d s", r->nmarks,
	    MARK_RETRY_MS / 1000);
	r->retry_ms = now + MARK_RETRY_MS;
}

int
relay_timeout(const struct relay *r, int64_t now)
{
	int64_t at;

	if (r->nmarks == 0)
		return -1;
	at = r->retry_ms > 0 ? r->retry_ms : r->first_mark_ms + MARK_DELAY_MS;
	if (r->len == 0 && r->retry_ms == 0)
		at = now;
	return at <= now ? 0 : (int)(at - now);
}

void
relay_stats(const struct relay *r, struct relay_stats *out)
{
	*out = r->stats;
}
