#!/usr/bin/python3
"""Fake WeCom (企业微信) smart robot long connection for campaign-bot's tests.

Run:  /usr/bin/python3 tests/fake/fake_wecom.py --port-file /tmp/p
One process on 127.0.0.1, two free ports: the WebSocket the bot connects to
(ws://127.0.0.1:WS/, its port in GET /control/state and in --ws-port-file) and
an HTTP port for the /control API and the files users send, GET /files/<id>
(its port goes to --port-file, tmp + rename). Prints
"listening on 127.0.0.1:HTTP ws 127.0.0.1:WS" on stderr; exits on SIGTERM/SIGINT
or after --max-lifetime seconds (default 600). Python 3.11 + Debian's
python3-websockets (10.x); python3-cryptography for file messages. The reference for tests is tests/fake/README.md
("Fake WeCom"); the state and the reply checks live in fake_wecom_state.py;
tests/fake/wecom_control.py is a client helper.
"""

import argparse
import asyncio
import hashlib
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
from fake_wecom_state import State, now  # noqa: E402

MAX_BODY = 8 << 20
ACTIONS = {"kick", "drop", "silent", "reset", "malformed", "big_frame", "repeat_msgid",
           "expire_streams"}
# WeCom delivers files to the smart robot from single chats only (the notes: "files
# only in single chats"); a file in a group is refused by the control API.
NO_GROUP_FILES = ("file messages come from single chats only: WeCom does not deliver a "
                  "file sent in a group to the smart robot (use type private)")
CMD_MSG = "aibot_msg_callback"
CMD_EVENT = "aibot_event_callback"


class Conn:
    def __init__(self, cid, ws, path):
        self.id = cid
        self.ws = ws
        self.path = path
        self.status = "open"      # open | silent | kicked | closed
        self.sub = "none"         # none | pending | ok | failed
        self.opened = now()


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


class Hub:
    """The WebSocket side; runs on the asyncio loop (main thread)."""

    def __init__(self, state, args):
        self.state = state
        self.args = args
        self.loop = None
        self.conns = {}
        self.next_conn = 1
        self.pending = []          # (cmd, req_id, body, kind) waiting for a connection
        self.ws_port = None
        self.http_base = None      # http://127.0.0.1:HTTP, where file URLs point

    # -- pushing --------------------------------------------------------------------
    def live(self, conn_id=None):
        """The connection pushes go to: the newest subscribed, open one."""
        if conn_id is not None:
            c = self.conns.get(int(conn_id))
            return c if c and c.status == "open" and c.sub == "ok" else None
        ok = [c for c in self.conns.values() if c.status == "open" and c.sub == "ok"]
        return ok[-1] if ok else None

    async def push(self, cmd, req_id, body, kind, conn_id=None, queue=True):
        st = self.state
        c = self.live(conn_id)
        if c is None:
            if queue:
                with st.lock:
                    self.pending.append((cmd, req_id, body, kind))
                    st.record("queued", cmd=cmd, req_id=req_id, msgid=body.get("msgid"))
            return None
        text = dumps({"cmd": cmd, "headers": {"req_id": req_id}, "body": body})
        with st.lock:
            st.add_callback(req_id, kind, body, c.id)
            st.record("push", connection=c.id, cmd=cmd, req_id=req_id, msgid=body.get("msgid"),
                      bytes=len(text.encode()))
        await self.send(c, text)
        return c.id

    async def send(self, c, text):
        try:
            await c.ws.send(text)
        except websockets.exceptions.ConnectionClosed:
            pass

    async def flush(self):
        with self.state.lock:
            waiting, self.pending = self.pending, []
        for cmd, req_id, body, kind in waiting:
            await self.push(cmd, req_id, body, kind)

    # -- messages and events ----------------------------------------------------------
    def message_body(self, m):
        st = self.state
        if not isinstance(m, dict):
            raise ValueError("each message is an object")
        group = m.get("type", "private") == "group"
        if group and "file" in m:
            raise ValueError(NO_GROUP_FILES)
        userid = str(m.get("userid", "zhangsan"))
        text = m.get("text", "")
        if not isinstance(text, str):
            raise ValueError("text must be a string")
        if "content" in m:
            text = m["content"]
        elif group:
            mention = m.get("mention", "kept")
            if mention == "kept":
                text = "@%s %s" % (st.bot_name, text)
            elif mention != "none":
                raise ValueError("mention must be kept or none")
        if m.get("pad_to"):
            text = text + " " * max(0, int(m["pad_to"]) - len(text.encode()))
        body = {"msgid": m.get("msgid") or st.new_msgid(), "aibotid": st.bot_id}
        if group:
            chatid = m.get("chatid") or ("wr" + hashlib.sha1(
                ("group:" + str(m.get("title", "测试群"))).encode()).hexdigest()[:20])
            body["chatid"] = chatid
        body.update({"chattype": "group" if group else "single", "from": {"userid": userid},
                     "msgtype": "text", "text": {"content": text}})
        if "file" in m:
            # No text and no file name: the name comes with the download (Content-Disposition).
            with st.lock:
                f = st.new_file(m["file"], body["msgid"], userid)
            del body["text"]
            body["msgtype"] = "file"
            body["file"] = {"url": "%s/files/%s" % (self.http_base, f["id"]), "aeskey": f["aeskey"]}
        with st.lock:
            st.chats[userid] = "single"
            if group:
                st.chats[body["chatid"]] = "group"
        return body

    async def inject_messages(self, msgs):
        out = []
        for m in msgs:
            body = self.message_body(m)
            req_id = self.state.new_req_id()
            with self.state.lock:
                self.state.by_msgid[body["msgid"]] = body
                self.state.record("inject", req_id=req_id, msgid=body["msgid"],
                                  chatid=body.get("chatid"), userid=body["from"]["userid"])
            cid = await self.push(CMD_MSG, req_id, body, "message")
            r = {"pushed": cid is not None, "connection": cid, "req_id": req_id,
                 "msgid": body["msgid"], "chatid": body.get("chatid"),
                 "userid": body["from"]["userid"], "text": body.get("text", {}).get("content")}
            if "file" in body:
                r.update(url=body["file"]["url"], aeskey=body["file"]["aeskey"])
            out.append(r)
        return out

    def event_body(self, e):
        st = self.state
        if not isinstance(e, dict):
            raise ValueError("each event is an object")
        event = dict(e.get("event") or {})
        event["eventtype"] = e.get("eventtype", event.get("eventtype", "enter_chat"))
        body = {"msgid": e.get("msgid") or st.new_msgid(), "create_time": int(time.time()),
                "aibotid": st.bot_id}
        if event["eventtype"] != "disconnected_event":
            if e.get("chatid"):
                body["chatid"] = e["chatid"]
            body.update({"chattype": e.get("chattype", "group" if e.get("chatid") else "single"),
                         "from": {"userid": str(e.get("userid", "zhangsan"))}})
        body.update({"msgtype": "event", "event": event})
        return body

    async def inject_events(self, evs, conn_id=None):
        out = []
        for e in evs:
            body = self.event_body(e)
            req_id = self.state.new_req_id()
            cid = await self.push(CMD_EVENT, req_id, body, "event", conn_id=conn_id)
            out.append({"pushed": cid is not None, "connection": cid, "req_id": req_id,
                        "msgid": body["msgid"], "eventtype": body["event"]["eventtype"]})
        return out

    # -- kicks and faults -------------------------------------------------------------
    async def kick(self, c, by):
        """A newer subscription of the same bot: disconnected_event, then a drop."""
        st = self.state
        if c.status not in ("open", "silent"):
            return
        was = c.status
        c.status = "kicked"
        with st.lock:
            st.record("kick", connection=c.id, by=by)
        if was == "open":
            body = self.event_body({"eventtype": "disconnected_event"})
            req_id = st.new_req_id()
            text = dumps({"cmd": CMD_EVENT, "headers": {"req_id": req_id}, "body": body})
            with st.lock:
                st.add_callback(req_id, "event", body, c.id)
                st.record("push", connection=c.id, cmd=CMD_EVENT, req_id=req_id,
                          msgid=body["msgid"], bytes=len(text.encode()), eventtype="disconnected_event")
            await self.send(c, text)
        self.loop.call_later(self.args.kick_grace, self.drop, c, "kicked")

    def drop(self, c, why):
        """TCP close (FIN, after what was written), no WebSocket close frame."""
        if c.status == "closed" or c.ws.transport.is_closing():
            return
        with self.state.lock:
            self.state.record("drop", connection=c.id, why=why)
        c.ws.transport.close()

    def pick(self, conn_id):
        if conn_id is not None:
            return self.conns.get(int(conn_id))
        live = [c for c in self.conns.values() if c.status in ("open", "silent")]
        return live[-1] if live else None

    async def action(self, a):
        kind = a.get("fault")
        st = self.state
        if kind == "expire_streams":
            with st.lock:
                n = st.expire_streams()
                st.record("fault", fault=kind, callbacks=n)
            return {"fault": kind, "callbacks": n}
        c = self.pick(a.get("connection"))
        if c is None:
            raise ValueError("no open connection for fault %s" % kind)
        with st.lock:
            st.record("fault", fault=kind, connection=c.id)
        if kind == "kick":
            await self.kick(c, "fault")
            return {"fault": kind, "connection": c.id}
        if kind == "drop":
            self.drop(c, "drop fault")
            return {"fault": kind, "connection": c.id}
        if kind == "silent":
            c.status = "silent"
            return {"fault": kind, "connection": c.id}
        if kind == "malformed":
            text = a.get("text", '{"cmd":"aibot_msg_callback","headers":{"req_id":')
            with st.lock:
                st.record("push", connection=c.id, cmd="MALFORMED", req_id=None, msgid=None,
                          bytes=len(text.encode()))
            await self.send(c, text)
            return {"fault": kind, "connection": c.id}
        if kind == "big_frame":
            m = dict(a.get("message") or {"text": "big"})
            m["pad_to"] = int(a.get("size", (1 << 20) + 4096))
            r = await self.inject_messages([m])
            return {"fault": kind, **r[0]}
        if kind == "repeat_msgid":
            msgid = a.get("msgid")
            with st.lock:
                if msgid is None and st.by_msgid:
                    msgid = list(st.by_msgid)[-1]
                body = st.by_msgid.get(msgid)
            if body is None:
                raise ValueError("no message pushed with msgid %r" % (msgid,))
            req_id = st.new_req_id()
            cid = await self.push(CMD_MSG, req_id, body, "message", conn_id=c.id, queue=False)
            return {"fault": kind, "connection": cid, "msgid": msgid, "req_id": req_id}
        if kind == "reset":
            # A frame header announcing a whole callback, half its payload, then RST.
            body = self.message_body(dict(a.get("message") or {"text": "lost in a reset"}))
            req_id = st.new_req_id()
            payload = dumps({"cmd": CMD_MSG, "headers": {"req_id": req_id}, "body": body}).encode()
            n = len(payload)
            head = b"\x81" + (bytes([n]) if n < 126 else
                              b"\x7e" + struct.pack("!H", n) if n < 65536 else
                              b"\x7f" + struct.pack("!Q", n))
            with st.lock:
                st.record("push", connection=c.id, cmd=CMD_MSG, req_id=req_id, msgid=body["msgid"],
                          bytes=n, cut=True)
            transport = c.ws.transport
            transport.write(head + payload[:max(1, n // 2)])
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            await asyncio.sleep(0.05)
            transport.abort()
            return {"fault": kind, "connection": c.id, "sent_bytes": len(head) + n // 2, "of": n,
                    "msgid": body["msgid"], "req_id": req_id}
        raise ValueError("unknown fault %r" % (kind,))

    # -- the client's frames ----------------------------------------------------------
    async def answer(self, c, req_id, err):
        if c.status != "open":
            return
        await self.send(c, dumps({"headers": {"req_id": req_id}, "errcode": err[0],
                                  "errmsg": err[1]}))

    async def answer_subscribe(self, c, req_id, err):
        await asyncio.sleep(self.args.subscribe_delay)
        st = self.state
        if c.status != "open":
            return
        if err:
            with st.lock:
                c.sub = "failed"
                st.error(c.id, "aibot_subscribe", req_id, err)
                st.record("subscribe", connection=c.id, ok=False)
            await self.answer(c, req_id, err)
            return
        with st.lock:
            c.sub = "ok"
            st.record("subscribe", connection=c.id, ok=True)
            older = [o for o in self.conns.values() if o is not c and o.sub == "ok"
                     and o.status in ("open", "silent")]
        await self.answer(c, req_id, (0, "ok"))
        for o in older:
            await self.kick(o, c.id)
        await self.flush()

    async def on_frame(self, c, raw):
        st = self.state
        if c.status in ("kicked", "closed"):
            return
        if isinstance(raw, bytes):
            with st.lock:
                st.violation("binary_frame", connection=c.id, bytes=len(raw))
            return
        try:
            f = json.loads(raw)
        except ValueError:
            f = None
        headers = f.get("headers") if isinstance(f, dict) else None
        req_id = headers.get("req_id") if isinstance(headers, dict) else None
        cmd = f.get("cmd") if isinstance(f, dict) else None
        if not isinstance(f, dict):
            with st.lock:
                st.violation("not_json", connection=c.id, text=raw[:200])
            return
        if not isinstance(cmd, str) or not isinstance(req_id, str) or not req_id:
            with st.lock:
                st.violation("bad_frame", connection=c.id, why="cmd or headers.req_id missing",
                             text=raw[:200])
            return
        body = f.get("body")
        shown = body
        if cmd == "aibot_subscribe" and isinstance(body, dict):
            shown = {k: ("<redacted>" if k == "secret" else v) for k, v in body.items()}
        entry = {"index": len(st.frames), "connection": c.id, "cmd": cmd, "req_id": req_id,
                 "bytes": len(raw.encode()), "time": now(), "silent": c.status == "silent",
                 "errcode": None}
        if "body" in f:
            entry["body"] = shown
        with st.lock:
            st.frames.append(entry)
            st.record("frame", connection=c.id, cmd=cmd, req_id=req_id, index=entry["index"])
            if c.status == "silent":
                # A black hole: recorded, never acted on nor answered.
                if cmd == "ping":
                    st.record("ping", connection=c.id, answered=False)
                return
            if cmd != "aibot_subscribe" and c.sub != "ok":
                st.violation("before_subscribe", connection=c.id, cmd=cmd, req_id=req_id,
                             subscribe=c.sub)
                return
        if cmd == "aibot_subscribe":
            with st.lock:
                if c.sub in ("pending", "ok"):
                    st.violation("subscribe_again", connection=c.id, subscribe=c.sub)
                err = st.check_subscribe(body)
                c.sub = "pending"
            entry["errcode"] = err[0] if err else 0
            if c.status == "open":
                self.loop.create_task(self.answer_subscribe(c, req_id, err))
            return
        if cmd == "ping":
            with st.lock:
                st.record("ping", connection=c.id, answered=True)
            entry["errcode"] = 0
            await self.answer(c, req_id, (0, "ok"))
            return
        with st.lock:
            if cmd == "aibot_respond_msg":
                err = st.respond(c.id, req_id, body)
            elif cmd == "aibot_send_msg":
                err = st.send_msg(c.id, req_id, body)
            elif cmd == "aibot_respond_welcome_msg":
                err = st.welcome(c.id, req_id, body)
            else:
                st.violation("unknown_cmd", connection=c.id, cmd=cmd, req_id=req_id)
                return
            entry["errcode"] = err[0]
        await self.answer(c, req_id, err)

    async def handler(self, ws, path=None):
        path = path if path is not None else ws.path
        st = self.state
        with st.lock:
            cid = self.next_conn
            self.next_conn += 1
            c = Conn(cid, ws, path)
            self.conns[cid] = c
            st.record("connect", connection=cid, path=path)
        try:
            async for raw in ws:
                await self.on_frame(c, raw)
        except websockets.exceptions.ConnectionClosed:
            pass
        finally:
            with st.lock:
                c.status = "closed"
                st.record("close", connection=cid, code=ws.close_code)

    def conn_states(self):
        return [{"id": c.id, "status": c.status, "subscribe": c.sub, "path": c.path,
                 "opened": c.opened} for c in self.conns.values()]


class Http(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-wecom"

    def log_message(self, fmt, *a):
        if self.server.args.verbose:
            sys.stderr.write("fake_wecom: " + (fmt % a) + "\n")

    def answer(self, status, body):
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.route("GET")

    def serve_file(self, fid):
        """GET /files/<id>: the file encrypted (fake_wecom_state.encrypt_file), named by
        Content-Disposition; 403 after url_ttl (an expired signed URL of an object store)."""
        st = self.server.state
        with st.lock:
            f = st.files.get(fid)
            status = 404 if f is None else 403 if now() >= f["expires"] else 200
            fail = st.take_rule("file_5xx") if status == 200 else None
            if fail:
                status = int(fail.get("status", 500))
            st.record("file_get", id=fid, status=status, fault="file_5xx" if fail else None,
                      name=f["name"] if f else None)
        if status != 200:
            why = {403: "Request has expired", 404: "NoSuchKey"}.get(status, "InternalError")
            data = ("<?xml version='1.0' encoding='utf-8' ?>\n<Error><Code>%s</Code>"
                    "<Message>%s</Message></Error>\n" % (
                        "AccessDenied" if status == 403 else why, why)).encode()
            ctype = "application/xml"
        else:
            data, ctype = f["body"], "application/octet-stream"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        if status == 200 and f["disposition"] == "utf8":
            self.send_header("Content-Disposition", "attachment; filename*=UTF-8''"
                             + urllib.parse.quote(f["name"], safe=""))
        elif status == 200 and f["disposition"] == "plain":
            # The name's UTF-8 bytes as they are (http.server writes headers as latin-1).
            self.send_header("Content-Disposition", 'attachment; filename="%s"'
                             % f["name"].encode().decode("latin-1"))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        self.route("POST")

    def route(self, method):
        u = urllib.parse.urlsplit(self.path)
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(u.query).items()}
        try:
            body = None
            if method == "POST":
                n = int(self.headers.get("Content-Length") or 0)
                if n > MAX_BODY:
                    raise ValueError("body too large")
                raw = self.rfile.read(n) if n else b""
                body = json.loads(raw) if raw else {}
            if method == "GET" and u.path.startswith("/files/"):
                return self.serve_file(u.path[7:])
            if not u.path.startswith("/control/"):
                return self.answer(404, {"error": "not found"})
            return self.answer(200, self.server.control(method, u.path[9:], q, body))
        except ValueError as e:
            self.answer(400, {"error": str(e)})
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:  # a bug of the fake: say so, keep serving
            traceback.print_exc()
            self.answer(500, {"error": "fake_wecom bug: %r" % (e,)})


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, args, state, hub):
        super().__init__((args.host, args.port), Http)
        self.args = args
        self.state = state
        self.hub = hub
        hub.http_base = "http://%s:%d" % (args.host, self.server_address[1])

    def on_loop(self, coro, timeout=30):
        return asyncio.run_coroutine_threadsafe(coro, self.hub.loop).result(timeout)

    def control(self, method, what, q, body):
        st = self.state
        hub = self.hub
        body = body or {}
        since = int(q.get("since", 0))
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
        if method == "GET" and what == "sent":
            with st.lock:
                items = [s for s in st.sent[since:] if q.get("via") in (None, s["via"])]
                return {"count": len(st.sent), "sent": items}
        if method == "GET" and what == "responses":
            with st.lock:
                if "req_id" in q:
                    r = st.response(q["req_id"])
                    if r is None:
                        raise ValueError("no callback with req_id %r" % q["req_id"])
                    return r
                return {"responses": [st.response(k) for k in st.callbacks]}
        if method == "GET" and what == "frames":
            with st.lock:
                items = [f for f in st.frames[since:] if q.get("cmd") in (None, f["cmd"])]
                return {"count": len(st.frames), "frames": items}
        if method == "GET" and what == "errors":
            with st.lock:
                return {"count": len(st.errors), "errors": st.errors[since:]}
        if method == "GET" and what == "log":
            with st.lock:
                items = [e for e in st.log if e["seq"] > since and q.get("kind") in (None, e["kind"])]
                return {"entries": items}
        if method == "GET" and what == "state":
            with st.lock:
                return self.snapshot()
        if method == "GET" and what == "wait":
            return self.wait(q)
        raise ValueError("unknown control request %s /control/%s" % (method, what))

    def counts(self):
        st = self.state
        conns = self.hub.conns.values()
        c = st.counters
        return {"sent": len(st.sent), "frames": len(st.frames), "errors": len(st.errors),
                "violations": len(st.violations),
                "stream": sum(1 for e in st.sent if e["via"] == "stream"),
                "send_msg": sum(1 for e in st.sent if e["via"] == "send_msg"),
                "welcome": sum(1 for e in st.sent if e["via"] == "welcome"),
                "connects": c["connect"], "closes": c["close"], "kicks": c["kick"],
                "pushes": c["push"], "drops": c["drop"], "file_gets": c["file_get"],
                "subscribed": sum(1 for e in st.log if e["kind"] == "subscribe" and e["ok"]),
                "auth_failures": sum(1 for e in st.log if e["kind"] == "subscribe" and not e["ok"]),
                "pings": c["ping"],
                "pings_answered": sum(1 for e in st.log if e["kind"] == "ping" and e["answered"]),
                "open_connections": sum(1 for x in conns if x.status in ("open", "silent")),
                "subscribed_connections": sum(1 for x in conns
                                              if x.status == "open" and x.sub == "ok")}

    def snapshot(self):
        st = self.state
        return {"http_port": self.server_address[1], "ws_port": self.hub.ws_port,
                "ws_url": "ws://%s:%d/" % (self.args.host, self.hub.ws_port),
                "bot_id": st.bot_id, "connections": self.hub.conn_states(),
                "pending": len(self.hub.pending), "counts": self.counts(),
                "violations": list(st.violations), "counters": dict(st.counters),
                "uptime": now() - st.started}

    def wait(self, q):
        st = self.state
        timeout = min(float(q.get("timeout", 10)), 120)
        conds = {k: int(v) for k, v in q.items() if k != "timeout"}
        deadline = now() + timeout
        with st.lock:
            known = self.counts()
            for k in conds:
                if k not in known:
                    raise ValueError("unknown wait condition %r" % k)

            def ok():
                s = self.counts()
                return all(s[k] >= v for k, v in conds.items())
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
    p.add_argument("--port", type=int, default=0, help="HTTP control port (0 = free)")
    p.add_argument("--ws-port", type=int, default=0, help="WebSocket port (0 = free)")
    p.add_argument("--port-file", help="write the HTTP control port here (tmp + rename)")
    p.add_argument("--ws-port-file", help="write the WebSocket port here (tmp + rename)")
    p.add_argument("--bot-id", default="aibFAKEtestbot0001")
    p.add_argument("--secret-file", help="file holding the bot Secret "
                   "(else $WECOM_FAKE_SECRET, else a default)")
    p.add_argument("--bot-name", default="campaign-bot", help="name in a group @mention")
    p.add_argument("--stream-ttl", type=float, default=360.0,
                   help="seconds a callback's streams can be updated (about 6 min)")
    p.add_argument("--subscribe-delay", type=float, default=0.05,
                   help="seconds before the subscribe answer (frames sent meanwhile are violations)")
    p.add_argument("--kick-grace", type=float, default=0.1,
                   help="seconds between disconnected_event and the drop")
    p.add_argument("--send-limit", type=int, default=20, help="aibot_send_msg per window (0 = off)")
    p.add_argument("--send-window", type=float, default=60.0)
    p.add_argument("--send-max-bytes", type=int, default=20480)
    p.add_argument("--max-lifetime", type=float, default=600.0)
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)
    secret = os.environ.get("WECOM_FAKE_SECRET", "fake-wecom-secret-0123456789")
    if args.secret_file:
        with open(args.secret_file) as f:
            secret = f.read().strip()
    args.secret = secret
    return args


async def amain(args):
    state = State(args)
    hub = Hub(state, args)
    hub.loop = asyncio.get_running_loop()
    server = Server(args, state, hub)
    ws_server = await websockets.server.serve(
        hub.handler, args.host, args.ws_port, ping_interval=None, compression=None,
        max_size=4 << 20)
    hub.ws_port = ws_server.sockets[0].getsockname()[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    if args.ws_port_file:
        write_port_file(args.ws_port_file, hub.ws_port)
    if args.port_file:
        write_port_file(args.port_file, port)
    sys.stderr.write("listening on %s:%d ws %s:%d\n" % (args.host, port, args.host, hub.ws_port))
    sys.stderr.flush()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        hub.loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), args.max_lifetime)
        why = "signal"
    except asyncio.TimeoutError:
        why = "max lifetime reached"
    sys.stderr.write("fake_wecom: stopping (%s)\n" % why)
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
