"""Client helper for tests: start tests/fake/fake_wecom.py on free loopback ports,
drive it through its /control API, stop it by PID. Standard library only.

    from wecom_control import FakeWeCom
    fake = FakeWeCom(tmpdir, extra_args=["--stream-ttl", "5"])
    # bot config: [wecom] ws_url = fake.ws_url, bot_id = fake.bot_id,
    #             secret_file = fake.secret_file
    fake.wait(subscribed_connections=1)
    r = fake.message(userid="manager01", text="/bind ABC123")        # private
    fake.message(type="group", chatid="wrUNITA", text="/tasks")      # "@campaign-bot /tasks"
    fake.wait(stream=1)
    print(fake.sent(via="stream"), fake.response(r["req_id"]))
    # A file a user sends the bot (single chats only; in a group: FakeRefused, a ValueError):
    r = fake.message(userid="manager01",
                     file={"name": "总结.docx", "data_b64": base64.b64encode(data).decode()})
    # r["url"], r["aeskey"]: the callback's file.url and file.aeskey; GET url gives the
    # bytes AES-256-CBC encrypted, the name in Content-Disposition
    fake.wait(file_gets=1)
    fake.stop()
"""

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
BOT_ID = "aibFAKEtestbot0001"
SECRET = "fake-wecom-secret-0123456789"


class FakeError(Exception):
    pass


class FakeRefused(FakeError, ValueError):
    """The control API refused a request (HTTP 400, its reason in the message)."""


class FakeWeCom:
    def __init__(self, tmpdir, extra_args=(), bot_id=BOT_ID, secret=SECRET,
                 max_lifetime=300, log_name="fake_wecom.log"):
        self.bot_id = bot_id
        self.secret = secret
        self.port_file = os.path.join(tmpdir, "fake_wecom.port")
        self.secret_file = os.path.join(tmpdir, "fake_wecom.secret")
        with open(self.secret_file, "w") as f:
            f.write(secret + "\n")
        argv = ["/usr/bin/python3", os.path.join(HERE, "fake_wecom.py"),
                "--port-file", self.port_file, "--bot-id", bot_id,
                "--secret-file", self.secret_file, "--max-lifetime", str(max_lifetime)]
        argv += list(extra_args)
        self.log_path = os.path.join(tmpdir, log_name)
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=self.log_file, stderr=self.log_file)
        deadline = time.monotonic() + 15
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise FakeError("the fake WeCom did not start; see " + self.log_path)
            time.sleep(0.02)
        with open(self.port_file) as f:
            self.port = int(f.read())
        self.url = "http://127.0.0.1:%d" % self.port          # the control API
        self.ws_url = self.state()["ws_url"]                   # the bot's [wecom] ws_url

    def call(self, method, path, body=None, timeout=130):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            text = e.read()[:600].decode("utf-8", "replace")
            if e.code == 400:
                raise FakeRefused("%s %s refused: %s" % (method, path, text)) from None
            raise FakeError("%s %s -> %d %s" % (method, path, e.code, text)) from None

    def fetch(self, url, timeout=30):
        """GET any URL (a file's url): (status, headers, body bytes); no exception on 4xx/5xx."""
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    # -- control ----------------------------------------------------------------
    def message(self, **m):
        """Inject one message to the bot (README: type, userid, chatid, title, text,
        msgid, mention, content, file). With file={"name", "data_b64", "url_ttl"? (300),
        "disposition"? "utf8"|"plain"|"none"} it is a msgtype "file" message (single
        chats only) and the result adds url and aeskey (text is None)."""
        return self.call("POST", "/control/messages", {"messages": [m]})["results"][0]

    def messages(self, *ms):
        return self.call("POST", "/control/messages", {"messages": list(ms)})["results"]

    def event(self, **e):
        return self.call("POST", "/control/events", {"events": [e]})["results"][0]

    def fault(self, **f):
        return self.call("POST", "/control/faults", {"faults": [f]})["results"][0]

    def clear_faults(self):
        return self.call("POST", "/control/faults", {"clear": True})

    def sent(self, since=0, via=None):
        q = "?since=%d" % since + ("&via=" + via if via else "")
        return self.call("GET", "/control/sent" + q)["sent"]

    def response(self, req_id):
        return self.call("GET", "/control/responses?req_id=" + req_id)

    def responses(self):
        return self.call("GET", "/control/responses")["responses"]

    def frames(self, since=0, cmd=None):
        q = "?since=%d" % since + ("&cmd=" + cmd if cmd else "")
        return self.call("GET", "/control/frames" + q)["frames"]

    def errors(self, since=0):
        return self.call("GET", "/control/errors?since=%d" % since)["errors"]

    def log(self, kind=None, since=0):
        q = "?since=%d" % since + ("&kind=" + kind if kind else "")
        return self.call("GET", "/control/log" + q)["entries"]

    def state(self):
        return self.call("GET", "/control/state")

    def wait(self, timeout=30, **conds):
        """Block until every count is >= its value (README: sent, stream, send_msg,
        welcome, frames, errors, violations, connects, closes, kicks, pushes, drops,
        subscribed, auth_failures, pings, pings_answered, open_connections,
        subscribed_connections, file_gets); raises on timeout."""
        q = "&".join("%s=%d" % kv for kv in conds.items())
        r = self.call("GET", "/control/wait?%s&timeout=%s" % (q, timeout), timeout=timeout + 10)
        if not r["ok"]:
            raise FakeError("timed out waiting for %r; state %s"
                            % (conds, json.dumps(r["state"])[:2000]))
        return r["state"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()
