#!/usr/bin/python3
"""Topics, payloads and v5 properties of every event type (a unit's written
summary included, and the summary's N of M it moves); retained state for a
fresh subscriber; birth and will; graceful stop; MQTT 3.1.1; unix socket."""
import signal
import time

from bridgetest import (PREFIX, SCHEMAS, Bridge, BridgeTest, Broker, Subscriber, main,
                        retained, wait_for)

EVENTS, ANN, REM = PREFIX + "/events", PREFIX + "/announcements", PREFIX + "/reminders"


class Topics(BridgeTest):
    def start(self, extra="", **broker_kw):
        self.broker = self.track(Broker(self.work, **broker_kw).start())
        self.sub = self.track(Subscriber(self.broker))
        self.bridge = self.track(Bridge(self.work, self.broker, extra=extra).start())

    def test_each_event_type(self):
        self.start()
        self.work.ctl("report", "2.4", "市扶贫办", "60", "--note", "已动员180家企业")
        [ann] = self.work.emit("announcement", "“扶贫日”倒计时 9 天", "2027-10-09T09:00:00+08:00")
        [rem] = self.work.emit("reminder", "2.5")
        self.sub.wait_ids(EVENTS, [1, ann, rem])
        self.assertEqual(self.sub.ids(EVENTS), [1, ann, rem], "events stream in outbox order")

        progress = self.sub.snapshot(EVENTS)[0]
        p = progress.json()
        for key, want in (("v", 1), ("id", 1), ("type", "progress"),
                          ("ts", "2027-10-08T09:00:00+08:00"), ("campaign", "fupinri"),
                          ("unit", "市扶贫办"), ("percent", 60), ("note", "已动员180家企业")):
            self.assertEqual(p[key], want, key)
        self.assertEqual(p["task"]["id"], "2.4")
        self.assertIn("市扶贫办".encode(), progress.payload, "Chinese is not escaped")
        self.assertNotIn(b"\\u", progress.payload)
        self.assertFalse(progress.retain)
        self.assertEqual(progress.content_type, "application/json")
        self.assertEqual(progress.user.get("schema"), "campaign-event/1")
        self.assertIsNone(progress.expiry, "events copies never expire")

        a = self.sub.wait_topic(ANN)
        self.assertEqual(a.json()["id"], ann)
        self.assertEqual(a.json()["text"], "“扶贫日”倒计时 9 天")
        self.assertTrue(86398 <= a.expiry <= 86400, "expiry from expires_at: %s" % a.expiry)
        r = self.sub.wait_topic(REM)
        self.assertEqual(r.json()["task"]["id"], "2.5")
        # due 2027-10-10: expires at the end of that day in Asia/Shanghai
        self.assertTrue(226798 <= r.expiry <= 226800, "reminder expiry %s" % r.expiry)
        self.assertEqual(self.sub.ids(ANN), [ann])
        self.assertEqual(self.sub.ids(REM), [rem])

        task = self.sub.wait_topic(PREFIX + "/tasks/2.4", lambda m: m.json()["percent"] == 15)
        unit = [u for u in task.json()["units"] if u["unit"] == "市扶贫办"][0]
        self.assertEqual((unit["percent"], unit["note"]), (60, "已动员180家企业"))
        self.assertEqual(task.user.get("schema"), "campaign-task/1")
        summary = self.sub.wait_topic(PREFIX + "/summary", lambda m: m.json()["reported"] == 1)
        self.assertEqual(summary.json()["days_to_key"], 9)
        wait_for(lambda: set(self.work.event_states().values()) == {1}, 5,
                 "every event marked delivered")

    def test_submission_event_and_the_summary_count(self):
        """Issue 15: a file received is a `submission` event on events only (never its
        contents), and the retained summary counts it (the seed's 3.4 is owed by all 15)."""
        self.start()
        summary = PREFIX + "/summary"
        first = self.sub.wait_topic(summary).json()
        self.assertEqual((first["submitted"], first["submissions_owed"]), (0, 15))
        self.assertLessEqual(set(first), set(SCHEMAS["summary"].schema["properties"]),
                             "docs/schemas/summary.schema.json names every key")

        [sid] = self.work.emit("submission", "市委宣传部", "宣传部扶贫日总结.docx")
        [(ev,)] = self.work.sql("SELECT event_id FROM submissions WHERE id = ?", sid)
        self.sub.wait_ids(EVENTS, [ev])
        m = [m for m in self.sub.snapshot(EVENTS) if m.json()["id"] == ev][0]
        p = m.json()
        self.assertEqual((p["v"], p["type"], p["campaign"], p["ts"]),
                         (1, "submission", "fupinri", "2027-10-08T09:00:00+08:00"))
        self.assertEqual(p["task"], {"id": "3.4", "title": "认真总结典型经验",
                                     "deliverable": "“扶贫日”活动的初步情况总结"})
        self.assertEqual(p["unit"]["name"], "市委宣传部")
        self.assertIsInstance(p["unit"]["id"], int)
        self.assertEqual(p["file"], {"name": "宣传部扶贫日总结.docx",
                                     "size": len("FILE-CONTENTS 宣传部扶贫日总结.docx".encode())})
        self.assertEqual((p["channel"], p["at"]), ("test", "2027-10-08T09:00:00+08:00"))
        self.assertEqual((p["submitted"], p["owed"]), (1, 15))
        self.assertNotIn(b"FILE-CONTENTS", m.payload, "the file's contents never travel")
        self.assertEqual(m.user.get("schema"), "campaign-event/1")
        self.sub.wait_topic(summary, lambda m: m.json()["submitted"] == 1)
        self.assertEqual(retained(self.broker, summary)[summary].json()["submissions_owed"], 15)
        # ... and so does 3.4's own state (it names no unit: every unit owes it).
        t34 = self.sub.wait_topic(PREFIX + "/tasks/3.4",
                                  lambda m: m.json().get("submitted") == 1).json()
        self.assertEqual((t34["deliverable"], t34["submissions_owed"], t34["units"]),
                         ("“扶贫日”活动的初步情况总结", 15, []))
        self.assertNotIn("submitted", retained(self.broker, PREFIX + "/tasks/2.4")[
            PREFIX + "/tasks/2.4"].json(), "a task that asks for no document")

        # An unknown sender's file is no event until an admin assigns it.
        [later] = self.work.emit("submission", "-", "总结(扶贫办).pdf")
        self.assertEqual(self.work.sql("SELECT event_id FROM submissions WHERE id = ?", later),
                         [(None,)])
        self.work.ctl("submissions", "assign", str(later), "市扶贫办")
        [(ev2,)] = self.work.sql("SELECT event_id FROM submissions WHERE id = ?", later)
        self.sub.wait_ids(EVENTS, [ev2])
        self.assertEqual(self.sub.ids(EVENTS), [ev, ev2], "one event per unit's file")
        p2 = self.sub.snapshot(EVENTS)[-1].json()
        self.assertEqual((p2["unit"]["name"], p2["file"]["name"], p2["submitted"]),
                         ("市扶贫办", "总结(扶贫办).pdf", 2))
        self.sub.wait_topic(summary, lambda m: m.json()["submitted"] == 2)
        for t in (ANN, REM):
            self.assertEqual(self.sub.snapshot(t), [], "submissions only on events")
        wait_for(lambda: set(self.work.event_states().values()) == {1}, 5,
                 "every event marked delivered")

    def test_retained_state_for_a_fresh_subscriber(self):
        self.start()
        self.work.ctl("report", "2.1", "市委宣传部", "done")
        self.work.ctl("report", "2.6", "相关单位", "30")
        wait_for(lambda: set(self.work.event_states().values()) == {1}, 10, "delivery")
        time.sleep(0.3)
        got = retained(self.broker, PREFIX + "/#")
        tasks = {t for t in got if "/tasks/" in t}
        self.assertEqual(tasks, {PREFIX + "/tasks/" + i for i in
                                 ("2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "3.4")})
        self.assertEqual(got[PREFIX + "/tasks/2.1"].json()["percent"], 25)
        self.assertEqual(got[PREFIX + "/summary"].json()["reported"], 2)
        self.assertEqual(got[PREFIX + "/bridge/status"].payload, b"online")
        for t in (EVENTS, ANN, REM):
            self.assertNotIn(t, got, "event topics are not retained")

    def test_birth_and_will(self):
        self.start()
        status = PREFIX + "/bridge/status"
        self.sub.wait_topic(status, lambda m: m.payload == b"online")
        self.bridge.kill9()
        self.sub.wait_topic(status, lambda m: m.payload == b"offline")
        self.assertEqual(retained(self.broker, status)[status].payload, b"offline")
        n = len(self.sub.snapshot(status))
        self.bridge.start()
        self.sub.wait_topic(status, lambda m: m.payload == b"online" and
                            len(self.sub.snapshot(status)) > n)
        self.assertEqual(retained(self.broker, status)[status].payload, b"online")
        # SIGTERM: bounded, exits 0, "offline" published explicitly (no will on DISCONNECT)
        t0 = time.monotonic()
        self.assertEqual(self.bridge.stop(), 0)
        self.assertLess(time.monotonic() - t0, 8)
        self.assertEqual(retained(self.broker, status)[status].payload, b"offline")
        self.assertIn("stopped:", self.bridge.logtext())

    def test_current_announcements_are_retained_until_they_expire(self):
        """A screen that restarts still shows today's notices; expired ones leave the list."""
        self.start()
        cur = PREFIX + "/announcements/current"
        [a1] = self.work.emit("announcement", "上午9点推进会", "2027-10-08T12:00:00+08:00")
        [a2] = self.work.emit("announcement", "无期限的通知")
        self.sub.wait_topic(cur, lambda m: [n["id"] for n in m.json()["announcements"]] == [a2, a1])
        got = retained(self.broker, PREFIX + "/#")
        lst = got[cur].json()
        self.assertEqual((lst["v"], lst["today"]), (1, "2027-10-08"))
        self.assertEqual([n["text"] for n in lst["announcements"]], ["无期限的通知", "上午9点推进会"])
        self.assertEqual(lst["announcements"][0]["expires_at"], "2027-10-09T00:00:00+08:00",
                         "without an expiry: current until the end of its day")
        for topic in (PREFIX + "/summary", PREFIX + "/tasks/2.4"):
            self.assertEqual(got[topic].json()["v"], 1, "%s carries v" % topic)
            self.assertEqual(got[topic].json()["ts"], "2027-10-08T09:00:00+08:00")
        # The campaign clock moves past the first expiry: the bridge lists only the other one.
        self.bridge.stop()
        self.work.env["CAMPAIGN_NOW"] = "2027-10-08T13:00:00+08:00"
        self.bridge.start()
        self.sub.wait_topic(cur, lambda m: [n["id"] for n in m.json()["announcements"]] == [a2])
        self.bridge.stop()
        self.work.env["CAMPAIGN_NOW"] = "2027-10-09T08:00:00+08:00"
        self.bridge.start()
        self.sub.wait_topic(cur, lambda m: m.json()["announcements"] == [])

    def test_mqtt_311(self):
        self.start(extra="protocol = 3.1.1\n")
        self.work.ctl("report", "2.2", "市广电局", "40")
        m = self.sub.wait_topic(EVENTS)
        self.assertEqual(m.json()["unit"], "市广电局")
        self.assertIsNone(m.content_type, "no v5 properties over 3.1.1")
        self.assertIn("(MQTT 3.1.1, QoS 1)", self.bridge.logtext())

    def test_unix_socket_and_qos0(self):
        self.broker = self.track(Broker(self.work, unix=True).start())
        self.sub = self.track(Subscriber(self.broker))
        self.bridge = self.track(Bridge(self.work, self.broker, extra="socket = %s\nqos = 0\n"
                                        % self.broker.sock).start())
        self.assertIn("unix:%s" % self.broker.sock, self.bridge.logtext())
        self.work.ctl("report", "2.3", "市委宣传部", "10")
        self.assertEqual(self.sub.wait_topic(EVENTS).json()["id"], 1)
        wait_for(lambda: self.work.event_states() == {1: 1}, 5, "delivered at QoS 0")


if __name__ == "__main__":
    main()
