"""Behaviour of the fake Bot API: update queue, long poll, sends, flood control, faults.

FakeTelegram owns all mutable state behind one lock. HTTP threads call
api_call() (one Bot API request) and the control_* methods; long polls wait on
a condition of that lock. Invariants:
  * queued update ids are contiguous (filtered updates never get an id), so the
    queue is a deque indexed by update_id - head;
  * a request is logged when it arrives (status null while it is pending);
  * only delivered sends count in the flood windows and appear in `sent`;
  * every 429 opens a retry window; a request covered by an open window is an
    early retry: it is answered 429 again and counted as a violation.
Semantics follow tdlib/telegram-bot-api Client.cpp and td TQueue (see the
module docstring of fake_telegram.py for the list and the deliberate gaps).
"""

import collections
import heapq
import itertools
import json
import math
import sys
import threading
import time

from fake_telegram_objects import (
    DEFAULT_ALLOWED, DELIVERABLE_FAULTS, FLOOD_DEFAULTS, NGINX_502, SUPERGROUP_ID_BASE,
    UPDATE_TYPES, ApiError, FloodWindows, MessageCache, Reply, UpdateBuilder,
    chat_type_for, check_commands, check_flood_config, dumps, int_arg, json_arg,
    make_chat, make_user, parse_chat_id, parse_html, text_length, validate_fault)

LONG_POLL_MAX_TIMEOUT = 50
LONG_POLL_WAIT_AFTER = 0.001    # batch updates arriving within 1 ms ...
LONG_POLL_MAX_DELAY = 0.002     # ... but answer at most 2 ms after the first one
CONFLICT_INTERVAL = 3.0         # one 409 per 3 s, later ones delayed by 3 s
FUTURE_OFFSET_SLACK = 10        # TQueue: offset > tail + 10 is "in the future"
MAX_QUEUE_EVENTS = 100000       # TQueue: offset < head - this is "in the past"
MESSAGE_MAX_AGE = 86400         # messages older than a day are never delivered
RAW_TEXT_MAX_BYTES = 1 << 15
MAX_TEXT_LENGTH = 4096
MAX_RESPONSE_BYTES = 1 << 22    # getUpdates stops adding updates past 4 MB
ASCII_SPACE = " \t\r\n\v\f"

WEBHOOK_CONFLICT = ("Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first")
POLL_CONFLICT = ("Conflict: terminated by other getUpdates request; "
                 "make sure that only one bot instance is running")
SETWEBHOOK_CONFLICT = "Conflict: terminated by setWebhook request"

METHODS = ("getMe", "getUpdates", "sendMessage", "setWebhook", "deleteWebhook",
           "getWebhookInfo", "setMyCommands", "getMyCommands", "deleteMyCommands",
           "answerCallbackQuery", "sendChatAction", "getFile")
METHOD_NAMES = {m.lower(): m for m in METHODS}   # method names are case-insensitive
SCENARIO_KEYS = {"description", "bot", "token", "first_update_id", "first_message_id",
                 "flood", "html_strict", "text_length_unit", "webhook", "chats",
                 "updates", "faults", "ok_methods", "allowed_updates"}


class LongPoll:
    """The one pending long poll (the server keeps at most one)."""

    def __init__(self, offset, limit, deadline):
        self.offset = offset
        self.limit = limit
        self.hard = deadline         # answer at this time at the latest
        self.woken_at = None         # first update arrival
        self.last_wake = None        # latest update arrival
        self.abort_msg = None        # 409 description when another call aborted it
        self.conflict_delay = 0.0


class FakeTelegram:
    """The whole fake server state; see the module docstring for the invariants."""

    def __init__(self, token, bot_id=1000, bot_username="campaign_test_bot",
                 bot_first_name="Campaign Test Bot", scenario=None, flood_mode=None,
                 log_limit=50000, first_update_id=None):
        self.lock = threading.Lock()
        self.poll_cond = threading.Condition(self.lock)   # long polls
        self.progress = threading.Condition(self.lock)    # /control/wait
        self.sched_cond = threading.Condition(self.lock)  # timed updates
        self.stopping = threading.Event()
        self.started = time.monotonic()
        self.cli = {"token": token, "bot_id": bot_id, "bot_username": bot_username,
                    "bot_first_name": bot_first_name, "flood_mode": flood_mode,
                    "first_update_id": first_update_id}
        self.scenario = scenario or {}
        unknown = set(self.scenario) - SCENARIO_KEYS
        if unknown:
            raise ValueError("unknown scenario keys: %s" % sorted(unknown))
        self.log_limit = log_limit
        self.next_update_id = 1
        self.next_message_id = 1
        self.callback_seq = itertools.count(1)
        self.fault_seq = itertools.count(1)
        self.sched_seq = itertools.count()
        self.poll = None              # the pending long poll, if any
        self.in_flight = 0            # getUpdates requests being answered
        with self.lock:
            self._reset_locked(True, None, initial=True)
        threading.Thread(target=self._scheduler, name="scheduler", daemon=True).start()

    # ------------------------------------------------------------------
    # configuration and reset
    # ------------------------------------------------------------------

    def _reset_locked(self, with_scenario, update_id, initial=False):
        scn = self.scenario if with_scenario else {}
        bot = scn.get("bot", {})
        self.token = scn.get("token") or self.cli["token"]
        self.bot_user = make_user(int(bot.get("id", self.cli["bot_id"])),
                                  bot.get("first_name", self.cli["bot_first_name"]),
                                  bot.get("username", self.cli["bot_username"]),
                                  is_bot=True)
        # ids keep growing across resets (a running bot must never see them go
        # back) unless the reset asks for a new first update_id
        if initial:
            first = self.cli["first_update_id"] or scn.get("first_update_id")
            self.next_update_id = int(first or 1)
            self.next_message_id = int(scn.get("first_message_id", 1))
        if update_id:
            self.next_update_id = int(update_id)
        self.queue = collections.deque()      # (update_id, type, json text)
        self.allowed = DEFAULT_ALLOWED
        if scn.get("allowed_updates") is not None:
            self.allowed = frozenset(scn["allowed_updates"]) or DEFAULT_ALLOWED
        self.prev_offset = None
        self.prev_start = -1e9
        if self.poll:
            self.poll.hard = 0                # answer the pending poll now
            self.poll_cond.notify_all()
        self.poll = None
        self.next_conflict = 0.0
        self.webhook_url = scn.get("webhook", "")
        self.next_set_webhook = 0.0
        self.commands = []
        self.chats = {}
        self.messages = MessageCache()
        self.sent = []
        self.log = collections.deque(maxlen=self.log_limit)
        self.log_seq = 0
        self.calls = collections.Counter()
        self.faults = []
        self.windows = []
        self.flood = dict(FLOOD_DEFAULTS)
        self.flood.update(scn.get("flood", {}))
        if self.cli["flood_mode"]:
            self.flood["mode"] = self.cli["flood_mode"]
        check_flood_config(self.flood)
        self.flood_windows = FloodWindows()
        self.violations = {"early_retry": 0, "flood": {"chat": 0, "group": 0, "global": 0},
                           "flood_refused": 0}
        self.html_strict = bool(scn.get("html_strict", True))
        self.length_unit = scn.get("text_length_unit", "utf16")
        self.ok_methods = {m.lower(): m for m in scn.get("ok_methods", [])}
        self.files = getattr(self, "files", {})
        self.schedule = []
        self.builder = UpdateBuilder(self, self.chats, self.messages, self.bot_user,
                                     lambda: int(time.time()))
        self._set_chats_locked(scn.get("chats", []))
        for rule in scn.get("faults", []):
            self._add_fault_locked(rule)
        self._add_updates_locked(scn.get("updates", []), time.monotonic())
        self.progress.notify_all()

    # ids handed to UpdateBuilder (called with the lock held)
    def new_message_id(self):
        mid = self.next_message_id
        self.next_message_id += 1
        return mid

    def new_callback_id(self):
        return "%d%06d" % (self.bot_user["id"], next(self.callback_seq))

    def stop(self):
        self.stopping.set()
        with self.lock:
            self.poll_cond.notify_all()
            self.progress.notify_all()
            self.sched_cond.notify_all()

    # ------------------------------------------------------------------
    # Bot API entry point
    # ------------------------------------------------------------------

    def api_call(self, token, method, params, client_gone):
        """Handle one /bot<token>/<method> request; returns (Reply, log entry)."""
        now = time.monotonic()
        key = method.lower()
        canonical = METHOD_NAMES.get(key) or self.ok_methods.get(key, method)
        chat_id = parse_chat_id(params.get("chat_id"))
        with self.lock:
            entry = {"seq": self.log_seq + 1, "time": now, "method": canonical,
                     "params": params, "status": None, "fault": None,
                     "early_retry": False, "flood": [], "delivered": False}
            if chat_id is not None:
                entry["chat_id"] = chat_id
            self.log_seq += 1
            self.log.append(entry)
            self.progress.notify_all()
            if token != self.token:
                return self._finish(entry, Reply.error(ApiError(401, "Unauthorized")))
            if canonical not in METHODS and key not in self.ok_methods:
                return self._finish(entry, Reply.error(
                    ApiError(404, "Not Found: method not found")))
            self.calls[canonical] += 1
            window = self._open_window(canonical, chat_id, now)
            if window:
                self.violations["early_retry"] += 1
                entry["early_retry"] = True
                n = max(1, math.ceil(window["until"] - now))
                return self._finish(entry, self._retry_reply(n))
            rule = self._match_fault(canonical, self.calls[canonical], chat_id)
        if rule:
            reply = self._apply_fault(rule, canonical, params, chat_id, entry, client_gone)
        else:
            reply = self._dispatch(canonical, params, entry, client_gone)
        with self.lock:
            return self._finish(entry, reply)

    def annotate(self, entry, **fields):
        with self.lock:
            entry.update(fields)

    def _finish(self, entry, reply):
        if reply.action in ("send", "truncate", "half_length", "mid_reset"):
            entry["status"] = reply.status
        if reply.description:
            entry["description"] = reply.description
        entry["duration_ms"] = round((time.monotonic() - entry["time"]) * 1000, 3)
        return reply, entry

    def _dispatch(self, method, params, entry, client_gone):
        handler = {
            "getMe": lambda: Reply.ok(self.bot_user_full()),
            "getUpdates": lambda: self._get_updates(params, entry, client_gone),
            "sendMessage": lambda: self._send_message(params, entry),
            "setWebhook": lambda: self._set_webhook(params, params.get("url", "")),
            "deleteWebhook": lambda: self._set_webhook(params, ""),
            "getWebhookInfo": self._webhook_info,
            "setMyCommands": lambda: self._set_commands(params),
            "getMyCommands": lambda: Reply.ok(self.commands),
            "deleteMyCommands": lambda: self._set_commands({"commands": "[]"}),
            "getFile": lambda: self._get_file(params),
        }.get(method, lambda: Reply.ok(True))
        try:
            return handler()
        except ApiError as err:
            return Reply.error(err)
        except (ValueError, TypeError, KeyError, AttributeError) as err:
            # a malformed parameter the checks above did not anticipate
            return Reply.error(ApiError(400, "Bad Request: %s" % err))

    # documents (issue 15): POST /control/files {"files": {file_id: base64}} stores
    # them; getFile answers a file_path (400 "file is too big" over 20 MB) and
    # GET /file/bot<token>/<file_path> serves the bytes.
    FILE_MAX = 20 * 1024 * 1024

    def control_files(self, files):
        import base64
        with self.lock:
            for file_id, data in files.items():
                self.files[file_id] = base64.b64decode(data)

    def _get_file(self, params):
        file_id = params.get("file_id") or ""
        data = self.files.get(file_id)
        if data is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(data) > self.FILE_MAX:
            raise ApiError(400, "Bad Request: file is too big")
        return Reply.ok({"file_id": file_id, "file_unique_id": "u" + file_id,
                         "file_size": len(data), "file_path": "documents/" + file_id})

    def file_bytes(self, token, path):
        if token != self.token or not path.startswith("documents/"):
            return None
        return self.files.get(path[len("documents/"):])

    def bot_user_full(self):
        user = dict(self.bot_user)
        user.update(can_join_groups=True, can_read_all_group_messages=False,
                    supports_inline_queries=False)
        return user

    # ------------------------------------------------------------------
    # 429 windows and faults
    # ------------------------------------------------------------------

    def _retry_reply(self, n):
        err = ApiError(429, "Too Many Requests: retry after %d" % n, {"retry_after": n})
        return Reply.error(err, headers={"Retry-After": str(n)})

    def _too_many(self, seconds, method, chat_id, scope):
        """429 that opens a retry window (lock held)."""
        n = max(1, math.ceil(seconds - 1e-9))
        self.windows.append({"until": time.monotonic() + n, "method": method,
                             "chat_id": chat_id, "scope": scope or self.flood["pause_scope"]})
        return self._retry_reply(n)

    def _open_window(self, method, chat_id, now):
        """The retry window this request violates, if any (lock held).

        scope "all": any request of the refused method, and any chat-bound
        request after a chat-bound 429 (the "pause all sends" rule);
        scope "chat": the same method to the same chat only."""
        self.windows = [w for w in self.windows if w["until"] > now]
        for w in self.windows:
            if w["scope"] == "all":
                if method == w["method"] or (chat_id is not None and w["chat_id"] is not None):
                    return w
            elif method == w["method"] and chat_id == w["chat_id"]:
                return w
        return None

    def _match_fault(self, method, nth, chat_id):
        for rule in self.faults:
            if rule["remaining"] == 0:
                continue
            if rule["method"] != "*" and rule["method"].lower() != method.lower():
                continue
            call = rule.get("call")
            if call is not None and nth not in (call if isinstance(call, list) else [call]):
                continue
            if "chat_id" in rule and parse_chat_id(str(rule["chat_id"])) != chat_id:
                continue
            if rule["remaining"] != "always":
                rule["remaining"] -= 1
            rule["fired"] += 1
            return dict(rule)
        return None

    def _apply_fault(self, rule, method, params, chat_id, entry, client_gone):
        kind = str(rule["fault"])
        with self.lock:
            entry["fault"] = kind
            entry["fault_id"] = rule["id"]
        if kind == "delay":
            self.stopping.wait(rule.get("ms", 1000) / 1000.0)
            return self._dispatch(method, params, entry, client_gone)
        normal = None
        if rule.get("delivered") and kind in DELIVERABLE_FAULTS:
            normal = self._dispatch(method, params, entry, client_gone)
        if kind == "429":
            with self.lock:
                return self._too_many(rule.get("retry_after", 5), method, chat_id,
                                      rule.get("scope"))
        simple = {"409": (409, POLL_CONFLICT), "401": (401, "Unauthorized"),
                  "403": (403, "Forbidden: bot was blocked by the user"),
                  "400": (400, "Bad Request: injected by fake server"),
                  "500": (int(rule.get("status", 500)), "Internal Server Error")}
        if kind in simple:
            code, desc = simple[kind]
            return Reply.error(ApiError(code, rule.get("description", desc)))
        if kind == "400_migrate":
            to = int(rule.get("migrate_to_chat_id") or
                     SUPERGROUP_ID_BASE - abs(chat_id if isinstance(chat_id, int) else 1))
            return Reply.error(ApiError(
                400, "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": to}))
        if kind == "502_html":
            status = int(rule.get("status", 502))
            return Reply(status, NGINX_502.format(status=status).encode(), "text/html")
        if kind == "bad_json":
            return Reply(200, rule.get("body", "<html>ok: this is not JSON").encode())
        if kind == "hang":
            return Reply(action="hang", hang_max_s=rule.get("max_s"))
        body = normal.body if normal and normal.status == 200 else self._placeholder(
            method, chat_id, params)
        if kind == "truncated_json":
            action = "half_length" if rule.get("variant") == "half_length" else "truncate"
            return Reply(200, body, action=action)
        # reset
        if rule.get("when") == "mid_body":
            return Reply(200, body, action="mid_reset")
        return Reply(action="reset")

    def _placeholder(self, method, chat_id, params):
        """A plausible success body to cut short when the call was not delivered."""
        if method == "sendMessage":
            result = {"message_id": 0, "from": self.bot_user,
                      "chat": make_chat(chat_id, self.chats.get(chat_id)),
                      "date": int(time.time()), "text": params.get("text", "")}
        elif method == "getUpdates":
            result = [{"update_id": self.next_update_id, "message": {
                "message_id": 0, "date": int(time.time()), "text": "x" * 64}}]
        else:
            result = True
        return dumps({"ok": True, "result": result}).encode()

    # ------------------------------------------------------------------
    # getUpdates
    # ------------------------------------------------------------------

    def _conflict_delay(self, now):
        """fail_query_conflict(): answer now, or 3 s later if one went out < 3 s ago."""
        if now >= self.next_conflict:
            self.next_conflict = now + CONFLICT_INTERVAL
            return 0.0
        return CONFLICT_INTERVAL

    def _conflict_reply(self, message, delay):
        if delay:
            self.stopping.wait(delay)
        return Reply.error(ApiError(409, message))

    def _get_updates(self, params, entry, client_gone):
        with self.lock:
            self.in_flight += 1
        try:
            return self._get_updates_inner(params, entry, client_gone)
        finally:
            with self.lock:
                self.in_flight -= 1
                self.progress.notify_all()

    def _get_updates_inner(self, params, entry, client_gone):
        offset = int_arg(params, "offset", 0)
        limit = int_arg(params, "limit", 100, 1, 100)
        timeout = int_arg(params, "timeout", 0, 0, LONG_POLL_MAX_TIMEOUT)
        with self.lock:
            now = time.monotonic()
            if self.webhook_url:
                delay = self._conflict_delay(now)
                msg = WEBHOOK_CONFLICT
            else:
                self._update_allowed(params.get("allowed_updates", ""))
                if offset == self.prev_offset and timeout < 3 and now < self.prev_start + 3.0:
                    timeout = 3
                if offset == self.prev_offset and now < self.prev_start + 0.5:
                    limit = 1
                self.prev_offset, self.prev_start = offset, now
                entry.update(effective_timeout=timeout, effective_limit=limit)
                offset, batch = self._collect(offset, limit)
                if batch or timeout == 0:
                    return self._updates_reply(batch, entry)
                if self.poll:
                    self._abort_poll(POLL_CONFLICT, now)
                poll = self.poll = LongPoll(offset, limit, now + timeout)
                self.progress.notify_all()
                gone = self._wait_poll(poll, client_gone)
                if self.poll is poll:
                    self.poll = None
                    self.progress.notify_all()
                if gone:
                    entry["client_gone"] = True
                    return Reply(action="close")
                if poll.abort_msg is None:
                    return self._updates_reply(self._collect(poll.offset, poll.limit)[1], entry)
                delay, msg = poll.conflict_delay, poll.abort_msg
        return self._conflict_reply(msg, delay)

    def _wait_poll(self, poll, client_gone):
        """Block (lock held) until the poll is due; True if the client went away."""
        last_check = time.monotonic()
        while poll.abort_msg is None:
            now = time.monotonic()
            due = poll.hard if poll.woken_at is None else min(
                poll.last_wake + LONG_POLL_WAIT_AFTER, poll.hard)
            if now >= due:
                return False
            if self.stopping.is_set():
                return True
            if poll.woken_at is None and now - last_check >= 0.25:
                last_check = now
                if client_gone():
                    return True
            self.poll_cond.wait(min(due - now, 0.25))
        return False

    def _abort_poll(self, message, now):
        self.poll.abort_msg = message
        self.poll.conflict_delay = self._conflict_delay(now)
        self.poll = None
        self.poll_cond.notify_all()

    def _update_allowed(self, raw):
        """get_allowed_update_types(): omitted or malformed keeps the old setting."""
        if raw == "":
            return
        try:
            value = json.loads(raw)
        except ValueError:
            return
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return
        chosen = frozenset(v.lower() for v in value) & frozenset(UPDATE_TYPES)
        self.allowed = chosen or DEFAULT_ALLOWED

    def _collect(self, offset, limit):
        """do_get_updates() + TQueue::get(): confirm below offset, return a batch."""
        tail = self.next_update_id
        head = self.queue[0][0] if self.queue else tail
        if offset <= 0:
            if offset < 0:
                offset += tail
            offset = max(offset, head)
        if offset > tail + FUTURE_OFFSET_SLACK or offset < head - MAX_QUEUE_EVENTS:
            start = head                      # invalid offset: from the head
        else:
            start = offset
            confirmed = False
            while self.queue and self.queue[0][0] < start:
                self.queue.popleft()
                confirmed = True
            if confirmed:
                self.progress.notify_all()
        head = self.queue[0][0] if self.queue else tail
        first = max(0, start - head)
        batch, size = [], 0
        for item in itertools.islice(self.queue, first, first + limit):
            size += 50 + len(item[2])
            if size > MAX_RESPONSE_BYTES:
                break
            batch.append(item)
        return start, batch

    def _updates_reply(self, batch, entry):
        entry["updates"] = len(batch)
        if batch:
            entry["first_update_id"] = batch[0][0]
            entry["last_update_id"] = batch[-1][0]
        body = '{"ok":true,"result":[' + ",".join(b[2] for b in batch) + "]}"
        return Reply(200, body.encode())

    # ------------------------------------------------------------------
    # webhook and commands
    # ------------------------------------------------------------------

    def _set_webhook(self, params, url):
        drop = params.get("drop_pending_updates", "").lower() in ("true", "1")
        with self.lock:
            now = time.monotonic()
            if url:
                if now < self.next_set_webhook:
                    return self._too_many(1, "setWebhook", None, "chat")
                self.next_set_webhook = now + 1
                if not url.lower().startswith("https://"):
                    raise ApiError(400, "Bad Request: bad webhook: "
                                        "HTTPS url must be provided for webhook")
            if url == self.webhook_url and not drop:
                return Reply.ok(True, "Webhook is already set" if url
                                else "Webhook is already deleted")
            if drop:
                self.queue.clear()
                self.progress.notify_all()
            if url:
                self._update_allowed(params.get("allowed_updates", ""))
                if self.poll:
                    self._abort_poll(SETWEBHOOK_CONFLICT, now)
            was = self.webhook_url
            self.webhook_url = url
        if url:
            return Reply.ok(True, "Webhook was set")
        return Reply.ok(True, "Webhook was deleted" if was else "Webhook is already deleted")

    def _webhook_info(self):
        with self.lock:
            info = {"url": self.webhook_url, "has_custom_certificate": False,
                    "pending_update_count": len(self.queue)}
            if self.allowed != DEFAULT_ALLOWED:
                info["allowed_updates"] = sorted(self.allowed)
        return Reply.ok(info)

    def _set_commands(self, params):
        commands = check_commands(json_arg(params, "commands", "commands") or [])
        with self.lock:
            self.commands = commands
        return Reply.ok(True)

    # ------------------------------------------------------------------
    # sendMessage
    # ------------------------------------------------------------------

    def _send_message(self, params, entry):
        raw_chat = params.get("chat_id", "")
        if raw_chat == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat_id = parse_chat_id(raw_chat)
        if chat_id is None or chat_id == 0:
            raise ApiError(400, "Bad Request: chat not found")
        text = params.get("text", "")
        if len(text.encode("utf-8", "surrogatepass")) > RAW_TEXT_MAX_BYTES:
            raise ApiError(400, "Bad Request: text is too long")
        parse_mode = params.get("parse_mode", "")
        if parse_mode.lower() == "html":
            plain, entities = parse_html(text, self.html_strict)
        elif parse_mode.lower() in ("", "markdown", "markdownv2"):
            plain, entities = text, []      # Markdown is accepted, not validated
        else:
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        explicit = json_arg(params, "entities", "message entities")
        if explicit:
            entities = explicit
        if not plain.strip(ASCII_SPACE):
            raise ApiError(400, "Bad Request: message text is empty")
        reply_to = int_arg(params, "reply_to_message_id", 0) or None
        reply_parameters = json_arg(params, "reply_parameters", "reply parameters")
        if isinstance(reply_parameters, dict) and reply_parameters.get("message_id"):
            reply_to = int(reply_parameters["message_id"])
        preview = json_arg(params, "link_preview_options", "link preview options")
        markup = json_arg(params, "reply_markup", "reply keyboard markup")

        with self.lock:
            info = self.chats.get(chat_id, {})
            if info.get("blocked"):
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if info.get("kicked"):
                raise ApiError(403, "Forbidden: bot was kicked from the group chat")
            if info.get("deactivated"):
                raise ApiError(403, "Forbidden: user is deactivated")
            if info.get("migrated_to"):
                raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                               {"migrate_to_chat_id": info["migrated_to"]})
            if text_length(plain.strip(ASCII_SPACE), self.length_unit) > MAX_TEXT_LENGTH:
                raise ApiError(400, "Bad Request: message is too long")
            now = time.monotonic()
            is_group = (info.get("type") or chat_type_for(chat_id)) != "private"
            hits = self.flood_windows.hits(chat_id, is_group, now, self.flood)
            if hits:
                entry["flood"] = [name for name, _ in hits]
                for name, _ in hits:
                    self.violations["flood"][name] += 1
                if self.flood["mode"] == "enforce":
                    self.violations["flood_refused"] += 1
                    return self._too_many(max(w for _, w in hits), "sendMessage", chat_id, None)
            self.flood_windows.record(chat_id, is_group, now, self.flood)
            msg = {"message_id": self.new_message_id(), "from": self.bot_user,
                   "chat": make_chat(chat_id, info), "date": int(time.time()), "text": plain}
            if entities:
                msg["entities"] = entities
            if reply_to:
                msg["reply_to_message"] = self.messages.get(chat_id, reply_to) or {
                    "message_id": reply_to, "chat": msg["chat"], "date": msg["date"]}
            if isinstance(preview, dict) and preview:
                msg["link_preview_options"] = preview
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                msg["reply_markup"] = markup
            self.messages.put(chat_id, msg["message_id"], msg)
            record = {"index": len(self.sent), "message_id": msg["message_id"],
                      "chat_id": chat_id, "text": text, "plain": plain,
                      "parse_mode": parse_mode or None, "reply_to": reply_to,
                      "time": now, "fault": entry["fault"], "flood": entry["flood"]}
            if markup is not None:
                record["reply_markup"] = markup
            if params.get("disable_web_page_preview") or preview:
                record["link_preview"] = preview or {
                    "is_disabled": params["disable_web_page_preview"] in ("true", "1")}
            self.sent.append(record)
            entry["delivered"] = True
            entry["message_id"] = msg["message_id"]
            self.progress.notify_all()
        return Reply.ok(msg)

    # ------------------------------------------------------------------
    # incoming updates
    # ------------------------------------------------------------------

    def _add_updates_locked(self, specs, base):
        """Enqueue now, or schedule those with "at" (seconds after `base`)."""
        result = []
        for spec in specs:
            if not isinstance(spec, dict):
                raise ValueError("an update is a JSON object")
            at = float(spec.get("at", 0) or 0)
            if at > 0:
                heapq.heappush(self.schedule, (base + at, next(self.sched_seq), spec))
                self.sched_cond.notify_all()
                result.append({"scheduled_at": base + at})
                continue
            for kind, obj in self.builder.build(spec):
                result.append(self._enqueue(kind, obj))
        return result

    def _enqueue(self, kind, obj):
        if kind not in self.allowed:
            return {"update_id": None, "dropped": "not in allowed_updates"}
        body = obj[kind]
        if kind in ("message", "edited_message") and isinstance(body, dict):
            date = body.get("edit_date") or body.get("date")
            if date and date < time.time() - MESSAGE_MAX_AGE:
                return {"update_id": None, "dropped": "older than 24 h"}
            self._learn_chat(body)
        uid = self.next_update_id
        self.next_update_id += 1
        update = {"update_id": uid}
        update.update(obj)
        self.queue.append((uid, kind, dumps(update)))
        poll = self.poll
        if poll is not None:
            now = time.monotonic()
            if poll.woken_at is None:
                poll.woken_at = now
                poll.hard = min(now + LONG_POLL_MAX_DELAY, poll.hard)
            poll.last_wake = now
            self.poll_cond.notify_all()
        self.progress.notify_all()
        return {"update_id": uid, "type": kind}

    def _learn_chat(self, message):
        """Remember chat names from incoming messages, and migrations."""
        chat = message.get("chat") or {}
        cid = chat.get("id")
        if cid is None:
            return
        info = self.chats.setdefault(cid, {})
        for key in ("type", "title", "first_name", "username"):
            if chat.get(key):
                info.setdefault(key, chat[key])
        if message.get("migrate_to_chat_id"):
            new = message["migrate_to_chat_id"]
            info["migrated_to"] = new
            self.chats.setdefault(new, {"type": "supergroup", "title": chat.get("title")})

    def _scheduler(self):
        with self.lock:
            while not self.stopping.is_set():
                now = time.monotonic()
                while self.schedule and self.schedule[0][0] <= now:
                    _, _, spec = heapq.heappop(self.schedule)
                    spec = {k: v for k, v in spec.items() if k != "at"}
                    try:
                        self._add_updates_locked([spec], now)
                    except (ValueError, KeyError, TypeError) as err:
                        print("fake-telegram: bad scheduled update %r: %s" % (spec, err),
                              file=sys.stderr)
                wait = self.schedule[0][0] - now if self.schedule else 1.0
                self.sched_cond.wait(min(max(wait, 0.0005), 1.0))

    # ------------------------------------------------------------------
    # control API
    # ------------------------------------------------------------------

    def control_updates(self, specs):
        with self.lock:
            return self._add_updates_locked(specs, time.monotonic())

    def control_faults(self, rules):
        with self.lock:
            return [self._add_fault_locked(r) for r in rules]

    def _add_fault_locked(self, rule):
        validate_fault(rule)
        rule = dict(rule, id=next(self.fault_seq), fired=0, fault=str(rule["fault"]))
        rule["remaining"] = rule.get("times", 1)
        self.faults.append(rule)
        return rule["id"]

    def clear_faults(self):
        with self.lock:
            self.faults = []

    def control_chats(self, items):
        with self.lock:
            self._set_chats_locked(items)

    def _set_chats_locked(self, items):
        keys = {"chat_id", "blocked", "kicked", "deactivated", "migrated_to", "type",
                "title", "username", "first_name", "forget"}
        for item in items:
            if not isinstance(item, dict) or "chat_id" not in item:
                raise ValueError("each chat needs chat_id")
            unknown = set(item) - keys
            if unknown:
                raise ValueError("unknown chat keys: %s" % sorted(unknown))
            cid = item["chat_id"]
            cid = parse_chat_id(str(cid)) if not isinstance(cid, int) else cid
            if item.get("forget"):
                self.chats.pop(cid, None)
                continue
            info = self.chats.setdefault(cid, {})
            for key, value in item.items():
                if key == "chat_id":
                    continue
                if value is None or value is False:
                    info.pop(key, None)
                else:
                    info[key] = value

    def control_flood(self, cfg):
        with self.lock:
            new = dict(self.flood)
            new.update(cfg)
            check_flood_config(new)
            self.flood = new
            return dict(new)

    def control_reset(self, with_scenario=True, update_id=None):
        with self.lock:
            self._reset_locked(with_scenario, update_id)

    def sent_since(self, since=0, chat_id=None):
        with self.lock:
            items = self.sent[since:]
            total = len(self.sent)
        if chat_id is not None:
            items = [s for s in items if s["chat_id"] == chat_id]
        return total, items

    def log_since(self, since=0, limit=None, method=None, violations=False):
        with self.lock:
            first = self.log[0]["seq"] if self.log else self.log_seq + 1
            start = max(0, since + 1 - first)
            out = []
            for e in itertools.islice(self.log, start, None):
                if method and e["method"] != method:
                    continue
                if violations and not (e["early_retry"] or e["flood"]):
                    continue
                out.append(dict(e))
                if limit and len(out) >= limit:
                    break
            return {"next": out[-1]["seq"] if out else max(since, first - 1),
                    "evicted": first - 1, "entries": out}

    def state(self):
        with self.lock:
            return self._state_locked()

    def _state_locked(self):
        head = self.queue[0][0] if self.queue else self.next_update_id
        return {
            "pending_updates": len(self.queue),
            "next_update_id": self.next_update_id,
            "confirmed_offset": head,   # every update_id below this is confirmed
            "webhook": self.webhook_url or None,
            "get_updates_in_flight": self.in_flight,
            "long_poll_waiting": self.poll is not None,
            "allowed_updates": sorted(self.allowed),
            "sent": len(self.sent),
            "requests": self.log_seq,
            "calls": dict(self.calls),
            "violations": json.loads(json.dumps(self.violations)),
            "open_retry_windows": len([w for w in self.windows
                                       if w["until"] > time.monotonic()]),
            "faults": [dict(r) for r in self.faults],
            "chats": {str(k): dict(v) for k, v in self.chats.items()},
            "commands": self.commands,
            "flood": dict(self.flood),
            "scheduled_updates": len(self.schedule),
            "uptime": round(time.monotonic() - self.started, 3),
        }

    def wait(self, timeout, sent=None, confirmed=None, requests=None, polling=None):
        """Block until every given condition holds (or timeout); return (ok, state)."""
        deadline = time.monotonic() + min(max(timeout, 0.0), 300.0)

        def done():
            head = self.queue[0][0] if self.queue else self.next_update_id
            return ((sent is None or len(self.sent) >= sent)
                    and (confirmed is None or head > confirmed)
                    and (requests is None or self.log_seq >= requests)
                    and (polling is None or (self.poll is not None) == bool(polling)))
        with self.lock:
            while not done():
                left = deadline - time.monotonic()
                if left <= 0 or self.stopping.is_set():
                    break
                self.progress.wait(min(left, 0.5))
            return done(), self._state_locked()
