#!/usr/bin/python3
"""Self-test of the fake WeCom smart robot (stdlib unittest + python3-websockets).

Run: /usr/bin/python3 tests/fake/test_fake_wecom.py [-v] [Test.name]
Each test starts fake_wecom.py (wecom_control.FakeWeCom) on free loopback ports
with scaled-down lifetimes, plays a long-connection client with the websockets
library, and stops the fake by PID.
"""

import asyncio
import base64
import json
import os
import re
import sys
import tempfile
import time
import unittest
import urllib.parse

import websockets
import websockets.exceptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wecom_control import BOT_ID, SECRET, FakeWeCom  # noqa: E402


def run(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def frame(cmd, req_id, body=None):
    f = {"cmd": cmd, "headers": {"req_id": req_id}}
    if body is not None:
        f["body"] = body
    return json.dumps(f, ensure_ascii=False)


def stream(req_id, sid, content, finish):
    return frame("aibot_respond_msg", req_id,
                 {"msgtype": "stream", "stream": {"id": sid, "finish": finish, "content": content}})


class Base(unittest.TestCase):
    extra = ()

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="fake-wecom-")
        self.fake = FakeWeCom(self.tmp.name, extra_args=list(self.extra), max_lifetime=120)

    def tearDown(self):
        self.fake.stop()
        with open(self.fake.log_path) as f:
            self.assertNotIn(SECRET, f.read())
        self.tmp.cleanup()

    async def ctl(self, fn, *a, **kw):
        """A control call from inside the event loop (urllib blocks)."""
        return await asyncio.get_running_loop().run_in_executor(None, lambda: fn(*a, **kw))

    async def recv(self, ws, timeout=10):
        return json.loads(await asyncio.wait_for(ws.recv(), timeout))

    async def connect(self, secret=SECRET, subscribe=True, **kw):
        ws = await websockets.connect(self.fake.ws_url, ping_interval=None, **kw)
        if subscribe:
            await ws.send(frame("aibot_subscribe", "aibot_subscribe_1",
                                {"bot_id": BOT_ID, "secret": secret}))
            a = await self.recv(ws)
            self.assertEqual(a["headers"]["req_id"], "aibot_subscribe_1")
            self.assertNotIn("cmd", a)
            self.assertEqual(a["errcode"], 0 if secret == SECRET else 853000, a)
        return ws

    async def ask(self, ws, text):
        await ws.send(text)
        return await self.recv(ws)

    def violations(self):
        return [v["violation"] for v in self.fake.state()["violations"]]


class Subscribe(Base):
    def test_subscribe_answer_and_ping(self):
        async def go():
            ws = await self.connect()
            a = await self.ask(ws, frame("ping", "ping_1"))
            self.assertEqual(a, {"headers": {"req_id": "ping_1"}, "errcode": 0, "errmsg": "ok"})
            await ws.close()
        run(go())
        st = self.fake.wait(closes=1)
        self.assertEqual(st["counts"]["subscribed"], 1)
        self.assertEqual(st["counts"]["pings_answered"], 1)
        self.assertEqual(st["violations"], [])
        sub = self.fake.frames(cmd="aibot_subscribe")[0]
        self.assertEqual(sub["body"], {"bot_id": BOT_ID, "secret": "<redacted>"})
        self.assertNotIn(SECRET, json.dumps(self.fake.frames()) + json.dumps(self.fake.log()))

    def test_wrong_credentials_853000_and_the_socket_stays_open(self):
        async def go():
            ws = await self.connect(secret="wrong")
            # Still open: a right subscribe on the same socket works.
            a = await self.ask(ws, frame("aibot_subscribe", "aibot_subscribe_2",
                                         {"bot_id": BOT_ID, "secret": SECRET}))
            self.assertEqual(a["errcode"], 0)
            await ws.close()
        run(go())
        self.assertEqual(self.fake.errors()[0]["errcode"], 853000)
        self.assertEqual(self.violations(), [])

    def test_wrong_credentials_mode(self):
        self.fake.fault(fault="wrong_credentials", times=2)

        async def right_secret_refused():
            ws = await websockets.connect(self.fake.ws_url, ping_interval=None)
            for i in range(3):
                a = await self.ask(ws, frame("aibot_subscribe", "aibot_subscribe_%d" % i,
                                             {"bot_id": BOT_ID, "secret": SECRET}))
                self.assertEqual(a["errcode"], [853000, 853000, 0][i])
            await ws.close()
        run(right_secret_refused())
        st = self.fake.state()
        self.assertEqual((st["counts"]["auth_failures"], st["counts"]["subscribed"]), (2, 1))

    def test_nothing_before_the_subscribe_answer(self):
        async def go():
            ws = await self.connect(subscribe=False)
            await ws.send(frame("ping", "ping_0"))
            # Pipelined: a ping right behind the subscribe, before its answer.
            await ws.send(frame("aibot_subscribe", "aibot_subscribe_1",
                                {"bot_id": BOT_ID, "secret": SECRET}))
            await ws.send(frame("ping", "ping_1"))
            a = await self.recv(ws)
            self.assertEqual(a["headers"]["req_id"], "aibot_subscribe_1")  # no ping answers
            with self.assertRaises(asyncio.TimeoutError):
                await self.recv(ws, timeout=0.5)
            await ws.close()
        run(go())
        v = self.fake.state()["violations"]
        self.assertEqual([(x["violation"], x["subscribe"]) for x in v],
                         [("before_subscribe", "none"), ("before_subscribe", "pending")])


class Messages(Base):
    extra = ("--bot-name", "活动助手")

    def test_private_and_group_callbacks(self):
        async def go():
            ws = await self.connect()
            r1 = await self.ctl(self.fake.message, userid="manager01", text="/bind ABC123",
                                msgid="m-1")
            f1 = await self.recv(ws)
            r2 = await self.ctl(self.fake.message, type="group", chatid="wrUNITA",
                                userid="li01", text="/countdown")
            f2 = await self.recv(ws)
            await self.ctl(self.fake.message, type="group", chatid="wrUNITA", text="/due",
                           mention="none")
            f3 = await self.recv(ws)
            await ws.close()
            return r1, f1, r2, f2, f3
        r1, f1, r2, f2, f3 = run(go())
        self.assertEqual(f1["cmd"], "aibot_msg_callback")
        self.assertEqual(f1["headers"]["req_id"], r1["req_id"])
        self.assertEqual(f1["body"], {"msgid": "m-1", "aibotid": BOT_ID, "chattype": "single",
                                      "from": {"userid": "manager01"}, "msgtype": "text",
                                      "text": {"content": "/bind ABC123"}})
        self.assertEqual(f2["body"]["chatid"], "wrUNITA")
        self.assertEqual(f2["body"]["chattype"], "group")
        self.assertEqual(f2["body"]["text"]["content"], "@活动助手 /countdown")
        self.assertEqual(f2["headers"]["req_id"], r2["req_id"])
        self.assertEqual(f3["body"]["text"]["content"], "/due")

    def test_messages_wait_for_a_subscribed_connection(self):
        r = self.fake.message(text="/help")
        self.assertFalse(r["pushed"])

        async def go():
            ws = await self.connect()
            f = await self.recv(ws)
            await ws.close()
            return f
        f = run(go())
        self.assertEqual(f["body"]["msgid"], r["msgid"])
        self.assertEqual(f["headers"]["req_id"], r["req_id"])

    def test_events_and_a_welcome(self):
        async def go():
            ws = await self.connect()
            r = await self.ctl(self.fake.event, eventtype="enter_chat", userid="new01")
            f = await self.recv(ws)
            self.assertEqual(f["cmd"], "aibot_event_callback")
            self.assertEqual(f["body"]["event"], {"eventtype": "enter_chat"})
            self.assertEqual(f["body"]["msgtype"], "event")
            # An event's req_id takes no aibot_respond_msg ...
            a = await self.ask(ws, stream(r["req_id"], "s", "hi", True))
            self.assertEqual(a["errcode"], 846605)
            # ... but a welcome.
            a = await self.ask(ws, frame("aibot_respond_welcome_msg", r["req_id"],
                                         {"msgtype": "text", "text": {"content": "欢迎"}}))
            self.assertEqual(a["errcode"], 0)
            await ws.close()
        run(go())
        w = self.fake.sent(via="welcome")
        self.assertEqual((w[0]["text"], w[0]["userid"]), ("欢迎", "new01"))


def decrypt(body, aeskey):
    """What the SDK's decryptFile does: AES-256-CBC, IV = key[:16], PKCS#7 (1..32) off."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    key = base64.b64decode(aeskey)
    dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = dec.update(body) + dec.finalize()
    pad = plain[-1]
    assert 1 <= pad <= 32 and plain[-pad:] == bytes([pad]) * pad, "bad padding %d" % pad
    return plain[:-pad]


class Files(Base):
    """A file a user sends the bot in a single chat: file.url + file.aeskey."""
    NAME = "扶贫日工作总结.docx"

    def send_file(self, data, **over):
        f = {"name": self.NAME, "data_b64": base64.b64encode(data).decode()}
        f.update(over)
        return self.fake.message(userid="manager01", file=f)

    def test_file_callback_then_encrypted_download(self):
        data = "第一部分\n".encode() * 1000 + bytes(range(256))

        async def go():
            ws = await self.connect()
            r = await self.ctl(self.send_file, data)
            f = await self.recv(ws)
            await ws.close()
            return r, f
        r, f = run(go())
        body = f["body"]
        self.assertEqual(body["msgtype"], "file")
        self.assertEqual(body["chattype"], "single")
        self.assertNotIn("text", body)
        self.assertEqual(set(body["file"]), {"url", "aeskey"})
        self.assertEqual((body["file"]["url"], body["file"]["aeskey"]), (r["url"], r["aeskey"]))
        self.assertIsNone(r["text"])
        self.assertEqual(len(base64.b64decode(r["aeskey"])), 32)
        status, headers, enc = self.fake.fetch(r["url"])
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/octet-stream")
        self.assertEqual(len(enc) % 32, 0)
        self.assertNotEqual(enc[:len(data)], data)
        self.assertEqual(decrypt(enc, r["aeskey"]), data)
        cd = headers["Content-Disposition"]
        m = re.fullmatch(r"attachment; filename\*=UTF-8''([^;\s]+)", cd)
        self.assertTrue(m, cd)
        self.assertEqual(urllib.parse.unquote(m.group(1)), self.NAME)
        self.assertEqual(self.fake.wait(file_gets=1)["violations"], [])

    def test_padding_is_to_32_bytes(self):
        # 32 bytes of data get a whole block of 32 x 0x20; 33 bytes get 31 x 0x1f.
        for n, pad in ((0, 32), (16, 16), (32, 32), (33, 31)):
            r = self.send_file(bytes(range(n)))
            enc = self.fake.fetch(r["url"])[2]
            self.assertEqual(len(enc), n + pad)
            self.assertEqual(decrypt(enc, r["aeskey"]), bytes(range(n)))

    def test_dispositions(self):
        r = self.send_file(b"x", disposition="plain")
        cd = self.fake.fetch(r["url"])[1]["Content-Disposition"]
        # http.client reads header bytes as latin-1: the raw UTF-8 name comes back that way.
        self.assertEqual(cd.encode("latin-1").decode(), 'attachment; filename="%s"' % self.NAME)
        r = self.send_file(b"x", disposition="none")
        self.assertIsNone(self.fake.fetch(r["url"])[1]["Content-Disposition"])
        with self.assertRaises(ValueError):
            self.send_file(b"x", disposition="inline")

    def test_url_expires_and_file_5xx(self):
        r = self.send_file(b"abc", url_ttl=0.5)
        self.fake.fault(fault="file_5xx", status=502)
        self.assertEqual(self.fake.fetch(r["url"])[0], 502)
        self.assertEqual(self.fake.fetch(r["url"])[0], 200)
        time.sleep(0.6)
        status, _, data = self.fake.fetch(r["url"])
        self.assertEqual(status, 403)
        self.assertIn(b"AccessDenied", data)
        self.assertEqual(self.fake.fetch(r["url"] + "0")[0], 404)
        self.assertEqual([(e["status"], e["fault"]) for e in self.fake.log("file_get")],
                         [(502, "file_5xx"), (200, None), (403, None), (404, None)])

    def test_a_file_in_a_group_is_refused(self):
        with self.assertRaises(ValueError) as e:
            self.fake.message(type="group", chatid="wrUNITA",
                              file={"name": "a.docx", "data_b64": "AA=="})
        self.assertIn("single chats only", str(e.exception))
        self.assertEqual(self.fake.state()["counters"].get("inject", 0), 0)


class Replies(Base):
    extra = ("--stream-ttl", "2")

    async def callback(self, ws, **m):
        r = await self.ctl(self.fake.message, **m)
        f = await self.recv(ws)
        self.assertEqual(f["headers"]["req_id"], r["req_id"])
        return r["req_id"]

    def test_stream_frames_replace_and_finish(self):
        async def go():
            ws = await self.connect()
            rid = await self.callback(ws, type="group", chatid="wrA", text="/tasks")
            for content, fin in (("任务", False), ("任务：1.1", False), ("任务：1.1 完成", True)):
                a = await self.ask(ws, stream(rid, "s1", content, fin))
                self.assertEqual(a, {"headers": {"req_id": rid}, "errcode": 0, "errmsg": "ok"})
            # A second stream of the same req_id (a long answer continues).
            a = await self.ask(ws, stream(rid, "s2", "第二段", True))
            self.assertEqual(a["errcode"], 0)
            # A finished stream is closed.
            a = await self.ask(ws, stream(rid, "s1", "任务：1.1 完成!", True))
            self.assertEqual(a["errcode"], 846608)
            await ws.close()
            return rid
        rid = run(go())
        sent = self.fake.sent(via="stream")
        self.assertEqual([(s["stream_id"], s["text"], s["frames"]) for s in sent],
                         [("s1", "任务：1.1 完成", 3), ("s2", "第二段", 1)])
        self.assertEqual(sent[0]["chatid"], "wrA")
        r = self.fake.response(rid)
        self.assertEqual([s["id"] for s in r["streams"]], ["s1", "s2"])
        self.assertEqual(len(r["frames"]), 5)
        self.assertEqual(self.violations(), ["stream_update_after_finish"])

    def test_refusals(self):
        async def go():
            ws = await self.connect()
            rid = await self.callback(ws, text="/report")
            codes = []
            for text in (stream("no-such-req", "s", "x", True),
                         frame("aibot_respond_msg", rid,
                               {"msgtype": "markdown", "markdown": {"content": "**x**"}}),
                         frame("aibot_respond_msg", rid, {"msgtype": "text", "text": {"content": "x"}}),
                         stream(rid, "big", "字" * 6827, False),       # 20,481 bytes
                         stream(rid, "ok", "a" * 20480, False)):       # exactly the limit
                codes.append((await self.ask(ws, text))["errcode"])
            await ws.close()
            return codes
        self.assertEqual(run(go()), [846605, 40008, 40008, 45002, 0])
        self.assertEqual(self.fake.sent(), [])
        self.assertEqual(self.violations(), [])

    def test_streams_expire(self):
        async def go():
            ws = await self.connect()
            rid = await self.callback(ws, text="/slow")
            self.assertEqual((await self.ask(ws, stream(rid, "s", "稍等", False)))["errcode"], 0)
            await asyncio.sleep(2.2)                                   # --stream-ttl 2
            self.assertEqual((await self.ask(ws, stream(rid, "s", "好了", True)))["errcode"], 846608)
            rid2 = await self.callback(ws, text="/fast")
            await self.ctl(self.fake.fault, fault="expire_streams")
            a = await self.ask(ws, stream(rid2, "s", "x", True))
            self.assertEqual((a["errcode"], a["errmsg"]), (846608, "stream message update expired"))
            await ws.close()
        run(go())
        self.assertEqual(self.fake.sent(), [])


class SendMsg(Base):
    extra = ("--send-limit", "2", "--send-window", "60")

    def test_markdown_send_and_rate_limit(self):
        async def go():
            ws = await self.connect()
            await self.ctl(self.fake.message, type="group", chatid="wrB", text="/x")
            await self.recv(ws)
            body = {"chatid": "wrB", "msgtype": "markdown", "markdown": {"content": "**提醒**"}}
            codes = []
            for i, b in enumerate((body, {"chatid": "zhangsan", "msgtype": "markdown",
                                          "markdown": {"content": "私信"}},
                                   body, {"msgtype": "markdown", "markdown": {"content": "x"}},
                                   dict(body, msgtype="text"))):
                codes.append((await self.ask(ws, frame("aibot_send_msg", "aibot_send_msg_%d" % i, b)))["errcode"])
            await ws.close()
            return codes
        self.assertEqual(run(go()), [0, 0, 45009, 40058, 40008])
        sent = self.fake.sent(via="send_msg")
        self.assertEqual([(s["chatid"], s["chattype"], s["text"]) for s in sent],
                         [("wrB", "group", "**提醒**"), ("zhangsan", "single", "私信")])


class Kick(Base):
    def test_a_newer_subscription_kicks_the_old_connection(self):
        async def go():
            old = await self.connect()
            new = await self.connect()
            ev = await self.recv(old)
            self.assertEqual(ev["cmd"], "aibot_event_callback")
            self.assertEqual(ev["body"]["event"]["eventtype"], "disconnected_event")
            with self.assertRaises(websockets.exceptions.ConnectionClosed):
                await asyncio.wait_for(old.recv(), 5)
            self.assertEqual(old.close_code, 1006)            # dropped, no close frame
            r = await self.ctl(self.fake.message, text="/after")
            f = await self.recv(new)
            self.assertEqual(f["body"]["msgid"], r["msgid"])
            await new.close()
        run(go())
        kick = self.fake.log("kick")[0]
        self.assertEqual((kick["connection"], kick["by"]), (1, 2))
        self.assertEqual(self.violations(), [])

    def test_kick_fault(self):
        async def go():
            ws = await self.connect()
            await self.ctl(self.fake.fault, fault="kick")
            ev = await self.recv(ws)
            self.assertEqual(ev["body"]["event"]["eventtype"], "disconnected_event")
            with self.assertRaises(websockets.exceptions.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            self.assertEqual(ws.close_code, 1006)
        run(go())
        self.assertEqual(self.fake.state()["counts"]["subscribed_connections"], 0)


class Faults(Base):
    def test_silent(self):
        async def go():
            ws = await self.connect()
            early = await self.ctl(self.fake.message, text="/early")
            await self.recv(ws)
            await self.ctl(self.fake.fault, fault="silent")
            await ws.send(frame("ping", "ping_1"))
            await ws.send(stream(early["req_id"], "s", "lost", True))     # never arrives
            r = await self.ctl(self.fake.message, text="/queued")
            self.assertFalse(r["pushed"])
            with self.assertRaises(asyncio.TimeoutError):
                await self.recv(ws, timeout=1)
            # The client gives up on it and comes back: the queued message arrives.
            ws2 = await self.connect()
            f = await self.recv(ws2)
            self.assertEqual(f["body"]["msgid"], r["msgid"])
            await ws2.close()
        run(go())
        st = self.fake.state()
        self.assertEqual((st["counts"]["pings"], st["counts"]["pings_answered"]), (1, 0))
        self.assertTrue(self.fake.frames(cmd="ping")[0]["silent"])
        self.assertEqual(self.fake.frames(cmd="aibot_respond_msg")[0]["errcode"], None)
        self.assertEqual(self.fake.sent(), [])
        self.assertEqual(self.fake.log("kick")[0]["connection"], 1)   # dropped, no event

    def test_reset_mid_frame(self):
        async def go():
            ws = await self.connect()
            r = await self.ctl(self.fake.fault, fault="reset")
            with self.assertRaises(websockets.exceptions.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            self.assertEqual(ws.close_code, 1006)
            return r
        r = run(go())
        self.assertLess(r["sent_bytes"], r["of"])
        self.assertTrue(self.fake.log("push")[-1]["cut"])

    def test_malformed_frame(self):
        async def go():
            ws = await self.connect()
            await self.ctl(self.fake.fault, fault="malformed")
            raw = await asyncio.wait_for(ws.recv(), 5)
            with self.assertRaises(ValueError):
                json.loads(raw)
            await ws.close()
        run(go())

    def test_frame_over_1_mib(self):
        async def go():
            ws = await self.connect(max_size=4 << 20)
            r = await self.ctl(self.fake.fault, fault="big_frame")
            raw = await asyncio.wait_for(ws.recv(), 10)
            await ws.close()
            return r, raw
        r, raw = run(go())
        self.assertGreater(len(raw.encode()), 1 << 20)
        self.assertEqual(json.loads(raw)["body"]["msgid"], r["msgid"])

    def test_repeated_msgid(self):
        async def go():
            ws = await self.connect()
            r = await self.ctl(self.fake.message, text="/report 1.1")
            f1 = await self.recv(ws)
            again = await self.ctl(self.fake.fault, fault="repeat_msgid")
            f2 = await self.recv(ws)
            await ws.close()
            return r, f1, again, f2
        r, f1, again, f2 = run(go())
        self.assertEqual(f2["body"], f1["body"])
        self.assertEqual(again["msgid"], r["msgid"])
        self.assertNotEqual(f2["headers"]["req_id"], f1["headers"]["req_id"])

    def test_drop(self):
        async def go():
            ws = await self.connect()
            await self.ctl(self.fake.fault, fault="drop")
            with self.assertRaises(websockets.exceptions.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            self.assertEqual(ws.close_code, 1006)
        run(go())

    def test_client_protocol_violations(self):
        async def go():
            ws = await self.connect()
            await ws.send("not json")
            await ws.send(b"\x00binary")
            await ws.send(json.dumps({"cmd": "ping"}))
            await ws.send(frame("aibot_unknown", "r1", {}))
            await ws.send(frame("ping", "ping_9"))
            self.assertEqual((await self.recv(ws))["headers"]["req_id"], "ping_9")
            await ws.close()
        run(go())
        self.assertEqual(self.violations(), ["not_json", "binary_frame", "bad_frame", "unknown_cmd"])


if __name__ == "__main__":
    unittest.main()
