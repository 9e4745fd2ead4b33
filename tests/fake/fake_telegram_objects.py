"""Bot API rules and objects for the fake Telegram server.

This module holds the rules that need no lock and no I/O (FloodWindows and
MessageCache keep data, but the caller serialises access):
  * UTF-16 length and offsets (Telegram counts entity offsets in UTF-16 units);
  * the parse_mode=HTML parser, a port of TDLib's parse_html() (same accepted
    tags, same entity decoding, same error texts) plus an optional strict mode;
  * the error body shape shared by every failure, and Reply (what to write);
  * the vocabulary and validation of fault rules;
  * request parameters read as the server reads them (integers, chat ids, JSON);
  * flood-control sliding windows;
  * builders that expand the short update forms used by scenarios and by
    POST /control/updates into real Bot API Update objects.
"""

import collections
import json
import re

# Update types known to the Bot API (getUpdates allowed_updates vocabulary).
UPDATE_TYPES = (
    "message", "edited_message", "channel_post", "edited_channel_post",
    "business_connection", "business_message", "edited_business_message",
    "deleted_business_messages", "message_reaction", "message_reaction_count",
    "inline_query", "chosen_inline_result", "callback_query", "shipping_query",
    "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer",
    "my_chat_member", "chat_member", "chat_join_request", "chat_boost",
    "removed_chat_boost",
)
# Server default when allowed_updates was never given or was an empty list.
DEFAULT_ALLOWED = frozenset(UPDATE_TYPES) - {
    "chat_member", "message_reaction", "message_reaction_count"}

SUPERGROUP_ID_BASE = -1000000000000  # supergroup/channel ids look like -100xxxxxxxxxx
MESSAGE_CACHE_SIZE = 5000
FLOOD_DEFAULTS = {"mode": "enforce", "per_chat": [1, 1.0], "per_group": [20, 60.0],
                  "global": [30, 1.0], "pause_scope": "all"}


class ApiError(Exception):
    """A Bot API failure: becomes {"ok":false,"error_code":...} on the wire."""

    def __init__(self, code, description, parameters=None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def error_body(code, description, parameters=None):
    """The exact error shape of the Bot API server (Query.cpp)."""
    body = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def dumps(obj):
    """Compact JSON, UTF-8 kept as is (the real server does not escape it)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


class Reply:
    """What the HTTP layer must write. action: send | close | reset | truncate |
    half_length | mid_reset | hang (see fake_telegram.Handler.write_reply)."""

    def __init__(self, status=200, body=b"", content_type="application/json",
                 headers=None, action="send", description=None, hang_max_s=None):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}
        self.action = action
        self.description = description
        self.hang_max_s = hang_max_s

    @classmethod
    def ok(cls, result, description=None):
        body = {"ok": True, "result": result}
        if description:
            body["description"] = description
        return cls(200, dumps(body).encode())

    @classmethod
    def error(cls, err, headers=None):
        body = error_body(err.code, err.description, err.parameters)
        return cls(err.code, dumps(body).encode(), headers=headers,
                   description=err.description)


# --------------------------------------------------------------------------
# Fault rules (scenario "faults" and POST /control/faults)
# --------------------------------------------------------------------------

FAULT_KINDS = ("429", "409", "401", "403", "400", "400_migrate", "500", "502_html",
               "truncated_json", "reset", "hang", "delay", "bad_json")
DELIVERABLE_FAULTS = ("500", "502_html", "truncated_json", "reset", "hang", "bad_json")
FAULT_KEYS = {"method", "fault", "call", "chat_id", "times", "retry_after", "scope",
              "description", "migrate_to_chat_id", "status", "delivered", "variant",
              "when", "ms", "body", "max_s", "comment"}
NGINX_502 = ("<html>\r\n<head><title>{status} Bad Gateway</title></head>\r\n<body>\r\n"
             "<center><h1>{status} Bad Gateway</h1></center>\r\n"
             "<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n")


def validate_fault(rule):
    if not isinstance(rule, dict):
        raise ValueError("a fault rule is a JSON object")
    unknown = set(rule) - FAULT_KEYS
    if unknown:
        raise ValueError("unknown fault rule keys: %s" % sorted(unknown))
    if not isinstance(rule.get("method"), str):
        raise ValueError("fault rule needs \"method\" (a Bot API method or \"*\")")
    if str(rule.get("fault")) not in FAULT_KINDS:
        raise ValueError("fault must be one of %s" % ", ".join(FAULT_KINDS))
    for key, allowed in (("variant", ("short_read", "half_length")),
                         ("when", ("before_response", "mid_body")),
                         ("scope", ("all", "chat"))):
        if key in rule and rule[key] not in allowed:
            raise ValueError("%s must be one of %s" % (key, ", ".join(allowed)))
    times = rule.get("times", 1)
    if times != "always" and not (isinstance(times, int) and times >= 1):
        raise ValueError("times must be a positive integer or \"always\"")


# --------------------------------------------------------------------------
# UTF-16 helpers
# --------------------------------------------------------------------------

def utf16_len(text):
    """Length in UTF-16 code units: astral characters (emoji) count twice."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def text_length(text, unit):
    """Message length as the fake counts it: "utf16" (default) or "codepoints"."""
    return len(text) if unit == "codepoints" else utf16_len(text)


# --------------------------------------------------------------------------
# parse_mode=HTML: a port of TDLib td/telegram/MessageEntity.cpp parse_html()
# --------------------------------------------------------------------------

HTML_TAGS = frozenset((
    "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
    "tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote"))
_SIMPLE_ENTITY = {
    "i": "italic", "em": "italic", "b": "bold", "strong": "bold",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "u": "underline", "ins": "underline", "tg-spoiler": "spoiler",
    "blockquote": "blockquote"}
_NAMED_HTML_ENTITIES = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}
_SPACE = b" \t\r\n\v\0"      # td::is_space(); NUL stops every scan
_PAD = b"\0" * 16             # sentinel: the C code reads past the end freely


def _decode_html_entity(data, pos):
    """Return (code point, next position) or (0, pos) if '&' is a literal."""
    end = pos + 1
    res = 0
    if data[pos + 1] == 0x23:  # '#': numeric character reference
        end += 1
        if data[pos + 2] == 0x78:  # 'x' (lowercase only, as in TDLib)
            end += 1
            while chr(data[end]) in "0123456789abcdefABCDEF":
                res = res * 16 + int(chr(data[end]), 16)
                end += 1
        else:
            while 0x30 <= data[end] <= 0x39:
                res = res * 10 + data[end] - 0x30
                end += 1
        if res == 0 or res >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while chr(data[end]).isascii() and chr(data[end]).isalpha():
            end += 1
        name = bytes(data[pos + 1:end])
        if name not in _NAMED_HTML_ENTITIES:
            return 0, pos
        res = ord(_NAMED_HTML_ENTITIES[name])
    if data[end] == 0x3B:  # ';' is optional, as in TDLib
        end += 1
    return res, end


def _utf8(code):
    return chr(code).encode("utf-8", "surrogatepass")


def parse_html(text, strict=True):
    """Parse Telegram HTML; return (plain_text, entities) or raise ApiError.

    The rules and messages follow TDLib. Differences, on purpose: strict=True
    also refuses a '&' that does not start a supported entity (TDLib keeps it
    as a literal character), so escaping bugs surface in tests.
    """
    def fail(msg):
        raise ApiError(400, "Bad Request: can't parse entities: " + msg)

    raw = text.encode("utf-8", "surrogatepass")
    n = len(raw)
    data = raw + _PAD
    out = bytearray()
    utf16 = 0
    nested = []      # [tag, argument, utf16 offset, byte position in out]
    entities = []
    has_surrogate = False
    i = 0
    while i < n:
        c = data[i]
        if c == 0x26:  # '&'
            code, nxt = _decode_html_entity(data, i)
            if code:
                utf16 += 1 + (code > 0xFFFF)
                has_surrogate |= 0xD800 <= code <= 0xDFFF
                out += _utf8(code)
                i = nxt
                continue
            if strict:
                fail('Unescaped "&" at byte offset %d (fake server strict mode: '
                     'write &amp;)' % i)
        if c != 0x3C:  # not '<'
            if c & 0xC0 != 0x80:  # first byte of a UTF-8 character
                utf16 += 1 + (c >= 0xF0)
            out.append(c)
            i += 1
            continue

        begin = i
        i += 1
        if data[i] != 0x2F:  # start tag
            while data[i] not in _SPACE and data[i] != 0x3E:
                i += 1
            if data[i] == 0:
                fail("Unclosed start tag at byte offset %d" % begin)
            tag = data[begin + 1:i].decode("utf-8", "replace").lower()
            if tag not in HTML_TAGS:
                fail('Unsupported start tag "%s" at byte offset %d' % (tag, begin))
            argument = ""
            while data[i] != 0x3E:
                while data[i] != 0 and data[i] in _SPACE:
                    i += 1
                if data[i] == 0x3E:
                    break
                attr_begin = i
                while data[i] not in _SPACE and data[i] != 0x3D:
                    i += 1
                attr = data[attr_begin:i].decode("utf-8", "replace")
                if not attr:
                    fail('Empty attribute name in the tag "%s" at byte offset %d'
                         % (tag, begin))
                while data[i] != 0 and data[i] in _SPACE:
                    i += 1
                if data[i] != 0x3D:
                    fail('Expected equal sign in declaration of an attribute of '
                         'the tag "%s" at byte offset %d' % (tag, begin))
                i += 1
                while data[i] != 0 and data[i] in _SPACE:
                    i += 1
                if data[i] == 0:
                    fail('Unclosed start tag "%s" at byte offset %d' % (tag, begin))
                if data[i] not in b"'\"":  # a name token
                    token_begin = i
                    while chr(data[i]).isascii() and (chr(data[i]).isalnum()
                                                      or data[i] in b".-"):
                        i += 1
                    value = data[token_begin:i].decode().lower()
                    if data[i] not in _SPACE and data[i] != 0x3E:
                        fail("Unexpected end of name token at byte offset %d"
                             % token_begin)
                else:  # a string literal
                    quote = data[i]
                    i += 1
                    val = bytearray()
                    while data[i] != quote and data[i] != 0:
                        if data[i] == 0x26:
                            code, nxt = _decode_html_entity(data, i)
                            if code:
                                val += _utf8(code)
                                i = nxt
                                continue
                        val.append(data[i])
                        i += 1
                    if data[i] == quote:
                        i += 1
                    value = val.decode("utf-8", "replace")
                if data[i] == 0:
                    fail("Unclosed start tag at byte offset %d" % begin)
                if tag == "a" and attr == "href":
                    argument = value
                elif tag == "code" and attr == "class" and value.startswith("language-"):
                    argument = value[9:]
                elif tag == "span" and attr == "class" and value.startswith("tg-"):
                    argument = value[3:]
                elif tag == "tg-emoji" and attr == "emoji-id":
                    argument = value
            if tag == "span" and argument != "spoiler":
                fail('Tag "span" must have class "tg-spoiler" at byte offset %d' % begin)
            nested.append([tag, argument, utf16, len(out)])
            i += 1  # skip '>'
            continue

        # end tag
        if not nested:
            fail("Unexpected end tag at byte offset %d" % begin)
        while data[i] not in _SPACE and data[i] != 0x3E:
            i += 1
        end_tag = data[begin + 2:i].decode("utf-8", "replace").lower()
        while data[i] in _SPACE and data[i] != 0:
            i += 1
        if data[i] != 0x3E:
            fail("Unclosed end tag at byte offset %d" % begin)
        tag, argument, offset, out_pos = nested.pop()
        if end_tag and end_tag != tag:
            fail('Unmatched end tag at byte offset %d, expected "</%s>", found "</%s>"'
                 % (begin, tag, end_tag))
        if utf16 > offset:
            entity = _html_entity(tag, argument, offset, utf16 - offset,
                                  out[out_pos:], entities, fail)
            if entity is not None:
                entities.append(entity)
        i += 1  # skip '>'
    if nested:
        fail("Can't find end tag corresponding to start tag %s" % nested[-1][0])
    try:
        plain = out.decode("utf-8")
    except UnicodeDecodeError:
        has_surrogate = True
    if has_surrogate:
        raise ApiError(400, "Bad Request: can't parse entities: Text contains invalid "
                       "Unicode characters after decoding HTML entities, check for "
                       "unmatched surrogate code units")
    entities = strip_code_languages(entities)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return plain, entities


def _html_entity(tag, argument, offset, length, inner, entities, fail):
    """Bot API MessageEntity for a closed tag (None if it yields nothing)."""
    entity = {"offset": offset, "length": length}
    if tag in _SIMPLE_ENTITY or (tag == "span" and argument == "spoiler"):
        entity["type"] = _SIMPLE_ENTITY.get(tag, "spoiler")
    elif tag == "tg-emoji":
        if not argument.isdigit() or int(argument) == 0:
            fail("Invalid custom emoji identifier specified")
        entity.update(type="custom_emoji", custom_emoji_id=argument)
    elif tag == "a":
        url = argument or inner.decode("utf-8", "replace")
        if not url:
            return None
        entity.update(type="text_link", url=url)
    elif tag == "pre":
        last = entities[-1] if entities else None
        if (last and last["type"] == "code" and last["offset"] == offset
                and last["length"] == length and last.get("language")):
            last["type"] = "pre"
            return None
        entity["type"] = "pre"
    else:  # code
        last = entities[-1] if entities else None
        if (last and last["type"] == "pre" and last["offset"] == offset
                and last["length"] == length and argument):
            last["language"] = argument
            return None
        entity["type"] = "code"
        if argument:
            entity["language"] = argument  # dropped below unless inside <pre>
    return entity


def strip_code_languages(entities):
    """TDLib clears the language of a <code> that did not end up in a <pre>."""
    for e in entities:
        if e["type"] == "code":
            e.pop("language", None)
    return entities


# --------------------------------------------------------------------------
# Request parameters, read the way the Bot API server reads them
# --------------------------------------------------------------------------

# -- parameter parsing, as the Bot API server does it -----------------------

def int_arg(params, name, default, lo=None, hi=None):
    """td get_integer_arg(): empty -> default, leading digits parsed, clamped."""
    s = params.get(name, "")
    if s == "":
        value = default
    else:
        m = re.match(r"(-?)(\d*)", s)
        value = int(m.group(2) or 0) * (-1 if m.group(1) else 1)
    if lo is not None:
        value = max(lo, min(hi, value))
    return value


def parse_chat_id(s):
    """int for numeric ids, '@name' kept as a string, None if invalid."""
    s = (s or "").strip()
    if re.fullmatch(r"-?\d{1,19}", s):
        return int(s)
    if s.startswith("@") and len(s) > 1:
        return s
    return None


def json_arg(params, name, what):
    s = params.get(name, "")
    if s == "":
        return None
    try:
        return json.loads(s)
    except ValueError:
        raise ApiError(400, "Bad Request: can't parse %s JSON object" % what)


def check_commands(commands):
    """setMyCommands validation; returns the list or raises ApiError."""
    if not isinstance(commands, list):
        raise ApiError(400, "Bad Request: field \"commands\" must be an Array")
    for c in commands:
        if not isinstance(c, dict) or not isinstance(c.get("command"), str):
            raise ApiError(400, "Bad Request: can't parse BotCommand: "
                                "Can't find field \"command\"")
        if not re.fullmatch(r"[a-z0-9_]{1,32}", c["command"]):
            raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        desc = c.get("description", "")
        if not isinstance(desc, str) or not desc.strip():
            raise ApiError(400, "Bad Request: command description must be non-empty")
        if len(desc) > 256:
            raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
    return commands


# --------------------------------------------------------------------------
# Flood control: sliding windows over delivered messages
# --------------------------------------------------------------------------

def check_flood_config(cfg):
    if cfg["mode"] not in ("enforce", "observe", "off"):
        raise ValueError("flood mode must be enforce, observe or off")
    if cfg["pause_scope"] not in ("all", "chat"):
        raise ValueError("flood pause_scope must be all or chat")
    for key in ("per_chat", "per_group", "global"):
        limit, window = cfg[key]
        if int(limit) < 1 or float(window) <= 0:
            raise ValueError("flood %s must be [count >= 1, seconds > 0]" % key)


class FloodWindows:
    """Delivery times per chat, per group and overall, trimmed as they age.

    hits() says which windows a new message would overflow and how long until
    each allows one more; record() adds a delivered message. cfg is the flood
    configuration dict (FLOOD_DEFAULTS shape)."""

    def __init__(self):
        self.chat = {}
        self.group = {}
        self.all = collections.deque()

    @staticmethod
    def _trim(times, span, now):
        while times and times[0] <= now - span:
            times.popleft()

    def _windows(self, chat_id, is_group, cfg):
        yield "chat", self.chat.get(chat_id), cfg["per_chat"]
        if is_group:
            yield "group", self.group.get(chat_id), cfg["per_group"]
        yield "global", self.all, cfg["global"]

    def hits(self, chat_id, is_group, now, cfg):
        if cfg["mode"] == "off":
            return []
        hits = []
        for name, times, (limit, span) in self._windows(chat_id, is_group, cfg):
            if times:
                self._trim(times, span, now)
                if len(times) >= int(limit):
                    hits.append((name, times[-int(limit)] + span - now))
        return hits

    def record(self, chat_id, is_group, now, cfg):
        self.chat.setdefault(chat_id, collections.deque()).append(now)
        if is_group:
            self.group.setdefault(chat_id, collections.deque()).append(now)
        self.all.append(now)
        for _, times, (_, span) in self._windows(chat_id, is_group, cfg):
            self._trim(times, max(span, 1.0), now)   # bounded even with mode "off"


# --------------------------------------------------------------------------
# Users, chats, messages and updates
# --------------------------------------------------------------------------

class MessageCache:
    """Bounded (chat_id, message_id) -> Message map for edits, replies, callbacks."""

    def __init__(self, size=MESSAGE_CACHE_SIZE):
        self.size = size
        self.items = collections.OrderedDict()

    def put(self, chat_id, message_id, msg):
        self.items[(chat_id, message_id)] = msg
        if len(self.items) > self.size:
            self.items.popitem(last=False)

    def get(self, chat_id, message_id):
        return self.items.get((chat_id, message_id))


_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")


def bot_command_entities(text):
    """bot_command entities: at offset 0 and after whitespace, UTF-16 offsets."""
    result = []
    for m in _COMMAND_RE.finditer(text):
        start = m.start()
        if start and not text[start - 1].isspace():
            continue
        end = m.end()
        if end < len(text) and (text[end].isalnum() or text[end] in "_/@"):
            continue
        result.append({"offset": utf16_len(text[:start]),
                       "length": utf16_len(m.group(0)), "type": "bot_command"})
    return result


def chat_type_for(chat_id):
    """Chat type implied by a numeric id, as Telegram allocates them."""
    if not isinstance(chat_id, int):
        return "channel"
    if chat_id > 0:
        return "private"
    return "supergroup" if chat_id <= SUPERGROUP_ID_BASE else "group"


def make_user(user_id, first_name=None, username=None, last_name=None,
              language_code=None, is_bot=False):
    user = {"id": user_id, "is_bot": is_bot,
            "first_name": first_name or "User%d" % user_id}
    if last_name:
        user["last_name"] = last_name
    if username:
        user["username"] = username
    if language_code:
        user["language_code"] = language_code
    return user


def make_chat(chat_id, info=None):
    """Chat object; info is the registered chat record (type, title, names)."""
    info = info or {}
    ctype = info.get("type") or chat_type_for(chat_id)
    chat = {"id": chat_id, "type": ctype}
    if ctype == "private":
        chat["first_name"] = info.get("first_name") or "User%d" % chat_id
        if info.get("username"):
            chat["username"] = info["username"]
    else:
        chat["title"] = info.get("title") or "Group %s" % str(chat_id).lstrip("-@")
        if info.get("username"):
            chat["username"] = info["username"]
    return chat


class UpdateBuilder:
    """Expands short update specs into Bot API updates.

    `ids` hands out message ids and callback ids, `chats` is the registered
    chat table, `messages` a bounded message_id -> Message cache so edits and
    callbacks can refer to earlier messages, `bot_user` the bot's User.
    """

    def __init__(self, ids, chats, messages, bot_user, clock):
        self.ids = ids
        self.chats = chats
        self.messages = messages
        self.bot_user = bot_user
        self.clock = clock  # returns unix time (int)

    def build(self, spec):
        """Return a list of (type, update-object-without-update_id)."""
        spec = {k: v for k, v in spec.items() if k not in ("at", "update_id")}
        full = [k for k in spec if k in UPDATE_TYPES]
        if full:
            if len(spec) != 1:
                raise ValueError("a full update has exactly one update field, got %s"
                                 % sorted(spec))
            kind = full[0]
            self._remember(kind, spec[kind])
            return [(kind, spec)]
        kind = spec.get("type", "message")
        build = {"message": self._message, "edited_message": self._edited,
                 "callback_query": self._callback, "my_chat_member": self._member,
                 "chat_member": self._member, "migrate": self._migrate}.get(kind)
        if build is None:
            raise ValueError("unknown short update type %r" % kind)
        return build(spec, kind)

    # -- pieces ---------------------------------------------------------

    def _remember(self, kind, obj):
        if kind in ("message", "edited_message") and isinstance(obj, dict):
            if "message_id" in obj and "chat" in obj:
                self.messages.put(obj["chat"].get("id"), obj["message_id"], obj)

    def _user(self, spec):
        uid = int(spec.get("user_id", 111))
        return make_user(uid, spec.get("first_name"), spec.get("username"),
                         spec.get("last_name"), spec.get("language_code"))

    def _chat(self, spec, user):
        chat_id = spec.get("chat_id", user["id"])
        chat_id = int(chat_id) if not str(chat_id).startswith("@") else chat_id
        info = dict(self.chats.get(chat_id, {}))
        ctype = spec.get("chat_type")
        if ctype:
            if ctype != "private" and chat_id == user["id"]:
                raise ValueError("chat_id is required for a %s chat" % ctype)
            info["type"] = ctype
        if spec.get("title"):
            info["title"] = spec["title"]
        if (info.get("type") or chat_type_for(chat_id)) == "private":
            info.setdefault("first_name", user["first_name"])
            if user.get("username"):
                info.setdefault("username", user["username"])
        return make_chat(chat_id, info)

    def _message(self, spec, kind):
        user = self._user(spec)
        chat = self._chat(spec, user)
        msg = {"message_id": int(spec.get("message_id") or self.ids.new_message_id()),
               "from": user, "chat": chat, "date": int(spec.get("date", self.clock()))}
        reply_to = spec.get("reply_to_message_id")
        if reply_to:
            msg["reply_to_message"] = self.messages.get(chat["id"], int(reply_to)) or {
                "message_id": int(reply_to), "chat": chat, "date": msg["date"]}
        text = spec.get("text", "")
        msg["text"] = text
        entities = spec.get("entities") or bot_command_entities(text)
        if entities:
            msg["entities"] = entities
        self._remember("message", msg)
        return [("message", {"message": msg})]

    def _edited(self, spec, kind):
        user = self._user(spec)
        chat = self._chat(spec, user)
        if "message_id" not in spec:
            raise ValueError("edited_message needs message_id")
        old = self.messages.get(chat["id"], int(spec["message_id"])) or {}
        msg = dict(old) or {"message_id": int(spec["message_id"]), "from": user,
                            "chat": chat, "date": int(self.clock())}
        msg["edit_date"] = int(spec.get("edit_date", self.clock()))
        text = spec.get("text", "")
        msg["text"] = text
        msg.pop("entities", None)
        entities = spec.get("entities") or bot_command_entities(text)
        if entities:
            msg["entities"] = entities
        self._remember("message", msg)
        return [("edited_message", {"edited_message": msg})]

    def _callback(self, spec, kind):
        user = self._user(spec)
        chat = self._chat(spec, user)
        query = {"id": str(spec.get("id") or self.ids.new_callback_id()),
                 "from": user,
                 "chat_instance": str(spec.get("chat_instance", "-%d" % abs(chat["id"]))),
                 "data": spec.get("data", "")}
        if spec.get("message_id"):
            mid = int(spec["message_id"])
            query["message"] = self.messages.get(chat["id"], mid) or {
                "message_id": mid, "from": self.bot_user, "chat": chat,
                "date": int(self.clock()), "text": spec.get("message_text", "")}
        return [("callback_query", {"callback_query": query})]

    def _member(self, spec, kind):
        user = self._user(spec)
        chat = self._chat(spec, user)
        new = spec.get("new_status", "member")
        old = spec.get("old_status", "left" if new in ("member", "administrator") else "member")
        target = self.bot_user if kind == "my_chat_member" else make_user(
            int(spec.get("member_user_id", user["id"])), spec.get("member_first_name"))

        def member(status):
            m = {"user": target, "status": status}
            if status == "kicked":
                m["until_date"] = 0
            return m
        upd = {"chat": chat, "from": user, "date": int(self.clock()),
               "old_chat_member": member(old), "new_chat_member": member(new)}
        return [(kind, {kind: upd})]

    def _migrate(self, spec, kind):
        """A group upgraded to a supergroup: two service messages, as Telegram sends."""
        user = self._user(spec)
        old_id = int(spec["chat_id"])
        new_id = int(spec.get("migrate_to_chat_id", SUPERGROUP_ID_BASE - abs(old_id)))
        title = spec.get("title") or self.chats.get(old_id, {}).get("title")
        old_chat = make_chat(old_id, {"type": "group", "title": title})
        new_chat = make_chat(new_id, {"type": "supergroup", "title": title})
        now = int(self.clock())
        first = {"message_id": self.ids.new_message_id(), "from": user,
                 "chat": old_chat, "date": now, "migrate_to_chat_id": new_id}
        second = {"message_id": self.ids.new_message_id(), "from": user,
                  "chat": new_chat, "date": now, "migrate_from_chat_id": old_id}
        return [("message", {"message": first}), ("message", {"message": second})]
