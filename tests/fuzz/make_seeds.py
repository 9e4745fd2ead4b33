#!/usr/bin/python3
"""Regenerates the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/)
from the tests' own data: console conversations, the fake Bot API's answers
to its scenarios, the plans of tests/data and tests/import, the configs
the tests write, and DingTalk and WeCom frames and files shaped as the
fakes (tests/fake/fake_dingtalk.py, fake_wecom.py) send them. Run from the repository root; the output is committed.
Files named crash-* in a corpus are regression inputs and are kept.
"""

import base64
import glob
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")
TOKEN = "4242:FUZZsecretTokenHalf"


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def chat_seeds():
    for case in glob.glob(os.path.join(ROOT, "tests/bot/console/*.case")):
        for line in open(case, encoding="utf-8"):
            if line.startswith("> "):
                text = line[2:].rstrip("\n")
                put("chat", b"\x00" + text.encode())
                put("chat", b"\x03" + text.encode())


def plan_seeds():
    paths = [os.path.join(ROOT, "data/plans/fupinri.json")]
    paths += glob.glob(os.path.join(ROOT, "tests/data/bad-plans/*/plan.json"))
    paths += glob.glob(os.path.join(ROOT, "tests/import/cases/*/expected.json"))
    for p in paths:
        with open(p, "rb") as f:
            data = f.read()
        if len(data) <= 64 * 1024:
            put("plan", data)


def cfg_seeds():
    put("cfg", "[store]\ndb = /var/lib/campaign/campaign.db\n[log]\nlevel = info\n")
    put("cfg", "[chat]\ndrivers = telegram, dingtalk\n"
        "admins = telegram:1, dingtalk:2\n[telegram]\ntoken_file = /etc/campaign/token\n"
        "api_url = http://127.0.0.1:8081\n"
        "poll_timeout = 30\n")
    put("cfg", "[mqtt]\nhost = 127.0.0.1\nport = 1883\nqos = 1\nprotocol = 5\n"
        "keepalive = 5\nusername = bridge\npassword_file = /etc/campaign/mqtt\n"
        "topic_prefix = campaign/fupinri\n")
    put("cfg", "[reminders]\nat = 09:00\ndays_before = 7,3,1,0\nescalate_after = 3\n"
        "quiet_hours = 22:00-08:00\nholidays = 2027-10-01,2027-10-02\n"
        "workdays = 2027-10-09\n")
    for case in glob.glob(os.path.join(ROOT, "tests/bot/console/*.case")):
        lines = [l[7:] for l in open(case, encoding="utf-8") if l.startswith("config ")]
        if lines:
            put("cfg", "".join(lines))


def tg_seeds():
    fake = os.path.join(ROOT, "tests/fake/fake_telegram.py")
    for scenario in glob.glob(os.path.join(ROOT, "tests/fake/scenarios/*.json")):
        tmp = tempfile.mkdtemp()
        port_file = os.path.join(tmp, "port")
        p = subprocess.Popen([sys.executable, fake, "--port-file", port_file, "--token", TOKEN,
                              "--scenario", scenario, "--max-lifetime", "30"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while not os.path.exists(port_file):
                time.sleep(0.05)
            port = int(open(port_file).read())
            time.sleep(2.0)  # scheduled updates arrive
            for method in ("getMe", "getUpdates", "deleteWebhook", "sendMessage"):
                url = "http://127.0.0.1:%d/bot%s/%s" % (port, TOKEN, method)
                body = json.dumps({"timeout": 0} if method == "getUpdates" else
                                  {"chat_id": 301, "text": "hi"}).encode()
                req = urllib.request.Request(url, data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(req, timeout=3) as r:
                        data = r.read()
                except urllib.error.HTTPError as e:
                    data = e.read()
                except OSError:
                    continue  # a scripted fault: a hang or a reset
                if method == "getUpdates":
                    put("tg_updates", data)
                put("tg_answer", b"\x01" + data)
                put("tg_answer", b"\x00" + data)
        finally:
            p.kill()
            p.wait()
    put("tg_answer", b"\x01<html><body>502 Bad Gateway</body></html>")
    put("tg_answer", b'\x00{"ok":false,"error_code":429,"description":"Too Many Requests: '
        b'retry after 5","parameters":{"retry_after":5}}')
    put("tg_answer", b'\x00{"ok":false,"error_code":400,"description":"group chat was '
        b'upgraded","parameters":{"migrate_to_chat_id":-1001300100}}')
    put("tg_answer", ('\x00{"ok":false,"error_code":500,"description":"at /bot%s/x"}'
                      % TOKEN.replace(":", "%3A")).encode())


CHAT_TEXTS = ["/help", "/bind AAAAA-AAAAA", "/report 2.4 60% 已动员180家企业", "/task 2.4",
              "/broadcast 明天开会", "/due 10", "   "]


def dt_frame(ftype, topic, data, mid, extra=None):
    headers = {"contentType": "application/json", "messageId": mid,
               "time": "1822000000000", "topic": topic}
    if ftype != "SYSTEM":
        headers["appId"] = "fake-app-0001"
    headers.update(extra or {})
    return json.dumps({"specVersion": "1.0", "type": ftype, "headers": headers,
                       "data": data if isinstance(data, str) else
                       json.dumps(data, ensure_ascii=False)}, ensure_ascii=False)


def dt_bot_message(n, text, group=False, file=None):
    staff = "staff%03d" % n
    data = {"conversationId": "cidGROUPfuzz0000000000==" if group else "cidP2P%03d==" % n,
            "chatbotCorpId": "dingcorpfake", "chatbotUserId": "$:LWCP_v1:$botfake",
            "msgId": "msgFAKE%08d==" % n, "senderNick": "用户" + staff, "isAdmin": False,
            "senderStaffId": staff, "sessionWebhookExpiredTime": 1822000600000,
            "createAt": 1822000000000, "senderCorpId": "dingcorpfake",
            "conversationType": "2" if group else "1", "senderId": "$:LWCP_v1:$user" + staff,
            "sessionWebhook": "http://127.0.0.1:8000/robot/sendBySession?session=%032x" % n,
            "text": {"content": ("@活动助手 " + text) if group else text},
            "robotCode": "dingrobotfake", "msgtype": "text"}
    if group:
        data["conversationTitle"] = "测试群"
        data["isInAtList"] = True
    if file is not None:
        del data["text"]
        data["msgtype"] = "file"
        data["content"] = {"downloadCode": "dlcode%04d" % n, "fileName": file,
                           "spaceId": "2100", "fileId": "fid%04d" % n}
    return data


def dingtalk_seeds():
    topic = "/v1.0/im/bot/messages/get"
    for n, text in enumerate(CHAT_TEXTS):
        put("dingtalk_frames", dt_frame("CALLBACK", topic, dt_bot_message(n, text, n % 2 == 1),
                                        "a1b2c3d4_900_%x" % n))
    put("dingtalk_frames", dt_frame("CALLBACK", topic, dt_bot_message(20, "", file="2.4 日报.docx"),
                                    "a1b2c3d4_920_1"))
    put("dingtalk_frames", dt_frame("SYSTEM", "ping", {"opaque": "ping-0001"}, "ping_1"))
    put("dingtalk_frames", dt_frame("SYSTEM", "disconnect", {"reason": "server restart"}, "dc_1"))
    put("dingtalk_frames", dt_frame("EVENT", "*", {"timeStamp": "1822000000000",
                                                   "userId": ["staff001"]}, "ev_1",
                                    {"eventType": "user_add_org", "eventId": "e0001",
                                     "eventBornTime": "1822000000000"}))
    put("dingtalk_frames", dt_frame("CALLBACK", topic, "not json", "a1b2c3d4_930_1"))


def wc_frame(cmd, req_id, body):
    f = {"headers": {"req_id": req_id}}
    if cmd is not None:
        f = {"cmd": cmd, "headers": {"req_id": req_id}, "body": body}
    else:
        f.update(body)
    return json.dumps(f, ensure_ascii=False, separators=(",", ":"))


def wc_message(n, text, group=False, file=None):
    body = {"msgid": "%032x" % (0xfeed0000 + n), "aibotid": "aibfuzzbot"}
    if group:
        body["chatid"] = "wrfuzzgroup00000000000"
    body.update({"chattype": "group" if group else "single",
                 "from": {"userid": "user%03d" % n}, "msgtype": "text",
                 "text": {"content": ("@活动助手 " + text) if group else text}})
    if file is not None:
        del body["text"]
        body["msgtype"] = "file"
        body["file"] = {"url": "http://127.0.0.1:8001/files/%d" % n, "aeskey": file}
    return body


def wecom_seeds():
    # The first byte: even, waiting for the subscribe answer; odd, subscribed (bit 1: a
    # stream reply in flight). Request ids as tests/fuzz/fuzz_wecom_frames.c sets them.
    for n, text in enumerate(CHAT_TEXTS):
        put("wecom_frames", b"\x01" + wc_frame("aibot_msg_callback", "%032x" % n,
                                               wc_message(n, text, n % 2 == 1)).encode())
    key = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI"   # base64 of 32 bytes, unpadded
    put("wecom_frames", b"\x01" + wc_frame("aibot_msg_callback", "f" * 32,
                                           wc_message(30, "", file=key)).encode())
    put("wecom_frames", b"\x01" + wc_frame("aibot_event_callback", "e" * 32, {
        "msgid": "ev0001", "create_time": 1822000000, "aibotid": "aibfuzzbot",
        "msgtype": "event", "event": {"eventtype": "disconnected_event"}}).encode())
    put("wecom_frames", b"\x01" + wc_frame("aibot_event_callback", "e" * 31 + "1", {
        "msgid": "ev0002", "create_time": 1822000000, "aibotid": "aibfuzzbot",
        "chattype": "single", "from": {"userid": "user001"}, "msgtype": "event",
        "event": {"eventtype": "enter_chat"}}).encode())
    put("wecom_frames", b"\x00" + wc_frame(None, "aibot_subscribe_1_1",
                                           {"errcode": 0, "errmsg": "ok"}).encode())
    put("wecom_frames", b"\x00" + wc_frame(None, "aibot_subscribe_1_1",
                                           {"errcode": 40058, "errmsg": "invalid secret"}).encode())
    put("wecom_frames", b"\x01" + wc_frame(None, "ping_1_2", {"errcode": 0, "errmsg": "ok"}).encode())
    put("wecom_frames", b"\x01" + wc_frame(None, "aibot_send_msg_1_3",
                                           {"errcode": 45009, "errmsg": "freq limit"}).encode())
    put("wecom_frames", b"\x03" + wc_frame(None, "callback_req_1",
                                           {"errcode": 846608, "errmsg": "stream expired"}).encode())
    put("wecom_frames", b"\x03" + wc_frame(None, "callback_req_1",
                                           {"errcode": 0, "errmsg": "ok"}).encode())


def chatfile_seeds():
    # Even first byte: a Content-Disposition value; odd: "<aeskey> <url>\n" + the bytes.
    for v in ("attachment; filename*=UTF-8''" + urllib.parse.quote("2.4 日报.docx", safe=""),
              'attachment; filename="%s"' % "报告.pdf",
              'attachment; filename="report.xlsx"; filename*=utf-8\'\'%E6%8A%A5.xlsx',
              "inline; filename=a%2Fb.txt", 'attachment; filename="..\\x.doc"'):
        put("chatfile", b"\x00" + v.encode())
    sys.path.insert(0, os.path.join(ROOT, "tests", "fake"))
    from fake_wecom_state import encrypt_file
    key = bytes(range(1, 33))
    for data, padded in ((b"PK\x03\x04 a docx, say", True), (b"x" * 32, False), (b"", True)):
        b64 = base64.b64encode(key).decode()
        ref = (b64 if padded else b64.rstrip("=")) + " http://127.0.0.1:8001/files/1"
        put("chatfile", b"\x01" + ref.encode() + b"\n" + encrypt_file(data, key))


if __name__ == "__main__":
    chat_seeds()
    plan_seeds()
    cfg_seeds()
    tg_seeds()
    dingtalk_seeds()
    wecom_seeds()
    chatfile_seeds()
