#!/usr/bin/python3
"""Broadcasts and reminders on MQTT: campaignctl broadcast and the bot's
reminders reach a real mosquitto through campaign-bridge, on their topics,
with their v5 message expiry (the announcement's --expires; a reminder's end
of the due day, or of today once overdue), each reminder once across bot
restarts. Uses the bridge tests' harness (tests/bridge/bridgetest.py).
"""
import json
import os
import subprocess

from bridgetest import (PREFIX, Bridge, BridgeTest, Broker, Subscriber, main, wait_for)

BOT = os.environ.get("CAMPAIGN_BOT_BIN", "campaign-bot")
EVENTS, ANN, REM = PREFIX + "/events", PREFIX + "/announcements", PREFIX + "/reminders"


class BroadcastMqtt(BridgeTest):
    def start(self):
        self.broker = self.track(Broker(self.work).start())
        self.sub = self.track(Subscriber(self.broker))
        self.bridge = self.track(Bridge(self.work, self.broker).start())

    def console_bot(self):
        """A console session that types nothing: the scheduler's first tick, then exit."""
        r = subprocess.run([BOT, "--console"], env=self.work.env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_announcement(self):
        self.start()
        r = self.work.ctl("broadcast", "“扶贫日”倒计时 9 天:请各单位做好准备", "--expires", "2h")
        self.assertIn("broadcast 1:", r.stdout)
        a = self.sub.wait_topic(ANN)
        p = a.json()
        for key, want in (("v", 1), ("type", "announcement"), ("broadcast", 1),
                          ("text", "“扶贫日”倒计时 9 天:请各单位做好准备"), ("units", None),
                          ("expires_at", "2027-10-08T11:00:00+08:00"), ("chats", 0),
                          ("ts", "2027-10-08T09:00:00+08:00"), ("campaign", "fupinri")):
            self.assertEqual(p[key], want, key)
        self.assertTrue(7198 <= a.expiry <= 7200, "expiry from --expires: %s" % a.expiry)
        self.assertIn("倒计时".encode(), a.payload, "Chinese is not escaped")
        self.assertEqual(self.sub.wait_topic(EVENTS).json()["id"], p["id"])
        # Without --expires the announcement does not expire; --units names them.
        self.work.ctl("broadcast", "宣传口明早碰头", "--units", "宣传部,扶贫办")
        b = self.sub.wait_topic(ANN, lambda m: m.json()["broadcast"] == 2)
        self.assertIsNone(b.expiry)
        self.assertEqual(b.json()["units"], ["市委宣传部", "市扶贫办"])
        wait_for(lambda: "published" in self.work.ctl("broadcast", "status", "2").stdout, 10,
                 "broadcast status to see the event published")

    def test_reminders_once_with_expiry(self):
        self.start()
        # Friday 10-08 09:00: 2.5 (due Sunday 10-10) gets its "due" reminder today, the
        # last working day before; 2.6 (due 09-30) is overdue.
        self.console_bot()
        self.sub.wait_ids(REM, [1, 2, 3, 4, 5, 6, 7])
        got = {}
        for m in self.sub.snapshot(REM):
            p = m.json()
            got[(p["task"]["id"], p["unit"])] = (p, m.expiry)
        self.assertEqual(sorted(got), sorted(
            [("2.5", u) for u in ("市委办公室", "市政府办公室", "市委组织部", "市直机关工委", "市扶贫办")] +
            [("2.6", u) for u in ("市扶贫攻坚领导小组办公室", "相关单位")]))
        p, expiry = got[("2.5", "市扶贫办")]
        self.assertEqual((p["kind"], p["date"], p["days_left"], p["task"]["due"]),
                         ("before-0", "2027-10-10", 2, "2027-10-10"))
        # Until the end of the due day: 10-11 00:00 is 2 days 15 hours away.
        self.assertTrue(226798 <= expiry <= 226800, "2.5 expiry %s" % expiry)
        p, expiry = got[("2.6", "相关单位")]
        self.assertEqual((p["kind"], p["date"], p["days_left"], p["reported"]),
                         ("overdue", "2027-10-08", -8, False))
        self.assertTrue(53998 <= expiry <= 54000, "overdue: news until today ends: %s" % expiry)
        self.assertEqual(self.sub.ids(EVENTS), list(range(1, 8)))
        # The bot again at the same instant, and after a report: nothing repeats.
        self.console_bot()
        self.work.ctl("report", "2.5", "市扶贫办", "done")
        self.console_bot()
        wait_for(lambda: 8 in self.sub.ids(EVENTS), 10, "the progress event")
        self.assertEqual(len(self.sub.snapshot(REM)), 7)
        self.assertEqual([r[0] for r in self.work.sql(
            "SELECT count(*) FROM events WHERE type = 'reminder'")], [7])
        # Monday: a new day's reminders, but not for what is done.
        self.work.env["CAMPAIGN_NOW"] = "2027-10-11T09:00:00+08:00"
        self.console_bot()
        # 2.1, 2.2, 2.4: four units each; 2.5: four (not 市扶贫办); 2.6: two.
        wait_for(lambda: len(self.sub.snapshot(REM)) == 7 + 18, 10, "Monday's reminders")
        units_25 = [m.json()["unit"] for m in self.sub.snapshot(REM)
                    if m.json()["task"]["id"] == "2.5" and m.json()["kind"] == "overdue"]
        self.assertNotIn("市扶贫办", units_25)


if __name__ == "__main__":
    main()
