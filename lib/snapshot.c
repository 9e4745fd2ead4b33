/* Current-state JSON for displays and scripts (see snapshot.h). */
#include "campaign/snapshot.h"

#include "campaign/caldate.h"
#include "campaign/clock.h"

json_t *
snapshot_date_json(int32_t day)
{
	char s[CALDATE_STRLEN];

	if (day == CALDATE_NONE)
		return json_null();
	caldate_format(day, s);
	return json_string(s);
}

void
snapshot_summary(const struct plan *plan, const struct progress *progress,
    int32_t today, struct summary *out)
{
	int sum = 0;

	*out = (struct summary){ .today = today, .key_date = plan->key_date };
	out->days_to_key = plan->key_date == CALDATE_NONE ? 0 : plan->key_date - today;
	out->ntasks = plan->ntasks;
	for (size_t i = 0; i < plan->ntasks; i++) {
		const struct plan_task *t = &plan->tasks[i];
		bool done = progress_task_done(progress, plan, i);

		sum += progress_task_percent(progress, plan, i);
		if (done)
			out->ndone++;
		else if (t->due != CALDATE_NONE && t->due < today)
			out->noverdue++;
		else if (t->due != CALDATE_NONE && t->due - today <= SNAPSHOT_DUE_SOON_DAYS)
			out->ndue_soon++;
		for (size_t u = 0; u < t->nunits; u++) {
			out->npairs++;
			if (progress_cell(progress, i, t->units[u])->reported)
				out->npairs_reported++;
		}
	}
	out->percent = plan->ntasks > 0 ? sum / (int)plan->ntasks : 0;
}

json_t *
snapshot_task_json(const struct plan *plan, const struct progress *progress, size_t task,
    int32_t today)
{
	const struct plan_task *t = &plan->tasks[task];
	bool done = progress_task_done(progress, plan, task);
	json_t *o = json_object(), *units = json_array();

	json_object_set_new(o, "id", json_string(t->id));
	json_object_set_new(o, "title", json_string(t->title));
	json_object_set_new(o, "when", t->when != NULL ? json_string(t->when) : json_null());
	json_object_set_new(o, "start", snapshot_date_json(t->start));
	json_object_set_new(o, "due", snapshot_date_json(t->due));
	json_object_set_new(o, "fuzzy", json_boolean(t->fuzzy));
	json_object_set_new(o, "days_left", t->due == CALDATE_NONE ? json_null() :
	    json_integer(t->due - today));
	json_object_set_new(o, "overdue", json_boolean(!done && t->due != CALDATE_NONE &&
	    t->due < today));
	json_object_set_new(o, "percent", json_integer(progress_task_percent(progress, plan,
	    task)));
	json_object_set_new(o, "done", json_boolean(done));
	for (size_t i = 0; i < t->nunits; i++) {
		const struct progress_cell *c = progress_cell(progress, task, t->units[i]);
		json_t *u = json_object();

		json_object_set_new(u, "unit", json_string(plan->units[t->units[i]].name));
		json_object_set_new(u, "reported", json_boolean(c->reported));
		json_object_set_new(u, "percent", json_integer(c->percent));
		json_object_set_new(u, "done", json_boolean(c->done));
		json_object_set_new(u, "note", c->note != NULL ? json_string(c->note) : json_null());
		if (c->reported) {
			char at[CLOCK_ISO_STRLEN];

			clock_format_iso(c->at, at);
			json_object_set_new(u, "at", json_string(at));
		} else {
			json_object_set_new(u, "at", json_null());
		}
		json_array_append_new(units, u);
	}
	json_object_set_new(o, "units", units);
	return o;
}

json_t *
snapshot_summary_json(const struct plan *plan, const struct progress *progress,
    int32_t today)
{
	struct summary s;
	json_t *o = json_object();

	snapshot_summary(plan, progress, today, &s);
	json_object_set_new(o, "campaign", json_string(plan->id));
	json_object_set_new(o, "title", json_string(plan->title));
	json_object_set_new(o, "today", snapshot_date_json(today));
	json_object_set_new(o, "key_date", snapshot_date_json(plan->key_date));
	json_object_set_new(o, "days_to_key", plan->key_date == CALDATE_NONE ? json_null() :
	    json_integer(s.days_to_key));
	json_object_set_new(o, "tasks", json_integer((json_int_t)s.ntasks));
	json_object_set_new(o, "done", json_integer((json_int_t)s.ndone));
	json_object_set_new(o, "overdue", json_integer((json_int_t)s.noverdue));
	json_object_set_new(o, "due_soon", json_integer((json_int_t)s.ndue_soon));
	json_object_set_new(o, "percent", json_integer(s.percent));
	json_object_set_new(o, "responsibilities", json_integer((json_int_t)s.npairs));
	json_object_set_new(o, "reported", json_integer((json_int_t)s.npairs_reported));
	return o;
}
