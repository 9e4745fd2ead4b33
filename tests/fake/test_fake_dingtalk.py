#!/usr/bin/python3
"""Self-test of the fake DingTalk (stdlib unittest + python3-websockets).

Run: /usr/bin/python3 tests/fake/test_fake_dingtalk.py [-v] [Test.name]
Each test starts fake_dingtalk.py (dingtalk_control.FakeDingTalk) on free
loopback ports with scaled-down lifetimes, plays a Stream client with the
websockets library and urllib, and stops the fake by PID.
"""

import asyncio
import base64
import http.client
import json
import os
import socket
import sys
import tempfile
import time
import unittest
import urllib.parse

import websockets
import websockets.exceptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dingtalk_control import CLIENT_ID, CLIENT_SECRET, FakeDingTalk  # noqa: E402

TOPIC = "/v1.0/im/bot/messages/get"
SUBS = [{"type": "EVENT", "topic": "*"}, {"type": "CALLBACK", "topic": TOPIC}]


def run(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def ack_for(frame, data):
    return json.dumps({"code": 200, "headers": {"messageId": frame["headers"]["messageId"],
                                                "contentType": "application/json"},
                       "message": "OK", "data": json.dumps(data)})


class Base(unittest.TestCase):
    extra = ()

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="fake-dt-")
        self.fake = FakeDingTalk(self.tmp.name, extra_args=list(self.extra), max_lifetime=120)

    def tearDown(self):
        self.fake.stop()
        with open(self.fake.log_path) as f:
            log = f.read()
        self.assertNotIn(CLIENT_SECRET, log)
        self.tmp.cleanup()

    def open(self, **over):
        body = {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET, "subscriptions": SUBS,
                "ua": "campaign-test/1", "localIp": "127.0.0.1"}
        body.update(over)
        return self.fake.api("/v1.0/gateway/connections/open", body)

    def url(self):
        status, r = self.open()
        self.assertEqual(status, 200, r)
        return "%s?ticket=%s" % (r["endpoint"], urllib.parse.quote_plus(r["ticket"]))

    async def recv(self, ws, timeout=10):
        return json.loads(await asyncio.wait_for(ws.recv(), timeout))

    def inject(self, **m):
        return self.fake.message(**m)

    def token(self):
        status, r = self.fake.api("/v1.0/oauth2/accessToken",
                                  {"appKey": CLIENT_ID, "appSecret": CLIENT_SECRET})
        self.assertEqual(status, 200, r)
        return r["accessToken"]

    def batch(self, tok, users, text="hello"):
        return self.fake.api("/v1.0/robot/oToMessages/batchSend",
                             {"robotCode": CLIENT_ID, "userIds": users, "msgKey": "sampleText",
                              "msgParam": json.dumps({"content": text})},
                             {"x-acs-dingtalk-access-token": tok})


class Gateway(Base):
    extra = ("--ticket-ttl", "2")

    def test_open_answers_endpoint_and_ticket(self):
        status, r = self.open()
        self.assertEqual(status, 200)
        self.assertTrue(r["endpoint"].startswith("ws://127.0.0.1:"))
        self.assertTrue(r["endpoint"].endswith("/connect"))
        self.assertTrue(r["ticket"])

    def test_wrong_secret_is_401_auth_failed(self):
        status, r = self.open(clientSecret="nope")
        self.assertEqual(status, 401)
        self.assertEqual(r["code"], "authFailed")
        self.assertIn("requestid", r)
        self.assertIn("message", r)

    def test_without_accept_json_the_answer_is_xml(self):
        import urllib.request
        req = urllib.request.Request(
            self.fake.url + "/v1.0/gateway/connections/open", method="POST",
            data=json.dumps({"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
                             "subscriptions": SUBS}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertIn("xml", r.headers["Content-Type"])
        self.assertEqual(self.fake.state()["violations"][0]["violation"], "gateway_accept")

    def test_open_5xx_fault(self):
        self.fake.fault(fault="open_5xx", status=503)
        status, r = self.open()
        self.assertEqual(status, 503)
        self.assertEqual(r["code"], "systemError")
        self.assertEqual(self.open()[0], 200)

    def test_ticket_single_use_and_expiring(self):
        url = self.url()

        async def go():
            async with websockets.connect(url):
                pass
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as e:
                async with websockets.connect(url):
                    pass
            self.assertEqual(e.exception.status_code, 403)
            late = self.url()
            await asyncio.sleep(2.2)
            with self.assertRaises(websockets.exceptions.InvalidStatusCode):
                async with websockets.connect(late):
                    pass
            with self.assertRaises(websockets.exceptions.InvalidStatusCode):
                async with websockets.connect(url.split("?")[0] + "?ticket=forged"):
                    pass
        run(go())
        refused = [e["why"] for e in self.fake.log("connect_refused")]
        self.assertEqual(refused, ["ticket already used", "ticket expired", "unknown ticket"])

    def test_expired_ticket_fault(self):
        self.fake.fault(fault="ticket_expired")
        url = self.url()

        async def go():
            with self.assertRaises(websockets.exceptions.InvalidStatusCode):
                async with websockets.connect(url):
                    pass
            async with websockets.connect(self.url()):
                pass
        run(go())
        self.assertEqual(self.fake.state()["counters"]["connect"], 1)


class Stream(Base):
    extra = ("--event-retry", "1", "--event-retries", "2", "--disconnect-grace", "0.5")

    def test_private_message_ack_and_webhook_reply(self):
        url = self.url()

        async def go():
            async with websockets.connect(url) as ws:
                r = self.inject(staff_id="manager01", nick="王经理", text="/tasks")
                f = await self.recv(ws)
                self.assertEqual(f["specVersion"], "1.0")
                self.assertEqual(f["type"], "CALLBACK")
                self.assertEqual(f["headers"]["topic"], TOPIC)
                self.assertTrue(all(isinstance(v, str) for v in f["headers"].values()))
                d = json.loads(f["data"])
                self.assertEqual(d["text"]["content"], "/tasks")
                self.assertEqual(d["conversationType"], "1")
                self.assertEqual(d["senderStaffId"], "manager01")
                self.assertEqual(d["msgId"], r["msgId"])
                await ws.send(ack_for(f, {"response": None}))
                return d
        d = run(go())
        st = self.fake.wait(acks=1)
        self.assertEqual(st["unacked"], [])
        self.assertEqual(st["violations"], [])
        status, body = self.fake.api(d["sessionWebhook"][len(self.fake.url):],
                                     {"msgtype": "markdown",
                                      "markdown": {"title": "任务", "text": "**1.1** 做完"}})
        self.assertEqual((status, body["errcode"]), (200, 0))
        sent = self.fake.sent()
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent[0]["via"], "webhook")
        self.assertEqual(sent[0]["replyTo"], d["msgId"])
        self.assertEqual(sent[0]["text"], "**1.1** 做完")

    def test_group_message_leading_space_only_when_at(self):
        url = self.url()

        async def go():
            async with websockets.connect(url) as ws:
                r = self.inject(type="group", conversation_id="cidUNITA==", text="/tasks",
                                at_bot=False)
                self.assertFalse(r["pushed"])
                self.inject(type="group", conversation_id="cidUNITA==", text="/tasks")
                self.inject(type="group", conversation_id="cidUNITA==", text="/due", mention="kept")
                a = json.loads((await self.recv(ws))["data"])
                b = json.loads((await self.recv(ws))["data"])
                with self.assertRaises(asyncio.TimeoutError):
                    await self.recv(ws, timeout=0.5)
                return a, b
        a, b = run(go())
        self.assertEqual(a["text"]["content"], " /tasks")
        self.assertEqual(a["conversationType"], "2")
        self.assertTrue(a["isInAtList"])
        self.assertEqual(b["text"]["content"], "@campaign-bot /due")

    def test_private_conversations_differ_per_user(self):
        a = self.inject(staff_id="manager000001", text="x")
        b = self.inject(staff_id="manager000002", text="x")
        self.assertNotEqual(a["conversationId"], b["conversationId"])
        self.assertEqual(a["conversationId"], self.inject(staff_id="manager000001", text="y")["conversationId"])

    def test_unacked_bot_message_is_not_pushed_again_but_recorded(self):
        url = self.url()

        async def go():
            async with websockets.connect(url) as ws:
                self.inject(text="hello")
                await self.recv(ws)
                with self.assertRaises(asyncio.TimeoutError):
                    await self.recv(ws, timeout=1.0)
        run(go())
        st = self.fake.state()
        self.assertEqual(len(st["unacked"]), 1)
        self.assertEqual(st["counters"]["push"], 1)

    def test_event_pushed_again_until_acked(self):
        url = self.url()

        async def go():
            async with websockets.connect(url) as ws:
                e = self.fake.event(eventType="user_add_org")
                f1 = await self.recv(ws)
                f2 = await self.recv(ws)   # no ACK: pushed again
                self.assertEqual(f1["type"], "EVENT")
                self.assertEqual(f1["headers"]["messageId"], e["messageId"])
                self.assertEqual(f2["headers"]["messageId"], e["messageId"])
                await ws.send(ack_for(f2, {"status": "SUCCESS", "message": "ok"}))
                with self.assertRaises(asyncio.TimeoutError):
                    await self.recv(ws, timeout=1.0)
        run(go())
        self.assertEqual(self.fake.state()["unacked"], [])

    def test_event_error_ack_is_pushed_again(self):
        url = self.url()

        async def go():
            async with websockets.connect(url) as ws:
                self.fake.event()
                f = await self.recv(ws)
                # An error ACK as the Go SDK writes it (code 500, data "").
                await ws.send(json.dumps({"code": 500, "headers": {
                    "messageId": f["headers"]["messageId"], "contentType": "application/json"},
                    "message": "handler failed", "data": ""}))
                g = await self.recv(ws, timeout=5)
                self.assertEqual(g["headers"]["messageId"], f["headers"]["messageId"])
                await ws.send(ack_for(g, {"status": "SUCCESS"}))
        run(go())
        st = self.fake.wait(acks=2)
        self.assertEqual(st["violations"], [])
        self.assertEqual(st["unacked"], [])

    def test_ping_echo_checked(self):
        url = self.url()

        async def go():
            async with websockets.connect(url) as ws:
                await asyncio.sleep(0.1)
                p = self.fake.fault(fault="ping", opaque="op-1")
                f = await self.recv(ws)
                self.assertEqual((f["type"], f["headers"]["topic"]), ("SYSTEM", "ping"))
                self.assertEqual(json.loads(f["data"]), {"opaque": "op-1"})
                await ws.send(ack_for(f, {"opaque": "op-1"}))
                self.fake.fault(fault="ping", opaque="op-2")
                g = await self.recv(ws)
                await ws.send(ack_for(g, {"opaque": "wrong"}))
                return p
        run(go())
        st = self.fake.wait(acks=2, pings_answered=1)
        problems = [v.get("problem") for v in st["violations"]]
        self.assertEqual(problems, ["ping ACK does not echo the opaque"])

    def test_bad_acks_are_violations(self):
        url = self.url()

        async def go():
            async with websockets.connect(url) as ws:
                self.inject(text="a")
                f = await self.recv(ws)
                await ws.send("not json")
                await ws.send(json.dumps({"code": 200, "headers": {"messageId": "nope",
                              "contentType": "application/json"}, "message": "OK", "data": "{}"}))
                await ws.send(json.dumps({"code": "200", "headers": {"messageId": f["headers"]["messageId"]},
                                          "message": "OK", "data": {"response": None}}))
                await ws.send(ack_for(f, {"response": None}))
                await ws.send(ack_for(f, {"response": None}))
        run(go())
        st = self.fake.wait(acks=4)
        kinds = [v.get("problem", v["violation"]) for v in st["violations"]]
        self.assertIn("ack_not_json", kinds)
        self.assertIn("messageId matches no pushed frame", kinds)
        self.assertIn("code is not a number", kinds)
        self.assertIn("data is not a string", kinds)
        self.assertIn("headers.contentType is not application/json", kinds)
        self.assertIn("frame ACKed twice", kinds)

    def test_disconnect_then_drop_after_grace(self):
        url = self.url()

        async def go():
            async with websockets.connect(url) as ws:
                await asyncio.sleep(0.1)
                self.fake.fault(fault="disconnect", reason="connection is expired")
                f = await self.recv(ws)
                self.assertEqual((f["type"], f["headers"]["topic"]), ("SYSTEM", "disconnect"))
                self.assertEqual(json.loads(f["data"]), {"reason": "connection is expired"})
                t = time.monotonic()
                r = self.inject(text="while draining")   # not sent to a draining connection
                self.assertIsNone(r["connection"])
                with self.assertRaises(websockets.exceptions.ConnectionClosed):
                    await self.recv(ws, timeout=5)
                return time.monotonic() - t
            # a new connection gets the queued message
        waited = run(go())
        self.assertGreater(waited, 0.3)

        async def again():
            async with websockets.connect(self.url()) as ws:
                f = await self.recv(ws)
                self.assertEqual(json.loads(f["data"])["text"]["content"], "while draining")
        run(again())

    def test_reset_mid_frame(self):
        url = self.url()

        async def go():
            async with websockets.connect(url) as ws:
                await asyncio.sleep(0.1)
                r = self.fake.fault(fault="reset")
                self.assertLess(r["sent_bytes"], r["of"])
                with self.assertRaises(websockets.exceptions.ConnectionClosedError):
                    await self.recv(ws, timeout=5)
        run(go())
        self.assertEqual(self.fake.log("drop"), [])

    def test_silent_connection(self):
        url = self.url()

        async def go():
            async with websockets.connect(url, ping_interval=None) as ws:
                await asyncio.sleep(0.1)
                self.fake.fault(fault="silent")
                r = self.inject(text="nobody hears")
                self.assertIsNone(r["connection"])   # queued, not sent on the silent one
                pong = await ws.ping()
                with self.assertRaises(asyncio.TimeoutError):
                    await asyncio.wait_for(pong, 1.0)  # not even a WebSocket pong
            async with websockets.connect(self.url()) as ws2:
                f = await self.recv(ws2)
                self.assertEqual(json.loads(f["data"])["text"]["content"], "nobody hears")
        run(go())

    def test_malformed_and_big_frames(self):
        url = self.url()

        async def go():
            async with websockets.connect(url, max_size=None) as ws:
                await asyncio.sleep(0.1)
                self.fake.fault(fault="malformed")
                raw = await asyncio.wait_for(ws.recv(), 5)
                with self.assertRaises(ValueError):
                    json.loads(raw)
                self.fake.fault(fault="big_frame", size=1100000)
                raw = await asyncio.wait_for(ws.recv(), 5)
                self.assertGreater(len(raw.encode()), 1 << 20)
                f = json.loads(raw)
                await ws.send(ack_for(f, {"response": None}))
        run(go())
        self.assertEqual(self.fake.wait(acks=1)["violations"], [])

    def test_fragmented_frame_with_ping_inside(self):
        url = self.url()

        async def go():
            async with websockets.connect(url) as ws:
                await asyncio.sleep(0.1)
                r = self.fake.fault(fault="fragmented", parts=4, message={"text": "分片 /tasks"})
                self.assertEqual(r["fragments"], 4)
                f = await self.recv(ws)
                self.assertEqual(json.loads(f["data"])["text"]["content"], "分片 /tasks")
                await ws.send(ack_for(f, {"response": None}))
        run(go())
        self.assertEqual(self.fake.wait(acks=1)["violations"], [])

    def test_repeated_msgid(self):
        url = self.url()

        async def go():
            async with websockets.connect(url) as ws:
                r = self.inject(text="/report 1.1 done", msg_id="msgDUP==")
                f1 = await self.recv(ws)
                await ws.send(ack_for(f1, {"response": None}))
                self.fake.fault(fault="repeat_msgid", msg_id=r["msgId"])
                f2 = await self.recv(ws)
                await ws.send(ack_for(f2, {"response": None}))
                self.assertNotEqual(f1["headers"]["messageId"], f2["headers"]["messageId"])
                self.assertEqual(json.loads(f1["data"])["msgId"], json.loads(f2["data"])["msgId"])
        run(go())
        self.assertEqual(self.fake.wait(acks=2)["violations"], [])


class Periodic(Base):
    extra = ("--ping-interval", "0.3")

    def test_periodic_pings_counted_until_answered(self):
        url = self.url()

        async def go():
            async with websockets.connect(url) as ws:
                f = await self.recv(ws)
                self.assertEqual(f["headers"]["topic"], "ping")
                g = await self.recv(ws)
                await ws.send(ack_for(g, json.loads(g["data"])))
                return f, g
        f, g = run(go())
        st = self.fake.wait(acks=1)
        self.assertGreaterEqual(st["pings_unanswered"], 1)
        self.assertEqual(st["acks"], 1)
        self.assertEqual(st["violations"], [])

    def test_drop_and_unacked_reset_message(self):
        url = self.url()

        async def go():
            async with websockets.connect(url) as ws:
                await asyncio.sleep(0.1)
                r = self.fake.fault(fault="reset", message={"text": "half"})
                with self.assertRaises(websockets.exceptions.ConnectionClosed):
                    while True:
                        await self.recv(ws, timeout=5)
                return r
        r = run(go())
        st = self.fake.state()
        self.assertEqual([u["msgId"] for u in st["unacked"]], [r["msgId"]])

        async def drop():
            async with websockets.connect(self.url()) as ws:
                await asyncio.sleep(0.1)
                self.fake.fault(fault="drop")
                with self.assertRaises(websockets.exceptions.ConnectionClosed):
                    while True:
                        await self.recv(ws, timeout=5)
        run(drop())
        self.assertEqual(len(self.fake.log("drop")), 1)


class Webhooks(Base):
    def test_session_webhook_expires(self):
        r = self.inject(text="hi", webhook_ttl=0.5)
        path = r["sessionWebhook"][len(self.fake.url):]
        self.assertEqual(self.fake.api(path, {"msgtype": "text", "text": {"content": "ok"}})[1]["errcode"], 0)
        time.sleep(0.7)
        status, body = self.fake.api(path, {"msgtype": "text", "text": {"content": "late"}})
        self.assertEqual((status, body["errcode"]), (200, 300001))
        self.assertEqual([s["text"] for s in self.fake.sent()], ["ok"])

    def test_expire_webhooks_fault(self):
        r = self.inject(text="hi")
        self.fake.fault(fault="expire_webhooks")
        path = r["sessionWebhook"][len(self.fake.url):]
        self.assertEqual(self.fake.api(path, {"msgtype": "text", "text": {"content": "x"}})[1]["errcode"],
                         300001)

    def test_session_webhook_refuses_empty(self):
        r = self.inject(text="hi")
        path = r["sessionWebhook"][len(self.fake.url):]
        self.assertNotEqual(self.fake.api(path, {"msgtype": "text", "text": {}})[1]["errcode"], 0)
        self.assertEqual(self.fake.sent(), [])


class TokenExpiry(Base):
    extra = ("--token-ttl", "3")

    def test_token_same_while_valid_then_expires(self):
        a = self.token()
        self.assertEqual(self.token(), a)
        self.assertEqual(self.batch(a, ["u1"])[0], 200)
        time.sleep(3.1)
        status, r = self.batch(a, ["u1"])
        self.assertEqual((status, r["code"]), (400, "InvalidAuthentication"))
        self.assertNotEqual(self.token(), a)


class RobotApi(Base):
    extra = ("--qps", "5")

    def test_token_bad_credentials(self):
        status, r = self.fake.api("/v1.0/oauth2/accessToken", {"appKey": CLIENT_ID, "appSecret": "x"})
        self.assertEqual((status, r["code"]), (400, "invalidClientIdOrSecret"))

    def test_token_expired_mid_run(self):
        a = self.token()
        self.fake.fault(fault="expire_token")
        status, r = self.batch(a, ["u1"])
        self.assertEqual((status, r["code"]), (400, "InvalidAuthentication"))
        self.assertEqual(self.batch(self.token(), ["u1"])[0], 200)

    def test_api_5xx_rule(self):
        tok = self.token()
        self.fake.fault(fault="api_5xx", api="batchSend", status=502)
        status, r = self.batch(tok, ["u1"])
        self.assertEqual((status, r["code"]), (502, "systemError"))
        self.assertEqual(self.batch(tok, ["u1"])[0], 200)
        self.assertEqual(len(self.fake.sent()), 1)

    def test_chunked_request_body(self):
        import http.client
        body = json.dumps({"appKey": CLIENT_ID, "appSecret": CLIENT_SECRET}).encode()
        c = http.client.HTTPConnection("127.0.0.1", self.fake.port, timeout=10)
        c.putrequest("POST", "/v1.0/oauth2/accessToken")
        c.putheader("Content-Type", "application/json")
        c.putheader("Transfer-Encoding", "chunked")
        c.endheaders()
        for part in (body[:10], body[10:]):
            c.send(b"%x\r\n%s\r\n" % (len(part), part))
        c.send(b"0\r\n\r\n")
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertIn("accessToken", json.loads(r.read()))
        c.close()

    def test_missing_token_header(self):
        status, r = self.fake.api("/v1.0/robot/oToMessages/batchSend", {})
        self.assertEqual((status, r["code"]), (400, "AuthenticationFailed.MissingParameter"))

    def test_batch_send_limits_and_lists(self):
        tok = self.token()
        status, r = self.batch(tok, ["u%d" % i for i in range(21)])
        self.assertEqual((status, r["code"]), (400, "invalidParameter.userIds.overMax"))
        self.fake.users(invalid=["gone"], flow_controlled=["busy"])
        status, r = self.batch(tok, ["a", "gone", "busy"], "提醒")
        self.assertEqual(status, 200)
        self.assertEqual(r["invalidStaffIdList"], ["gone"])
        self.assertEqual(r["flowControlledStaffIdList"], ["busy"])
        self.assertTrue(r["processQueryKey"])
        status, r = self.batch(tok, ["busy"])
        self.assertEqual(r["flowControlledStaffIdList"], [])
        self.fake.wait(batchSend=2)
        sent = self.fake.sent(via="batchSend")
        self.assertEqual([s["delivered"] for s in sent], [["a"], ["busy"]])
        self.assertEqual(sent[0]["text"], "提醒")
        status, r = self.fake.api("/v1.0/robot/oToMessages/batchSend",
                                  {"robotCode": CLIENT_ID, "userIds": ["a"], "msgKey": "sampleText",
                                   "msgParam": "not json"}, {"x-acs-dingtalk-access-token": tok})
        self.assertEqual((status, r["code"]), (400, "invalidParameter.msgParam.invalid"))

    def test_group_send_and_size_limit(self):
        tok = self.token()
        h = {"x-acs-dingtalk-access-token": tok}
        body = {"robotCode": CLIENT_ID, "openConversationId": "cidUNITA==", "msgKey": "sampleMarkdown",
                "msgParam": json.dumps({"title": "提醒", "text": "# 今天"})}
        status, r = self.fake.api("/v1.0/robot/groupMessages/send", body, h)
        self.assertEqual(status, 200)
        self.assertTrue(r["processQueryKey"])
        body["msgParam"] = json.dumps({"title": "t", "text": "x" * 15001})
        status, r = self.fake.api("/v1.0/robot/groupMessages/send", body, h)
        self.assertEqual(status, 400)
        self.assertEqual([s["conversationId"] for s in self.fake.sent(via="groupSend")], ["cidUNITA=="])

    def test_qps_limit_window_and_injected(self):
        tok = self.token()
        for _ in range(60):     # more than 5 calls in one second, however slow the machine
            status, r = self.batch(tok, ["u"])
            if status != 200:
                break
        self.assertEqual((status, r.get("code")), (403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"))
        self.assertIn("requestid", r)
        time.sleep(1.1)         # every earlier call is now outside the one-second window
        self.fake.fault(fault="qps", api="groupSend", code="QpsLimitForApi")
        self.assertEqual(self.batch(tok, ["u"])[0], 200)
        status, r = self.fake.api("/v1.0/robot/groupMessages/send",
                                  {"robotCode": CLIENT_ID, "openConversationId": "cidX", "msgKey": "sampleText",
                                   "msgParam": json.dumps({"content": "x"})},
                                  {"x-acs-dingtalk-access-token": tok})
        self.assertEqual((status, r["code"]), (403, "Forbidden.AccessDenied.QpsLimitForApi"))


class Files(Base):
    """A file a user sends the bot in a private chat: downloadCode -> downloadUrl -> bytes."""
    extra = ("--qps", "0")
    DATA = "扶贫日工作总结\n".encode() * 300 + bytes(range(256))

    def send_file(self, **over):
        f = {"name": "扶贫日工作总结.docx", "data_b64": base64.b64encode(self.DATA).decode()}
        f.update(over)
        return self.inject(staff_id="manager01", file=f)

    def resolve(self, code, tok=None, robot=CLIENT_ID, **h):
        headers = {} if tok is False else {"x-acs-dingtalk-access-token": tok or self.token()}
        headers.update(h)
        return self.fake.api("/v1.0/robot/messageFiles/download",
                             {"downloadCode": code, "robotCode": robot}, headers)

    def test_file_message_resolve_and_download(self):
        url = self.url()

        async def go():
            async with websockets.connect(url) as ws:
                r = self.send_file()
                f = await self.recv(ws)
                await ws.send(ack_for(f, {"response": None}))
                return r, json.loads(f["data"])
        r, d = run(go())
        self.assertEqual(d["msgtype"], "file")
        self.assertNotIn("text", d)
        self.assertEqual(d["conversationType"], "1")
        c = d["content"]
        self.assertEqual(c["fileName"], "扶贫日工作总结.docx")
        self.assertTrue(c["spaceId"].isdigit() and c["fileId"])
        self.assertEqual(c["downloadCode"], r["downloadCode"])
        status, body = self.resolve(c["downloadCode"])
        self.assertEqual(status, 200, body)
        u = urllib.parse.urlsplit(body["downloadUrl"])
        self.assertEqual("%s://%s" % (u.scheme, u.netloc), self.fake.url)
        self.assertTrue(u.path.startswith("/files/"))
        self.assertEqual(set(urllib.parse.parse_qs(u.query)), {"Expires", "OSSAccessKeyId", "Signature"})
        status, headers, data = self.fake.fetch(body["downloadUrl"])
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/octet-stream")
        self.assertEqual(int(headers["Content-Length"]), len(self.DATA))
        self.assertEqual(data, self.DATA)
        # The code works again (a new URL); the URL without its signature does not.
        status, again = self.resolve(c["downloadCode"])
        self.assertEqual(status, 200)
        self.assertNotEqual(again["downloadUrl"], body["downloadUrl"])
        self.assertEqual(self.fake.fetch(body["downloadUrl"].split("?")[0])[0], 403)
        st = self.fake.wait(file_urls=2, file_gets=2)
        self.assertEqual(st["violations"], [])
        self.assertEqual([e["status"] for e in self.fake.log("file_get")], [200, 403])

    def test_refusals_of_the_download_api(self):
        r = self.send_file()
        status, body = self.resolve(r["downloadCode"], robot="dingsomeoneelse")
        self.assertEqual((status, body["code"]), (400, "invalidParameter.robotCode.auth"))
        status, body = self.resolve(r["downloadCode"], tok=False)
        self.assertEqual((status, body["code"]), (400, "AuthenticationFailed.MissingParameter"))
        status, body = self.resolve(r["downloadCode"], tok="not-a-token")
        self.assertEqual((status, body["code"]), (400, "InvalidAuthentication"))
        status, body = self.resolve("bm90IGEgY29kZQ==")
        self.assertEqual((status, body["code"]), (400, "invalidParameter.downloadCode.invalid"))
        self.assertIn("requestid", body)
        status, body = self.resolve("")
        self.assertEqual((status, body["code"]), (400, "invalidParameter.downloadCode.empty"))
        self.assertEqual(self.resolve(r["downloadCode"])[0], 200)
        self.assertEqual(self.fake.state()["counters"]["file_url"], 1)

    def test_expired_code_and_url(self):
        late = self.send_file(code_ttl=0.3)
        short = self.send_file(url_ttl=0.5)
        status, body = self.resolve(short["downloadCode"])
        self.assertEqual(status, 200)
        self.assertEqual(self.fake.fetch(body["downloadUrl"])[0], 200)
        time.sleep(0.6)
        status, headers, data = self.fake.fetch(body["downloadUrl"])
        self.assertEqual(status, 403)
        self.assertIn(b"<Code>AccessDenied</Code>", data)
        status, body = self.resolve(late["downloadCode"])
        self.assertEqual((status, body["code"]), (400, "invalidParameter.downloadCode.invalid"))

    def test_a_file_in_a_group_is_refused(self):
        with self.assertRaises(ValueError) as e:
            self.inject(type="group", conversation_id="cidUNITA==",
                        file={"name": "a.docx", "data_b64": "AA=="})
        self.assertIn("private only", str(e.exception))
        with self.assertRaises(ValueError):
            self.inject(file={"name": "a.docx", "data_b64": "not base64!"})
        self.assertEqual(self.fake.state()["counters"].get("inject", 0), 0)

    def test_faults(self):
        r = self.send_file()
        self.fake.fault(fault="api_5xx", api="download", status=503)
        status, body = self.resolve(r["downloadCode"])
        self.assertEqual((status, body["code"]), (503, "systemError"))
        self.fake.fault(fault="qps", api="download")
        self.assertEqual(self.resolve(r["downloadCode"])[0], 403)
        url = self.resolve(r["downloadCode"])[1]["downloadUrl"]
        self.fake.fault(fault="file_5xx", times=2)
        self.assertEqual([self.fake.fetch(url)[0] for _ in range(3)], [500, 500, 200])
        self.fake.fault(fault="file_truncate")
        with self.assertRaises(http.client.IncompleteRead):
            self.fake.fetch(url)
        self.assertEqual(self.fake.fetch(url)[2], self.DATA)
        self.assertEqual([e["fault"] for e in self.fake.log("file_get")],
                         ["file_5xx", "file_5xx", None, "file_truncate", None])


class Lifetime(unittest.TestCase):
    def test_stops_by_itself(self):
        with tempfile.TemporaryDirectory() as tmp:
            fake = FakeDingTalk(tmp, max_lifetime=1)
            try:
                fake.proc.wait(10)
                self.assertEqual(fake.proc.returncode, 0)
                with socket.socket() as s:
                    self.assertNotEqual(s.connect_ex(("127.0.0.1", fake.port)), 0)
            finally:
                fake.stop()


if __name__ == "__main__":
    unittest.main()
