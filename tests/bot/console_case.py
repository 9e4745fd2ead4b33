#!/usr/bin/python3
"""Runs one console case: the bot's core through `campaign-bot --console`.

A case file is a conversation script, run against a fresh database holding the
seed plan, on 2027-10-08 09:00 (Asia/Shanghai) unless it says otherwise:

  # comment
  noplan                       start without a plan (must be the first step)
  env NAME=VALUE               set an environment variable for what follows
  config TEXT                  append a line to the bot's config file (--config)
  $ ARGS [=> VAR]              run campaignctl ARGS; => keeps the last word it printed
  @ [USER]                     a new console session, as --as USER (none: local admin)
  > TEXT                       a line typed (\\xNN escapes; {VAR}; {REPEAT:s:N})
  < TEXT                       the session's output contains TEXT, after the previous <
  !< TEXT                      the session's output does not contain TEXT
  = SQL => VALUE               after the session, SQL's first column equals VALUE

Every session must exit 0, print nothing on stderr at warning level or above,
and leave no reply unsent.
"""

import argparse
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile


def expand(text, env):
    def repeat(m):
        return m.group(1) * int(m.group(2))
    text = re.sub(r"\{REPEAT:([^:}]*):(\d+)\}", repeat, text)
    text = re.sub(r"\{([A-Z_][A-Z0-9_]*)\}", lambda m: env.get(m.group(1), m.group(0)), text)
    return text


def to_bytes(text):
    out = bytearray()
    i = 0
    while i < len(text):
        if text.startswith("\\x", i) and re.match(r"[0-9a-fA-F]{2}", text[i + 2:i + 4]):
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        else:
            out += text[i].encode()
            i += 1
    return bytes(out)


class Case:
    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="bot-console-")
        self.db = os.path.join(self.tmp, "campaign.db")
        self.config = os.path.join(self.tmp, "bot.ini")
        self.env = dict(os.environ, CAMPAIGN_DB=self.db,
                        CAMPAIGN_NOW="2027-10-08T09:00:00+08:00")
        self.env.pop("TELEGRAM_BOT_TOKEN", None)
        self.vars = {"PLAN": args.plan}
        self.failures = []
        self.session = None
        self.sessions = 0

    def fail(self, line, msg):
        self.failures.append("%s:%d: %s" % (self.args.case, line, msg))

    def ctl(self, lineno, argv, var=None):
        r = subprocess.run([self.args.ctl] + argv, env=self.env, capture_output=True,
                           timeout=60)
        if r.returncode != 0:
            self.fail(lineno, "campaignctl %s: exit %d: %s" % (
                " ".join(argv), r.returncode, r.stderr.decode(errors="replace")))
        if var:
            words = r.stdout.decode().split()
            self.vars[var] = words[-1] if words else ""

    def run_session(self):
        s = self.session
        self.session = None
        if s is None:
            return
        if not s["input"]:
            self.check_sql(s)
            return
        self.sessions += 1
        argv = [self.args.bot, "--console"]
        if os.path.exists(self.config):
            argv += ["--config", self.config]
        if s["user"]:
            argv += ["--as", s["user"]]
        r = subprocess.run(argv, input=b"".join(s["input"]), env=self.env,
                           capture_output=True, timeout=60)
        out = r.stdout.decode("utf-8", "replace")
        err = r.stderr.decode("utf-8", "replace")
        where = s["line"]
        if r.returncode != 0:
            self.fail(where, "session exit %d\n%s" % (r.returncode, err))
        for line in err.splitlines():
            if re.match(r"(WARN|ERROR|FATAL)\b", line) and "was cut at" not in line:
                self.fail(where, "stderr: " + line)
            if "Sanitizer" in line or "runtime error" in line:
                self.fail(where, "stderr: " + line)
        pos = 0
        for lineno, want in s["expect"]:
            at = out.find(want, pos)
            if at < 0:
                self.fail(lineno, "expected %r after position %d in:\n%s" % (want, pos, out))
            else:
                pos = at + len(want)
        for lineno, bad in s["reject"]:
            if bad in out:
                self.fail(lineno, "did not expect %r in:\n%s" % (bad, out))
        self.check_sql(s)
        if self.args.verbose:
            print(out)

    def check_sql(self, s):
        for lineno, sql, value in s["checks"]:
            con = sqlite3.connect(self.db)
            try:
                row = con.execute(sql).fetchone()
                con.commit()
            finally:
                con.close()
            got = "" if row is None or row[0] is None else str(row[0])
            if got != value:
                self.fail(lineno, "%s => %r, expected %r" % (sql, got, value))

    def new_session(self, lineno, user):
        self.run_session()
        self.session = {"user": user, "input": [], "expect": [], "reject": [], "checks": [],
                        "line": lineno}

    def run(self):
        with open(self.args.case, encoding="utf-8") as f:
            lines = f.read().splitlines()
        steps = [(n + 1, l) for n, l in enumerate(lines) if l.strip() and
                 not l.lstrip().startswith("#")]
        if not (steps and steps[0][1].strip() == "noplan"):
            self.ctl(0, ["plan", "load", self.args.plan])
        for lineno, line in steps:
            if line.strip() == "noplan":
                continue
            if line.startswith("env "):
                self.run_session()
                name, _, value = line[4:].partition("=")
                self.env[name.strip()] = expand(value.strip(), self.vars)
            elif line.startswith("config "):
                self.run_session()
                with open(self.config, "a", encoding="utf-8") as f:
                    f.write(line[7:] + "\n")
            elif line.startswith("$ "):
                self.run_session()
                cmd, _, var = line[2:].partition(" => ")
                self.ctl(lineno, expand(cmd, self.vars).split(), var.strip() or None)
            elif line.startswith("@"):
                self.new_session(lineno, line[1:].strip() or None)
            else:
                if self.session is None:
                    self.new_session(lineno, None)
                s = self.session
                if line.startswith("> ") or line == ">":
                    s["input"].append(to_bytes(expand(line[2:], self.vars)) + b"\n")
                elif line.startswith("< "):
                    s["expect"].append((lineno, expand(line[2:], self.vars)))
                elif line.startswith("!< "):
                    s["reject"].append((lineno, expand(line[3:], self.vars)))
                elif line.startswith("= "):
                    sql, _, value = line[2:].partition(" => ")
                    s["checks"].append((lineno, sql, value.strip()))
                else:
                    self.fail(lineno, "cannot read this line: " + line)
        self.run_session()
        if self.sessions == 0:
            self.fail(0, "the case has no session")
        shutil.rmtree(self.tmp, ignore_errors=True)
        for f in self.failures:
            print(f, file=sys.stderr)
        if not self.failures:
            print("%s: %d sessions passed" % (os.path.basename(self.args.case), self.sessions))
        return 1 if self.failures else 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bot", required=True)
    p.add_argument("--ctl", required=True)
    p.add_argument("--plan", required=True)
    p.add_argument("--verbose", action="store_true")
    p.add_argument("case")
    args = p.parse_args()
    return Case(args).run()


if __name__ == "__main__":
    sys.exit(main())
