// Why the Nginx site is TLS + HTTP/2 (config/nginx/ssecast-tls.conf): Debian's chromium (driven by
// playwright-core) opens one page on the site's origin and 10 EventSources to /events on it.
//  1. Over HTTP/2 (ssecast-tls.conf): the page came over h2, all 10 streams open, and every one
//     receives every published event, in order.
//  2. The control, over HTTP/1.1 (ssecast.conf): the browser opens 6 connections per origin and
//     no more, so only 6 streams open; the other 4 stay connecting, and the daemon sees 6
//     subscribers.
// Both sites are rendered by tests/common/nginx_site.sh, as the C++ Nginx tests render them.
//
//   node browser_h2_test.mjs SSECAST_BINARY
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { anyFailed, check, startDaemon, waitFor } from "./harness.mjs";

const [binary] = process.argv.slice(2);
if (!binary) {
  console.error("usage: node browser_h2_test.mjs SSECAST_BINARY");
  process.exit(2);
}
const CHROMIUM = "/usr/bin/chromium";
const NGINX = "/usr/sbin/nginx";
const RENDER = path.join(path.dirname(fileURLToPath(import.meta.url)), "../common/nginx_site.sh");
const STREAMS = 10;
const EVENTS = 5;



// Two loopback ports nobody listens on right now (both bound at once: distinct).
async function freePorts() {
  const servers = await Promise.all([0, 1].map(() => new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => resolve(s));
  })));
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function accepts(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.on("connect", () => { socket.destroy(); resolve(true); });
    socket.on("error", () => resolve(false));
  });
}

// Nginx with one of the shipped sites, in front of the daemon on `upstream`.
async function startNginx(site, upstream) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ssecast-h2-"));
  const [httpPort, tlsPort] = await freePorts();
  const args = ["--site", site, "--dir", dir, "--upstream", String(upstream), "--http-port", String(httpPort)];
  if (site === "ssecast-tls.conf") args.push("--tls-port", String(tlsPort));
  const rendered = spawnSync("bash", [RENDER, ...args], { encoding: "utf8", timeout: 30000 });
  if (rendered.status !== 0) throw new Error(`nginx_site.sh ${site}: ${rendered.stderr}`);
  const child = spawn(NGINX, ["-p", dir, "-c", `${dir}/nginx.conf`, "-g", "daemon off;"],
                      { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr.on("data", (d) => { log += d; });
  let exited = false;
  child.on("exit", () => { exited = true; });
  const port = site === "ssecast-tls.conf" ? tlsPort : httpPort;
  if (!await waitFor(async () => exited || await accepts(port), 20000, `nginx on ${port}`) || exited) {
    throw new Error(`nginx (${site}) did not start: ${log}`);
  }
  const stop = async () => {
    child.kill("SIGQUIT");
    if (!await waitFor(() => exited, 10000, "nginx to exit")) child.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { origin: `${site === "ssecast-tls.conf" ? "https" : "http"}://127.0.0.1:${port}`, stop };
}

async function publish(port, body) {
  const res = await fetch(`http://127.0.0.1:${port}/notify`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await res.json();
  if (res.status !== 200) throw new Error(`publish: ${res.status} ${JSON.stringify(answer)}`);
  return answer.id;
}

async function subscribers(port, channel) {
  const res = await fetch(`http://127.0.0.1:${port}/channels`);
  const found = (await res.json()).channels.find((c) => c.name === channel);
  return found ? found.subscribers : 0;
}

// Opens a page of the site (/healthz, proxied like every path: not the console at /, which opens
// streams of its own) and STREAMS EventSources on its origin; window.streams records what each
// one receives.
async function openStreams(context, origin, channel) {
  const page = await context.newPage();
  await page.goto(origin + "/healthz");
  const protocol = await page.evaluate(() => performance.getEntriesByType("navigation")[0].nextHopProtocol);
  await page.evaluate(({ count, channel }) => {
    window.streams = [];
    for (let i = 0; i < count; i++) {
      const s = { opened: false, got: [] };
      const es = new EventSource(`/events?channel=${channel}`);
      es.onopen = () => { s.opened = true; };
      es.onmessage = (e) => s.got.push(`${e.lastEventId} ${e.data}`);
      s.es = es;
      window.streams.push(s);
    }
  }, { count: STREAMS, channel });
  const opened = () => page.evaluate(() => window.streams.filter((s) => s.opened).length);
  const received = () => page.evaluate(() => window.streams.map((s) => s.got));
  return { page, protocol, opened, received };
}

const daemon = startDaemon(binary, ["--trusted-proxies", "127.0.0.1,::1", "--log-level", "info"]);
let browser;
const proxies = [];
try {
  const port = await daemon.port;
  for (const p of [CHROMIUM, NGINX]) {
    if (!fs.existsSync(p)) throw new Error(`${p} is missing: scripts/install-test-deps.sh installs it`);
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });

  // ---- 1. HTTP/2: 10 streams on one origin -----------------------------------------------------
  const tls = await startNginx("ssecast-tls.conf", port);
  proxies.push(tls);
  // The certificate is the test's own, self-signed.
  const h2 = await openStreams(await browser.newContext({ ignoreHTTPSErrors: true }), tls.origin, "h2");
  check(h2.protocol === "h2", `the page came over HTTP/2 (nextHopProtocol ${h2.protocol})`);
  check(await waitFor(async () => (await h2.opened()) === STREAMS, 15000, `${STREAMS} open streams`),
        `all ${STREAMS} EventSources open (${await h2.opened()})`);
  check(await waitFor(async () => (await subscribers(port, "h2")) === STREAMS, 10000, "the daemon's subscribers"),
        `the daemon has ${STREAMS} subscribers`);
  const expected = [];
  for (let i = 0; i < EVENTS; i++) {
    const id = await publish(port, { channel: "h2", data: `event ${i}` });
    expected.push(`${id} event ${i}`);
  }
  const want = JSON.stringify(expected);
  check(await waitFor(async () => (await h2.received()).every((got) => got.length >= EVENTS), 15000, "every event on every stream"),
        `every stream received ${EVENTS} events`);
  const got = await h2.received();
  const wrong = got.findIndex((g) => JSON.stringify(g) !== want);
  check(wrong === -1, wrong === -1 ? "each exactly once, in order, with its id"
                                   : `stream ${wrong}: ${JSON.stringify(got[wrong])} != ${want}`);

  // ---- 2. the control: HTTP/1.1 gets 6 ---------------------------------------------------------
  const plain = await startNginx("ssecast.conf", port);
  proxies.push(plain);
  const h1 = await openStreams(await browser.newContext(), plain.origin, "h1");
  check(h1.protocol === "http/1.1", `the plain site's page came over HTTP/1.1 (nextHopProtocol ${h1.protocol})`);
  check(await waitFor(async () => (await h1.opened()) === 6, 15000, "6 open streams"),
        "over HTTP/1.1, 6 EventSources open");
  // An event reaches the open ones: by then the others had every chance, and still wait.
  const id = await publish(port, { channel: "h1", data: "to the open ones" });
  check(await waitFor(async () => (await h1.received()).filter((g) => g.length === 1).length === 6, 10000, "the event on the 6"),
        "the 6 open streams receive the event");
  const states = await h1.page.evaluate(() => window.streams.map((s) => s.es.readyState));
  const waiting = states.filter((s) => s === 0).length;
  check(waiting === STREAMS - 6, `the other ${STREAMS - 6} are still connecting (${waiting}: readyStates ${states})`);
  check((await h1.received()).filter((g) => g.length === 0).length === STREAMS - 6, `and got nothing of ${id}`);
  check(await subscribers(port, "h1") === 6, `the daemon has 6 subscribers of h1 (${await subscribers(port, "h1")})`);
} catch (err) {
  check(false, String(err && err.stack || err));
} finally {
  if (browser) await browser.close();
  for (const p of proxies) await p.stop();
  daemon.child.kill("SIGTERM");
}
if (anyFailed()) {
  console.log("daemon log:\n" + daemon.log());
  process.exit(1);
}
console.log("browser h2 test passed");
