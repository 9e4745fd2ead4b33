#!/usr/bin/python3
"""The board's commit-to-page latency: N reports (campaignctl report, a
commit each) and, in a real headless Chromium showing the board, the time
until the unit's new percentage is in the page (a MutationObserver notes
it). Measured from campaignctl's exit, just after its commit; one report at
a time. Printed, not asserted.  bench/board/run [N]"""
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "bridge"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "board"))

from bridgetest import Bridge, Broker, Workdir, retained, wait_for  # noqa: E402
from boardtest import WWW, Browser, board_url  # noqa: E402

WATCH = r"""(() => {
  window.benchSeen = {};
  new MutationObserver(() => {
    const e = document.querySelector('.task[data-task="2.4"] .unit[data-unit="市工商联"]');
    if (e && !(e.textContent in window.benchSeen)) window.benchSeen[e.textContent] = Date.now();
  }).observe(document.getElementById('tasks'), {childList: true, subtree: true,
                                                  characterData: true});
  return true;
})()"""


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    work = Workdir("board-bench")
    broker = bridge = browser = None
    try:
        work.load_plan()
        broker = Broker(work, http_dir=WWW).start()
        bridge = Bridge(work, broker, extra="[log]\nlevel = warn\n").start()
        wait_for(lambda: len(retained(broker, "campaign/fupinri/#", 0.5)) >= 9, 15, "state")
        browser = Browser()
        browser.open(board_url(broker))
        browser.wait("document.querySelectorAll('.task').length === 7")
        browser.eval(WATCH)
        lat = []
        for i in range(n):
            value = 1 + i % 99
            want = "市工商联 %d%%" % value
            browser.eval("delete window.benchSeen[%r]" % want)
            work.ctl("report", "2.4", "工商联", str(value))
            t0 = time.time() * 1000
            browser.wait("window.benchSeen[%r] !== undefined" % want, timeout=10)
            lat.append(browser.eval("window.benchSeen[%r]" % want) - t0)
        print("board commit -> page latency over %d reports (real Chromium %s): "
              "p50 %.0f ms, p99 %.0f ms, max %.0f ms, mean %.0f ms" % (
                  n, browser.eval("navigator.userAgent.match(/Chrome\\/([0-9.]+)/)[1]"),
                  pct(lat, 50), pct(lat, 99), max(lat), statistics.mean(lat)))
    finally:
        if browser:
            browser.close()
        if bridge and bridge.proc:
            bridge.stop()
        if broker:
            broker.stop()
        work.cleanup()


if __name__ == "__main__":
    main()
