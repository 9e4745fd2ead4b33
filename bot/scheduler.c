/*
 * Scheduler ticks on the daemon's loop (see scheduler.h). A tick is a few
 * indexed reads and, when something is due and new, one transaction per
 * task; on a frozen CAMPAIGN_NOW every tick after the first finds its keys
 * recorded and queues nothing.
 */
#include "scheduler.h"

#include <stdlib.h>

#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/remind.h"
#include "campaign/xmalloc.h"

#define POKE_DELAY_MS 1000
#define RETRY_MS 5000

struct scheduler {
	struct store *store;
	struct loop *loop;
	const struct cfg *cfg;
	struct loop_timer *timer;
	scheduler_queued_cb *queued;
	void *arg;
	int64_t next_ms;        /* the next regular tick (monotonic); 0: not started */
	int64_t armed_at;       /* when the timer fires */
	bool ticked;
};

static void
arm(struct scheduler *sch, int64_t at)
{
	sch->armed_at = at;
	loop_timer_at(sch->timer, at);
}

static void
tick(void *arg)
{
	struct scheduler *sch = arg;
	struct remind_stats st;
	int64_t now = clock_mono_ms();
	int rc = remind_tick(sch->store, sch->cfg, clock_now(), &st);

	sch->ticked = true;
	if (log_get_level() >= LOG_LEVEL_DEBUG) {
		char iso[CLOCK_ISO_STRLEN];

		clock_format_iso(clock_now(), iso);
		log_debug("scheduler", "tick at %s%s", iso, rc < 0 ? ": failed" : "");
	}
	if (st.deliveries > 0 || st.events > 0)
		log_info("scheduler", "%zu reminder(s), %zu event(s), %zu chat message(s), "
		    "%zu late unit(s) escalated", st.reminders, st.events, st.deliveries,
		    st.escalations);
	if (st.deliveries > 0)
		sch->queued(sch->arg);
	if (now >= sch->next_ms)
		sch->next_ms = now + SCHEDULER_TICK_MS;
	/* A failed tick (the database was busy) is tried again soon, not in 30 s. */
	arm(sch, rc < 0 && sch->next_ms - now > RETRY_MS ? now + RETRY_MS : sch->next_ms);
}

struct scheduler *
scheduler_new(struct store *s, struct loop *l, const struct cfg *cfg,
    scheduler_queued_cb *queued, void *arg)
{
	struct scheduler *sch = xcalloc(1, sizeof(*sch));

	sch->store = s;
	sch->loop = l;
	sch->cfg = cfg;
	sch->queued = queued;
	sch->arg = arg;
	sch->timer = loop_timer_new(l, tick, sch);
	return sch;
}

void
scheduler_free(struct scheduler *sch)
{
	if (sch == NULL)
		return;
	loop_timer_free(sch->timer);
	free(sch);
}

void
scheduler_set_cfg(struct scheduler *sch, const struct cfg *cfg)
{
	sch->cfg = cfg;
	scheduler_poke(sch);
}

void
scheduler_start(struct scheduler *sch)
{
	sch->next_ms = clock_mono_ms();
	arm(sch, sch->next_ms);
}

void
scheduler_poke(struct scheduler *sch)
{
	int64_t soon = clock_mono_ms() + POKE_DELAY_MS;

	if (sch->next_ms == 0)
		return;         /* not started: the first tick will see the change */
	if (!loop_timer_armed(sch->timer) || sch->armed_at > soon)
		arm(sch, soon);
}

bool
scheduler_ticked(const struct scheduler *sch)
{
	return sch->ticked;
}
