#!/usr/bin/python3
"""Summaries sent as Telegram documents (issue 15), against the fake Bot API
(tests/fake/fake_telegram.py: getFile and /file/bot<token>/...).

A bound user's .docx in a private chat becomes the unit's submission with a
confirmation quoting the message; an unbound user, a group, a file of
another type or over 20 MB get the reason instead, and nothing is stored.
Reuses the harness of tests/bot/test_telegram.py.
"""

import argparse
import base64
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bot"))
import test_telegram as tt  # noqa: E402

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def document(user, chat, chat_type, message_id, file_id, name, size, mime=DOCX):
    chat_obj = {"id": chat, "type": chat_type}
    if chat_type != "private":
        chat_obj["title"] = "Unit group"
    return {"message": {"message_id": message_id, "date": int(time.time()), "chat": chat_obj,
                        "from": {"id": user, "is_bot": False, "first_name": "Li"},
                        "document": {"file_id": file_id, "file_unique_id": "u" + file_id,
                                     "file_name": name, "mime_type": mime,
                                     "file_size": size}}}


def run(env):
    fake = env.fake = tt.Fake(env)
    content = b"PK\x03\x04 a unit's summary" * 100
    fake.call("POST", "/control/files", {"files": {"f1": base64.b64encode(content).decode()}})
    tt.bind_users(env, "市委宣传部", [111])
    env.start_bot()
    fake.updates(document(111, 111, "private", 7, "f1", "宣传部扶贫日总结.docx", len(content)))
    fake.wait_sent(1, timeout=40)
    got = fake.sent(111)[0]["plain"]
    tt.check("已收到 市委宣传部 报送的《宣传部扶贫日总结.docx》" in got and "3.4" in got,
             "the confirmation: " + got)
    rows = env.sql("SELECT s.name, s.size, s.channel, u.name FROM submissions s "
                   "JOIN units u ON u.id = s.unit_id")
    tt.check(rows == [("宣传部扶贫日总结.docx", len(content), "telegram", "市委宣传部")],
             "the submission: %r" % rows)
    sha = env.sql("SELECT sha256 FROM submissions")[0][0]
    with open(os.path.join(env.tmp, "files", sha), "rb") as f:
        tt.check(f.read() == content, "the file kept as sent")
    tt.check("1 of 15 submitted" in env.ctl("submissions"), "campaignctl counts it")

    fake.updates(document(222, 222, "private", 8, "f1", "x.docx", len(content)),
                 document(111, -5, "group", 9, "f1", "x.docx", len(content)),
                 document(111, 111, "private", 10, "f1", "x.exe", 100, "application/x-exe"),
                 document(111, 111, "private", 11, "f2", "big.pdf", 21 * 1024 * 1024))
    fake.wait_sent(5, timeout=40)
    tt.check("还没有绑定单位" in fake.sent(222)[0]["plain"], "unbound user told")
    tt.check("请私聊我发送" in fake.sent(-5)[0]["plain"], "group told to go private")
    later = [s["plain"] for s in fake.sent(111)[1:]]
    tt.check(any("只接受这些格式" in t for t in later), "type refused: %r" % later)
    tt.check(any("超过上限 20 MB" in t for t in later), "size refused: %r" % later)
    tt.check(env.sql("SELECT count(*) FROM submissions")[0][0] == 1, "nothing else stored")
    tt.check(not any(e["params"].get("file_id") == "f2" for e in fake.log("getFile")),
             "an oversized file is not even asked for")
    fake.no_violations()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bot")
    ap.add_argument("--ctl")
    ap.add_argument("--plan")
    ap.add_argument("--fake")
    args = ap.parse_args()
    env = tt.Env(args)
    ok = False
    try:
        run(env)
        ok = True
    except tt.Failure as e:
        print("FAIL chat_files: %s" % e)
    finally:
        env.finish(ok)
    if ok:
        print("ok chat_files")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
