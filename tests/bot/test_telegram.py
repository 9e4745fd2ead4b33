#!/usr/bin/python3
"""campaign-bot against the fake Telegram Bot API (tests/fake/fake_telegram.py).

One named scenario per run (`test_telegram.py ... NAME`; `--list` lists them).
Each starts a fresh database with the seed plan, the fake server on a free
loopback port and the bot with a 1 s long poll, drives a conversation through
the fake's control API, and checks what the users got, what the database
holds and what the fake's request log says (early retries, flood). After
every scenario the bot's captured stdout and stderr must not contain the
token.
"""

import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

TOKEN = "424242:SECRET-tok3n_xyz"
NOW = "2027-10-08T09:00:00+08:00"
TESTS = {}


def test(fn):
    TESTS[fn.__name__] = fn
    return fn


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    raise Failure("timed out after %.0f s waiting for %s" % (timeout, what))


class Fake:
    def __init__(self, env, scenario=None, token=TOKEN):
        self.port_file = os.path.join(env.tmp, "fake.port")
        argv = ["/usr/bin/python3", env.args.fake, "--port-file", self.port_file,
                "--token", token, "--max-lifetime", "115"]
        if scenario is not None:
            path = os.path.join(env.tmp, "scenario.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(scenario, f, ensure_ascii=False)
            argv += ["--scenario", path]
        self.log_file = open(os.path.join(env.tmp, "fake.log"), "w")
        self.proc = subprocess.Popen(argv, stdout=self.log_file, stderr=self.log_file)
        wait_until(lambda: os.path.exists(self.port_file), 10, "the fake server")
        with open(self.port_file) as f:
            self.port = int(f.read())
        self.url = "http://127.0.0.1:%d" % self.port

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())

    def updates(self, *updates):
        return self.call("POST", "/control/updates", {"updates": list(updates)})["update_ids"]

    def faults(self, *rules):
        return self.call("POST", "/control/faults", {"faults": list(rules)})

    def chats(self, *chats):
        return self.call("POST", "/control/chats", {"chats": list(chats)})

    def sent(self, chat_id=None):
        q = "?chat_id=%d" % chat_id if chat_id is not None else ""
        return self.call("GET", "/control/sent" + q)["sent"]

    def log(self, method=None):
        q = "?method=" + method if method else ""
        return self.call("GET", "/control/log" + q)["entries"]

    def state(self):
        return self.call("GET", "/control/state")

    def wait_sent(self, n, timeout=30):
        r = self.call("GET", "/control/wait?sent=%d&timeout=%d" % (n, timeout))
        check(r["ok"], "expected %d messages sent, the fake saw %d" % (n, r["state"]["sent"]))

    def wait_confirmed(self, update_id, timeout=30):
        r = self.call("GET", "/control/wait?confirmed=%d&timeout=%d" % (update_id, timeout))
        check(r["ok"], "update %d was never confirmed" % update_id)

    def no_violations(self):
        v = self.state()["violations"]
        check(v["early_retry"] == 0, "early retries: %r" % v)
        check(sum(v["flood"].values()) == 0, "flood limits broken: %r" % v)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log_file.close()


class Env:
    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="bot-telegram-")
        self.db = os.path.join(self.tmp, "campaign.db")
        self.env = dict(os.environ, CAMPAIGN_NOW=NOW, CAMPAIGN_DB=self.db,
                        TELEGRAM_BOT_TOKEN=TOKEN)
        self.bot_proc = None
        self.fake = None
        self.outputs = []
        self.runs = 0
        self.ctl("plan", "load", args.plan)

    def ctl(self, *argv):
        r = subprocess.run([self.args.ctl] + list(argv), env=self.env, capture_output=True,
                           timeout=60)
        check(r.returncode == 0, "campaignctl %s: %s" % (argv, r.stderr.decode()))
        return r.stdout.decode()

    def invite(self, unit):
        return self.ctl("unit", "invite", unit).split()[-1]

    def sql(self, query, *params):
        con = sqlite3.connect(self.db, timeout=30)
        try:
            rows = con.execute(query, params).fetchall()
            con.commit()
            return rows
        finally:
            con.close()

    def config(self, extra=""):
        path = os.path.join(self.tmp, "bot.ini")
        with open(path, "w") as f:
            f.write("[telegram]\napi_url = %s\npoll_timeout = 1\n[chat]\ndrivers = telegram\n%s\n"
                    % (self.fake.url, extra))
        return path

    def start_bot(self, extra_cfg="", env=None):
        self.runs += 1
        out = os.path.join(self.tmp, "bot.%d.out" % self.runs)
        err = os.path.join(self.tmp, "bot.%d.err" % self.runs)
        self.outputs += [out, err]
        self.bot_proc = subprocess.Popen(
            [self.args.bot, "--config", self.config(extra_cfg), "-v"],
            env=env or self.env, stdout=open(out, "w"), stderr=open(err, "w"))
        return self.bot_proc

    def stop_bot(self, expect_rc=0):
        p = self.bot_proc
        if p is None:
            return
        self.bot_proc = None
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                raise Failure("the bot did not stop within 20 s of SIGTERM")
        check(p.returncode == expect_rc, "the bot exited %s\n%s" % (p.returncode,
                                                                    self.bot_log()))

    def kill9(self):
        self.bot_proc.send_signal(signal.SIGKILL)
        self.bot_proc.wait()
        self.bot_proc = None

    def bot_log(self):
        text = ""
        for path in self.outputs:
            with open(path, errors="replace") as f:
                text += f.read()
        return text

    def finish(self, ok):
        try:
            if self.bot_proc is not None:
                self.stop_bot()
        finally:
            if self.fake:
                self.fake.stop()
        log = self.bot_log()
        secret = TOKEN.split(":")[1]
        check(TOKEN not in log and secret not in log, "the token appears in the bot's output")
        check("Sanitizer" not in log and "runtime error" not in log, "sanitizer report:\n" +
              log[-4000:])
        if ok:
            shutil.rmtree(self.tmp, ignore_errors=True)


def texts(sent):
    return [s["plain"] for s in sent]


def bind_users(env, unit, users):
    """Binds telegram users directly (as /bind would) and records their private chats."""
    uid = env.sql("SELECT id FROM units WHERE name = ?", unit)[0][0]
    for u in users:
        env.sql("INSERT INTO users(platform, user_id, unit_id, bound_at) VALUES('telegram', ?, "
                "?, 0)", str(u), uid)


# ---------------------------------------------------------------- scenarios

@test
def conversation(env):
    fake = env.fake = Fake(env)
    env.start_bot()
    code = env.invite("扶贫办")
    ids = fake.updates({"text": "/start", "user_id": 111, "first_name": "Li"},
                       {"text": "/bind " + code, "user_id": 111, "first_name": "Li"},
                       {"text": "/tasks", "user_id": 111},
                       {"text": "2.4 60% 已动员180家企业", "user_id": 111},
                       {"text": "/task 2.4", "user_id": 111},
                       {"text": "百企幫百村進度如何", "user_id": 111})
    fake.wait_sent(6, timeout=40)
    got = fake.sent(111)
    want = ["我是“扶贫日”活动方案的进度助手", "✅ 已绑定到 市扶贫办", "市扶贫办 的任务(5项)",
            "✅ 已记录 2.4 启动“百企帮百村”活动", "• 市扶贫办:60%(已动员180家企业) ← 本单位",
            "最近汇报:"]
    check(len(got) == 6, "6 replies expected, got %d: %r" % (len(got), texts(got)))
    for s, w in zip(got, want):
        check(w in s["plain"], "expected %r in %r" % (w, s["plain"]))
        check(s["parse_mode"] == "HTML", "parse_mode %r" % s["parse_mode"])
        check(s["reply_to"] is None, "private replies do not quote")
    times = [s["time"] for s in got]
    check(all(b - a >= 1.0 for a, b in zip(times, times[1:])), "1 msg/s per chat: %r" % times)
    check(env.sql("SELECT count(*), max(percent) FROM reports")[0] == (1, 60), "one report")
    check(env.sql("SELECT count(*) FROM events WHERE type = 'progress'")[0][0] == 1, "event")
    fake.wait_confirmed(ids[-1])
    check(env.sql("SELECT value FROM kv WHERE key = 'telegram.offset'")[0][0] ==
          str(ids[-1] + 1), "the offset is stored")
    check(env.sql("SELECT count(*) FROM deliveries WHERE state != 1")[0][0] == 0,
          "every delivery marked sent")
    calls = fake.state()["calls"]
    check(calls.get("getMe") == 1 and calls.get("deleteWebhook") == 1, "start: %r" % calls)
    params = fake.log("getUpdates")[-1]["params"]
    check(json.loads(params["allowed_updates"]) == ["message", "edited_message",
          "callback_query", "my_chat_member"] and params["limit"] == "100" and
          params["timeout"] == "1", "getUpdates parameters: %r" % params)
    fake.no_violations()


@test
def group_addressing(env):
    fake = env.fake = Fake(env)
    env.start_bot()
    g = {"user_id": 222, "chat_id": -5, "chat_type": "group", "title": "扶贫办工作群"}
    ids = fake.updates(dict(g, text="/help@campaign_test_bot"),
                       dict(g, text="/help@other_bot"),
                       dict(g, text="大家辛苦了,今天天气不错"),
                       dict(g, text="/countdown"),
                       dict(g, text="/tasks@CAMPAIGN_TEST_BOT 扶贫办"),
                       dict(g, text="/frobnicate"))
    fake.wait_sent(3, timeout=30)
    fake.wait_confirmed(ids[-1])
    time.sleep(1.5)
    got = fake.sent(-5)
    check(len(got) == 3, "3 group replies expected: %r" % texts(got))
    check("可以这样问我" in got[0]["plain"] and "还有 9 天" in got[1]["plain"] and
          "市扶贫办 的任务" in got[2]["plain"], "group replies: %r" % texts(got))
    check(all(s["reply_to"] is not None for s in got), "group replies quote the question")
    check(env.sql("SELECT kind, title FROM chats WHERE chat_id = '-5'")[0] ==
          ("group", "扶贫办工作群"), "the group is recorded")
    fake.no_violations()


@test
def check_config(env):
    fake = env.fake = Fake(env)
    cfg = env.config()
    r = subprocess.run([env.args.bot, "--config", cfg, "-n"], env=env.env, capture_output=True)
    env.outputs.append(os.path.join(env.tmp, "check.out"))
    with open(env.outputs[-1], "wb") as f:
        f.write(r.stdout + r.stderr)
    check(r.returncode == 0 and r.stdout == b"configuration OK\n", "-n: %r" % r.stdout)
    no_token = {k: v for k, v in env.env.items() if k != "TELEGRAM_BOT_TOKEN"}
    r = subprocess.run([env.args.bot, "--config", cfg, "-n"], env=no_token, capture_output=True)
    check(r.returncode == 1 and b"TELEGRAM_BOT_TOKEN" in r.stderr, "no token: %r" % r.stderr)
    token_file = os.path.join(env.tmp, "token")
    with open(token_file, "w") as f:
        f.write(TOKEN + "\n")
    cfg2 = env.config("[telegram]\ntoken_file = " + token_file)
    r = subprocess.run([env.args.bot, "--config", cfg2, "-n"], env=no_token,
                       capture_output=True)
    check(r.returncode == 0, "token_file: %r" % r.stderr)
    with open(cfg2, "a") as f:
        f.write("pol_timeout = 5\n")
    r = subprocess.run([env.args.bot, "--config", cfg2, "-n"], env=no_token,
                       capture_output=True)
    check(r.returncode == 1 and b"bot.ini:8: [telegram] pol_timeout: unknown key" in r.stderr,
          "bad key: %r" % r.stderr)
    with open(env.outputs[-1], "ab") as f:
        f.write(r.stdout + r.stderr)
    bad = dict(env.env, TELEGRAM_BOT_TOKEN="12345:abc/def?x")
    r = subprocess.run([env.args.bot, "--config", cfg, "-n"], env=bad, capture_output=True)
    check(r.returncode == 1 and b"abc/def" not in r.stderr, "bad token: %r" % r.stderr)


@test
def token_refused(env):
    env.fake = Fake(env, token="999:OTHER")
    p = env.start_bot()
    rc = p.wait(30)
    env.bot_proc = None
    log = env.bot_log()
    check(rc == 1, "a refused token ends the bot with 1, got %s" % rc)
    check("refused the token" in log and "401" in log, "a clear message: %s" % log)


def survive(env, method, rule, n_msgs=3):
    """Injects a fault, then checks that every message is answered exactly once."""
    fake = env.fake = Fake(env)
    env.start_bot()
    wait_until(lambda: fake.state()["long_poll_waiting"], 20, "the first long poll")
    fake.faults(dict(rule, method=method))
    updates = [{"text": "/countdown", "user_id": 300 + i} for i in range(n_msgs)]
    ids = fake.updates(*updates)
    fake.wait_sent(n_msgs, timeout=60)
    fake.wait_confirmed(ids[-1], timeout=60)
    time.sleep(1.2)
    got = fake.sent()
    check(len(got) == n_msgs, "each answered once: %r" % [(s["chat_id"], s["fault"])
                                                           for s in got])
    check(sorted(s["chat_id"] for s in got) == [300 + i for i in range(n_msgs)],
          "every chat answered")
    fired = [r for r in fake.state()["faults"] if r["fired"]]
    check(fired, "the fault fired")
    check(env.sql("SELECT count(*) FROM deliveries WHERE state != 1")[0][0] == 0,
          "all deliveries sent")
    fake.no_violations()
    return fake


@test
def token_echoed(env):
    """An API error echoing the token URL-encoded, or only its secret half, is masked."""
    upper, lower = TOKEN.replace(":", "%3A"), TOKEN.replace(":", "%3a")
    survive(env, "getUpdates", {"fault": "500", "times": 2, "description":
                                "bad gateway at /bot%s/getUpdates (%s, %s)" % (
                                    upper, TOKEN.split(":")[1], lower)})
    log = env.bot_log()
    check("<secret>" in log, "the error was not logged with the token masked: %s" % log)
    check(upper not in log and lower not in log, "the URL-encoded token leaked")


@test
def poll_500(env):
    survive(env, "getUpdates", {"fault": "500", "times": 2})


@test
def poll_502_html(env):
    survive(env, "getUpdates", {"fault": "502_html", "times": 2})


@test
def poll_truncated(env):
    survive(env, "getUpdates", {"fault": "truncated_json", "delivered": True})


@test
def poll_half_json(env):
    survive(env, "getUpdates", {"fault": "truncated_json", "variant": "half_length",
                                "delivered": True})


@test
def poll_reset(env):
    survive(env, "getUpdates", {"fault": "reset", "when": "mid_body", "delivered": True})


@test
def poll_hang(env):
    survive(env, "getUpdates", {"fault": "hang", "delivered": True})


@test
def poll_bad_json(env):
    survive(env, "getUpdates", {"fault": "bad_json", "delivered": True})


@test
def poll_409(env):
    survive(env, "getUpdates", {"fault": "409", "times": 2})
    check("409" in env.bot_log() and "another campaign-bot" in env.bot_log(),
          "409 is logged loudly")


@test
def poll_429(env):
    fake = survive(env, "getUpdates", {"fault": "429", "retry_after": 2})
    polls = fake.log("getUpdates")
    limited = [e for e in polls if e["status"] == 429]
    check(len(limited) == 1, "one 429")
    after = [e for e in polls if e["seq"] > limited[0]["seq"]]
    check(after and after[0]["time"] - limited[0]["time"] >= 2.0, "retry_after honoured")


@test
def webhook_conflict(env):
    fake = env.fake = Fake(env, scenario={"webhook": "https://example.invalid/hook"})
    env.start_bot()
    ids = fake.updates({"text": "/countdown", "user_id": 401})
    fake.wait_sent(1)
    fake.faults({"method": "getUpdates", "fault": "409", "description":
                 "Conflict: can't use getUpdates method while webhook is active; use "
                 "deleteWebhook to delete the webhook first"})
    wait_until(lambda: fake.state()["calls"].get("deleteWebhook", 0) >= 2, 30,
               "deleteWebhook again after a webhook conflict")
    ids = fake.updates({"text": "/countdown", "user_id": 402})
    fake.wait_sent(2)
    fake.wait_confirmed(ids[-1])


@test
def send_500(env):
    survive(env, "sendMessage", {"fault": "500"})


@test
def send_502_html(env):
    survive(env, "sendMessage", {"fault": "502_html"})


@test
def send_truncated(env):
    survive(env, "sendMessage", {"fault": "truncated_json"})


@test
def send_reset(env):
    survive(env, "sendMessage", {"fault": "reset"})


@test
def send_hang(env):
    survive(env, "sendMessage", {"fault": "hang"})


@test
def send_bad_json(env):
    survive(env, "sendMessage", {"fault": "bad_json"})


@test
def send_429_pauses_all(env):
    fake = survive(env, "sendMessage", {"fault": "429", "retry_after": 3}, n_msgs=4)
    sends = fake.log("sendMessage")
    limited = [e for e in sends if e["status"] == 429]
    check(len(limited) == 1, "one 429: %r" % [e["status"] for e in sends])
    after = [e for e in sends if e["seq"] > limited[0]["seq"]]
    check(after[0]["time"] - limited[0]["time"] >= 3.0, "no send (to any chat) within "
          "retry_after: %.2f s" % (after[0]["time"] - limited[0]["time"]))
    check("rate limit" in env.bot_log(), "the pause is logged")


@test
def pacing_per_chat(env):
    fake = env.fake = Fake(env)
    env.start_bot()
    fake.updates(*[{"text": t, "user_id": 501} for t in
                   ("/countdown", "/due", "/overdue", "倒计时", "/help")])
    fake.wait_sent(5, timeout=30)
    times = [s["time"] for s in fake.sent(501)]
    check(all(b - a >= 1.0 for a, b in zip(times, times[1:])), "1 msg/s per chat: %r" % times)
    fake.no_violations()


@test
def blocked_403(env):
    fake = env.fake = Fake(env)
    env.start_bot()
    fake.chats({"chat_id": 333, "blocked": True})
    fake.updates({"text": "/help", "user_id": 333}, {"text": "/countdown", "user_id": 333},
                 {"text": "/countdown", "user_id": 111})
    fake.wait_sent(1)
    wait_until(lambda: env.sql("SELECT active FROM chats WHERE chat_id = '333'") == [(0,)],
               20, "chat 333 marked inactive")
    check(env.sql("SELECT count(*) FROM deliveries WHERE chat_id = '333' AND state = 2")[0][0]
          == 2, "both deliveries to 333 failed, not pending")
    check(len([e for e in fake.log("sendMessage") if e.get("chat_id") == 333]) == 1,
          "no retry to a blocked chat")
    # The user unblocks the bot and writes again.
    fake.chats({"chat_id": 333, "blocked": False})
    fake.updates({"type": "my_chat_member", "chat_id": 333, "user_id": 333,
                  "new_status": "member", "old_status": "kicked"},
                 {"text": "/countdown", "user_id": 333})
    fake.wait_sent(2)
    check(env.sql("SELECT active FROM chats WHERE chat_id = '333'") == [(1,)], "active again")


@test
def migrate_400(env):
    fake = env.fake = Fake(env)
    env.start_bot()
    old, new = -77, -1000000000077
    fake.chats({"chat_id": old, "type": "group", "migrated_to": new})
    fake.updates({"text": "/countdown", "user_id": 601, "chat_id": old, "chat_type": "group"})
    fake.wait_sent(1)
    got = fake.sent()
    check(got[0]["chat_id"] == new, "sent to the supergroup: %r" % got[0]["chat_id"])
    check(env.sql("SELECT chat_id, active FROM chats WHERE chat_id = ?", str(new)) ==
          [(str(new), 1)], "the chat moved")
    check(env.sql("SELECT active FROM chats WHERE chat_id = ?", str(old)) == [(0,)],
          "the old id is retired")


@test
def bad_markup_400(env):
    fake = env.fake = Fake(env)
    env.start_bot()
    fake.faults({"method": "sendMessage", "fault": "400", "description":
                 "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte "
                 "offset 3"})
    fake.updates({"text": "/tasks 扶贫办", "user_id": 701})
    fake.wait_sent(1)
    s = fake.sent()[0]
    check(s["parse_mode"] is None and "<b>" not in s["text"] and "市扶贫办 的任务" in s["text"],
          "resent as plain text: %r" % s)


@test
def long_reply_split(env):
    plan_path = os.path.join(env.tmp, "big.json")
    with open(env.args.plan, encoding="utf-8") as f:
        plan = json.load(f)
    plan["tasks"] = [{"id": "9.%d" % i, "title": "第%d项工作:组织开展“百企帮百村”结对帮扶走访"
                      "慰问活动😀" % i, "due": "10-%02d" % (1 + i % 28),
                      "units": ["市扶贫办"]} for i in range(1, 301)]
    with open(plan_path, "w", encoding="utf-8") as f:
        json.dump(plan, f, ensure_ascii=False)
    env.ctl("plan", "load", plan_path)
    fake = env.fake = Fake(env)
    env.start_bot()
    fake.updates({"text": "/tasks 市扶贫办", "user_id": 801})
    r = fake.call("GET", "/control/wait?sent=4&timeout=40")
    wait_until(lambda: env.sql("SELECT count(*) FROM deliveries WHERE state = 0")[0][0] == 0,
               60, "the long reply to go out")
    got = fake.sent()
    check(len(got) >= 4, "split into several messages: %d" % len(got))
    for s in got:
        units = len(s["plain"].encode("utf-16-le")) // 2
        check(units <= 4096, "a piece of %d UTF-16 units" % units)
    whole = "\n".join(texts(got))
    check(all("9.%d " % i in whole for i in range(1, 301)), "nothing lost between pieces")
    check(not any(e["status"] == 400 for e in fake.log("sendMessage")), "no refused piece")
    check(r["ok"], "pieces arrived")


@test
def burst_mixed(env):
    fake = env.fake = Fake(env)
    env.start_bot()
    burst = []
    for i in range(20):
        u = 900 + i
        burst += [{"text": "/countdown", "user_id": u, "message_id": 5000 + i},
                  {"type": "edited_message", "user_id": u, "message_id": 5000 + i,
                   "text": "/report 2.4 99"},
                  {"type": "callback_query", "user_id": u, "data": "t:2.4"},
                  {"text": "/help@other_bot", "user_id": u, "chat_id": -900 - i,
                   "chat_type": "group"},
                  {"type": "my_chat_member", "chat_id": -900 - i, "user_id": u,
                   "new_status": "member", "old_status": "left"}]
    ids = [i for i in fake.updates(*burst) if i is not None]
    check(len(ids) == 100, "a 100-update burst: %d" % len(ids))
    fake.wait_sent(20, timeout=30)
    fake.wait_confirmed(ids[-1])
    time.sleep(1.5)
    got = fake.sent()
    check(sorted(s["chat_id"] for s in got) == list(range(900, 920)),
          "only the 20 private messages are answered: %r" % [s["chat_id"] for s in got])
    check(env.sql("SELECT count(*) FROM reports")[0][0] == 0, "an edit is never a report")
    check(env.sql("SELECT count(*) FROM chats WHERE kind = 'group' AND active = 1")[0][0] == 20,
          "my_chat_member recorded the groups")
    fake.no_violations()


@test
def kill9_reports(env):
    users = list(range(1000, 1040))
    bind_users(env, "市扶贫办", users)
    fake = env.fake = Fake(env)
    env.start_bot()
    wait_until(lambda: fake.state()["long_poll_waiting"], 20, "the first long poll")
    ids = fake.updates(*[{"text": "/report 2.4 %d 第%d次" % (i % 100, i), "user_id": u}
                         for i, u in enumerate(users)])
    time.sleep(0.2)
    env.kill9()                     # the burst may be mid-batch: nothing or all committed
    env.start_bot()
    fake.wait_sent(5, timeout=30)
    env.kill9()                     # replies in flight: some sent, some pending
    env.start_bot()
    wait_until(lambda: len({s["chat_id"] for s in fake.sent()}) == len(users), 60,
               "every user's confirmation")
    fake.wait_confirmed(ids[-1])
    wait_until(lambda: env.sql("SELECT count(*) FROM deliveries WHERE state = 0")[0][0] == 0,
               30, "the outbox to drain")
    check(env.sql("SELECT count(*), count(DISTINCT user_id) FROM reports")[0] == (40, 40),
          "every report recorded exactly once: %r" % env.sql("SELECT count(*) FROM reports"))
    check(env.sql("SELECT count(*) FROM events WHERE type = 'progress'")[0][0] == 40,
          "one progress event per report")
    got = fake.sent()
    check(all("已记录" in s["plain"] for s in got), "confirmations only")
    check(len(got) <= len(users) + 2, "a repeat only for a send in flight at a kill: %d"
          % len(got))
    fake.no_violations()


@test
def service_updates(env):
    fake = env.fake = Fake(env)
    env.start_bot()
    g = {"user_id": 1101, "chat_id": -1100, "chat_type": "group", "title": "群"}
    fake.updates(dict(g, text="/countdown"))
    fake.wait_sent(1)
    env.sql("UPDATE chats SET subscribed = 1 WHERE chat_id = '-1100'")
    ids = fake.updates({"type": "migrate", "chat_id": -1100,
                        "migrate_to_chat_id": -1000000001100},
                       {"type": "my_chat_member", "chat_id": -1200, "user_id": 1101,
                        "chat_type": "group", "new_status": "kicked", "old_status": "member"},
                       {"message": {"message_id": 77, "date": int(time.time()),
                                    "chat": {"id": 1102, "type": "private"},
                                    "from": {"id": 1102, "is_bot": False, "first_name": "W"},
                                    "sticker": {"file_id": "x"}}})
    fake.wait_sent(2)
    fake.wait_confirmed(ids[-1])
    check(env.sql("SELECT subscribed, active FROM chats WHERE chat_id = '-1000000001100'") ==
          [(1, 1)], "the subscription moved with the chat")
    check(env.sql("SELECT active FROM chats WHERE chat_id = '-1200'") == [(0,)],
          "kicked from a group: inactive")
    check("只能看懂文字消息" in fake.sent(1102)[0]["plain"], "a sticker gets a hint")


@test
def console_live(env):
    """Not Telegram: the console prints what another process queues while it runs."""
    p = subprocess.Popen([env.args.bot, "--console"], env=env.env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdin.write("/countdown\n".encode())
    p.stdin.flush()
    time.sleep(1.0)
    env.sql("INSERT INTO deliveries(platform, chat_id, kind, text, created_at) "
            "VALUES('console', 'local', 'broadcast', '📢 明天上午9点召开推进会', 0)")
    time.sleep(1.5)
    out, err = p.communicate(timeout=20)
    out = out.decode()
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, err.decode()))
    check("还有 9 天" in out and "📢 明天上午9点召开推进会" in out, "output: %r" % out)
    check(out.index("还有 9 天") < out.index("📢"), "in order")


def run_named(tests, argv=None):
    """Runs the scenario named on the command line (or lists them): the entry
    point of this file and of the scripts that reuse its harness."""
    p = argparse.ArgumentParser()
    p.add_argument("--bot")
    p.add_argument("--ctl")
    p.add_argument("--plan")
    p.add_argument("--fake")
    p.add_argument("--list", action="store_true")
    p.add_argument("name", nargs="?")
    args = p.parse_args(argv)
    if args.list or not args.name:
        print("\n".join(tests))
        return 0
    env = Env(args)
    ok = False
    try:
        tests[args.name](env)
        ok = True
    except Failure as e:
        print("FAIL %s: %s" % (args.name, e), file=sys.stderr)
    finally:
        try:
            env.finish(ok)
        except Failure as e:
            print("FAIL %s: %s" % (args.name, e), file=sys.stderr)
            ok = False
    if not ok:
        print("--- bot output (%s)\n%s" % (env.tmp, env.bot_log()[-6000:]), file=sys.stderr)
        return 1
    print("%s: passed" % args.name)
    return 0


if __name__ == "__main__":
    sys.exit(run_named(TESTS))
