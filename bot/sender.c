/*
 * Outbox draining (see sender.h). One pass looks at the head delivery of
 * every chat, starts what the pacer and the driver allow, and arms a timer
 * for the earliest head that must wait. The heads are cached: a sent
 * delivery is replaced by its chat's next one (one indexed lookup), and the
 * whole list is read again only when something else may have changed it (a
 * kick: new deliveries, another process, a chat that moved or went away). Results come back one by one from
 * the driver; each is written to the store at once (mark sent, retry later,
 * fail the chat), so a crash repeats at most the one message in flight.
 * Replies come first: the heads are ordered replies, then by id, so a user
 * asking during a broadcast to a thousand chats is answered within the
 * second, not after the broadcast. A broadcast or reminder past its expiry
 * (campaign time) is failed as "expired" instead of going out late.
 */
#include "sender.h"

#include <stdlib.h>
#include <string.h>

#include "campaign/backoff.h"
#include "campaign/chats.h"
#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/markup.h"
#include "campaign/outbox.h"
#include "campaign/xmalloc.h"
#include "pacer.h"

#define HEADS_MAX 512
#define MAX_IN_FLIGHT 20       /* a DingTalk batchSend takes 20 staff */
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 60000
#define GIVE_UP_ATTEMPTS 1500   /* ~a day of retries at the longest backoff */
#define RETRY_AFTER_MARGIN_MS 250
#define MAX_UNRECORDED 256      /* sent, but the store would not record it (a full disk) */

struct flight {
	int64_t id;
	char *chat_id;
	int part, nparts;
	int attempts;
	int64_t started;        /* when it was handed to the driver (the pacer's time) */
	bool group;
};

struct sender {
	struct store *store;
	struct loop *loop;
	struct driver *driver;
	struct pacer *pacer;
	struct loop_timer *timer;
	struct flight flights[MAX_IN_FLIGHT];
	int nflights;
	int64_t unrecorded[MAX_UNRECORDED]; /* sent; recording it failed: never send again */
	size_t nunrecorded;
	int failures;           /* consecutive transient failures */
	int64_t ready_at;       /* earliest time a head waits for (last pass); -1: none */
	bool kicked;            /* a pass is due */
	struct delivery *heads; /* the oldest pending delivery of each chat, by id */
	size_t nheads;
	bool stale;             /* heads must be read again */
	bool more;              /* the last read hit HEADS_MAX: there may be more chats */
};

static void pass(void *arg);

/* A chat with a quota of its own (a webhook robot): its windows, before the pacer looks. */
static void
chat_windows(struct sender *s, const char *chat_id)
{
	struct pace_window w[PACE_CHAT_WINDOWS];
	size_t n;

	if (s->driver->ops->chat_pace == NULL)
		return;
	n = s->driver->ops->chat_pace(s->driver, chat_id, w);
	pacer_chat_windows(s->pacer, chat_id, w, n);
}

/* True if r[i]'s chat appears again after i (its extra count goes with the last one). */
static bool
again_later(const struct sent_recently *r, size_t n, size_t i)
{
	for (size_t j = i + 1; j < n; j++)
		if (strcmp(r[j].chat_id, r[i].chat_id) == 0)
			return true;
	return false;
}

/*
 * A restarted sender must not forget what its predecessor sent a moment ago:
 * the sends of the last minute (recorded to the second) are fed to the pacer
 * as if made at the end of their second, and nothing starts in the first
 * global window (the message in flight at a crash was never recorded).
 */
static void
remember(struct sender *s, const struct pace_limits *lim)
{
	struct sent_recently *r;
	size_t n;
	int64_t now = clock_mono_ms(), real = outbox_now_ms();
	int64_t span = lim->group_window_ms > lim->global_window_ms ? lim->group_window_ms :
	    lim->global_window_ms;

	if (lim->chat_window_ms > span)
		span = lim->chat_window_ms;
	if (lim->per_chat_ms == 0 && lim->global_max == 0 && lim->group_max == 0 &&
	    lim->chat_window_ms == 0)
		return;
	if (outbox_sent_since(s->store, s->driver->ops->name, (real - span) / 1000 - 1, &r,
	    &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		int64_t at = now - (real - (r[i].sent_at * 1000 + 999));
		bool group = strcmp(r[i].chat_kind, CHAT_PRIVATE) != 0;

		chat_windows(s, r[i].chat_id);
		pacer_record(s->pacer, r[i].chat_id, group, at < now ? at : now);
		/*
		 * A chat with its own quota counts the message that may have been in
		 * flight at the crash (delivered, never recorded) as sent now.
		 */
		if (lim->chat_window_ms > 0 && !again_later(r, n, i))
			pacer_record(s->pacer, r[i].chat_id, group, now);
	}
	sent_recently_free(r, n);
	pacer_pause(s->pacer, now + lim->global_window_ms + PACER_MARGIN_MS);
}

struct sender *
sender_new(struct store *st, struct loop *l, struct driver *d,
    const struct pace_limits *limits)
{
	struct sender *s = xcalloc(1, sizeof(*s));

	s->store = st;
	s->loop = l;
	s->driver = d;
	s->pacer = pacer_new(limits);
	s->timer = loop_timer_new(l, pass, s);
	s->ready_at = -1;
	s->stale = true;
	remember(s, limits);
	return s;
}

static void
flight_clear(struct flight *f)
{
	free(f->chat_id);
	memset(f, 0, sizeof(*f));
}

void
sender_free(struct sender *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < s->nflights; i++)
		flight_clear(&s->flights[i]);
	loop_timer_free(s->timer);
	pacer_free(s->pacer);
	deliveries_free(s->heads, s->nheads);
	free(s);
}

/* Another pass soon, on the cached heads. */
static void
again(struct sender *s)
{
	s->kicked = true;
	loop_timer_at(s->timer, 0);
}

void
sender_kick(struct sender *s)
{
	s->stale = true;
	again(s);
}

static struct delivery *
head(struct sender *s, int64_t id)
{
	for (size_t i = 0; i < s->nheads; i++)
		if (s->heads[i].id == id)
			return &s->heads[i];
	return NULL;
}

/* The heads' order: replies first, then by id (outbox_heads' ORDER BY). */
static bool
goes_before(const struct delivery *a, const struct delivery *b)
{
	bool ra = strcmp(a->kind, OUTBOX_REPLY) == 0, rb = strcmp(b->kind, OUTBOX_REPLY) == 0;

	if (ra != rb)
		return ra;
	return a->id < b->id;
}

/* A head was sent completely: its chat's next delivery (if any) takes its place. */
static void
advance(struct sender *s, int64_t id)
{
	struct delivery *d = head(s, id), next;
	size_t i;
	int rc;

	if (d == NULL) {
		s->stale = true;
		return;
	}
	rc = outbox_chat_head(s->store, s->driver->ops->name, d->chat_id, &next);
	i = (size_t)(d - s->heads);
	delivery_clear(d);
	memmove(d, d + 1, (s->nheads - i - 1) * sizeof(*d));
	s->nheads--;
	if (rc < 0) {
		s->stale = true;
		return;
	}
	if (rc == 1) {
		/* Keep the list in order. */
		size_t pos = s->nheads;

		while (pos > 0 && goes_before(&next, &s->heads[pos - 1]))
			pos--;
		s->heads = xreallocarray(s->heads, s->nheads + 1, sizeof(*s->heads));
		memmove(&s->heads[pos + 1], &s->heads[pos], (s->nheads - pos) * sizeof(*s->heads));
		s->heads[pos] = next;
		s->nheads++;
	}
	if (s->nheads == 0 && s->more)
		s->stale = true;
}

int
sender_in_flight(const struct sender *s)
{
	return s->nflights;
}

static struct flight *
flight_of_chat(struct sender *s, const char *chat_id)
{
	for (int i = 0; i < s->nflights; i++)
		if (strcmp(s->flights[i].chat_id, chat_id) == 0)
			return &s->flights[i];
	return NULL;
}

static bool
is_group(const struct delivery *d)
{
	return strcmp(d->chat_kind, CHAT_PRIVATE) != 0;
}

/*
 * The pieces of d as the driver takes them: the markup rendered in the
 * driver's format (plain text stays plain), split under its limit. *format:
 * the form the pieces are in. Owned, markup_pieces_free.
 */
static size_t
render(const struct driver *drv, const struct delivery *d, enum markup_format *format,
    char ***pieces)
{
	size_t max = drv->ops->max_text, len, n;
	char *text;

	*format = d->markup ? drv->ops->format : MARKUP_PLAIN;
	text = d->markup ? markup_render(d->text, *format) : xstrdup(d->text);
	len = strlen(text);
	/* A text of at most max bytes has at most max units of either kind: no split. */
	if (len > 0 && (max == 0 || len <= max) && text[len - 1] != '\n' && text[0] != '\n' &&
	    text[0] != ' ') {
		*pieces = xcalloc(1, sizeof(**pieces));
		(*pieces)[0] = text;
		return 1;
	}
	n = markup_split_rendered(text, *format, max, drv->ops->max_unit, pieces);
	free(text);
	return n;
}

/* Starts the next piece of d; false if the driver refused (nothing changed). */
static bool
start(struct sender *s, const struct delivery *d, int64_t now)
{
	struct driver *drv = s->driver;
	enum markup_format format;
	char **pieces;
	size_t n;
	struct flight *f;
	struct chat_out out;
	bool ok = false;

	if (outbox_expired(d, clock_now())) {
		log_info("sender", "delivery %lld (%s) to %s expired before it could go out",
		    (long long)d->id, d->kind, d->chat_id);
		outbox_mark_failed(s->store, d->id, "expired", clock_now());
		s->stale = true;        /* not advance(): the caller iterates the heads */
		again(s);
		return true;
	}
	n = render(drv, d, &format, &pieces);
	if (d->parts_sent >= (int)n) {
		/* Nothing (left) to send: an empty text, or every piece went out already. */
		if (n == 0)
			outbox_mark_failed(s->store, d->id, "empty message", clock_now());
		else
			outbox_mark_sent(s->store, d->id, clock_now());
		markup_pieces_free(pieces, n);
		s->stale = true;
		again(s);
		return true;
	}
	out = (struct chat_out){
		.delivery_id = d->id, .part = d->parts_sent, .nparts = (int)n,
		.chat_id = d->chat_id, .text = pieces[d->parts_sent], .format = format,
		.reply_to = d->parts_sent == 0 ? d->reply_to : NULL,
		.is_reply = strcmp(d->kind, OUTBOX_REPLY) == 0, .group = is_group(d),
	};
	if (drv->ops->send(drv, &out) == 0) {
		f = &s->flights[s->nflights++];
		f->id = d->id;
		f->chat_id = xstrdup(d->chat_id);
		f->part = d->parts_sent;
		f->nparts = (int)n;
		f->attempts = d->attempts;
		f->started = now;
		f->group = is_group(d);
		pacer_record(s->pacer, d->chat_id, is_group(d), now);
		ok = true;
	}
	markup_pieces_free(pieces, n);
	return ok;
}

/* The earliest time d may start, by the pacer and its own not_before. */
static int64_t
ready_time(struct sender *s, const struct delivery *d, int64_t now, int64_t real_now)
{
	int64_t t;

	chat_windows(s, d->chat_id);
	t = pacer_ready_at(s->pacer, d->chat_id, is_group(d), now);

	if (d->not_before > real_now && now + (d->not_before - real_now) > t)
		t = now + (d->not_before - real_now);
	return t;
}

static bool
is_unrecorded(const struct sender *s, int64_t id)
{
	for (size_t i = 0; i < s->nunrecorded; i++)
		if (s->unrecorded[i] == id)
			return true;
	return false;
}

/* A delivery sent that the store would not mark: remembered, so it is not sent twice. */
static void
mark_sent(struct sender *s, int64_t id)
{
	if (outbox_mark_sent(s->store, id, clock_now()) == 0 || is_unrecorded(s, id))
		return;
	if (s->nunrecorded < MAX_UNRECORDED) {
		s->unrecorded[s->nunrecorded++] = id;
		log_warnx("sender", "delivery %lld was sent but not recorded; recording it again "
		    "before its chat gets anything else", (long long)id);
	}
}

/* Records what could not be recorded before; what still fails stays remembered. */
static void
record_unrecorded(struct sender *s)
{
	size_t kept = 0;

	for (size_t i = 0; i < s->nunrecorded; i++)
		if (outbox_mark_sent(s->store, s->unrecorded[i], clock_now()) < 0)
			s->unrecorded[kept++] = s->unrecorded[i];
	if (kept < s->nunrecorded)
		s->stale = true;
	s->nunrecorded = kept;
}

static void
pass(void *arg)
{
	struct sender *s = arg;
	struct driver *drv = s->driver;
	int64_t now = clock_mono_ms(), real_now = outbox_now_ms(), next = -1;

	s->ready_at = -1;
	s->kicked = false;
	if (s->nunrecorded > 0)
		record_unrecorded(s);
	if (s->stale) {
		deliveries_free(s->heads, s->nheads);
		if (outbox_heads(s->store, drv->ops->name, HEADS_MAX, &s->heads, &s->nheads) < 0) {
			loop_timer_after(s->timer, 1000);
			return;
		}
		s->stale = false;
		s->more = s->nheads == HEADS_MAX;
	}
	if (s->nheads > 0 && pacer_paused_until(s->pacer) > now) {
		/* Everything waits for the pause (a 429, a backoff): no need to look. */
		s->ready_at = next = pacer_paused_until(s->pacer);
		goto arm;
	}
	for (size_t i = 0; i < s->nheads; i++) {
		const struct delivery *d = &s->heads[i];
		int64_t t;

		if (s->nflights == MAX_IN_FLIGHT || (s->nflights > 0 && !drv->ops->can_send(drv))) {
			/* No room: a result will call us again, so the rest can wait unseen. */
			if (s->ready_at < 0)
				s->ready_at = now;
			break;
		}
		if (drv->ops->owns != NULL && !drv->ops->owns(drv, d->chat_id))
			continue;
		if (flight_of_chat(s, d->chat_id) != NULL)
			continue;       /* one message per chat at a time keeps the order */
		if (is_unrecorded(s, d->id))
			continue;       /* sent already: its chat waits until it is recorded */
		t = ready_time(s, d, now, real_now);
		if (t <= now && drv->ops->can_send(drv)) {
			if (start(s, d, now))
				continue;
			t = now + 100;  /* the driver could not take it: look again soon */
		}
		if (t <= now)
			t = now;        /* ready, waiting for a free slot: a result kicks us */
		else if (next < 0 || t < next)
			next = t;
		if (s->ready_at < 0 || t < s->ready_at)
			s->ready_at = t;
	}
arm:
	/* Bounded: look again within a minute even if nothing is due (another writer). */
	if (next < 0 || next - now > 60000)
		next = now + 60000;
	if (s->nunrecorded > 0 && next - now > 1000)
		next = now + 1000;      /* try recording again soon */
	if (!loop_timer_armed(s->timer))
		loop_timer_at(s->timer, next);
}

bool
sender_idle(const struct sender *s)
{
	return !s->kicked && s->nflights == 0 && s->ready_at < 0;
}

static void
chat_gone(struct sender *s, const struct flight *f, const char *detail)
{
	const char *platform = s->driver->ops->name;
	int failed;

	if (store_begin(s->store) < 0)
		return;
	if (chats_set_active(s->store, platform, f->chat_id, false, detail, clock_now()) < 0 ||
	    (failed = outbox_fail_chat(s->store, platform, f->chat_id, detail,
	    clock_now())) < 0) {
		store_rollback(s->store);
		return;
	}
	if (store_commit(s->store) == 0)
		log_info("sender", "%s chat %s is gone (%s): marked inactive, %d deliveries failed",
		    platform, f->chat_id, detail, failed);
}

/*
 * After a refused markup: the pieces not yet sent, rendered as plain text,
 * from the start (what was sent stays sent).
 */
static void
resend_plain(struct sender *s, const struct flight *f)
{
	struct delivery d;
	enum markup_format format;
	char **pieces;
	size_t n;
	struct buf rest;
	char *plain;

	if (outbox_get(s->store, f->id, &d) != 1)
		return;
	n = render(s->driver, &d, &format, &pieces);
	delivery_clear(&d);

	buf_init(&rest, OUTBOX_TEXT_MAX);
	for (size_t i = (size_t)f->part; i < n; i++) {
		buf_puts(&rest, pieces[i]);
		buf_puts(&rest, "\n");
	}
	plain = markup_rendered_plain(buf_str(&rest), format);
	if (outbox_set_text(s->store, f->id, plain, false) == 0)
		log_warnx("sender", "delivery %lld: markup refused, resending as plain text",
		    (long long)f->id);
	free(plain);
	buf_free(&rest);
	markup_pieces_free(pieces, n);
}

void
sender_result(struct sender *s, int64_t id, const struct send_result *r)
{
	const char *platform = s->driver->ops->name;
	int64_t now = clock_mono_ms(), wait;
	struct flight f;
	int i;

	for (i = 0; i < s->nflights && s->flights[i].id != id; i++)
		;
	if (i == s->nflights) {
		log_warnx("sender", "result for delivery %lld that is not in flight", (long long)id);
		return;
	}
	f = s->flights[i];
	s->flights[i] = s->flights[--s->nflights];
	memset(&s->flights[s->nflights], 0, sizeof(f));
	pacer_done(s->pacer, f.chat_id, f.group, f.started, now);
	switch (r->status) {
	case SEND_OK:
		s->failures = 0;
		if (f.part + 1 < f.nparts) {
			struct delivery *d = head(s, id);

			outbox_mark_part(s->store, id, f.part + 1);
			if (d != NULL)
				d->parts_sent = f.part + 1;
			else
				s->stale = true;
		} else {
			mark_sent(s, id);
			advance(s, id);
		}
		break;
	case SEND_RETRY_AFTER:
		wait = r->retry_after_ms + RETRY_AFTER_MARGIN_MS;
		if (r->chat_only) {
			pacer_pause_chat(s->pacer, f.chat_id, now + wait);
			log_warnx("sender", "%s rate limit of %s: paused for %.1f s (delivery %lld)",
			    platform, f.chat_id, (double)wait / 1000.0, (long long)id);
			break;
		}
		pacer_pause(s->pacer, now + wait);
		log_warnx("sender", "%s rate limit: every send paused for %.1f s (delivery %lld)",
		    platform, (double)wait / 1000.0, (long long)id);
		break;
	case SEND_TRANSIENT:
		if (r->chat_only) {
			wait = backoff_ms(f.attempts + 1, BACKOFF_FIRST_MS, BACKOFF_MAX_MS);
			pacer_pause_chat(s->pacer, f.chat_id, now + wait);
		} else {
			s->failures++;
			wait = backoff_ms(s->failures, BACKOFF_FIRST_MS, BACKOFF_MAX_MS);
			pacer_pause(s->pacer, now + wait);
		}
		if (f.attempts + 1 >= GIVE_UP_ATTEMPTS) {
			log_warnx("sender", "delivery %lld to %s: giving up after %d attempts (%s)",
			    (long long)id, f.chat_id, f.attempts + 1, r->detail);
			outbox_mark_failed(s->store, id, r->detail, clock_now());
			advance(s, id);
		} else {
			struct delivery *d = head(s, id);

			log_warnx("sender", "delivery %lld to %s failed (%s): retrying in %.1f s",
			    (long long)id, f.chat_id, r->detail, (double)wait / 1000.0);
			outbox_retry_at(s->store, id, 0, r->detail);
			if (d != NULL)
				d->attempts++;
		}
		break;
	case SEND_CHAT_GONE:
		chat_gone(s, &f, r->detail);
		s->stale = true;
		break;
	case SEND_CHAT_MOVED:
		log_info("sender", "%s chat %s moved to %s", platform, f.chat_id, r->new_chat_id);
		chats_migrate(s->store, platform, f.chat_id, r->new_chat_id, clock_now());
		s->stale = true;
		break;
	case SEND_BAD_MARKUP:
		resend_plain(s, &f);
		s->stale = true;
		break;
	case SEND_REJECTED:
		log_warnx("sender", "delivery %lld to %s refused: %s", (long long)id, f.chat_id,
		    r->detail);
		outbox_mark_failed(s->store, id, r->detail, clock_now());
		advance(s, id);
		break;
	}
	flight_clear(&f);
	again(s);
}
