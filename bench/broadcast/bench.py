#!/usr/bin/python3
"""Broadcast benchmark: `campaignctl broadcast` to N chats (default 1,000 bound
staff) through campaign-bot against the fake Bot API on loopback, with the
fake enforcing Telegram's documented limits (1/s per chat, 20/min per group,
30/s overall: any excess is answered 429 and counted).

Printed, not asserted: seconds from the command to the last delivery and from
the first message to the last, next to the N/30 s the 30 messages/s limit
allows; 429s provoked, early retries and flood violations in the fake's
count; the bot's CPU seconds for the fan-out and its peak RSS. --rtt MS adds
that much latency to every sendMessage (the fake's "delay" fault) to show
what one send in flight costs on a slow link.
"""

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

TOKEN = "555000:BENCH-token"
NOW = "2027-10-09T10:00:00+08:00"   # a Saturday: no reminder competes for the limits
TEXT = "📢 测试广播:明天上午9点召开推进会,请各单位负责同志准时参加。"


def call(url, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def populate(db, n):
    con = sqlite3.connect(db)
    units = [r[0] for r in con.execute("SELECT id FROM units ORDER BY seq")]
    with con:
        for i in range(n):
            uid = str(700000 + i)
            con.execute("INSERT INTO users(platform, user_id, unit_id, bound_at) "
                        "VALUES('telegram', ?, ?, 0)", (uid, units[i % len(units)]))
            con.execute("INSERT INTO chats(platform, chat_id, kind, user_id, created_at) "
                        "VALUES('telegram', ?, 'private', ?, 0)", (uid, uid))
    con.close()


def pending(db):
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute("SELECT count(*) FROM deliveries WHERE state = 0").fetchone()[0]
    finally:
        con.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bot", required=True)
    p.add_argument("--ctl", required=True)
    p.add_argument("--plan", required=True)
    p.add_argument("--fake", required=True)
    p.add_argument("--chats", type=int, default=1000)
    p.add_argument("--rtt", type=int, default=0, help="ms added to every sendMessage")
    args = p.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-broadcast-")
    db = os.path.join(tmp, "campaign.db")
    env = dict(os.environ, CAMPAIGN_NOW=NOW, CAMPAIGN_DB=db, TELEGRAM_BOT_TOKEN=TOKEN)
    procs = []
    try:
        subprocess.run([args.ctl, "plan", "load", args.plan], env=env, check=True,
                       capture_output=True)
        populate(db, args.chats)
        port_file = os.path.join(tmp, "port")
        procs.append(subprocess.Popen(
            ["/usr/bin/python3", args.fake, "--port-file", port_file, "--token", TOKEN,
             "--flood", "enforce", "--max-lifetime", "1800", "--log-limit", "200000"],
            stderr=subprocess.DEVNULL))
        while not os.path.exists(port_file):
            time.sleep(0.05)
        url = "http://127.0.0.1:%s" % open(port_file).read().strip()
        if args.rtt > 0:
            call(url, "/control/faults", {"faults": [{"method": "sendMessage", "fault": "delay",
                                                      "ms": args.rtt, "times": "always"}]})
        ini = os.path.join(tmp, "bot.ini")
        with open(ini, "w") as f:
            f.write("[chat]\ndrivers = telegram\n[telegram]\napi_url = %s\npoll_timeout = 5\n"
                    "[log]\nlevel = warn\n" % url)
        bot = subprocess.Popen([args.bot, "--config", ini], env=env,
                               stderr=open(os.path.join(tmp, "bot.log"), "w"))
        procs.append(bot)
        if not call(url, "/control/wait?polling=1&timeout=30")["ok"]:
            raise SystemExit("the bot never polled")
        time.sleep(1.5)                 # the sender's start-up pause has passed
        cpu0 = cpu_seconds(bot.pid)
        t0 = time.monotonic()
        r = subprocess.run([args.ctl, "broadcast", TEXT], env=env, capture_output=True,
                           text=True, check=True)
        t_queued = time.monotonic() - t0
        deadline = time.monotonic() + 30 + args.chats * (1 + args.rtt / 1000.0)
        while pending(db) > 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        left = pending(db)
        cpu = cpu_seconds(bot.pid) - cpu0
        sent = call(url, "/control/sent")["sent"]
        state = call(url, "/control/state")
        times = sorted(s["time"] for s in sent if TEXT in s["plain"])
        limited = [e for e in call(url, "/control/log?method=sendMessage&limit=200000")
                   ["entries"] if e["status"] == 429]
        allowed = args.chats / 30.0
        total = times[-1] - t0 if times else float("nan")
        span = times[-1] - times[0] if len(times) > 1 else float("nan")
        v = state["violations"]
        print("== broadcast benchmark: %d chats, fake Bot API on loopback enforcing 1/s per "
              "chat, 30/s overall%s, %d cores" % (args.chats, ", +%d ms per send" % args.rtt
                                                   if args.rtt else "", os.cpu_count()))
        print(r.stdout.strip())
        print("queued in one transaction:   %.3f s (campaignctl, start to exit)" % t_queued)
        print("delivered:                   %d of %d%s" % (len(times), args.chats,
              "" if left == 0 else " (%d still pending at the deadline)" % left))
        print("command -> last delivery:    %.1f s   (the 30 msg/s limit allows %.1f s: %.3fx)"
              % (total, allowed, total / allowed))
        print("first -> last message:       %.1f s   (%.1f messages/s)" % (
              span, (len(times) - 1) / span if span > 0 else 0))
        print("429s provoked:               %d (early retries %d, flood violations %s)" % (
              len(limited), v["early_retry"], v["flood"]))
        print("campaign-bot:                %.2f CPU s for the fan-out (%.2f ms per message), "
              "peak RSS %.1f MiB" % (cpu, 1000.0 * cpu / max(1, len(times)),
                                     peak_rss_mib(bot.pid)))
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
