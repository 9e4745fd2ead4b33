/*
 * Event and snapshot -> MQTT message (see message.h). The envelope is
 * events_message's; this module adds the topic, the retain flag and the v5
 * properties, and refuses what must not go out (broken or oversize
 * payloads, task ids that are not safe topic levels).
 */
#include "message.h"

#include <string.h>

#include "campaign/caldate.h"
#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/topic.h"
#include "campaign/xmalloc.h"

#define CONTENT_JSON "application/json"
#define SCHEMA_EVENT "campaign-event/1"
#define SCHEMA_TASK "campaign-task/1"
#define SCHEMA_SUMMARY "campaign-summary/1"
#define SCHEMA_ANNOUNCEMENTS "campaign-announcements/1"
/* The "v" of every JSON payload; docs/mqtt.md and docs/schemas/ describe version 1. */
#define PAYLOAD_VERSION 1
/* The envelope adds well under 1 KiB to a stored payload. */
#define MESSAGE_MAX (EVENTS_PAYLOAD_MAX + 1024)

static uint32_t
seconds_until(time_t end, time_t now)
{
	int64_t d = (int64_t)end - (int64_t)now;

	if (d < 1)
		return 1;
	return d > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

uint32_t
message_reminder_expiry(const char *due, time_t now)
{
	int32_t day;
	time_t end;

	if (due == NULL || caldate_parse(due, &day) < 0)
		return 0;
	end = clock_local_time(day + 1, 0);
	/* Past the deadline (an overdue reminder): it is news until the day ends. */
	if (end <= now)
		end = clock_local_time(clock_local_day(now) + 1, 0);
	return seconds_until(end, now);
}

static uint32_t
announcement_expiry(const json_t *payload, time_t now, int64_t id)
{
	const char *at = json_string_value(json_object_get(payload, "expires_at"));
	time_t t;

	if (at == NULL)
		return 0;
	if (clock_parse_iso(at, &t) < 0) {
		log_warnx("message", "event %lld: expires_at is not ISO-8601; no expiry",
		    (long long)id);
		return 0;
	}
	return seconds_until(t, now);
}

/* A JSON string without embedded NUL, or NULL. */
static const char *
json_plain_string(const json_t *v)
{
	const char *s = json_string_value(v);

	return s != NULL && strlen(s) == json_string_length(v) ? s : NULL;
}

static void
set_message(struct message *m, char *topic, const char *payload, bool retain,
    uint32_t expiry, const char *schema)
{
	*m = (struct message){
		.topic = topic,
		.payload = payload != NULL ? xstrdup(payload) : NULL,
		.len = payload != NULL ? strlen(payload) : 0,
		.retain = retain,
		.expiry = expiry,
		.content_type = payload != NULL ? CONTENT_JSON : NULL,
		.schema = payload != NULL ? schema : NULL,
	};
}

int
message_from_event(const char *prefix, const struct event *e, time_t now,
    struct event_messages *out, int *reason, char *err, size_t errlen)
{
	json_t *payload = NULL;
	json_error_t jerr;
	char *text = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (strlen(e->payload) > EVENTS_PAYLOAD_MAX) {
		*reason = MESSAGE_REASON_TOO_LARGE;
		snprintf(err, errlen, "payload of %zu bytes exceeds %d", strlen(e->payload),
		    EVENTS_PAYLOAD_MAX);
		goto out;
	}
	payload = json_loads(e->payload, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(payload)) {
		*reason = MESSAGE_REASON_PAYLOAD_INVALID;
		snprintf(err, errlen, "payload is not a JSON object (%s)",
		    payload == NULL ? jerr.text : "other JSON value");
		goto out;
	}
	text = events_message_with(e, payload);
	if (strlen(text) > MESSAGE_MAX) {
		*reason = MESSAGE_REASON_TOO_LARGE;
		snprintf(err, errlen, "message of %zu bytes exceeds %d", strlen(text),
		    MESSAGE_MAX);
		goto out;
	}
	set_message(&out->msg[out->n++], xasprintf("%s/events", prefix), text, false, 0,
	    SCHEMA_EVENT);
	if (strcmp(e->type, "announcement") == 0) {
		set_message(&out->msg[out->n++], xasprintf("%s/announcements", prefix), text,
		    false, announcement_expiry(payload, now, e->id), SCHEMA_EVENT);
	} else if (strcmp(e->type, "reminder") == 0) {
		const json_t *task = json_object_get(payload, "task");

		set_message(&out->msg[out->n++], xasprintf("%s/reminders", prefix), text,
		    false, message_reminder_expiry(json_plain_string(json_object_get(task,
		    "due")), now), SCHEMA_EVENT);
	} else if (strcmp(e->type, "progress") == 0 ||
	    strcmp(e->type, "submission") == 0) {       /* issue 15: the summary's N of M */
		const char *id = json_plain_string(json_object_get(json_object_get(payload,
		    "task"), "id"));

		out->task_id = xstrdup_or_null(id);
	}
	rc = 0;
out:
	free(text);
	json_decref(payload);
	return rc;
}

void
message_clear(struct message *m)
{
	free(m->topic);
	free(m->payload);
	memset(m, 0, sizeof(*m));
}

void
event_messages_clear(struct event_messages *m)
{
	for (size_t i = 0; i < m->n; i++)
		message_clear(&m->msg[i]);
	free(m->task_id);
	memset(m, 0, sizeof(*m));
}

static char *
dump(const json_t *json)
{
	char *text = json_dumps(json, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (text == NULL)
		fatalx("message", "cannot serialize a snapshot");
	return text;
}

int
message_task(const char *prefix, const char *task_id, const json_t *json,
    struct message *out)
{
	char *text;

	memset(out, 0, sizeof(*out));
	if (!topic_level_ok(task_id, strlen(task_id)))
		return -1;
	text = json != NULL ? dump(json) : NULL;
	set_message(out, xasprintf("%s/tasks/%s", prefix, task_id), text, true, 0,
	    SCHEMA_TASK);
	free(text);
	return 0;
}

void
message_summary(const char *prefix, const json_t *json, struct message *out)
{
	char *text = dump(json);

	set_message(out, xasprintf("%s/summary", prefix), text, true, 0, SCHEMA_SUMMARY);
	free(text);
}

json_t *
message_versioned(json_t *body, time_t now)
{
	json_t *o = json_object();
	char ts[CLOCK_ISO_STRLEN];

	clock_format_iso(now, ts);
	json_object_set_new(o, "v", json_integer(PAYLOAD_VERSION));
	json_object_set_new(o, "ts", json_string(ts));
	/* The version and the time stay first; the body cannot override them. */
	if (json_object_update_missing(o, body) < 0)
		fatalx("message", "cannot build a versioned payload");
	json_decref(body);
	return o;
}

char *
message_announcements_topic(const char *prefix)
{
	return xasprintf("%s/announcements/current", prefix);
}

void
message_announcements(const char *prefix, const json_t *json, struct message *out)
{
	char *text = dump(json);

	set_message(out, message_announcements_topic(prefix), text, true, 0,
	    SCHEMA_ANNOUNCEMENTS);
	free(text);
}

char *
message_status_topic(const char *prefix)
{
	return xasprintf("%s/bridge/status", prefix);
}

void
message_status(const char *prefix, bool online, struct message *out)
{
	set_message(out, message_status_topic(prefix), online ? "online" : "offline", true, 0,
	    NULL);
	out->content_type = "text/plain";
}
