#!/usr/bin/python3
"""A fake of the three group-robot webhooks, for tests (Python stdlib only).

  DingTalk custom robot  POST /robot/send?access_token=T[&timestamp=MS&sign=S]
  WeCom group robot      POST /cgi-bin/webhook/send?key=K
  Feishu custom bot      POST /open-apis/bot/v2/hook/ID  (timestamp, sign in the body)

It checks what the services check (docs/ARCHITECTURE.md, "Channels"): the
token or key, the signature and that its timestamp is within an hour of the
real clock, the message's shape and size (DingTalk body 20,000 bytes, WeCom
markdown 4,096 bytes, Feishu body 20 KB), and enforces the rate limits with
the services' error bodies: DingTalk and WeCom 20 messages in any window
(60 s), DingTalk then blocking the robot for 10 windows (130101); Feishu 100
per window and 5 per window/60 (11232). --window-ms scales every window.

Robots come from --robots FILE (JSON list of {"kind": "dingtalk"|"wecom"|
"feishu", "id": token/key/hook id, "secret": optional, "fail_5xx": N}).
Listens on 127.0.0.1 on a free port and prints it on the first line of
stdout; exits by itself after --lifetime seconds. GET /_log gives every
request as JSON: {"t", "kind", "id", "code", "text"} (code 0 = delivered).
"""

import argparse
import base64
import hashlib
import hmac
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
LOG = []
ROBOTS = {}
STATE = {}
WINDOW = 60.0


def hmac_b64(key, msg):
    return base64.b64encode(hmac.new(key.encode(), msg.encode(), hashlib.sha256).digest()).decode()


def within_hour(ts_seconds):
    return abs(time.time() - ts_seconds) < 3600


def rate_ok(state, key, limit, window, now):
    """Sliding window of accepted sends; True (and counted) if under the limit."""
    times = state.setdefault(key, [])
    while times and times[0] <= now - window:
        times.pop(0)
    if len(times) >= limit:
        return False
    times.append(now)
    return True


def text_of(kind, body):
    if kind == "feishu":
        card = body.get("card") or {}
        for el in card.get("elements") or []:
            if el.get("tag") == "markdown":
                return el.get("content")
        return (body.get("content") or {}).get("text")
    md = body.get("markdown") or {}
    return md.get("text") if kind == "dingtalk" else md.get("content")


def dingtalk(robot, query, raw, body, now):
    st = STATE.setdefault(("dingtalk", robot["id"]), {})
    if robot.get("secret"):
        ts, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
        if not ts.isdigit() or not within_hour(int(ts) / 1000):
            return 310000, "invalid timestamp"
        want = hmac_b64(robot["secret"], ts + "\n" + robot["secret"])
        if sign != want:        # parse_qs already undid the percent-encoding
            return 310000, "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"
    if len(raw) > 20000:
        return 460101, "message too long, exceed 20000 bytes"
    if body.get("msgtype") != "markdown" or not (body.get("markdown") or {}).get("title") \
            or not (body.get("markdown") or {}).get("text"):
        return 40035, "缺少参数 json"
    if st.get("blocked_until", 0) > now:
        return 130101, "send too fast, exceed 20 times per minute"
    if not rate_ok(st, "sent", 20, WINDOW, now):
        st["blocked_until"] = now + 10 * WINDOW
        return 130101, "send too fast, exceed 20 times per minute"
    return 0, "ok"


def wecom(robot, query, raw, body, now):
    st = STATE.setdefault(("wecom", robot["id"]), {})
    if body.get("msgtype") != "markdown":
        return 40008, "invalid message type"
    content = (body.get("markdown") or {}).get("content") or ""
    if not content:
        return 41016, "markdown.content missing"
    if len(content.encode()) > 4096:
        return 40058, "markdown.content exceed max length 4096"
    if not rate_ok(st, "sent", 20, WINDOW, now):
        return 45009, "api freq out of limit"
    return 0, "ok"


def feishu(robot, query, raw, body, now):
    st = STATE.setdefault(("feishu", robot["id"]), {})
    if len(raw) > 20 * 1024:
        return 9499, "Bad Request"
    if robot.get("secret"):
        ts = str(body.get("timestamp", ""))
        if not ts.isdigit() or not within_hour(int(ts)) or \
                body.get("sign") != hmac_b64(ts + "\n" + robot["secret"], ""):
            return 19021, "sign match fail or timestamp is not within one hour from current time"
    if body.get("msg_type") not in ("text", "post", "interactive") or not text_of("feishu", body):
        return 9499, "Bad Request"
    times = st.setdefault("sent", [])
    # Both windows over the accepted sends: 100 per window, 5 per window/60.
    while times and times[0] <= now - WINDOW:
        times.pop(0)
    if len(times) >= 100 or sum(1 for t in times if t > now - WINDOW / 60) >= 5:
        return 11232, "frequency limited psm[lark.oapi.app_platform_runtime]appID[0]"
    times.append(now)
    return 0, "ok"


ROUTES = {"dingtalk": dingtalk, "wecom": wecom, "feishu": feishu}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, obj):
        data = json.dumps(obj, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/_log":
            with LOCK:
                self.reply(200, LOG)
        else:
            self.reply(404, {})

    def route(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/robot/send":
            return "dingtalk", query.get("access_token", [""])[0], query
        if url.path == "/cgi-bin/webhook/send":
            return "wecom", query.get("key", [""])[0], query
        if url.path.startswith("/open-apis/bot/v2/hook/"):
            return "feishu", url.path.rsplit("/", 1)[1], query
        return None, None, query

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        kind, rid, query = self.route()
        now = time.monotonic()
        if kind is None:
            return self.reply(404, {})
        with LOCK:
            robot = ROBOTS.get((kind, rid))
            if robot is not None and robot.get("fail_5xx", 0) > 0:
                robot["fail_5xx"] -= 1
                LOG.append({"t": time.time(), "kind": kind, "id": rid, "code": 502,
                            "text": None})
                self.send_response(502)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            if robot is None:
                code, msg = {"dingtalk": (300001, "token is not exist"),
                             "wecom": (93000, "invalid webhook url, hint: [fake]"),
                             "feishu": (19001, "param invalid: incoming webhook access token invalid")}[kind]
            elif not isinstance(body, dict):
                code, msg = (9499, "Bad Request") if kind == "feishu" else (40035, "invalid json")
            else:
                code, msg = ROUTES[kind](robot, query, raw, body, now)
            LOG.append({"t": time.time(), "kind": kind, "id": rid, "code": code,
                        "text": text_of(kind, body) if isinstance(body, dict) else None})
        if kind == "feishu":
            self.reply(200, {"code": code, "msg": msg, "data": {}})
        else:
            self.reply(200, {"errcode": code, "errmsg": msg})


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass    # a client killed mid-request (the kill -9 tests) is no error of ours


def main():
    global WINDOW
    ap = argparse.ArgumentParser()
    ap.add_argument("--robots", required=True)
    ap.add_argument("--window-ms", type=int, default=60000)
    ap.add_argument("--lifetime", type=float, default=300)
    args = ap.parse_args()
    WINDOW = args.window_ms / 1000.0
    with open(args.robots) as f:
        for r in json.load(f):
            ROBOTS[(r["kind"], r["id"])] = r
    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    threading.Timer(args.lifetime, server.shutdown).start()
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
