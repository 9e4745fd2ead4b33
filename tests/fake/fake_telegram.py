#!/usr/bin/python3
"""Fake Telegram Bot API server for campaign-bot's tests and benchmarks.

Run:  /usr/bin/python3 tests/fake/fake_telegram.py --port-file /tmp/p --scenario S.json
It listens on 127.0.0.1 (port 0 = a free port), writes the port to --port-file
(tmp + rename), prints "listening on 127.0.0.1:PORT" on stderr, and exits on
SIGTERM/SIGINT or after --max-lifetime seconds (default 600). Python 3 stdlib only.

BOT API (same URL shape as api.telegram.org)
  GET|POST /bot<TOKEN>/<method>, parameters in the query string, a JSON body,
  a form-encoded body or multipart/form-data (merged; the body wins). Method
  names are case-insensitive. Wrong token -> 401 "Unauthorized"; unknown method
  -> 404 "Not Found: method not found". Errors have the real shape
  {"ok":false,"error_code":N,"description":"...","parameters":{...}}.
  HTTP/1.1 keep-alive, one thread per connection.

  getMe           the bot user (--bot-id 1000, --bot-username campaign_test_bot)
  getUpdates      as tdlib/telegram-bot-api (Client.cpp, TQueue):
                  - an update is confirmed (dropped forever) by a call with a higher
                    offset; offset 0 = from the head; negative offset -N = the last N
                    updates, everything before is forgotten; an offset more than 10
                    past the next update_id (or far in the past) is invalid and
                    answers from the head without confirming anything;
                  - limit clamped to 1..100 (default 100), timeout to 0..50;
                  - same offset again within 3 s with timeout < 3 -> timeout 3;
                    same offset within 0.5 s -> limit 1;
                  - long poll: answers 1 ms after an update arrives (at most 2 ms
                    after the first), else [] at the timeout;
                  - a new long poll aborts the pending one with 409 "Conflict:
                    terminated by other getUpdates request; ..."; 409s are throttled:
                    at most one per 3 s, later ones are answered 3 s late;
                  - allowed_updates: omitted or malformed -> previous setting kept;
                    [] -> default (all but chat_member, message_reaction,
                    message_reaction_count); filters updates as they ARRIVE;
                  - messages dated more than 24 h ago are never queued.
  setWebhook      https URL only (400 otherwise), throttled to 1/s (429 retry_after 1);
                  while set, getUpdates -> 409 "Conflict: can't use getUpdates method
                  while webhook is active; ...". Nothing is ever POSTed to the URL.
  deleteWebhook   clears it; drop_pending_updates=true on either clears the queue.
  getWebhookInfo  url, pending_update_count, allowed_updates.
  sendMessage     chat_id (int or "@name"), text, parse_mode, reply_to_message_id or
                  reply_parameters, disable_web_page_preview or link_preview_options,
                  reply_markup, entities. Checks, in this order: chat_id present and
                  valid; raw text <= 32768 bytes; parse_mode=HTML parsed by the TDLib
                  rules (tags b strong i em u ins s strike del a code pre blockquote
                  tg-spoiler span.tg-spoiler tg-emoji; entities &lt; &gt; &amp; &quot;
                  and numeric) -> 400 "Bad Request: can't parse entities: ...";
                  empty -> "message text is empty"; chat blocked/kicked/deactivated ->
                  403; chat migrated -> 400 with parameters.migrate_to_chat_id; text
                  over 4096 UTF-16 units -> 400 "Bad Request: message is too long";
                  flood control (below). Success returns a Message (new message_id)
                  and records it in /control/sent.
  setMyCommands / getMyCommands / deleteMyCommands   stored; command must match
                  [a-z0-9_]{1,32} (else 400 BOT_COMMAND_INVALID).
  answerCallbackQuery, sendChatAction, and scenario "ok_methods"  -> ok true.
  getFile         file_id of a file given with POST /control/files {"files": {ID:
                  base64}} -> file_path "documents/ID"; 400 "file is too big" over
                  20 MB; GET /file/bot<TOKEN>/documents/ID serves the bytes.

FLOOD CONTROL (sliding windows over DELIVERED messages; mode enforce|observe|off)
  per_chat  [1, 1.0]    more than 1 message in any 1.0 s to one chat (groups too)
  per_group [20, 60.0]  more than 20 in any 60 s to one group/supergroup (id < 0)
  global    [30, 1.0]   more than 30 in any 1.0 s over all chats
  enforce: the send is refused with 429 {"description":"Too Many Requests: retry
  after N","parameters":{"retry_after":N}} and a Retry-After: N header, N = whole
  seconds until the window allows one more. observe: delivered anyway, marked in
  the log ("flood": [...]) and counted in state.violations. Every 429 (flood,
  injected or setWebhook) opens a retry window of N s. A request arriving inside
  it is an EARLY RETRY: answered 429 (remaining seconds), logged early_retry=true,
  counted in state.violations.early_retry. Window scope (a fault rule's "scope",
  else flood.pause_scope): "all" (default) covers the same method and, after a
  chat-bound 429, every request carrying a chat_id (the bot must pause ALL
  sends); "chat" covers the same method to the same chat only.

SCENARIO FILE (--scenario, JSON object; every key optional)
  {"description": "...",
   "bot": {"id": 1000, "username": "campaign_test_bot", "first_name": "..."},
   "token": "123:ABC",             "first_update_id": 10000, "first_message_id": 1,
   "webhook": "https://x/hook",    "allowed_updates": ["message", ...],
   "flood": {"mode": "enforce", "per_chat": [1, 1.0], "per_group": [20, 60.0],
             "global": [30, 1.0], "pause_scope": "all"},
   "html_strict": true,            "text_length_unit": "utf16" | "codepoints",
   "ok_methods": ["editMessageText"],
   "chats": [CHAT, ...], "updates": [UPDATE, ...], "faults": [FAULT, ...]}
  html_strict (default true) also refuses a bare "&" (the real server keeps it).

  UPDATE, enqueued at once, or "at" seconds after the scenario was loaded (or
  after the POST /control/updates request); update_id is always assigned:
    full form   {"message": {...Bot API Message...}}  (any single update field)
    short form  {"text": "/tasks", "user_id": 111, "chat_id": 111,
                 "chat_type": "private|group|supergroup", "username": "li",
                 "first_name": "Li", "title": "Unit A", "date": UNIX,
                 "reply_to_message_id": N, "message_id": N}
                -> a message with from, chat, date, text and a bot_command entity
                   (UTF-16 offsets) when a word starts with "/". chat_id defaults
                   to user_id (a private chat). Other short types by "type":
                 "edited_message"  message_id, text          (edit_date = now)
                 "callback_query"  data, message_id (the bot message), id
                 "my_chat_member"  new_status, old_status    (e.g. "kicked")
                 "chat_member"     member_user_id, new_status, old_status
                 "migrate"         chat_id, migrate_to_chat_id -> two service
                                   messages; the old chat is marked migrated.
  CHAT  {"chat_id": 42, "blocked": true} | {"chat_id": -5, "migrated_to": -1000000000005}
        | {"chat_id": -7, "type": "group", "title": "Unit A"} | "kicked" |
        "deactivated" | "username" | "first_name"; false/null removes a flag.
  FAULT, an ordered list; the first rule that matches a request fires:
        {"method": "sendMessage" | "*", "fault": KIND,
         "call": 3 | [3, 5],   only the Nth call(s) of that method (1-based, since reset)
         "chat_id": 42,        only requests to that chat
         "times": 1 | N | "always"   (default 1: "the next N matching calls")
         ...KIND options}
    KIND          answer                                   options
    429           429 + Retry-After, opens a retry window  retry_after (5), scope
    409 401 403 400   that error with the real description  description
    400_migrate   400 group chat was upgraded ...          migrate_to_chat_id
    500           500 Internal Server Error                status, description
    502_html      nginx HTML page, Content-Type text/html  status (502)
    truncated_json  200; variant "short_read" (default): Content-Length of the full
                  body, half of it sent, connection closed; "half_length":
                  Content-Length and body both of the first half (keep-alive)
    reset         RST without an answer; when "mid_body": headers + half the body, RST
    hang          no answer until the client disconnects or the server stops  max_s
    delay         normal answer after ms milliseconds      ms (1000)
    bad_json      200 with a body that is not JSON         body
    "delivered": true on 500, 502_html, truncated_json, reset, hang, bad_json runs
    the call first (a sendMessage IS recorded as sent, with "fault" set) and then
    answers with the fault; default false (nothing happened). delay always delivers.

CONTROL API (same port, no token, JSON in and out; times are CLOCK_MONOTONIC s)
  POST /control/updates  {"updates": [UPDATE, ...]}  -> {"results": [{"update_id":
                          N, "type": T} | {"update_id": null, "dropped": why} |
                          {"scheduled_at": t}], "update_ids": [N|null, ...]}
  GET  /control/sent[?since=I&chat_id=C]  -> {"count": total, "sent": [{index,
                          message_id, chat_id, text, plain, parse_mode, reply_to,
                          time, fault, flood, reply_markup?, link_preview?}]}
  GET  /control/log[?since=SEQ&limit=N&method=M&violations=1]  -> {"entries": [{seq,
                          time, method, params, chat_id?, status (null = pending or
                          no answer), fault, early_retry, flood, delivered,
                          description?, effective_timeout/limit?, updates?,
                          first/last_update_id?, duration_ms}], "next", "evicted"}
  POST /control/faults   {"faults": [FAULT, ...]} -> {"ids"}; {"clear": true} drops all
  GET  /control/faults   the rules with "remaining" and "fired"
  POST /control/chats    {"chats": [CHAT, ...]}
  POST /control/flood    {"mode": "off", "per_chat": [1, 1.0], ...} (merged)
  GET  /control/state    pending_updates, next_update_id, confirmed_offset (all ids
                          below it are confirmed), webhook, get_updates_in_flight,
                          long_poll_waiting, allowed_updates, sent, requests, calls,
                          violations {early_retry, flood {chat,group,global},
                          flood_refused}, faults, chats, commands, flood, uptime
  POST /control/reset    {"scenario": true, "update_id": N?}: forget everything and
                          reload the scenario (or start empty with false); update and
                          message ids keep growing unless update_id is given.
  GET  /control/wait?sent=N&confirmed=ID&requests=N&polling=1&timeout=S
                          blocks until all given conditions hold (sent >= N, update ID
                          confirmed, N requests seen, a long poll pending) or S
                          seconds pass -> {"ok": reached, "state": {...}}.
--record FILE appends one JSON line per request and response (token redacted).

DIFFERENCES FROM THE REAL SERVER (deliberate or unknown)
  - html_strict refuses a bare "&" or "&nbsp;" (TDLib keeps them as literal text).
  - Length is counted in UTF-16 units; a live probe suggests Telegram may count
    code points (4096 emoji accepted). "text_length_unit": "codepoints" switches.
  - Markdown/MarkdownV2 are accepted but not parsed; entities= is not checked.
  - Flood limits are the documented ones (Telegram's real algorithm is not
    published); the pause scope of a 429 and the early-retry rule are test rules.
    A request that was already in flight when the 429 went out still counts.
  - A long poll whose client disconnected is dropped silently (the real server
    may keep it until its timeout). Offsets up to next_update_id + 10 are valid
    even before the first update ever arrived.
  - One message_id counter for all chats; replies to unknown messages and any
    "@name" chat are accepted; nothing is ever POSTed to a webhook; non-message
    updates never expire; overload 429s (too many requests in flight) and
    file uploads are not modelled.
"""

import argparse
import email.parser
import json
import os
import re
import select
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_telegram_objects import ApiError, Reply, dumps  # noqa: E402
from fake_telegram_state import FakeTelegram  # noqa: E402

BOT_PATH = re.compile(r"^/bot([^/]*)/([A-Za-z0-9_]+)$")
MAX_BODY = 64 << 20
RECORD_BODY_MAX = 64 << 10


def param_text(value):
    """The Bot API server sees every parameter as a string: mimic its conversion."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def parse_params(query, body, content_type):
    """Merge query string and body parameters; raise ApiError on a bad body."""
    params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    ctype = content_type.split(";")[0].strip().lower()
    if not body:
        return params
    if ctype == "application/json":
        try:
            obj = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "Bad Request: can't parse JSON object")
        if isinstance(obj, dict):
            params.update({k: param_text(v) for k, v in obj.items() if v is not None})
    elif ctype == "multipart/form-data":
        msg = email.parser.BytesParser().parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        for part in msg.get_payload() if msg.is_multipart() else []:
            name = part.get_param("name", header="content-disposition")
            if name:
                payload = part.get_payload(decode=True) or b""
                params[name] = payload.decode("utf-8", "replace")
    else:
        params.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace"),
                                             keep_blank_values=True))
    return params


class Recorder:
    """--record: one JSON line per request/response, appended and flushed."""

    def __init__(self, path):
        self.file = open(path, "a", encoding="utf-8") if path else None
        self.lock = threading.Lock()

    def write(self, **fields):
        if not self.file:
            return
        line = json.dumps(fields, ensure_ascii=False, default=str)
        with self.lock:
            self.file.write(line + "\n")
            self.file.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-telegram/1.0"

    def version_string(self):
        return self.server_version

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("fake-telegram: %s %s\n" % (self.address_string(), fmt % args))

    def do_GET(self):
        try:
            self.handle_request()
        except Exception:  # noqa: BLE001 - a fake-server bug: say so, do not go silent
            traceback.print_exc()
            self.close_connection = True
            try:
                self.write_reply(Reply.error(ApiError(
                    500, "Internal Server Error: fake server bug, see its stderr")))
            except Exception:  # noqa: BLE001
                pass

    do_POST = do_GET

    # -- request ---------------------------------------------------------

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length) if length else b""

    def handle_request(self):
        state = self.server.state
        url = urllib.parse.urlsplit(self.path)
        try:
            body = self.read_body()
        except ValueError:
            self.close_connection = True
            return self.write_reply(Reply.error(ApiError(400, "Bad Request: bad body")))
        if url.path.startswith("/control/"):
            reply, info = self.control(url.path, url.query, body), None
        elif url.path.startswith("/file/bot"):
            token, _, fpath = url.path[len("/file/bot"):].partition("/")
            data = state.file_bytes(token, fpath)
            reply = Reply(200, data, "application/octet-stream") if data is not None else \
                Reply(404, b'{"ok":false,"error_code":404,"description":"Not Found"}')
            info = None
        else:
            m = BOT_PATH.match(url.path)
            params, entry = None, None
            if not m:
                reply = Reply.error(ApiError(404, "Not Found"))
            else:
                try:
                    params = parse_params(url.query, body,
                                          self.headers.get("Content-Type", ""))
                except ApiError as err:
                    reply = Reply.error(err)
                else:
                    reply, entry = state.api_call(m.group(1), m.group(2), params,
                                                  self.client_gone)
            info = {"params": params, "entry": entry}
        released = self.write_reply(reply, info and info["entry"])
        path = BOT_PATH.sub(lambda m: "/bot<token>/" + m.group(2), url.path)
        self.server.recorder.write(
            time=time.monotonic(), wall=time.time(), client="%s:%d" % self.client_address,
            request="%s %s" % (self.command, path),
            params=info["params"] if info else body.decode("utf-8", "replace"),
            status=reply.status if reply.action in ("send", "truncate", "half_length",
                                                    "mid_reset") else None,
            action=reply.action, released=released,
            fault=info["entry"]["fault"] if info and info["entry"] else None,
            response=reply.body[:RECORD_BODY_MAX].decode("utf-8", "replace"))

    def client_gone(self):
        """True once the client closed or reset its side (checked without blocking)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    # -- response --------------------------------------------------------

    def send_head_and_body(self, status, ctype, length, data, extra=None):
        """Headers and body in one send (no Nagle/delayed-ACK stall)."""
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self._headers_buffer.append(b"\r\n")
        self._headers_buffer.append(data)
        self.flush_headers()

    def reset_connection(self):
        """Close with RST (SO_LINGER 0) instead of a FIN."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        except OSError:
            pass
        for f in (self.rfile, self.wfile):
            try:
                f.close()
            except OSError:
                pass
        self.connection.close()

    def write_reply(self, reply, entry=None):
        """Perform reply.action on the socket; returns why a hang ended, if any."""
        body, half = reply.body, reply.body[:len(reply.body) // 2]
        try:
            if reply.action == "send":
                self.send_head_and_body(reply.status, reply.content_type, len(body), body,
                                        reply.headers)
            elif reply.action == "close":
                self.close_connection = True
            elif reply.action == "reset":
                self.reset_connection()
            elif reply.action == "truncate":
                self.send_head_and_body(200, reply.content_type, len(body), half)
                self.close_connection = True
            elif reply.action == "half_length":
                self.send_head_and_body(200, reply.content_type, len(half), half)
            elif reply.action == "mid_reset":
                self.send_head_and_body(200, reply.content_type, len(body), half)
                time.sleep(0.01)   # let the half body leave before the RST
                self.reset_connection()
            elif reply.action == "hang":
                return self.hang(reply, entry)
        except OSError:
            self.close_connection = True
        return None

    def hang(self, reply, entry):
        """Hold the connection without answering; release it when the client
        disconnects, the server stops, or max_s passes. Then close (FIN)."""
        started = time.monotonic()
        limit = reply.hang_max_s or self.server.max_lifetime
        reason = "max_s"
        while time.monotonic() - started < limit:
            if self.server.state.stopping.is_set():
                reason = "server_stopping"
                break
            readable, _, _ = select.select([self.connection], [], [], 0.1)
            if readable:
                if self.client_gone():
                    reason = "client_closed"
                    break
                time.sleep(0.1)   # the client sent more bytes: keep holding
        self.close_connection = True
        if entry is not None:
            self.server.state.annotate(entry, released=reason,
                                       held_s=round(time.monotonic() - started, 3))
        return reason

    # -- control API -----------------------------------------------------

    def control(self, path, query, body):
        state = self.server.state
        q = dict(urllib.parse.parse_qsl(query))
        try:
            data = json.loads(body.decode("utf-8")) if body.strip() else {}
            if not isinstance(data, dict):
                raise ValueError("the body must be a JSON object")
            route = (self.command, path.rstrip("/"))
            if route == ("GET", "/control/state"):
                result = state.state()
            elif route == ("GET", "/control/sent"):
                chat = q.get("chat_id")
                count, sent = state.sent_since(int(q.get("since", 0)),
                                               int(chat) if chat else None)
                result = {"count": count, "sent": sent}
            elif route == ("GET", "/control/log"):
                result = state.log_since(int(q.get("since", 0)),
                                         int(q["limit"]) if q.get("limit") else None,
                                         q.get("method"), q.get("violations") in ("1", "true"))
            elif route == ("GET", "/control/wait"):
                def opt(name):
                    return int(q[name]) if q.get(name, "") != "" else None
                ok, snapshot = state.wait(float(q.get("timeout", 10)), opt("sent"),
                                          opt("confirmed"), opt("requests"), opt("polling"))
                result = {"ok": ok, "state": snapshot}
            elif route == ("POST", "/control/updates"):
                results = state.control_updates(data.get("updates", []))
                result = {"results": results,
                          "update_ids": [r.get("update_id") for r in results]}
            elif route == ("POST", "/control/faults"):
                if data.get("clear"):
                    state.clear_faults()
                result = {"ids": state.control_faults(data.get("faults", []))}
            elif route == ("GET", "/control/faults"):
                result = {"faults": state.state()["faults"]}
            elif route == ("POST", "/control/files"):
                state.control_files(data.get("files", {}))
                result = {}
            elif route == ("POST", "/control/chats"):
                state.control_chats(data.get("chats", []))
                result = {}
            elif route == ("POST", "/control/flood"):
                result = {"flood": state.control_flood(data)}
            elif route == ("POST", "/control/reset"):
                state.control_reset(data.get("scenario", True), data.get("update_id"))
                result = {}
            else:
                return Reply(404, dumps({"ok": False, "error": "no such control endpoint: %s %s"
                                         % route}).encode())
        except (ValueError, KeyError, TypeError) as err:
            return Reply(400, dumps({"ok": False, "error": str(err)}).encode())
        result.setdefault("ok", True)
        return Reply(200, dumps(result).encode())


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)


def write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def parse_args(argv):
    p = argparse.ArgumentParser(description="Fake Telegram Bot API server (see module doc).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = pick a free port (default)")
    p.add_argument("--port-file", help="write the chosen port here (atomically)")
    p.add_argument("--token", default="123456:TEST-TOKEN", help="accepted bot token")
    p.add_argument("--bot-id", type=int, default=1000)
    p.add_argument("--bot-username", default="campaign_test_bot")
    p.add_argument("--scenario", help="scenario JSON file")
    p.add_argument("--flood", choices=("enforce", "observe", "off"),
                   help="flood-control mode (overrides the scenario)")
    p.add_argument("--first-update-id", type=int, help="first update_id (default 1)")
    p.add_argument("--max-lifetime", type=float, default=600.0,
                   help="exit after this many seconds (default 600)")
    p.add_argument("--record", help="append every request/response as JSON lines")
    p.add_argument("--log-limit", type=int, default=50000,
                   help="requests kept in memory for /control/log (default 50000)")
    p.add_argument("--verbose", action="store_true", help="log requests on stderr")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    scenario = None
    if args.scenario:
        with open(args.scenario, encoding="utf-8") as f:
            scenario = json.load(f)
    state = FakeTelegram(args.token, args.bot_id, args.bot_username, scenario=scenario,
                         flood_mode=args.flood, log_limit=args.log_limit,
                         first_update_id=args.first_update_id)
    server = FakeServer((args.host, args.port), Handler)
    server.state = state
    server.recorder = Recorder(args.record)
    server.verbose = args.verbose
    server.max_lifetime = args.max_lifetime
    port = server.server_address[1]
    if args.port_file:
        write_port_file(args.port_file, port)
    print("listening on %s:%d" % (args.host, port), file=sys.stderr, flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                     name="serve", daemon=True).start()
    why = "signal" if stop.wait(args.max_lifetime) else "max lifetime reached"
    print("fake-telegram: stopping (%s)" % why, file=sys.stderr, flush=True)
    state.stop()
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
