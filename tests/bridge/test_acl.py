#!/usr/bin/python3
"""ACL denial under MQTT v5: the refused event is marked failed with the
reason (135), logged, and the stream goes on; --failed lists it; after the
ACL is fixed, --retry-failed makes the running bridge publish it again."""
import subprocess

from bridgetest import (BRIDGE, PREFIX, Bridge, BridgeTest, Broker, Subscriber, main,
                        wait_for)

ACL_DENY = """user bridge
topic write %(p)s/events
topic write %(p)s/reminders
topic write %(p)s/tasks/#
topic write %(p)s/summary
topic write %(p)s/bridge/status
user display
topic read %(p)s/#
""" % {"p": PREFIX}


class Acl(BridgeTest):
    def test_acl_denial(self):
        broker = self.track(Broker(self.work, users={"bridge": "b", "display": "d"},
                                   acl=ACL_DENY).start())
        sub = self.track(Subscriber(broker, username="display", password="d"))
        pw = self.work.file("pw", "b\n")
        bridge = self.track(Bridge(self.work, broker, extra="username = bridge\n"
                                   "password_file = %s\n" % pw).start())
        self.work.ctl("report", "2.4", "市扶贫办", "20")
        [ann] = self.work.emit("announcement", "不许发布")
        self.work.ctl("report", "2.4", "市扶贫办", "40")
        sub.wait_ids(PREFIX + "/events", [1, ann, 3])
        wait_for(lambda: len([s for s in self.work.event_states().values() if s]) == 3, 10,
                 "three outcomes")
        self.assertEqual(self.work.event_states(), {1: 1, ann: 2, 3: 1})
        self.assertEqual(self.work.sql("SELECT reason FROM events WHERE id = ?", ann), [(135,)])
        self.assertIn("event %d refused on announcements: Not authorized (reason 135); "
                      "marked failed" % ann, bridge.logtext())
        self.assertEqual(sub.snapshot(PREFIX + "/announcements"), [])

        listing = subprocess.run([BRIDGE, "--failed"], env=self.work.env, capture_output=True,
                                 text=True, timeout=30)
        self.assertEqual(listing.returncode, 0)
        self.assertIn("%d\tannouncement\treason 135 (Not authorized)" % ann, listing.stdout)

        with open(broker.conf.replace("mosquitto.conf", "acl"), "a") as f:
            f.write("user bridge\ntopic write %s/announcements\n" % PREFIX)
        broker.hup()
        retry = subprocess.run([BRIDGE, "--retry-failed", str(ann)], env=self.work.env,
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(retry.returncode, 0, retry.stderr)
        self.assertIn("1 event pending again", retry.stdout)
        m = sub.wait_topic(PREFIX + "/announcements", timeout=15)
        self.assertEqual(m.json()["id"], ann)
        wait_for(lambda: self.work.event_states() == {1: 1, ann: 1, 3: 1}, 10, "retried")
        empty = subprocess.run([BRIDGE, "--failed"], env=self.work.env, capture_output=True,
                               text=True, timeout=30)
        self.assertIn("no failed events", empty.stdout)


if __name__ == "__main__":
    main()
