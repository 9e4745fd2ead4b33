#!/usr/bin/python3
"""A wrong password: a clear error, retries with backoff, no crash, the
password never logged; fixing password_file and SIGHUP reconnects and the
events waiting in the outbox go out."""
import signal

from bridgetest import PREFIX, Bridge, BridgeTest, Broker, Subscriber, main, wait_for

WRONG = "wrong-Secret-4711"
RIGHT = "right-Secret-0815"


class Auth(BridgeTest):
    def run_case(self, protocol, refusal):
        broker = self.track(Broker(self.work, users={"bridge": RIGHT, "display": "d"}).start())
        sub = self.track(Subscriber(broker, username="display", password="d"))
        pwfile = self.work.file("mqtt.pw", WRONG + "\n")
        bridge = self.track(Bridge(self.work, broker, extra="username = bridge\n"
                                   "password_file = %s\nprotocol = %s\n" % (pwfile, protocol)))
        bridge.start(wait_connected=False)
        self.work.ctl("report", "2.4", "市扶贫办", "20")
        wait_for(lambda: bridge.logtext().count("refused the connection") >= 2, 15,
                 "two refused attempts")
        log = bridge.logtext()
        self.assertIsNone(bridge.proc.poll(), "the bridge keeps running")
        self.assertIn(refusal, log)
        self.assertIn("check username and password_file", log)
        # Jittered x1.5 backoff (lib/backoff.c): the second pause is 1.2-1.8 s.
        self.assertRegex(log, r"retrying in [12] s \(attempt 2\)", "a growing backoff")
        self.assertEqual(self.work.event_states(), {1: 0}, "the event waits in the outbox")

        self.work.file("mqtt.pw", RIGHT + "\n")
        bridge.signal(signal.SIGHUP)
        wait_for(lambda: "INFO mqtt: connected" in bridge.logtext(), 15, "reconnect")
        self.assertEqual(sub.wait_topic(PREFIX + "/events").json()["id"], 1)
        wait_for(lambda: self.work.event_states() == {1: 1}, 5, "delivered")
        self.assertIn("MQTT settings changed", bridge.logtext())
        self.assertEqual(bridge.stop(), 0)
        log = bridge.logtext()
        self.assertNotIn(WRONG, log)
        self.assertNotIn(RIGHT, log)

    def test_wrong_password_v5(self):
        self.run_case("5", "Not authorized (reason 135)")

    def test_wrong_password_v311(self):
        self.run_case("3.1.1", "not authorised. (code 5)")

    def test_bad_reload_keeps_running(self):
        broker = self.track(Broker(self.work).start())
        bridge = self.track(Bridge(self.work, broker).start())
        with open(bridge.ini, "a") as f:
            f.write("qos = 7\n")
        bridge.signal(signal.SIGHUP)
        wait_for(lambda: "keeping the running configuration" in bridge.logtext(), 5, "reload error")
        self.assertIn("qos must be 0, 1 or 2", bridge.logtext())
        self.work.ctl("report", "2.4", "市扶贫办", "20")
        wait_for(lambda: self.work.event_states() == {1: 1}, 10, "still delivering")


if __name__ == "__main__":
    main()
