/*
 * libmosquitto under our own poll loop (see mqtt.h). Invariants:
 * - callbacks only append to m->acks or set flags; state changes happen in
 *   mqtt_service after the library call returns;
 * - a message the library accepted (QoS > 0 and a mid assigned) is never
 *   published again by us on this client: libmosquitto re-sends it after a
 *   reconnect (docs/mqtt-client.md §1.5). Only destroying the client drops its queue,
 *   and that is reported once through mqtt_take_lost;
 * - the password lives in the settings and in libmosquitto, never in a log.
 */
#include "mqtt.h"

#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "campaign/backoff.h"
#include "campaign/log.h"
#include "campaign/xmalloc.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000
#define MISC_INTERVAL_MS 1000
/* A CONNECT unanswered this long means a stuck peer: rebuild and retry. */
#define CONNECT_TIMEOUT_MS 15000

enum mqtt_state { MQTT_WAITING, MQTT_CONNECTING, MQTT_CONNECTED };

struct mqtt {
	struct mqtt_settings set;
	struct mosquitto *mosq;
	char where[300];                /* "127.0.0.1:1883", "unix:/run/mqtt.sock" */
	enum mqtt_state state;
	bool fresh;                     /* client never connected: use connect, not reconnect */
	bool rebuild;                   /* destroy the client before the next attempt */
	bool lost;                      /* the library's queue was dropped */
	bool connect_edge;
	int64_t next_attempt_ms;
	int64_t since_ms;               /* CONNECTING since */
	int64_t next_misc_ms;
	unsigned attempts;              /* failed attempts since the last CONNACK */
	int refused;                    /* CONNACK refusal of this attempt, or 0 */

	/* Recorded by the callbacks. */
	bool cb_connack;
	int cb_connack_rc;
	bool cb_disconnect;
	int cb_disconnect_rc;
	struct mqtt_ack *acks;
	size_t nacks, acks_cap;
};

void
mqtt_settings_clear(struct mqtt_settings *s)
{
	free(s->host);
	free(s->socket);
	free(s->client_id);
	free(s->username);
	if (s->password != NULL) {
		explicit_bzero(s->password, strlen(s->password));
		free(s->password);
	}
	free(s->tls_ca);
	free(s->tls_cert);
	free(s->tls_key);
	free(s->will_topic);
	memset(s, 0, sizeof(*s));
}

static bool
str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool
mqtt_settings_equal(const struct mqtt_settings *a, const struct mqtt_settings *b)
{
	return str_eq(a->host, b->host) && a->port == b->port &&
	    str_eq(a->socket, b->socket) && str_eq(a->client_id, b->client_id) &&
	    str_eq(a->username, b->username) && str_eq(a->password, b->password) &&
	    str_eq(a->tls_ca, b->tls_ca) && str_eq(a->tls_cert, b->tls_cert) &&
	    str_eq(a->tls_key, b->tls_key) && a->qos == b->qos &&
	    a->protocol == b->protocol && a->keepalive == b->keepalive &&
	    str_eq(a->will_topic, b->will_topic);
}

/* ---- callbacks: record only ---- */

static void
on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
    const mosquitto_property *props)
{
	struct mqtt *m = obj;

	(void)mosq;
	(void)flags;
	(void)props;
	m->cb_connack = true;
	m->cb_connack_rc = rc;
}

static void
on_disconnect(struct mosquitto *mosq, void *obj, int rc, const mosquitto_property *props)
{
	struct mqtt *m = obj;

	(void)mosq;
	(void)props;
	m->cb_disconnect = true;
	m->cb_disconnect_rc = rc;
}

static void
on_publish(struct mosquitto *mosq, void *obj, int mid, int reason,
    const mosquitto_property *props)
{
	struct mqtt *m = obj;

	(void)mosq;
	(void)props;
	if (m->nacks == m->acks_cap) {
		m->acks_cap = m->acks_cap == 0 ? 64 : m->acks_cap * 2;
		m->acks = xreallocarray(m->acks, m->acks_cap, sizeof(*m->acks));
	}
	m->acks[m->nacks++] = (struct mqtt_ack){ .mid = mid, .reason = reason };
}

static void
on_log(struct mosquitto *mosq, void *obj, int level, const char *str)
{
	(void)mosq;
	(void)obj;
	if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))
		log_debug("mosquitto", "%s", str);
}

/* An encrypted client key must fail clearly, not prompt on a terminal. */
static int
no_passphrase(char *buf, int size, int rwflag, void *userdata)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)userdata;
	return 0;
}

/* ---- the client ---- */

static int
configure(struct mqtt *m)
{
	const struct mqtt_settings *s = &m->set;
	mosquitto_property *will_props = NULL;
	int rc;

	m->mosq = mosquitto_new(s->client_id, true, m);
	if (m->mosq == NULL)
		fatal("mqtt", "mosquitto_new");
	mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, s->protocol == 5 ?
	    MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
	mosquitto_int_option(m->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_v5_callback_set(m->mosq, on_connect);
	mosquitto_disconnect_v5_callback_set(m->mosq, on_disconnect);
	mosquitto_publish_v5_callback_set(m->mosq, on_publish);
	mosquitto_log_callback_set(m->mosq, on_log);
	if (s->username != NULL &&
	    (rc = mosquitto_username_pw_set(m->mosq, s->username, s->password)) != 0)
		goto fail;
	if (s->tls_ca != NULL) {
		struct stat st;
		bool dir = stat(s->tls_ca, &st) == 0 && S_ISDIR(st.st_mode);

		rc = mosquitto_tls_set(m->mosq, dir ? NULL : s->tls_ca, dir ? s->tls_ca : NULL,
		    s->tls_cert, s->tls_key, no_passphrase);
		if (rc != 0)
			goto fail;
		if ((rc = mosquitto_tls_opts_set(m->mosq, 1, NULL, NULL)) != 0)
			goto fail;
	}
	if (s->protocol == 5)
		mosquitto_property_add_string(&will_props, MQTT_PROP_CONTENT_TYPE, "text/plain");
	rc = mosquitto_will_set_v5(m->mosq, s->will_topic, 7, "offline", s->qos, true,
	    will_props);
	if (rc != 0) {
		mosquitto_property_free_all(&will_props);
		goto fail;
	}
	m->fresh = true;
	return 0;
fail:
	log_error("mqtt", "cannot set up the client for %s: %s", m->where,
	    rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
	mosquitto_destroy(m->mosq);
	m->mosq = NULL;
	return -1;
}

struct mqtt *
mqtt_new(struct mqtt_settings *settings)
{
	struct mqtt *m = xcalloc(1, sizeof(*m));

	m->set = *settings;
	memset(settings, 0, sizeof(*settings));
	if (m->set.socket != NULL)
		snprintf(m->where, sizeof(m->where), "unix:%s", m->set.socket);
	else
		snprintf(m->where, sizeof(m->where), "%s:%d%s", m->set.host, m->set.port,
		    m->set.tls_ca != NULL ? " (TLS)" : "");
	m->state = MQTT_WAITING;
	m->rebuild = true;
	return m;
}

void
mqtt_free(struct mqtt *m)
{
	if (m == NULL)
		return;
	if (m->mosq != NULL)
		mosquitto_destroy(m->mosq);
	mqtt_settings_clear(&m->set);
	free(m->acks);
	free(m);
}

const struct mqtt_settings *
mqtt_settings_get(const struct mqtt *m)
{
	return &m->set;
}

/* libmosquitto gives up for good on these (docs/mqtt-client.md §1.7): start from a new client. */
static bool
needs_rebuild(int rc, int err)
{
	switch (rc) {
	case MOSQ_ERR_PROTOCOL:
	case MOSQ_ERR_INVAL:
	case MOSQ_ERR_NOT_FOUND:
	case MOSQ_ERR_TLS:
	case MOSQ_ERR_PAYLOAD_SIZE:
	case MOSQ_ERR_NOT_SUPPORTED:
	case MOSQ_ERR_AUTH:
	case MOSQ_ERR_ACL_DENIED:
	case MOSQ_ERR_UNKNOWN:
	case MOSQ_ERR_EAI:
	case MOSQ_ERR_PROXY:
		return true;
	default:
		return rc == MOSQ_ERR_ERRNO && err == EPROTO;
	}
}

static const char *
describe(int rc, int err)
{
	if (rc == MOSQ_ERR_ERRNO)
		return strerror(err);
	if (rc == MOSQ_ERR_EAI)
		return "host name lookup failed";
	/* Codes libmosquitto 2.0 has no text for ("Unknown error."). */
	switch (rc) {
	case MOSQ_ERR_KEEPALIVE:
		return "the broker did not answer within 1.5 x keepalive: is it overloaded, "
		    "or is host:port not an MQTT broker?";
	case MOSQ_ERR_MALFORMED_PACKET:
		return "the broker sent a malformed packet: is host:port an MQTT broker?";
	case MOSQ_ERR_TIMEOUT:
		return "timed out";
	case MOSQ_ERR_LOOKUP:
		return "host name lookup failed";
	case MOSQ_ERR_UNKNOWN:
		return "libmosquitto gave no reason (MOSQ_ERR_UNKNOWN)";
	default:
		return mosquitto_strerror(rc);
	}
}

/* The connection is gone (or never came): schedule the next attempt. */
static void
connection_down(struct mqtt *m, int rc, int err, int64_t now)
{
	/* The same jittered pause as the chat drivers: bridges never reconnect in step. */
	int64_t pause = backoff_ms((int)m->attempts + 1, BACKOFF_MIN_MS, BACKOFF_MAX_MS);
	int secs = (int)((pause + 500) / 1000);

	if (m->refused != 0)
		log_error("mqtt", "%s refused the connection: %s (%s %d)%s; retrying in %d s "
		    "(attempt %u)", m->where, m->set.protocol == 5 ?
		    mosquitto_reason_string(m->refused) : mosquitto_connack_string(m->refused),
		    m->set.protocol == 5 ? "reason" : "code", m->refused,
		    m->set.username != NULL ? "; check username and password_file" : "",
		    secs, m->attempts + 1);
	else if (m->state == MQTT_CONNECTED)
		log_warnx("mqtt", "connection to %s lost: %s; reconnecting in %d s", m->where,
		    describe(rc, err), secs);
	else
		log_warnx("mqtt", "cannot connect to %s: %s; retrying in %d s (attempt %u)",
		    m->where, describe(rc, err), secs, m->attempts + 1);
	if (needs_rebuild(rc, err))
		m->rebuild = true;
	/* QoS 0 packets still queued are discarded at reconnect (docs/mqtt-client.md §0.3). */
	if (m->set.qos == 0)
		m->lost = true;
	m->state = MQTT_WAITING;
	m->refused = 0;
	m->attempts++;
	m->next_attempt_ms = now + pause;
	m->cb_disconnect = false;
}

static void
attempt(struct mqtt *m, int64_t now)
{
	int rc, err;

	if (m->rebuild) {
		if (m->mosq != NULL) {
			mosquitto_destroy(m->mosq);
			m->mosq = NULL;
			m->lost = true;
		}
		m->rebuild = false;
		if (configure(m) < 0) {
			m->rebuild = true;
			connection_down(m, MOSQ_ERR_INVAL, 0, now);
			return;
		}
	}
	errno = 0;
	if (m->fresh)
		rc = mosquitto_connect_bind_async(m->mosq, m->set.socket != NULL ?
		    m->set.socket : m->set.host, m->set.socket != NULL ? 0 : m->set.port,
		    m->set.keepalive, NULL);
	else
		rc = mosquitto_reconnect_async(m->mosq);
	err = errno;
	m->fresh = false;
	if (rc != MOSQ_ERR_SUCCESS) {
		connection_down(m, rc, err, now);
		return;
	}
	log_debug("mqtt", "connecting to %s", m->where);
	m->state = MQTT_CONNECTING;
	m->since_ms = now;
	m->next_misc_ms = now + MISC_INTERVAL_MS;
}

static void
connack(struct mqtt *m, int rc)
{
	m->cb_connack = false;
	if (rc == 0) {
		log_info("mqtt", "connected to %s as %s (MQTT %s, QoS %d)", m->where,
		    m->set.client_id, m->set.protocol == 5 ? "5" : "3.1.1", m->set.qos);
		m->state = MQTT_CONNECTED;
		m->connect_edge = true;
			m->attempts = 0;
		return;
	}
	/* The library closes the socket next; connection_down logs and schedules the retry. */
	m->refused = rc;
	m->rebuild = true;
}

/* Runs one library call's aftermath: callbacks recorded, errors returned. */
static void
after(struct mqtt *m, int rc, int err, int64_t now)
{
	if (m->cb_connack)
		connack(m, m->cb_connack_rc);
	if (rc != MOSQ_ERR_SUCCESS || m->cb_disconnect) {
		if (rc == MOSQ_ERR_SUCCESS)
			rc = m->cb_disconnect_rc != 0 ? m->cb_disconnect_rc : MOSQ_ERR_CONN_LOST;
		connection_down(m, rc, err, now);
	}
}

int
mqtt_fd(const struct mqtt *m)
{
	return m->mosq != NULL && m->state != MQTT_WAITING ? mosquitto_socket(m->mosq) : -1;
}

short
mqtt_events(const struct mqtt *m)
{
	if (mqtt_fd(m) < 0)
		return 0;
	return (short)(POLLIN | (mosquitto_want_write(m->mosq) ? POLLOUT : 0));
}

int
mqtt_timeout(const struct mqtt *m, int64_t now)
{
	int64_t at = m->state == MQTT_WAITING ? m->next_attempt_ms : m->next_misc_ms;

	if (m->state == MQTT_CONNECTING && m->since_ms + CONNECT_TIMEOUT_MS < at)
		at = m->since_ms + CONNECT_TIMEOUT_MS;
	return at <= now ? 0 : (int)(at - now);
}

void
mqtt_service(struct mqtt *m, short revents, int64_t now)
{
	int rc;

	if (m->state == MQTT_WAITING) {
		if (now >= m->next_attempt_ms)
			attempt(m, now);
		return;
	}
	if (revents & (POLLIN | POLLERR | POLLHUP)) {
		errno = 0;
		rc = mosquitto_loop_read(m->mosq, 1);
		after(m, rc, errno, now);
	}
	if (m->state != MQTT_WAITING && (revents & POLLOUT)) {
		errno = 0;
		rc = mosquitto_loop_write(m->mosq, 1);
		after(m, rc, errno, now);
	}
	if (m->state != MQTT_WAITING && now >= m->next_misc_ms) {
		errno = 0;
		rc = mosquitto_loop_misc(m->mosq);
		after(m, rc, errno, now);
		m->next_misc_ms = now + MISC_INTERVAL_MS;
	}
	if (m->state == MQTT_CONNECTING && now - m->since_ms >= CONNECT_TIMEOUT_MS) {
		log_warnx("mqtt", "%s did not answer CONNECT within %d s; starting over",
		    m->where, CONNECT_TIMEOUT_MS / 1000);
		m->rebuild = true;
		connection_down(m, MOSQ_ERR_KEEPALIVE, 0, now);
	}
}

bool
mqtt_connected(const struct mqtt *m)
{
	return m->state == MQTT_CONNECTED;
}

unsigned
mqtt_failed_attempts(const struct mqtt *m)
{
	return m->attempts;
}

bool
mqtt_take_connect(struct mqtt *m)
{
	bool edge = m->connect_edge;

	m->connect_edge = false;
	return edge;
}

bool
mqtt_take_lost(struct mqtt *m)
{
	bool lost = m->lost;

	m->lost = false;
	return lost;
}

size_t
mqtt_acks(const struct mqtt *m, const struct mqtt_ack **acks)
{
	*acks = m->acks;
	return m->nacks;
}

void
mqtt_acks_clear(struct mqtt *m)
{
	m->nacks = 0;
}

static int
reject_reason(int rc)
{
	switch (rc) {
	case MOSQ_ERR_OVERSIZE_PACKET:
	case MOSQ_ERR_PAYLOAD_SIZE:
		return MQTT_RC_PACKET_TOO_LARGE;
	case MOSQ_ERR_INVAL:
	case MOSQ_ERR_MALFORMED_UTF8:
		return MQTT_RC_TOPIC_NAME_INVALID;
	case MOSQ_ERR_QOS_NOT_SUPPORTED:
		return MQTT_RC_QOS_NOT_SUPPORTED;
	default:
		return -1;
	}
}

enum mqtt_pub
mqtt_publish(struct mqtt *m, const struct message *msg, int *mid, int *reason)
{
	mosquitto_property *props = NULL;
	int rc, err;

	*mid = 0;
	*reason = -1;
	if (m->set.protocol == 5) {
		if (msg->content_type != NULL) {
			mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE,
			    msg->content_type);
			mosquitto_property_add_byte(&props, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, 1);
		}
		if (msg->schema != NULL)
			mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY,
			    "schema", msg->schema);
		if (msg->expiry > 0)
			mosquitto_property_add_int32(&props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL,
			    msg->expiry);
	}
	errno = 0;
	rc = mosquitto_publish_v5(m->mosq, mid, msg->topic, (int)msg->len, msg->payload,
	    m->set.qos, msg->retain, props);
	err = errno;
	mosquitto_property_free_all(&props);
	if (rc == MOSQ_ERR_NOMEM)
		fatalx("mqtt", "out of memory in libmosquitto");
	/* QoS > 0 with a mid: queued, whatever the write said (docs/mqtt-client.md §1.5). */
	if (m->set.qos > 0 && *mid != 0)
		return MQTT_PUB_QUEUED;
	if (rc == MOSQ_ERR_SUCCESS)
		return MQTT_PUB_QUEUED;
	*reason = reject_reason(rc);
	if (*reason >= 0) {
		log_warnx("mqtt", "publish to %s refused by libmosquitto: %s", msg->topic,
		    mosquitto_strerror(rc));
		return MQTT_PUB_REJECTED;
	}
	log_debug("mqtt", "publish to %s not taken: %s", msg->topic, describe(rc, err));
	return MQTT_PUB_RETRY;
}

void
mqtt_disconnect(struct mqtt *m)
{
	if (m->mosq == NULL || m->state == MQTT_WAITING)
		return;
	mosquitto_disconnect(m->mosq);
	/* Non-threaded: DISCONNECT is written at once unless the socket is full. */
	for (int i = 0; i < 10 && mosquitto_socket(m->mosq) >= 0 &&
	    mosquitto_want_write(m->mosq); i++)
		mosquitto_loop_write(m->mosq, 1);
	m->state = MQTT_WAITING;
	m->next_attempt_ms = INT64_MAX;
	m->cb_disconnect = false;
}
