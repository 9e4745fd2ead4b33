#!/usr/bin/python3
"""Bot benchmark: campaign-bot next to a python-telegram-bot 13 peer (ptb_bot.py),
each against its own fake server on loopback (tests/fake/) with the seed plan
loaded. It prints figures and asserts nothing.

Phases (--phase, repeatable; default all of them):
  burst     per bot, a mix of questions from distinct users, flood control off:
            throughput  N updates posted at once: updates handled per second (until
                        the fake saw every update confirmed), replies per second (until
                        all replies were sent), CPU seconds (user+system, all threads)
                        per 1,000 messages;
            latency     M updates, one every 10 ms: time from posting an update to the
                        fake receiving its reply, p50 and p99;
            memory      peak RSS (VmHWM) and Private_Dirty (/proc/PID/smaps_rollup).
  lawful    a lawful load, per driver: L messages `/task 2.4` from 100 distinct chats
            (three each, the first from a chat the bot has not seen) at R messages/s
            on an even schedule (default 300 at 20/s). One campaign-bot runs both
            drivers (`[chat] drivers = telegram, dingtalk`, default pacing; the fake
            Telegram enforces production flood control): the Telegram load through
            the fake Bot API, then the same load through the fake DingTalk (injected
            with its control API, replies through session webhooks), then the
            Telegram load again with another process committing 0.5 s into it
            (campaignctl admin add: the database watch re-checks); then its RSS
            (VmHWM) and Private_Dirty. The python-telegram-bot 13 peer takes the
            Telegram load in the same run (DingTalk has no peer). CPU per message is
            user+sys from /proc/PID/stat (and on-CPU time from
            /proc/PID/task/*/schedstat, ns) over each load only, from the first post
            to the last reply; latency is post -> the fake receives the reply. Each
            load starts after two quiet seconds.
  syscalls  campaign-bot (both drivers) under `strace -c -f`, attached for the load
            only (S messages per driver from 100 chats at R/s, default the lawful
            load: 300, a third of them first contacts): system calls per
            message, for Telegram, DingTalk, and Telegram with an external commit.
            strace slows the bot, so counts, not times.
  trace     campaign-bot under `strace -f -tt -T -y` for a few messages (default 5 per
            driver, a second apart, from chats the bot already knows): each call
            classified (libcurl's socket checks, the loop's waits and what woke them,
            SQLite's WAL locks and frames), per idle second and per message, and the
            WAL pages each message writes by table or index (SQLite's dbstat). The
            full trace goes to --trace-out.
  profile   campaign-bot (both drivers) under `perf record -g` for the lawful load per
            driver: the share of its CPU by library, in system calls (kernel work
            included) and the top functions; where the user time goes.
"""

import argparse
import codecs
import collections
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "fake"))
from dingtalk_control import FakeDingTalk  # noqa: E402

TOKEN = "555000:BENCH-token"
NOW = "2027-10-08T09:00:00+08:00"
QUESTIONS = ["/tasks 市扶贫办", "/due", "/task 2.4", "/countdown", "百企帮百村进度如何"]


def call(url, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(req, timeout=300) as r:
        return json.loads(r.read())


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory(pid):
    rss = dirty = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                rss = int(line.split()[1])
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Private_Dirty:"):
                dirty = int(line.split()[1])
    return rss / 1024.0, dirty / 1024.0


def run_one(args, name, tmp, start_bot):
    db = os.path.join(tmp, "campaign.db")
    env = dict(os.environ, CAMPAIGN_NOW=NOW, CAMPAIGN_DB=db, TELEGRAM_BOT_TOKEN=TOKEN)
    subprocess.run([args.ctl, "plan", "load", args.plan], env=env, check=True,
                   capture_output=True)
    port_file = os.path.join(tmp, "port")
    fake = subprocess.Popen(["/usr/bin/python3", args.fake, "--port-file", port_file,
                             "--token", TOKEN, "--flood", "off", "--max-lifetime", "900",
                             "--log-limit", "1000"], stderr=subprocess.DEVNULL)
    while not os.path.exists(port_file):
        time.sleep(0.05)
    url = "http://127.0.0.1:%s" % open(port_file).read().strip()
    bot = start_bot(url, db, env, tmp)
    try:
        if not call(url, "/control/wait?polling=1&timeout=30")["ok"]:
            raise SystemExit("%s never polled" % name)
        user = [100000]

        def post(n):
            specs = []
            for _ in range(n):
                user[0] += 1
                specs.append({"text": QUESTIONS[user[0] % len(QUESTIONS)], "user_id": user[0]})
            return call(url, "/control/updates", {"updates": specs})["update_ids"]

        # warm up (first queries, connections, caches)
        post(50)
        call(url, "/control/wait?sent=50&timeout=60")
        # throughput
        cpu0, t0 = cpu_seconds(bot.pid), time.monotonic()
        ids = []
        for _ in range(0, args.n, 500):
            ids += post(min(500, args.n - len(ids)))
        r = call(url, "/control/wait?confirmed=%d&timeout=300" % ids[-1])
        t_in = time.monotonic()
        r = call(url, "/control/wait?sent=%d&timeout=300" % (50 + args.n))
        t_out = time.monotonic()
        cpu1 = cpu_seconds(bot.pid)
        if not r["ok"]:
            raise SystemExit("%s: only %d of %d replies" % (name, r["state"]["sent"],
                                                            50 + args.n))
        # latency: one update every 10 ms
        base = call(url, "/control/sent?since=0")["count"]
        posted = {}
        for _ in range(args.m):
            t = time.monotonic()
            post(1)
            posted[user[0]] = t
            time.sleep(0.01)
        call(url, "/control/wait?sent=%d&timeout=120" % (base + args.m))
        sent = call(url, "/control/sent?since=%d" % base)["sent"]
        lat = sorted((s["time"] - posted[s["chat_id"]]) * 1000 for s in sent
                     if s["chat_id"] in posted)
        rss, dirty = memory(bot.pid)
        return {
            "name": name,
            "updates_per_s": args.n / (t_in - t0),
            "replies_per_s": args.n / (t_out - t0),
            "cpu_per_1000": (cpu1 - cpu0) / args.n * 1000,
            "p50_ms": statistics.median(lat),
            "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
            "rss_mib": rss,
            "dirty_mib": dirty,
        }
    finally:
        bot.send_signal(signal.SIGTERM)
        try:
            bot.wait(20)
        except subprocess.TimeoutExpired:
            bot.kill()
        fake.send_signal(signal.SIGTERM)
        fake.wait(20)


def start_campaign_bot(args):
    def start(url, db, env, tmp):
        cfg = os.path.join(tmp, "bot.ini")
        with open(cfg, "w") as f:
            f.write("[log]\nlevel = warn\n[chat]\ndrivers = telegram\nrate_global = 1000\n"
                    "[telegram]\napi_url = %s\npoll_timeout = 1\n" % url)
        return subprocess.Popen([args.bot, "--config", cfg], env=env)
    return start


def start_ptb(args):
    def start(url, db, env, tmp):
        return subprocess.Popen(["/usr/bin/python3", args.ptb, url, db], env=env,
                                stderr=subprocess.DEVNULL)
    return start


LAWFUL_TEXT = "/task 2.4"
LAWFUL_CHATS = 100


def on_cpu_seconds(pid):
    """Time on CPU of every thread of pid (ns precision, not tick-sampled)."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass     # a thread that just exited
    return total / 1e9


def sys_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[12]) / os.sysconf("SC_CLK_TCK")


def sleeps(pid):
    """Voluntary context switches of every thread: how often it waited and woke."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        total += int(line.split()[1])
        except (OSError, ValueError):
            pass     # a thread that just exited
    return total


def cpu_now(pid):
    return cpu_seconds(pid), on_cpu_seconds(pid), sys_seconds(pid), sleeps(pid)


def percentile(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * q))] if v else float("nan")


def paced(n, rate, send):
    """send(i) for i in 0..n-1 at `rate` a second on an absolute schedule (no
    drift when a call is slow); returns the monotonic time of each call."""
    t0 = time.monotonic()
    times = []
    for i in range(n):
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        times.append(time.monotonic())
        send(i)
    return times


class FakeTelegram:
    """tests/fake/fake_telegram.py on a free loopback port."""

    def __init__(self, args, tmp, flood):
        port_file = os.path.join(tmp, "tg.port")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", args.fake, "--port-file", port_file, "--token", TOKEN,
             "--flood", flood, "--max-lifetime", "1800", "--log-limit", "1000"],
            stderr=subprocess.DEVNULL)
        while not os.path.exists(port_file):
            time.sleep(0.05)
        self.url = "http://127.0.0.1:%s" % open(port_file).read().strip()

    def call(self, path, body=None):
        return call(self.url, path, body)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(20)


def prepare(args, tmp):
    db = os.path.join(tmp, "campaign.db")
    env = dict(os.environ, CAMPAIGN_NOW=NOW, CAMPAIGN_DB=db, TELEGRAM_BOT_TOKEN=TOKEN)
    subprocess.run([args.ctl, "plan", "load", args.plan], env=env, check=True,
                   capture_output=True)
    return db, env


def stop_proc(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def telegram_load(tg, pid, n, rate, first_user):
    """n `/task 2.4` from LAWFUL_CHATS chats at `rate`/s; CPU and latency."""
    base = tg.call("/control/sent?since=0")["count"]
    chats = [first_user + i for i in range(LAWFUL_CHATS)]

    def send(i):
        tg.call("/control/updates", {"updates": [{"text": LAWFUL_TEXT,
                                                  "user_id": chats[i % len(chats)]}]})
    cpu0 = cpu_now(pid)
    times = paced(n, rate, send)
    ok = tg.call("/control/wait?sent=%d&timeout=120" % (base + n))["ok"]
    cpu1 = cpu_now(pid)
    sent = tg.call("/control/sent?since=%d" % base)["sent"]
    posted, replies = collections.defaultdict(list), collections.defaultdict(list)
    for i, t in enumerate(times):
        posted[chats[i % len(chats)]].append(t)
    for s in sent:      # a chat's k-th reply answers its k-th message
        replies[s["chat_id"]].append(s["time"])
    lat = [(r - p) * 1000 for c, ps in posted.items() for p, r in zip(ps, replies[c])]
    state = tg.call("/control/state")
    last = max((s["time"] for s in sent), default=times[-1])
    return {"ok": ok, "replies": len(lat), "n": n, "span_s": last - times[0],
            "load_s": times[-1] - times[0],
            "cpu_ms": (cpu1[0] - cpu0[0]) / n * 1000,
            "oncpu_ms": (cpu1[1] - cpu0[1]) / n * 1000,
            "sys_ms": (cpu1[2] - cpu0[2]) / n * 1000,
            "sleeps": (cpu1[3] - cpu0[3]) / n,
            "p50_ms": percentile(lat, 0.5), "p99_ms": percentile(lat, 0.99),
            "violations": state.get("violations")}


def dingtalk_load(dt, pid, n, rate, prefix):
    """The same load through the fake DingTalk; replies via session webhooks."""
    base = len(dt.sent())
    ids = []

    def send(i):
        ids.append(dt.message(staff_id="%s%03d" % (prefix, i % LAWFUL_CHATS),
                              text=LAWFUL_TEXT)["msgId"])
    cpu0 = cpu_now(pid)
    times = paced(n, rate, send)
    try:
        dt.wait(sent=base + n, timeout=120)
        ok = True
    except Exception:   # noqa: BLE001 - reported as missing replies
        ok = False
    cpu1 = cpu_now(pid)
    posted = dict(zip(ids, times))
    sent = dt.sent(since=base)
    lat = [(s["time"] - posted[s["replyTo"]]) * 1000 for s in sent
           if s.get("replyTo") in posted]
    last = max((s["time"] for s in sent), default=times[-1])
    return {"ok": ok, "replies": len(lat), "n": n, "span_s": last - times[0],
            "load_s": times[-1] - times[0],
            "cpu_ms": (cpu1[0] - cpu0[0]) / n * 1000,
            "oncpu_ms": (cpu1[1] - cpu0[1]) / n * 1000,
            "sys_ms": (cpu1[2] - cpu0[2]) / n * 1000,
            "sleeps": (cpu1[3] - cpu0[3]) / n,
            "p50_ms": percentile(lat, 0.5), "p99_ms": percentile(lat, 0.99),
            "violations": dt.state()["violations"]}


class BothDrivers:
    """One campaign-bot with `[chat] drivers = telegram, dingtalk`, each on its
    fake, default pacing, the fake Telegram enforcing flood control."""

    def __init__(self, args, tmp):
        self.tmp = tmp
        db, env = prepare(args, tmp)
        self.tg = FakeTelegram(args, tmp, "enforce")
        self.dt = FakeDingTalk(tmp, max_lifetime=1800)
        os.chmod(self.dt.secret_file, 0o600)    # a secret file others can read is warned about
        cfg = os.path.join(tmp, "bot.ini")
        with open(cfg, "w") as f:
            f.write("[log]\nlevel = warn\n[chat]\ndrivers = telegram, dingtalk\n"
                    "[telegram]\napi_url = %s\n"
                    "[dingtalk]\nclient_id = %s\nclient_secret_file = %s\napi_url = %s\n"
                    % (self.tg.url, self.dt.client_id, self.dt.secret_file, self.dt.url))
        self.ctl, self.env, self.admins = args.ctl, env, 0
        self.bot = subprocess.Popen([args.bot, "--config", cfg], env=env)
        if not self.tg.call("/control/wait?polling=1&timeout=30")["ok"]:
            self.stop()
            raise SystemExit("campaign-bot never polled the fake Telegram")
        self.dt.wait(open_connections=1, timeout=30)
        self.pid = self.bot.pid

    def warm_up(self, args):
        """First queries, connections, caches: 20 messages per driver, then two
        quiet seconds (without them the database watch was found still
        re-checking from start-up, kept there by a steady 20/s: see
        external_commit())."""
        telegram_load(self.tg, self.pid, 20, args.rate, 900000)
        dingtalk_load(self.dt, self.pid, 20, args.rate, "warm")
        self.settle()

    def settle(self):
        time.sleep(2)

    def external_commit(self, after_s=0.5):
        """In after_s seconds (during the load that follows), another process
        commits (an admin added with campaignctl). If the notification wakes the
        loop, the bot's database watch re-checks with growing delays, and under a
        steady load the bot's own commits keep it re-checking."""
        self.admins += 1
        argv = [self.ctl, "admin", "add", "telegram:%d" % (7000 + self.admins)]
        threading.Timer(after_s, subprocess.run, [argv],
                        {"env": self.env, "capture_output": True}).start()

    def stop(self):
        stop_proc(self.bot)
        self.tg.stop()
        self.dt.stop()


def ptb_lawful(args):
    tmp = tempfile.mkdtemp(prefix="bench-bot-")
    try:
        db, env = prepare(args, tmp)
        tg = FakeTelegram(args, tmp, "enforce")
        # the same long-poll timeout as campaign-bot's default (30 s)
        bot = subprocess.Popen(["/usr/bin/python3", args.ptb, tg.url, db, "30"], env=env,
                               stderr=subprocess.DEVNULL)
        try:
            if not tg.call("/control/wait?polling=1&timeout=30")["ok"]:
                raise SystemExit("PTB never polled")
            telegram_load(tg, bot.pid, 20, args.rate, 900000)
            return telegram_load(tg, bot.pid, args.lawful_n, args.rate, 200000)
        finally:
            stop_proc(bot)
            tg.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def phase_lawful(args):
    tmp = tempfile.mkdtemp(prefix="bench-bot-")
    try:
        b = BothDrivers(args, tmp)
        try:
            b.warm_up(args)
            tg = telegram_load(b.tg, b.pid, args.lawful_n, args.rate, 200000)
            b.settle()
            dt = dingtalk_load(b.dt, b.pid, args.lawful_n, args.rate, "staff")
            b.settle()
            b.external_commit()
            tgx = telegram_load(b.tg, b.pid, args.lawful_n, args.rate, 250000)
            rss, dirty = memory(b.pid)
        finally:
            b.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ptb = ptb_lawful(args)

    cols = (tg, ptb, tgx, dt)

    def derived(c, key):
        if key == "lag_s":
            return c["span_s"] - c["load_s"]
        if key == "rate":
            return c["replies"] / max(c["span_s"], 1e-9)
        return c[key]
    print("\nlawful load: %d x \"%s\" from %d chats at %g messages/s per driver, seed plan, "
          "loopback" % (args.lawful_n, LAWFUL_TEXT, LAWFUL_CHATS, args.rate))
    print("one campaign-bot runs both drivers (default pacing; the fake Telegram enforces "
          "flood control); CPU over each load only")
    fmt = "%-30s %13s %13s %13s %13s %7s"
    print(fmt % ("", "Telegram:", "", "", "DingTalk:", ""))
    print(fmt % ("", "campaign-bot", "PTB 13.15", "+ commit*", "campaign-bot", "goal"))
    for label, key, f, goal in (
            ("CPU ms/msg (user+sys, /proc)", "cpu_ms", "%.3f", "<= 0.3"),
            ("  of which sys ms/msg", "sys_ms", "%.3f", ""),
            ("on-CPU ms/msg (schedstat)", "oncpu_ms", "%.3f", ""),
            ("wake-ups/msg (voluntary csw)", "sleeps", "%.1f", ""),
            ("reply latency p50 ms", "p50_ms", "%.1f", ""),
            ("reply latency p99 ms", "p99_ms", "%.1f", ""),
            ("last reply after last post s", "lag_s", "%.2f", ""),
            ("replies per second", "rate", "%.2f", "")):
        print(fmt % ((label,) + tuple(f % derived(c, key) for c in cols) + (goal,)))
    print(fmt % (("replies",) + tuple("%d/%d" % (c["replies"], c["n"]) for c in cols) + ("",)))
    for name, c in (("Telegram", tg), ("PTB", ptb), ("Telegram*", tgx), ("DingTalk", dt)):
        if c["replies"] / max(c["span_s"], 1e-9) < args.rate * 0.99:
            print("%s: replies leave slower than the load arrives, so they queue (pacing): "
                  "the latency grows through the load" % name)
    print("* the same Telegram load, another process committing 0.5 s into it (campaignctl "
          "admin add). If its notification wakes the loop, the bot's database watch starts "
          "re-checking and, at an even 20/s, the bot's own commits keep it there (more "
          "wake-ups per message); whether it starts is a race, so this column varies")
    print("%-30s %13.2f %13s %13s %13s %7s" % ("RSS VmHWM MiB, both drivers", rss, "", "", "",
                                               "< 16"))
    print("%-30s %13.2f" % ("Private_Dirty MiB, both drivers", dirty))
    print("CPU per Telegram message: campaign-bot uses %.1fx less than PTB (goal >= 10x)"
          % (ptb["cpu_ms"] / max(tg["cpu_ms"], 1e-9)))
    print("goals: CPU <= 0.3 ms/msg: Telegram %s, DingTalk %s; RSS < 16 MiB: %s" % (
        "met" if tg["cpu_ms"] <= 0.3 else "MISSED", "met" if dt["cpu_ms"] <= 0.3 else "MISSED",
        "met" if rss < 16 else "MISSED"))
    print("DingTalk has no peer: no third-party DingTalk Stream bot framework runs here "
          "(python-telegram-bot is Telegram only)")
    print("protocol/flood violations seen by the fakes: Telegram %s, DingTalk %d, PTB %s"
          % (json.dumps(tg["violations"]), len(dt["violations"] or []),
             json.dumps(ptb["violations"])))
    print("machine: %d cores, load average %s" % (os.cpu_count(),
                                                  open("/proc/loadavg").read().split()[0]))


def perf_table(data, sort, children=False, limit=12):
    """(percent, name) rows of `perf report --stdio` sorted by `sort`."""
    argv = ["perf", "report", "-i", data, "--stdio", "--sort", sort, "-g", "none",
            "--children" if children else "--no-children"]
    out = subprocess.run(argv, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        fields = line.split()
        if not fields or line.startswith("#") or not fields[0].endswith("%"):
            continue
        if children:    # children%, self%, [.], symbol
            rows.append((float(fields[0][:-1]), " ".join(fields[3:])))
        else:
            rows.append((float(fields[0][:-1]), " ".join(fields[1:])))
    return rows[:limit]


def phase_profile(args):
    tmp = tempfile.mkdtemp(prefix="bench-bot-")
    try:
        b = BothDrivers(args, tmp)
        try:
            b.warm_up(args)
            datas = []
            for name in ("telegram", "dingtalk"):
                data = os.path.join(tmp, name + ".perf")
                p = subprocess.Popen(["perf", "record", "-F", "4999", "-g", "-p", str(b.pid),
                                      "-o", data], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
                time.sleep(0.5)
                if p.poll() is not None:
                    print("\nprofile: perf record failed (perf_event_paranoid?): %s"
                          % p.stderr.read().strip()[-300:])
                    return
                if name == "telegram":
                    telegram_load(b.tg, b.pid, args.lawful_n, args.rate, 600000)
                else:
                    dingtalk_load(b.dt, b.pid, args.lawful_n, args.rate, "perf")
                p.send_signal(signal.SIGINT)
                p.communicate(timeout=60)
                datas.append(data)
                b.settle()
            print("\nprofile: campaign-bot (both drivers) under perf record -F 4999 -g for the "
                  "lawful load (%d messages per driver at %g/s): share of its CPU samples"
                  % (args.lawful_n, args.rate))
            for name, data in zip(("Telegram", "DingTalk"), datas):
                print("%s, by library: %s" % (name, ", ".join(
                    "%s %.0f%%" % (os.path.basename(d), pc)
                    for pc, d in perf_table(data, "dso", limit=8))))
                calls = [r for r in perf_table(data, "sym", children=True, limit=400)
                         if r[1] in ("fdatasync", "__libc_pwrite", "__poll", "__send",
                                     "__libc_recv", "__fcntl64_nocancel_adjusted", "read")]
                print("  in system calls (with the kernel's work): %s" % ", ".join(
                    "%s %.1f%%" % (sym.lstrip("_"), pc) for pc, sym in calls))
                print("  top functions (self): %s" % ", ".join(
                    "%s %.1f%%" % (sym.split("] ", 1)[-1], pc)
                    for pc, sym in perf_table(data, "dso,sym", limit=10)))
        finally:
            b.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


PHASES = ("burst", "lawful", "syscalls", "trace", "profile")


def phase_burst(args):
    results = []
    for name, starter in (("campaign-bot", start_campaign_bot(args)),
                          ("PTB 13.15", start_ptb(args))):
        tmp = tempfile.mkdtemp(prefix="bench-bot-")
        try:
            results.append(run_one(args, name, tmp, starter))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    rows = [("", "campaign-bot", "PTB 13.15"),
            ("updates handled/s", "%.0f", "%.0f", "updates_per_s"),
            ("replies sent/s", "%.0f", "%.0f", "replies_per_s"),
            ("CPU s per 1,000 msgs", "%.3f", "%.3f", "cpu_per_1000"),
            ("reply latency p50 ms", "%.1f", "%.1f", "p50_ms"),
            ("reply latency p99 ms", "%.1f", "%.1f", "p99_ms"),
            ("peak RSS MiB", "%.1f", "%.1f", "rss_mib"),
            ("Private_Dirty MiB", "%.1f", "%.1f", "dirty_mib")]
    print("bot benchmark: %d updates (throughput), %d paced (latency), seed plan, loopback"
          % (args.n, args.m))
    print("%-24s %14s %14s" % rows[0])
    for label, f1, f2, key in rows[1:]:
        print("%-24s %14s %14s" % (label, f1 % results[0][key], f2 % results[1][key]))
    ratio = results[1]["cpu_per_1000"] / max(results[0]["cpu_per_1000"], 1e-9)
    print("CPU per message: campaign-bot uses %.1fx less than PTB (goal >= 10x)" % ratio)
    print("goals: RSS < 16 MiB (%s), Private_Dirty < 4 MiB (%s)" % (
        "met" if results[0]["rss_mib"] < 16 else "MISSED",
        "met" if results[0]["dirty_mib"] < 4 else "MISSED"))


class Strace:
    """strace attached to every thread of a running process; detached by stop()."""

    def __init__(self, pid, out, opts):
        self.proc = subprocess.Popen(["strace", "-f", "-o", out] + opts + ["-p", str(pid)],
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()      # "strace: Process N attached"
        if "attached" not in line:
            raise SystemExit("strace could not attach: %s" % line.strip())
        time.sleep(0.2)     # every thread attached before the load starts

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        self.proc.communicate(timeout=30)


def strace_counts(path):
    """Calls per system call from an `strace -c` summary."""
    counts = {}
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) in (5, 6) and fields[0][0].isdigit() and fields[-1] != "total":
                counts[fields[-1]] = int(fields[3])
    return counts


def phase_syscalls(args):
    tmp = tempfile.mkdtemp(prefix="bench-bot-")
    try:
        b = BothDrivers(args, tmp)
        try:
            b.warm_up(args)
            outs = [os.path.join(tmp, "%d.strace" % i) for i in range(3)]
            st = Strace(b.pid, outs[0], ["-c"])
            telegram_load(b.tg, b.pid, args.strace_n, args.rate, 300000)
            st.stop()
            b.settle()
            st = Strace(b.pid, outs[1], ["-c"])
            dingtalk_load(b.dt, b.pid, args.strace_n, args.rate, "strace")
            st.stop()
            b.settle()
            b.external_commit()
            st = Strace(b.pid, outs[2], ["-c"])
            telegram_load(b.tg, b.pid, args.strace_n, args.rate, 350000)
            st.stop()
            tg, dt, tgx = (strace_counts(o) for o in outs)
        finally:
            b.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n = float(args.strace_n)
    print("\nsystem calls per message: campaign-bot (both drivers) under strace -c -f, "
          "attached for %d messages per driver at %g/s (counts; strace slows the bot)"
          % (args.strace_n, args.rate))
    fmt = "%-18s %10s %10s %16s"
    print(fmt % ("", "Telegram", "DingTalk", "TG + commit"))
    cols = (tg, dt, tgx)
    names = sorted(set().union(*cols), key=lambda k: (-sum(c.get(k, 0) for c in cols), k))
    for k in names:
        if sum(c.get(k, 0) for c in cols) / n >= 0.05:
            print(fmt % ((k,) + tuple("%.2f" % (c.get(k, 0) / n) for c in cols)))
    print(fmt % (("total",) + tuple("%.1f" % (sum(c.values()) / n) for c in cols)))
    wake = ("poll", "ppoll", "epoll_wait", "epoll_pwait", "select", "pselect6")
    print("poll family per message: Telegram %.1f, DingTalk %.1f, Telegram + commit %.1f"
          % tuple(sum(c.get(k, 0) for k in wake) / n for c in cols))
    print("(Telegram, DingTalk: after two quiet seconds; TG + commit: the same load with "
          "another process committing 0.5 s into it)")
    if sum(tgx.get(k, 0) for k in wake) > 1.5 * sum(tg.get(k, 0) for k in wake):
        print("TG + commit: the database watch kept re-checking through the load (its own "
              "commits sustain it)")
    else:
        print("TG + commit: the database watch did not start re-checking this time (a race)")
    print("floor: two HTTP exchanges (or one WebSocket frame + one webhook POST) and one "
          "durable commit (1 fdatasync)")


def trace_kind(line):
    """What one `strace -f -tt -T -y` line is, in words a reader of the loop knows."""
    try:
        call = line.split(None, 2)[2]
    except IndexError:
        return None
    name = call.split("(", 1)[0]
    if name == "poll":
        m = re.search(r"\], (\d+), (-?\d+)\) += ", call)
        if m is None:
            return "poll (unfinished)"
        nfds, timeout = m.groups()
        if nfds == "1" and timeout == "0":
            return "poll 1 fd, timeout 0 (libcurl socket check)"
        if timeout == "0":
            return "poll loop fds, timeout 0 (no wait)"
        if "= 0 (Timeout)" in call:
            return "poll loop fds, waits: woken by its timer"
        return "poll loop fds, waits: woken by a fd"
    if name == "fcntl":
        lock = "F_UNLCK" if "F_UNLCK" in call else "F_RDLCK" if "F_RDLCK" in call else "F_WRLCK"
        return "fcntl %s (SQLite WAL lock)" % lock
    if name == "pwrite64":
        size = call.rsplit(",", 2)[-2].strip()
        return {"24": "pwrite64 24 B (WAL frame header)",
                "4096": "pwrite64 4 KiB (WAL page)"}.get(size, "pwrite64 %s B" % size)
    if name == "read" and "inotify" in call:
        return "read inotify (%s)" % ("EAGAIN" if "EAGAIN" in call else "an event")
    if name in ("recvfrom", "read") and "EAGAIN" in call:
        return name + " EAGAIN"
    return name


WAL_FRAME = re.compile(r'pwrite64\(\d+<[^>]*-wal>, "((?:[^"\\]|\\.)*)"(?:\.\.\.)?, 24, ')


def wal_page(line):
    """The page number of a WAL frame header write (its first 4 bytes), or None."""
    m = WAL_FRAME.search(line)
    if m is None:
        return None
    raw = codecs.escape_decode(m.group(1).encode("latin-1"))[0]
    return int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None


def page_owners(db):
    """page number -> table or index, from SQLite's dbstat."""
    con = sqlite3.connect(db)
    try:
        return dict(con.execute("SELECT pageno, name FROM dbstat"))
    except sqlite3.Error:
        return {}
    finally:
        con.close()


def trace_clock(t):
    """strace -tt's local time of day for a time.time() value."""
    lt = time.localtime(t)
    return lt.tm_hour * 3600 + lt.tm_min * 60 + lt.tm_sec + (t % 1)


def phase_trace(args):
    tmp = tempfile.mkdtemp(prefix="bench-bot-")
    try:
        b = BothDrivers(args, tmp)
        try:
            b.warm_up(args)
            time.sleep(1)
            st = Strace(b.pid, args.trace_out, ["-tt", "-T", "-y", "-s", "64"])
            marks = [time.time()]
            time.sleep(3)       # idle
            marks.append(time.time())
            telegram_load(b.tg, b.pid, args.trace_n, args.trace_rate, 900000)
            time.sleep(0.5)
            marks.append(time.time())
            dingtalk_load(b.dt, b.pid, args.trace_n, args.trace_rate, "warm")
            time.sleep(0.5)
            marks.append(time.time())
            st.stop()
        finally:
            b.stop()
        owners = page_owners(os.path.join(tmp, "campaign.db"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    edges = [trace_clock(t) for t in marks]
    counts = [collections.Counter() for _ in range(3)]
    pages = [collections.Counter() for _ in range(3)]
    with open(args.trace_out) as f:
        for line in f:
            fields = line.split(None, 2)
            if len(fields) < 3 or ":" not in fields[1]:
                continue
            h, m, sec = fields[1].split(":")
            t = int(h) * 3600 + int(m) * 60 + float(sec)
            took = re.search(r"<(\d+\.\d+)>$", line.rstrip())
            if took:        # a call belongs where it returned (a wait, to what woke it)
                t += float(took.group(1))
            kind = trace_kind(line)
            page = wal_page(line) if kind and kind.startswith("pwrite64 24") else None
            for w in range(3):
                if kind and edges[w] <= t < edges[w + 1]:
                    counts[w][kind] += 1
                    if page is not None:
                        pages[w][owners.get(page, "page %d" % page)] += 1
    idle_s = marks[1] - marks[0]
    div = (idle_s, args.trace_n, args.trace_n)
    print("\ntrace: campaign-bot (both drivers) under strace -f -tt -T -y: %.0f s idle, then "
          "%d messages per driver at %g/s (full trace: %s)"
          % (idle_s, args.trace_n, args.trace_rate, args.trace_out))
    fmt = "%-46s %9s %9s %9s"
    print(fmt % ("system call", "idle /s", "TG /msg", "DT /msg"))
    kinds = sorted(set().union(*counts), key=lambda k: (-(counts[1][k] + counts[2][k]), k))
    for k in kinds:
        print(fmt % ((k,) + tuple("%.1f" % (counts[w][k] / div[w]) for w in range(3))))
    print(fmt % (("total",) + tuple("%.1f" % (sum(counts[w].values()) / div[w])
                                     for w in range(3))))
    print("(idle: the bot's own wake-ups with no traffic; TG/DT include the idle ticks "
          "between messages)")
    print("WAL pages written per message, by table or index (SQLite dbstat):")
    for k in sorted(set(pages[1]) | set(pages[2]), key=lambda k: -(pages[1][k] + pages[2][k])):
        print(fmt % (k, "", "%.1f" % (pages[1][k] / div[1]), "%.1f" % (pages[2][k] / div[2])))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bot", required=True)
    p.add_argument("--ctl", required=True)
    p.add_argument("--plan", required=True)
    p.add_argument("--fake", required=True)
    p.add_argument("--ptb", required=True)
    p.add_argument("--phase", action="append", choices=PHASES,
                   help="run this phase (repeatable; default: all)")
    p.add_argument("--n", type=int, default=3000, help="burst: updates posted at once")
    p.add_argument("--m", type=int, default=300, help="burst: paced latency samples")
    p.add_argument("--lawful-n", type=int, default=300, help="lawful: messages per driver")
    p.add_argument("--rate", type=float, default=20, help="lawful: messages per second")
    p.add_argument("--strace-n", type=int, default=300,
                   help="syscalls: messages per driver (default: the lawful load's)")
    p.add_argument("--trace-n", type=int, default=5, help="trace: messages per driver")
    p.add_argument("--trace-rate", type=float, default=1, help="trace: messages per second")
    p.add_argument("--trace-out", default="/tmp/bench-bot-trace.txt")
    args = p.parse_args()
    for phase in args.phase or PHASES:
        globals()["phase_" + phase](args)


if __name__ == "__main__":
    sys.exit(main())
