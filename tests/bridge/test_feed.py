#!/usr/bin/python3
"""[feed]: the Atom feed of announcements and completed tasks, read back with
feedparser (Debian's python3-feedparser) as a newsroom's CMS would."""
import os

import feedparser

from bridgetest import PREFIX, Bridge, BridgeTest, Broker, Subscriber, main, wait_for

BOARD = "http://board.example:8080/?layout=landscape"


class Feed(BridgeTest):
    def start(self, entries=50):
        self.path = os.path.join(self.work.path, "www", "feed.xml")
        os.makedirs(os.path.dirname(self.path))
        self.broker = self.track(Broker(self.work).start())
        self.sub = self.track(Subscriber(self.broker))
        extra = "[feed]\npath = %s\nentries = %d\nboard_url = %s\n" % (self.path, entries, BOARD)
        self.bridge = self.track(Bridge(self.work, self.broker, extra=extra).start())

    def parse(self):
        with open(self.path, "rb") as f:
            return feedparser.parse(f.read())

    def delivered(self):
        wait_for(lambda: self.work.event_states() and
                 set(self.work.event_states().values()) == {1}, 10, "delivery")

    def test_announcements_and_done_tasks_newest_first(self):
        self.start()
        wait_for(lambda: os.path.exists(self.path), 5, "the feed written at start")
        d = self.parse()
        self.assertEqual((d.bozo, len(d.entries)), (0, 0), "valid and empty before any news")
        self.work.ctl("report", "2.3", "市委宣传部", "done")
        self.work.ctl("report", "2.3", "市扶贫办", "done")       # task 2.3 is done now
        self.work.ctl("report", "2.3", "市扶贫办", "done", "--note", "再次确认")  # no second entry
        self.work.ctl("broadcast", "明天上午9点召开推进会 <请准时> & 带材料", "--expires", "1d")
        self.delivered()
        wait_for(lambda: len(self.parse().entries) == 2, 5, "two entries")
        d = self.parse()
        self.assertEqual(d.bozo, 0, d.get("bozo_exception"))
        self.assertEqual(d.version, "atom10")
        self.assertEqual(d.feed.title, "“扶贫日”活动方案")
        self.assertEqual(d.feed.language, "zh-CN")
        self.assertEqual(d.feed.link, BOARD)
        ann, done = d.entries
        self.assertEqual(ann.summary, "明天上午9点召开推进会 <请准时> & 带材料")
        self.assertTrue(ann.title.startswith("通知:明天上午9点召开推进会"))
        self.assertEqual(ann.link, BOARD)
        self.assertEqual(ann.published, "2027-10-08T09:00:00+08:00", "the plan's offset")
        self.assertEqual(ann.updated, "2027-10-08T09:00:00+08:00")
        self.assertRegex(ann.id, r"^tag:campaign-bot\.invalid,2027-10-08:fupinri/event/\d+$")
        self.assertEqual(done.title, "任务 2.3 已完成:评选、宣传和表彰“扶贫功臣”")
        self.assertRegex(done.id, r"^tag:[^,]+,2027-10-08:fupinri/event/2$",
                         "the first report that found the task done")
        self.assertFalse(os.path.exists(self.path + ".tmp"))
        ids = [e.id for e in d.entries]
        # A restart rewrites the same entries with the same ids.
        self.bridge.stop()
        self.bridge.start()
        self.assertEqual([e.id for e in self.parse().entries], ids)

    def test_entries_caps_the_feed(self):
        self.start(entries=3)
        for i in range(5):
            self.work.emit("announcement", "第%d条通知" % i)
        self.delivered()
        wait_for(lambda: [e.summary for e in self.parse().entries] ==
                 ["第4条通知", "第3条通知", "第2条通知"], 5, "the newest three")
        self.sub.wait_topic(PREFIX + "/announcements/current",
                            lambda m: len(m.json()["announcements"]) == 5)


if __name__ == "__main__":
    main()
