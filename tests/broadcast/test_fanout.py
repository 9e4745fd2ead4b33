#!/usr/bin/python3
"""Broadcasts and reminders through campaign-bot against the fake Bot API.

One named scenario per run (`test_fanout.py ... NAME`; `--list` lists them),
on the harness of tests/bot/test_telegram.py (the fake server, the bot, a
fresh database with the seed plan):

  fanout          two broadcasts to 220 chats (200 staff, 20 groups) with
                  blocked users and injected 429s: the fake's log shows no
                  chat got two messages within a second, no second held more
                  than 30, no early retry; every live chat got each broadcast
                  once; blocked chats are inactive and counted failed;
                  campaignctl broadcast --wait follows it to the end
  kill9           kill -9 of the bot in the middle of a fan-out, restart:
                  still exactly once (bar the one message in flight), and the
                  limits hold across the restart
  chat_broadcast  /broadcast from an admin in chat (and a refusal); the text
                  arrives as typed; a user's question is answered during the
                  fan-out, not after it
  expired         a broadcast whose --expires passed while no bot ran is failed
                  as expired, not sent late; a live one still goes out
  reminders       the clock (CAMPAIGN_NOW) moved across the campaign, the bot
                  restarted at each step: exactly the expected reminders, once
"""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bot"))
from test_telegram import Fake, check, run_named, wait_until  # noqa: E402

SATURDAY = "2027-10-09T10:00:00+08:00"     # a day off: no reminder in the way
TESTS = {}


def test(fn):
    TESTS[fn.__name__] = fn
    return fn


def populate(env, fake, staff, groups, blocked=(), deactivated=(), loose=0, quiet_groups=0):
    """Staff (private chats bound to units, round robin), subscribed groups, and
    chats that must get nothing: unbound users and unsubscribed groups."""
    units = [r[0] for r in env.sql("SELECT id FROM units ORDER BY seq")]
    rows = []
    for i, uid in enumerate(staff):
        rows.append("INSERT INTO users(platform, user_id, unit_id, bound_at) VALUES("
                    "'telegram', '%d', %d, 0);" % (uid, units[i % len(units)]))
        rows.append("INSERT INTO chats(platform, chat_id, kind, user_id, created_at) "
                    "VALUES('telegram', '%d', 'private', '%d', 0);" % (uid, uid))
    for g in groups:
        rows.append("INSERT INTO chats(platform, chat_id, kind, title, subscribed, "
                    "created_at) VALUES('telegram', '%d', 'group', 'g', 1, 0);" % g)
    for i in range(loose):
        rows.append("INSERT INTO chats(platform, chat_id, kind, user_id, created_at) "
                    "VALUES('telegram', '%d', 'private', '%d', 0);" % (70000 + i, 70000 + i))
    for i in range(quiet_groups):
        rows.append("INSERT INTO chats(platform, chat_id, kind, created_at) "
                    "VALUES('telegram', '%d', 'group', 0);" % (-70000 - i))
    script = os.path.join(env.tmp, "populate.sql")
    with open(script, "w") as f:
        f.write("BEGIN;\n" + "\n".join(rows) + "\nCOMMIT;\n")
    r = subprocess.run(["sqlite3", env.db, ".read " + script], capture_output=True)
    check(r.returncode == 0, "populate: %s" % r.stderr.decode())
    fake.chats(*([{"chat_id": c, "blocked": True} for c in blocked] +
                 [{"chat_id": c, "deactivated": True} for c in deactivated] +
                 [{"chat_id": g, "type": "group", "title": "g"} for g in groups]))


def ctl(env, *argv, check_rc=True, timeout=120):
    r = subprocess.run([env.args.ctl] + list(argv), env=env.env, capture_output=True,
                       timeout=timeout)
    out = r.stdout.decode()
    if check_rc:
        check(r.returncode == 0, "campaignctl %s: exit %d\n%s%s" % (
            " ".join(argv), r.returncode, out, r.stderr.decode()))
    return r.returncode, out, r.stderr.decode()


def pending(env):
    return env.sql("SELECT count(*) FROM deliveries WHERE state = 0")[0][0]


def check_limits(fake, what):
    """The fake's record of delivered messages keeps the Bot FAQ's limits."""
    sent = fake.sent()
    by_chat = {}
    for s in sent:
        by_chat.setdefault(s["chat_id"], []).append(s["time"])
    for chat, times in by_chat.items():
        gaps = [b - a for a, b in zip(times, times[1:])]
        check(all(g >= 1.0 for g in gaps), "%s: chat %s got two messages %.3f s apart"
              % (what, chat, min(gaps) if gaps else 0))
    times = sorted(s["time"] for s in sent)
    j = 0
    for i, t in enumerate(times):
        while times[j] <= t - 1.0:
            j += 1
        check(i - j + 1 <= 30, "%s: %d messages within one second ending at %.3f"
              % (what, i - j + 1, t))
    v = fake.state()["violations"]
    check(v["early_retry"] == 0, "%s: early retries %r" % (what, v))
    check(sum(v["flood"].values()) == 0 and v["flood_refused"] == 0,
          "%s: flood limits broken %r" % (what, v))
    return sent


def got_text(sent, text):
    """chat_id -> how many messages carrying text it got."""
    counts = {}
    for s in sent:
        if text in s["plain"]:
            counts[s["chat_id"]] = counts.get(s["chat_id"], 0) + 1
    return counts


# ---------------------------------------------------------------- scenarios

@test
def fanout(env):
    env.env["CAMPAIGN_NOW"] = SATURDAY
    fake = env.fake = Fake(env, scenario={"flood": {"mode": "enforce"}})
    staff = list(range(20000, 20200))
    groups = list(range(-30000, -30020, -1))
    blocked, deactivated = staff[5:200:25], staff[7:9]
    populate(env, fake, staff, groups, blocked, deactivated, loose=5, quiet_groups=3)
    fake.faults({"method": "sendMessage", "call": 40, "fault": "429", "retry_after": 2},
                {"method": "sendMessage", "call": 260, "fault": "429", "retry_after": 1})
    env.start_bot()
    wait_until(lambda: fake.state()["long_poll_waiting"], 20, "the first long poll")
    one, two = "第一条:本周五上午召开推进会", "第二条:请各单位<周四>前报送材料 & 图片"
    _, out1, _ = ctl(env, "broadcast", one)
    check(out1.startswith("broadcast 1: queued for 220 chats"), "first: %r" % out1)
    t0 = time.monotonic()
    _, out2, _ = ctl(env, "broadcast", two, "--wait")
    lines = out2.splitlines()
    # 210 to 220: a blocked chat found out before the second broadcast is not a target.
    queued2 = int(lines[0].split("queued for ")[1].split()[0])
    check(210 <= queued2 <= 220, "second: %r" % lines[0])
    check(any(l.endswith("pending (%s s)" % l.split("(")[-1].split()[0]) for l in lines[1:])
          and any("done in" in l for l in lines) and "failed: " in out2,
          "--wait shows progress lines and the end: %r" % lines[-4:])
    wait_until(lambda: pending(env) == 0, 60, "every delivery to finish")
    sent = check_limits(fake, "fanout")
    live = set(staff + groups) - set(blocked) - set(deactivated)
    for text in (one, "第二条:请各单位<周四>前报送材料 & 图片"):
        counts = got_text(sent, text)
        check(set(counts) == live, "%r reached %d chats; missing %r, extra %r" % (
            text, len(counts), sorted(live - set(counts))[:5], sorted(set(counts) - live)[:5]))
        check(set(counts.values()) == {1}, "each exactly once: %r" % {
            c: n for c, n in counts.items() if n != 1})
    check(len(sent) == 2 * len(live), "nothing else was sent: %d" % len(sent))
    # The blocked: tried once, then inactive; their deliveries failed, not pending.
    attempts = [e for e in fake.log("sendMessage") if e.get("chat_id") in blocked + deactivated]
    check(sorted(e["chat_id"] for e in attempts if e["status"] == 403) ==
          sorted(blocked + deactivated) and len(attempts) == len(blocked + deactivated),
          "one attempt per blocked chat: %r" % [(e["chat_id"], e["status"]) for e in attempts])
    inactive = env.sql("SELECT chat_id FROM chats WHERE active = 0")
    check(sorted(int(c) for (c,) in inactive) == sorted(blocked + deactivated),
          "marked inactive: %r" % inactive)
    _, js, _ = ctl(env, "broadcast", "status", "1", "--json")
    st = json.loads(js)
    check((st["delivered"], st["failed"], st["pending"]) == (210, 10, 0), "status %r" % st)
    check(sum(f["count"] for f in st["failures"]) == 10 and
          all("Forbidden" in f["error"] for f in st["failures"]),
          "failure reasons: %r" % st["failures"])
    _, js, _ = ctl(env, "broadcast", "status", "2", "--json")
    st = json.loads(js)
    check((st["delivered"], st["failed"], st["pending"]) == (210, queued2 - 210, 0),
          "status %r" % st)
    # The injected 429s paused every send for retry_after.
    sends = fake.log("sendMessage")
    for limited in [e for e in sends if e["status"] == 429]:
        after = [e for e in sends if e["seq"] > limited["seq"]]
        check(after and after[0]["time"] - limited["time"] >= 1.0, "paused after a 429")
    check(len([e for e in sends if e["status"] == 429]) == 2, "two injected 429s fired")
    elapsed = time.monotonic() - t0
    print("fanout: %d messages in %.1f s" % (len(sent), elapsed))


@test
def kill9(env):
    env.env["CAMPAIGN_NOW"] = SATURDAY
    fake = env.fake = Fake(env, scenario={"flood": {"mode": "enforce"}})
    staff = list(range(40000, 40230))
    groups = list(range(-50000, -50010, -1))
    blocked = staff[3:230:40]
    populate(env, fake, staff, groups, blocked)
    env.start_bot()
    wait_until(lambda: fake.state()["long_poll_waiting"], 20, "the first long poll")
    text = "紧急通知:明天上午8点全体到岗"
    ctl(env, "broadcast", text)
    wait_until(lambda: fake.state()["sent"] >= 80, 30, "80 messages out")
    env.kill9()
    at_kill = fake.state()["sent"]
    env.start_bot()
    wait_until(lambda: pending(env) == 0, 60, "the rest after the restart")
    sent = check_limits(fake, "kill9")
    check(fake.state()["sent"] > at_kill, "the restarted bot went on")
    live = set(staff + groups) - set(blocked)
    counts = got_text(sent, text)
    check(set(counts) == live, "every live chat: missing %r" % sorted(live - set(counts))[:5])
    repeats = {c: n for c, n in counts.items() if n > 1}
    check(len(repeats) <= 1 and all(n == 2 for n in repeats.values()),
          "at most the one message in flight at the kill is repeated: %r" % repeats)
    _, js, _ = ctl(env, "broadcast", "status", "1", "--json")
    st = json.loads(js)
    check((st["delivered"], st["failed"], st["pending"]) == (len(live), len(blocked), 0),
          "status %r" % st)


@test
def chat_broadcast(env):
    env.env["CAMPAIGN_NOW"] = SATURDAY
    fake = env.fake = Fake(env, scenario={"flood": {"mode": "enforce"}})
    staff = list(range(60000, 60150))
    groups = [-61000, -61001]
    populate(env, fake, staff, groups)
    env.start_bot(extra_cfg="admins = telegram:777")
    wait_until(lambda: fake.state()["long_poll_waiting"], 20, "the first long poll")
    text = "明天上午9點召開推進會 <請帶材料> & 準時"
    fake.updates({"text": "/broadcast 我也想发", "user_id": 888},
                 {"text": "/broadcast " + text, "user_id": 777, "first_name": "主任"})
    wait_until(lambda: fake.sent(777), 10, "the admin's confirmation")
    t_broadcast = time.monotonic()
    time.sleep(1.0)
    fake.updates({"text": "/countdown", "user_id": 555})
    wait_until(lambda: fake.sent(555), 10, "an answer during the fan-out")
    t_answer = time.monotonic()
    wait_until(lambda: pending(env) == 0, 60, "the fan-out")
    refused = fake.sent(888)[0]["plain"]
    check("只有活动管理员可以发送广播" in refused, "non-admin refused: %r" % refused)
    confirm = fake.sent(777)[0]["plain"]
    check("📢 广播 #1 已发出" in confirm and "将送达152个聊天" in confirm, "confirm %r" % confirm)
    g = fake.sent(-61000)[0]
    check(g["plain"] == "📢 活动通知\n" + text and g["parse_mode"] == "HTML",
          "the text as typed, escaped for HTML: %r" % g)
    payload = json.loads(env.sql("SELECT payload FROM events WHERE type = 'announcement'")[0][0])
    check(payload["text"] == text and payload["chats"] == 152, "event %r" % payload)
    check(env.sql("SELECT platform, user_id FROM broadcasts") == [("telegram", "777")],
          "who sent it is recorded")
    sent = check_limits(fake, "chat_broadcast")
    last = max(s["time"] for s in sent if text in s["plain"])
    first = min(s["time"] for s in sent if text in s["plain"])
    answer = fake.sent(555)[0]["time"]
    check(last - first > 4.0, "the fan-out takes seconds at 30/s: %.1f" % (last - first))
    check(answer < last - 2.0, "the user was answered during the fan-out (%.1f s before its "
          "end), not after it" % (last - answer))
    check(t_answer - t_broadcast < 4.0, "answered promptly")


@test
def expired(env):
    """A broadcast that expired while no bot was running is not sent late."""
    env.env["CAMPAIGN_NOW"] = SATURDAY
    fake = env.fake = Fake(env)
    populate(env, fake, list(range(80000, 80005)), [-81000])
    ctl(env, "broadcast", "今天10点半开会", "--expires", "30m")
    ctl(env, "broadcast", "本周材料请周一前报送", "--expires", "3d")
    env.env["CAMPAIGN_NOW"] = "2027-10-09T11:00:00+08:00"
    env.start_bot()
    wait_until(lambda: pending(env) == 0, 30, "the outbox to settle")
    got = fake.sent()
    check(sorted(s["chat_id"] for s in got) == sorted(list(range(80000, 80005)) + [-81000])
          and all("本周材料" in s["plain"] for s in got), "only the live one went out: %r"
          % [(s["chat_id"], s["plain"][:20]) for s in got])
    _, out, _ = ctl(env, "broadcast", "status", "1")
    check("0 delivered, 6 failed, 0 pending" in out and "6 expired" in out,
          "the stale one counts as failed, expired: %r" % out)
    check("(expired)" in out, "status says it expired: %r" % out)


def tags(sent):
    """'CHAT TASK unit|list' or 'CHAT escalation' for each reminder message, sorted."""
    out = []
    for s in sent:
        lines = s["plain"].split("\n")
        if "督办提醒" in lines[0]:
            out.append("%d escalation" % s["chat_id"])
        else:
            check("提醒" in lines[0], "not a reminder: %r" % s["plain"])
            out.append("%d %s %s" % (s["chat_id"], lines[1].split(" ")[0],
                                     "unit" if "本单位进度" in s["plain"] else "list"))
    return sorted(out)


@test
def reminders(env):
    fake = env.fake = Fake(env)
    populate(env, fake, [], [-500])
    env.sql("DELETE FROM users")
    for user, unit in ((101, "市扶贫办"), (102, "相关单位")):
        env.sql("INSERT INTO users(platform, user_id, unit_id, bound_at) SELECT 'telegram', ?, "
                "id, 0 FROM units WHERE name = ?", str(user), unit)
    for chat in (101, 102, 900):
        env.sql("INSERT INTO chats(platform, chat_id, kind, user_id, created_at) "
                "VALUES('telegram', ?, 'private', ?, 0)", str(chat), str(chat))
    seen = [0]

    def at(now, want, texts=()):
        env.env["CAMPAIGN_NOW"] = now
        ticks = env.bot_log().count("scheduler: tick at " + now)
        env.start_bot(extra_cfg="admins = telegram:900")
        wait_until(lambda: env.bot_log().count("scheduler: tick at " + now) > ticks, 20,
                   "the first tick at " + now)
        wait_until(lambda: pending(env) == 0, 30, "the reminders to go out")
        time.sleep(0.3)
        env.stop_bot()
        sent = fake.sent()[seen[0]:]
        seen[0] += len(sent)
        check(tags(sent) == sorted(want), "at %s:\n got  %r\n want %r" % (
            now, tags(sent), sorted(want)))
        for t in texts:
            check(any(t in s["plain"] for s in sent), "at %s: no message says %r" % (now, t))

    at("2027-09-23T09:30:00+08:00", ["-500 2.6 list", "102 2.6 unit"],
       ["9月30日(周四)截止,还有7天", "本单位进度:还没有汇报"])
    at("2027-09-23T09:30:00+08:00", [])                         # restarted: nothing again
    at("2027-09-29T09:30:00+08:00", ["-500 2.6 list", "102 2.6 unit"], ["明天到期"])
    monday = ["-500 2.5 list", "-500 2.6 list", "101 2.5 unit", "102 2.6 unit",
              "900 escalation"]
    at("2027-10-04T10:00:00+08:00", monday, ["已逾期4天", "督办提醒"])
    at("2027-10-04T23:00:00+08:00", [])                         # quiet hours
    at("2027-10-08T09:00:00+08:00", monday, ["10月10日(周日)截止,还有2天"])
    env.env["CAMPAIGN_NOW"] = "2027-10-08T15:00:00+08:00"
    env.ctl("report", "2.5", "市扶贫办", "done")
    env.ctl("report", "2.6", "相关单位", "30")
    at("2027-10-11T09:00:00+08:00",
       ["-500 2.1 list", "-500 2.2 list", "-500 2.4 list", "-500 2.5 list", "-500 2.6 list",
        "101 2.1 unit", "101 2.2 unit", "101 2.4 unit", "102 2.6 unit", "900 escalation"],
       ["本单位进度:30%", "10月17日(周日)截止,还有6天"])
    at("2027-10-04T10:00:00+08:00", [])                         # the clock moved back
    check(env.sql("SELECT count(*) FROM reminders_sent") == [(2 + 2 + 8 + 8 + 19,)],
          "keys: %r" % env.sql("SELECT count(*) FROM reminders_sent"))
    # One MQTT event per (task, unit) reminder, never repeated either.
    check(env.sql("SELECT count(*), count(DISTINCT payload) FROM events WHERE type = "
                  "'reminder'") == [(2 + 2 + 7 + 7 + 18,) * 2],
          "reminder events: %r" % env.sql("SELECT count(*) FROM events"))
    check_limits(fake, "reminders")


if __name__ == "__main__":
    sys.exit(run_named(TESTS))
