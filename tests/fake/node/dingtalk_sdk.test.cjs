// The fake DingTalk (tests/fake/fake_dingtalk.py) held honest by DingTalk's
// official Node SDK (npm dingtalk-stream, version pinned in package-lock.json).
// Run through run_sdk_test.sh (it does `npm ci` into a build directory).
//
// The SDK's gateway URL is a constant (dist/constants.cjs); the test points it
// at the fake in memory and changes nothing else in the package. Strict use:
// any console.warn/console.error from the SDK (it reports socket and protocol
// errors there), any uncaught exception or unhandled rejection fails the test,
// and the SDK runs with its own keep-alive (WebSocket pings) switched on.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { createRequire } = require('node:module');

const modules = process.env.DT_NODE_MODULES;
const fakePath = process.env.DT_FAKE;
const tmp = fs.mkdtempSync(path.join(process.env.DT_TMP || require('node:os').tmpdir(), 'sdk-'));
const sdkRequire = createRequire(path.join(modules, 'campaign-anchor.js'));
const sdk = sdkRequire('dingtalk-stream');
const constants = sdkRequire('dingtalk-stream/constants');

const CLIENT_ID = 'dingsdktestapp0001';
const SECRET = 'sdk-test-secret-' + process.pid;

const problems = [];
for (const level of ['warn', 'error']) {
  const orig = console[level];
  console[level] = (...args) => {
    problems.push(level + ': ' + args.map(String).join(' '));
    orig.apply(console, args);
  };
}
// The SDK starts a keep-alive interval per connection and clears only the last
// one on disconnect(), so after a reconnect one interval outlives the client
// (dingtalk-stream 2.1.5, dist/client.cjs _connect/disconnect). Unref the
// intervals so that leak cannot keep this process alive; nothing else changes.
const realSetInterval = global.setInterval;
global.setInterval = (...args) => {
  const id = realSetInterval(...args);
  if (id && typeof id.unref === 'function') id.unref();
  return id;
};
process.on('uncaughtException', (e) => problems.push('uncaught: ' + e.stack));
process.on('unhandledRejection', (e) => problems.push('unhandled rejection: ' + (e && e.stack)));

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

async function startFake() {
  const dir = fs.mkdtempSync(path.join(tmp, 'fake-'));
  const portFile = path.join(dir, 'port');
  const secretFile = path.join(dir, 'secret');
  fs.writeFileSync(secretFile, SECRET + '\n');
  const log = fs.openSync(path.join(dir, 'fake.log'), 'w');
  const proc = spawn('/usr/bin/python3', [fakePath, '--port-file', portFile,
    '--client-id', CLIENT_ID, '--client-secret-file', secretFile,
    '--disconnect-grace', '1', '--event-retry', '30', '--max-lifetime', '150'],
  { stdio: ['ignore', log, log] });
  for (let i = 0; i < 500 && !fs.existsSync(portFile); i++) await sleep(20);
  const port = Number(fs.readFileSync(portFile, 'utf8'));
  assert.ok(port > 0, 'the fake did not start');
  return { proc, base: `http://127.0.0.1:${port}` };
}

// node:http rather than fetch: Node 18 (Debian's) warns about fetch through
// console.error, which this test counts as a failure.
function httpJson(method, url, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
    const req = http.request(url, {
      method,
      agent: false, // Node 20's global agent drops a socket idle for 5 s: /control/wait blocks longer
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
  assert.equal(res.status, 200, `control ${what}: ${res.status}`);
  return res.body;
}

async function waitFor(base, conds, timeout = 20) {
  const q = Object.entries(conds).map(([k, v]) => `${k}=${v}`).join('&');
  const r = await control(base, 'GET', `wait?${q}&timeout=${timeout}`);
  assert.ok(r.ok, `timed out waiting for ${q}: ${JSON.stringify(r.state)}`);
  return r.state;
}

test('the official SDK connects to the fake, ACKs, replies, answers pings and reconnects', async (t) => {
  problems.length = 0;
  const fake = await startFake();
  constants.GATEWAY_URL = fake.base + '/v1.0/gateway/connections/open';

  const client = new sdk.DWClient({ clientId: CLIENT_ID, clientSecret: SECRET, keepAlive: true });
  t.after(async () => {
    client.disconnect();
    await sleep(100);
    fake.proc.kill('SIGTERM');
  });
  const received = [];
  const events = [];
  client.registerAllEventListener((msg) => {
    events.push(msg);
    return { status: sdk.EventAck.SUCCESS, message: 'ok' };
  });
  client.registerCallbackListener(sdk.TOPIC_ROBOT, async (res) => {
    const data = JSON.parse(res.data);
    received.push({ headers: res.headers, data });
    const answer = await httpJson('POST', data.sessionWebhook, {
      msgtype: 'markdown',
      markdown: { title: '回复', text: `**收到** ${data.text.content.trim()}` },
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.errcode, 0);
    client.socketCallBackResponse(res.headers.messageId, null);
  });
  await client.connect();
  let st = await waitFor(fake.base, { connects: 1, open_connections: 1 });
  assert.equal(st.counters.open, 1);

  // A private message: received, replied through the session webhook, ACKed.
  const inj = await control(fake.base, 'POST', 'messages', {
    messages: [{ staff_id: 'manager01', nick: '王经理', text: '/tasks' }],
  });
  st = await waitFor(fake.base, { acks: 1, sent: 1 });
  assert.equal(received.length, 1);
  assert.equal(received[0].data.msgId, inj.results[0].msgId);
  assert.equal(received[0].data.senderStaffId, 'manager01');
  const acks = (await control(fake.base, 'GET', 'acks')).acks;
  assert.deepEqual(acks[0].problems, []);
  assert.equal(acks[0].msgId, inj.results[0].msgId);
  assert.equal(acks[0].data, '{"response":null}');
  const sent = (await control(fake.base, 'GET', 'sent')).sent;
  assert.equal(sent[0].via, 'webhook');
  assert.equal(sent[0].replyTo, inj.results[0].msgId);
  assert.equal(sent[0].text, '**收到** /tasks');

  // A group message that @s the bot.
  await control(fake.base, 'POST', 'messages', {
    messages: [{ type: 'group', conversation_id: 'cidUNITA==', staff_id: 'li01', text: '/due' }],
  });
  await waitFor(fake.base, { acks: 2, sent: 2 });
  assert.equal(received[1].data.conversationType, '2');
  assert.equal(received[1].data.text.content, ' /due');

  // An event: the SDK ACKs it by itself with status SUCCESS.
  await control(fake.base, 'POST', 'events', { events: [{ eventType: 'user_add_org' }] });
  await waitFor(fake.base, { acks: 3 });
  assert.equal(events.length, 1);
  assert.equal(events[0].headers.eventType, 'user_add_org');

  // A SYSTEM ping: the SDK echoes the opaque.
  const ping = (await control(fake.base, 'POST', 'faults', {
    faults: [{ fault: 'ping', opaque: 'opaque-42' }],
  })).results[0];
  await waitFor(fake.base, { acks: 4 });
  const pingAck = (await control(fake.base, 'GET', 'acks?since=3')).acks[0];
  assert.equal(pingAck.messageId, ping.messageId);
  assert.equal(pingAck.type, 'SYSTEM');
  assert.deepEqual(pingAck.problems, []);

  // disconnect: the fake drops the connection after its grace; the SDK's first
  // open then meets a 503 (it retries), and the next gets a new ticket and a
  // new connection, where the next message arrives.
  await control(fake.base, 'POST', 'faults', {
    faults: [{ fault: 'open_5xx', status: 503 }, { fault: 'disconnect' }],
  });
  st = await waitFor(fake.base, { closes: 1, opens: 2, connects: 2, open_connections: 1 });
  assert.equal(st.counters.connect_refused || 0, 0);
  assert.equal(st.counters.api_error, 1);
  await control(fake.base, 'POST', 'messages', {
    messages: [{ staff_id: 'manager01', text: '/report 1.1 完成' }],
  });
  st = await waitFor(fake.base, { acks: 5, sent: 3 });
  const last = (await control(fake.base, 'GET', 'acks?since=4')).acks[0];
  assert.equal(last.connection, 2);
  assert.deepEqual(last.problems, []);

  st = await control(fake.base, 'GET', 'state');
  assert.deepEqual(st.violations, []);
  assert.deepEqual(st.unacked, []);
  assert.deepEqual(problems, []);
});

test('a silent connection: the SDK keep-alive gives up on it and reconnects with a new ticket', async (t) => {
  problems.length = 0;
  const fake = await startFake();
  constants.GATEWAY_URL = fake.base + '/v1.0/gateway/connections/open';
  const client = new sdk.DWClient({ clientId: CLIENT_ID, clientSecret: SECRET, keepAlive: true });
  t.after(async () => {
    client.disconnect();
    await sleep(100);
    fake.proc.kill('SIGTERM');
  });
  const received = [];
  client.registerCallbackListener(sdk.TOPIC_ROBOT, (res) => {
    received.push(JSON.parse(res.data));
    client.socketCallBackResponse(res.headers.messageId, null);
  });
  await client.connect();
  await waitFor(fake.base, { connects: 1, open_connections: 1 });
  await control(fake.base, 'POST', 'faults', { faults: [{ fault: 'silent' }] });
  // The SDK pings every 8 s and terminates a socket that missed a pong.
  const st = await waitFor(fake.base, { connects: 2, opens: 2, open_connections: 1 }, 60);
  assert.equal(st.counters.connect_refused || 0, 0);
  await control(fake.base, 'POST', 'messages', { messages: [{ staff_id: 'zhao01', text: '/help' }] });
  await waitFor(fake.base, { acks: 1 });
  assert.equal(received.length, 1);
  const acks = (await control(fake.base, 'GET', 'acks')).acks;
  assert.equal(acks[0].connection, 2);
  assert.deepEqual(acks[0].problems, []);
  // The SDK reports the dead socket with console.error: that one is expected.
  const other = problems.filter((p) => !p.includes('TERMINATE SOCKET'));
  assert.deepEqual(other, []);
  assert.ok(problems.length >= 1, 'the SDK did not notice the silent connection');
});
