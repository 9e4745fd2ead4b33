#!/usr/bin/python3
"""Hostile data never reaches a topic level and never stops the stream:
task ids with /, +, #, .. or control characters written straight into the
store, unit names full of topic syntax, a payload that is not JSON, an
oversize payload, a payload with a forged envelope."""
import subprocess

from bridgetest import (EMIT, PREFIX, SCHEMA_EXEMPT, Bridge, BridgeTest, Broker, Subscriber,
                        main, wait_for)

HOSTILE_IDS = ["x/#", "a+b", "..", "bad/../id", "tab\tid", "$SYS"]
HOSTILE_UNIT = "市/+#办\n"


class Hostile(BridgeTest):
    def test_hostile_names_and_payloads(self):
        w = self.work
        # Bypass the plan loader (which refuses these) the way a broken import or a
        # hand edit of the database would.
        for n, tid in enumerate(HOSTILE_IDS):
            w.sql("INSERT INTO tasks(id, seq, title, due_day) VALUES(?, ?, ?, 20740)",
                  tid, 100 + n, "恶意任务 %d" % n)
        w.sql("INSERT INTO units(name, norm, seq) VALUES(?, ?, 99)", HOSTILE_UNIT, "hostile")
        unit_id = w.sql("SELECT id FROM units WHERE norm = 'hostile'")[0][0]
        w.sql("INSERT INTO task_units(task_id, unit_id, seq) VALUES('2.4', ?, 9)", unit_id)
        for tid in HOSTILE_IDS:
            w.sql("INSERT INTO task_units(task_id, unit_id, seq) VALUES(?, ?, 0)", tid, unit_id)

        broker = self.track(Broker(w).start())
        everything = self.track(Subscriber(broker, topic="#"))
        bridge = self.track(Bridge(w, broker).start())

        # progress through the product for a hostile unit on a normal task
        r = w.ctl("report", "2.4", "hostile", "50", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        # a payload that is not JSON, an oversize one, both written past events_append
        w.sql("INSERT INTO events(type, campaign, created_at, ts, payload) "
              "VALUES('announcement', 'fupinri', 0, '2027-10-08T09:00:00+08:00', '{not json')")
        w.sql("INSERT INTO events(type, campaign, created_at, ts, payload) "
              "VALUES('announcement', 'fupinri', 0, '2027-10-08T09:00:00+08:00', ?)",
              '{"text":"%s"}' % ("长" * 20000))
        # events_append refuses oversize events with a clear error
        big = w.emit("announcement", "长" * 20000, check=False)
        self.assertNotEqual(big.returncode, 0)
        self.assertIn("too large", big.stderr)
        # a forged envelope and a hostile task id inside a payload
        [forged] = w.emit("raw", "progress", '{"id":1,"type":"x","v":9,"task":{"id":"x/#"}}')
        SCHEMA_EXEMPT.add(forged)  # a forged payload is not a progress event's schema
        [last] = w.emit("announcement", "正常公告")

        events = PREFIX + "/events"
        everything.wait_ids(events, [1, forged, last])
        want = {1: 1, 2: 2, 3: 2, forged: 1, last: 1}
        wait_for(lambda: w.event_states() == want, 10, "outcomes %s" % want)
        self.assertEqual(w.sql("SELECT reason FROM events WHERE id IN (2, 3) ORDER BY id"),
                         [(0x99,), (0x95,)])
        log = bridge.logtext()
        self.assertIn("event 2 (announcement) cannot be published: payload is not a JSON object", log)
        self.assertIn("event 3 (announcement) cannot be published: payload of", log)
        for tid in HOSTILE_IDS[:5]:
            self.assertIn('task id "%s" is not a safe topic level' % tid.replace("\t", "\\t"),
                          log)

        got = everything.snapshot(events)
        unit_msg = got[0].json()
        self.assertEqual(unit_msg["unit"], HOSTILE_UNIT, "names travel in payloads intact")
        f = [m for m in got if m.json()["id"] == forged][0].json()
        self.assertEqual((f["id"], f["type"], f["v"]), (forged, "progress", 1))

        wait_for(lambda: any(m.topic == PREFIX + "/summary" for m in everything.snapshot()),
                 5, "the summary")
        # "$SYS" is odd but harmless below the prefix: only a leading $ is special.
        allowed_tasks = {"2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "3.4", "$SYS"}
        for m in everything.snapshot():
            rest = m.topic[len(PREFIX) + 1:]
            self.assertTrue(m.topic.startswith(PREFIX + "/"), m.topic)
            if rest.startswith("tasks/"):
                self.assertIn(rest[len("tasks/"):], allowed_tasks, m.topic)
            else:
                self.assertIn(rest, ("events", "announcements", "summary", "bridge/status",
                                     "announcements/current"),
                              m.topic)
        self.assertIsNone(bridge.proc.poll(), "the bridge keeps running")
        self.assertEqual(bridge.stop(), 0)


if __name__ == "__main__":
    main()
