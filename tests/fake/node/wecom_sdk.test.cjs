// The fake WeCom smart robot (tests/fake/fake_wecom.py) held honest by WeCom's
// official Node SDK (npm @wecom/aibot-node-sdk, version pinned in
// package-lock.json). Run through run_sdk_test.sh (it does `npm ci` into a build
// directory). The SDK takes the fake's address through its own `wsUrl` option;
// nothing in the package is changed. Strict use: every warning or error the SDK
// logs (through the logger given to it), every uncaught exception or unhandled
// rejection fails the test, except the ones a scenario expects by name.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { createRequire } = require('node:module');

const modules = process.env.WECOM_NODE_MODULES;
const fakePath = process.env.WECOM_FAKE;
const tmp = fs.mkdtempSync(path.join(process.env.WECOM_TMP || require('node:os').tmpdir(), 'sdk-'));
const sdk = createRequire(path.join(modules, 'campaign-anchor.js'))('@wecom/aibot-node-sdk');

const BOT_ID = 'aibSDKtestbot0001';
const SECRET = 'sdk-wecom-secret-' + process.pid;

// Each test's problems: the SDK's warnings and errors, uncaught exceptions and
// unhandled rejections. A client logs into the list of the test that made it.
let problems = [];
process.on('uncaughtException', (e) => problems.push('uncaught: ' + e.stack));
process.on('unhandledRejection', (e) => problems.push('unhandled rejection: ' + (e && (e.stack || JSON.stringify(e)))));

// The SDK's logger: info/debug kept for the record, warn/error are problems.
function logger(name, lines) {
  const problems = currentProblems();
  const put = (level) => (msg, ...args) => {
    const line = `[${name}] ${level}: ${[msg, ...args].map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`;
    lines.push(line);
    if (level === 'warn' || level === 'error') problems.push(line);
  };
  return { debug: put('debug'), info: put('info'), warn: put('warn'), error: put('error') };
}

function currentProblems() {
  return problems;
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

async function startFake(extra = []) {
  const dir = fs.mkdtempSync(path.join(tmp, 'fake-'));
  const portFile = path.join(dir, 'port');
  const secretFile = path.join(dir, 'secret');
  fs.writeFileSync(secretFile, SECRET + '\n');
  const logPath = path.join(dir, 'fake.log');
  const log = fs.openSync(logPath, 'w');
  const proc = spawn('/usr/bin/python3', [fakePath, '--port-file', portFile, '--bot-id', BOT_ID,
    '--secret-file', secretFile, '--max-lifetime', '150', ...extra],
  { stdio: ['ignore', log, log] });
  for (let i = 0; i < 500 && !fs.existsSync(portFile); i++) await sleep(20);
  const port = Number(fs.readFileSync(portFile, 'utf8'));
  assert.ok(port > 0, 'the fake did not start');
  const base = `http://127.0.0.1:${port}`;
  const st = await control(base, 'GET', 'state');
  return { proc, base, wsUrl: st.ws_url, logPath };
}

// node:http rather than fetch (Node 18 warns about fetch on stderr).
function httpJson(method, url, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
    const req = http.request(url, {
      method,
      agent: false, // /control/wait blocks longer than an idle keep-alive socket lives
      headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {},
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString()) });
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

async function control(base, method, what, body) {
  const res = await httpJson(method, base + '/control/' + what, body);
  assert.equal(res.status, 200, `control ${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function waitFor(base, conds, timeout = 20) {
  const q = Object.entries(conds).map(([k, v]) => `${k}=${v}`).join('&');
  const r = await control(base, 'GET', `wait?${q}&timeout=${timeout}`);
  assert.ok(r.ok, `timed out waiting for ${q}: ${JSON.stringify(r.state)}`);
  return r.state;
}

// Teardown: every client is disconnected (public API; a kicked one only logs
// "Client not connected" into its finished test's list), so none outlives its test.
function stop(c) {
  if (!c) return;
  c.removeAllListeners();
  c.disconnect();
}

function client(fake, name, lines, over = {}) {
  return new sdk.WSClient({
    botId: BOT_ID, secret: SECRET, wsUrl: fake.wsUrl, heartbeatInterval: 300,
    reconnectInterval: 200, maxReconnectAttempts: 3, maxAuthFailureAttempts: 1,
    logger: logger(name, lines), ...over,
  });
}

test('the SDK subscribes, answers with a stream, sends markdown, pings, and yields to a newer connection', async (t) => {
  problems = [];
  const lines = [];
  let done = false;
  const fake = await startFake();
  const a = client(fake, 'A', lines);
  let b = null;
  t.after(async () => {
    for (const c of [a, b]) stop(c);
    fake.proc.kill('SIGTERM');
    if (!done) console.log(lines.join('\n')); // the SDK's own account, for a failure
  });
  const got = [];
  const aEvents = [];
  a.on('authenticated', () => aEvents.push('authenticated'));
  a.on('disconnected', (why) => aEvents.push('disconnected: ' + why));
  a.on('event.disconnected_event', () => aEvents.push('disconnected_event'));
  a.on('message.text', async (frame) => {
    got.push(frame);
    const text = frame.body.text.content;
    const sid = 'stream-' + frame.body.msgid;
    await a.replyStream(frame, sid, '收到', false);
    await a.replyStream(frame, sid, `收到：${text}`, true);
  });
  a.connect();
  let st = await waitFor(fake.base, { subscribed: 1, subscribed_connections: 1 });
  for (let i = 0; i < 100 && aEvents.length === 0; i++) await sleep(20);
  assert.deepEqual(aEvents, ['authenticated']);

  // A private message: the SDK hands it over, the answer streams in two frames.
  const inj = (await control(fake.base, 'POST', 'messages', {
    messages: [{ userid: 'manager01', text: '/tasks' }],
  })).results[0];
  assert.equal(inj.pushed, true);
  await waitFor(fake.base, { stream: 1 });
  assert.equal(got.length, 1);
  assert.equal(got[0].headers.req_id, inj.req_id);
  assert.equal(got[0].body.chattype, 'single');
  assert.equal(got[0].body.from.userid, 'manager01');
  const r = await control(fake.base, 'GET', 'responses?req_id=' + inj.req_id);
  assert.equal(r.streams.length, 1);
  assert.equal(r.streams[0].frames, 2);
  assert.equal(r.streams[0].finished, true);
  assert.deepEqual(r.frames.map((f) => [f.content, f.finish, f.errcode]),
    [['收到', false, 0], ['收到：/tasks', true, 0]]);
  let sent = (await control(fake.base, 'GET', 'sent')).sent;
  assert.equal(sent[0].via, 'stream');
  assert.equal(sent[0].text, '收到：/tasks');
  assert.equal(sent[0].msgid, inj.msgid);

  // A group message keeps the @mention.
  await control(fake.base, 'POST', 'messages', {
    messages: [{ type: 'group', chatid: 'wrUNITA', userid: 'li01', text: '/countdown' }],
  });
  await waitFor(fake.base, { stream: 2 });
  assert.equal(got[1].body.chattype, 'group');
  assert.equal(got[1].body.chatid, 'wrUNITA');
  assert.equal(got[1].body.text.content, '@campaign-bot /countdown');

  // Unprompted markdown: acknowledged with errcode 0.
  const ack = await a.sendMessage('wrUNITA', { msgtype: 'markdown', markdown: { content: '**提醒** 今天截止' } });
  assert.equal(ack.errcode, 0);
  sent = (await control(fake.base, 'GET', 'sent?via=send_msg')).sent;
  assert.equal(sent.length, 1);
  assert.equal(sent[0].chatid, 'wrUNITA');
  assert.equal(sent[0].chattype, 'group');
  assert.equal(sent[0].text, '**提醒** 今天截止');
  assert.ok(sent[0].send_req_id.startsWith('aibot_send_msg_'));

  // The refusals reach the SDK caller as the answer frame (the SDK logs each
  // with warn: those two lines are expected).
  await assert.rejects(a.replyStream({ headers: { req_id: 'no-such-req' } }, 's', 'x', true),
    (e) => e.errcode === 846605);
  await control(fake.base, 'POST', 'faults', { faults: [{ fault: 'expire_streams' }] });
  await assert.rejects(a.replyStream(got[0], 'late', '太晚了', true), (e) => e.errcode === 846608);
  await assert.rejects(a.reply(got[0], { msgtype: 'markdown', markdown: { content: 'x' } }),
    (e) => e.errcode === 40008);
  const refusals = problems.splice(0).filter((p) => !p.includes('Reply ack error'));
  assert.deepEqual(refusals, []);

  // Heartbeats: the SDK pings (every 300 ms here, 30 s by default), the fake answers.
  st = await waitFor(fake.base, { pings_answered: 3 });
  const pings = (await control(fake.base, 'GET', 'frames?cmd=ping')).frames;
  assert.ok(pings.every((f) => f.req_id.startsWith('ping_') && f.body === undefined));

  // A second client of the same bot subscribes: A gets disconnected_event, is
  // dropped, and (the SDK's choice) does not reconnect; B gets the next message.
  b = client(fake, 'B', lines);
  const gotB = [];
  b.on('message.text', (frame) => {
    gotB.push(frame);
    b.replyStream(frame, 'b1', 'B 收到', true);
  });
  b.connect();
  st = await waitFor(fake.base, { subscribed: 2, kicks: 1, closes: 1 });
  for (let i = 0; i < 100 && aEvents.length < 3; i++) await sleep(20);
  assert.deepEqual(aEvents.slice(1, 3), ['disconnected_event',
    'disconnected: New connection established, server disconnected this connection']);
  const kicked = problems.splice(0);
  assert.ok(kicked.some((p) => p.includes('Received disconnected_event')), kicked.join('\n'));
  assert.deepEqual(kicked.filter((p) => !p.includes('disconnected')), []);
  await control(fake.base, 'POST', 'messages', { messages: [{ userid: 'zhao01', text: '/help' }] });
  await waitFor(fake.base, { stream: 3 });
  assert.equal(gotB.length, 1);
  assert.equal(got.length, 2);
  await sleep(1500); // A's reconnect delay is 200 ms: had it meant to come back, it would have
  st = await control(fake.base, 'GET', 'state');
  assert.equal(st.counts.connects, 2, 'A reconnected after being kicked');
  assert.equal(st.counts.subscribed_connections, 1);
  assert.deepEqual(st.violations, []);
  b.disconnect();
  assert.deepEqual(problems, []);
  done = true;
});

test('wrong credentials: 853000, the SDK closes the socket itself and gives up after its limit', async (t) => {
  problems = [];
  const lines = [];
  const fake = await startFake();
  const c = client(fake, 'C', lines, { secret: 'not-the-secret', maxAuthFailureAttempts: 1 });
  t.after(() => {
    stop(c);
    fake.proc.kill('SIGTERM');
  });
  const errors = [];
  c.on('error', (e) => errors.push(e));
  c.connect();
  await waitFor(fake.base, { auth_failures: 2, closes: 2 });
  for (let i = 0; i < 100 && !errors.some((e) => e.code === 'WS_AUTH_FAILURE_EXHAUSTED'); i++) await sleep(50);
  assert.match(errors[0].message, /code: 853000/);
  assert.ok(errors.some((e) => e.code === 'WS_AUTH_FAILURE_EXHAUSTED'));
  const st = await control(fake.base, 'GET', 'state');
  assert.equal(st.counts.subscribed, 0);
  assert.deepEqual(st.violations, []);
  assert.ok(problems.length >= 2 && problems.every((p) => /Authentication failed|Max auth failure|connection closed/.test(p)),
    problems.join('\n'));
  assert.ok(!fs.readFileSync(fake.logPath, 'utf8').includes('not-the-secret'));
});

test('a silent connection: two unanswered pings, the SDK drops it, reconnects and subscribes again', async (t) => {
  problems = [];
  const lines = [];
  const fake = await startFake();
  const c = client(fake, 'D', lines);
  t.after(() => {
    stop(c);
    fake.proc.kill('SIGTERM');
  });
  const got = [];
  c.on('message.text', (frame) => {
    got.push(frame);
    c.replyStream(frame, 'd1', 'ok', true);
  });
  c.connect();
  await waitFor(fake.base, { subscribed: 1, pings_answered: 1 });
  await control(fake.base, 'POST', 'faults', { faults: [{ fault: 'silent' }] });
  // Queued while the only connection is silent, delivered on the next one.
  await control(fake.base, 'POST', 'messages', { messages: [{ userid: 'wang01', text: '/due' }] });
  const st = await waitFor(fake.base, { subscribed: 2, connects: 2, stream: 1 }, 30);
  assert.equal(got.length, 1);
  const frames = (await control(fake.base, 'GET', 'frames')).frames;
  const silentPings = frames.filter((f) => f.connection === 1 && f.cmd === 'ping' && f.silent);
  assert.ok(silentPings.length >= 2, JSON.stringify(frames));
  assert.deepEqual(st.violations, []);
  const other = problems.filter((p) => !/No heartbeat ack|connection closed/.test(p));
  assert.deepEqual(other, []);
  assert.ok(problems.some((p) => p.includes('No heartbeat ack')), 'the SDK did not notice');
});

test('a file from a single chat: the SDK downloads it, decrypts it and reads its name', async (t) => {
  problems = [];
  const lines = [];
  let done = false;
  const fake = await startFake();
  const c = client(fake, 'F', lines);
  t.after(() => {
    stop(c);
    fake.proc.kill('SIGTERM');
    if (!done) console.log(lines.join('\n'));
  });
  const name = '扶贫日工作总结.docx';
  // Not a multiple of 32 bytes, with every byte value: padding and binary both checked.
  const data = Buffer.concat([Buffer.from('扶贫日工作总结\n'.repeat(700)), Buffer.from([...Array(256).keys()])]);
  const got = [];
  c.on('message.file', async (frame) => {
    try {
      const { buffer, filename } = await c.downloadFile(frame.body.file.url, frame.body.file.aeskey);
      got.push({ frame, buffer, filename });
    } catch (e) {
      got.push({ frame, error: e });
    }
  });
  c.connect();
  await waitFor(fake.base, { subscribed: 1, subscribed_connections: 1 });
  const inj = (await control(fake.base, 'POST', 'messages', {
    messages: [{ userid: 'manager01', file: { name, data_b64: data.toString('base64') } }],
  })).results[0];
  assert.equal(inj.pushed, true);
  await waitFor(fake.base, { file_gets: 1 });
  for (let i = 0; i < 250 && got.length === 0; i++) await sleep(20);
  assert.equal(got.length, 1);
  assert.ifError(got[0].error);
  assert.equal(got[0].frame.body.msgtype, 'file');
  assert.equal(got[0].frame.body.file.url, inj.url);
  assert.equal(got[0].frame.body.file.aeskey, inj.aeskey);
  assert.equal(got[0].filename, name);
  assert.ok(got[0].buffer.equals(data), `decrypted ${got[0].buffer.length} bytes, sent ${data.length}`);

  // A file in a group: the control API refuses it, nothing reaches the SDK.
  const refused = await httpJson('POST', fake.base + '/control/messages', {
    messages: [{ type: 'group', chatid: 'wrUNITA', file: { name, data_b64: 'AA==' } }],
  });
  assert.equal(refused.status, 400);
  assert.match(refused.body.error, /single chats only/);
  const st = await control(fake.base, 'GET', 'state');
  assert.equal(st.counts.pushes, 1);
  assert.deepEqual(st.violations, []);
  assert.deepEqual(problems, []);
  done = true;
});
