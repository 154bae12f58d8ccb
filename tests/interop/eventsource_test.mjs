// Interop test: the npm `eventsource` package (a WHATWG-compliant EventSource client) against a
// real ssecast daemon: connect, receive a named and an unnamed event, lose the connection, and
// reconnect by itself with Last-Event-ID, getting the missed events exactly once and in order.
//
// Usage: node tests/interop/eventsource_test.mjs PATH/TO/ssecast
// Needs tests/interop/node_modules: run scripts/install-test-deps.sh first.
//
// How the connection is lost: the client accepts a custom `fetch`. Ours hands the client a body
// stream that it can cut on request: the real connection to the daemon is aborted (the daemon
// sees the client go away) and the client's read fails with a network error, exactly what a
// dropped connection looks like to it. A WHATWG client then waits the `retry:` delay the daemon
// sent (100 ms here) and reconnects with `Last-Event-ID`. The reconnect request is held until the
// test has published the events that the client must get from the replay, so the test does not
// depend on timing. A second cut ends the body cleanly instead, as when the server closes the
// stream, which must also make the client reconnect.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const TEST_TIMEOUT_MS = 90_000; // ctest gives 120 s
const WAIT_MS = 15_000; // any single wait (the sanitizer build is slow)

function fail(message) {
  console.error(`FAIL: ${message}`);
  if (daemon?.log) console.error(`--- daemon log (last 30 lines):\n${daemon.log.split('\n').slice(-30).join('\n')}`);
  process.exitCode = 1;
  cleanupAndExit(1);
}

function check(condition, message) {
  if (!condition) fail(message);
}

let daemon = null; // { child, log, exited }
function cleanupAndExit(code) {
  if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
    daemon.child.kill('SIGKILL');
  }
  process.exit(code);
}
process.on('SIGINT', () => cleanupAndExit(130));
process.on('SIGTERM', () => cleanupAndExit(143));
process.on('exit', () => {
  if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) daemon.child.kill('SIGKILL');
});
process.on('unhandledRejection', (err) => fail(`unhandled rejection: ${err?.stack ?? err}`));
setTimeout(() => fail(`the whole test took more than ${TEST_TIMEOUT_MS} ms`), TEST_TIMEOUT_MS).unref();

// Resolves when predicate() is true; polls every 20 ms; fails the test after `ms`.
async function waitFor(what, predicate, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// Bounds a promise: fails the test if it takes longer than `ms`.
async function bounded(what, promise, ms = WAIT_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } catch (err) {
    fail(err.message);
  } finally {
    clearTimeout(timer);
  }
}

async function startDaemon(binary) {
  const child = spawn(binary, ['--listen', '127.0.0.1:0', '--reconnect-delay', '100ms', '--log-level', 'debug'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // SSECAST_* variables of the caller would change the daemon's configuration.
    env: Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SSECAST_'))),
  });
  daemon = { child, log: '', exit: null };
  daemon.exit = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    daemon.log += chunk;
  });
  child.on('error', (err) => fail(`cannot start ${binary}: ${err.message}`));
  let port = null;
  await waitFor('the daemon to log its listening address', () => {
    if (child.exitCode !== null) fail(`the daemon exited with ${child.exitCode} at startup`);
    const m = /listening on 127\.0\.0\.1:(\d+)/.exec(daemon.log);
    if (m) port = Number(m[1]);
    return port !== null;
  });
  return port;
}

async function publish(base, body) {
  const res = await bounded(
    'POST /notify',
    fetch(`${base}/notify`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
  const text = await bounded('POST /notify body', res.text());
  check(res.status === 200, `POST /notify answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

// A fetch for EventSource whose responses the test can cut, and whose reconnects it can hold.
function controllableFetch() {
  const state = {
    requests: [], // { lastEventId } per connection attempt, in order
    current: null, // { cut(kind) } of the open response
    gate: null, // while set, a promise that new connections wait for
  };
  state.fetch = async (url, init = {}) => {
    const headers = new Headers(init.headers ?? {});
    state.requests.push({ lastEventId: headers.get('Last-Event-ID') });
    if (state.gate) await state.gate;
    const upstream = new AbortController();
    const clientSignal = init.signal;
    if (clientSignal) {
      if (clientSignal.aborted) upstream.abort(clientSignal.reason);
      clientSignal.addEventListener('abort', () => upstream.abort(clientSignal.reason), { once: true });
    }
    const res = await fetch(url, { ...init, signal: upstream.signal });
    if (!res.body) return res;
    const reader = res.body.getReader();
    let controller;
    let cut = false;
    const body = new ReadableStream({
      start(c) {
        controller = c;
      },
      async pull(c) {
        try {
          const { done, value } = await reader.read();
          if (cut) return;
          if (done) c.close();
          else c.enqueue(value);
        } catch (err) {
          if (!cut) c.error(err);
        }
      },
      cancel(reason) {
        upstream.abort(reason);
      },
    });
    state.current = {
      cut(kind) {
        cut = true;
        upstream.abort(); // the daemon sees its client go away
        if (kind === 'network-error') controller.error(new TypeError('network error (cut by the test)'));
        else controller.close(); // a clean end of the body, as when the server closes the stream
      },
    };
    return { status: res.status, redirected: res.redirected, url: res.url, headers: res.headers, body };
  };
  return state;
}

async function main() {
  const binary = process.argv[2];
  check(binary, 'usage: node eventsource_test.mjs PATH/TO/ssecast');
  check(existsSync(binary), `no such file: ${binary}`);

  if (!existsSync(join(here, 'node_modules', 'eventsource'))) {
    fail(`${join(here, 'node_modules')} has no eventsource package: run scripts/install-test-deps.sh`);
  }
  let EventSource;
  try {
    ({ EventSource } = await import('eventsource'));
  } catch (err) {
    fail(`cannot load the npm eventsource package (${err.message}): run scripts/install-test-deps.sh`);
  }

  const port = await startDaemon(binary);
  const base = `http://127.0.0.1:${port}`;
  console.log(`daemon pid ${daemon.child.pid} listening on port ${port}`);

  const net = controllableFetch();
  const received = []; // { type, data, lastEventId }
  const errors = [];
  let opens = 0;
  const es = new EventSource(`${base}/events?channel=a`, { fetch: net.fetch });
  es.addEventListener('open', () => opens++);
  es.addEventListener('error', (e) => errors.push(e.message ?? 'error'));
  es.addEventListener('update', (e) => received.push({ type: 'update', data: e.data, lastEventId: e.lastEventId }));
  es.addEventListener('message', (e) => received.push({ type: 'message', data: e.data, lastEventId: e.lastEventId }));
  es.addEventListener('resync', (e) => received.push({ type: 'resync', data: e.data, lastEventId: e.lastEventId }));

  await waitFor('the first connection to open', () => opens === 1);
  // The subscription is in place before the first bytes of the stream are written, and `open`
  // fires once the response has arrived: publishing now cannot race the subscription.
  console.log('== receive a named event and a default message event');
  const ids = [];
  let answer = await publish(base, { channel: 'a', event: 'update', data: 'hello' });
  check(typeof answer.id === 'string' && /^\d+-\d+$/.test(answer.id), `bad id in ${JSON.stringify(answer)}`);
  check(answer.delivered === 1, `event 1 delivered to ${answer.delivered} subscribers, expected 1`);
  ids.push(answer.id);
  answer = await publish(base, { channel: 'a', data: { n: 2, text: 'two' } });
  check(answer.delivered === 1, `event 2 delivered to ${answer.delivered}`);
  ids.push(answer.id);
  answer = await publish(base, { channel: 'a', data: 'three\nlines\r\nhere' });
  check(answer.delivered === 1, `event 3 delivered to ${answer.delivered}`);
  ids.push(answer.id);

  await waitFor('events 1..3', () => received.length >= 3);
  check(received[0].type === 'update' && received[0].data === 'hello', `event 1: ${JSON.stringify(received[0])}`);
  check(received[1].type === 'message', `event 2 should be a default message event: ${JSON.stringify(received[1])}`);
  check(JSON.stringify(JSON.parse(received[1].data)) === '{"n":2,"text":"two"}', `event 2 data: ${received[1].data}`);
  check(received[2].type === 'message' && received[2].data === 'three\nlines\nhere', `event 3: ${JSON.stringify(received[2])}`);
  received.slice(0, 3).forEach((e, i) => check(e.lastEventId === ids[i], `event ${i + 1}: lastEventId ${e.lastEventId}, POST answered ${ids[i]}`));

  console.log('== lose the connection (network error); publish 4 and 5 while the client is away');
  let release;
  net.gate = new Promise((resolve) => {
    release = resolve;
  });
  net.current.cut('network-error');
  await waitFor('the client to try to reconnect by itself', () => net.requests.length === 2);
  check(errors.length >= 1, 'the client fired no error event when the connection was lost');
  check(es.readyState === EventSource.CONNECTING, `readyState ${es.readyState}, expected CONNECTING`);
  check(net.requests[1].lastEventId === ids[2], `reconnect sent Last-Event-ID ${net.requests[1].lastEventId}, expected ${ids[2]}`);
  // The daemon noticed that the first stream ended; events 4 and 5 can only come from the replay.
  await waitFor('the daemon to end the first stream', () => /stream end .*channels=a /.test(daemon.log));
  answer = await publish(base, { channel: 'a', data: 'four' });
  check(answer.delivered === 0, `event 4 delivered to ${answer.delivered} live subscribers, expected 0`);
  ids.push(answer.id);
  answer = await publish(base, { channel: 'a', event: 'update', data: 'five' });
  ids.push(answer.id);
  net.gate = null;
  release();

  await waitFor('events 4 and 5 after the reconnect', () => received.length >= 5);
  await waitFor('the second connection to open', () => opens === 2);
  check(received[3].type === 'message' && received[3].data === 'four', `event 4: ${JSON.stringify(received[3])}`);
  check(received[4].type === 'update' && received[4].data === 'five', `event 5: ${JSON.stringify(received[4])}`);
  check(received[3].lastEventId === ids[3] && received[4].lastEventId === ids[4], 'lastEventId of events 4, 5');
  check(/last_event_id=(\S+) replayed=2 resync=false/.test(daemon.log), 'the daemon did not log a replay of 2 events without resync');
  check(daemon.log.includes(`last_event_id=${ids[2]} replayed=2 resync=false`), `the daemon did not resume after ${ids[2]}`);

  console.log('== a live event on the new connection');
  answer = await publish(base, { channel: 'a', data: 'six' });
  check(answer.delivered === 1, `event 6 delivered to ${answer.delivered}`);
  ids.push(answer.id);
  await waitFor('event 6', () => received.length >= 6);
  check(received[5].data === 'six' && received[5].lastEventId === ids[5], `event 6: ${JSON.stringify(received[5])}`);

  console.log('== the stream ends cleanly (as when the server closes it); publish 7 while away');
  net.gate = new Promise((resolve) => {
    release = resolve;
  });
  net.current.cut('end');
  await waitFor('the client to reconnect after the end of the stream', () => net.requests.length === 3);
  check(net.requests[2].lastEventId === ids[5], `reconnect sent Last-Event-ID ${net.requests[2].lastEventId}, expected ${ids[5]}`);
  await waitFor('the daemon to end the second stream', () => (daemon.log.match(/stream end .*channels=a /g) ?? []).length === 2);
  answer = await publish(base, { channel: 'a', data: { n: 7 } });
  ids.push(answer.id);
  net.gate = null;
  release();
  await waitFor('event 7 after the reconnect', () => received.length >= 7);
  check(JSON.parse(received[6].data).n === 7 && received[6].lastEventId === ids[6], `event 7: ${JSON.stringify(received[6])}`);

  // Nothing more arrives: no duplicates of earlier events, no resync.
  answer = await publish(base, { channel: 'a', data: 'last' });
  ids.push(answer.id);
  await waitFor('the last event', () => received.length >= 8);
  es.close();
  const got = received.map((e) => e.lastEventId);
  check(JSON.stringify(got) === JSON.stringify(ids), `received ids ${JSON.stringify(got)}, published ${JSON.stringify(ids)}`);
  check(!received.some((e) => e.type === 'resync'), 'unexpected resync event');
  const seqs = ids.map((id) => BigInt(id.split('-')[1]));
  check(seqs.every((s, i) => i === 0 || s > seqs[i - 1]), `ids not strictly increasing: ${ids}`);
  check(net.requests.length === 3, `${net.requests.length} connection attempts, expected 3`);
  check(net.requests[0].lastEventId === null, 'the first connection sent a Last-Event-ID');

  console.log('== SIGTERM: the daemon exits 0');
  daemon.child.kill('SIGTERM');
  const { code, signal } = await bounded('the daemon to exit after SIGTERM', daemon.exit);
  check(code === 0, `the daemon exited with code ${code} signal ${signal} after SIGTERM`);
  console.log(`PASS: eventsource interop (${ids.length} events, ${net.requests.length} connections)`);
  cleanupAndExit(0);
}

main().catch((err) => fail(err?.stack ?? String(err)));
