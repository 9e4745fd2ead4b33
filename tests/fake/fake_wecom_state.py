"""State of the fake WeCom smart robot (tests/fake/fake_wecom.py): the bot's
credentials, the callbacks pushed (by req_id), the reply streams, what reached
users, fault rules, violations and the event log. Thread-safe (one Condition);
no I/O here, so the HTTP control thread and the WebSocket loop share it.

Protocol sources: tests/fake/README.md (section "Fake WeCom"), the WeCom
document path/101463 and the official SDK (npm @wecom/aibot-node-sdk 1.0.7,
src/ws.ts and src/types/api.ts).
"""

import base64
import binascii
import collections
import os
import secrets
import threading
import time

# Error codes. The first three are the platform's (document and SDK users);
# the others are WeCom's general codes chosen for cases no document covers
# (tests/fake/README.md, "Known differences").
E_AUTH = (853000, "invalid bot_id or secret")
E_REQ_ID = (846605, "invalid req_id")
E_EXPIRED = (846608, "stream message update expired")
E_MSGTYPE = (40008, "invalid message type")
E_TOO_BIG = (45002, "content size out of limit")
E_PARAM = (40058, "invalid parameter")
E_FREQ = (45009, "api freq out of limit")

STREAM_MAX = 20480            # bytes of stream.content, per frame
REPLY_TYPES = {"stream", "template_card", "stream_with_template_card",
               "file", "image", "voice", "video"}
SEND_TYPES = {"markdown", "template_card", "file", "image", "voice", "video"}

# Armed rules; the other faults are actions. file_5xx: GET /files/<id> answers 5xx.
RULE_KINDS = {"wrong_credentials", "file_5xx"}
DISPOSITIONS = ("utf8", "plain", "none")   # how GET /files/<id> names the file


def now():
    return time.monotonic()


def wall_ms():
    return int(time.time() * 1000)


def encrypt_file(data, key):
    """AES-256-CBC, IV = the key's first 16 bytes, PKCS#7 padding to a multiple of 32
    bytes (pad value 1..32): what the SDK's decryptFile (src/crypto.ts) undoes."""
    try:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    except ImportError:
        raise ValueError("file messages need python3-cryptography (scripts/lib.sh "
                         "installs it with the test packages)") from None
    pad = 32 - len(data) % 32
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return enc.update(data + bytes([pad]) * pad) + enc.finalize()


class State:
    def __init__(self, args):
        self.lock = threading.Condition()
        self.bot_id = args.bot_id
        self.secret = args.secret
        self.bot_name = args.bot_name
        self.stream_ttl = args.stream_ttl
        self.send_limit = args.send_limit
        self.send_window = args.send_window
        self.send_max = args.send_max_bytes
        self.started = now()
        self.callbacks = {}       # req_id -> pushed callback (message or event)
        self.by_msgid = {}        # msgid -> last message body pushed
        self.sent = []            # what reached users, in order
        self.frames = []          # every client frame, with the answer given
        self.errors = []          # every error answer
        self.violations = []
        self.log = []
        self.rules = []
        self.next_rule = 1
        self.send_times = collections.deque()
        self.counters = collections.Counter()
        self.chats = {}           # chatid or userid -> "group" | "single"
        self.files = {}           # file id (in its URL) -> a file a user sent (new_file)
        self.seq = 0

    # -- record -----------------------------------------------------------------
    def record(self, kind, **fields):
        """Append one event to the log; call with the lock held."""
        self.seq += 1
        entry = {"seq": self.seq, "time": now(), "wall_ms": wall_ms(), "kind": kind}
        entry.update(fields)
        self.log.append(entry)
        self.counters[kind] += 1
        self.lock.notify_all()
        return entry

    def violation(self, what, **fields):
        entry = {"time": now(), "violation": what}
        entry.update(fields)
        self.violations.append(entry)
        self.record("violation", violation=what, **fields)

    # -- ids --------------------------------------------------------------------
    @staticmethod
    def new_req_id():
        return secrets.token_hex(16)

    @staticmethod
    def new_msgid():
        return secrets.token_hex(16)

    # -- files users sent (msgtype "file") ----------------------------------------
    def new_file(self, f, msgid, userid):
        """Store the file of a control message {"name", "data_b64", "url_ttl"?,
        "disposition"?}, encrypted as the platform serves it; returns its entry
        (id, aeskey, ...). Raises ValueError."""
        if not isinstance(f, dict):
            raise ValueError("file must be an object {name, data_b64}")
        name = f.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError("file.name must be a non-empty string")
        try:
            data = base64.b64decode(f.get("data_b64", ""), validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise ValueError("file.data_b64 must be base64") from None
        disposition = f.get("disposition", "utf8")
        if disposition not in DISPOSITIONS:
            raise ValueError("file.disposition must be one of %s" % (DISPOSITIONS,))
        key = os.urandom(32)
        entry = {"id": secrets.token_hex(16), "name": name, "size": len(data),
                 "aeskey": base64.b64encode(key).decode(), "body": encrypt_file(data, key),
                 "disposition": disposition, "expires": now() + float(f.get("url_ttl", 300)),
                 "msgid": msgid, "userid": userid}
        self.files[entry["id"]] = entry
        return entry

    # -- fault rules ------------------------------------------------------------
    def add_rule(self, rule):
        kind = rule.get("fault")
        if kind not in RULE_KINDS:
            raise ValueError("unknown fault %r" % (kind,))
        times = rule.get("times", 1)
        if times != "always" and (not isinstance(times, int) or times < 1):
            raise ValueError('times must be a positive integer or "always"')
        r = dict(rule, id=self.next_rule, remaining=times, fired=0)
        self.next_rule += 1
        self.rules.append(r)
        return r["id"]

    def take_rule(self, kind):
        for r in self.rules:
            if r["fault"] == kind and r["remaining"] != 0:
                if r["remaining"] != "always":
                    r["remaining"] -= 1
                r["fired"] += 1
                return r
        return None

    # -- subscribe ----------------------------------------------------------------
    def check_subscribe(self, body):
        """None if the credentials open the bot's channel, else the error."""
        if self.take_rule("wrong_credentials"):
            return E_AUTH
        if not isinstance(body, dict) or body.get("bot_id") != self.bot_id \
                or body.get("secret") != self.secret:
            return E_AUTH
        return None

    # -- callbacks ----------------------------------------------------------------
    def add_callback(self, req_id, kind, body, conn_id):
        self.callbacks[req_id] = {
            "req_id": req_id, "kind": kind, "cmd": "aibot_msg_callback" if kind == "message"
            else "aibot_event_callback", "msgid": body.get("msgid"),
            "chatid": body.get("chatid"), "chattype": body.get("chattype"),
            "userid": (body.get("from") or {}).get("userid"),
            "eventtype": (body.get("event") or {}).get("eventtype"),
            "connection": conn_id, "pushed_at": now(), "expires": now() + self.stream_ttl,
            "streams": {}, "order": [], "frames": [], "welcome": None}

    def expire_streams(self):
        for cb in self.callbacks.values():
            cb["expires"] = now() - 1
        return len(self.callbacks)

    # -- client frames ------------------------------------------------------------
    def error(self, conn_id, cmd, req_id, err, **fields):
        e = {"connection": conn_id, "cmd": cmd, "req_id": req_id, "errcode": err[0],
             "errmsg": err[1], "time": now()}
        e.update(fields)
        self.errors.append(e)
        self.record("error", **{k: v for k, v in e.items() if k != "time"})
        return err

    def respond(self, conn_id, req_id, body):
        """aibot_respond_msg: (errcode, errmsg) to answer; records the stream frame."""
        cmd = "aibot_respond_msg"
        cb = self.callbacks.get(req_id)
        if cb is None or cb["kind"] != "message":
            return self.error(conn_id, cmd, req_id, E_REQ_ID,
                              why="unknown req_id" if cb is None else "req_id of an event")
        if not isinstance(body, dict):
            return self.error(conn_id, cmd, req_id, E_PARAM, why="body is not an object")
        msgtype = body.get("msgtype")
        if msgtype not in REPLY_TYPES:
            return self.error(conn_id, cmd, req_id, E_MSGTYPE,
                              why="%r is not a reply type" % (msgtype,))
        if msgtype not in ("stream", "stream_with_template_card"):
            self.add_sent("reply", cb, msgtype=msgtype, body=body)
            return (0, "ok")
        s = body.get("stream")
        if not isinstance(s, dict) or not isinstance(s.get("id"), str) or not s["id"]:
            return self.error(conn_id, cmd, req_id, E_PARAM, why="stream.id missing")
        content = s.get("content", "")
        finish = s.get("finish", False)
        if not isinstance(content, str) or not isinstance(finish, bool):
            return self.error(conn_id, cmd, req_id, E_PARAM,
                              why="stream.content must be a string, finish a boolean")
        size = len(content.encode())
        frame = {"stream_id": s["id"], "finish": finish, "content": content, "bytes": size,
                 "connection": conn_id, "time": now(), "errcode": 0}
        cb["frames"].append(frame)
        if size > STREAM_MAX:
            frame["errcode"] = E_TOO_BIG[0]
            return self.error(conn_id, cmd, req_id, E_TOO_BIG, bytes=size, stream_id=s["id"])
        if now() >= cb["expires"]:
            frame["errcode"] = E_EXPIRED[0]
            return self.error(conn_id, cmd, req_id, E_EXPIRED, stream_id=s["id"])
        st = cb["streams"].get(s["id"])
        if st is None:
            st = cb["streams"][s["id"]] = {"id": s["id"], "frames": 0, "content": "",
                                           "finished": False, "not_prefix": 0}
            cb["order"].append(s["id"])
        if st["finished"]:
            # Not documented; treated as the platform treats a closed stream.
            frame["errcode"] = E_EXPIRED[0]
            self.violation("stream_update_after_finish", connection=conn_id, req_id=req_id,
                           stream_id=s["id"])
            return self.error(conn_id, cmd, req_id, E_EXPIRED, stream_id=s["id"],
                              why="stream already finished")
        if not content.startswith(st["content"]):
            st["not_prefix"] += 1    # legal (a frame replaces), but worth seeing
        st["frames"] += 1
        st["content"] = content
        if finish:
            st["finished"] = True
            self.add_sent("stream", cb, stream_id=s["id"], text=content, frames=st["frames"],
                          connection=conn_id)
        return (0, "ok")

    def welcome(self, conn_id, req_id, body):
        cmd = "aibot_respond_welcome_msg"
        cb = self.callbacks.get(req_id)
        if cb is None or cb["kind"] != "event" or cb["eventtype"] != "enter_chat" \
                or cb["welcome"] is not None or now() > cb["pushed_at"] + 5:
            return self.error(conn_id, cmd, req_id, E_REQ_ID, why="no enter_chat to welcome")
        if not isinstance(body, dict) or body.get("msgtype") not in ("text", "template_card"):
            return self.error(conn_id, cmd, req_id, E_MSGTYPE, why="welcome is text or template_card")
        text = (body.get("text") or {}).get("content") if isinstance(body.get("text"), dict) else None
        cb["welcome"] = body
        self.add_sent("welcome", cb, msgtype=body["msgtype"], text=text, body=body)
        return (0, "ok")

    def send_msg(self, conn_id, req_id, body):
        cmd = "aibot_send_msg"
        if not isinstance(body, dict) or not isinstance(body.get("chatid"), str) \
                or not body["chatid"]:
            return self.error(conn_id, cmd, req_id, E_PARAM, why="chatid missing")
        msgtype = body.get("msgtype")
        if msgtype not in SEND_TYPES:
            return self.error(conn_id, cmd, req_id, E_MSGTYPE,
                              why="%r is not a send type" % (msgtype,))
        text = None
        if msgtype == "markdown":
            md = body.get("markdown")
            text = md.get("content") if isinstance(md, dict) else None
            if not isinstance(text, str) or not text:
                return self.error(conn_id, cmd, req_id, E_PARAM, why="markdown.content missing")
            if len(text.encode()) > self.send_max:
                return self.error(conn_id, cmd, req_id, E_TOO_BIG, bytes=len(text.encode()))
        if self.send_limit > 0:
            t = now()
            while self.send_times and self.send_times[0] <= t - self.send_window:
                self.send_times.popleft()
            if len(self.send_times) >= self.send_limit:
                return self.error(conn_id, cmd, req_id, E_FREQ, chatid=body["chatid"])
            self.send_times.append(t)
        chat = body["chatid"]
        self.add_sent("send_msg", None, chatid=chat, chattype=self.chats.get(chat),
                      known_chat=chat in self.chats, msgtype=msgtype, text=text,
                      connection=conn_id, send_req_id=req_id,
                      body=None if msgtype == "markdown" else body)
        return (0, "ok")

    # -- sends ------------------------------------------------------------------
    def add_sent(self, via, cb, **fields):
        entry = {"index": len(self.sent), "via": via, "time": now(), "wall_ms": wall_ms()}
        if cb is not None:
            entry.update({"req_id": cb["req_id"], "msgid": cb["msgid"], "chatid": cb["chatid"],
                          "chattype": cb["chattype"], "userid": cb["userid"]})
        entry.update(fields)
        self.sent.append(entry)
        self.record("sent", via=via, index=entry["index"])
        return entry

    def response(self, req_id):
        cb = self.callbacks.get(req_id)
        if cb is None:
            return None
        out = {k: v for k, v in cb.items() if k not in ("streams", "order", "expires")}
        out["expired"] = now() >= cb["expires"]
        out["streams"] = [dict(cb["streams"][i]) for i in cb["order"]]
        return out
