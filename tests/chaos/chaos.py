#!/usr/bin/python3
"""Chaos soak: campaign-bot on the fake Telegram (tests/fake), campaign-bridge
on a real mosquitto with persistence, a persistent QoS 1 subscriber; a
steady stream of reports from many users and a broadcast every few seconds,
while the bot, the bridge and the broker are killed with SIGKILL at random
moments (--kills each) and the database's disk fills up once (a small tmpfs;
skipped with a message where mounting is not allowed).

Then, once everything has settled:
  - every report the bot confirmed is recorded exactly once, and its progress
    event reached the subscriber (by id; none missing);
  - every event of the outbox reached the subscriber;
  - every broadcast reached every target chat exactly once (a repeat only for
    a send in flight at a bot kill: at most one per kill);
  - no 429 was provoked (the fake enforces Telegram's limits) and no early retry;
  - PRAGMA integrity_check is ok.
The counts are printed. Short form (scripts/test): --kills 5 --duration 30.
Long form, by hand: --kills 20 --duration 240.
"""

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bridge"))

TOKEN = "777001:CHAOS-token_secret-half"
NOW = "2027-10-08T09:00:00+08:00"
PREFIX = "campaign/fupinri"


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise Failure("timed out after %.0f s waiting for %s" % (timeout, what))


class Fake:
    def __init__(self, args, tmp):
        self.port_file = os.path.join(tmp, "fake.port")
        self.logf = open(os.path.join(tmp, "fake.log"), "w")
        self.proc = subprocess.Popen(
            [sys.executable, args.fake, "--port-file", self.port_file, "--token", TOKEN,
             "--flood", "enforce", "--max-lifetime", str(args.duration + 200),
             "--log-limit", "500000"], stdout=self.logf, stderr=self.logf)
        wait_until(lambda: os.path.exists(self.port_file), 10, "the fake Bot API")
        self.url = "http://127.0.0.1:%d" % int(open(self.port_file).read())

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())

    def updates(self, *ups):
        return self.call("POST", "/control/updates", {"updates": list(ups)})["update_ids"]

    def sent(self):
        return self.call("GET", "/control/sent")["sent"]

    def state(self):
        return self.call("GET", "/control/state")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Chaos:
    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="chaos-")
        self.dbdir = os.path.join(self.tmp, "db")
        os.mkdir(self.dbdir)
        self.mounted = False
        if not args.no_disk_full:
            r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", self.dbdir],
                               capture_output=True)
            self.mounted = r.returncode == 0
            if not self.mounted:
                print("chaos: full disk skipped: cannot mount a tmpfs here (%s)" %
                      r.stderr.decode().strip(), file=sys.stderr)
        self.db = os.path.join(self.dbdir, "campaign.db")
        self.env = dict(os.environ, CAMPAIGN_DB=self.db, CAMPAIGN_NOW=NOW,
                        TELEGRAM_BOT_TOKEN=TOKEN)
        self.bot = None
        self.bot_runs = 0
        self.bridge_proc = None
        self.bridge_runs = 0
        self.kills = {"bot": 0, "bridge": 0, "broker": 0}
        self.disk_full = 0
        self.disk_refusals = []
        self.posted = []            # (update_id, user, note)
        self.broadcasts = []        # texts
        self.errors = []

    # ---- the parts
    def ctl(self, *argv, ok=True):
        r = subprocess.run([self.args.ctl] + list(argv), env=self.env, capture_output=True,
                           timeout=60)
        if ok and r.returncode != 0:
            raise Failure("campaignctl %s: %s" % (" ".join(argv), r.stderr.decode()))
        return r

    def sql(self, q, *params):
        db = sqlite3.connect(self.db, timeout=30)
        try:
            return db.execute(q, params).fetchall()
        finally:
            db.close()

    def start_bot(self):
        self.bot_runs += 1
        cfg = os.path.join(self.tmp, "bot.ini")
        with open(cfg, "w") as f:
            f.write("[chat]\ndrivers = telegram\n[telegram]\napi_url = %s\npoll_timeout = 1\n"
                    "[log]\nlevel = info\n" % self.fake.url)
        log = open(os.path.join(self.tmp, "bot.%d.log" % self.bot_runs), "w")
        self.bot = subprocess.Popen([self.args.bot, "--config", cfg], env=self.env,
                                    stdout=log, stderr=log)

    def start_bridge(self):
        self.bridge_runs += 1
        cfg = os.path.join(self.tmp, "bridge.ini")
        with open(cfg, "w") as f:
            f.write("[mqtt]\nhost = 127.0.0.1\nport = %d\nkeepalive = 5\n" % self.broker.port)
        log = open(os.path.join(self.tmp, "bridge.%d.log" % self.bridge_runs), "w")
        self.bridge_proc = subprocess.Popen([self.args.bridge, "-c", cfg, "--db", self.db],
                                            env=self.env, stdout=log, stderr=log)

    def kill(self, what):
        if what == "bot":
            self.bot.send_signal(signal.SIGKILL)
            self.bot.wait()
            time.sleep(random.uniform(0.1, 0.8))
            self.start_bot()
        elif what == "bridge":
            self.bridge_proc.send_signal(signal.SIGKILL)
            self.bridge_proc.wait()
            time.sleep(random.uniform(0.1, 0.8))
            self.start_bridge()
        else:
            self.broker.stop(signal.SIGKILL)
            time.sleep(random.uniform(0.1, 0.8))
            self.broker.start()
        self.kills[what] += 1

    def fill_disk(self, seconds):
        filler = os.path.join(self.dbdir, "filler")
        # An emptied WAL has to grow for the next commit: then a full disk bites.
        try:
            self.sql("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            pass
        try:
            with open(filler, "wb", buffering=0) as f:
                while True:
                    f.write(b"\0" * 65536)
        except OSError:
            pass        # ENOSPC: full
        # A long broadcast needs new pages: on a full disk it must be refused whole.
        text = "满盘#%d# " % self.disk_full + "满" * 3000
        r = self.ctl("broadcast", text, ok=False)
        if r.returncode == 0:
            self.broadcasts.append(text)
        else:
            self.disk_refusals.append(r.stderr.decode(errors="replace").strip()[:300])
        time.sleep(seconds)
        os.unlink(filler)
        self.disk_full += 1
        # What was sent but not recorded meanwhile gets recorded (within a second or two)
        # before the next kill, which may repeat only what is in flight.
        time.sleep(2.5)

    # ---- setup
    def setup(self):
        from bridgetest import Broker, Subscriber
        self.ctl("plan", "load", self.args.plan)
        pairs = self.sql("SELECT tu.task_id, u.id FROM task_units tu JOIN units u "
                         "ON u.id = tu.unit_id ORDER BY tu.task_id, tu.seq")
        self.users = []
        db = sqlite3.connect(self.db, timeout=30)
        with db:
            for i in range(self.args.users):
                task, unit = pairs[i % len(pairs)]
                uid = 5000 + i
                db.execute("INSERT INTO users(platform, user_id, unit_id, bound_at) "
                           "VALUES('telegram', ?, ?, 0)", (str(uid), unit))
                db.execute("INSERT INTO chats(platform, chat_id, kind, active, subscribed, "
                           "created_at, user_id, updated_at) VALUES('telegram', ?, 'private', "
                           "1, 0, 0, ?, 0)", (str(uid), str(uid)))
                self.users.append((uid, task))
        db.close()
        self.fake = Fake(self.args, self.tmp)

        class W:
            pass
        self.work = W()
        self.work.path = self.tmp
        self.work.file = lambda name, text=None, mode=0o600: self._file(name, text, mode)
        self.broker = Broker(self.work, persistence=True).start()
        self.sub = Subscriber(self.broker, topic=PREFIX + "/events",
                              client_id="chaos-subscriber", persistent=True)
        self.sub.client.reconnect_delay_set(1, 2)
        self.start_bridge()
        self.start_bot()

    def _file(self, name, text, mode):
        p = os.path.join(self.tmp, name)
        if text is not None:
            with open(p, "w") as f:
                f.write(text)
            os.chmod(p, mode)
        return p

    # ---- the load
    def reporter(self, stop):
        n = 0
        while not stop.is_set():
            uid, task = random.choice(self.users)
            n += 1
            note = "c%d" % n
            try:
                [update_id] = self.fake.updates(
                    {"text": "/report %s %d %s" % (task, random.randint(1, 99), note),
                     "user_id": uid, "first_name": "U%d" % uid})
                self.posted.append((update_id, uid, note))
            except Exception as e:  # the fake is up the whole time: a real error
                self.errors.append("posting an update: %s" % e)
            time.sleep(self.args.report_every)

    def broadcaster(self, stop):
        n = 0
        while not stop.wait(self.args.broadcast_every):
            n += 1
            text = "通知#%d# 请各单位按时汇报" % n
            r = self.ctl("broadcast", text, ok=False)
            if r.returncode == 0:
                self.broadcasts.append(text)
            else:
                # Refused (the disk was full): the admin sees it and nothing was queued.
                print("chaos: broadcast %d refused: %s" % (
                    n, r.stderr.decode().strip()[:200]), file=sys.stderr)

    def run(self):
        self.setup()
        stop = threading.Event()
        threads = [threading.Thread(target=self.reporter, args=(stop,)),
                   threading.Thread(target=self.broadcaster, args=(stop,))]
        for t in threads:
            t.start()
        plan = ["bot", "bridge", "broker"] * self.args.kills
        random.shuffle(plan)
        slot = self.args.duration / (len(plan) + 2)
        disk_at = random.randint(1, len(plan) - 1) if self.mounted else -1
        start = time.monotonic()
        try:
            for i, what in enumerate(plan):
                time.sleep(max(0.0, start + (i + 1) * slot + random.uniform(-slot / 3, slot / 3)
                                - time.monotonic()))
                if i == disk_at:
                    self.fill_disk(min(3.0, slot))
                self.kill(what)
                for name, p in (("bot", self.bot), ("bridge", self.bridge_proc)):
                    if p.poll() is not None:
                        self.errors.append("the %s exited by itself (status %s)" % (
                            name, p.returncode))
                        (self.start_bot if name == "bot" else self.start_bridge)()
            time.sleep(max(0.0, start + self.args.duration - time.monotonic()))
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.settle()
        return self.verify()

    def settle(self):
        last = self.posted[-1][0] if self.posted else 0
        timeout = self.args.settle

        def done():
            st = self.fake.state()
            if st["confirmed_offset"] <= last:
                return False
            pending = self.sql("SELECT count(*) FROM deliveries WHERE state = 0")[0][0]
            unpub = self.sql("SELECT count(*) FROM events WHERE state = 0")[0][0]
            ids = {r[0] for r in self.sql("SELECT id FROM events")}
            return pending == 0 and unpub == 0 and ids <= set(self.sub.ids(PREFIX + "/events"))
        wait_until(done, timeout, "the bot, the bridge and the subscriber to catch up")

    def verify(self):
        sent = self.fake.sent()
        confirmed = {}
        for s in sent:
            if "已记录" in s["plain"]:
                for word in s["plain"].replace("(", " ").replace(")", " ").split():
                    if word.startswith("c") and word[1:].isdigit():
                        confirmed.setdefault(word, 0)
                        confirmed[word] += 1
        recorded = dict(self.sql("SELECT note, count(*) FROM reports GROUP BY note"))
        notes_events = {}
        for m in self.sub.snapshot(PREFIX + "/events"):
            p = m.json()
            if p.get("type") == "progress":
                notes_events.setdefault(p.get("note"), set()).add(p["id"])
        twice = [n for n in confirmed if recorded.get(n, 0) != 1]
        missing = [n for n in confirmed if n not in notes_events]
        event_ids = {r[0] for r in self.sql("SELECT id FROM events")}
        got_ids = set(self.sub.ids(PREFIX + "/events"))
        # Broadcasts: per chat, each text once; repeats only for sends in flight at a kill.
        targets = {str(u) for u, _ in self.users}
        per_chat = {}
        for s in sent:
            for text in self.broadcasts:
                if text.split()[0] in s["plain"]:   # the tag: 通知#N# or 满盘#N#
                    key = (str(s["chat_id"]), text)
                    per_chat[key] = per_chat.get(key, 0) + 1
        lost = [(c, t) for c in targets for t in self.broadcasts if per_chat.get((c, t), 0) == 0]
        repeats = sum(n - 1 for n in per_chat.values() if n > 1)
        st = self.fake.state()
        v = st["violations"]
        flood = sum(v["flood"].values())
        integrity = self.sql("PRAGMA integrity_check")[0][0]
        full_errors = 0
        for name in os.listdir(self.tmp):
            if name.endswith(".log") and name.startswith(("bot.", "bridge.")):
                with open(os.path.join(self.tmp, name), errors="replace") as f:
                    full_errors += f.read().count("disk is full")
        counts = {
            "kills": self.kills, "disk_full": self.disk_full,
            "refused_on_full_disk": len(self.disk_refusals),
            "disk_full_errors_logged": full_errors,
            "reports_posted": len(self.posted), "reports_confirmed": len(confirmed),
            "reports_recorded": sum(recorded.values()),
            "progress_events_received": len(notes_events),
            "events": len(event_ids), "events_received": len(event_ids & got_ids),
            "event_messages_received": len(self.sub.ids(PREFIX + "/events")),
            "broadcasts": len(self.broadcasts), "broadcast_chats": len(targets),
            "broadcast_deliveries": sum(per_chat.values()), "broadcast_repeats": repeats,
            "flood_violations": flood, "early_retries": v["early_retry"],
            "integrity_check": integrity,
        }
        print("chaos: " + json.dumps(counts, ensure_ascii=False))
        if flood or v["early_retry"]:
            with open(os.path.join(self.tmp, "violations.json"), "w") as f:
                json.dump(self.fake.call("GET", "/control/log?violations=1"), f, indent=1)
        for why in self.disk_refusals:
            print("chaos: refused on the full disk: %s" % why, file=sys.stderr)
        check(not self.errors, "; ".join(self.errors))
        check(not twice, "confirmed reports not recorded exactly once: %r" % twice[:10])
        check(not missing, "confirmed reports whose event never reached the subscriber: %r"
              % missing[:10])
        check(event_ids <= got_ids, "events never received: %r" % sorted(event_ids - got_ids)[:10])
        check(not lost, "broadcasts that never reached a chat: %r" % lost[:10])
        check(repeats <= self.kills["bot"], "%d broadcast repeats for %d bot kills" % (
            repeats, self.kills["bot"]))
        check(flood == 0 and v["early_retry"] == 0, "429s provoked: %r" % v)
        check(integrity == "ok", "integrity_check: %s" % integrity)
        check(len(confirmed) > 0 and len(self.broadcasts) > 0, "nothing happened")
        return 0

    def close(self, ok):
        for p in (self.bot, self.bridge_proc):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
        for obj in ("sub", "broker", "fake"):
            try:
                o = getattr(self, obj, None)
                if o is not None:
                    (o.close if obj == "sub" else o.stop)()
            except Exception:
                pass
        if self.mounted:
            subprocess.run(["umount", "-l", self.dbdir])
        if ok and not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if not ok or self.args.keep:
            print("chaos: logs kept in %s" % self.tmp, file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bot", required=True)
    ap.add_argument("--ctl", required=True)
    ap.add_argument("--bridge", required=True)
    ap.add_argument("--plan", required=True)
    ap.add_argument("--fake", required=True)
    ap.add_argument("--kills", type=int, default=5, help="kills of each part")
    ap.add_argument("--duration", type=float, default=30, help="seconds of chaos")
    ap.add_argument("--settle", type=float, default=60, help="seconds to catch up after")
    ap.add_argument("--users", type=int, default=16)
    ap.add_argument("--report-every", type=float, default=0.25)
    ap.add_argument("--broadcast-every", type=float, default=4)
    ap.add_argument("--no-disk-full", action="store_true")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--keep", action="store_true", help="keep the logs")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    random.seed(seed)
    print("chaos: seed %d" % seed, file=sys.stderr)
    os.environ.setdefault("CAMPAIGN_BRIDGE_BIN", args.bridge)
    c = Chaos(args)
    ok = False
    try:
        rc = c.run()
        ok = rc == 0
    except Failure as e:
        print("FAIL chaos: %s" % e)
        rc = 1
    finally:
        c.close(ok)
    return rc


if __name__ == "__main__":
    sys.exit(main())
