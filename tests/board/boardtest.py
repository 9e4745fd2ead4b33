"""Harness for the board's tests: the bridge tests' broker and bridge
(tests/bridge/bridgetest.py) plus a real headless Chromium driven through
browser.js (puppeteer-core). The page comes from mosquitto's http_dir, as a
user's screen gets it.

Environment (set by CMake): BOARD_WWW (the built page), BOARD_NODE_PATH
(node_modules holding puppeteer-core), BOARD_ARTIFACTS (screenshots),
plus the bridge tests' variables.
"""
import json
import os
import subprocess

from bridgetest import LIFETIME

HERE = os.path.dirname(os.path.abspath(__file__))
WWW = os.environ.get("BOARD_WWW", "build/dev/display/www")
ARTIFACTS = os.environ.get("BOARD_ARTIFACTS", "/tmp/board-artifacts")
LAYOUTS = {"landscape": (1920, 1080), "portrait": (1080, 1920), "ticker": (1920, 160)}

# Every visible element inside the viewport and no text cut (its content
# wider or taller than its box); the ticker's track scrolls by design.
OVERFLOW_JS = r"""(() => {
  const W = innerWidth, H = innerHeight, bad = [];
  for (const e of document.querySelectorAll('body *')) {
    if (e.closest('.ticker-track') || e.tagName === 'SCRIPT') continue;
    const st = getComputedStyle(e);
    if (st.display === 'none' || st.visibility === 'hidden' || e.closest('[hidden]')) continue;
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const name = e.tagName + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '');
    if (r.left < -1 || r.top < -1 || r.right > W + 1 || r.bottom > H + 1)
      bad.push('outside: ' + name + ' ' + JSON.stringify([r.left, r.top, r.right, r.bottom]));
    if (e.classList.contains('ticker')) continue;
    if (e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1)
      bad.push('cut: ' + name + ' "' + e.textContent.slice(0, 30) + '" ' +
               JSON.stringify([e.scrollWidth, e.clientWidth, e.scrollHeight, e.clientHeight]));
  }
  return bad;
})()"""


class Browser:
    def __init__(self):
        env = dict(os.environ)
        if os.environ.get("BOARD_NODE_PATH"):
            env["NODE_PATH"] = os.environ["BOARD_NODE_PATH"]
        self.proc = subprocess.Popen(["timeout", "-s", "KILL", str(LIFETIME), "node",
                                      os.path.join(HERE, "browser.js")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=env, text=True, bufsize=1)

    def call(self, cmd, **kw):
        kw["cmd"] = cmd
        self.proc.stdin.write(json.dumps(kw) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError("browser.js died")
        a = json.loads(line)
        if not a["ok"]:
            raise AssertionError("browser %s: %s" % (cmd, a["error"]))
        return a.get("value")

    def open(self, url, layout="landscape"):
        w, h = LAYOUTS[layout]
        return self.call("open", url=url, width=w, height=h)

    def eval(self, js):
        return self.call("eval", js=js)

    def wait(self, js, timeout=15, what=None):
        try:
            return self.call("wait", js=js, timeout=int(timeout * 1000))
        except AssertionError as e:
            raise AssertionError("%s (waiting for %s); page said: %s" %
                                 (e, what or js, self.call("logs")))

    def text(self, selector):
        return self.eval("(document.querySelector(%s) || {}).textContent || ''"
                         % json.dumps(selector))

    def screenshot(self, name):
        os.makedirs(ARTIFACTS, exist_ok=True)
        return self.call("screenshot", path=os.path.join(ARTIFACTS, name))

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write('{"cmd":"quit"}\n')
                self.proc.stdin.flush()
                self.proc.wait(15)
            except Exception:
                self.proc.kill()
                self.proc.wait(5)
        self.proc.stdin.close()
        self.proc.stdout.close()


def board_url(broker, layout="landscape", prefix="campaign/fupinri"):
    return "http://127.0.0.1:%d/index.html?layout=%s&prefix=%s" % (broker.ws_port, layout,
                                                                   prefix)
