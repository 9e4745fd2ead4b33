#!/usr/bin/python3
"""The command line: -n checks the configuration ("configuration OK" or a
file:line error), secrets and TLS files are checked up front, a second
bridge on the same database refuses to start, a bridge started before the
plan or before the broker waits and then delivers."""
import subprocess

from bridgetest import (BRIDGE, PREFIX, Bridge, BridgeTest, Broker, Workdir, free_port,
                        main, retained, wait_for)


class Cli(BridgeTest):
    def check(self, ini_text):
        ini = self.work.file("check.ini", ini_text)
        return subprocess.run([BRIDGE, "-n", "-c", ini], env=self.work.env,
                              capture_output=True, text=True, timeout=30)

    def test_check_config(self):
        pw = self.work.file("pw", "s3cret\n")
        ok = self.check("[mqtt]\nhost = 127.0.0.1\nport = 1883\nusername = u\n"
                        "password_file = %s\nqos = 1\nprotocol = 5\n" % pw)
        self.assertEqual((ok.returncode, ok.stdout), (0, "configuration OK\n"), ok.stderr)
        cases = {
            "[mqtt]\nport = 1883\nqos = 3\n": ":3: [mqtt] qos: qos must be 0, 1 or 2",
            "[mqtt]\nbogus = 1\n": ":2: [mqtt] bogus: unknown key",
            "[mqtt]\nusername = u\npassword_file = /nonexistent/pw\n": "/nonexistent/pw",
            "[mqtt]\npassword_file = %s\n" % pw: "password_file needs a username",
            "[mqtt]\ntopic_prefix = a/#\n": "topic_prefix: contains a wildcard",
            "[mqtt]\ntopic_prefix = a//b\n": "topic_prefix: has an empty level",
            "[mqtt]\ntls_ca = /nonexistent/ca.crt\n": "tls_ca /nonexistent/ca.crt",
        }
        for text, want in cases.items():
            r = self.check(text)
            self.assertEqual(r.returncode, 1, text)
            self.assertIn(want, r.stderr, text)
            self.assertNotIn("s3cret", r.stderr + r.stdout)
        self.assertEqual(subprocess.run([BRIDGE, "--help"], capture_output=True).returncode, 0)
        self.assertEqual(subprocess.run([BRIDGE, "--bogus"], capture_output=True).returncode, 2)

    def test_second_bridge_refused(self):
        broker = self.track(Broker(self.work).start())
        first = self.track(Bridge(self.work, broker).start())
        second = self.track(Bridge(self.work, broker, name="second"))
        second.start(wait_connected=False)
        rc = second.proc.wait(10)
        second.proc = None
        self.assertEqual(rc, 1)
        self.assertIn("another campaign-bridge serves", second.logtext())
        self.assertIn("(pid %d)" % first.pid, second.logtext())
        self.assertIsNone(first.proc.poll())
        self.assertEqual(first.stop(), 0)
        # the lock goes with the process: a new bridge starts at once
        self.track(Bridge(self.work, broker, name="third").start()).stop()

    def test_waits_for_plan_and_broker(self):
        work = self.track_work(Workdir("noplan"))
        port = free_port()
        bridge = self.track(Bridge(work, port=port))
        bridge.start(wait_connected=False)
        wait_for(lambda: "no plan loaded yet" in bridge.logtext(), 10, "waiting for a plan")
        work.load_plan()
        wait_for(lambda: "cannot connect to 127.0.0.1:%d" % port in bridge.logtext(), 10,
                 "connection attempts")
        work.ctl("report", "2.4", "市扶贫办", "10")
        broker = self.track(Broker(work, port=port).start())
        # the event written while the broker was down goes out once it is up
        wait_for(lambda: work.event_states() == {1: 1}, 40, "delivery after the broker came up")
        state = retained(broker, PREFIX + "/#")
        self.assertEqual(state[PREFIX + "/summary"].json()["reported"], 1)
        self.assertEqual(state[PREFIX + "/bridge/status"].payload, b"online")
        self.assertIsNone(bridge.proc.poll())

    def track_work(self, work):
        self.addCleanup(work.cleanup)
        return work


if __name__ == "__main__":
    main()
