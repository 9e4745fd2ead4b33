/*
 * Test helper: writes outbox events through the core library, the way the
 * product does. Announcements and reminders are made here in the shape their
 * writers (lib/broadcast.c, lib/remind.c) use (docs/schemas/event.schema.json),
 * so any text size and any task can be published on demand.
 *
 *   bridge_emit DB announcement TEXT [EXPIRES_AT]
 *   bridge_emit DB reminder TASK_ID
 *   bridge_emit DB progress N       N progress reports (progress_report), 100 per commit
 *   bridge_emit DB raw TYPE JSON    any payload (events_append's checks apply)
 *   bridge_emit DB submission UNIT NAME   a file received from UNIT (its exact name;
 *                                   "-": an unknown sender), as lib/chatfiles.c and
 *                                   bot/mailintake.c record it (lib/submissions.c)
 *
 * Prints the new event ids (first and last for progress), one per line; for a
 * submission, the submission's id (its event, if any, is submissions.event_id).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/caldate.h"
#include "campaign/clock.h"
#include "campaign/events.h"
#include "campaign/num.h"
#include "campaign/plandb.h"
#include "campaign/progress.h"
#include "campaign/store.h"
#include "campaign/submissions.h"
#include "campaign/xmalloc.h"

static int
append(struct store *s, const char *type, const char *campaign, json_t *payload)
{
	char err[256];
	int64_t id = events_append(s, type, campaign, payload, clock_now(), err, sizeof(err));

	json_decref(payload);
	if (id < 0) {
		fprintf(stderr, "bridge_emit: %s\n", err);
		return 1;
	}
	printf("%lld\n", (long long)id);
	return 0;
}

static int
progress(struct store *s, const struct plan *plan, long n)
{
	char err[256], key[64];
	int64_t first = 0, id = 0;
	long done = 0;

	while (done < n) {
		if (store_begin(s) < 0)
			return 1;
		for (long i = 0; i < 100 && done < n; i++, done++) {
			const struct plan_task *t = &plan->tasks[done % plan->ntasks];
			struct report_input in = {
				.task_id = t->id, .percent = (int)(done % 100), .platform = "test",
				.user_id = "bridge_emit", .at = clock_now(), .source_key = key,
			};

			if (t->nunits == 0) {
				n++;
				continue;
			}
			in.unit = t->units[done % t->nunits];
			snprintf(key, sizeof(key), "emit:%ld:%lld", done, (long long)clock_mono_ms());
			if (progress_report(s, plan, &in, &id, err, sizeof(err)) != REPORT_RECORDED) {
				fprintf(stderr, "bridge_emit: %s\n", err);
				store_rollback(s);
				return 1;
			}
			if (first == 0)
				first = id;
		}
		if (store_commit(s) < 0)
			return 1;
	}
	printf("%lld\n%lld\n", (long long)first, (long long)id);
	return 0;
}

/* The file's contents are this marker and the name: a test can check they never travel. */
static int
submission(struct store *s, const struct plan *plan, const char *unit, const char *name)
{
	char err[256], sha[SUBMISSIONS_SHA_STRLEN], source[128];
	char *data = NULL;
	struct submission_in in = {
		.name = name, .channel = "test", .sender = "bridge_emit", .source_id = source,
		.at = clock_now(),
	};
	int64_t id;
	int rc = 1;

	if (strcmp(unit, "-") != 0) {
		for (size_t u = 0; u < plan->nunits && in.unit_id == 0; u++)
			if (strcmp(plan->units[u].name, unit) == 0)
				in.unit_id = plan->units[u].id;
		if (in.unit_id == 0) {
			fprintf(stderr, "bridge_emit: no unit %s\n", unit);
			return 1;
		}
	}
	data = xasprintf("FILE-CONTENTS %s", name);
	snprintf(source, sizeof(source), "emit:%lld", (long long)clock_mono_ms());
	if (store_begin(s) < 0)
		goto out;
	if (submissions_put_file(s, data, strlen(data), in.at, sha, err, sizeof(err)) < 0)
		goto fail;
	in.sha256 = sha;
	in.size = (int64_t)strlen(data);
	if ((id = submissions_add(s, plan, &in, err, sizeof(err))) < 0)
		goto fail;
	if (store_commit(s) < 0)
		goto out;
	printf("%lld\n", (long long)id);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "bridge_emit: %s\n", err);
	store_rollback(s);
out:
	free(data);
	return rc;
}

int
main(int argc, char **argv)
{
	char err[512];
	struct store *s = NULL;
	struct plan *plan = NULL;
	json_t *payload;
	int rc = 2;

	if (argc < 4 || clock_init(err, sizeof(err)) < 0) {
		fprintf(stderr, "usage: bridge_emit DB announcement|reminder|progress|raw|"
		    "submission ...\n");
		return 2;
	}
	s = store_open(argv[1], err, sizeof(err));
	if (s == NULL || (plan = plandb_load(s, err, sizeof(err))) == NULL ||
	    plandb_use_zone(s, err, sizeof(err)) < 0) {
		fprintf(stderr, "bridge_emit: %s\n", err);
		goto out;
	}
	if (strcmp(argv[2], "announcement") == 0) {
		payload = json_pack("{s:s}", "text", argv[3]);
		if (argc > 4)
			json_object_set_new(payload, "expires_at", json_string(argv[4]));
		rc = append(s, "announcement", plan->id, payload);
	} else if (strcmp(argv[2], "reminder") == 0) {
		const struct plan_task *t = plan_task_get(plan, argv[3]);
		char due[CALDATE_STRLEN];

		if (t == NULL) {
			fprintf(stderr, "bridge_emit: no task %s\n", argv[3]);
			goto out;
		}
		int left = (int)(t->due - clock_today());
		char kind[32], today[CALDATE_STRLEN];

		caldate_format(t->due, due);
		caldate_format(clock_today(), today);
		if (left < 0)
			snprintf(kind, sizeof(kind), "overdue");
		else
			snprintf(kind, sizeof(kind), "before-%d", left);
		payload = json_pack("{s:{s:s,s:s,s:s,s:i},s:s,s:s,s:s,s:i,s:i,s:b}",
		    "task", "id", t->id, "title", t->title, "due", due, "percent", 0,
		    "unit", t->nunits > 0 ? plan->units[t->units[0]].name : "",
		    "kind", kind, "date", today, "days_left", left, "percent", 0,
		    "reported", 0);
		rc = append(s, "reminder", plan->id, payload);
	} else if (strcmp(argv[2], "progress") == 0) {
		int64_t n;

		if (num_parse_i64(argv[3], 1, 10000000, &n) < 0)
			goto out;
		rc = progress(s, plan, (long)n);
	} else if (strcmp(argv[2], "raw") == 0 && argc == 5) {
		json_error_t jerr;

		payload = json_loads(argv[4], 0, &jerr);
		if (payload == NULL) {
			fprintf(stderr, "bridge_emit: %s\n", jerr.text);
			goto out;
		}
		rc = append(s, argv[3], plan->id, payload);
	} else if (strcmp(argv[2], "submission") == 0 && argc == 5) {
		rc = submission(s, plan, argv[3], argv[4]);
	}
out:
	plan_free(plan);
	store_close(s);
	return rc;
}
