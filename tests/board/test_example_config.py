#!/usr/bin/python3
"""display/mosquitto-board.conf.example and board.acl.example, run as shipped
(only paths and ports changed): the page over HTTP from the websockets
listener, anonymous clients read but cannot publish, the bridge's user can."""
import os
import re
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bridge"))

import paho.mqtt.client as paho  # noqa: E402

from bridgetest import (LIFETIME, BridgeTest, Subscriber, free_port, main,  # noqa: E402
                        retained, wait_for)
from boardtest import WWW  # noqa: E402

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "display")


class ExampleConfig(BridgeTest):
    def setUp(self):
        super().setUp()
        w = self.work
        self.port, self.ws_port = free_port(), free_port()
        passwd = w.file("passwd", "")
        subprocess.run(["mosquitto_passwd", "-b", passwd, "bridge", "bridgepw"], check=True)
        with open(os.path.join(SRC, "board.acl.example")) as f:
            acl = w.file("acl", f.read())
        with open(os.path.join(SRC, "mosquitto-board.conf.example")) as f:
            conf = f.read()
        conf = re.sub(r"(?m)^password_file .*$", "password_file " + passwd, conf)
        conf = re.sub(r"(?m)^acl_file .*$", "acl_file " + acl, conf)
        conf = re.sub(r"(?m)^persistence_location .*$", "persistence_location %s/" % w.path, conf)
        conf = re.sub(r"(?m)^listener 1883$", "listener %d 127.0.0.1" % self.port, conf)
        conf = re.sub(r"(?m)^listener 8080$", "listener %d" % self.ws_port, conf)
        conf = re.sub(r"(?m)^http_dir .*$", "http_dir " + WWW, conf)
        self.conf = w.file("mosquitto.conf", "user root\nlog_dest file %s/broker.log\n" % w.path + conf)
        self.proc = subprocess.Popen(["timeout", str(LIFETIME), "mosquitto", "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(self.stop)
        wait_for(self.listening, 10, "mosquitto")
        self.port_holder = type("B", (), {"port": self.port})

    def listening(self):
        try:
            return urllib.request.urlopen("http://127.0.0.1:%d/index.html" % self.ws_port,
                                          timeout=1).status == 200
        except OSError:
            return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def publish(self, topic, payload, user=None):
        c = paho.Client(client_id="pub-%d" % free_port(), protocol=paho.MQTTv311)
        if user:
            c.username_pw_set(*user)
        c.connect("127.0.0.1", self.port)
        c.loop_start()
        c.publish(topic, payload, qos=1, retain=True).wait_for_publish(5)
        c.disconnect()
        c.loop_stop()

    def test_page_served_and_only_the_bridge_writes(self):
        page = urllib.request.urlopen("http://127.0.0.1:%d/" % self.ws_port, timeout=5).read()
        self.assertIn(b"board.js", page)
        js = urllib.request.urlopen("http://127.0.0.1:%d/mqtt.min.js" % self.ws_port, timeout=5)
        self.assertGreater(len(js.read()), 100000, "MQTT.js's bundle beside the page")
        topic = "campaign/fupinri/summary"
        self.publish(topic, "forged by a screen")
        self.publish("campaign/fupinri/announcements/current",
                     '{"v":1,"ts":"2027-10-08T09:00:00+08:00","announcements":[],'
                     '"today":"2027-10-08"}', user=("bridge", "bridgepw"))
        time.sleep(0.3)
        got = retained(self.port_holder, "campaign/fupinri/#", 1.0, v311=True)
        self.assertNotIn(topic, got, "anonymous clients cannot publish")
        self.assertIn("campaign/fupinri/announcements/current", got, "the bridge's user can")
        sub = self.track(Subscriber(self.port_holder, v311=True))
        self.assertTrue(sub.client.is_connected(), "anonymous clients may subscribe")


if __name__ == "__main__":
    main()
