"""Client helper for tests: start tests/fake/fake_dingtalk.py on free loopback ports,
drive it through its /control API, stop it by PID. Standard library only.

    from dingtalk_control import FakeDingTalk
    fake = FakeDingTalk(tmpdir, extra_args=["--webhook-ttl", "5"])
    fake.message(staff_id="manager01", text="/bind ABC123")       # a private message
    fake.message(type="group", conversation_id="cidUNIT==", text="/tasks")
    fake.wait(sent=1)
    print(fake.sent())
    # A file a user sends the bot (private chats only; in a group: FakeRefused, a ValueError):
    r = fake.message(staff_id="manager01",
                     file={"name": "总结.docx", "data_b64": base64.b64encode(data).decode()})
    # r["downloadCode"], r["fileName"], r["fileId"], r["spaceId"]: the callback's content;
    # the bot resolves the code (POST /v1.0/robot/messageFiles/download) and GETs the URL
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
CLIENT_ID = "dingfaketestapp0001"
CLIENT_SECRET = "fake-app-secret-0123456789"


class FakeError(Exception):
    pass


class FakeRefused(FakeError, ValueError):
    """The control API refused a request (HTTP 400, its reason in the message)."""


class FakeDingTalk:
    def __init__(self, tmpdir, extra_args=(), client_id=CLIENT_ID, secret=CLIENT_SECRET,
                 max_lifetime=300, log_name="fake_dingtalk.log"):
        self.client_id = client_id
        self.secret = secret
        self.port_file = os.path.join(tmpdir, "fake_dingtalk.port")
        self.secret_file = secret_file = os.path.join(tmpdir, "fake_dingtalk.secret")
        with open(secret_file, "w") as f:
            f.write(secret + "\n")
        argv = ["/usr/bin/python3", os.path.join(HERE, "fake_dingtalk.py"),
                "--port-file", self.port_file, "--client-id", client_id,
                "--client-secret-file", secret_file, "--max-lifetime", str(max_lifetime)]
        argv += list(extra_args)
        self.log_path = os.path.join(tmpdir, log_name)
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=self.log_file, stderr=self.log_file)
        deadline = time.monotonic() + 15
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise FakeError("the fake DingTalk did not start; see " + self.log_path)
            time.sleep(0.02)
        with open(self.port_file) as f:
            self.port = int(f.read())
        self.url = "http://127.0.0.1:%d" % self.port   # the bot's [dingtalk] api_url

    # -- raw access -------------------------------------------------------------
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
        """GET any URL (a downloadUrl): (status, headers, body bytes); no exception on 4xx/5xx."""
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def api(self, path, body, headers=None):
        """Call the fake's OpenAPI like a client would: (status, parsed body)."""
        h = {"Content-Type": "application/json", "Accept": "application/json"}
        h.update(headers or {})
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                     method="POST", headers=h)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    # -- control ----------------------------------------------------------------
    def message(self, **m):
        """Inject one bot message (see README: type, staff_id, nick, conversation_id,
        title, text, msg_id, mention, at_bot, webhook_ttl, content, file). With
        file={"name", "data_b64", "code_ttl"?, "url_ttl"?} it is a msgtype "file"
        message and the result adds downloadCode, fileName, fileId, spaceId."""
        return self.call("POST", "/control/messages", {"messages": [m]})["results"][0]

    def messages(self, *ms):
        return self.call("POST", "/control/messages", {"messages": list(ms)})["results"]

    def event(self, **e):
        return self.call("POST", "/control/events", {"events": [e]})["results"][0]

    def fault(self, **f):
        return self.call("POST", "/control/faults", {"faults": [f]})["results"][0]

    def clear_faults(self):
        return self.call("POST", "/control/faults", {"clear": True})

    def users(self, invalid=None, flow_controlled=(), times=1):
        body = {"flow_controlled": list(flow_controlled), "times": times}
        if invalid is not None:
            body["invalid"] = list(invalid)
        return self.call("POST", "/control/users", body)

    def sent(self, since=0, via=None):
        q = "?since=%d" % since + ("&via=" + via if via else "")
        return self.call("GET", "/control/sent" + q)["sent"]

    def acks(self, since=0):
        return self.call("GET", "/control/acks?since=%d" % since)["acks"]

    def log(self, kind=None, since=0):
        q = "?since=%d" % since + ("&kind=" + kind if kind else "")
        return self.call("GET", "/control/log" + q)["entries"]

    def state(self):
        return self.call("GET", "/control/state")

    def wait(self, timeout=30, **conds):
        """Block until every condition holds (sent=N, acks=N, connects=N, opens=N,
        closes=N, pushes=N, open_connections=N, refused=N, webhook=N, batchSend=N,
        groupSend=N, pings_answered=N, file_urls=N, file_gets=N); raises on timeout."""
        q = "&".join("%s=%d" % kv for kv in conds.items())
        r = self.call("GET", "/control/wait?%s&timeout=%s" % (q, timeout), timeout=timeout + 10)
        if not r["ok"]:
            raise FakeError("timed out waiting for %r; state %s" % (conds, json.dumps(r["state"])[:2000]))
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
