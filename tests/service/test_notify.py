#!/usr/bin/python3
"""The daemons under systemd, as systemd sees them: this test plays the notify
socket (an AF_UNIX datagram socket named by NOTIFY_SOCKET) and the credentials
directory (CREDENTIALS_DIRECTORY), and checks:

- campaign-bot sends READY=1 only once Telegram accepted its token (the fake
  Bot API holds getMe back first), the token read from the credential
  telegram-token; WATCHDOG=1 at least every WatchdogSec/2 when WATCHDOG_USEC is
  set; STOPPING=1 on SIGTERM, then exits 0;
- log lines start with their syslog priority (<6>INFO, <4>WARN) when
  JOURNAL_STREAM names stderr's device and inode, and not otherwise;
- on SIGHUP, campaign-bot reads the token file again: a bot whose token was
  revoked (the Bot API answers 401) signs in with the new one at once, between
  RELOADING=1 and READY=1, and answers again;
- campaign-bridge sends READY=1 with "broker connected" when the broker took
  the password from the credential mqtt-password, READY=1 with "retrying" when
  the broker is down, no WATCHDOG=1 without WATCHDOG_USEC, STOPPING=1 on SIGTERM.

Environment (CMake): BOT_BIN, FAKE_TELEGRAM, and bridgetest's BRIDGE_BIN,
CAMPAIGNCTL_BIN, PLAN_JSON (PYTHONPATH has tests/bridge).
"""
import json
import os
import signal
import socket
import subprocess
import threading
import time
import unittest
import urllib.request

import bridgetest
from bridgetest import Broker, Workdir, wait_for

BOT = os.environ.get("BOT_BIN", "campaign-bot")
FAKE = os.environ.get("FAKE_TELEGRAM", "tests/fake/fake_telegram.py")
TOKEN = "777001:CREDENTIAL-token_abc"
MQTT_PASSWORD = "s3cret-from-credential"


class NotifySocket:
    """What systemd's manager receives: (monotonic time, {key: value}) per datagram."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.messages = []
        self.lock = threading.Lock()
        self.closed = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.closed:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            with self.lock:
                self.messages.append((time.monotonic(), fields))

    def with_key(self, key, value=None):
        with self.lock:
            return [(t, m) for t, m in self.messages
                    if key in m and (value is None or m[key] == value)]

    def close(self):
        self.closed = True
        self.thread.join(5)
        self.sock.close()


class FakeTelegram:
    def __init__(self, work, token, port=0):
        port_file = work.file("fake.port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        self.logf = open(work.file("fake.log"), "a")
        self.proc = subprocess.Popen(["/usr/bin/python3", FAKE, "--port-file", port_file,
                                      "--port", str(port), "--token", token,
                                      "--max-lifetime", "200"],
                                     stdout=self.logf, stderr=self.logf)
        wait_for(lambda: os.path.exists(port_file) and os.path.getsize(port_file) > 0,
                 10, "the fake Bot API")
        with open(port_file) as f:
            self.url = "http://127.0.0.1:%d" % int(f.read())

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def log(self, method):
        return self.call("GET", "/control/log?method=" + method)["entries"]

    def getme_answered(self):
        log = self.call("GET", "/control/log?method=getMe")["entries"]
        return [e for e in log if e.get("status") == 200]

    def stop(self):
        self.proc.kill()
        self.proc.wait(10)
        self.logf.close()


class ServiceTest(unittest.TestCase):
    def setUp(self):
        self.work = Workdir(self.id().split(".")[-1])
        self.work.load_plan()
        self.notify = NotifySocket(self.work.file("notify.sock"))
        self.creds = os.path.join(self.work.path, "credentials")
        os.mkdir(self.creds, 0o700)
        self.procs = []         # our daemons (Popen), killed by PID at the end
        self.servers = []       # the broker, the fake Bot API: their own stop()

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)
        for s in self.servers:
            s.stop()
        self.notify.close()
        self.work.cleanup()

    def credential(self, name, value):
        path = os.path.join(self.creds, name)
        with open(path, "w") as f:
            f.write(value + "\n")
        os.chmod(path, 0o400)

    def env(self, **extra):
        env = dict(self.work.env, NOTIFY_SOCKET=self.notify.path,
                   CREDENTIALS_DIRECTORY=self.creds)
        for k in ("TELEGRAM_BOT_TOKEN", "WATCHDOG_USEC", "WATCHDOG_PID"):
            env.pop(k, None)
        env.update(extra)
        return env

    def start(self, argv, env, name):
        logf = open(self.work.file(name + ".log"), "w")
        p = subprocess.Popen(argv, env=env, stdout=logf, stderr=logf, stdin=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    def log(self, name):
        with open(self.work.file(name + ".log")) as f:
            return f.read()

    def stop(self, p, name):
        p.send_signal(signal.SIGTERM)
        rc = p.wait(30)
        self.assertEqual(rc, 0, "exit status after SIGTERM; log:\n" + self.log(name))
        stopping = self.notify.with_key("STOPPING", "1")
        self.assertEqual(len(stopping), 1, "one STOPPING=1 after SIGTERM")

    def test_bot_ready_after_sign_in_watchdog_stopping(self):
        fake = FakeTelegram(self.work, TOKEN)
        self.servers.append(fake)
        # getMe is held back: a READY=1 before Telegram answered would be a lie.
        fake.call("POST", "/control/faults",
                  {"faults": [{"method": "getMe", "fault": "delay", "ms": 1500}]})
        self.credential("telegram-token", TOKEN)
        ini = self.work.file("bot.ini", "[chat]\ndrivers = telegram\n[telegram]\napi_url = %s\n"
                             "poll_timeout = 1\n" % fake.url)
        watchdog_usec = 2000000
        bot = self.start([BOT, "--config", ini], self.env(WATCHDOG_USEC=str(watchdog_usec)),
                         "bot")
        wait_for(lambda: self.notify.with_key("READY") or bot.poll() is not None, 30,
                 "READY=1 from the bot")
        self.assertIsNone(bot.poll(), "the bot exited:\n" + self.log("bot"))
        self.assertTrue(fake.getme_answered(),
                        "READY=1 came before Telegram accepted the token (getMe)")
        ready = self.notify.with_key("READY", "1")
        self.assertIn("telegram", ready[0][1].get("STATUS", ""))
        # The watchdog: listen for several periods, then look at the gaps.
        wait_for(lambda: len(self.notify.with_key("WATCHDOG", "1")) >= 5 or
                 bot.poll() is not None, 30, "five WATCHDOG=1")
        pings = [t for t, _ in self.notify.with_key("WATCHDOG", "1")]
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        self.assertLess(max(gaps), watchdog_usec / 1e6,
                        "a WATCHDOG=1 gap longer than WatchdogSec: systemd would kill it")
        self.assertEqual(len(ready), 1, "READY=1 is sent once")
        wait_for(lambda: [m for _, m in self.notify.with_key("STATUS")
                          if m["STATUS"] == "telegram: serving; 0 pending"], 20,
                 "the status line with the pending deliveries")
        self.stop(bot, "bot")
        self.assertNotIn(TOKEN, self.log("bot"), "the token reached the log")

    def test_bot_reload_takes_a_new_token(self):
        old, new = TOKEN, "777002:ROTATED-token_def"
        fake = FakeTelegram(self.work, old)
        port = int(fake.url.rsplit(":", 1)[1])
        token_file = self.work.file("token", old + "\n")
        ini = self.work.file("bot.ini", "[chat]\ndrivers = telegram\n[telegram]\napi_url = %s\n"
                             "token_file = %s\npoll_timeout = 1\n" % (fake.url, token_file))
        bot = self.start([BOT, "--config", ini], self.env(), "bot")
        wait_for(lambda: self.notify.with_key("READY") or bot.poll() is not None, 30, "READY=1")
        # The token is revoked: the Bot API now knows only the new one.
        fake.stop()
        fake = FakeTelegram(self.work, new, port=port)
        self.servers.append(fake)
        wait_for(lambda: [e for e in fake.log("getUpdates") if e.get("status") == 401], 30,
                 "getUpdates refused with 401")
        with open(token_file, "w") as f:
            f.write(new + "\n")
        bot.send_signal(signal.SIGHUP)
        # Without the reload the bot would wait out a minute (48 s at least) and fail again.
        wait_for(lambda: fake.getme_answered() or bot.poll() is not None, 30,
                 "getMe with the new token")
        fake.call("POST", "/control/updates", {"updates": [{"text": "/help", "user_id": 4242}]})
        sent = wait_for(lambda: fake.call("GET", "/control/sent?chat_id=4242")["sent"], 30,
                        "the bot to answer with the new token")
        self.assertIn("/tasks", sent[0]["plain"])
        self.assertEqual(len(self.notify.with_key("RELOADING", "1")), 1)
        self.assertGreaterEqual(len(self.notify.with_key("READY", "1")), 2,
                                "READY=1 after the reload")
        self.stop(bot, "bot")
        log = self.log("bot")
        self.assertNotIn(old, log)
        self.assertNotIn(new, log)

    def test_bot_without_credential_says_which(self):
        ini = self.work.file("bot.ini", "[chat]\ndrivers = telegram\n")
        r = subprocess.run([BOT, "--config", ini, "-n"], env=self.env(), capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("telegram-token", r.stderr)
        self.credential("telegram-token", TOKEN)
        r = subprocess.run([BOT, "--config", ini, "-n"], env=self.env(), capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("configuration OK", r.stdout)

    def test_bridge_password_from_credential(self):
        broker = Broker(self.work, users={"bridge": MQTT_PASSWORD}).start()
        self.servers.append(broker)
        self.credential("mqtt-password", MQTT_PASSWORD)
        ini = self.work.file("bridge.ini", "[mqtt]\nhost = 127.0.0.1\nport = %d\n"
                             "username = bridge\nkeepalive = 5\n" % broker.port)
        bridge = self.start([bridgetest.BRIDGE, "--config", ini], self.env(), "bridge")
        wait_for(lambda: self.notify.with_key("READY") or bridge.poll() is not None, 30,
                 "READY=1 from the bridge")
        self.assertIsNone(bridge.poll(), "the bridge exited:\n" + self.log("bridge"))
        status = self.notify.with_key("READY", "1")[0][1].get("STATUS", "")
        self.assertIn("broker connected", status, "the broker refused the credential's "
                      "password? log:\n" + self.log("bridge"))
        self.assertEqual(self.notify.with_key("WATCHDOG"), [],
                         "WATCHDOG=1 without WatchdogSec")
        self.stop(bridge, "bridge")
        self.assertNotIn(MQTT_PASSWORD, self.log("bridge"))

    def test_bridge_ready_while_broker_down(self):
        port = bridgetest.free_port()   # nobody listens there
        ini = self.work.file("bridge.ini", "[mqtt]\nhost = 127.0.0.1\nport = %d\n" % port)
        bridge = self.start([bridgetest.BRIDGE, "--config", ini], self.env(), "bridge")
        wait_for(lambda: self.notify.with_key("READY") or bridge.poll() is not None, 30,
                 "READY=1 from the bridge")
        status = self.notify.with_key("READY", "1")[0][1].get("STATUS", "")
        self.assertIn("retrying", status)
        self.stop(bridge, "bridge")

    def test_journal_priorities(self):
        port = bridgetest.free_port()   # nobody listens there: a warning
        ini = self.work.file("bridge.ini", "[mqtt]\nhost = 127.0.0.1\nport = %d\n" % port)
        for name, matches in (("journal", True), ("other", False)):
            path = self.work.file(name + ".log", "")
            st = os.stat(path)
            stream = "%d:%d" % (st.st_dev, st.st_ino if matches else st.st_ino + 1)
            logf = open(path, "w")
            p = subprocess.Popen([bridgetest.BRIDGE, "--config", ini],
                                 env=self.env(JOURNAL_STREAM=stream), stdout=logf, stderr=logf)
            self.procs.append(p)
            wait_for(lambda: "cannot connect" in self.log(name) or p.poll() is not None, 30,
                     "a connection warning")
            p.send_signal(signal.SIGTERM)
            p.wait(30)
            logf.close()
            lines = self.log(name).splitlines()
            info = [l for l in lines if "INFO bridge: started" in l]
            warn = [l for l in lines if "WARN mqtt: cannot connect" in l]
            self.assertTrue(info and warn, "\n".join(lines))
            if matches:
                self.assertTrue(info[0].startswith("<6>INFO "), info[0])
                self.assertTrue(warn[0].startswith("<4>WARN "), warn[0])
                self.assertTrue(all(l.startswith("<") for l in lines), "\n".join(lines))
            else:
                self.assertTrue(all(not l.startswith("<") for l in lines), "\n".join(lines))


if __name__ == "__main__":
    unittest.main(verbosity=2)
