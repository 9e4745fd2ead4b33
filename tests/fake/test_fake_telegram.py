#!/usr/bin/python3
"""Self-test of the fake Telegram Bot API server (stdlib unittest, about 20 s).

Run: /usr/bin/python3 tests/fake/test_fake_telegram.py [-v]
Starts fake_telegram.py as a subprocess on a free port, talks to it with
http.client, and stops it by PID (SIGTERM, then SIGKILL if needed).
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "fake_telegram.py")
PYTHON = "/usr/bin/python3"
TOKEN = "123456:TEST-TOKEN"
FIRST_ID = 1000   # every test starts with update_id 1000: offsets 1..999 mean "head"


class FakeServer:
    """A fake_telegram.py subprocess and a small client for it."""

    def __init__(self, *extra, lifetime=120):
        self.dir = tempfile.mkdtemp(prefix="fake-tg-")
        self.port_file = os.path.join(self.dir, "port")
        self.err_path = os.path.join(self.dir, "stderr")
        with open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(
                [PYTHON, SERVER, "--port-file", self.port_file,
                 "--max-lifetime", str(lifetime)] + list(extra),
                stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("fake server did not start: " + self.stderr())
            time.sleep(0.02)
        with open(self.port_file) as f:
            self.port = int(f.read())

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)

    def request(self, verb, path, body=None, headers=None, timeout=15, conn=None):
        """Returns (status, parsed JSON or raw bytes, headers dict)."""
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(verb, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            raw = resp.read()
            try:
                data = json.loads(raw)
            except ValueError:
                data = raw
            return resp.status, data, dict(resp.getheaders())
        finally:
            if own:
                conn.close()

    def api(self, method, http_timeout=60, token=TOKEN, conn=None, **params):
        """A Bot API call with a JSON body (params may include timeout=...)."""
        body = json.dumps(params).encode()
        return self.request("POST", "/bot%s/%s" % (token, method), body,
                            {"Content-Type": "application/json"}, http_timeout, conn)

    def send(self, chat_id, text="hello", **params):
        return self.api("sendMessage", chat_id=chat_id, text=text, **params)

    def get(self, path, **query):
        q = ("?" + urllib.parse.urlencode(query)) if query else ""
        return self.request("GET", path + q)[1]

    def post(self, path, obj):
        return self.request("POST", path, json.dumps(obj).encode(),
                            {"Content-Type": "application/json"})[1]

    def push(self, *updates):
        result = self.post("/control/updates", {"updates": list(updates)})
        assert result["ok"], result
        return result["update_ids"]

    def faults(self, *rules):
        result = self.post("/control/faults", {"faults": list(rules)})
        assert result["ok"], result
        return result["ids"]

    def log(self, **query):
        return self.get("/control/log", **query)["entries"]

    def state(self):
        return self.get("/control/state")


def in_thread(fn, *args, **kwargs):
    """Run fn in a thread; returns a getter that joins and yields (result, seconds)."""
    box = {}

    def run():
        t0 = time.monotonic()
        try:
            box["result"] = fn(*args, **kwargs)
        except Exception as err:  # noqa: BLE001 - reported to the test
            box["result"] = err
        box["elapsed"] = time.monotonic() - t0
    t = threading.Thread(target=run, daemon=True)
    t.start()

    def join(timeout=20):
        t.join(timeout)
        return box.get("result"), box.get("elapsed")
    return join


ERR = {"ok": False}


class FakeTelegramTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = FakeServer()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def setUp(self):
        s = self.srv
        s.post("/control/reset", {"scenario": False, "update_id": FIRST_ID})
        s.post("/control/flood", {"mode": "off"})

    def assertApiError(self, reply, code, description, parameters=None):
        status, body, headers = reply
        self.assertEqual(status, code, body)
        expected = {"ok": False, "error_code": code, "description": description}
        if parameters:
            expected["parameters"] = parameters
        self.assertEqual(body, expected)
        return headers

    def ids(self, reply):
        status, body, _ = reply
        self.assertEqual(status, 200, body)
        return [u["update_id"] for u in body["result"]]

    # ---------------------------------------------------------------- basics

    def test_token_method_and_path_errors(self):
        s = self.srv
        self.assertApiError(s.api("getMe", token="999:WRONG"), 401, "Unauthorized")
        self.assertApiError(s.api("noSuchMethod"), 404, "Not Found: method not found")
        self.assertEqual(s.request("GET", "/nothing")[0], 404)
        status, body, _ = s.api("getme")   # method names are case-insensitive
        self.assertEqual(body["result"]["username"], "campaign_test_bot")
        self.assertEqual(body["result"]["id"], 1000)
        self.assertTrue(body["result"]["is_bot"])

    def test_parameter_encodings(self):
        s = self.srv
        path = "/bot%s/sendMessage" % TOKEN
        s.request("GET", path + "?chat_id=7&text=" + urllib.parse.quote("by query"))
        s.request("POST", path, "chat_id=7&text=by+form",
                  {"Content-Type": "application/x-www-form-urlencoded"})
        s.request("POST", path, json.dumps({"chat_id": "7", "text": "by json"}),
                  {"Content-Type": "application/json"})
        boundary = "XyZ"
        multipart = ("--XyZ\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n7\r\n"
                     "--XyZ\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nby multipart"
                     "\r\n--XyZ--\r\n")
        s.request("POST", path, multipart,
                  {"Content-Type": "multipart/form-data; boundary=" + boundary})
        sent = s.get("/control/sent")["sent"]
        self.assertEqual([m["text"] for m in sent],
                         ["by query", "by form", "by json", "by multipart"])
        self.assertTrue(all(m["chat_id"] == 7 for m in sent))

    def test_keep_alive_connection_is_reused(self):
        s = self.srv
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
        s.api("getMe", conn=conn)
        sock = conn.sock
        for _ in range(3):
            status, _, headers = s.api("getMe", conn=conn)
            self.assertEqual(status, 200)
            self.assertNotEqual(headers.get("Connection", "").lower(), "close")
        self.assertIs(conn.sock, sock)
        conn.close()

    # ------------------------------------------------------------ getUpdates

    def test_offset_confirmation_and_redelivery(self):
        s = self.srv
        ids = s.push({"text": "a"}, {"text": "b"}, {"text": "c"})
        self.assertEqual(ids, [FIRST_ID, FIRST_ID + 1, FIRST_ID + 2])
        self.assertEqual(self.ids(s.api("getUpdates")), ids)
        # not confirmed yet: an offset equal to the first id returns them again
        self.assertEqual(self.ids(s.api("getUpdates", offset=ids[0])), ids)
        # offset = last + 1 confirms all three
        self.assertEqual(self.ids(s.api("getUpdates", offset=ids[2] + 1)), [])
        self.assertEqual(s.state()["confirmed_offset"], ids[2] + 1)
        self.assertEqual(s.state()["pending_updates"], 0)
        # confirmed updates are gone forever, even when asked for explicitly
        self.assertEqual(self.ids(s.api("getUpdates", offset=ids[0])), [])
        new = s.push({"text": "d"})
        self.assertEqual(self.ids(s.api("getUpdates", offset=1)), new)

    def test_negative_and_invalid_offsets(self):
        s = self.srv
        ids = s.push(*[{"text": str(i)} for i in range(5)])
        # offset -2: the last two; everything before is forgotten
        self.assertEqual(self.ids(s.api("getUpdates", offset=-2)), ids[3:])
        self.assertEqual(s.state()["pending_updates"], 2)
        # far past the tail: invalid, answered from the head, nothing confirmed
        self.assertEqual(self.ids(s.api("getUpdates", offset=ids[-1] + 500)), ids[3:])
        self.assertEqual(s.state()["pending_updates"], 2)
        # within 10 past the tail is valid: confirms everything
        self.assertEqual(self.ids(s.api("getUpdates", offset=ids[-1] + 5)), [])
        self.assertEqual(s.state()["pending_updates"], 0)

    def test_limit_and_timeout_clamps(self):
        s = self.srv
        s.push(*[{"text": str(i)} for i in range(120)])
        self.assertEqual(len(self.ids(s.api("getUpdates", offset=1))), 100)   # default
        self.assertEqual(len(self.ids(s.api("getUpdates", offset=2, limit=500))), 100)
        self.assertEqual(len(self.ids(s.api("getUpdates", offset=3, limit=0))), 1)
        self.assertEqual(len(self.ids(s.api("getUpdates", offset=4, limit=7))), 7)
        entries = s.log(method="getUpdates")
        self.assertEqual([e["effective_limit"] for e in entries], [100, 100, 1, 7])
        s.api("getUpdates", offset=FIRST_ID + 120)          # confirm all
        poll = in_thread(s.api, "getUpdates", offset=FIRST_ID + 120, timeout=100)
        s.get("/control/wait", polling=1, timeout=5)
        entry = s.log(method="getUpdates")[-1]
        self.assertEqual(entry["effective_timeout"], 50)
        self.assertIsNone(entry["status"])                   # pending
        s.push({"text": "release"})
        result, _ = poll()
        self.assertEqual(len(result[1]["result"]), 1)
        t0 = time.monotonic()
        self.assertEqual(self.ids(s.api("getUpdates", offset=FIRST_ID + 121, timeout=1)), [])
        self.assertGreaterEqual(time.monotonic() - t0, 0.95)

    def test_long_poll_blocks_and_answers_promptly(self):
        s = self.srv
        poll = in_thread(s.api, "getUpdates", offset=5, timeout=10)
        self.assertTrue(s.get("/control/wait", polling=1, timeout=5)["ok"])
        time.sleep(0.3)
        self.assertEqual(s.state()["get_updates_in_flight"], 1)
        t0 = time.monotonic()
        s.push({"text": "now"})
        result, elapsed = poll()
        latency = time.monotonic() - t0
        self.assertEqual(len(result[1]["result"]), 1)
        self.assertGreater(elapsed, 0.3)           # it really blocked
        self.assertLess(latency, 0.2)              # and answered at once (~2 ms here)
        self.assertEqual(s.state()["get_updates_in_flight"], 0)

    def test_long_poll_released_when_client_disconnects(self):
        s = self.srv
        with self.assertRaises(socket.timeout):
            s.api("getUpdates", offset=5, timeout=20, http_timeout=0.3)
        self.assertTrue(s.get("/control/wait", polling=0, timeout=3)["ok"])
        entry = s.log(method="getUpdates")[-1]
        self.assertTrue(entry["client_gone"])
        self.assertIsNone(entry["status"])
        self.assertEqual(s.state()["get_updates_in_flight"], 0)
        # the next poller is not told about a conflict: nobody was waiting
        self.assertEqual(s.api("getUpdates", offset=6)[0], 200)

    def test_anti_busy_loop_rules(self):
        s = self.srv
        self.assertEqual(self.ids(s.api("getUpdates", offset=7, timeout=0)), [])
        # same offset again within 3 s with timeout < 3 becomes a 3 s long poll
        poll = in_thread(s.api, "getUpdates", offset=7, timeout=0)
        self.assertTrue(s.get("/control/wait", polling=1, timeout=5)["ok"])
        time.sleep(0.3)
        s.push({"text": "x"})
        result, elapsed = poll()
        self.assertEqual(len(result[1]["result"]), 1)
        self.assertGreater(elapsed, 0.25)
        self.assertEqual(s.log(method="getUpdates")[-1]["effective_timeout"], 3)
        # same offset within 0.5 s: limit forced to 1
        s.push({"text": "y"}, {"text": "z"})
        self.assertEqual(len(self.ids(s.api("getUpdates", offset=8))), 3)
        self.assertEqual(len(self.ids(s.api("getUpdates", offset=8))), 1)
        self.assertEqual(s.log(method="getUpdates")[-1]["effective_limit"], 1)

    def test_second_poller_gets_conflict_and_409s_are_throttled(self):
        s = self.srv
        first = in_thread(s.api, "getUpdates", offset=10, timeout=20)
        s.get("/control/wait", polling=1, timeout=5)
        second = in_thread(s.api, "getUpdates", offset=11, timeout=20)
        result, elapsed = first()
        self.assertApiError(result, 409, "Conflict: terminated by other getUpdates request; "
                                         "make sure that only one bot instance is running")
        self.assertLess(elapsed, 2)
        time.sleep(0.2)
        third = in_thread(s.api, "getUpdates", offset=12, timeout=20)
        result, elapsed = second()      # second 409 within 3 s: answered 3 s late
        self.assertEqual(result[0], 409)
        self.assertGreater(elapsed, 2.5)
        s.push({"text": "for the third"})
        result, _ = third()
        self.assertEqual(len(result[1]["result"]), 1)

    def test_webhook_blocks_get_updates(self):
        s = self.srv
        status, body, _ = s.api("setWebhook", url="https://x.example/h")
        self.assertEqual(body, {"ok": True, "result": True, "description": "Webhook was set"})
        self.assertEqual(s.api("getWebhookInfo")[1]["result"]["url"], "https://x.example/h")
        self.assertApiError(s.api("getUpdates"), 409,
                            "Conflict: can't use getUpdates method while webhook is active; "
                            "use deleteWebhook to delete the webhook first")
        headers = self.assertApiError(s.api("setWebhook", url="https://y.example/h"), 429,
                                      "Too Many Requests: retry after 1", {"retry_after": 1})
        self.assertEqual(headers["Retry-After"], "1")
        body = s.api("deleteWebhook", drop_pending_updates=True)[1]
        self.assertEqual(body["description"], "Webhook was deleted")
        self.assertEqual(s.api("deleteWebhook")[1]["description"], "Webhook is already deleted")
        self.assertIsNone(s.state()["webhook"])
        self.assertEqual(s.api("getUpdates")[0], 200)

    def test_webhook_requires_https(self):
        self.assertApiError(self.srv.api("setWebhook", url="http://x.example/h"), 400,
                            "Bad Request: bad webhook: HTTPS url must be provided for webhook")
        self.assertIsNone(self.srv.state()["webhook"])

    def test_allowed_updates_filter_at_arrival(self):
        s = self.srv
        member = {"type": "chat_member", "chat_id": -50, "new_status": "member"}
        res = s.post("/control/updates", {"updates": [member, {"type": "my_chat_member",
                                                               "new_status": "kicked"}]})
        self.assertIsNone(res["update_ids"][0])              # excluded by default
        self.assertEqual(res["results"][0]["dropped"], "not in allowed_updates")
        self.assertIsNotNone(res["update_ids"][1])
        s.api("getUpdates", offset=1, allowed_updates=["message"])
        self.assertEqual(s.push({"type": "callback_query", "data": "x"}), [None])
        s.api("getUpdates", offset=2)                        # omitted: setting kept
        self.assertEqual(s.push({"type": "callback_query", "data": "x"}), [None])
        self.assertIsNotNone(s.push({"text": "m"})[0])
        s.api("getUpdates", offset=3, allowed_updates=[])    # empty list: default
        self.assertIsNotNone(s.push({"type": "callback_query", "data": "x"})[0])
        self.assertIn("callback_query", s.state()["allowed_updates"])
        self.assertNotIn("chat_member", s.state()["allowed_updates"])

    def test_update_objects(self):
        s = self.srv
        s.push({"text": "好😀 /due@campaign_test_bot 3", "user_id": 42, "username": "li",
                "first_name": "Li"},
               {"text": "/tasks", "chat_id": -300, "user_id": 43, "chat_type": "group",
                "title": "Unit A"},
               {"type": "edited_message", "chat_id": 42, "user_id": 42, "message_id": FIRST_ID,
                "text": "edited"},
               {"type": "callback_query", "user_id": 42, "data": "t:1:done"},
               {"type": "my_chat_member", "user_id": 42, "new_status": "kicked"},
               {"type": "migrate", "chat_id": -300, "migrate_to_chat_id": -1000000000300},
               {"message": {"message_id": 99, "date": int(time.time()), "text": "raw",
                            "chat": {"id": 5, "type": "private", "first_name": "F"}}},
               {"text": "too old", "date": int(time.time()) - 90000})
        ups = s.api("getUpdates")[1]["result"]
        self.assertEqual([u["update_id"] for u in ups], list(range(FIRST_ID, FIRST_ID + 8)))
        msg = ups[0]["message"]
        self.assertEqual(msg["from"], {"id": 42, "is_bot": False, "first_name": "Li",
                                       "username": "li"})
        self.assertEqual(msg["chat"]["type"], "private")
        self.assertEqual(msg["entities"], [{"offset": 4, "length": 22, "type": "bot_command"}])
        group = ups[1]["message"]
        self.assertEqual(group["chat"], {"id": -300, "type": "group", "title": "Unit A"})
        self.assertEqual(group["entities"][0]["offset"], 0)
        self.assertIn("edit_date", ups[2]["edited_message"])
        self.assertEqual(ups[3]["callback_query"]["data"], "t:1:done")
        self.assertEqual(ups[4]["my_chat_member"]["new_chat_member"]["status"], "kicked")
        self.assertEqual(ups[5]["message"]["migrate_to_chat_id"], -1000000000300)
        self.assertEqual(ups[6]["message"]["migrate_from_chat_id"], -300)
        self.assertEqual(ups[7]["message"]["text"], "raw")       # full form kept
        self.assertEqual(len(ups), 8)                             # the old one dropped
        self.assertApiError(s.send(-300), 400,
                            "Bad Request: group chat was upgraded to a supergroup chat",
                            {"migrate_to_chat_id": -1000000000300})
        self.assertEqual(s.send(-1000000000300)[1]["result"]["chat"]["type"], "supergroup")

    # ----------------------------------------------------------- sendMessage

    def test_send_message_result_and_record(self):
        s = self.srv
        status, body, _ = s.send("5", "<b>hi</b> &lt;3", parse_mode="HTML",
                                 reply_parameters={"message_id": 77},
                                 link_preview_options={"is_disabled": True})
        msg = body["result"]
        self.assertEqual(msg["text"], "hi <3")
        self.assertEqual(msg["entities"], [{"offset": 0, "length": 2, "type": "bold"}])
        self.assertEqual(msg["chat"]["id"], 5)
        self.assertEqual(msg["from"]["username"], "campaign_test_bot")
        second = s.send(6, "x", reply_to_message_id=msg["message_id"])[1]["result"]
        self.assertEqual(second["message_id"], msg["message_id"] + 1)
        self.assertEqual(s.send("@staff_channel", "to a channel")[0], 200)
        sent = s.get("/control/sent")["sent"]
        self.assertEqual(sent[0]["reply_to"], 77)
        self.assertEqual(sent[0]["parse_mode"], "HTML")
        self.assertEqual(sent[0]["plain"], "hi <3")
        self.assertEqual(sent[1]["reply_to"], msg["message_id"])
        self.assertIsInstance(sent[0]["time"], float)
        self.assertEqual(s.get("/control/sent", since=1, chat_id=6)["sent"][0]["text"], "x")

    def test_send_message_validation(self):
        s = self.srv
        self.assertApiError(s.api("sendMessage", text="x"), 400, "Bad Request: chat_id is empty")
        self.assertApiError(s.send("abc"), 400, "Bad Request: chat not found")
        self.assertApiError(s.api("sendMessage", chat_id=5), 400,
                            "Bad Request: message text is empty")
        self.assertApiError(s.send(5, " \n "), 400, "Bad Request: message text is empty")
        self.assertApiError(s.send(5, "<b></b>", parse_mode="HTML"), 400,
                            "Bad Request: message text is empty")
        self.assertApiError(s.send(5, "x", parse_mode="Bogus"), 400,
                            "Bad Request: unsupported parse_mode")
        self.assertApiError(s.send(5, "好" * 11000), 400, "Bad Request: text is too long")

    def test_html_parse_mode(self):
        s = self.srv
        good = ["<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins>",
                "<s>s</s><strike>k</strike><del>d</del><code>c</code><pre>p</pre>",
                '<a href="https://example.com/?a=1&amp;b=2">link</a>',
                '<pre><code class="language-c">int x;</code></pre>',
                '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>',
                "<blockquote>q</blockquote> &lt;&gt;&amp;&quot; &#20320;&#x597D;",
                "<B>upper case tags</B>", "1 > 0 is fine"]
        for text in good:
            status, body, _ = s.send(5, text, parse_mode="HTML")
            self.assertEqual(status, 200, (text, body))
        bad = {"a < b": 'Unsupported start tag "" at byte offset 2',
               "<br>": 'Unsupported start tag "br" at byte offset 0',
               "<b>open": "Can't find end tag corresponding to start tag b",
               "<b>x</i>": 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"',
               "x</b>": "Unexpected end tag at byte offset 1",
               "<span>x</span>": 'Tag "span" must have class "tg-spoiler" at byte offset 0',
               "<b": "Unclosed start tag at byte offset 0",
               "fish & chips": None, "&nbsp;": None}
        for text, why in bad.items():
            status, body, _ = s.send(5, text, parse_mode="HTML")
            self.assertEqual(status, 400, text)
            self.assertTrue(body["description"].startswith(
                "Bad Request: can't parse entities: "), body)
            if why:
                self.assertEqual(body["description"],
                                 "Bad Request: can't parse entities: " + why)
        # without parse_mode nothing is parsed
        self.assertEqual(s.send(5, "a < b & <br>")[0], 200)
        self.assertEqual(s.state()["sent"], len(good) + 1)

    def test_message_length_counts_utf16_units(self):
        s = self.srv
        self.assertEqual(s.send(5, "好" * 4096)[0], 200)
        self.assertApiError(s.send(5, "好" * 4097), 400, "Bad Request: message is too long")
        self.assertEqual(s.send(5, "😀" * 2048)[0], 200)
        self.assertApiError(s.send(5, "😀" * 2049), 400, "Bad Request: message is too long")
        # counted after entity parsing: tags do not count
        self.assertEqual(s.send(5, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")[0], 200)

    def test_blocked_kicked_and_migrated_chats(self):
        s = self.srv
        s.post("/control/chats", {"chats": [{"chat_id": 31, "blocked": True},
                                            {"chat_id": -32, "kicked": True},
                                            {"chat_id": -33, "migrated_to": -1000000000033}]})
        self.assertApiError(s.send(31), 403, "Forbidden: bot was blocked by the user")
        self.assertApiError(s.send(-32), 403, "Forbidden: bot was kicked from the group chat")
        self.assertApiError(s.send(-33), 400,
                            "Bad Request: group chat was upgraded to a supergroup chat",
                            {"migrate_to_chat_id": -1000000000033})
        s.post("/control/chats", {"chats": [{"chat_id": 31, "blocked": False}]})
        self.assertEqual(s.send(31)[0], 200)
        self.assertEqual(s.state()["sent"], 1)

    def test_set_my_commands(self):
        s = self.srv
        cmds = [{"command": "tasks", "description": "我的任务"}]
        self.assertEqual(s.api("setMyCommands", commands=cmds)[1]["result"], True)
        self.assertEqual(s.api("getMyCommands")[1]["result"], cmds)
        self.assertApiError(s.api("setMyCommands", commands=[{"command": "Tasks",
                                                              "description": "x"}]),
                            400, "Bad Request: BOT_COMMAND_INVALID")
        self.assertEqual(s.api("answerCallbackQuery", callback_query_id="1")[1]["result"], True)

    # --------------------------------------------------------- flood control

    def test_flood_per_chat_and_early_retry(self):
        s = self.srv
        s.post("/control/flood", {"mode": "enforce"})
        self.assertEqual(s.send(11)[0], 200)
        headers = self.assertApiError(s.send(11), 429, "Too Many Requests: retry after 1",
                                      {"retry_after": 1})
        self.assertEqual(headers["Retry-After"], "1")
        # any other send inside the window is an early retry (scope "all")
        self.assertEqual(s.send(12)[0], 429)
        refused, early = s.log(method="sendMessage")[1:3]
        self.assertEqual(refused["flood"], ["chat"])
        self.assertFalse(refused["early_retry"])
        self.assertTrue(early["early_retry"])
        self.assertEqual(s.get("/control/log", violations=1)["entries"][-1]["seq"], early["seq"])
        time.sleep(1.05)
        self.assertEqual(s.send(11)[0], 200)
        self.assertEqual(s.state()["violations"]["early_retry"], 1)
        sent = s.get("/control/sent")["sent"]
        self.assertGreaterEqual(sent[1]["time"] - sent[0]["time"], 1.0)

    def test_flood_global_and_group_windows(self):
        s = self.srv
        # production limits, with windows stretched so a slow machine cannot escape them
        s.post("/control/flood", {"mode": "enforce", "per_chat": [100, 1.0],
                                  "global": [30, 5.0], "pause_scope": "chat"})
        for chat in range(100, 130):
            self.assertEqual(s.send(chat)[0], 200, chat)
        status, body, _ = s.send(130)
        self.assertEqual(status, 429)
        self.assertIn(body["parameters"]["retry_after"], (4, 5))
        self.assertEqual(s.log()[-1]["flood"], ["global"])
        s.post("/control/flood", {"global": [100, 1.0], "per_group": [3, 10.0]})
        for _ in range(3):
            self.assertEqual(s.send(-500)[0], 200)
        status, body, _ = s.send(-500)
        self.assertEqual(status, 429)
        self.assertIn(body["parameters"]["retry_after"], (9, 10))
        self.assertEqual(s.log()[-1]["flood"], ["group"])
        self.assertEqual(s.send(-501)[0], 200)     # scope "chat": other chats go on
        self.assertEqual(s.state()["violations"]["flood"], {"chat": 0, "group": 1, "global": 1})

    def test_flood_observe_mode_delivers_and_marks(self):
        s = self.srv
        s.post("/control/flood", {"mode": "observe"})
        self.assertEqual(s.send(13)[0], 200)
        self.assertEqual(s.send(13)[0], 200)
        sent = s.get("/control/sent")["sent"]
        self.assertEqual([m["flood"] for m in sent], [[], ["chat"]])
        self.assertEqual(s.state()["violations"]["flood"]["chat"], 1)
        self.assertEqual(s.state()["violations"]["flood_refused"], 0)

    # ---------------------------------------------------------------- faults

    def test_fault_429_with_early_retry(self):
        s = self.srv
        s.faults({"method": "sendMessage", "fault": "429", "retry_after": 1})
        headers = self.assertApiError(s.send(20), 429, "Too Many Requests: retry after 1",
                                      {"retry_after": 1})
        self.assertEqual(headers["Retry-After"], "1")
        self.assertEqual(s.send(20)[0], 429)                     # retried early
        self.assertEqual(s.api("getMe")[0], 200)                 # not a send: fine
        time.sleep(1.05)
        self.assertEqual(s.send(20)[0], 200)
        log = s.log(method="sendMessage")
        self.assertEqual([(e["fault"], e["early_retry"], e["status"]) for e in log],
                         [("429", False, 429), (None, True, 429), (None, False, 200)])
        # scope "chat": only the same chat is paused
        s.faults({"method": "sendMessage", "fault": "429", "retry_after": 5, "scope": "chat"})
        self.assertEqual(s.send(21)[0], 429)
        self.assertEqual(s.send(22)[0], 200)
        self.assertEqual(s.state()["violations"]["early_retry"], 1)

    def test_fault_error_kinds_and_matching(self):
        s = self.srv
        s.faults({"method": "getUpdates", "fault": "409"},
                 {"method": "getMe", "fault": "401"},
                 {"method": "sendMessage", "fault": "403", "chat_id": 40},
                 {"method": "sendMessage", "fault": "400_migrate", "chat_id": -41,
                  "migrate_to_chat_id": -1000000000041},
                 {"method": "sendMessage", "fault": "500", "call": 4},
                 {"method": "deleteWebhook", "fault": "500", "times": 2,
                  "description": "Internal Server Error: restart"})
        self.assertApiError(s.api("getUpdates"), 409, "Conflict: terminated by other "
                            "getUpdates request; make sure that only one bot instance is running")
        self.assertApiError(s.api("getMe"), 401, "Unauthorized")
        self.assertEqual(s.api("getMe")[0], 200)                 # times defaults to 1
        self.assertEqual(s.send(39)[0], 200)                      # call 1, other chat
        self.assertApiError(s.send(40), 403, "Forbidden: bot was blocked by the user")
        self.assertApiError(s.send(-41), 400, "Bad Request: group chat was upgraded to a "
                            "supergroup chat", {"migrate_to_chat_id": -1000000000041})
        self.assertApiError(s.send(42), 500, "Internal Server Error")      # 4th call
        self.assertEqual(s.send(43)[0], 200)
        for _ in range(2):
            self.assertApiError(s.api("deleteWebhook"), 500, "Internal Server Error: restart")
        self.assertEqual(s.api("deleteWebhook")[0], 200)
        self.assertEqual([m["chat_id"] for m in s.get("/control/sent")["sent"]], [39, 43])
        fired = [(f["method"], f["fault"], f["fired"]) for f in s.get("/control/faults")["faults"]]
        self.assertIn(("sendMessage", "500", 1), fired)
        self.assertIn(("deleteWebhook", "500", 2), fired)

    def test_fault_502_html_and_bad_json(self):
        s = self.srv
        s.faults({"method": "getUpdates", "fault": "502_html"},
                 {"method": "getUpdates", "fault": "bad_json"})
        status, body, headers = s.api("getUpdates")
        self.assertEqual(status, 502)
        self.assertEqual(headers["Content-Type"], "text/html")
        self.assertIn(b"502 Bad Gateway", body)
        status, body, headers = s.api("getUpdates")
        self.assertEqual(status, 200)
        self.assertIsInstance(body, bytes)                         # not JSON

    def test_fault_truncated_json(self):
        s = self.srv
        s.faults({"method": "sendMessage", "fault": "truncated_json"},
                 {"method": "sendMessage", "fault": "truncated_json", "variant": "half_length"})
        with self.assertRaises(http.client.IncompleteRead):
            s.send(50)
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
        status, body, headers = s.api("sendMessage", conn=conn, chat_id=51, text="x")
        self.assertEqual(status, 200)
        self.assertIsInstance(body, bytes)
        self.assertEqual(int(headers["Content-Length"]), len(body))
        self.assertTrue(body.startswith(b'{"ok":true'))
        self.assertEqual(s.api("getMe", conn=conn)[0], 200)      # connection still usable
        conn.close()
        self.assertEqual(s.state()["sent"], 0)                    # delivered defaults false

    def test_fault_reset_and_delivered_flag(self):
        s = self.srv
        s.faults({"method": "sendMessage", "fault": "reset"},
                 {"method": "sendMessage", "fault": "reset", "when": "mid_body",
                  "delivered": True},
                 {"method": "sendMessage", "fault": "500", "delivered": True})
        with self.assertRaises((ConnectionError, http.client.HTTPException)):
            s.send(60, "lost")
        with self.assertRaises((ConnectionError, http.client.HTTPException)):
            s.send(61, "delivered, answer cut")
        self.assertEqual(s.send(62, "delivered, answer 500")[0], 500)
        sent = s.get("/control/sent")["sent"]
        self.assertEqual([(m["chat_id"], m["fault"]) for m in sent],
                         [(61, "reset"), (62, "500")])
        self.assertEqual([e["delivered"] for e in s.log(method="sendMessage")],
                         [False, True, True])

    def test_fault_hang_released_when_client_gives_up(self):
        s = self.srv
        s.faults({"method": "getUpdates", "fault": "hang"})
        t0 = time.monotonic()
        with self.assertRaises(socket.timeout):
            s.api("getUpdates", http_timeout=0.5)
        self.assertLess(time.monotonic() - t0, 2)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            entry = s.log(method="getUpdates")[-1]
            if "released" in entry:
                break
            time.sleep(0.05)
        self.assertEqual(entry["released"], "client_closed")
        self.assertIsNone(entry["status"])
        self.assertEqual(s.api("getUpdates")[0], 200)

    def test_fault_delay(self):
        s = self.srv
        s.faults({"method": "sendMessage", "fault": "delay", "ms": 300})
        t0 = time.monotonic()
        self.assertEqual(s.send(70)[0], 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        self.assertEqual(s.state()["sent"], 1)

    def test_fault_rule_validation(self):
        s = self.srv
        self.assertFalse(s.post("/control/faults", {"faults": [{"method": "x",
                                                                "fault": "nope"}]})["ok"])
        self.assertFalse(s.post("/control/faults", {"faults": [{"method": "x", "fault": "500",
                                                                "typo": 1}]})["ok"])
        self.assertFalse(s.post("/control/faults", {"faults": [{
            "method": "x", "fault": "truncated_json", "variant": "short"}]})["ok"])

    # ----------------------------------------------------------- control API

    def test_control_wait_state_and_reset(self):
        s = self.srv
        waiter = in_thread(s.get, "/control/wait", sent=2, timeout=10)
        time.sleep(0.2)
        s.send(80)
        s.send(81)
        result, elapsed = waiter()
        self.assertTrue(result["ok"])
        self.assertEqual(result["state"]["sent"], 2)
        self.assertLess(elapsed, 5)
        t0 = time.monotonic()
        self.assertFalse(s.get("/control/wait", sent=5, timeout=0.3)["ok"])
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        ids = s.push({"text": "a"})
        confirm = in_thread(s.get, "/control/wait", confirmed=ids[0], timeout=10)
        s.api("getUpdates", offset=ids[0] + 1)
        self.assertTrue(confirm()[0]["ok"])
        st = s.state()
        for key in ("pending_updates", "confirmed_offset", "webhook", "get_updates_in_flight",
                    "violations", "calls", "allowed_updates"):
            self.assertIn(key, st)
        self.assertEqual(st["calls"]["sendMessage"], 2)
        log = s.get("/control/log", since=1, limit=2)
        self.assertEqual([e["seq"] for e in log["entries"]], [2, 3])
        s.post("/control/reset", {"scenario": False})
        st = s.state()
        self.assertEqual((st["sent"], st["requests"], st["pending_updates"]), (0, 0, 0))
        self.assertGreater(st["next_update_id"], ids[0])         # ids never go back
        self.assertEqual(s.request("GET", "/control/nope")[0], 404)
        self.assertFalse(s.post("/control/updates", {"updates": [{"type": "bogus"}]})["ok"])


class ProcessTest(unittest.TestCase):
    """Start-up, shutdown, scenario files and --record."""

    def test_port_file_stderr_and_max_lifetime(self):
        srv = FakeServer(lifetime=1)
        try:
            self.assertIn("listening on 127.0.0.1:%d" % srv.port, srv.stderr())
            self.assertEqual(srv.proc.wait(5), 0)
        finally:
            srv.stop()

    def test_sigterm_stops_a_server_with_a_hanging_client(self):
        srv = FakeServer("--scenario", os.path.join(HERE, "scenarios", "flaky_network.json"))
        try:
            sock = socket.create_connection(("127.0.0.1", srv.port))
            path = "/bot%s/getMe" % TOKEN     # flaky_network hangs getMe's 1st call
            sock.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
            time.sleep(0.3)
            t0 = time.monotonic()
            os.kill(srv.proc.pid, signal.SIGTERM)
            self.assertEqual(srv.proc.wait(5), 0)
            self.assertLess(time.monotonic() - t0, 3)
            sock.close()
        finally:
            srv.stop()

    def test_scenario_file_and_record(self):
        record = os.path.join(tempfile.mkdtemp(prefix="fake-tg-"), "rec.jsonl")
        srv = FakeServer("--scenario", os.path.join(HERE, "scenarios", "basic_conversation.json"),
                         "--record", record)
        try:
            first = srv.api("getUpdates")[1]["result"]
            self.assertGreaterEqual(len(first), 3)
            self.assertTrue(first[0]["message"]["text"].startswith("/start"))
            last = first[-1]["update_id"]
            # a scheduled update arrives by itself
            status, body, _ = srv.api("getUpdates", offset=last + 1, timeout=5)
            self.assertEqual(len(body["result"]), 1)
            self.assertIn("scheduled", json.dumps(body["result"][0], ensure_ascii=False))
            srv.send(first[0]["message"]["chat"]["id"], "reply")
        finally:
            srv.stop()
        with open(record) as f:
            lines = [json.loads(line) for line in f]
        self.assertEqual(len(lines), 3)
        self.assertEqual(lines[2]["request"], "POST /bot<token>/sendMessage")
        self.assertNotIn(TOKEN, open(record).read())

    def test_all_example_scenarios_load(self):
        folder = os.path.join(HERE, "scenarios")
        for name in sorted(os.listdir(folder)):
            srv = FakeServer("--scenario", os.path.join(folder, name))
            try:
                self.assertEqual(srv.get("/control/state")["ok"], True, name)
            finally:
                srv.stop()


if __name__ == "__main__":
    unittest.main()
