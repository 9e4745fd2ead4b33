#!/usr/bin/python3
"""Fake DingTalk (钉钉) for campaign-bot's tests: Stream mode and the robot APIs.

Run:  /usr/bin/python3 tests/fake/fake_dingtalk.py --port-file /tmp/p
One process on 127.0.0.1, two free ports: HTTP (the OpenAPI, session webhooks,
the file URLs /files/... and the /control API; its port goes to --port-file,
tmp + rename) and the
Stream WebSocket (its port is in GET /control/state and in every endpoint the
gateway hands out). Prints "listening on 127.0.0.1:HTTP ws 127.0.0.1:WS" on
stderr; exits on SIGTERM/SIGINT or after --max-lifetime seconds (default 600).
Python 3.11 + Debian's python3-websockets (10.x). The reference for tests is
tests/fake/README.md ("Fake DingTalk"); the state and the ACK checks live in
fake_dingtalk_state.py; tests/fake/dingtalk_control.py is a client helper.
"""

import argparse
import asyncio
import hashlib
import http
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import websockets
import websockets.exceptions
import websockets.server

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_dingtalk_state import (  # noqa: E402
    CT_JSON, TOPIC_ROBOT, ApiError, State, now, request_id, wall_ms)

MAX_BODY = 8 << 20
MSG_KEYS = {"sampleText", "sampleMarkdown", "sampleLink", "sampleImageMsg",
            "sampleActionCard", "sampleActionCard2", "sampleActionCard3",
            "sampleActionCard4", "sampleActionCard5", "sampleActionCard6",
            "sampleAudio", "sampleFile", "sampleVideo"}
# DingTalk delivers files to a bot only in a private (1:1) chat with it (the page
# "获取机器人消息中文件下载链接": no voice, file or video from groups).
NO_GROUP_FILES = ("file messages are private only: DingTalk does not deliver a file sent "
                  "in a group to the bot (use type private)")
ACTIONS = {"disconnect", "drop", "reset", "silent", "malformed", "big_frame", "fragmented",
           "repeat_msgid", "ping", "expire_token", "expire_webhooks"}


class Conn:
    def __init__(self, cid, ws, ticket, topics):
        self.id = cid
        self.ws = ws
        self.ticket = ticket
        self.topics = topics
        self.status = "open"      # open | disconnecting | silent | closed
        self.opened = now()

    def wants(self, ftype, topic):
        if ftype == "SYSTEM":
            return True
        if ftype == "EVENT":
            return ("EVENT", "*") in self.topics
        return ("CALLBACK", topic) in self.topics


class Hub:
    """The WebSocket side; runs on the asyncio loop (main thread)."""

    def __init__(self, state, args):
        self.state = state
        self.args = args
        self.loop = None
        self.conns = {}
        self.next_conn = 1
        self.pending = []          # frames waiting for a connection
        self.ws_port = None
        self.http_base = None
        self.pushed_msgs = {}      # msgId -> bot message data (for repeat_msgid)

    # -- frames -----------------------------------------------------------------
    def frame(self, ftype, topic, data, extra=None, mid=None):
        st = self.state
        mid = mid or st.new_frame_id()
        headers = {"contentType": CT_JSON, "messageId": mid, "time": str(wall_ms()),
                   "topic": topic}
        if ftype != "SYSTEM":
            headers["appId"] = st.app_id
        for k, v in (extra or {}).items():
            headers[k] = str(v)
        text = json.dumps({"specVersion": "1.0", "type": ftype, "headers": headers,
                           "data": data if isinstance(data, str) else
                           json.dumps(data, ensure_ascii=False)}, ensure_ascii=False)
        return {"messageId": mid, "type": ftype, "topic": topic, "text": text}

    def target(self, f, conn_id=None):
        if conn_id is not None:
            c = self.conns.get(conn_id)
            return c if c and c.status == "open" else None
        live = [c for c in self.conns.values() if c.status == "open" and c.wants(f["type"], f["topic"])]
        return live[-1] if live else None

    async def push(self, f, conn_id=None, info=None, queue=True):
        """Send frame f to the newest live connection, or queue it for the next one."""
        c = self.target(f, conn_id)
        st = self.state
        if c is None:
            if queue:
                with st.lock:
                    self.pending.append((f, info))
                    st.record("queued", messageId=f["messageId"], type=f["type"], topic=f["topic"])
            return None
        with st.lock:
            prev = st.frames.get(f["messageId"])
            rec = prev or {"type": f["type"], "topic": f["topic"], "acked": False,
                           "pushed": 0, "first_pushed": now()}
            rec.update(info or {})
            rec["connection"] = c.id
            rec["pushed"] += 1
            rec["last_pushed"] = now()
            st.frames[f["messageId"]] = rec
            st.record("push", connection=c.id, messageId=f["messageId"], type=f["type"],
                      topic=f["topic"], bytes=len(f["text"].encode()), repeat=rec["pushed"] > 1,
                      msgId=rec.get("msgId"))
        try:
            await c.ws.send(f["text"])
        except websockets.exceptions.ConnectionClosed:
            pass
        return c.id

    async def flush(self):
        with self.state.lock:
            waiting, self.pending = self.pending, []
        for f, info in waiting:
            await self.push(f, info=info)

    # -- bot messages and events ------------------------------------------------
    def bot_message(self, m):
        """Build the data of a bot-message callback from a control request."""
        st = self.state
        group = m.get("type", "private") == "group" or str(m.get("conversationType")) == "2"
        if group and "file" in m:
            raise ValueError(NO_GROUP_FILES)
        staff = str(m.get("staff_id", "staff001"))
        text = m.get("text", "")
        if not isinstance(text, str):
            raise ValueError("text must be a string")
        if group and "content" not in m:
            mention = m.get("mention", "stripped")
            if mention == "stripped":
                text = " " + text
            elif mention == "kept":
                text = "@%s %s" % (st.bot_nick, text)
            else:
                raise ValueError("mention must be stripped or kept")
        if "content" in m:
            text = m["content"]
        with st.lock:
            msg_id = m.get("msg_id") or st.next_msg_ids()
            f = st.new_file(m["file"], msg_id, staff) if "file" in m else None
            ttl = float(m.get("webhook_ttl", st.webhook_ttl))
            session, url, expires_ms = st.new_webhook(self.http_base, ttl)
        create = wall_ms()
        sender_id = "$:LWCP_v1:$" + hashlib.sha1(b"user:" + staff.encode()).hexdigest()[:24]
        conv = m.get("conversation_id") or (
            "cid" + hashlib.sha1((("group:" + str(m.get("title", "测试群"))) if group else
                                  ("p2p:" + staff)).encode()).hexdigest()[:22] + "==")
        data = {"conversationId": conv, "chatbotCorpId": st.corp_id,
                "chatbotUserId": st.bot_user_id, "msgId": msg_id,
                "senderNick": m.get("nick", "用户" + staff), "isAdmin": bool(m.get("is_admin", False)),
                "senderStaffId": staff, "sessionWebhookExpiredTime": expires_ms,
                "createAt": create, "senderCorpId": st.corp_id,
                "conversationType": "2" if group else "1", "senderId": sender_id,
                "sessionWebhook": url, "text": {"content": text},
                "robotCode": st.robot_code, "msgtype": "text"}
        if group:
            data["conversationTitle"] = m.get("title", "测试群")
            data["isInAtList"] = True
            data["atUsers"] = [{"dingtalkId": st.bot_user_id}]
        if m.get("pad_to"):
            data["text"]["content"] = text + " " * max(0, int(m["pad_to"]) - len(text.encode()))
        if f is not None:
            # A file from a private chat: its content, no text member.
            del data["text"]
            data["msgtype"] = "file"
            data["content"] = {"downloadCode": f["downloadCode"], "fileName": f["fileName"],
                               "spaceId": f["spaceId"], "fileId": f["fileId"]}
        with st.lock:
            st.webhooks[session]["msg"] = {"msgId": msg_id, "conversationId": conv,
                                           "conversationType": data["conversationType"],
                                           "staffId": staff}
        return data

    async def inject_messages(self, msgs):
        out = []
        for m in msgs:
            if not isinstance(m, dict):
                raise ValueError("each message is an object")
            group = m.get("type") == "group" or str(m.get("conversationType")) == "2"
            if group and "file" in m:
                raise ValueError(NO_GROUP_FILES)
            if group and m.get("at_bot", True) is False:
                with self.state.lock:
                    self.state.record("not_delivered", reason="group message does not @ the bot")
                out.append({"pushed": False, "why": "group message does not @ the bot"})
                continue
            data = self.bot_message(m)
            self.pushed_msgs[data["msgId"]] = data
            f = self.frame("CALLBACK", TOPIC_ROBOT, data)
            with self.state.lock:
                self.state.record("inject", msgId=data["msgId"], messageId=f["messageId"],
                                  conversationId=data["conversationId"],
                                  staffId=data["senderStaffId"])
            cid = await self.push(f, info={"msgId": data["msgId"]})
            r = {"pushed": True, "connection": cid, "msgId": data["msgId"],
                 "messageId": f["messageId"], "conversationId": data["conversationId"],
                 "sessionWebhook": data["sessionWebhook"],
                 "sessionWebhookExpiredTime": data["sessionWebhookExpiredTime"]}
            if data["msgtype"] == "file":
                r.update(data["content"])
            out.append(r)
        return out

    async def inject_events(self, evs):
        out = []
        for e in evs:
            if not isinstance(e, dict):
                raise ValueError("each event is an object")
            born = wall_ms()
            extra = {"eventType": e.get("eventType", "user_add_org"),
                     "eventId": e.get("eventId") or os.urandom(16).hex(),
                     "eventBornTime": born, "eventCorpId": self.state.corp_id,
                     "eventUnifiedAppId": self.state.app_id}
            f = self.frame("EVENT", e.get("topic", "*"),
                           e.get("data", {"timeStamp": str(born), "userId": ["staff001"]}), extra)
            cid = await self.push(f, info={"eventId": extra["eventId"]})
            out.append({"connection": cid, "messageId": f["messageId"], "eventId": extra["eventId"]})
            self.loop.create_task(self.retry_event(f))
        return out

    async def retry_event(self, f):
        """Unacknowledged (or LATER) events are pushed again, event_retries times."""
        for _ in range(self.args.event_retries):
            await asyncio.sleep(self.args.event_retry)
            with self.state.lock:
                rec = self.state.frames.get(f["messageId"])
                if rec is None or rec["acked"]:
                    return
                rec["later"] = False
            await self.push(f, info={})

    # -- connection faults --------------------------------------------------------
    def pick(self, conn_id):
        if conn_id is not None:
            return self.conns.get(int(conn_id))
        live = [c for c in self.conns.values() if c.status == "open"]
        return live[-1] if live else None

    async def action(self, a):
        kind = a.get("fault")
        st = self.state
        if kind == "expire_token":
            with st.lock:
                n = st.expire_tokens()
                st.record("fault", fault=kind, tokens=n)
            return {"fault": kind, "tokens": n}
        if kind == "expire_webhooks":
            with st.lock:
                n = st.expire_webhooks()
                st.record("fault", fault=kind, webhooks=n)
            return {"fault": kind, "webhooks": n}
        c = self.pick(a.get("connection"))
        if c is None:
            raise ValueError("no open connection for fault %s" % kind)
        with st.lock:
            st.record("fault", fault=kind, connection=c.id)
        transport = c.ws.transport
        if kind == "disconnect":
            f = self.frame("SYSTEM", "disconnect", {"reason": a.get("reason", "connection is expired")})
            await self.push(f, conn_id=c.id, queue=False)
            c.status = "disconnecting"
            grace = float(a.get("grace", self.args.disconnect_grace))
            self.loop.call_later(grace, self.drop, c, "disconnect grace over")
            await self.flush()
            return {"fault": kind, "connection": c.id, "drop_in": grace}
        if kind == "drop":
            self.drop(c, "drop fault")
            return {"fault": kind, "connection": c.id}
        if kind == "silent":
            c.status = "silent"
            transport.pause_reading()
            return {"fault": kind, "connection": c.id}
        if kind == "ping":
            opaque = a.get("opaque") or os.urandom(8).hex()
            f = self.frame("SYSTEM", "ping", {"opaque": opaque})
            await self.push(f, conn_id=c.id, info={"opaque": opaque}, queue=False)
            return {"fault": kind, "connection": c.id, "messageId": f["messageId"], "opaque": opaque}
        if kind == "malformed":
            text = a.get("text", '{"specVersion":"1.0","type":"CALLBACK","headers":{"topic":')
            with st.lock:
                st.record("push", connection=c.id, messageId=None, type="MALFORMED", topic=None,
                          bytes=len(text.encode()), repeat=False, msgId=None)
            await c.ws.send(text)
            return {"fault": kind, "connection": c.id}
        if kind == "big_frame":
            size = int(a.get("size", (1 << 20) + 4096))
            m = dict(a.get("message") or {})
            m["pad_to"] = size
            r = await self.inject_messages([m])
            return {"fault": kind, "connection": c.id, **r[0]}
        if kind == "fragmented":
            # One bot message as several WebSocket fragments, a ping control frame between
            # the first two (RFC 6455 allows control frames inside a fragmented message).
            data = self.bot_message(dict(a.get("message") or {"text": "in pieces"}))
            f = self.frame("CALLBACK", TOPIC_ROBOT, data)
            n = max(2, int(a.get("parts", 3)))
            text = f["text"]
            step = -(-len(text) // n)
            parts = [text[i:i + step] for i in range(0, len(text), step)]
            with st.lock:
                st.frames[f["messageId"]] = {"type": "CALLBACK", "topic": TOPIC_ROBOT, "acked": False,
                                             "pushed": 1, "first_pushed": now(), "last_pushed": now(),
                                             "connection": c.id, "msgId": data["msgId"]}
                st.record("push", connection=c.id, messageId=f["messageId"], type="CALLBACK",
                          topic=TOPIC_ROBOT, bytes=len(text.encode()), repeat=False,
                          msgId=data["msgId"], fragments=len(parts))
            self.pushed_msgs[data["msgId"]] = data

            async def pieces():
                for i, part in enumerate(parts):
                    yield part
                    if i == 0:
                        await c.ws.ping(b"fragmented")
            await c.ws.send(pieces())
            return {"fault": kind, "connection": c.id, "msgId": data["msgId"],
                    "messageId": f["messageId"], "fragments": len(parts)}
        if kind == "repeat_msgid":
            msg_id = a.get("msg_id") or (list(self.pushed_msgs)[-1] if self.pushed_msgs else None)
            if msg_id not in self.pushed_msgs:
                raise ValueError("no pushed bot message with msgId %r" % (msg_id,))
            f = self.frame("CALLBACK", TOPIC_ROBOT, self.pushed_msgs[msg_id])
            await self.push(f, conn_id=c.id, info={"msgId": msg_id, "repeat_of": msg_id}, queue=False)
            return {"fault": kind, "connection": c.id, "msgId": msg_id, "messageId": f["messageId"]}
        if kind == "reset":
            # A frame header announcing the whole frame, part of its payload, then RST.
            data = self.bot_message(dict(a.get("message") or {"text": "lost in a reset"}))
            f = self.frame("CALLBACK", TOPIC_ROBOT, data)
            payload = f["text"].encode()
            with st.lock:
                st.frames[f["messageId"]] = {"type": "CALLBACK", "topic": TOPIC_ROBOT, "acked": False,
                                             "pushed": 1, "first_pushed": now(), "last_pushed": now(),
                                             "connection": c.id, "msgId": data["msgId"], "cut": True}
                st.record("push", connection=c.id, messageId=f["messageId"], type="CALLBACK",
                          topic=TOPIC_ROBOT, bytes=len(payload), repeat=False, msgId=data["msgId"],
                          cut=True)
            n = len(payload)
            head = b"\x81" + (bytes([n]) if n < 126 else
                              b"\x7e" + struct.pack("!H", n) if n < 65536 else
                              b"\x7f" + struct.pack("!Q", n))
            transport.write(head + payload[:max(1, n // 2)])
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            await asyncio.sleep(0.05)
            transport.abort()
            c.status = "closed"
            return {"fault": kind, "connection": c.id, "sent_bytes": len(head) + n // 2, "of": n,
                    "msgId": data["msgId"], "messageId": f["messageId"]}
        raise ValueError("unknown fault %r" % (kind,))

    def drop(self, c, why):
        if c.status == "closed":
            return
        c.status = "closed"
        with self.state.lock:
            self.state.record("drop", connection=c.id, why=why)
        c.ws.transport.close()

    async def ping_loop(self):
        while True:
            await asyncio.sleep(self.args.ping_interval)
            for c in list(self.conns.values()):
                if c.status == "open":
                    await self.action({"fault": "ping", "connection": c.id})

    # -- WebSocket server -------------------------------------------------------
    async def process_request(self, path, headers):
        u = urllib.parse.urlsplit(path)
        q = urllib.parse.parse_qs(u.query)
        st = self.state
        if u.path != "/connect":
            return (http.HTTPStatus.NOT_FOUND, [("Content-Type", "text/plain")], b"not found\n")
        ticket = (q.get("ticket") or [""])[0]
        with st.lock:
            why = st.use_ticket(ticket)
            if why:
                st.record("connect_refused", why=why)
                st.lock.notify_all()
        if why:
            body = json.dumps({"code": "invalidTicket", "message": why,
                               "requestid": request_id()}).encode()
            return (http.HTTPStatus.FORBIDDEN, [("Content-Type", "application/json")], body)
        return None

    async def handler(self, ws, path=None):
        path = path if path is not None else ws.path
        ticket = (urllib.parse.parse_qs(urllib.parse.urlsplit(path).query).get("ticket") or [""])[0]
        st = self.state
        with st.lock:
            cid = self.next_conn
            self.next_conn += 1
            c = Conn(cid, ws, ticket, st.ticket_topics(ticket))
            self.conns[cid] = c
            st.record("connect", connection=cid)
        await self.flush()
        try:
            async for raw in ws:
                if c.status == "silent":
                    continue
                if isinstance(raw, bytes):
                    with st.lock:
                        st.violation("binary_frame", connection=cid)
                    continue
                with st.lock:
                    st.check_ack(cid, raw)
        except websockets.exceptions.ConnectionClosed:
            pass
        finally:
            with st.lock:
                c.status = "closed"
                st.record("close", connection=cid, code=ws.close_code)

    def conn_states(self):
        return [{"id": c.id, "status": c.status, "opened": c.opened} for c in self.conns.values()]


class Http(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-dingtalk"

    def log_message(self, fmt, *a):
        if self.server.args.verbose:
            sys.stderr.write("fake_dingtalk: " + (fmt % a) + "\n")

    def answer(self, status, body, ctype="application/json;charset=utf-8"):
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_chunked(self):
        parts, total = [], 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY:
                raise ApiError(413, "RequestEntityTooLarge", "request body too large")
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            raw = self.read_chunked()
        else:
            n = int(self.headers.get("Content-Length") or 0)
            if n > MAX_BODY:
                raise ApiError(413, "RequestEntityTooLarge", "request body too large")
            raw = self.rfile.read(n) if n else b""
        self.raw_body = raw
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return ValueError

    def do_GET(self):
        self.route("GET")

    def serve_file(self, url_id, q):
        """GET /files/<id>?Expires&OSSAccessKeyId&Signature: the bytes, as an object store
        serves a signed URL (403 once expired or without the signature, XML errors)."""
        st = self.server.state
        with st.lock:
            status, why, f = st.file_for_url(url_id, q)
            fail = st.take_rule("file_5xx") if status == 200 else None
            cut = st.take_rule("file_truncate") if status == 200 and not fail else None
            fault = "file_5xx" if fail else "file_truncate" if cut else None
            st.record("file_get", url_id=url_id, status=int(fail.get("status", 500)) if fail
                      else status, why=why, fault=fault,
                      fileName=f["fileName"] if f else None)
        if fail:
            return self.answer(int(fail.get("status", 500)), b"internal error\n", "text/plain")
        if status != 200:
            xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s"
                   "</Message><RequestId>%s</RequestId></Error>\n"
                   % (why, "Request has expired." if why == "AccessDenied" else why, request_id()))
            return self.answer(status, xml.encode(), "application/xml")
        data = f["data"]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if cut:
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return None
        self.wfile.write(data)
        return None

    def do_POST(self):
        self.route("POST")

    def route(self, method):
        u = urllib.parse.urlsplit(self.path)
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(u.query).items()}
        srv = self.server
        try:
            body = self.body() if method == "POST" else None
            if u.path.startswith("/control/"):
                return self.answer(200, srv.control(method, u.path[9:], q, body))
            if method == "GET" and u.path.startswith("/files/"):
                return self.serve_file(u.path[7:], q)
            if method != "POST":
                raise ApiError(404, "InvalidAction.NotFound", "Specified api is not found")
            if body is ValueError:
                raise ApiError(400, "InvalidParameter", "request body is not JSON")
            if u.path == "/robot/sendBySession":
                return self.answer(200, srv.webhook(q.get("session", ""), body))
            handler = {"/v1.0/gateway/connections/open": srv.gateway_open,
                       "/v1.0/oauth2/accessToken": srv.token,
                       "/v1.0/robot/oToMessages/batchSend": srv.batch_send,
                       "/v1.0/robot/groupMessages/send": srv.group_send,
                       "/v1.0/robot/messageFiles/download": srv.message_file}.get(u.path)
            if handler is None:
                raise ApiError(404, "InvalidAction.NotFound", "Specified api is not found")
            status, out, ctype = handler(self.headers, body)
            return self.answer(status, out, ctype)
        except ApiError as e:
            with srv.state.lock:
                srv.state.record("api_error", path=u.path, status=e.status, code=e.code)
            self.answer(e.status, e.body())
        except ValueError as e:
            self.answer(400, {"error": str(e)})
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:  # a bug of the fake: say so, keep serving
            traceback.print_exc()
            self.answer(500, {"error": "fake_dingtalk bug: %r" % (e,)})


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, args, state, hub):
        super().__init__((args.host, args.port), Http)
        self.args = args
        self.state = state
        self.hub = host_hub = hub
        host_hub.http_base = "http://%s:%d" % (args.host, self.server_address[1])

    def on_loop(self, coro, timeout=30):
        return asyncio.run_coroutine_threadsafe(coro, self.hub.loop).result(timeout)

    # -- OpenAPI ----------------------------------------------------------------
    def gateway_open(self, headers, body):
        st = self.state
        with st.lock:
            rule = st.take_rule("open_5xx")
            slow = st.take_rule("open_slow")
        if slow:
            time.sleep(float(slow.get("delay_s", 5)))
        if rule:
            raise ApiError(int(rule.get("status", 500)), "systemError", "系统错误")
        with st.lock:
            ticket, topics, expired = st.open_connection(body)
            accept = headers.get("Accept", "")
            st.record("open", topics=[list(t) for t in topics], ticket_expired=expired,
                      accept=accept)
            if ("CALLBACK", TOPIC_ROBOT) not in topics:
                st.record("open_without_robot_topic")
        endpoint = "ws://%s:%d/connect" % (self.args.host, self.hub.ws_port)
        if "application/json" not in accept:
            # The Node SDK's comment: without this header the gateway answers XML.
            with st.lock:
                st.violation("gateway_accept", accept=accept)
            xml = ("<?xml version='1.0' encoding='UTF-8'?><OpenConnectionResponse><endpoint>%s"
                   "</endpoint><ticket>%s</ticket></OpenConnectionResponse>" % (endpoint, ticket))
            return 200, xml.encode(), "application/xml;charset=utf-8"
        return 200, {"endpoint": endpoint, "ticket": ticket}, "application/json;charset=utf-8"

    def token(self, headers, body):
        st = self.state
        with st.lock:
            rule = st.take_rule("api_5xx", "token")
            if rule:
                raise ApiError(int(rule.get("status", 500)), "systemError", "系统错误")
            st.check_qps("token")
            tok, ttl = st.access_token(body)
            st.record("token", expireIn=ttl)
        return 200, {"accessToken": tok, "expireIn": ttl}, "application/json;charset=utf-8"

    def robot_auth(self, headers, body, api):
        """The checks every robot API makes: token, faults, QPS, body, robotCode."""
        st = self.state
        tok = headers.get("x-acs-dingtalk-access-token")
        if tok is None:
            raise ApiError(400, "AuthenticationFailed.MissingParameter",
                           "缺少参数：x-acs-dingtalk-access-token")
        st.check_token(tok)
        rule = st.take_rule("api_5xx", api)
        if rule:
            raise ApiError(int(rule.get("status", 500)), "systemError", "系统错误")
        st.check_qps(api)
        if not isinstance(body, dict):
            raise ApiError(400, "invalidParameter.param.invalid", "The parameter is invalid.")
        if not body.get("robotCode"):
            raise ApiError(400, "invalidParameter.robotCode.empty", "The bot robotCode is empty.")
        if body["robotCode"] != st.robot_code:
            raise ApiError(400, "invalidParameter.robotCode.auth",
                           "This app's appkey does not match the bot's robotCode.")

    def robot_common(self, headers, body, api):
        self.robot_auth(headers, body, api)
        key = body.get("msgKey")
        if not key:
            raise ApiError(400, "invalidParameter.msgKey.empty", "The msgKey is missing.")
        if key not in MSG_KEYS:
            raise ApiError(400, "invalidParameter.msgKey.invalid", "The msgKey is invalid.")
        raw = body.get("msgParam")
        try:
            param = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            param = None
        if not isinstance(param, dict):
            raise ApiError(400, "invalidParameter.msgParam.invalid",
                           "The msgParam must be in JSON format.")
        text, title = None, None
        if key == "sampleText":
            text = param.get("content")
            if not isinstance(text, str) or not text:
                raise ApiError(400, "invalidParameter.msgParam.invalid", "sampleText needs content")
        elif key == "sampleMarkdown":
            text, title = param.get("text"), param.get("title")
            if not isinstance(text, str) or not text or not isinstance(title, str) or not title:
                raise ApiError(400, "invalidParameter.msgParam.invalid",
                               "sampleMarkdown needs title and text")
        return key, raw, text, title

    def batch_send(self, headers, body):
        st = self.state
        with st.lock:
            key, raw, text, title = self.robot_common(headers, body, "batchSend")
            users = body.get("userIds")
            if not isinstance(users, list) or not users:
                raise ApiError(400, "invalidParameter.userIds.empty", "The user userId list is empty.")
            if len(users) > 20:
                raise ApiError(400, "invalidParameter.userIds.overMax",
                               "The user userId list exceeds the maximum limit.")
            users = [str(u) for u in users]
            invalid = [u for u in users if u in st.invalid_staff]
            flowed = st.flow_control([u for u in users if u not in invalid])
            delivered = [u for u in users if u not in invalid and u not in flowed]
            pqk = os.urandom(24).hex()
            st.add_sent("batchSend", userIds=users, delivered=delivered, invalid=invalid,
                        flowControlled=flowed, msgKey=key, msgParam=raw, text=text, title=title,
                        processQueryKey=pqk)
        return 200, {"processQueryKey": pqk, "invalidStaffIdList": invalid,
                     "flowControlledStaffIdList": flowed}, "application/json;charset=utf-8"

    def group_send(self, headers, body):
        st = self.state
        with st.lock:
            key, raw, text, title = self.robot_common(headers, body, "groupSend")
            conv = body.get("openConversationId")
            if not isinstance(conv, str) or not conv:
                raise ApiError(400, "invalidParameter.openConversationId.empty",
                               "The openConversationId is empty.")
            if len(raw.encode()) > 15000:
                raise ApiError(400, "invalidParameter.msgParam.invalid",
                               "msgParam exceeds 15000 bytes")
            pqk = os.urandom(24).hex()
            st.add_sent("groupSend", conversationId=conv, msgKey=key, msgParam=raw, text=text,
                        title=title, processQueryKey=pqk)
        return 200, {"processQueryKey": pqk}, "application/json;charset=utf-8"

    def message_file(self, headers, body):
        """POST /v1.0/robot/messageFiles/download {downloadCode, robotCode} -> downloadUrl."""
        st = self.state
        with st.lock:
            self.robot_auth(headers, body, "download")
            code = body.get("downloadCode")
            if not isinstance(code, str) or not code:
                raise ApiError(400, "invalidParameter.downloadCode.empty",
                               "The downloadCode is empty.")
            url_id, url = st.file_url(self.hub.http_base, code)
            f = st.files[code]
            st.record("file_url", url_id=url_id, msgId=f["msgId"], fileName=f["fileName"],
                      url_ttl=f["url_ttl"])
        return 200, {"downloadUrl": url}, "application/json;charset=utf-8"

    def webhook(self, session, body):
        st = self.state
        with st.lock:
            w = st.webhooks.get(session)
            if w is None or w["expires"] <= now():
                st.record("webhook_refused", why="expired" if w else "unknown session")
                return {"errcode": 300001, "errmsg": "session webhook expired"}
            if not isinstance(body, dict) or body.get("msgtype") not in ("text", "markdown"):
                st.record("webhook_refused", why="bad body")
                return {"errcode": 40035, "errmsg": "缺少参数 msgtype"}
            if body["msgtype"] == "text":
                text = (body.get("text") or {}).get("content") if isinstance(body.get("text"), dict) else None
                title = None
            else:
                md = body.get("markdown") if isinstance(body.get("markdown"), dict) else {}
                text, title = md.get("text"), md.get("title")
                if not isinstance(title, str) or not title:
                    text = None
            if not isinstance(text, str) or not text:
                st.record("webhook_refused", why="empty content")
                return {"errcode": 40035, "errmsg": "缺少参数 content"}
            m = w["msg"] or {}
            st.add_sent("webhook", conversationId=m.get("conversationId"),
                        conversationType=m.get("conversationType"), staffId=m.get("staffId"),
                        replyTo=m.get("msgId"), msgtype=body["msgtype"], text=text, title=title,
                        at=body.get("at"))
        return {"errcode": 0, "errmsg": "ok"}

    # -- control API ------------------------------------------------------------
    def control(self, method, what, q, body):
        st = self.state
        hub = self.hub
        if body is ValueError:
            raise ValueError("control body is not JSON")
        body = body or {}
        if method == "POST" and what == "messages":
            return {"results": self.on_loop(hub.inject_messages(body.get("messages", [])))}
        if method == "POST" and what == "events":
            return {"results": self.on_loop(hub.inject_events(body.get("events", [])))}
        if method == "POST" and what == "faults":
            out = []
            if body.get("clear"):
                with st.lock:
                    st.rules.clear()
            for f in body.get("faults", []):
                if f.get("fault") in ACTIONS:
                    out.append(self.on_loop(hub.action(f)))
                else:
                    with st.lock:
                        out.append({"id": st.add_rule(f)})
            return {"results": out}
        if method == "GET" and what == "faults":
            with st.lock:
                return {"rules": [dict(r) for r in st.rules]}
        if method == "POST" and what == "users":
            with st.lock:
                if "invalid" in body:
                    st.invalid_staff = set(map(str, body["invalid"]))
                for u in body.get("flow_controlled", []):
                    st.flow_controlled[str(u)] = body.get("times", 1)
                return {"invalid": sorted(st.invalid_staff), "flow_controlled": st.flow_controlled}
        if method == "GET" and what == "sent":
            since = int(q.get("since", 0))
            with st.lock:
                items = [s for s in st.sent[since:] if q.get("via") in (None, s["via"])]
                return {"count": len(st.sent), "sent": items}
        if method == "GET" and what == "acks":
            since = int(q.get("since", 0))
            with st.lock:
                return {"count": len(st.acks), "acks": st.acks[since:]}
        if method == "GET" and what == "log":
            since = int(q.get("since", 0))
            with st.lock:
                items = [e for e in st.log if e["seq"] > since and q.get("kind") in (None, e["kind"])]
                return {"entries": items}
        if method == "GET" and what == "state":
            with st.lock:
                return self.snapshot()
        if method == "GET" and what == "wait":
            return self.wait(q)
        raise ValueError("unknown control request %s /control/%s" % (method, what))

    def snapshot(self):
        st = self.state
        return {"http_port": self.server_address[1], "ws_port": self.hub.ws_port,
                "client_id": st.client_id, "robot_code": st.robot_code,
                "connections": self.hub.conn_states(),
                "open_connections": sum(1 for c in self.hub.conns.values() if c.status == "open"),
                "pending": len(self.hub.pending), "sent": len(st.sent), "acks": len(st.acks),
                "unacked": st.unacked(), "pings_unanswered": st.pings_unanswered(),
                "violations": list(st.violations),
                "counters": dict(st.counters), "tokens_valid": sum(1 for e in st.tokens.values() if e > now()),
                "uptime": now() - st.started}

    def wait(self, q):
        st = self.state
        timeout = min(float(q.get("timeout", 10)), 120)
        conds = {k: int(v) for k, v in q.items() if k != "timeout"}

        def ok():
            s = {"sent": len(st.sent), "acks": len(st.acks),
                 "connects": st.counters["connect"], "opens": st.counters["open"],
                 "closes": st.counters["close"], "pushes": st.counters["push"],
                 "open_connections": sum(1 for c in self.hub.conns.values() if c.status == "open"),
                 "refused": st.counters["connect_refused"],
                 "webhook": sum(1 for e in st.sent if e["via"] == "webhook"),
                 "batchSend": sum(1 for e in st.sent if e["via"] == "batchSend"),
                 "groupSend": sum(1 for e in st.sent if e["via"] == "groupSend"),
                 "file_urls": st.counters["file_url"], "file_gets": st.counters["file_get"],
                 "pings_answered": sum(1 for a in st.acks if a["topic"] == "ping" and not a["problems"])}
            for k in conds:
                if k not in s:
                    raise ValueError("unknown wait condition %r" % k)
            return all(s[k] >= v for k, v in conds.items())

        deadline = now() + timeout
        with st.lock:
            reached = ok()
            while not reached and now() < deadline:
                st.lock.wait(min(0.2, max(0.0, deadline - now())))
                reached = ok()
            return {"ok": reached, "state": self.snapshot()}


def write_port_file(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="HTTP port (0 = free)")
    p.add_argument("--ws-port", type=int, default=0, help="WebSocket port (0 = free)")
    p.add_argument("--port-file", help="write the HTTP port here (tmp + rename)")
    p.add_argument("--client-id", default="dingfaketestapp0001")
    p.add_argument("--client-secret-file",
                   help="file holding the AppSecret (else $DINGTALK_FAKE_SECRET, else a default)")
    p.add_argument("--robot-code", help="robotCode the robot APIs accept (default: client id)")
    p.add_argument("--bot-nick", default="campaign-bot")
    p.add_argument("--ticket-ttl", type=float, default=90.0)
    p.add_argument("--token-ttl", type=float, default=7200.0)
    p.add_argument("--webhook-ttl", type=float, default=5400.0)
    p.add_argument("--disconnect-grace", type=float, default=10.0)
    p.add_argument("--event-retry", type=float, default=5.0)
    p.add_argument("--event-retries", type=int, default=3)
    p.add_argument("--ping-interval", type=float, default=0.0, help="0 = only on request")
    p.add_argument("--qps", type=int, default=20, help="per API per app; 0 = unlimited")
    p.add_argument("--file-url-ttl", type=float, default=3600.0,
                   help="seconds a file's downloadUrl works (a message's file.url_ttl overrides)")
    p.add_argument("--invalid-staff", action="append", default=[])
    p.add_argument("--max-lifetime", type=float, default=600.0)
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)
    secret = os.environ.get("DINGTALK_FAKE_SECRET", "fake-app-secret-0123456789")
    if args.client_secret_file:
        with open(args.client_secret_file) as f:
            secret = f.read().strip()
    args.client_secret = secret
    return args


async def amain(args):
    state = State(args)
    hub = Hub(state, args)
    hub.loop = asyncio.get_running_loop()
    server = Server(args, state, hub)
    ws_server = await websockets.server.serve(
        hub.handler, args.host, args.ws_port, process_request=hub.process_request,
        ping_interval=None, compression=None, max_size=4 << 20)
    hub.ws_port = ws_server.sockets[0].getsockname()[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    if args.port_file:
        write_port_file(args.port_file, port)
    sys.stderr.write("listening on %s:%d ws %s:%d\n" % (args.host, port, args.host, hub.ws_port))
    sys.stderr.flush()
    if args.ping_interval > 0:
        hub.loop.create_task(hub.ping_loop())
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        hub.loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), args.max_lifetime)
        why = "signal"
    except asyncio.TimeoutError:
        why = "max lifetime reached"
    sys.stderr.write("fake_dingtalk: stopping (%s)\n" % why)
    server.shutdown()
    ws_server.close()
    for c in list(hub.conns.values()):
        c.ws.transport.abort()
    return 0


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    return asyncio.run(amain(args))


if __name__ == "__main__":
    sys.exit(main())
