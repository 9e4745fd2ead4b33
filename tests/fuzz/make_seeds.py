#!/usr/bin/python3
"""Regenerates the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/)
from the tests' own data: console conversations, the fake Bot API's answers
to its scenarios, the plans of tests/data and tests/import, and the configs
the tests write. Run from the repository root; the output is committed.
Files named crash-* in a corpus are regression inputs and are kept.
"""

import glob
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")
TOKEN = "4242:FUZZsecretTokenHalf"


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def chat_seeds():
    for case in glob.glob(os.path.join(ROOT, "tests/bot/console/*.case")):
        for line in open(case, encoding="utf-8"):
            if line.startswith("> "):
                text = line[2:].rstrip("\n")
                put("chat", b"\x00" + text.encode())
                put("chat", b"\x03" + text.encode())


def plan_seeds():
    paths = [os.path.join(ROOT, "data/plans/fupinri.json")]
    paths += glob.glob(os.path.join(ROOT, "tests/data/bad-plans/*/plan.json"))
    paths += glob.glob(os.path.join(ROOT, "tests/import/cases/*/expected.json"))
    for p in paths:
        with open(p, "rb") as f:
            data = f.read()
        if len(data) <= 64 * 1024:
            put("plan", data)


def cfg_seeds():
    put("cfg", "[store]\ndb = /var/lib/campaign/campaign.db\n[log]\nlevel = info\n")
    put("cfg", "[chat]\ndrivers = telegram, dingtalk\n"
        "admins = telegram:1, dingtalk:2\n[telegram]\ntoken_file = /etc/campaign/token\n"
        "api_url = http://127.0.0.1:8081\n"
        "poll_timeout = 30\n")
    put("cfg", "[mqtt]\nhost = 127.0.0.1\nport = 1883\nqos = 1\nprotocol = 5\n"
        "keepalive = 5\nusername = bridge\npassword_file = /etc/campaign/mqtt\n"
        "topic_prefix = campaign/fupinri\n")
    put("cfg", "[reminders]\nat = 09:00\ndays_before = 7,3,1,0\nescalate_after = 3\n"
        "quiet_hours = 22:00-08:00\nholidays = 2027-10-01,2027-10-02\n"
        "workdays = 2027-10-09\n")
    for case in glob.glob(os.path.join(ROOT, "tests/bot/console/*.case")):
        lines = [l[7:] for l in open(case, encoding="utf-8") if l.startswith("config ")]
        if lines:
            put("cfg", "".join(lines))


def tg_seeds():
    fake = os.path.join(ROOT, "tests/fake/fake_telegram.py")
    for scenario in glob.glob(os.path.join(ROOT, "tests/fake/scenarios/*.json")):
        tmp = tempfile.mkdtemp()
        port_file = os.path.join(tmp, "port")
        p = subprocess.Popen([sys.executable, fake, "--port-file", port_file, "--token", TOKEN,
                              "--scenario", scenario, "--max-lifetime", "30"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while not os.path.exists(port_file):
                time.sleep(0.05)
            port = int(open(port_file).read())
            time.sleep(2.0)  # scheduled updates arrive
            for method in ("getMe", "getUpdates", "deleteWebhook", "sendMessage"):
                url = "http://127.0.0.1:%d/bot%s/%s" % (port, TOKEN, method)
                body = json.dumps({"timeout": 0} if method == "getUpdates" else
                                  {"chat_id": 301, "text": "hi"}).encode()
                req = urllib.request.Request(url, data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(req, timeout=3) as r:
                        data = r.read()
                except urllib.error.HTTPError as e:
                    data = e.read()
                except OSError:
                    continue  # a scripted fault: a hang or a reset
                if method == "getUpdates":
                    put("tg_updates", data)
                put("tg_answer", b"\x01" + data)
                put("tg_answer", b"\x00" + data)
        finally:
            p.kill()
            p.wait()
    put("tg_answer", b"\x01<html><body>502 Bad Gateway</body></html>")
    put("tg_answer", b'\x00{"ok":false,"error_code":429,"description":"Too Many Requests: '
        b'retry after 5","parameters":{"retry_after":5}}')
    put("tg_answer", b'\x00{"ok":false,"error_code":400,"description":"group chat was '
        b'upgraded","parameters":{"migrate_to_chat_id":-1001300100}}')
    put("tg_answer", ('\x00{"ok":false,"error_code":500,"description":"at /bot%s/x"}'
                      % TOKEN.replace(":", "%3A")).encode())


if __name__ == "__main__":
    chat_seeds()
    plan_seeds()
    cfg_seeds()
    tg_seeds()
