/*
 * The bridge's MQTT connection: libmosquitto driven from the bridge's own
 * poll loop (mosquitto_socket + loop_read/loop_write/loop_misc), no
 * library thread. Callbacks only record (CONNACK, disconnects, acks); the
 * caller acts on them after mqtt_service. This module owns reconnecting
 * with capped backoff and rebuilding the client after the errors that
 * libmosquitto never recovers from (TLS, DNS, auth, protocol, a CONNECT
 * that is never answered).
 */
#ifndef BRIDGE_MQTT_H
#define BRIDGE_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "message.h"

struct mqtt_settings {
	char *host;
	int port;
	char *socket;           /* unix socket path; wins over host/port */
	char *client_id;
	char *username;
	char *password;         /* a secret: never logged */
	char *tls_ca;           /* file or directory */
	char *tls_cert;
	char *tls_key;
	int qos;
	int protocol;           /* 4 (3.1.1) or 5 */
	int keepalive;
	char *will_topic;       /* <prefix>/bridge/status */
};

void mqtt_settings_clear(struct mqtt_settings *s);
bool mqtt_settings_equal(const struct mqtt_settings *a, const struct mqtt_settings *b);

/* What became of a publish. */
enum mqtt_pub {
	MQTT_PUB_QUEUED,        /* the library has it: wait for its ack, never publish it again */
	MQTT_PUB_REJECTED,      /* can never go out (bad topic, too large): *reason says why */
	MQTT_PUB_RETRY,         /* not taken (QoS 0 while disconnected): publish it later */
};

struct mqtt_ack {
	int mid;
	int reason;             /* MQTT v5 reason code; >= 0x80 is a refusal */
};

/* Takes ownership of settings (they are cleared). Connects on the first mqtt_service. */
struct mqtt *mqtt_new(struct mqtt_settings *settings);
void mqtt_free(struct mqtt *m);
const struct mqtt_settings *mqtt_settings_get(const struct mqtt *m);

/* For poll(): the socket (-1 when there is none) and the events to wait for. */
int mqtt_fd(const struct mqtt *m);
short mqtt_events(const struct mqtt *m);
/* Milliseconds until mqtt_service must run even without socket activity. */
int mqtt_timeout(const struct mqtt *m, int64_t now_ms);
/* Socket I/O, keepalive, reconnects; revents from poll (0 on a timeout). */
void mqtt_service(struct mqtt *m, short revents, int64_t now_ms);

bool mqtt_connected(const struct mqtt *m);
/* Failed connection attempts since the last CONNACK: >0 means retrying. */
unsigned mqtt_failed_attempts(const struct mqtt *m);
/* True once after each successful CONNACK: time to publish birth and retained state. */
bool mqtt_take_connect(struct mqtt *m);
/* True once after the library dropped what it had queued: re-publish from the store. */
bool mqtt_take_lost(struct mqtt *m);
/* Acks recorded since the last mqtt_acks_clear. */
size_t mqtt_acks(const struct mqtt *m, const struct mqtt_ack **acks);
void mqtt_acks_clear(struct mqtt *m);

/* Publishes msg at the configured QoS; *mid is valid when QUEUED. */
enum mqtt_pub mqtt_publish(struct mqtt *m, const struct message *msg, int *mid,
    int *reason);
/* Sends DISCONNECT (no will) and closes the socket. */
void mqtt_disconnect(struct mqtt *m);

#endif
