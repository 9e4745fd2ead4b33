#!/usr/bin/python3
"""Hostile input and hard stops: one named case per run (`--list` lists them).

Each case is a defect found by trying as an attacker or a careless admin
would; it builds a fresh database (the seed plan, 2027-10-08 09:00 Shanghai),
does what they did, and checks what the admin or the user would notice.
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

NOW = "2027-10-08T09:00:00+08:00"
CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


class Env:
    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="hostile-")
        self.db = os.path.join(self.tmp, "campaign.db")
        self.env = dict(os.environ, CAMPAIGN_DB=self.db, CAMPAIGN_NOW=NOW)
        self.procs = []

    def ctl(self, *argv, ok=True, stdin=None):
        r = subprocess.run([self.args.ctl] + list(argv), env=self.env, capture_output=True,
                           input=stdin, timeout=120)
        if ok and r.returncode != 0:
            raise Failure("campaignctl %s: exit %d: %s" % (
                " ".join(argv), r.returncode, r.stderr.decode(errors="replace")))
        return r

    def seed(self):
        self.ctl("plan", "load", self.args.plan)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, text, mode=0o600):
        p = self.path(name)
        with open(p, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def spawn(self, argv, log):
        f = open(self.path(log), "wb")
        p = subprocess.Popen(argv, env=self.env, stdin=subprocess.PIPE, stdout=f, stderr=f)
        self.procs.append(p)
        return p

    def log(self, name):
        with open(self.path(name), "rb") as f:
            return f.read().decode(errors="replace")

    def wait_log(self, name, text, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log(name):
                return
            time.sleep(0.05)
        raise Failure("no %r in %s after %d s:\n%s" % (text, name, timeout, self.log(name)))

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def seed_plan(env):
    with open(env.args.plan, encoding="utf-8") as f:
        return json.load(f)


@case
def plan_limits(env):
    """A plan beyond each limit is refused with the limit named, and the stored plan is kept."""
    env.seed()
    base = seed_plan(env)
    template = base["tasks"][3]

    def attempt(name, plan, expect):
        p = env.write(name, json.dumps(plan, ensure_ascii=False))
        r = env.ctl("plan", "load", p, ok=False)
        err = r.stderr.decode(errors="replace")
        check(r.returncode == 1, "%s: exit %d, expected 1: %s" % (name, r.returncode, err))
        check(expect in err, "%s: %r not in %r" % (name, expect, err))
        check(p in err, "%s: the message does not name the file: %r" % (name, err))

    many = dict(base, tasks=[dict(template, id="9.%d" % i) for i in range(5001)])
    attempt("tasks.json", many, "5001 tasks, more than the 5000 a plan may have")
    units = [{"name": "单位%d" % i} for i in range(1001)]
    attempt("units.json", dict(base, units=units, tasks=[]),
            "1001 units, more than the 1000 a plan may have")
    wide = dict(base, units=units[:501],
                tasks=[dict(template, units=[u["name"] for u in units[:501]])])
    attempt("wide.json", wide, "501 units, more than the 500 a task may have")
    aliases = dict(base, units=[{"name": "甲", "aliases": ["甲%d" % i for i in range(21)]}],
                   tasks=[])
    attempt("aliases.json", aliases, "21 aliases, more than the 20 a unit may have")
    big = dict(base, notes="x" * (8 * 1024 * 1024))
    attempt("big.json", big, "more than the 8388608 a plan may have")
    r = env.ctl("tasks", "--json")
    check(len(json.loads(r.stdout)) >= 1, "the stored plan was lost")
    # At the limit, the plan loads.
    at = dict(base, tasks=[dict(template, id="9.%d" % i) for i in range(5000)])
    env.ctl("plan", "load", env.write("at.json", json.dumps(at, ensure_ascii=False)))
    r = env.ctl("task", "9.4999")
    check("9.4999" in r.stdout.decode(), "task 9.4999 of a 5000-task plan not shown")


def store_big_plan(env, ntasks):
    """Writes a plan beyond the limits straight into the store, as an older version could."""
    db = sqlite3.connect(env.db)
    units = [r[0] for r in db.execute("SELECT id FROM units ORDER BY seq LIMIT 4")]
    with db:
        db.executemany(
            "INSERT INTO tasks(id, seq, title, due_day) VALUES(?, ?, ?, NULL)",
            (("9.%d" % i, 100 + i, "启动“百企帮百村”活动") for i in range(ntasks)))
        db.executemany(
            "INSERT INTO task_units(task_id, unit_id, seq) VALUES(?, ?, ?)",
            (("9.%d" % i, u, k) for i in range(ntasks) for k, u in enumerate(units)))
    db.close()


@case
def sigterm_big_stored_plan(env):
    """A stored plan of 50,000 tasks: the bot starts, refuses it clearly, and SIGTERM ends it."""
    env.seed()
    store_big_plan(env, 50000)
    bot = env.spawn([env.args.bot, "--console"], "bot.log")
    bot.stdin.write("/tasks 市扶贫办\n".encode())
    bot.stdin.flush()
    time.sleep(3)  # into its first reminder tick, which reads the plan
    check(bot.poll() is None, "the bot exited by itself:\n" + env.log("bot.log"))
    bot.send_signal(signal.SIGTERM)
    try:
        rc = bot.wait(timeout=30)
    except subprocess.TimeoutExpired:
        raise Failure("the bot still runs 30 s after SIGTERM:\n" + env.log("bot.log")[-2000:])
    check(rc in (0, 1), "bot exit status %d" % rc)
    r = env.ctl("tasks", ok=False)
    err = r.stderr.decode(errors="replace")
    check(r.returncode != 0 and "more than a plan may have" in err,
          "campaignctl tasks on an oversized stored plan: exit %d %r" % (r.returncode, err))


@case
def sigterm_bridge_big_stored_plan(env):
    """The bridge with a 50,000-task stored plan on a real broker: SIGTERM ends it."""
    import socket
    env.seed()
    env.ctl("report", "2.4", "市扶贫办", "30")   # an event: retained state to recompute
    store_big_plan(env, 50000)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    broker = env.spawn(["mosquitto", "-p", str(port)], "broker.log")
    cfg = env.write("bridge.ini", "[mqtt]\nhost = 127.0.0.1\nport = %d\n" % port)
    time.sleep(1)
    bridge = env.spawn([env.args.bridge, "--config", cfg, "--db", env.db], "bridge.log")
    time.sleep(4)  # connected, publishing, recomputing the retained state from the plan
    check(bridge.poll() is None, "the bridge exited by itself:\n" + env.log("bridge.log"))
    bridge.send_signal(signal.SIGTERM)
    try:
        bridge.wait(timeout=30)
    except subprocess.TimeoutExpired:
        raise Failure("the bridge still runs 30 s after SIGTERM:\n" +
                      env.log("bridge.log")[-2000:])
    broker.terminate()


@case
def unrecorded_send_not_repeated(env):
    """A reply sent while the store cannot record it (a full disk) is not sent again."""
    env.seed()
    db = sqlite3.connect(env.db)
    with db:
        db.execute("CREATE TRIGGER full BEFORE UPDATE OF state ON deliveries WHEN NEW.state = 1 "
                   "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
    db.close()
    bot = env.spawn([env.args.bot, "--console"], "bot.log")
    bot.stdin.write("/countdown\n".encode())
    bot.stdin.flush()
    time.sleep(4)       # the reply goes out; recording it fails, again and again
    db = sqlite3.connect(env.db)
    with db:
        db.execute("DROP TRIGGER full")
    db.close()
    time.sleep(2)       # now it can be recorded
    bot.stdin.close()
    bot.wait(timeout=60)
    out = env.log("bot.log")
    n = out.count("关键日期 10月17日")
    db = sqlite3.connect(env.db)
    pending = db.execute("SELECT count(*) FROM deliveries WHERE state = 0").fetchone()[0]
    db.close()
    check(n == 1, "the reply was sent %d times:\n%s" % (n, out[-1500:]))
    check(pending == 0, "the reply was never recorded as sent")


UNSAFE = ["\x1b", "\x07", "\x7f", "\x9b", "\u202e", "\u2066", "\r"]


def raw_unsafe(text):
    return [c for c in UNSAFE if c in text]


@case
def terminal_escapes(env):
    """ESC, BEL, DEL, C1 and bidi overrides from chat never reach a terminal nor the store."""
    env.seed()
    note = "x\x1b[2J\x07y\x7f\u202eevil\u2066z"
    r = subprocess.run([env.args.bot, "--console"], env=env.env, capture_output=True,
                       input=("/report 2.4 市扶贫办 30 %s\n" % note).encode(), timeout=60)
    out = r.stdout.decode(errors="replace")
    check(r.returncode == 0 and "已记录" in out, "report not confirmed: %r %r" % (out, r.stderr))
    check(not raw_unsafe(out), "the console echoed %r raw: %r" % (raw_unsafe(out), out))
    db = sqlite3.connect(env.db)
    stored = [row[0] for row in db.execute("SELECT note FROM reports")] + \
        [row[0] for row in db.execute("SELECT note FROM task_state WHERE note IS NOT NULL")]
    payloads = [row[0] for row in db.execute("SELECT payload FROM events")]
    check(stored and all(not raw_unsafe(n) and "x[2Jyevilz" in n for n in stored),
          "stored note keeps control characters: %r" % stored)
    check(all(not raw_unsafe(json.loads(p).get("note", "")) for p in payloads),
          "the MQTT event keeps control characters: %r" % payloads)
    # A store written before the fix still holds them: campaignctl escapes on output.
    with db:
        db.execute("UPDATE task_state SET note = ?", (note,))
        db.execute("UPDATE reports SET note = ?", (note,))
        db.execute("UPDATE units SET name = name || ? WHERE norm = (SELECT norm FROM units "
                   "ORDER BY seq LIMIT 1)", ("\x1b]0;owned\x07",))
    db.close()
    for argv in (["task", "2.4"], ["tasks"], ["task", "2.4", "--json"], ["status"]):
        r = env.ctl(*argv, ok=False)
        out = r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")
        check(not raw_unsafe(out), "campaignctl %s printed %r raw: %r" % (
            " ".join(argv), raw_unsafe(out), out[:400]))
    r = env.ctl("task", "2.4", "--json")
    j = json.loads(r.stdout)
    def strings(v):
        if isinstance(v, dict):
            v = list(v.values())
        if isinstance(v, list):
            return [x for item in v for x in strings(item)]
        return [v] if isinstance(v, str) else []
    check(note in strings(j), "--json no longer decodes to the text: %r" % strings(j))
    r = env.ctl("task", "2.4\u202e1", ok=False)
    err = r.stderr.decode(errors="replace")
    check(r.returncode != 0 and "\\u202e" in err and "\u202e" not in err,
          "an error echoes the task id raw: %r" % err)


def console(env, text, user=None, config=None):
    argv = [env.args.bot, "--console"]
    if config is not None:
        argv += ["--config", config]
    if user is not None:
        argv += ["--as", user]
    return subprocess.run(argv, env=env.env, capture_output=True, input=text.encode(),
                          timeout=60)


@case
def bind_lockout_survives_restart(env):
    """Five wrong invite codes lock a user out, and restarting the bot does not forgive them."""
    env.seed()
    code = env.ctl("unit", "invite", "扶贫办").stdout.decode().split()[-1]
    wrong = "".join("/bind AAAAA-AAAA%s\n" % c for c in "ABCDE")
    r = console(env, wrong, user="900")
    check(r.stdout.decode().count("邀请码不对") == 5, "wrong codes: %r" % r.stdout.decode())
    r = console(env, "/bind %s\n" % code, user="900")
    out = r.stdout.decode()
    check("错误次数太多" in out and "已绑定" not in out,
          "after a restart the sixth attempt was not refused: %r" % out)
    db = sqlite3.connect(env.db)
    bound = db.execute("SELECT count(*) FROM users WHERE unit_id IS NOT NULL").fetchone()[0]
    db.close()
    check(bound == 0, "the locked-out user got bound")
    # Another user is not locked out by them.
    r = console(env, "/bind %s\n" % code, user="901")
    check("已绑定" in r.stdout.decode(), "another user was refused: %r" % r.stdout.decode())


@case
def readonly_db_message(env):
    """A database this user cannot write: the refusal says so and what to check."""
    env.seed()
    os.chmod(env.tmp, 0o777)
    os.chmod(env.db, 0o644)
    argv = [env.args.ctl, "report", "2.4", "市扶贫办", "30"]
    if os.getuid() == 0:
        argv = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"] + argv
    else:
        os.chmod(env.db, 0o444)
    r = subprocess.run(argv, env=env.env, capture_output=True, timeout=60)
    err = r.stderr.decode(errors="replace")
    check(r.returncode != 0, "the report was recorded in a read-only database")
    check("not an error" not in err, "the refusal says 'not an error': %r" % err)
    check("readonly" in err and "check the owner and mode" in err,
          "the refusal does not say what is wrong and what to do: %r" % err)


@case
def apology_not_stored(env):
    """When even the apology cannot be stored, the log does not claim one was sent."""
    env.seed()
    db = sqlite3.connect(env.db)
    with db:
        db.execute("CREATE TRIGGER refuse BEFORE INSERT ON deliveries "
                   "BEGIN SELECT RAISE(ABORT, 'disk trouble'); END")
    db.close()
    r = console(env, "/task 2.4\n")
    err = r.stderr.decode(errors="replace")
    check("answered with an apology" not in err,
          "the log claims an apology the user never got: %r" % err)
    check("not answered" in err, "the log does not say the user got nothing: %r" % err)
    check(r.returncode == 1, "exit status %d after the database refused a message" %
          r.returncode)


@case
def silent_broker_message(env):
    """A broker that accepts TCP and never answers: the bridge says what that means."""
    import socket
    env.seed()
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    port = srv.getsockname()[1]
    cfg = env.write("bridge.ini", "[mqtt]\nhost = 127.0.0.1\nport = %d\nkeepalive = 5\n" % port)
    bridge = env.spawn([env.args.bridge, "--config", cfg, "--db", env.db], "bridge.log")
    conns = []
    srv.settimeout(0.2)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "cannot connect" not in env.log("bridge.log"):
        try:
            conns.append(srv.accept()[0])
        except socket.timeout:
            pass
    bridge.send_signal(signal.SIGTERM)
    bridge.wait(timeout=30)
    for c in conns:
        c.close()
    srv.close()
    log = env.log("bridge.log")
    check("cannot connect" in log, "the bridge said nothing about the silent broker:\n" + log)
    check("Unknown error" not in log, "the bridge says only 'Unknown error':\n" + log)
    check("did not answer" in log, "the message does not say the broker is silent:\n" + log)


@case
def config_long_line(env):
    """A 70 KB line at line 3 of the config is reported at line 3, as too long."""
    cfg = env.write("bot.ini", "[log]\nlevel = info\n# %s\n[chat]\n" % ("x" * 70000))
    r = subprocess.run([env.args.bot, "-n", "--config", cfg], env=env.env,
                       capture_output=True, timeout=60)
    err = r.stderr.decode(errors="replace")
    check(r.returncode != 0, "a config with a 70 KB line passed -n")
    check("%s:3:" % cfg in err and "longer than" in err,
          "the message does not name line 3 as too long: %r" % err[:300])
    # The tail of a long comment never becomes a key.
    cfg = env.write("bot2.ini", "[chat]\n# %stoken_file = /etc/passwd\n" % ("x" * 250))
    r = subprocess.run([env.args.bot, "-n", "--config", cfg], env=env.env,
                       capture_output=True, timeout=60)
    check(r.returncode != 0 and "longer than" in r.stderr.decode(),
          "a long comment's tail was read as a key: %r" % r.stderr.decode()[:300])


@case
def secret_file_checks(env):
    """A directory as password_file says so; secret files others can read are warned about."""
    env.seed()
    d = env.path("secrets")
    os.mkdir(d)
    cfg = env.write("bridge.ini", "[mqtt]\nusername = u\npassword_file = %s\n" % d)
    r = subprocess.run([env.args.bridge, "-n", "--config", cfg, "--db", env.db], env=env.env,
                       capture_output=True, timeout=60)
    err = r.stderr.decode(errors="replace")
    check(r.returncode != 0 and "is a directory" in err and "empty file" not in err,
          "a directory as password_file: %r" % err)
    pw = env.write("pw", "s3cret-pass\n", mode=0o644)
    cfg = env.write("bridge2.ini", "[mqtt]\nusername = u\npassword_file = %s\n" % pw)
    r = subprocess.run([env.args.bridge, "-n", "--config", cfg, "--db", env.db], env=env.env,
                       capture_output=True, timeout=60)
    err = r.stderr.decode(errors="replace")
    check("other users can read" in err and "s3cret" not in err,
          "bridge -n with a 0644 password_file: %r" % err)
    tok = env.write("token", "123456:SECRET-token\n", mode=0o644)
    cfg = env.write("bot.ini", "[chat]\ndrivers = telegram\n[telegram]\ntoken_file = %s\n" % tok)
    r = subprocess.run([env.args.bot, "-n", "--config", cfg], env=env.env,
                       capture_output=True, timeout=60)
    err = r.stderr.decode(errors="replace")
    check("other users can read" in err and "SECRET" not in err,
          "bot -n with a 0644 token_file: %r" % err)
    os.chmod(tok, 0o600)
    r = subprocess.run([env.args.bot, "-n", "--config", cfg], env=env.env,
                       capture_output=True, timeout=60)
    check("other users" not in r.stderr.decode(), "a 0600 token file was warned about")


@case
def weak_spots(env):
    """A foreign database, duplicate config keys, the admin /report with 101%."""
    other = env.path("other.db")
    db = sqlite3.connect(other)
    with db:
        db.execute("CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT)")
    db.close()
    r = env.ctl("--db", other, "status", ok=False)
    err = r.stderr.decode(errors="replace")
    check(r.returncode != 0 and "not a campaign database" in err and "customers" in err,
          "a foreign database was not refused: %r" % err)
    db = sqlite3.connect(other)
    tables = [t[0] for t in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    db.close()
    check(tables == ["customers"], "our tables were added to a foreign database: %r" % tables)
    cfg = env.write("dup.ini", "[log]\nlevel = info\nlevel = debug\n")
    r = subprocess.run([env.args.bot, "-n", "--config", cfg], env=env.env,
                       capture_output=True, timeout=60)
    err = r.stderr.decode(errors="replace")
    check(r.returncode != 0 and "%s:3:" % cfg in err and "given twice" in err,
          "a duplicate config key passed: %r" % err)
    env.seed()
    r = console(env, "/report 2.4 市扶贫办 101\n")
    out = r.stdout.decode()
    check("0到100之间" in out, "the admin /report with 101%% got: %r" % out[:200])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bot")
    ap.add_argument("--ctl")
    ap.add_argument("--bridge")
    ap.add_argument("--plan")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("name", nargs="?")
    args = ap.parse_args()
    if args.list:
        print("\n".join(CASES))
        return 0
    env = Env(args)
    try:
        CASES[args.name](env)
    except Failure as e:
        print("FAIL %s: %s" % (args.name, e))
        return 1
    finally:
        env.close()
    print("ok %s" % args.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
