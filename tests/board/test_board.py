#!/usr/bin/python3
"""The board in a real headless Chromium, loaded from mosquitto's http_dir:
the seed plan from retained state alone, a report and a unit's written
summary live, a broadcast in the ticker until it expires, 离线 when the
bridge dies or the broker goes, every layout without overflow (with a
screenshot each, saved as artifacts)."""
import json
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bridge"))

from bridgetest import Bridge, BridgeTest, Broker, main, retained, wait_for  # noqa: E402
from boardtest import LAYOUTS, OVERFLOW_JS, WWW, Browser, board_url  # noqa: E402

PREFIX = "campaign/fupinri"
OFFLINE = "document.body.classList.contains('offline')"
ONLINE = "!document.body.classList.contains('offline') && !document.body.classList.contains('connecting')"


def unit_chip(task, unit):
    return ("(document.querySelector('.task[data-task=\"%s\"] .unit[data-unit=\"%s\"]') || {})"
            ".textContent" % (task, unit))


def ticker_has(text):
    return ("[...document.querySelectorAll('.ticker .ticker-item')].some(e => "
            "e.textContent.includes(%s)) && !document.querySelector('.ticker').hidden"
            % json.dumps(text))


class Board(BridgeTest):
    def setUp(self):
        super().setUp()
        self.broker = self.track(Broker(self.work, http_dir=WWW).start())
        self.bridge = self.track(Bridge(self.work, self.broker).start())
        self.browser = Browser()
        self.addCleanup(self.browser.close)
        # Everything the bridge publishes at start is retained before the page opens.
        wait_for(lambda: len([t for t in retained(self.broker, PREFIX + "/#", 0.5)
                              if "/tasks/" in t]) == 7, 15, "the retained task states")

    def test_seed_plan_from_retained_state_then_live(self):
        b = self.browser
        # No prefix: the page finds the campaign by its retained summary; broker: its origin.
        b.open("http://127.0.0.1:%d/" % self.broker.ws_port)
        b.wait("document.querySelectorAll('.task').length === 7", what="seven tasks")
        self.assertEqual(b.text("#title"), "“扶贫日”活动方案")
        self.assertEqual(b.text("#theme"), "10·17,一起过上好日子")
        self.assertEqual(b.text("#countdown"), "距10·17还有9天", "CAMPAIGN_NOW is 10-08")
        self.assertIn("今天 10·8", b.text("#overall-text"))
        self.assertEqual(b.eval(unit_chip("2.4", "市工商联")), "市工商联 未汇报")
        self.assertIn("逾期 8 天", b.text('.task[data-task="2.6"] .task-left'),
                      "2.6 was due 09-30")
        self.assertTrue(b.eval("document.querySelector('.task[data-task=\"2.6\"]')"
                               ".classList.contains('overdue')"))
        self.assertEqual(b.eval("getComputedStyle(document.querySelector("
                                "'.task[data-task=\"2.6\"] .task-left')).color"),
                         "rgb(255, 77, 77)", "overdue in red")
        self.assertIn("还有 2 天", b.text('.task[data-task="2.5"] .task-left'))
        self.assertTrue(b.eval(ONLINE))
        fonts = b.eval("document.fonts.check('20px \"Noto Sans CJK SC\"', '扶贫')")
        self.assertTrue(fonts, "Noto Sans CJK from the machine (fonts-noto-cjk)")

        self.assertIn("总结已交 0/15", b.text("#overall-text"), "3.4 is owed by all 15 units")
        self.assertEqual(b.text('.task[data-task="3.4"] .deliverable'), "总结已交 0/15",
                         "3.4's card counts the documents, the task names no unit")
        self.assertFalse(b.eval("!!document.querySelector('.task[data-task=\"2.4\"] "
                                ".deliverable')"), "a task that asks for no document")

        self.work.ctl("report", "2.4", "工商联", "60")
        b.wait(unit_chip("2.4", "市工商联") + " === '市工商联 60%'", what="60% for 市工商联")
        self.assertIn("总进度", b.text("#overall-text"))

        # A unit's written summary arrives (issue 15): the head line counts it.
        self.work.emit("submission", "市委宣传部", "宣传部扶贫日总结.docx")
        b.wait("document.getElementById('overall-text').textContent.includes('总结已交 1/15')",
               what="总结已交 1/15")
        b.wait("document.querySelector('.task[data-task=\"3.4\"] .deliverable')"
               ".textContent === '总结已交 1/15'", what="3.4's card: 1/15")
        self.assertTrue(b.eval("document.querySelector('.ticker').hidden"),
                        "the ticker stays for announcements")

    def test_broadcast_in_the_ticker_until_it_expires(self):
        b = self.browser
        b.open(board_url(self.broker))
        b.wait("document.querySelectorAll('.task').length === 7")
        self.assertTrue(b.eval("document.querySelector('.ticker').hidden"), "no notice yet")
        self.work.ctl("broadcast", "明天上午9点召开推进会", "--expires", "2h")
        b.wait(ticker_has("明天上午9点召开推进会"), what="the broadcast in the ticker")
        # A screen that restarts still shows it (retained announcements/current).
        b.open(board_url(self.broker))
        b.wait(ticker_has("明天上午9点召开推进会"), what="the broadcast after a reload")
        # The campaign's clock passes the expiry: the bridge's list drops it, the board too.
        self.bridge.stop()
        self.work.env["CAMPAIGN_NOW"] = "2027-10-08T11:30:00+08:00"
        self.bridge.start()
        b.wait("document.querySelector('.ticker').hidden && "
               "document.querySelectorAll('.ticker .ticker-item').length === 0",
               what="the expired broadcast gone")
        b.wait(ONLINE, what="online again")

    def test_offline_when_the_bridge_dies_and_after_a_broker_restart(self):
        b = self.browser
        b.open(board_url(self.broker))
        b.wait("document.querySelectorAll('.task').length === 7")
        b.wait(ONLINE)
        self.bridge.kill9()
        b.wait(OFFLINE, what="离线 after kill -9 of the bridge (its will)")
        self.assertIn("离线", b.text("#offline"))
        self.assertIn("最后更新 10-08 09:00", b.text("#offline"))
        b.screenshot("board-offline.png")
        self.assertTrue(b.eval("getComputedStyle(document.getElementById('offline'))"
                               ".display !== 'none'"))
        self.bridge.start()
        b.wait(ONLINE, what="online when the bridge is back")

        self.broker.stop(signal.SIGTERM)
        b.wait(OFFLINE, what="离线 when the broker goes")
        self.broker.start()
        b.wait(ONLINE, timeout=30, what="reconnected by itself")
        self.work.ctl("report", "2.2", "市广电局", "40")
        b.wait(unit_chip("2.2", "市广电局") + " === '市广电局 40%'", what="live after reconnect")

    def test_layouts_fit_and_screenshots(self):
        b = self.browser
        self.work.ctl("report", "2.4", "工商联", "60")
        self.work.ctl("report", "2.1", "市委宣传部", "done")
        self.work.ctl("broadcast", "今天下午3点前请各单位报送“扶贫日”活动进展", "--expires", "1d")
        for layout in LAYOUTS:
            b.open(board_url(self.broker, layout), layout)
            b.wait(ticker_has("报送") + " && document.querySelectorAll('.task').length === 7",
                   what="%s ready" % layout)
            # Reminders are not retained: those sent while the page is open show.
            for task in ("2.6", "2.5", "2.4", "2.1", "2.2"):
                self.work.emit("reminder", task)
            if layout != "ticker":
                b.wait("document.querySelectorAll('#reminder-list li').length === 4",
                       what="the latest four reminders")
            b.eval("new Promise(r => setTimeout(r, 300))")
            b.screenshot("board-%s.png" % layout)
            self.assertEqual(b.eval(OVERFLOW_JS), [], "%s: overflow" % layout)
            if layout == "ticker":
                self.assertTrue(b.eval("document.getElementById('tasks')"
                                       ".getBoundingClientRect().height === 0"),
                                "the strip shows only the countdown and the ticker")
                self.assertIn("距10·17还有9天", b.text("#countdown"))


if __name__ == "__main__":
    main()
