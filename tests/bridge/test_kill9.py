#!/usr/bin/python3
"""kill -9 of the bridge in the middle of a stream, then a restart: every
event arrives, in id order, and the restart resumes at the first event
without a recorded ack (it does not start over)."""
import subprocess
import threading

from bridgetest import (EMIT, PREFIX, Bridge, BridgeTest, Broker, Subscriber, main,
                        wait_for)

EVENTS = PREFIX + "/events"
N = 3000


class Kill9(BridgeTest):
    def test_kill9_mid_stream(self):
        broker = self.track(Broker(self.work).start())
        sub = self.track(Subscriber(broker, topic=EVENTS))
        bridge = self.track(Bridge(self.work, broker).start())
        # The writer commits while the bridge publishes, like the bot would.
        writer = threading.Thread(target=lambda: subprocess.run(
            [EMIT, self.work.db, "progress", str(N)], env=self.work.env, check=True,
            capture_output=True, timeout=120))
        writer.start()
        wait_for(lambda: len(sub.snapshot()) >= 600 and 1 in self.work.event_states().values(),
                 60, "600 events received and acks recorded before the kill")
        bridge.kill9()
        delivered = {i for i, s in self.work.event_states().items() if s == 1}
        self.assertGreater(len(delivered), 0, "acks were recorded before the kill")
        # Let what the broker still holds for the subscriber arrive.
        counts = []
        wait_for(lambda: counts.append(len(sub.snapshot())) or
                 (len(counts) > 10 and counts[-1] == counts[-11]), 10, "a quiet subscriber")
        before = len(sub.snapshot())
        writer.join()
        ids = range(1, N + 1)
        self.assertEqual(sorted(self.work.event_states()), list(ids))

        bridge.start()
        sub.wait_ids(EVENTS, ids, timeout=90)
        wait_for(lambda: set(self.work.event_states().values()) == {1}, 20,
                 "every event marked delivered")
        got = sub.ids(EVENTS)
        self.assert_in_id_order(got, EVENTS)
        after = got[before:]
        # The restart publishes exactly the events without a recorded ack, once, in order.
        self.assertEqual(after, sorted(set(ids) - delivered))
        repeats = len(got) - len(set(got))
        self.assertEqual(bridge.stop(), 0)
        print("kill -9 after %d received, %d recorded as delivered; %d repeats after restart"
              % (before, len(delivered), repeats))


if __name__ == "__main__":
    main()
