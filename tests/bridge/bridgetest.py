"""Harness for campaign-bridge's integration tests: a real mosquitto on a free
loopback port with a generated config (password file, ACL, TLS certificates
made here with openssl), the bridge and campaignctl as subprocesses, and MQTT
subscribers built on paho-mqtt (Debian's python3-paho-mqtt).

Every process started here is killed by PID when the test ends, and each one
has a lifetime limit (the broker through `timeout`), so nothing outlives a
crashed test. Running as root, mosquitto would drop privileges to the user
`mosquitto` and then fail to read the generated files: the config says
`user root` (ignored when the tests do not run as root).

Environment (set by CMake): BRIDGE_BIN, CAMPAIGNCTL_BIN, BRIDGE_EMIT_BIN, PLAN_JSON.
"""
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import jsonschema
import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

BRIDGE = os.environ.get("BRIDGE_BIN", "campaign-bridge")
CTL = os.environ.get("CAMPAIGNCTL_BIN", "campaignctl")
EMIT = os.environ.get("BRIDGE_EMIT_BIN", "bridge_emit")
PLAN = os.environ.get("PLAN_JSON", "data/plans/fupinri.json")
NOW = "2027-10-08T09:00:00+08:00"
PREFIX = "campaign/fupinri"
LIFETIME = 300  # seconds any helper process may live
SCHEMA_DIR = os.environ.get("SCHEMA_DIR", os.path.join(os.path.dirname(os.path.abspath(
    __file__)), "..", "..", "docs", "schemas"))


def _schema(name):
    with open(os.path.join(SCHEMA_DIR, name + ".schema.json")) as f:
        doc = json.load(f)
    jsonschema.Draft7Validator.check_schema(doc)
    return jsonschema.Draft7Validator(doc)


# Topic (after the prefix) -> the schema in docs/schemas/ its payload must meet.
SCHEMAS = {name: _schema(name) for name in
           ("event", "task", "summary", "announcements", "status")}
SCHEMA_ERRORS = []  # (topic, payload, message, event id) of every message that failed
SCHEMA_EXEMPT = set()  # event ids a test wrote raw on purpose (bridge_emit raw)


def schema_for(topic):
    if topic.endswith("/announcements/current"):
        return SCHEMAS["announcements"]
    if topic.endswith(("/events", "/announcements", "/reminders")):
        return SCHEMAS["event"]
    if "/tasks/" in topic:
        return SCHEMAS["task"]
    if topic.endswith("/summary"):
        return SCHEMAS["summary"]
    if topic.endswith("/bridge/status"):
        return SCHEMAS["status"]
    return None


def check_schema(topic, payload):
    """Validates one received message against docs/schemas/; records a failure."""
    schema, doc = schema_for(topic), None
    if schema is None or payload == b"":  # an empty payload clears a retained topic
        return
    try:
        text = payload.decode("utf-8")
        doc = text if topic.endswith("/bridge/status") else json.loads(text)
        schema.validate(doc)
    except (ValueError, jsonschema.ValidationError) as e:
        SCHEMA_ERRORS.append((topic, payload[:200], str(e).split("\n")[0],
                              doc.get("id") if isinstance(doc, dict) else None))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout=10.0, what="condition", interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))


class Workdir:
    def __init__(self, name):
        self.path = tempfile.mkdtemp(prefix="bridge-%s-" % name)
        self.db = os.path.join(self.path, "campaign.db")
        self.env = dict(os.environ, CAMPAIGN_DB=self.db, CAMPAIGN_NOW=NOW)

    def file(self, name, text=None, mode=0o600):
        p = os.path.join(self.path, name)
        if text is not None:
            with open(p, "w") as f:
                f.write(text)
            os.chmod(p, mode)
        return p

    def ctl(self, *args, check=True):
        r = subprocess.run([CTL, *args], env=self.env, capture_output=True, text=True,
                           timeout=60)
        if check and r.returncode != 0:
            raise AssertionError("campaignctl %s failed: %s" % (" ".join(args), r.stderr))
        return r

    def load_plan(self):
        self.ctl("plan", "load", PLAN)

    def emit(self, *args, check=True):
        r = subprocess.run([EMIT, self.db, *args], env=self.env, capture_output=True,
                           text=True, timeout=120)
        if check and r.returncode != 0:
            raise AssertionError("bridge_emit %s failed: %s" % (" ".join(args), r.stderr))
        return [int(x) for x in r.stdout.split()] if r.returncode == 0 else r

    def sql(self, query, *params):
        con = sqlite3.connect(self.db, timeout=30)
        try:
            cur = con.execute(query, params)
            rows = cur.fetchall()
            con.commit()
            return rows
        finally:
            con.close()

    def event_states(self):
        return dict(self.sql("SELECT id, state FROM events"))

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


class Broker:
    """mosquitto with a generated config. users: {name: password}; acl: text."""

    def __init__(self, work, users=None, acl=None, persistence=False, tls=None,
                 unix=False, max_queued=100000, port=None, http_dir=None):
        self.work = work
        self.port = port or free_port()
        self.tls_port = free_port() if tls else None
        self.sock = work.file("mqtt.sock") if unix else None
        # http_dir: also a websockets listener serving that folder (the board)
        self.ws_port = free_port() if http_dir else None
        self.log = work.file("broker.log")
        self.proc = None
        lines = ["user root", "per_listener_settings false",
                 "log_dest file %s" % self.log,
                 "log_type error", "log_type warning", "log_type notice",
                 "log_type information", "connection_messages true",
                 "max_queued_messages %d" % max_queued,
                 "persistence %s" % ("true" if persistence else "false")]
        if persistence:
            lines += ["persistence_location %s/" % work.path, "autosave_interval 1",
                      "autosave_on_changes true"]
        if users is None:
            lines.append("allow_anonymous true")
        else:
            pw = work.file("passwd", "")
            for name, secret in users.items():
                subprocess.run(["mosquitto_passwd", "-b", pw, name, secret], check=True)
            lines += ["allow_anonymous false", "password_file %s" % pw]
        if acl is not None:
            lines.append("acl_file %s" % work.file("acl", acl))
        lines.append("listener %d 127.0.0.1" % self.port)
        if tls:
            lines += ["listener %d 127.0.0.1" % self.tls_port, "cafile %s" % tls.ca,
                      "certfile %s" % tls.server_cert, "keyfile %s" % tls.server_key,
                      "require_certificate true", "tls_version tlsv1.2"]
        if unix:
            lines.append("listener 0 %s" % self.sock)
        if http_dir:
            lines += ["listener %d" % self.ws_port, "protocol websockets",
                      "http_dir %s" % http_dir]
        self.conf = work.file("mosquitto.conf", "\n".join(lines) + "\n")

    def start(self):
        self.proc = subprocess.Popen(["timeout", str(LIFETIME), "mosquitto", "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

        def up():
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return True
            except OSError:
                return False
        wait_for(up, 10, "mosquitto to listen")
        return self

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            # timeout(1) forwards SIGTERM; SIGKILL must reach mosquitto itself.
            if sig == signal.SIGKILL:
                for pid in child_pids(self.proc.pid):
                    os.kill(pid, signal.SIGKILL)
            self.proc.send_signal(sig if sig != signal.SIGKILL else signal.SIGTERM)
            self.proc.wait(10)
        self.proc = None

    def hup(self):
        for pid in child_pids(self.proc.pid):
            os.kill(pid, signal.SIGHUP)

    def logtext(self):
        with open(self.log, errors="replace") as f:
            return f.read()


def child_pids(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


class Bridge:
    def __init__(self, work, broker=None, extra="", port=None, name="bridge"):
        self.work = work
        self.log = work.file("%s.log" % name)
        mqtt = ["[mqtt]", "host = 127.0.0.1", "port = %d" % (port or broker.port),
                "keepalive = 5"]
        self.ini = work.file("%s.ini" % name, "\n".join(mqtt) + "\n" + extra + "\n")
        self.proc = None
        self.logf = None

    def start(self, *args, wait_connected=True):
        self.logf = open(self.log, "a")
        self.proc = subprocess.Popen(["timeout", "-s", "KILL", str(LIFETIME), BRIDGE,
                                      "-c", self.ini, "-v", *args],
                                     env=self.work.env, stdout=self.logf, stderr=self.logf)
        if wait_connected:
            n = self.logtext().count("INFO mqtt: connected")
            wait_for(lambda: self.logtext().count("INFO mqtt: connected") > n or
                     self.proc.poll() is not None, 15, "the bridge to connect")
            if self.proc.poll() is not None:
                raise AssertionError("bridge exited: " + self.logtext())
        return self

    @property
    def pid(self):
        kids = child_pids(self.proc.pid)
        return kids[0] if kids else None

    def signal(self, sig):
        os.kill(self.pid, sig)

    def stop(self, timeout=20):
        """SIGTERM; returns the bridge's exit status."""
        if self.proc is None:
            return None
        pid = self.pid
        if pid:
            os.kill(pid, signal.SIGTERM)
        rc = self.proc.wait(timeout)
        self.proc = None
        self.logf.close()
        return rc

    def kill9(self):
        pid = self.pid
        if pid:
            os.kill(pid, signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None
        self.logf.close()

    def logtext(self):
        with open(self.log, errors="replace") as f:
            return f.read()


class Message:
    def __init__(self, m):
        self.topic = m.topic
        self.payload = m.payload
        self.retain = bool(m.retain)
        self.qos = m.qos
        props = getattr(m, "properties", None)
        self.content_type = getattr(props, "ContentType", None) if props else None
        self.expiry = getattr(props, "MessageExpiryInterval", None) if props else None
        self.user = dict(getattr(props, "UserProperty", []) or []) if props else {}
        self.at = time.monotonic()

    def json(self):
        return json.loads(self.payload.decode("utf-8"))

    def __repr__(self):
        return "<%s %r>" % (self.topic, self.payload[:80])


class Subscriber:
    """A paho client collecting every message; v5 unless v311=True."""

    def __init__(self, broker, topic="%s/#" % PREFIX, client_id=None, persistent=False,
                 v311=False, port=None, **kw):
        self.messages = []
        self.lock = threading.Lock()
        proto = paho.MQTTv311 if v311 else paho.MQTTv5
        self.client = paho.Client(client_id=client_id or "sub-%d" % free_port(),
                                  protocol=proto,
                                  clean_session=(not persistent) if v311 else None)
        if kw.get("username"):
            self.client.username_pw_set(kw["username"], kw.get("password"))
        self.client.on_message = self._on_message
        self.subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_connect = lambda c, u, f, rc, p=None: c.subscribe(topic, qos=1)
        props = None
        if not v311:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 3600 if persistent else 0
        port = port or broker.port
        if v311:
            self.client.connect("127.0.0.1", port, keepalive=10)
        else:
            self.client.connect("127.0.0.1", port, keepalive=10,
                                clean_start=not persistent, properties=props)
        self.client.loop_start()
        if not self.subscribed.wait(10):
            raise AssertionError("subscriber could not subscribe")

    def _on_message(self, client, userdata, m):
        check_schema(m.topic, m.payload)
        with self.lock:
            self.messages.append(Message(m))

    def snapshot(self, topic=None):
        with self.lock:
            return [m for m in self.messages if topic is None or m.topic == topic]

    def ids(self, topic):
        return [m.json()["id"] for m in self.snapshot(topic)]

    def wait_ids(self, topic, ids, timeout=30):
        want = set(ids)
        wait_for(lambda: want <= set(self.ids(topic)), timeout,
                 "%d ids on %s (have %d)" % (len(want), topic, len(set(self.ids(topic)))))

    def wait_topic(self, topic, pred=lambda m: True, timeout=10):
        return wait_for(lambda: [m for m in self.snapshot(topic) if pred(m)], timeout,
                        "a message on %s" % topic)[-1]

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


def retained(broker, topic, timeout=2.0, **kw):
    """The retained messages under topic, as a fresh subscriber sees them."""
    s = Subscriber(broker, topic=topic, **kw)
    time.sleep(timeout)
    out = {m.topic: m for m in s.snapshot() if m.retain}
    s.close()
    return out


class TLS:
    """A CA, a server certificate for 127.0.0.1 and a client certificate."""

    def __init__(self, work):
        d = work.path
        self.ca, self.ca_key = os.path.join(d, "ca.crt"), os.path.join(d, "ca.key")
        self.server_cert, self.server_key = os.path.join(d, "server.crt"), os.path.join(d, "server.key")
        self.client_cert, self.client_key = os.path.join(d, "client.crt"), os.path.join(d, "client.key")
        self.other_ca = os.path.join(d, "other-ca.crt")
        run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=campaign test CA", "-keyout", self.ca_key, "-out", self.ca)
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=someone else", "-keyout", os.path.join(d, "other-ca.key"), "-out", self.other_ca)
        ext = work.file("san.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        for name, cn, key, cert in (("server", "127.0.0.1", self.server_key, self.server_cert),
                                     ("client", "campaign-bridge", self.client_key, self.client_cert)):
            csr = os.path.join(d, name + ".csr")
            run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + cn,
                "-keyout", key, "-out", csr)
            args = ["x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
                    "-CAcreateserial", "-days", "2", "-out", cert]
            if name == "server":
                args += ["-extfile", ext]
            run(*args)


class BridgeTest(unittest.TestCase):
    """Base class: a work dir with the seed plan loaded; cleans up processes."""

    def setUp(self):
        self.work = Workdir(self.id().split(".")[-1])
        self.work.load_plan()
        self._cleanup = []
        del SCHEMA_ERRORS[:]
        SCHEMA_EXEMPT.clear()

    def track(self, thing):
        self._cleanup.append(thing)
        return thing

    def tearDown(self):
        for thing in reversed(self._cleanup):
            try:
                if isinstance(thing, Subscriber):
                    thing.close()
                elif isinstance(thing, Bridge):
                    if thing.proc is not None:
                        thing.kill9()
                elif isinstance(thing, Broker):
                    thing.stop(signal.SIGKILL)
            except Exception as e:  # cleanup must go on
                print("cleanup:", e, file=sys.stderr)
        # Events a test wrote raw on purpose may arrive before it names them.
        self.assertEqual([e[:3] for e in SCHEMA_ERRORS if e[3] not in SCHEMA_EXEMPT], [],
                         "messages that do not meet docs/schemas/")

    def run(self, result=None):
        """Removes the work dir after a pass; keeps it (and says where) after a failure."""
        result = result or self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        out = super().run(result)
        if hasattr(self, "work"):
            if len(result.failures) + len(result.errors) == before:
                self.work.cleanup()
            else:
                print("kept work dir", self.work.path, file=sys.stderr)
        return out

    def assert_in_id_order(self, ids, what):
        """First occurrences strictly increasing (QoS 1 may repeat, never reorder)."""
        seen, firsts = set(), []
        for i in ids:
            if i not in seen:
                seen.add(i)
                firsts.append(i)
        self.assertEqual(firsts, sorted(firsts), "%s out of id order" % what)


def main():
    unittest.main(verbosity=2)
