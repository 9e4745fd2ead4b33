#!/usr/bin/python3
"""The bridge, unchanged (protocol = 3.1.1 in its config), against RabbitMQ's
MQTT plugin, a broker that clusters: events in order with QoS 1 acks,
retained state for a fresh subscriber, the will, a broker restart.
docs/mqtt.md ("RabbitMQ") says what differs from mosquitto."""
import signal
import unittest

from bridgetest import (PREFIX, Bridge, BridgeTest, Subscriber, main, retained,
                        wait_for)
from rabbit import Rabbit, available

EVENTS, STATUS = PREFIX + "/events", PREFIX + "/bridge/status"


@unittest.skipUnless(available(), "rabbitmq-server is not installed")
class RabbitMQ(BridgeTest):
    def setUp(self):
        super().setUp()
        self.rabbit = Rabbit(self.work)
        self.addCleanup(self.rabbit.close)
        self.rabbit.start()
        self.sub = self.track(Subscriber(self.rabbit, v311=True, persistent=True,
                                         client_id="board-persistent"))
        self.bridge = self.track(Bridge(self.work, port=self.rabbit.port,
                                        extra="protocol = 3.1.1\n").start())

    def delivered(self, n, timeout=60):
        wait_for(lambda: len(self.work.event_states()) == n and
                 set(self.work.event_states().values()) == {1}, timeout,
                 "%d events acknowledged" % n)

    def test_order_acks_retained_will_and_restart(self):
        first, last = self.work.emit("progress", "300")
        self.sub.wait_ids(EVENTS, range(first, last + 1), timeout=60)
        self.assert_in_id_order(self.sub.ids(EVENTS), "events through RabbitMQ")
        self.delivered(last)  # every event marked delivered: its PUBACK came back

        # RabbitMQ hands out retained messages only to filters without wildcards.
        self.assertEqual(retained(self.rabbit, PREFIX + "/#", v311=True), {},
                         "if RabbitMQ now matches wildcards, update docs/mqtt.md")
        summary = self.exact(PREFIX + "/summary").json()
        self.assertEqual(summary["v"], 1)
        self.assertEqual(len(summary["task_ids"]), 7)
        for tid in summary["task_ids"]:
            self.assertEqual(self.exact(PREFIX + "/tasks/" + tid).json()["id"], tid)
        self.assertEqual(self.exact(STATUS).payload, b"online")

        # The will: kill -9, the broker notices the dead connection and publishes "offline".
        n = len(self.sub.snapshot(STATUS))
        self.bridge.kill9()
        self.sub.wait_topic(STATUS, lambda m: m.payload == b"offline", timeout=20)
        self.assertGreater(len(self.sub.snapshot(STATUS)), n)
        self.bridge.start()
        self.sub.wait_topic(STATUS, lambda m: m.payload == b"online" and
                            len(self.sub.snapshot(STATUS)) > n + 1, timeout=20)

        # A broker restart: events written meanwhile arrive after it, none lost.
        self.rabbit.stop(signal.SIGTERM)
        first2, last2 = self.work.emit("progress", "50")
        self.rabbit.start()
        self.delivered(last2, timeout=90)
        self.sub.wait_ids(EVENTS, range(first2, last2 + 1), timeout=60)
        self.assert_in_id_order(self.sub.ids(EVENTS), "events across the restart")
        self.assertEqual(self.exact(STATUS).payload, b"online")
        self.assertGreater(self.exact(PREFIX + "/summary").json()["reported"], 0)

    def exact(self, topic):
        """The retained message of one topic, as a fresh subscriber to exactly it sees it."""
        got = retained(self.rabbit, topic, timeout=1.0, v311=True)
        # RabbitMQ maps MQTT "/" to AMQP "." and back: tasks/2.1 arrives as tasks/2/1.
        seen_as = topic.replace(".", "/")
        self.assertEqual(list(got), [seen_as], "the retained message on %s" % topic)
        return got[seen_as]


if __name__ == "__main__":
    main()
