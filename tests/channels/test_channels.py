#!/usr/bin/python3
"""Group robots (campaignctl channel) end to end: the real campaign-bot (console
driver) and campaignctl against tests/fake/fake_webhooks.py, with the windows
scaled down (CAMPAIGN_TEST_CHANNEL_WINDOW_MS and the fake's --window-ms) so a
minute of pacing takes a couple of seconds.

  three         a broadcast to one unit reaches a DingTalk, a WeCom and a Feishu
                channel (each signed as its service checks) and the console
                chat (Feishu's after two 502s, retried); a channel limited
                to another unit and one that only
                wants the digest get nothing; broadcast status
                counts the channels with the chat; channel test with a bot
                running reports the delivery
  burst         60 broadcasts to one DingTalk robot: the fake never had to
                answer 130101 (a 10-window block), all 60 arrive, in order
  wrong_secret  a DingTalk robot registered with the wrong secret: the fake
                refuses the signature (310000), channel list shows the channel
                failing with that error, the broadcast counts it failed, the
                other channel still gets it; added again with the right secret
                it works with the bot still running
  kill9         kill -9 of the bot in the middle of a fan-out to two robots,
                restart: every message arrives, at most the one in flight per
                robot twice, and no 130101 across the restart
  update_secret a Feishu bot with the wrong signing secret (19021) and a
                DingTalk robot whose token was reset (300001) go failing;
                channel update gives them the new secret, and the new URL and
                secret: channel list shows them ok, and the next broadcast
                reaches both with the bot still running; no secret in any
                output or the bot's log
  update_filter channel update --units, --all-units and --send change who
                gets what from the next broadcast on, with the bot running
  update_pending broadcasts queued for a robot with no bot running, then its
                token reset and channel update: every one of them is delivered,
                to the new URL, when the bot starts (remove and add would have
                failed them)

Usage: test_channels.py --bot BIN --ctl BIN --plan PLAN.json --fake FAKE.py NAME
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

WINDOW_MS = 1500


class Failed(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failed(msg)


def wait_until(what, fn, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise Failed("timed out waiting for " + what)


class Env:
    def __init__(self, args, robots):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="channels-")
        self.db = os.path.join(self.tmp, "campaign.db")
        self.env = dict(os.environ, CAMPAIGN_DB=self.db,
                        CAMPAIGN_TEST_CHANNEL_WINDOW_MS=str(WINDOW_MS))
        # The campaign's clock stands on a day off in 2027 (no reminder in the
        # way): the signatures must carry the real clock, which the fake checks.
        self.env["CAMPAIGN_NOW"] = "2027-10-09T10:00:00+08:00"
        path = os.path.join(self.tmp, "robots.json")
        with open(path, "w") as f:
            json.dump(robots, f)
        self.fake = subprocess.Popen([sys.executable, args.fake, "--robots", path,
                                      "--window-ms", str(WINDOW_MS), "--lifetime", "240"],
                                     stdout=subprocess.PIPE)
        self.port = int(self.fake.stdout.readline())
        self.bot = None
        self.ctl("plan", "load", args.plan)

    def ctl(self, *argv, ok=True, timeout=60):
        r = subprocess.run([self.args.ctl] + list(argv), env=self.env, capture_output=True,
                           timeout=timeout)
        out, err = r.stdout.decode(), r.stderr.decode()
        if ok:
            check(r.returncode == 0, "campaignctl %s: exit %d\n%s%s" % (
                " ".join(argv), r.returncode, out, err))
        return r.returncode, out, err

    def file(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text + "\n")
        return path

    def add(self, name, kind, rid, secret=None, extra=()):
        base = "http://127.0.0.1:%d" % self.port
        url = {"dingtalk-robot": base + "/robot/send?access_token=" + rid,
               "wecom-robot": base + "/cgi-bin/webhook/send?key=" + rid,
               "feishu-bot": base + "/open-apis/bot/v2/hook/" + rid}[kind]
        argv = ["channel", "add", name, kind, "--url-file", self.file(name + ".url", url)]
        if secret is not None:
            argv += ["--secret-file", self.file(name + ".secret", secret)]
        _, out, err = self.ctl(*(argv + list(extra)))
        # The secrets never show: not the key, not the secret.
        check(rid not in out + err and (secret is None or secret not in out + err),
              "channel add printed a secret")

    def start_bot(self):
        self.out = open(os.path.join(self.tmp, "bot.out"), "ab")
        self.err = open(os.path.join(self.tmp, "bot.err"), "ab")
        self.bot = subprocess.Popen([self.args.bot, "--console", "--db", self.db],
                                    env=self.env, stdin=subprocess.PIPE, stdout=self.out,
                                    stderr=self.err)
        time.sleep(0.3)

    def type(self, line):
        self.bot.stdin.write((line + "\n").encode())
        self.bot.stdin.flush()

    def console(self):
        with open(os.path.join(self.tmp, "bot.out"), "rb") as f:
            return f.read().decode(errors="replace")

    def stop_bot(self, kill=False):
        if self.bot is None:
            return
        if kill:
            os.kill(self.bot.pid, signal.SIGKILL)
        else:
            self.bot.send_signal(signal.SIGTERM)
        try:
            self.bot.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(self.bot.pid, signal.SIGKILL)
            self.bot.wait()
        self.bot = None

    def log(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/_log" % self.port, timeout=10) as r:
            return json.load(r)

    def status(self, bid):
        _, out, _ = self.ctl("broadcast", "status", str(bid), "--json")
        return json.loads(out)

    def close(self, keep):
        self.stop_bot()
        os.kill(self.fake.pid, signal.SIGKILL)
        self.fake.wait()
        if not keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            print("kept " + self.tmp)


def bot_stderr(env):
    with open(os.path.join(env.tmp, "bot.err"), "rb") as f:
        return f.read().decode(errors="replace")


def secrets_not_logged(env, words):
    err = bot_stderr(env)
    for w in words:
        check(w not in err, "the bot logged a secret")


def pending_zero(env, bid):
    def done():
        s = env.status(bid)
        return s["pending"] == 0 and s
    return done


def test_three(env):
    env.add("dt", "dingtalk-robot", "dtok1", "SECdt1")
    env.add("wc", "wecom-robot", "wkey1")
    env.add("fs", "feishu-bot", "fs1", "fssec1")
    env.add("other", "dingtalk-robot", "dtok2", "SECdt2", ["--units", "市委政研室"])
    env.add("digest", "wecom-robot", "wkey2", extra=["--send", "digest"])
    env.start_bot()
    env.type("/subscribe")
    wait_until("the console's subscription", lambda: "已订阅" in env.console())
    _, out, _ = env.ctl("broadcast", "三个群的通知 <b>&", "--units", "市委宣传部")
    bid = int(out.split()[1].rstrip(":"))
    s = wait_until("the broadcast's delivery", pending_zero(env, bid))
    check(s["chats"] == 4 and s["delivered"] == 4 and s["failed"] == 0,
          "broadcast status: 3 channels and the console chat delivered, got %r" % s)
    got = [(e["kind"], e["id"]) for e in env.log() if e["code"] == 0]
    check(sorted(got) == [("dingtalk", "dtok1"), ("feishu", "fs1"), ("wecom", "wkey1")],
          "each channel once, the other units' channel never: %r" % got)
    check([e["code"] for e in env.log() if e["kind"] == "feishu"] == [502, 502, 0],
          "Feishu's two 502s were retried: %r" % env.log())
    for e in env.log():
        # What a reader sees: the Markdown's backslash escapes undone.
        seen = re.sub(r"\\(.)", r"\1", e["text"] or "")
        check(e["code"] == 502 or "三个群的通知 <b>&" in seen, "the text as typed: %r" % e)
    wait_until("the console's copy", lambda: "三个群的通知 <b>&" in env.console())
    _, out, _ = env.ctl("channel", "test", "wc")
    check("delivered" in out, "channel test with a bot running: %r" % out)
    # A long broadcast (3,000 Chinese characters, 9,000 bytes) arrives whole in
    # pieces each within the platform's size (WeCom: 4,096 bytes of Markdown).
    lines = ["第%04d行:各单位按时完成任务,并汇报进度。" % i for i in range(150)]
    seen = len(env.log())
    _, out, _ = env.ctl("broadcast", "\n".join(lines))
    bid = int(out.split()[1].rstrip(":"))
    s = wait_until("the long broadcast", pending_zero(env, bid))
    check(s["failed"] == 0, "the long broadcast failed somewhere: %r" % s)
    new = env.log()[seen:]
    check(all(e["code"] == 0 for e in new), "a piece was refused: %r" %
          [e["code"] for e in new])
    for kind in ("dingtalk", "wecom", "feishu"):
        got = "".join(e["text"] for e in new if e["kind"] == kind)
        check(all(ln in got for ln in lines), "%s got the whole text" % kind)
    secrets_not_logged(env, ["dtok1", "SECdt1", "wkey1", "fssec1", "/hook/fs1"])


def test_burst(env):
    env.add("dt", "dingtalk-robot", "dtok1", "SECdt1")
    for i in range(60):
        env.ctl("broadcast", "burst %02d" % (i + 1))
    env.start_bot()
    wait_until("60 deliveries", lambda: sum(e["code"] == 0 for e in env.log()) >= 60,
               timeout=120)
    log = env.log()
    check(not any(e["code"] == 130101 for e in log),
          "the robot was throttled (130101): %d times" % sum(e["code"] == 130101 for e in log))
    texts = [e["text"].split("burst ")[1] for e in log if e["code"] == 0]
    check(texts == ["%02d" % (i + 1) for i in range(60)], "all 60 in order: %r" % texts)


def test_wrong_secret(env):
    env.add("dt", "dingtalk-robot", "dtok1", "SEC-not-the-right-one")
    env.add("wc", "wecom-robot", "wkey1")
    env.start_bot()
    _, out, _ = env.ctl("broadcast", "密钥错误的测试")
    bid = int(out.split()[1].rstrip(":"))
    s = wait_until("the broadcast's end", pending_zero(env, bid))
    check(s["failed"] == 1 and s["delivered"] == s["chats"] - 1 and
          "310000" in s["failures"][0]["error"], "the robot's delivery failed: %r" % s)
    _, out, _ = env.ctl("channel", "list")
    line = [ln for ln in out.splitlines() if ln.startswith("dt\t")][0]
    check("failing: 310000 sign not match" in line, "channel list shows the failure: %r" % line)
    check("SEC-not" not in out and "dtok1" not in out, "channel list shows no secret")
    wc = [ln for ln in out.splitlines() if ln.startswith("wc\t")][0]
    check(wc.endswith("\tok"), "the other channel is fine: %r" % wc)
    # A failing channel gets no new deliveries.
    _, out, _ = env.ctl("broadcast", "第二条")
    check(env.status(bid + 1)["chats"] == s["chats"] - 1,
          "the failing channel is skipped: %r" % out)
    # Fixed by adding it again with the right secret, the running bot uses it at once.
    env.ctl("channel", "remove", "dt")
    env.add("dt", "dingtalk-robot", "dtok1", "SECdt1")
    _, out, _ = env.ctl("broadcast", "第三条")
    s = wait_until("the third broadcast", pending_zero(env, bid + 2))
    check(s["failed"] == 0 and s["delivered"] == s["chats"], "delivered again: %r" % s)
    check(any(e["code"] == 0 and e["id"] == "dtok1" for e in env.log()),
          "the robot got the third broadcast")


def test_kill9(env):
    env.add("a", "dingtalk-robot", "dtokA", "SECa")
    env.add("b", "dingtalk-robot", "dtokB", "SECb")
    for i in range(30):
        env.ctl("broadcast", "kill9 %02d" % (i + 1))
    env.start_bot()
    wait_until("the fan-out under way", lambda: sum(e["code"] == 0 for e in env.log()) >= 25)
    env.stop_bot(kill=True)
    env.start_bot()
    wait_until("every message", lambda: all(env.status(i)["pending"] == 0
                                            for i in range(1, 31)), timeout=120)
    log = env.log()
    check(not any(e["code"] == 130101 for e in log), "throttled across the restart (130101)")
    for rid in ("dtokA", "dtokB"):
        texts = [e["text"].split("kill9 ")[1] for e in log if e["code"] == 0 and e["id"] == rid]
        want = ["%02d" % (i + 1) for i in range(30)]
        check(sorted(set(texts)) == want, "robot %s: every message: %r" % (rid, texts))
        check(len(texts) - len(set(texts)) <= 1, "robot %s: at most one repeated: %r" %
              (rid, texts))


def update(env, name, *opts, url=None, secret=None):
    """campaignctl channel update NAME, with the URL and secret written to files."""
    argv = ["channel", "update", name]
    if url is not None:
        argv += ["--url-file", env.file(name + ".new.url", url)]
    if secret is not None:
        argv += ["--secret-file", env.file(name + ".new.secret", secret)]
    _, out, err = env.ctl(*(argv + list(opts)))
    check((url is None or url.split("/")[-1].split("=")[-1] not in out + err) and
          (secret is None or secret not in out + err), "channel update printed a secret")
    return out


def list_line(env, name):
    _, out, _ = env.ctl("channel", "list")
    return [ln for ln in out.splitlines() if ln.startswith(name + "\t")][0]


def broadcast(env, text, *opts):
    _, out, _ = env.ctl("broadcast", text, *opts)
    bid = int(out.split()[1].rstrip(":"))
    return wait_until("broadcast %d" % bid, pending_zero(env, bid))


def delivered_to(env, text):
    return sorted(e["id"] for e in env.log() if e["code"] == 0 and text in (e["text"] or ""))


def test_update_secret(env):
    env.add("fs", "feishu-bot", "fs1", "fs-old-secret")
    env.add("dt", "dingtalk-robot", "dtok-old", "SECdt-old")
    env.start_bot()
    s = broadcast(env, "轮换之前")
    check(s["failed"] == 2, "both refused: %r" % s)
    check("failing: 19021" in list_line(env, "fs") and
          "failing: 300001" in list_line(env, "dt"), "both failing")
    # The admin reset the robots' credentials on the platforms; the bot keeps running.
    out = update(env, "fs", secret="fssec1")
    check("no longer failing" in out and list_line(env, "fs").endswith("\tok"),
          "a new secret clears the failing mark: %r" % out)
    base = "http://127.0.0.1:%d" % env.port
    update(env, "dt", url=base + "/robot/send?access_token=dtok1", secret="SECdt1")
    line = list_line(env, "dt")
    check(line.endswith("\tok") and "…tok1" in line, "the new URL's last four, ok: %r" % line)
    s = broadcast(env, "轮换之后")
    check(s["failed"] == 0 and s["delivered"] == s["chats"], "nothing refused now: %r" % s)
    check(delivered_to(env, "轮换之后") == ["dtok1", "fs1"], "to the new URL: %r" % env.log())
    _, out, err = env.ctl("channel", "list")
    for w in ("fssec1", "fs-old-secret", "SECdt1", "dtok1", "dtok-old"):
        check(w not in out + err, "channel list shows no secret")
    secrets_not_logged(env, ["fssec1", "fs-old-secret", "SECdt1", "SECdt-old", "dtok1",
                             "dtok-old", "/hook/fs1"])


def test_update_filter(env):
    env.add("a", "dingtalk-robot", "dtokA", "SECa")
    env.add("b", "wecom-robot", "wkeyB", extra=["--units", "市委宣传部"])
    env.start_bot()
    broadcast(env, "第一条", "--units", "市委政研室")
    check(delivered_to(env, "第一条") == ["dtokA"], "b is for another unit")
    out = update(env, "a", "--units", "市委宣传部")
    check("(units)" in out and "of 市委宣传部" in list_line(env, "a"), "a's filter: %r" % out)
    update(env, "b", "--all-units")
    broadcast(env, "第二条", "--units", "市委政研室")
    check(delivered_to(env, "第二条") == ["wkeyB"], "a no longer, b now: %r" % env.log())
    update(env, "b", "--send", "digest")
    s = broadcast(env, "第三条")
    check(s["failed"] == 0 and delivered_to(env, "第三条") == ["dtokA"],
          "b only wants the digest now: %r" % s)
    check(list_line(env, "b").split("\t")[3] == "digest", "b gets the digest alone")


def test_update_pending(env):
    env.add("dt", "dingtalk-robot", "dtok-old", "SECdt-old")
    for i in range(5):
        env.ctl("broadcast", "排队 %d" % (i + 1))
    base = "http://127.0.0.1:%d" % env.port
    update(env, "dt", "--send", "broadcasts,reminders,digest",
           url=base + "/robot/send?access_token=dtok1", secret="SECdt1")
    env.start_bot()
    wait_until("the queued broadcasts", lambda: all(env.status(i)["pending"] == 0
                                                    for i in range(1, 6)))
    for i in range(1, 6):
        s = env.status(i)
        check(s["delivered"] == 1 and s["failed"] == 0, "broadcast %d delivered: %r" % (i, s))
    got = [e["text"] for e in env.log() if e["code"] == 0 and e["id"] == "dtok1"]
    check(len(got) == 5 and not any(e["id"] == "dtok-old" for e in env.log()),
          "all five to the new URL, none to the old: %r" % env.log())
    secrets_not_logged(env, ["SECdt1", "SECdt-old", "dtok1", "dtok-old"])


TESTS = {
    "three": ([{"kind": "dingtalk", "id": "dtok1", "secret": "SECdt1"},
               {"kind": "wecom", "id": "wkey1"},
               {"kind": "feishu", "id": "fs1", "secret": "fssec1", "fail_5xx": 2},
               {"kind": "dingtalk", "id": "dtok2", "secret": "SECdt2"},
               {"kind": "wecom", "id": "wkey2"}], test_three),
    "burst": ([{"kind": "dingtalk", "id": "dtok1", "secret": "SECdt1"}], test_burst),
    "wrong_secret": ([{"kind": "dingtalk", "id": "dtok1", "secret": "SECdt1"},
                      {"kind": "wecom", "id": "wkey1"}], test_wrong_secret),
    "kill9": ([{"kind": "dingtalk", "id": "dtokA", "secret": "SECa"},
               {"kind": "dingtalk", "id": "dtokB", "secret": "SECb"}], test_kill9),
    "update_secret": ([{"kind": "feishu", "id": "fs1", "secret": "fssec1"},
                       {"kind": "dingtalk", "id": "dtok1", "secret": "SECdt1"}],
                      test_update_secret),
    "update_filter": ([{"kind": "dingtalk", "id": "dtokA", "secret": "SECa"},
                       {"kind": "wecom", "id": "wkeyB"}], test_update_filter),
    "update_pending": ([{"kind": "dingtalk", "id": "dtok1", "secret": "SECdt1"}],
                       test_update_pending),
}


def main():
    ap = argparse.ArgumentParser()
    for opt in ("--bot", "--ctl", "--plan", "--fake"):
        ap.add_argument(opt, required=True)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("name", choices=sorted(TESTS))
    args = ap.parse_args()
    robots, fn = TESTS[args.name]
    env = Env(args, robots)
    ok = False
    try:
        fn(env)
        env.stop_bot()
        check("Sanitizer" not in bot_stderr(env), "the sanitizers reported:\n" +
              bot_stderr(env)[-3000:])
        ok = True
    except Failed as e:
        print("FAIL %s: %s" % (args.name, e))
        print(bot_stderr(env)[-3000:])
    finally:
        env.close(keep=args.keep and not ok)
    print("1 passed, 0 failed" if ok else "0 passed, 1 failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
