#!/usr/bin/python3
"""campaign-bot's wecom driver against the fake WeCom (tests/fake/fake_wecom.py).

One named scenario per run (`test_wecom.py ... NAME`; `--list` lists them).
Each starts a fresh database with the seed plan, the fake on free loopback
ports and the bot with `[chat] drivers = wecom`, drives a conversation
through the fake's control API (tests/fake/wecom_control.py) and checks
what users got, what the database holds and that the fake saw no protocol
violation (nothing before the subscribe answer, replies on the callback's
req_id, streams finished). The Secret must not appear in the bot's output.
"""

import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fake"))
from wecom_control import FakeWeCom  # noqa: E402
from test_telegram import check, run_named, wait_until  # noqa: E402

TESTS = {}


def test(fn):
    TESTS[fn.__name__] = fn
    return fn


def start(env, extra_cfg="", fake_args=(), bot_env=None):
    """The fake (once), then the bot on it."""
    if env.fake is None:
        env.fake = FakeWeCom(env.tmp, extra_args=list(fake_args))
    fake = env.fake
    path = os.path.join(env.tmp, "bot.ini")
    with open(path, "w") as f:
        f.write("[chat]\ndrivers = wecom\n%s\n[wecom]\nbot_id = %s\nws_url = %s\n"
                "secret_file = %s\n" % (extra_cfg, fake.bot_id, fake.ws_url, fake.secret_file))
    e = dict(env.env)
    e.update(bot_env or {})
    env.runs += 1
    out = os.path.join(env.tmp, "bot.%d.out" % env.runs)
    err = os.path.join(env.tmp, "bot.%d.err" % env.runs)
    env.outputs += [out, err]
    env.bot_proc = subprocess.Popen([env.args.bot, "--config", path, "-v"], env=e,
                                    stdout=open(out, "w"), stderr=open(err, "w"))
    return fake


def plain(markdown):
    """What a reader sees of our Markdown: no bold marks, break spaces or escapes."""
    return re.sub(r"\\(.)", r"\1", markdown.replace("**", "").replace("  \n", "\n"))


def texts(sent):
    return [plain(s.get("text") or "") for s in sent]


def no_violations(env):
    v = env.fake.state()["violations"]
    check(v == [], "protocol violations: %r" % v)
    check(env.fake.secret not in env.bot_log(), "the Secret appears in the bot's output")


def bind(env, unit, users):
    for u in users:
        env.fake.message(userid=u, text="/bind " + env.invite(unit))


@test
def conversation(env):
    fake = start(env)
    fake.wait(subscribed_connections=1)
    fake.message(userid="u1", text="倒计时")
    fake.wait(stream=1)
    bind(env, "扶贫办", ["u1"])
    fake.wait(stream=2)
    fake.message(userid="u1", text="/report 2.4 60 已动员")
    fake.wait(stream=3)
    fake.message(userid="u2", text="/report 2.4 30")
    fake.wait(stream=4)
    fake.message(userid="u2", text="/broadcast 明天开会")
    fake.wait(stream=5)
    fake.message(type="group", chatid="wrGROUP1", userid="u1", text="/task 2.4")
    fake.wait(stream=6)
    got = fake.sent(via="stream")
    t = texts(got)
    check("还有 9 天" in t[0], "countdown: %r" % t[0])
    check("已绑定到 市扶贫办" in t[1], "bind: %r" % t[1])
    check("已记录 2.4" in t[2] and "60%" in t[2], "report: %r" % t[2])
    check("绑定" in t[3] and "已记录" not in t[3], "an unbound user is refused: %r" % t[3])
    check("只有活动管理员" in t[4], "a non-admin cannot broadcast: %r" % t[4])
    check("市扶贫办:60%" in t[5], "the group's /task (mention stripped): %r" % t[5])
    check(got[5]["chatid"] == "wrGROUP1", "the group's answer in the group: %r" % got[5])
    responses = {r["req_id"]: r for r in fake.responses()}
    for s in got:
        check(s["req_id"] in responses, "each reply on its callback's req_id: %r" % s)
    check(env.sql("SELECT platform, user_id, percent FROM reports") == [("wecom", "u1", 60)],
          "one report, by wecom:u1")
    env.stop_bot()
    no_violations(env)


@test
def broadcast_and_reminders(env):
    fake = start(env)
    fake.wait(subscribed_connections=1)
    bind(env, "扶贫办", ["s1", "s2"])
    fake.message(type="group", chatid="wrGROUP2", userid="s1", text="/subscribe")
    fake.wait(stream=3)
    env.ctl("broadcast", "明天上午9点召开推进会")
    wait_until(lambda: len([s for s in fake.sent(via="send_msg") if "推进会" in
                            plain(s["text"])]) >= 3, 30, "the broadcast to 2 staff and a group")
    chats = sorted(s["chatid"] for s in fake.sent(via="send_msg") if "推进会" in plain(s["text"]))
    check(chats == ["s1", "s2", "wrGROUP2"], "each target once, by aibot_send_msg: %r" % chats)
    env.stop_bot()
    env.env["CAMPAIGN_NOW"] = "2027-10-14T09:00:00+08:00"   # 3 days before 2.4
    n = len(fake.sent(via="send_msg"))
    start(env)
    wait_until(lambda: any("2.4" in plain(s["text"]) for s in
                           fake.sent(via="send_msg")[n:]), 30, "a reminder of 2.4")
    env.stop_bot()
    no_violations(env)


@test
def kicked(env):
    fake = start(env, bot_env={"CAMPAIGN_TEST_WECOM_PING_MS": "400"})
    fake.wait(subscribed_connections=1)
    fake.fault(fault="kick")
    t0 = time.monotonic()
    fake.wait(subscribed=2, timeout=60)
    waited = time.monotonic() - t0
    check(waited > 10, "a kicked bot waits (about 20 s), not a tight loop: %.1f s" % waited)
    check("kicked" in env.bot_log(), "said loudly")
    fake.message(userid="k1", text="/countdown")
    fake.wait(stream=1)
    env.stop_bot()
    no_violations(env)


@test
def faults(env):
    fake = start(env, bot_env={"CAMPAIGN_TEST_WECOM_PING_MS": "400"})
    fake.wait(subscribed_connections=1)
    fake.fault(fault="silent")              # two pings unanswered: a new connection
    fake.wait(subscribed=2, timeout=30)
    fake.fault(fault="reset")
    fake.wait(subscribed=3, timeout=30)
    fake.fault(fault="malformed")
    fake.fault(fault="big_frame")            # over 1 MiB: refused, the connection renewed
    fake.wait(subscribed=4, timeout=30)
    fake.message(userid="f1", text="/countdown", msgid="msgREPEAT1")
    fake.wait(stream=1)
    fake.fault(fault="repeat_msgid", msgid="msgREPEAT1")
    time.sleep(1.5)
    check(len(fake.sent(via="stream")) == 1, "a repeated msgid is answered once")
    check("还有 9 天" in texts(fake.sent(via="stream"))[0], "answers after the faults")
    env.stop_bot()
    no_violations(env)


@test
def expired_stream(env):
    fake = start(env)
    fake.wait(subscribed_connections=1)
    env.bot_proc.send_signal(signal.SIGSTOP)
    fake.message(userid="e1", text="/countdown")
    fake.fault(fault="expire_streams")
    env.bot_proc.send_signal(signal.SIGCONT)
    fake.wait(send_msg=1)
    check("还有 9 天" in plain(fake.sent(via="send_msg")[0]["text"]),
          "an expired stream's answer goes by aibot_send_msg")
    env.stop_bot()


@test
def kill9_reports(env):
    fake = start(env)
    fake.wait(subscribed_connections=1)
    users = ["k%02d" % i for i in range(20)]
    bind(env, "扶贫办", users)
    fake.wait(stream=len(users))
    n = len(fake.sent())
    fake.messages(*[{"userid": u, "text": "/report 2.4 %d" % (i + 1)}
                    for i, u in enumerate(users)])
    time.sleep(0.3)
    env.bot_proc.send_signal(signal.SIGKILL)
    env.bot_proc.wait()
    env.bot_proc = None
    start(env)
    fake.wait(subscribed=2)
    time.sleep(3)
    rows = env.sql("SELECT user_id, count(*) FROM reports GROUP BY user_id")
    check(all(c == 1 for _, c in rows), "no report twice: %r" % rows)
    confirmed = {s.get("userid") or s.get("chatid") for s in fake.sent()[n:]
                 if "已记录" in plain(s.get("text") or "")}
    check(confirmed <= {u for u, _ in rows}, "every confirmed report is recorded")
    print("kill9: %d of %d reports recorded, %d confirmed" % (len(rows), len(users),
                                                              len(confirmed)))
    env.stop_bot()


@test
def wrong_secret(env):
    fake = start(env, bot_env={"WECOM_BOT_SECRET": "not-the-secret"})
    rc = env.bot_proc.wait(30)
    env.bot_proc = None
    check(rc == 1, "exit %r" % rc)
    check("credentials" in env.bot_log(), "a clear error: %r" % env.bot_log()[-400:])
    check(fake.state()["counts"]["subscribed"] == 0, "never subscribed")


def file_of(name, data, **extra):
    import base64
    return dict({"name": name, "data_b64": base64.b64encode(data).decode()}, **extra)


@test
def files(env):
    """A unit's summary sent as a WeCom file (issue 15): downloaded from the
    message's URL, decrypted with its aeskey, named from Content-Disposition,
    stored once as the unit's submission and confirmed; a nameless file, an
    expired link, a download that fails and an unbound sender are told why."""
    fake = start(env)
    fake.wait(subscribed_connections=1)
    bind(env, "市委宣传部", ["u1"])
    fake.wait(stream=1)
    summary = b"PK\x03\x04" + "宣传部扶贫日工作总结".encode() * 333   # not whole blocks
    fake.message(userid="u1", msgid="msgFILE0001", file=file_of("宣传部扶贫日总结.docx", summary))
    fake.wait(file_gets=1)
    wait_until(lambda: len(fake.sent()) >= 2, 30, "the confirmation")
    got = texts(fake.sent())[1]
    check("已收到 市委宣传部 报送的《宣传部扶贫日总结.docx》" in got and "3.4" in got,
          "the confirmation names the file from Content-Disposition: %r" % got)
    rows = env.sql("SELECT s.name, s.size, s.channel, u.name, s.sha256 FROM submissions s "
                   "JOIN units u ON u.id = s.unit_id")
    check([r[:4] for r in rows] == [("宣传部扶贫日总结.docx", len(summary), "wecom", "市委宣传部")],
          "the submission: %r" % rows)
    with open(os.path.join(env.tmp, "files", rows[0][4]), "rb") as f:
        check(f.read() == summary, "the file kept decrypted, byte for byte")

    fake.message(userid="u1", msgid="msgFILE0001", file=file_of("宣传部扶贫日总结.docx", summary))
    fake.message(userid="u1", file=file_of("plain.pdf", b"%PDF-1.4 plain", disposition="plain"))
    fake.message(userid="u1", file=file_of("noname.pdf", b"%PDF-1.4", disposition="none"))
    fake.message(userid="u1", file=file_of("过期.pdf", b"%PDF-1.4", url_ttl=0))
    fake.message(userid="u9", file=file_of("无主.docx", summary))
    wait_until(lambda: len(fake.sent()) >= 6, 60, "five more answers")
    later = texts(fake.sent())[2:]
    check(any("已收到" in t and "《plain.pdf》" in t for t in later),
          "a plain filename= header is read too: %r" % later)
    check(any("《文件》没有收到" in t and "只接受这些格式" in t for t in later),
          "a file without any name cannot pass the type check: %r" % later)
    check(any("没有收到" in t and "下载链接已失效" in t for t in later),
          "an expired link is named: %r" % later)
    check(any("还没有绑定单位" in t for t in later), "an unbound sender is told: %r" % later)
    time.sleep(1)
    check(len(fake.sent()) == 6, "one answer per message, none for the repeat: %r"
          % texts(fake.sent()))
    names = [r[0] for r in env.sql("SELECT name FROM submissions ORDER BY id")]
    check(names == ["宣传部扶贫日总结.docx", "plain.pdf"], "two files stored: %r" % names)
    env.stop_bot()
    no_violations(env)


if __name__ == "__main__":
    sys.exit(run_named(TESTS))
