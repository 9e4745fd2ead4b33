#!/usr/bin/python3
"""campaign-bot's dingtalk driver against the fake DingTalk (tests/fake/fake_dingtalk.py).

One named scenario per run (`test_dingtalk.py ... NAME`; `--list` lists them).
Each starts a fresh database with the seed plan, the fake on free loopback
ports and the bot with `[chat] drivers = dingtalk`, drives a conversation
through the fake's control API (tests/fake/dingtalk_control.py), and checks
what the staff got, what the database holds and what the fake recorded
(ACKs, protocol violations). The AppSecret must not appear in the bot's output.
"""

import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fake"))
from dingtalk_control import FakeDingTalk  # noqa: E402
from test_telegram import Env, Failure, check, run_named, wait_until  # noqa: E402

TESTS = {}


def test(fn):
    TESTS[fn.__name__] = fn
    return fn


def start(env, extra_cfg="", fake_args=(), bot_env=None):
    """The fake, then the bot on it; returns the fake once the stream is open."""
    if env.fake is None:
        env.fake = FakeDingTalk(env.tmp, extra_args=list(fake_args))
        env.fake.no_violations = lambda: None
        env.fake.secret_text = env.fake.secret
    fake = env.fake
    path = os.path.join(env.tmp, "bot.ini")
    with open(path, "w") as f:
        f.write("[chat]\ndrivers = dingtalk\n%s\n[dingtalk]\nclient_id = %s\napi_url = %s\n"
                % (extra_cfg, fake.client_id, fake.url))
    e = dict(env.env, DINGTALK_CLIENT_SECRET=fake.secret)
    e.update(bot_env or {})
    env.runs += 1
    out = os.path.join(env.tmp, "bot.%d.out" % env.runs)
    err = os.path.join(env.tmp, "bot.%d.err" % env.runs)
    env.outputs += [out, err]
    import subprocess
    env.bot_proc = subprocess.Popen([env.args.bot, "--config", path, "-v"], env=e,
                                    stdout=open(out, "w"), stderr=open(err, "w"))
    return fake


def plain(markdown):
    """What a reader sees of our Markdown: no bold marks, no break spaces, no escapes."""
    return markdown.replace("**", "").replace("  \n", "\n").replace("\\", "")


def texts(sent):
    return [plain(s.get("text", "")) for s in sent]


def bind(env, unit, staff_ids):
    for sid in staff_ids:
        code = env.invite(unit)
        env.fake.message(staff_id=sid, nick="员工" + sid, text="/bind " + code)


def check_secret_absent(env):
    log = env.bot_log()
    check(env.fake.secret not in log, "the AppSecret appears in the bot's output")


@test
def conversation(env):
    fake = start(env)
    fake.wait(open_connections=1)
    fake.message(staff_id="staff01", nick="王", text="倒计时")
    bind(env, "扶贫办", ["staff01"])
    fake.message(staff_id="staff01", text="/report 2.4 60 已动员180家企业")
    fake.message(staff_id="staff02", text="/report 2.4 30")          # not bound
    fake.message(staff_id="staff02", text="/broadcast 明天开会")      # not an admin
    fake.message(type="group", conversation_id="cidGROUP01==", staff_id="staff01",
                 text="/task 2.4")
    fake.wait(sent=6, acks=6)
    got = fake.sent()
    check(all(s["via"] == "webhook" for s in got), "replies go through the session "
          "webhook: %r" % [s["via"] for s in got])
    by_chat = {}
    for s in got:       # each chat's replies in order; chats interleave
        by_chat.setdefault(s["conversationId"], []).append(plain(s.get("text", "")))
    private = [t for c, ts in by_chat.items() for t in ts if c != "cidGROUP01=="]
    t = by_chat[got[0]["conversationId"]]
    check("还有 9 天" in t[0], "countdown: %r" % t[0])
    check("已绑定到 市扶贫办" in t[1], "bind: %r" % t[1])
    check("已记录 2.4" in t[2] and "60%" in t[2], "report: %r" % t[2])
    other = [x for x in private if x not in t]
    check(len(other) == 2 and "绑定" in other[0] and "已记录" not in other[0],
          "an unbound user is refused: %r" % other)
    check("只有活动管理员" in other[1], "a non-admin cannot broadcast: %r" % other)
    g = by_chat["cidGROUP01=="][0]
    check("2.4" in g and "市扶贫办:60%" in g, "the group's /task (mention stripped): %r" % g)
    check(env.sql("SELECT platform, user_id, percent FROM reports") ==
          [("dingtalk", "staff01", 60)], "one report, by dingtalk:staff01")
    check(env.sql("SELECT count(*) FROM events WHERE type = 'progress'")[0][0] == 1,
          "a progress event for MQTT")
    check(fake.state()["violations"] == [], "protocol violations: %r"
          % fake.state()["violations"])
    env.stop_bot()
    check_secret_absent(env)


@test
def broadcast_and_reminders(env):
    fake = start(env)
    fake.wait(open_connections=1)
    bind(env, "扶贫办", ["s1", "s2", "s3"])
    fake.message(type="group", conversation_id="cidGROUP02==", staff_id="s1", text="/subscribe")
    fake.wait(sent=4)
    time.sleep(1.2)     # past the per-chat pace of the replies: all ready in one pass
    n = len(fake.sent())
    env.ctl("broadcast", "明天上午9点召开推进会")

    def reached():
        got = [s for s in fake.sent(since=n) if "推进会" in plain(s.get("text", ""))]
        return sum(len(s.get("userIds", [])) + (s["via"] == "groupSend") for s in got) >= 4
    wait_until(reached, 30, "the broadcast to 3 staff and the group")
    got = [s for s in fake.sent(since=n) if "推进会" in plain(s.get("text", ""))]
    staff = sorted(u for s in got if s["via"] == "batchSend" for u in s["userIds"])
    check(staff == ["s1", "s2", "s3"], "each bound staff once: %r" % staff)
    check(len([s for s in got if s["via"] == "batchSend"]) == 1,
          "one batchSend for the three (batched): %r" % got)
    check([s["via"] for s in got].count("groupSend") == 1, "the subscribed group once: %r"
          % [s["via"] for s in got])
    # A restart on a later morning: reminders reach the bound staff unprompted.
    env.stop_bot()
    env.env["CAMPAIGN_NOW"] = "2027-10-14T09:00:00+08:00"   # 3 days before 2.4
    m = len(fake.sent())
    start(env)
    wait_until(lambda: any(s["via"] == "batchSend" and "2.4" in plain(s.get("text", ""))
                           for s in fake.sent(since=m)), 30, "a reminder of 2.4 by batchSend")
    env.stop_bot()
    check_secret_absent(env)


@test
def admin_per_platform(env):
    fake = start(env, extra_cfg="admins = telegram:boss01")
    fake.wait(open_connections=1)
    fake.message(staff_id="boss01", text="/broadcast 测试")
    fake.wait(sent=1)
    check("只有活动管理员" in texts(fake.sent())[0], "a Telegram admin is not a DingTalk admin")
    env.stop_bot()
    start(env, extra_cfg="admins = dingtalk:boss01")
    fake.wait(open_connections=1)
    fake.message(staff_id="boss01", text="/broadcast 测试")
    wait_until(lambda: any("广播 #1" in t for t in texts(fake.sent())), 20,
               "the DingTalk admin's broadcast")
    env.stop_bot()


@test
def webhook_expired(env):
    fake = start(env)
    fake.wait(open_connections=1)
    # A webhook about to expire is not used: the reply goes by the robot API.
    fake.message(staff_id="u1", text="/countdown", webhook_ttl=20)
    fake.wait(sent=1)
    check(fake.sent()[0]["via"] == "batchSend", "late reply via batchSend: %r" % fake.sent())
    # One that DingTalk expired early (300001) falls back too: the bot is
    # stopped while the message waits in its socket and the webhook expires.
    fake.message(staff_id="u2", text="/countdown")
    fake.wait(sent=2)
    env.bot_proc.send_signal(signal.SIGSTOP)
    fake.message(staff_id="u2", text="/countdown")
    fake.fault(fault="expire_webhooks")
    env.bot_proc.send_signal(signal.SIGCONT)
    fake.wait(sent=3)
    check([s["via"] for s in fake.sent()] == ["batchSend", "webhook", "batchSend"],
          "vias: %r" % [s["via"] for s in fake.sent()])
    env.stop_bot()


@test
def reconnects(env):
    fake = start(env, bot_env={"CAMPAIGN_TEST_DINGTALK_SILENCE_MS": "3000"},
                 fake_args=["--disconnect-grace", "1"])
    fake.wait(open_connections=1)
    # Idle but healthy (the fake sends nothing unasked): our pings' pongs keep it.
    time.sleep(4.5)
    check(fake.state()["counters"]["open"] == 1, "an idle connection is kept: %r"
          % fake.state()["counters"])
    fake.fault(fault="disconnect")
    fake.wait(opens=2, open_connections=1)
    fake.fault(fault="reset")
    fake.wait(opens=3, open_connections=1)
    fake.fault(fault="silent")
    fake.wait(opens=4, open_connections=1, timeout=30)
    fake.fault(fault="malformed")
    fake.fault(fault="big_frame")            # over 1 MiB: refused, a new connection
    fake.wait(opens=5, open_connections=1, timeout=30)
    # The next open fails with a 5xx, the ticket after that is born expired.
    fake.fault(fault="open_5xx", times=1)
    fake.fault(fault="ticket_expired", times=1)
    fake.fault(fault="drop")
    fake.wait(opens=7, open_connections=1, timeout=60)
    fake.message(staff_id="u1", text="/countdown")
    fake.wait(sent=1)
    check("还有 9 天" in texts(fake.sent())[0], "answers after every fault")
    env.stop_bot()


@test
def token_and_qps(env):
    fake = start(env)
    fake.wait(open_connections=1)
    bind(env, "扶贫办", ["t1"])
    fake.wait(sent=1)
    env.ctl("broadcast", "第一条")
    wait_until(lambda: any("第一条" in t for t in texts(fake.sent())), 20, "first broadcast")
    fake.fault(fault="expire_token")
    env.ctl("broadcast", "第二条")
    wait_until(lambda: any("第二条" in t for t in texts(fake.sent())), 20,
               "a broadcast after the token was revoked (renewed once)")
    fake.fault(fault="qps", api="batchSend", code="QpsLimitForApi", times=1)
    env.ctl("broadcast", "第三条")
    wait_until(lambda: any("第三条" in t for t in texts(fake.sent())), 30,
               "a broadcast after a QPS refusal (paused, then sent)")
    check(any("QpsLimit" in (e.get("code") or "") for e in fake.log(kind="api_error")),
          "the QPS limit was met: %r" % fake.log(kind="api_error"))
    check(env.sql("SELECT count(*) FROM deliveries WHERE state = 2")[0][0] == 0,
          "nothing failed")
    env.stop_bot()


@test
def repeated_msgid(env):
    fake = start(env)
    fake.wait(open_connections=1)
    bind(env, "扶贫办", ["r1"])
    fake.message(staff_id="r1", text="/report 2.4 40", msg_id="msgREPEAT01==")
    fake.message(staff_id="r1", text="/report 2.4 40", msg_id="msgREPEAT01==")
    fake.wait(acks=3)
    time.sleep(1)
    check(env.sql("SELECT count(*) FROM reports")[0][0] == 1, "a repeated msgId is one report")
    env.stop_bot()


@test
def kill9_reports(env):
    fake = start(env)
    fake.wait(open_connections=1)
    users = ["k%02d" % i for i in range(20)]
    bind(env, "扶贫办", users)
    fake.wait(sent=len(users))
    n = len(fake.sent())
    fake.messages(*[{"staff_id": u, "text": "/report 2.4 %d" % (i + 1)}
                    for i, u in enumerate(users)])
    time.sleep(0.3)
    env.bot_proc.send_signal(signal.SIGKILL)
    env.bot_proc.wait()
    env.bot_proc = None
    start(env)
    fake.wait(open_connections=1)
    time.sleep(3)
    confirmed = {u for s in fake.sent(since=n) if "已记录" in plain(s.get("text", ""))
                 for u in ([s["staffId"]] if "staffId" in s else s.get("userIds", []))}
    rows = env.sql("SELECT user_id, count(*) FROM reports GROUP BY user_id")
    check(all(c == 1 for _, c in rows), "no report twice: %r" % rows)
    recorded = {u for u, _ in rows}
    check(confirmed <= recorded, "every confirmed report is recorded: %r" %
          (confirmed - recorded))
    print("kill9: %d of %d reports recorded, %d confirmed" % (len(recorded), len(users),
                                                              len(confirmed)))
    env.stop_bot()


@test
def bad_credentials(env):
    fake = start(env, bot_env={"DINGTALK_CLIENT_SECRET": "wrong-secret"})
    rc = env.bot_proc.wait(30)
    env.bot_proc = None
    check(rc == 1, "exit %r" % rc)
    check("AppSecret" in env.bot_log() or "credentials" in env.bot_log(),
          "a clear error: %r" % env.bot_log()[-500:])
    check(fake.state()["open_connections"] == 0, "no connection")


def file_of(name, data, **extra):
    import base64
    return dict({"name": name, "data_b64": base64.b64encode(data).decode()}, **extra)


def stored_files(env):
    return env.sql("SELECT s.name, s.size, s.channel, u.name, s.sha256 FROM submissions s "
                   "JOIN units u ON u.id = s.unit_id ORDER BY s.id")


@test
def files(env):
    """A unit's summary sent as a DingTalk file (issue 15): the bot resolves the
    downloadCode, downloads, stores it once as the unit's submission and confirms;
    a redelivered message is not a second one; a refused code, a wrong type, a
    file over max_size_mb and an unbound sender are each told why."""
    fake = start(env, extra_cfg="[mail]\nmax_size_mb = 1\n")
    fake.wait(open_connections=1)
    bind(env, "市委宣传部", ["staff01"])
    fake.wait(sent=1)
    summary = b"PK\x03\x04" + "宣传部扶贫日工作总结".encode() * 400
    fake.message(staff_id="staff01", msg_id="msgFILE0001",
                 file=file_of("宣传部扶贫日总结.docx", summary))
    fake.wait(sent=2, file_gets=1)
    got = texts(fake.sent())[1]
    check("已收到 市委宣传部 报送的《宣传部扶贫日总结.docx》" in got and "3.4" in got,
          "the confirmation: %r" % got)
    rows = stored_files(env)
    check([r[:4] for r in rows] == [("宣传部扶贫日总结.docx", len(summary), "dingtalk",
                                      "市委宣传部")], "the submission: %r" % rows)
    with open(os.path.join(env.tmp, "files", rows[0][4]), "rb") as f:
        check(f.read() == summary, "the file kept byte for byte")
    check("1 of 15 submitted" in env.ctl("submissions"), "campaignctl counts it")

    # DingTalk redelivers a message it saw no ACK for: the same msgId again
    fake.message(staff_id="staff01", msg_id="msgFILE0001",
                 file=file_of("宣传部扶贫日总结.docx", summary))
    fake.message(staff_id="staff01", file=file_of("病毒.exe", b"MZ" * 100))
    fake.message(staff_id="staff01", file=file_of("过期.pdf", b"%PDF-1.4", code_ttl=0))
    fake.message(staff_id="staff01", file=file_of("太大.pdf", b"%PDF" + b"0" * (1 << 20)))
    fake.message(staff_id="staff09", file=file_of("无主.docx", summary))
    fake.wait(sent=6, timeout=60)
    later = texts(fake.sent())[2:]
    check(any("《病毒.exe》没有收下" in t and "只接受这些格式" in t for t in later),
          "a wrong type is refused at once: %r" % later)
    check(any("《过期.pdf》没有收到" in t and "钉钉拒绝下载" in t for t in later),
          "an expired download code is named: %r" % later)
    check(any("《太大.pdf》没有收到" in t and "超过上限 1 MB" in t for t in later),
          "an oversized file is refused: %r" % later)
    check(any("还没有绑定单位" in t for t in later), "an unbound sender is told: %r" % later)
    time.sleep(1)
    check(len(fake.sent()) == 6, "one answer per message, none for the repeat: %r"
          % texts(fake.sent()))
    check(len(stored_files(env)) == 1, "nothing else stored: %r" % stored_files(env))
    urls = [u.get("msgId") for u in fake.log("file_url")]
    check(urls.count("msgFILE0001") == 1, "the summary's URL asked for once: %r" % urls)
    check(fake.state()["violations"] == [], "protocol violations: %r"
          % fake.state()["violations"])
    env.stop_bot()
    check_secret_absent(env)


@test
def doctor(env):
    """campaignctl doctor signs in to DingTalk as the bot would, and names a refusal."""
    import subprocess
    fake = start(env)
    fake.wait(open_connections=1)
    env.stop_bot()
    ini = os.path.join(env.tmp, "bot.ini")

    def run(secret):
        e = dict(env.env, DINGTALK_CLIENT_SECRET=secret)
        r = subprocess.run([env.args.ctl, "doctor", "--config", ini], env=e,
                           capture_output=True, text=True, timeout=60)
        return [ln for ln in r.stdout.splitlines() if "dingtalk" in ln]
    good = run(fake.secret)
    check(len(good) == 1 and good[0].startswith("OK"), "good credentials: %r" % good)
    bad = run("not-the-secret")
    check(len(bad) == 1 and "refused" in bad[0] and not bad[0].startswith("OK"),
          "a wrong AppSecret is named: %r" % bad)
    check(fake.secret not in "".join(good + bad), "no secret printed")


if __name__ == "__main__":
    sys.exit(run_named(TESTS))
