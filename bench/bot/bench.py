#!/usr/bin/python3
"""Bot benchmark: campaign-bot and a python-telegram-bot 13 peer (ptb_bot.py),
each against its own fake Bot API server on loopback (flood control off), with
the seed plan loaded, answering the same mix of questions from distinct users.

Phases per bot:
  throughput  N updates posted at once: updates handled per second (until the
              fake saw every update confirmed), replies per second (until all
              replies were sent), CPU seconds (user+system, all threads) per
              1,000 messages;
  latency     M updates, one every 10 ms: time from posting an update to the
              fake receiving its reply, p50 and p99;
  memory      peak RSS (VmHWM) and Private_Dirty (/proc/PID/smaps_rollup) at the end.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

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


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bot", required=True)
    p.add_argument("--ctl", required=True)
    p.add_argument("--plan", required=True)
    p.add_argument("--fake", required=True)
    p.add_argument("--ptb", required=True)
    p.add_argument("--n", type=int, default=3000)
    p.add_argument("--m", type=int, default=300)
    args = p.parse_args()
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


if __name__ == "__main__":
    sys.exit(main())
