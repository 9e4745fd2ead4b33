/* Task selection and ordering for answers and listings (see agenda.h). */
#include "campaign/agenda.h"

#include <stdlib.h>

#include "campaign/caldate.h"
#include "campaign/xmalloc.h"

void
agenda_filter_init(struct agenda_filter *f)
{
	f->unit = -1;
	f->due_within = -1;
	f->overdue = false;
	f->hide_done = false;
}

static int
compare_items(const void *a, const void *b)
{
	const struct agenda_item *x = a, *y = b;

	if (x->days_left != y->days_left) {
		if (x->days_left == AGENDA_NO_DUE)
			return 1;
		if (y->days_left == AGENDA_NO_DUE)
			return -1;
		return x->days_left < y->days_left ? -1 : 1;
	}
	return (x->task > y->task) - (x->task < y->task);
}

size_t
agenda_select(const struct plan *plan, const struct progress *progress, int32_t today,
    const struct agenda_filter *f, struct agenda_item **out)
{
	struct agenda_item *items = xcalloc(plan->ntasks + 1, sizeof(*items));
	size_t n = 0;

	for (size_t i = 0; i < plan->ntasks; i++) {
		const struct plan_task *t = &plan->tasks[i];
		struct agenda_item it = { .task = i, .days_left = AGENDA_NO_DUE };

		if (f->unit >= 0) {
			const struct progress_cell *c;

			if (!plan_task_has_unit(t, (size_t)f->unit))
				continue;
			c = progress_cell(progress, i, (size_t)f->unit);
			it.percent = c->percent;
			it.done = c->done;
		} else {
			it.percent = progress_task_percent(progress, plan, i);
			it.done = progress_task_done(progress, plan, i);
		}
		if (t->due != CALDATE_NONE)
			it.days_left = t->due - today;
		it.overdue = it.days_left != AGENDA_NO_DUE && it.days_left < 0 && !it.done;
		if (f->overdue && !it.overdue)
			continue;
		if (f->due_within >= 0 && (it.days_left == AGENDA_NO_DUE || it.days_left < 0 ||
		    it.days_left > f->due_within))
			continue;
		if (f->hide_done && it.done)
			continue;
		items[n++] = it;
	}
	qsort(items, n, sizeof(*items), compare_items);
	*out = items;
	return n;
}
