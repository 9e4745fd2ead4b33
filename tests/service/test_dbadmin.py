#!/usr/bin/python3
"""campaignctl backup, restore, check and doctor as an admin uses them, on a
real database with real daemons, a real mosquitto and the fake Bot API:

- backups taken during a burst of reports are each the database at one
  instant (every report has its event, every current state its latest
  report, the reports a prefix of the source's), mode 0600; the last equals
  the source;
- restore refuses a corrupt file and a truncated one, refuses while
  campaign-bridge or campaign-bot holds the database, and otherwise replaces
  it, keeping the old one as <db>.before-restore;
- check reports the outbox; doctor passes on a good setup and names each
  failure: a wrong broker password, a revoked bot token, an unreadable
  database, a database others may read. No secret reaches the output.
"""
import os
import signal
import sqlite3
import stat
import subprocess
import threading
import time
import unittest

import bridgetest
from bridgetest import Broker, Workdir, wait_for
from test_notify import FakeTelegram

BOT = os.environ.get("BOT_BIN", "campaign-bot")
TOKEN = "555002:GOOD-token_xyz"
OLD_TOKEN = "555002:REVOKED-token_abc"
PASSWORD = "broker-pw-42"
PAIRS = [("2.4", "市扶贫办"), ("2.4", "市工商联"), ("2.1", "市委宣传部")]


def rows(db, sql):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


class DbAdminTest(unittest.TestCase):
    def setUp(self):
        self.work = Workdir(self.id().split(".")[-1])
        self.work.load_plan()
        self.procs = []
        self.servers = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)
        for s in self.servers:
            s.stop()
        self.work.cleanup()

    def ctl(self, *args, env=None):
        return subprocess.run([bridgetest.CTL, *args], env=env or self.work.env,
                              capture_output=True, text=True, timeout=120)

    def report_count(self, db):
        return rows(db, "SELECT count(*) FROM reports")[0][0]

    def assert_one_instant(self, path):
        mode = stat.S_IMODE(os.stat(path).st_mode)
        self.assertEqual(mode, 0o600, "%s has mode %o" % (path, mode))
        self.assertEqual(rows(path, "PRAGMA integrity_check"), [("ok",)])
        reports = self.report_count(path)
        events = rows(path, "SELECT count(*) FROM events WHERE type = 'progress'")[0][0]
        self.assertEqual(reports, events, "a report without its event (or the reverse)")
        stale = rows(path, "SELECT s.task_id, s.unit_id FROM task_state s WHERE s.report_id "
                     "<> (SELECT max(id) FROM reports r WHERE r.task_id = s.task_id AND "
                     "r.unit_id = s.unit_id)")
        self.assertEqual(stale, [], "a current state older than its latest report")
        return reports

    def test_backup_during_burst(self):
        n = 60
        done = threading.Event()
        errors = []

        def burst():
            for i in range(n):
                task, unit = PAIRS[i % len(PAIRS)]
                r = self.ctl("report", task, unit, str(i % 100), "--note", "burst %d" % i)
                if r.returncode != 0:
                    errors.append(r.stderr)
            done.set()

        writer = threading.Thread(target=burst)
        writer.start()
        wait_for(lambda: self.report_count(self.work.db) >= 3, 60, "the first reports")
        backups = []
        while not done.is_set() or len(backups) < 2:
            path = self.work.file("backup-%d.db" % len(backups))
            r = self.ctl("backup", path)
            self.assertEqual(r.returncode, 0, r.stderr)
            backups.append(path)
            if done.is_set() and len(backups) >= 2:
                break
        writer.join(120)
        self.assertEqual(errors, [])
        final = self.work.file("final.db")
        self.assertEqual(self.ctl("backup", final).returncode, 0)
        source = rows(self.work.db, "SELECT id, task_id, unit_id, percent, note FROM reports "
                      "ORDER BY id")
        self.assertEqual(len(source), n)
        for path in backups + [final]:
            count = self.assert_one_instant(path)
            copied = rows(path, "SELECT id, task_id, unit_id, percent, note FROM reports "
                          "ORDER BY id")
            self.assertEqual(copied, source[:count], "%s is not a prefix of the source" % path)
        self.assertEqual(self.report_count(final), n)
        # An existing file is never overwritten.
        r = self.ctl("backup", final)
        self.assertEqual(r.returncode, 1)
        self.assertIn("exists", r.stderr)

    def test_restore_refuses_then_restores(self):
        self.assertEqual(self.ctl("report", "2.4", "市扶贫办", "30").returncode, 0)
        backup = self.work.file("good.db")
        self.assertEqual(self.ctl("backup", backup).returncode, 0)
        self.assertEqual(self.ctl("report", "2.4", "市扶贫办", "70").returncode, 0)
        self.assertEqual(self.report_count(self.work.db), 2)

        garbage = self.work.file("garbage.db")
        with open(garbage, "wb") as f:
            f.write(os.urandom(8192))
        truncated = self.work.file("truncated.db")
        with open(backup, "rb") as src, open(truncated, "wb") as dst:
            dst.write(src.read()[:6000])
        for bad in (garbage, truncated):
            r = self.ctl("restore", bad)
            self.assertEqual(r.returncode, 1, r.stdout)
            self.assertIn("not restoring", r.stderr)
        self.assertEqual(self.report_count(self.work.db), 2, "a refused restore changed the db")

        # A running bridge (retrying an absent broker) holds the database.
        ini = self.work.file("bridge.ini", "[mqtt]\nport = %d\n" % bridgetest.free_port())
        bridge = subprocess.Popen([bridgetest.BRIDGE, "--config", ini], env=self.work.env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(bridge)
        wait_for(lambda: os.path.exists(self.work.db + ".bridge.lock"), 20, "the bridge's lock")
        time.sleep(0.2)
        r = self.ctl("restore", backup)
        self.assertEqual(r.returncode, 1)
        self.assertIn("campaign-bridge", r.stderr)
        bridge.send_signal(signal.SIGTERM)
        bridge.wait(30)

        # So does a bot (the console driver, its stdin kept open).
        bot = subprocess.Popen([BOT, "--console"], env=self.work.env, stdin=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(bot)
        wait_for(lambda: os.path.exists(self.work.db + ".bot-console.lock"), 20,
                 "the bot's presence lock")
        time.sleep(0.2)
        r = self.ctl("restore", backup)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not restoring while a daemon", r.stderr)
        bot.stdin.close()
        bot.wait(30)

        r = self.ctl("restore", backup)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.report_count(self.work.db), 1, "the backup's content")
        kept = self.work.db + ".before-restore"
        self.assertEqual(self.report_count(kept), 2, "the old database, kept beside")
        self.assertEqual(stat.S_IMODE(os.stat(kept).st_mode), 0o600)
        r = self.ctl("check")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("integrity: ok", r.stdout)
        self.assertIn("events: 1 pending", r.stdout)

    def doctor(self, ini, env=None):
        r = self.ctl("doctor", "--config", ini, env=env)
        for secret in (TOKEN, OLD_TOKEN, PASSWORD):
            self.assertNotIn(secret, r.stdout + r.stderr, "a secret in doctor's output")
        lines = {l.split(":")[0]: l for l in r.stdout.splitlines()}
        return r.returncode, lines, r.stdout

    def test_doctor_names_each_failure(self):
        broker = Broker(self.work, users={"bridge": PASSWORD}).start()
        self.servers.append(broker)
        fake = FakeTelegram(self.work, TOKEN)
        self.servers.append(fake)
        token = self.work.file("token", TOKEN + "\n")
        pw = self.work.file("mqtt.pw", PASSWORD + "\n")
        base = ("[store]\ndb = %s\n[chat]\ndrivers = telegram\n[telegram]\napi_url = %s\ntoken_file = %s\n"
                "[mqtt]\nport = %d\nusername = bridge\n" % (self.work.db, fake.url, token,
                                                          broker.port))
        env = dict(self.work.env)
        env.pop("CAMPAIGN_DB")          # the config names the database
        env.pop("TELEGRAM_BOT_TOKEN", None)
        os.chmod(self.work.db, 0o600)
        good = self.work.file("good.ini", base + "password_file = %s\n" % pw)
        rc, lines, out = self.doctor(good, env)
        self.assertEqual(rc, 0, out)
        self.assertTrue(lines["OK   broker 127.0.0.1"].endswith("connected as bridge"), out)
        self.assertIn("signs in as @", lines["OK   telegram"])

        wrong = self.work.file("wrong.pw", "not-the-password\n")
        rc, lines, out = self.doctor(self.work.file("wrong.ini", base + "password_file = %s\n"
                                                    % wrong), env)
        self.assertEqual(rc, 1)
        self.assertIn("FAIL broker 127.0.0.1", lines, out)
        self.assertIn("password", lines["FAIL broker 127.0.0.1"])

        with open(token, "w") as f:
            f.write(OLD_TOKEN + "\n")
        rc, lines, out = self.doctor(good, env)
        self.assertEqual(rc, 1)
        self.assertIn("refused", lines["FAIL telegram"], out)
        self.assertIn("@BotFather", lines["FAIL telegram"])
        with open(token, "w") as f:
            f.write(TOKEN + "\n")

        os.chmod(self.work.db, 0o644)
        rc, lines, out = self.doctor(good, env)
        self.assertEqual(rc, 1)
        self.assertIn("chmod 600", lines["FAIL database"], out)
        os.chmod(self.work.db, 0o600)

        junk = self.work.file("junk.db")
        with open(junk, "wb") as f:
            f.write(b"this is not a database\n" * 400)
        os.chmod(junk, 0o600)
        rc, lines, out = self.doctor(self.work.file(
            "junk.ini", base.replace(self.work.db, junk) + "password_file = %s\n" % pw), env)
        self.assertEqual(rc, 1)
        self.assertIn("restore a backup", lines["FAIL database"], out)
        self.assertIn("OK   broker 127.0.0.1", lines, "the other checks still run")


if __name__ == "__main__":
    unittest.main(verbosity=2)
