// A headless Chromium (Debian's /usr/bin/chromium) driven by puppeteer-core,
// one JSON command per stdin line, one JSON answer per stdout line, so the
// Python tests (tests/board/boardtest.py) can use a real browser.
//   {"cmd":"open","url":U,"width":W,"height":H}   a new page (the old one closes)
//   {"cmd":"eval","js":EXPR}                      the expression's JSON value
//   {"cmd":"wait","js":EXPR,"timeout":MS}         until EXPR is truthy
//   {"cmd":"screenshot","path":P}
//   {"cmd":"quit"}
// Answers: {"ok":true,"value":V} or {"ok":false,"error":TEXT}.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const readline = require("readline");
const puppeteer = require("puppeteer-core");

const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
  "--no-first-run", "--disable-background-networking", "--disable-component-update",
  "--disable-sync"];

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "board-chromium-"));
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [...FLAGS, "--user-data-dir=" + profile],
    ignoreDefaultArgs: ["--enable-automation"],
  });
  let page = null;
  const logs = [];
  const answer = (o) => process.stdout.write(JSON.stringify(o) + "\n");
  const handlers = {
    async open(c) {
      if (page) await page.close();
      page = await browser.newPage();
      page.on("console", (m) => logs.push(m.type() + ": " + m.text()));
      page.on("pageerror", (e) => logs.push("pageerror: " + e.message));
      await page.setViewport({ width: c.width, height: c.height });
      await page.goto(c.url, { waitUntil: "load", timeout: 20000 });
      return true;
    },
    async eval(c) {
      return page.evaluate(c.js);
    },
    async wait(c) {
      await page.waitForFunction(c.js, { timeout: c.timeout || 10000, polling: "raf" });
      return true;
    },
    async screenshot(c) {
      await page.screenshot({ path: c.path });
      return c.path;
    },
    async logs() {
      return logs.splice(0);
    },
  };
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    let c;
    try {
      c = JSON.parse(line);
    } catch (e) {
      answer({ ok: false, error: "bad command" });
      continue;
    }
    if (c.cmd === "quit") break;
    try {
      answer({ ok: true, value: await handlers[c.cmd](c) });
    } catch (e) {
      answer({ ok: false, error: String(e && e.message || e) });
    }
  }
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
}

main().catch((e) => {
  process.stderr.write("browser.js: " + (e && e.stack || e) + "\n");
  process.exit(1);
});
