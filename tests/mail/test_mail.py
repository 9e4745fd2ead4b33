#!/usr/bin/python3
"""campaign-bot and the office mailbox, against real servers (issue 15).

One named scenario per run (`test_mail.py ... NAME`; `--list` lists them).
Each starts a throwaway Dovecot (its own config and Maildir, a free loopback
port) and an aiosmtpd sink, a fresh database with the seed plan, and the
bot with [mail] polling every second; mail is put into the mailbox with
IMAP APPEND, as a mail server would deliver it. What a user would notice is
checked: the submissions campaignctl lists, the files kept, the
confirmations the senders got. The mailbox password never reaches the
bot's output.
"""

import argparse
import email
import email.header
import imaplib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402

TESTS = {}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
UNIT = "市委宣传部"


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
        time.sleep(0.1)
    raise Failure("timed out waiting for " + what)


def mime(sender, subject, msgid, attachments=(), body="见附件。"):
    """A message as bytes; attachments are (raw Content-Disposition filename
    parameter bytes, content bytes)."""
    boundary = "b0undary42"
    head = ("From: %s\r\nTo: office@example.org\r\nSubject: %s\r\n"
            "Message-ID: <%s>\r\nDate: Thu, 28 Oct 2027 10:00:00 +0800\r\n"
            "MIME-Version: 1.0\r\n" % (
                sender, email.header.Header(subject, "utf-8").encode(), msgid)).encode()
    if not attachments:
        return head + b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + \
            body.encode() + b"\r\n"
    out = head + ('Content-Type: multipart/mixed; boundary="%s"\r\n\r\n' % boundary).encode()
    out += ("--%s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n" % (
        boundary, body)).encode()
    import base64
    for param, data in attachments:
        out += ("--%s\r\nContent-Type: %s\r\nContent-Transfer-Encoding: base64\r\n"
                % (boundary, DOCX)).encode()
        out += b"Content-Disposition: attachment; " + param + b"\r\n\r\n"
        out += base64.encodebytes(data).replace(b"\n", b"\r\n")
    out += ("--%s--\r\n" % boundary).encode()
    return out


def rfc2231(name):
    from urllib.parse import quote
    return b"filename*=UTF-8''" + quote(name.encode()).encode()


def rfc2047(name):
    return b'filename="' + email.header.Header(name, "gb18030").encode().encode() + b'"'


def raw_gbk(name):
    return b'filename="' + name.encode("gbk") + b'"'


class Env:
    def __init__(self, args, tmp):
        self.args = args
        self.tmp = tmp
        self.imap = servers.Dovecot(tmp)
        self.smtp = servers.SmtpSink(tmp)
        self.state = os.path.join(tmp, "state")
        os.makedirs(self.state)
        self.db = os.path.join(self.state, "campaign.db")
        pw = os.path.join(tmp, "mail-password")
        with open(pw, "w") as f:
            f.write(servers.PASSWORD + "\n")
        os.chmod(pw, 0o600)             # a secret file others can read is warned about
        self.config = os.path.join(tmp, "bot.ini")
        self.write_config()
        self.ctl("plan", "load", args.plan)
        self.bot = None
        self.out = open(os.path.join(tmp, "bot.log"), "wb")

    def write_config(self, extra=""):
        with open(self.config, "w") as f:
            f.write("[store]\ndb = %s\n[mail]\nimap_url = %s\nusername = %s\n"
                    "password_file = %s/mail-password\npoll_interval = 1\n"
                    "smtp_url = %s\nfrom = office@example.org\n%s" % (
                        self.db, self.imap.url, servers.USER, self.tmp, self.smtp.url,
                        extra))

    def ctl(self, *argv, ok=True):
        p = subprocess.run([self.args.ctl, "--config", self.config] + list(argv),
                           capture_output=True, text=True, timeout=60)
        if ok and p.returncode != 0:
            raise Failure("campaignctl %s: %s" % (" ".join(argv), p.stderr))
        return p.stdout

    def append(self, raw):
        m = imaplib.IMAP4("127.0.0.1", self.imap.port)
        m.login(servers.USER, servers.PASSWORD)
        typ, _ = m.append("INBOX", None, None, raw)
        m.logout()
        check(typ == "OK", "APPEND failed")

    def start_bot(self):
        self.bot = subprocess.Popen([self.args.bot, "-v", "--config", self.config],
                                    stdin=subprocess.PIPE, stdout=self.out,
                                    stderr=self.out)

    def stop_bot(self, sig=signal.SIGTERM):
        if self.bot is not None and self.bot.poll() is None:
            self.bot.send_signal(sig)
            self.bot.wait(20)
        self.bot = None

    def sql(self, query, *params):
        con = sqlite3.connect(self.db, timeout=10)
        try:
            return con.execute(query, params).fetchall()
        finally:
            con.close()

    def handled(self):
        return self.sql("SELECT count(*) FROM mail_messages")[0][0]

    def invite(self, unit=UNIT):
        out = self.ctl("unit", "invite", unit)
        import re
        return re.search(r"[0-9A-Z]{5}-[0-9A-Z]{5}", out).group(0)

    def replies(self, to=None):
        out = []
        for m in self.smtp.messages():
            if to is not None and m["To"] != to:
                continue
            subject = str(email.header.make_header(email.header.decode_header(m["Subject"])))
            text = next(p for p in m.walk() if p.get_content_type() == "text/plain")
            body = text.get_payload(decode=True).decode()
            out.append((m["To"], subject, body))
        return out

    def close(self):
        self.stop_bot()
        self.imap.stop()
        self.smtp.stop()
        self.out.close()

    def log(self):
        with open(os.path.join(self.tmp, "bot.log"), "rb") as f:
            return f.read().decode(errors="replace")


def bind(env, address, unit=UNIT, n=1):
    env.append(mime(address, env.invite(unit), "bind-%s@test" % address))
    wait_until(lambda: env.handled() >= n, 30, "the binding mail")


@test
def encodings(env):
    """.docx names in RFC 2231, RFC 2047 (GB18030) and raw GBK all arrive as
    the unit's submissions, each confirmed once to the sender."""
    env.start_bot()
    bind(env, "xcb@example.gov.cn")
    names = ["宣传部扶贫日活动总结.docx", "扶贫日总结(修改稿).docx", "宣传部总结终稿.docx"]
    forms = [rfc2231, rfc2047, raw_gbk]
    for i, (name, form) in enumerate(zip(names, forms)):
        env.append(mime("xcb@example.gov.cn", "扶贫日活动总结", "sub%d@test" % i,
                        [(form(name), ("docx %d" % i).encode() * 100)]))
    wait_until(lambda: env.handled() >= 4, 30, "three submissions")
    got = [r[0] for r in env.sql("SELECT name FROM submissions ORDER BY id")]
    check(got == names, "file names as decoded: %r" % got)
    listing = env.ctl("submissions", "--task", "3.4")
    check("已提交" in listing and names[-1] in listing and "1 of 15 submitted" in listing,
          "the latest file counts: " + listing)
    wait_until(lambda: len(env.replies("xcb@example.gov.cn")) >= 4, 30, "confirmations")
    time.sleep(1.5)
    replies = env.replies("xcb@example.gov.cn")
    check(len(replies) == 4, "one confirmation per message: %d" % len(replies))
    check("已绑定到 市委宣传部" in replies[0][2], "the binding confirmed: " + replies[0][2])
    for name in names:
        check(any(name in body and "3.4" in body for _, _, body in replies),
              "confirmation names " + name)
    # the files themselves, by hash under the state directory
    for sha, size in env.sql("SELECT sha256, size FROM submissions"):
        path = os.path.join(env.state, "files", sha)
        check(os.path.getsize(path) == size, "file kept: " + path)
    event = env.sql("SELECT payload FROM events WHERE type = 'submission' ORDER BY id DESC")
    check(len(event) == 3, "a submission event per file")
    payload = json.loads(event[0][0])
    check(payload["unit"]["name"] == UNIT and payload["file"]["name"] == names[-1]
          and payload["task"]["id"] == "3.4", "event says who and what: %r" % payload)
    check("content" not in event[0][0] and "docx 2" not in event[0][0],
          "no file content in the event")


@test
def unbound(env):
    """Mail from an address bound to no unit is kept, listed, and counts once
    an admin assigns it; the sender is told, and later mail needs no admin."""
    env.start_bot()
    env.append(mime("someone@county.gov.cn", "总结", "u1@test",
                    [(rfc2231("县里的总结.docx"), b"county" * 50)]))
    env.append(mime("someone@county.gov.cn", "请查收", "u2@test"))
    wait_until(lambda: env.handled() >= 2, 30, "two mails")
    listing = env.ctl("submissions", "unassigned")
    check("县里的总结.docx" in listing and "someone@county.gov.cn" in listing,
          "unassigned file listed: " + listing)
    check("请查收.eml" in listing, "a mail without attachment kept whole: " + listing)
    check("0 of 15 submitted" in env.ctl("submissions"), "nothing counted yet")
    wait_until(lambda: len(env.replies()) >= 2, 30, "replies")
    check(all("尚未绑定单位" in body for _, _, body in env.replies()),
          "the sender is told the address is not bound")
    fid = env.sql("SELECT id FROM submissions WHERE name = '县里的总结.docx'")[0][0]
    out = env.ctl("submissions", "assign", str(fid), "市扶贫办")
    check("市扶贫办" in out, out)
    check("1 of 15 submitted" in env.ctl("submissions"), "counted after assign")
    check(env.ctl("submissions", "assign", str(fid), "市扶贫办", ok=False) == "",
          "a second assign does nothing")
    env.append(mime("someone@county.gov.cn", "修改稿", "u3@test",
                    [(rfc2231("县里的总结v2.docx"), b"county2" * 50)]))
    wait_until(lambda: env.handled() >= 3, 30, "the third mail")
    rows = env.sql("SELECT u.name FROM submissions s JOIN units u ON u.id = s.unit_id "
                   "WHERE s.name = '县里的总结v2.docx'")
    check(rows == [("市扶贫办",)], "later mail goes to the unit: %r" % rows)


@test
def repeated(env):
    """The same message delivered twice (same Message-ID) is one submission
    and one confirmation."""
    env.start_bot()
    bind(env, "xcb@example.gov.cn")
    raw = mime("xcb@example.gov.cn", "总结", "same@test",
               [(rfc2231("总结.docx"), b"x" * 1000)])
    env.append(raw)
    env.append(raw)
    wait_until(lambda: env.sql("SELECT last_uid FROM mail_state")[0][0] >= 3, 30,
               "both copies seen")
    check(env.sql("SELECT count(*) FROM submissions")[0][0] == 1, "one submission")
    wait_until(lambda: len(env.replies()) >= 2, 30, "replies")
    time.sleep(1.5)
    check(len(env.replies()) == 2, "binding + one confirmation: %d" % len(env.replies()))


@test
def uidvalidity(env):
    """The server renumbers the mailbox (new UIDVALIDITY): the bot rescans,
    doubles nothing, and takes the message that arrived meanwhile."""
    env.start_bot()
    bind(env, "xcb@example.gov.cn")
    env.append(mime("xcb@example.gov.cn", "总结", "v1@test",
                    [(rfc2231("总结.docx"), b"v1" * 100)]))
    wait_until(lambda: env.handled() >= 2, 30, "first mail")
    old = env.sql("SELECT uidvalidity FROM mail_state")[0][0]
    env.stop_bot()
    env.imap.stop()
    # Dovecot keeps UIDs in dovecot-uidlist: without it the mailbox gets a new UIDVALIDITY
    maildir = env.imap.maildir()
    os.unlink(os.path.join(maildir, "dovecot-uidlist"))
    for name in os.listdir(maildir):
        if name.startswith("dovecot.index"):
            os.unlink(os.path.join(maildir, name))
    time.sleep(1.1)  # UIDVALIDITY is a timestamp: a second later it differs
    env.imap = servers.Dovecot.restart(env.imap)
    env.append(mime("xcb@example.gov.cn", "修改稿", "v2@test",
                    [(rfc2231("总结v2.docx"), b"v2" * 100)]))
    env.start_bot()
    wait_until(lambda: env.handled() >= 3, 30, "the new mail")
    wait_until(lambda: env.sql("SELECT uidvalidity FROM mail_state")[0][0] != old, 30,
               "the new UIDVALIDITY")
    wait_until(lambda: env.sql("SELECT last_uid FROM mail_state")[0][0] >= 3, 30,
               "the rescan to the end")
    names = [r[0] for r in env.sql("SELECT name FROM submissions ORDER BY id")]
    check(names == ["总结.docx", "总结v2.docx"], "nothing doubled: %r" % names)
    wait_until(lambda: len(env.replies()) >= 3, 30, "replies")
    time.sleep(1.5)
    check(len(env.replies()) == 3, "no confirmation repeated: %d" % len(env.replies()))
    check("rescanning" in env.log(), "the bot says it rescans")


@test
def kill9(env):
    """kill -9 of the bot in the middle of a mailbox of 200 submissions: after
    a restart each is recorded once, and each sender confirmed once (at most
    the one in flight twice)."""
    n = 200
    env.start_bot()
    bind(env, "xcb@example.gov.cn")
    env.stop_bot()
    for i in range(n):
        env.append(mime("xcb@example.gov.cn", "总结 %d" % i, "k%d@test" % i,
                        [(rfc2231("总结%02d.docx" % i), os.urandom(20000))]))
    env.start_bot()
    wait_until(lambda: env.handled() >= 8, 60, "a few handled")
    env.stop_bot(signal.SIGKILL)
    mid = env.handled()
    env.start_bot()
    wait_until(lambda: env.handled() >= n + 1, 60, "all handled")
    check(mid < n + 1, "killed in the middle (%d of %d)" % (mid, n + 1))
    rows = env.sql("SELECT name, count(*) FROM submissions GROUP BY name")
    check(len(rows) == n and all(c == 1 for _, c in rows), "each submission once")
    wait_until(lambda: len(env.replies()) >= n + 1, 60, "confirmations")
    time.sleep(2)
    bodies = [body for _, _, body in env.replies()]
    per = [sum("总结%02d.docx" % i in b for b in bodies) for i in range(n)]
    check(all(c >= 1 for c in per), "every submission confirmed")
    check(sum(c - 1 for c in per) <= 1, "at most the one in flight repeated: %r" % per)


@test
def too_large(env):
    """A 50 MB attachment is refused with a reply that says why; the mail
    after it is still taken."""
    env.write_config("max_size_mb = 20\n")
    env.start_bot()
    bind(env, "xcb@example.gov.cn")
    env.append(mime("xcb@example.gov.cn", "大文件", "big@test",
                    [(rfc2231("扫描件.docx"), os.urandom(50 * 1024 * 1024))]))
    env.append(mime("xcb@example.gov.cn", "总结", "small@test",
                    [(rfc2231("总结.docx"), b"small" * 100)]))
    wait_until(lambda: env.handled() >= 3, 60, "both mails")
    names = [r[0] for r in env.sql("SELECT name FROM submissions")]
    check(names == ["总结.docx"], "only the small one kept: %r" % names)
    check(env.sql("SELECT outcome FROM mail_messages WHERE key = 'mid:big@test'") ==
          [("refused",)], "the big one refused")
    wait_until(lambda: len(env.replies()) >= 3, 30, "replies")
    refusal = [b for _, s, b in env.replies() if "大文件" in s]
    check(len(refusal) == 1 and "上限 20 MB" in refusal[0] and "压缩" in refusal[0],
          "the refusal says why: %r" % refusal)


@test
def imap_id(env):
    """With imap_id = yes (what 163/126 mailboxes need before SELECT) the
    poll still works: Dovecot answers ID too."""
    env.write_config("imap_id = yes\n")
    env.start_bot()
    bind(env, "xcb@example.gov.cn")
    env.append(mime("xcb@example.gov.cn", "总结", "id1@test",
                    [(rfc2231("总结.docx"), b"id" * 100)]))
    wait_until(lambda: env.handled() >= 2, 30, "both mails")
    check("1 of 15 submitted" in env.ctl("submissions"), "the summary counted")
    check("name=campaign-bot" in env.imap.log(), "Dovecot logged the client's ID")


@test
def auto_reply(env):
    """An out-of-office answer (Auto-Submitted) is kept but never answered, so
    the bot and another robot cannot mail each other forever."""
    env.start_bot()
    raw = mime("robot@county.gov.cn", "自动回复：外出", "auto1@test")
    raw = raw.replace(b"MIME-Version: 1.0\r\n", b"MIME-Version: 1.0\r\nAuto-Submitted: auto-replied\r\n")
    env.append(raw)
    env.append(mime("person@county.gov.cn", "请查收", "person1@test"))
    wait_until(lambda: env.handled() >= 2, 30, "both mails")
    wait_until(lambda: len(env.replies()) >= 1, 30, "the person's reply")
    time.sleep(1.5)
    check([to for to, _, _ in env.replies()] == ["person@county.gov.cn"],
          "only the person is answered: %r" % env.replies())
    check("robot@county.gov.cn" in env.ctl("submissions", "unassigned"), "the robot's mail kept")


@test
def bulletin_schedule(env):
    """[bulletin] every = monday 09:00: on Monday after 09:00 the bot makes the
    通报 once, mails the .docx and .pdf to mail_to and tells the admins; a
    restart the same day sends nothing again."""
    os.environ["CAMPAIGN_NOW"] = "2027-10-11T09:30:00+08:00"   # a Monday
    env.write_config("[chat]\nadmins = console:local\n[bulletin]\nevery = monday 09:00\n"
                     "mail_to = boss@example.org\n")
    env.start_bot()
    wait_until(lambda: len(env.replies("boss@example.org")) >= 1, 60, "the bulletin by mail")
    msg = [m for m in env.smtp.messages() if m["To"] == "boss@example.org"][0]
    names = sorted(email.header.make_header(email.header.decode_header(
        p.get_filename())).__str__() for p in msg.walk() if p.get_filename())
    check(names == ["通报-2027-10-11.docx", "通报-2027-10-11.pdf"], "attachments: %r" % names)
    pdf = [p for p in msg.walk() if (p.get_filename() or "").endswith(".pdf")][0]
    check(pdf.get_payload(decode=True).startswith(b"%PDF"), "a PDF attached")
    chats = env.sql("SELECT platform, chat_id, text FROM deliveries WHERE kind = 'bulletin' "
                    "AND platform != 'mail'")
    check(len(chats) == 1 and chats[0][1] == "local" and "本期通报" in chats[0][2],
          "the admin's chat told: %r" % chats)
    env.stop_bot()
    env.start_bot()
    time.sleep(3)
    check(len(env.replies("boss@example.org")) == 1, "not again the same day")


def restart(old):
    """A Dovecot on the same port and directories (the class keeps them)."""
    old.stop()
    new = servers.Dovecot.__new__(servers.Dovecot)
    new.__dict__.update(old.__dict__)
    new.proc = subprocess.Popen(["/usr/sbin/dovecot", "-F", "-c", new.conf],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    servers.wait_port(new.port)
    return new


servers.Dovecot.restart = staticmethod(restart)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bot")
    ap.add_argument("--ctl")
    ap.add_argument("--plan")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("name", nargs="?")
    args = ap.parse_args()
    if args.list:
        print("\n".join(TESTS))
        return 0
    tmp = tempfile.mkdtemp(prefix="mail-test-")
    os.chmod(tmp, 0o755)
    env = None
    ok = False
    try:
        env = Env(args, tmp)
        TESTS[args.name](env)
        ok = True
    except Failure as e:
        print("FAIL %s: %s" % (args.name, e))
    finally:
        if env is not None:
            env.close()
            log = env.log()
            if servers.PASSWORD in log:
                print("FAIL: the mailbox password is in the bot's output")
                ok = False
            if not ok:
                print("--- bot output ---\n" + log[-4000:])
                print("--- dovecot ---\n" + env.imap.log()[-2000:])
    if ok:
        print("ok %s" % args.name)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
