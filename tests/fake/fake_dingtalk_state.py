"""State of the fake DingTalk (tests/fake/fake_dingtalk.py): credentials, tickets,
access tokens, session webhooks, QPS windows, fault rules, the record of
everything the bot did, and the checks of its ACKs. Thread-safe (one lock);
no I/O here, so the HTTP thread and the WebSocket loop share it.

Protocol sources: tests/fake/README.md (section "Fake DingTalk");
the open-dingtalk developerpedia stream protocol page and the official SDKs.
"""

import base64
import binascii
import collections
import json
import secrets
import threading
import time
import urllib.parse
import uuid

TOPIC_ROBOT = "/v1.0/im/bot/messages/get"
CT_JSON = "application/json"


def now():
    return time.monotonic()


def wall_ms():
    return int(time.time() * 1000)


def request_id():
    return str(uuid.uuid4()).upper()


class ApiError(Exception):
    """An error answer of the new-style API: HTTP status + {code, message, requestid}."""

    def __init__(self, status, code, message):
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message

    def body(self):
        return {"code": self.code, "requestid": request_id(), "message": self.message}


# One-shot fault rules, consumed by the request they match. Connection faults
# (disconnect, reset, silent, ...) are actions, see fake_dingtalk.py.
RULE_KINDS = {
    "open_5xx",        # gateway open answers 5xx (status, default 500)
    "open_slow",       # gateway open answers after delay_s (default 5)
    "ticket_expired",  # the next ticket issued is already expired
    "qps",             # a QPS refusal (api, code) instead of the call
    "api_5xx",         # a robot/token API answers 5xx
    "file_5xx",        # GET /files/... answers 5xx (status, default 500)
    "file_truncate",   # GET /files/... sends the full Content-Length, half the bytes, closes
}
QPS_CODES = {
    "QpsLimitForApi": "Forbidden.AccessDenied.QpsLimitForApi",
    "QpsLimitForAppkeyAndApi": "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
}


class State:
    def __init__(self, args):
        self.lock = threading.Condition()
        self.client_id = args.client_id
        self.client_secret = args.client_secret
        self.robot_code = args.robot_code or args.client_id
        self.app_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "fake-dingtalk:" + args.client_id))
        self.corp_id = "dingfakecorp0000000001"
        self.bot_user_id = "$:LWCP_v1:$fakeBotUser0000000000000000"
        self.bot_nick = args.bot_nick
        self.ticket_ttl = args.ticket_ttl
        self.token_ttl = args.token_ttl
        self.webhook_ttl = args.webhook_ttl
        self.qps = args.qps
        self.file_url_ttl = args.file_url_ttl
        self.started = now()
        self.tickets = {}         # ticket -> {"expires", "used"}
        self.tokens = {}          # token -> expires (monotonic)
        self.current_token = None
        self.webhooks = {}        # session -> {"expires", "msg"}
        self.files = {}           # downloadCode -> a file a user sent (see new_file)
        self.file_urls = {}       # url id -> {"file", "expires", "signature"}
        self.qps_windows = collections.defaultdict(collections.deque)
        self.rules = []           # [{"id", "fault", "remaining", "fired", ...}]
        self.next_rule = 1
        self.invalid_staff = set(args.invalid_staff or [])
        self.flow_controlled = {}  # staff id -> remaining refusals
        self.log = []             # every event, in order
        self.sent = []            # what reached users, in order
        self.acks = []
        self.frames = {}          # messageId -> pushed frame info
        self.violations = []
        self.counters = collections.Counter()
        self.seq = 0
        self.msg_seq = 0

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

    # -- fault rules ------------------------------------------------------------
    def add_rule(self, rule):
        kind = rule.get("fault")
        if kind not in RULE_KINDS:
            raise ValueError("unknown fault rule %r" % (kind,))
        times = rule.get("times", 1)
        if times != "always" and (not isinstance(times, int) or times < 1):
            raise ValueError("times must be a positive integer or \"always\"")
        if kind == "qps" and rule.get("code", "QpsLimitForAppkeyAndApi") not in QPS_CODES:
            raise ValueError("qps code must be one of %s" % sorted(QPS_CODES))
        r = dict(rule)
        r["id"] = self.next_rule
        r["remaining"] = times
        r["fired"] = 0
        self.next_rule += 1
        self.rules.append(r)
        return r["id"]

    def take_rule(self, kind, api=None):
        """The first live rule of this kind (matching api, if it names one), consumed."""
        for r in self.rules:
            if r["fault"] != kind or r["remaining"] == 0:
                continue
            if api is not None and r.get("api", "*") not in ("*", api):
                continue
            if r["remaining"] != "always":
                r["remaining"] -= 1
            r["fired"] += 1
            return r
        return None

    # -- gateway ----------------------------------------------------------------
    def open_connection(self, body):
        """POST /v1.0/gateway/connections/open; returns the ticket or raises ApiError."""
        if not isinstance(body, dict):
            raise ApiError(400, "MissingParameter", "request body is not a JSON object")
        if body.get("clientId") != self.client_id or body.get("clientSecret") != self.client_secret:
            raise ApiError(401, "authFailed", "鉴权失败")
        subs = body.get("subscriptions")
        if not isinstance(subs, list) or not subs:
            raise ApiError(400, "MissingParameter", "subscriptions is mandatory")
        topics = []
        for s in subs:
            if not isinstance(s, dict) or s.get("type") not in ("EVENT", "CALLBACK") \
                    or not isinstance(s.get("topic"), str) or not s["topic"]:
                raise ApiError(400, "InvalidParameter", "subscriptions: bad item %r" % (s,))
            if s["type"] == "EVENT" and s["topic"] != "*":
                raise ApiError(400, "InvalidParameter", "EVENT subscriptions only support topic *")
            topics.append((s["type"], s["topic"]))
        ticket = str(uuid.uuid4())
        expires = now() + self.ticket_ttl
        expired = self.take_rule("ticket_expired")
        if expired:
            expires = now() - 1
        self.tickets[ticket] = {"expires": expires, "used": False, "topics": topics}
        return ticket, topics, bool(expired)

    def use_ticket(self, ticket):
        """None if the ticket opens a connection (it is then used up), else why not."""
        t = self.tickets.get(ticket)
        if t is None:
            return "unknown ticket"
        if t["used"]:
            return "ticket already used"
        if now() >= t["expires"]:
            return "ticket expired"
        t["used"] = True
        return None

    def ticket_topics(self, ticket):
        return self.tickets.get(ticket, {}).get("topics", [])

    # -- tokens -----------------------------------------------------------------
    def access_token(self, body):
        if not isinstance(body, dict) or body.get("appKey") != self.client_id \
                or body.get("appSecret") != self.client_secret:
            raise ApiError(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
        t = now()
        tok = self.current_token
        if tok is None or self.tokens.get(tok, 0) <= t:
            tok = secrets.token_hex(16)
            self.current_token = tok
        # While valid, the same token comes back with its lifetime renewed.
        self.tokens[tok] = t + self.token_ttl
        return tok, int(self.token_ttl)

    def check_token(self, tok):
        if not tok or self.tokens.get(tok, 0) <= now():
            raise ApiError(400, "InvalidAuthentication", "不合法的access_token")

    def expire_tokens(self):
        n = len(self.tokens)
        self.tokens.clear()
        self.current_token = None
        return n

    # -- QPS --------------------------------------------------------------------
    def check_qps(self, api):
        rule = self.take_rule("qps", api)
        if rule:
            code = QPS_CODES[rule.get("code", "QpsLimitForAppkeyAndApi")]
            raise ApiError(403, code, "调用频率超过限制，请稍后再试")
        if self.qps <= 0:
            return
        w = self.qps_windows[api]
        t = now()
        while w and w[0] <= t - 1.0:
            w.popleft()
        if len(w) >= self.qps:
            raise ApiError(403, QPS_CODES["QpsLimitForAppkeyAndApi"],
                           "调用频率超过限制，请稍后再试")
        w.append(t)

    # -- bot messages -----------------------------------------------------------
    def next_msg_ids(self):
        self.msg_seq += 1
        msg_id = "msgFAKE%08d%s==" % (self.msg_seq, secrets.token_hex(4))
        return msg_id

    def new_frame_id(self):
        self.msg_seq += 1
        return "%s_%d_%x_%x" % (secrets.token_hex(4), 900 + self.msg_seq % 100,
                                wall_ms(), self.msg_seq)

    def new_webhook(self, base_url, ttl):
        session = secrets.token_hex(16)
        expires_mono = now() + ttl
        expires_ms = wall_ms() + int(ttl * 1000)
        self.webhooks[session] = {"expires": expires_mono, "msg": None}
        return session, base_url + "/robot/sendBySession?session=" + session, expires_ms

    def expire_webhooks(self):
        for w in self.webhooks.values():
            w["expires"] = now() - 1
        return len(self.webhooks)

    # -- files users sent (msgtype "file") ----------------------------------------
    def new_file(self, f, msg_id, staff):
        """Store the file of a control message {"name", "data_b64", "code_ttl"?, "url_ttl"?};
        returns its entry (downloadCode, fileId, spaceId...). Raises ValueError."""
        if not isinstance(f, dict):
            raise ValueError("file must be an object {name, data_b64}")
        name = f.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError("file.name must be a non-empty string")
        try:
            data = base64.b64decode(f.get("data_b64", ""), validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise ValueError("file.data_b64 must be base64") from None
        code_ttl = float(f.get("code_ttl", 3600))
        url_ttl = float(f.get("url_ttl", self.file_url_ttl))
        # Real codes are long base64 strings ('+', '/', '='): a client must send them as is.
        code = base64.b64encode(secrets.token_bytes(48)).decode()
        entry = {"downloadCode": code, "fileName": name, "data": data,
                 "fileId": str(100000000000 + secrets.randbelow(900000000000)),
                 "spaceId": str(20000000000 + secrets.randbelow(80000000000)),
                 "expires": now() + code_ttl, "url_ttl": url_ttl, "msgId": msg_id,
                 "staffId": staff}
        self.files[code] = entry
        return entry

    def file_url(self, base_url, code):
        """A temporary download URL for a downloadCode, or ApiError."""
        f = self.files.get(code) if isinstance(code, str) else None
        if f is None or now() >= f["expires"]:
            # Code and message chosen; the page of the API lists no error codes.
            raise ApiError(400, "invalidParameter.downloadCode.invalid",
                           "The downloadCode is invalid or expired.")
        url_id = secrets.token_hex(16)
        sig = base64.b64encode(secrets.token_bytes(20)).decode()
        expires_s = int(time.time() + f["url_ttl"])
        self.file_urls[url_id] = {"file": f, "expires": now() + f["url_ttl"], "signature": sig}
        q = urllib.parse.urlencode({"Expires": expires_s, "OSSAccessKeyId": "LTAIfakeDingTalkOSS",
                                    "Signature": sig})
        return url_id, "%s/files/%s?%s" % (base_url, url_id, q)

    def file_for_url(self, url_id, q):
        """(status, why, file) for GET /files/<url_id>?<q>."""
        u = self.file_urls.get(url_id)
        if u is None:
            return 404, "NoSuchKey", None
        if q.get("Signature") != u["signature"]:
            return 403, "SignatureDoesNotMatch", u["file"]
        if now() >= u["expires"]:
            return 403, "AccessDenied", u["file"]
        return 200, None, u["file"]

    # -- ACK checks -------------------------------------------------------------
    def check_ack(self, conn_id, raw):
        """Check one client message (text frame) on connection conn_id; record it."""
        problems = []
        try:
            ack = json.loads(raw)
        except (ValueError, TypeError):
            ack = None
        if not isinstance(ack, dict):
            self.violation("ack_not_json", connection=conn_id, text=str(raw)[:200])
            return None
        headers = ack.get("headers")
        mid = headers.get("messageId") if isinstance(headers, dict) else None
        frame = self.frames.get(mid) if isinstance(mid, str) else None
        if not isinstance(ack.get("code"), int) or isinstance(ack.get("code"), bool):
            problems.append("code is not a number")
        if not isinstance(headers, dict):
            problems.append("no headers object")
        else:
            if not isinstance(mid, str):
                problems.append("headers.messageId missing")
            elif frame is None:
                problems.append("messageId matches no pushed frame")
            if headers.get("contentType") != CT_JSON:
                problems.append("headers.contentType is not application/json")
        if not isinstance(ack.get("message"), str):
            problems.append("message is not a string")
        data = ack.get("data")
        parsed = None
        ok_code = ack.get("code") == 200
        if not isinstance(data, str):
            problems.append("data is not a string")
        elif data or ok_code:
            # The Go SDK answers errors (404 no handler, 500) with data "".
            try:
                parsed = json.loads(data)
            except ValueError:
                problems.append("data is not a JSON string")
        if frame is not None:
            if frame["connection"] != conn_id:
                problems.append("ACK on another connection than the push")
            kind = frame["type"]
            if kind == "SYSTEM" and frame["topic"] == "ping":
                if not isinstance(parsed, dict) or parsed.get("opaque") != frame.get("opaque"):
                    problems.append("ping ACK does not echo the opaque")
            elif kind == "EVENT" and ok_code:
                if not isinstance(parsed, dict) or parsed.get("status") not in ("SUCCESS", "LATER"):
                    problems.append("event ACK data has no status SUCCESS|LATER")
            if frame["acked"] and frame["type"] != "SYSTEM":
                problems.append("frame ACKed twice")
        entry = {"connection": conn_id, "messageId": mid, "code": ack.get("code"),
                 "message": ack.get("message"), "data": data, "problems": problems,
                 "type": frame["type"] if frame else None,
                 "topic": frame["topic"] if frame else None,
                 "msgId": frame.get("msgId") if frame else None,
                 "time": now(), "wall_ms": wall_ms()}
        self.acks.append(entry)
        self.record("ack", **{k: v for k, v in entry.items() if k not in ("time", "wall_ms")})
        for p in problems:
            self.violation("ack", problem=p, connection=conn_id, messageId=mid)
        if frame is not None and not problems:
            status = parsed.get("status") if isinstance(parsed, dict) else None
            if frame["type"] == "EVENT" and (ack["code"] != 200 or status == "LATER"):
                frame["later"] = True
            else:
                frame["acked"] = True
                frame["acked_at"] = now()
        return entry

    def unacked(self):
        return [{"messageId": k, "type": f["type"], "topic": f["topic"], "msgId": f.get("msgId"),
                 "pushed": f["pushed"], "connection": f["connection"]}
                for k, f in self.frames.items()
                if not f["acked"] and f["type"] != "SYSTEM"]

    def pings_unanswered(self):
        return sum(1 for f in self.frames.values()
                   if f["type"] == "SYSTEM" and f["topic"] == "ping" and not f["acked"])

    # -- sends ------------------------------------------------------------------
    def add_sent(self, via, **fields):
        entry = {"index": len(self.sent), "via": via, "time": now(), "wall_ms": wall_ms()}
        entry.update(fields)
        self.sent.append(entry)
        self.record("sent", via=via, index=entry["index"])
        return entry

    def flow_control(self, staff_ids):
        flowed = []
        for s in staff_ids:
            n = self.flow_controlled.get(s, 0)
            if n:
                flowed.append(s)
                if n != "always":
                    self.flow_controlled[s] = n - 1
        return flowed
