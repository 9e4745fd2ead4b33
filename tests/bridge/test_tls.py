#!/usr/bin/python3
"""TLS with a CA, server and client certificates generated here: events go
out over TLS; a wrong CA or a missing client certificate is a clear error,
retried without a crash."""
from bridgetest import PREFIX, TLS, Bridge, BridgeTest, Broker, Subscriber, main, wait_for


class Tls(BridgeTest):
    def setUp(self):
        super().setUp()
        self.tls = TLS(self.work)
        self.broker = self.track(Broker(self.work, tls=self.tls).start())

    def test_tls_with_client_certificate(self):
        sub = self.track(Subscriber(self.broker))
        bridge = self.track(Bridge(self.work, self.broker, port=self.broker.tls_port,
                                   extra="tls_ca = %s\ntls_cert = %s\ntls_key = %s\n" %
                                   (self.tls.ca, self.tls.client_cert, self.tls.client_key)))
        bridge.start()
        self.assertIn("127.0.0.1:%d (TLS)" % self.broker.tls_port, bridge.logtext())
        self.work.ctl("report", "2.1", "xx日报", "50")
        self.assertEqual(sub.wait_topic(PREFIX + "/events").json()["unit"], "xx日报")
        wait_for(lambda: self.work.event_states() == {1: 1}, 5, "delivered over TLS")
        self.assertEqual(bridge.stop(), 0)

    def assert_refused(self, extra, what):
        bridge = self.track(Bridge(self.work, self.broker, port=self.broker.tls_port,
                                   extra=extra))
        bridge.start(wait_connected=False)
        wait_for(lambda: bridge.logtext().count("cannot connect to") +
                 bridge.logtext().count("connection to") >= 2, 20, what)
        self.assertIsNone(bridge.proc.poll(), "the bridge keeps running")
        self.assertNotIn("INFO mqtt: connected", bridge.logtext())
        return bridge.logtext()

    def test_wrong_ca(self):
        log = self.assert_refused("tls_ca = %s\ntls_cert = %s\ntls_key = %s\n" %
                                  (self.tls.other_ca, self.tls.client_cert,
                                   self.tls.client_key), "TLS failures")
        self.assertIn("TLS", log)

    def test_missing_client_certificate(self):
        self.assert_refused("tls_ca = %s\n" % self.tls.ca, "refusals without a client cert")


if __name__ == "__main__":
    main()
