#!/usr/bin/python3
"""The broker stopped and restarted mid-stream (persistence on, a persistent
QoS 1 subscriber): every event arrives, per topic in id order; the bridge
reconnects on its own, says "online" again and republishes the retained
state."""
import subprocess
import threading
import time

from bridgetest import (EMIT, PREFIX, Bridge, BridgeTest, Broker, Subscriber, main,
                        retained, wait_for)

EVENTS, ANN = PREFIX + "/events", PREFIX + "/announcements"
N = 1500


class BrokerRestart(BridgeTest):
    def test_broker_restart_mid_stream(self):
        broker = self.track(Broker(self.work, persistence=True).start())
        sub = self.track(Subscriber(broker, client_id="display-1", persistent=True))
        bridge = self.track(Bridge(self.work, broker).start())
        ann_ids = []

        def write():
            for k in range(5):
                subprocess.run([EMIT, self.work.db, "progress", str(N // 5)],
                               env=self.work.env, check=True, capture_output=True, timeout=60)
                out = subprocess.run([EMIT, self.work.db, "announcement", "公告 %d" % k],
                                     env=self.work.env, check=True, capture_output=True,
                                     text=True, timeout=60)
                ann_ids.append(int(out.stdout))
        writer = threading.Thread(target=write)
        writer.start()
        wait_for(lambda: len(sub.snapshot(EVENTS)) >= 300, 60, "300 events before the stop")
        broker.stop()                       # SIGTERM: mosquitto saves its state
        time.sleep(1.5)
        broker.start()
        writer.join()
        total = N + len(ann_ids)
        self.assertEqual(sorted(self.work.event_states()), list(range(1, total + 1)))
        sub.wait_ids(EVENTS, range(1, total + 1), timeout=90)
        sub.wait_ids(ANN, ann_ids, timeout=30)
        for topic in (EVENTS, ANN):
            self.assert_in_id_order(sub.ids(topic), topic)
        wait_for(lambda: set(self.work.event_states().values()) == {1}, 20, "all delivered")

        log = bridge.logtext()
        self.assertIn("connection to 127.0.0.1:%d lost" % broker.port, log)
        self.assertGreaterEqual(log.count("INFO mqtt: connected"), 2)
        state = retained(broker, PREFIX + "/#")
        self.assertEqual(state[PREFIX + "/bridge/status"].payload, b"online")
        self.assertEqual(len([t for t in state if "/tasks/" in t]), 7)
        self.assertIn(PREFIX + "/summary", state)
        got = sub.ids(EVENTS)
        print("%d events, %d received (%d repeats)" % (total, len(got), len(got) - total))

    def test_retained_state_republished_after_reconnect(self):
        # Without persistence a restarted broker has forgotten every retained
        # message: only the bridge republishing them can bring them back.
        broker = self.track(Broker(self.work).start())
        bridge = self.track(Bridge(self.work, broker).start())
        self.work.ctl("report", "2.4", "市扶贫办", "60")
        wait_for(lambda: self.work.event_states() == {1: 1}, 10, "delivery")
        broker.stop()
        broker.start()
        wait_for(lambda: bridge.logtext().count("INFO mqtt: connected") >= 2, 20, "reconnect")
        time.sleep(0.5)
        state = retained(broker, PREFIX + "/#")
        self.assertEqual(state[PREFIX + "/bridge/status"].payload, b"online")
        self.assertEqual(len([t for t in state if "/tasks/" in t]), 7)
        self.assertEqual(state[PREFIX + "/tasks/2.4"].json()["percent"], 15)
        self.assertEqual(state[PREFIX + "/summary"].json()["reported"], 1)


if __name__ == "__main__":
    main()
