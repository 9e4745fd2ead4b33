/*
 * What the bridge publishes, as plain data (no libmosquitto here, so the
 * mapping is unit-tested on its own): an outbox event becomes its copy on
 * <prefix>/events plus, by type, one on announcements or reminders; task
 * and summary snapshots become the retained tasks/<id> and summary, the
 * current announcements the retained announcements/current; the
 * availability is the retained bridge/status. docs/mqtt.md is the contract.
 */
#ifndef BRIDGE_MESSAGE_H
#define BRIDGE_MESSAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "campaign/events.h"

#define MESSAGE_MAX_COPIES 2

/* MQTT v5 reason codes the bridge records for events it cannot publish. */
#define MESSAGE_REASON_TOPIC_INVALID 0x90
#define MESSAGE_REASON_TOO_LARGE 0x95
#define MESSAGE_REASON_PAYLOAD_INVALID 0x99

struct message {
	char *topic;
	char *payload;                  /* NULL (len 0) clears a retained topic */
	size_t len;
	bool retain;
	uint32_t expiry;                /* v5 message expiry in seconds, 0: none */
	const char *content_type;       /* v5 properties (static strings) */
	const char *schema;             /* user property "schema" */
};

struct event_messages {
	struct message msg[MESSAGE_MAX_COPIES];
	size_t n;
	char *task_id;                  /* progress: the task whose state changed */
};

/*
 * The messages for one event at time now. -1 when the event can never be
 * published (payload not a JSON object, oversize): *reason is the v5 reason
 * code to record and err says why.
 */
int message_from_event(const char *prefix, const struct event *e, time_t now,
    struct event_messages *out, int *reason, char *err, size_t errlen);
void event_messages_clear(struct event_messages *m);

/* Seconds from now to the end of the task's due day (YYYY-MM-DD) in the selected zone. */
uint32_t message_reminder_expiry(const char *due, time_t now);

/* Retained snapshots; json is borrowed. NULL json clears the topic. -1 for an unsafe id. */
int message_task(const char *prefix, const char *task_id, const json_t *json,
    struct message *out);
void message_summary(const char *prefix, const json_t *json, struct message *out);
/* The announcements still current (retained <prefix>/announcements/current). */
void message_announcements(const char *prefix, const json_t *json, struct message *out);
char *message_announcements_topic(const char *prefix);
/* {"v":1,"ts":now, ...body}: the head of every retained JSON payload. Steals body. */
json_t *message_versioned(json_t *body, time_t now);
/* "online" / "offline", retained. */
void message_status(const char *prefix, bool online, struct message *out);
char *message_status_topic(const char *prefix);
void message_clear(struct message *m);

#endif
