// A real browser (Debian's chromium, driven by playwright-core) against the real daemon:
//  1. a page subscribes with EventSource and gets named and JSON events, while the daemon ends
//     every stream after about a second (--max-stream-duration 1s) and events keep being
//     published: the page ends with every event exactly once, in order;
//  2. a page from an allowed origin (--cors-origins) subscribes across origins; a page from another
//     origin is refused;
//  3. private channels (--private-channels): a cross-origin page subscribes with its JWT in a cookie
//     (EventSource withCredentials, --cors-credentials), a page without one is refused for good, and
//     a stream whose token expires gets the token-expired event and ends.
// The console at / has a test of its own: console_test.mjs.
//
//   node browser_test.mjs SSECAST_BINARY
import { createHmac } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

import { anyFailed, check, startDaemon, waitFor } from "./harness.mjs";

const [binary] = process.argv.slice(2);
if (!binary) {
  console.error("usage: node browser_test.mjs SSECAST_BINARY");
  process.exit(2);
}
const CHROMIUM = "/usr/bin/chromium";


// A page served from its own origin (a port of its own) that subscribes to the daemon across
// origins and records what happens: the events without a type and of type update.
function originServer() {
  const server = http.createServer((req, res) => {
    const target = decodeURIComponent(new URL(req.url, "http://x").searchParams.get("target"));
    const withCredentials = new URL(req.url, "http://x").searchParams.get("credentials") === "1";
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end(`<!DOCTYPE html><meta charset="utf-8"><script>
      window.got = []; window.expired = []; window.errors = 0; window.opened = false;
      window.gaveUp = false;
      const es = new EventSource(${JSON.stringify(target)}, { withCredentials: ${withCredentials} });
      es.onopen = () => { window.opened = true; };
      const record = (e) => window.got.push({ id: e.lastEventId, type: e.type, data: e.data });
      es.onmessage = record;
      es.addEventListener("update", record);
      es.addEventListener("token-expired", (e) => window.expired.push(e.data));
      es.onerror = () => { window.errors++; window.gaveUp = es.readyState === EventSource.CLOSED; };
    </script>`);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}


// An HS256 JWT, as an application's backend would mint it for its user.
function mintJwt(claims, secret) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const signed = `${part({ alg: "HS256", typ: "JWT" })}.${part(claims)}`;
  return `${signed}.${createHmac("sha256", secret).update(signed).digest("base64url")}`;
}

async function publish(port, body, headers = {}) {
  const res = await fetch(`http://127.0.0.1:${port}/notify`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const answer = await res.json();
  if (res.status !== 200) throw new Error(`publish: ${res.status} ${JSON.stringify(answer)}`);
  return answer.id;
}

const allowed = await originServer();
const refused = await originServer();
const allowedOrigin = `http://127.0.0.1:${allowed.address().port}`;
const daemon = startDaemon(binary, ["--max-stream-duration", "1s", "--reconnect-delay", "1s",
                            "--cors-origins", allowedOrigin, "--log-level", "info"]);
let browser;
let privateDaemon;
try {
  const port = await daemon.port;
  const base = `http://127.0.0.1:${port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  // ---- 1. EventSource through stream ends (the page on an allowed origin) -------------------
  const page = await browser.newPage();
  await page.goto(`${allowedOrigin}/?target=${encodeURIComponent(`${base}/events?channel=browser`)}`);
  check(await waitFor(() => page.evaluate(() => window.opened), 10000, "the stream to open"),
        "the page's EventSource opens");

  const published = [];
  const started = Date.now();
  // Published for about 4.5 s, so the daemon ends the page's stream several times meanwhile.
  for (let i = 0; Date.now() - started < 4500 && i < 200; i++) {
    const named = i % 2 === 0;
    const body = named ? { channel: "browser", event: "update", data: { n: i, text: "é\nline" } }
                       : { channel: "browser", data: `plain ${i}` };
    const id = await publish(port, body);
    published.push({
      id,
      type: named ? "update" : "message",
      data: named ? JSON.stringify(body.data) : body.data,
    });
    await new Promise((r) => setTimeout(r, 40));
  }
  const n = published.length;
  const got = () => page.evaluate(() => window.got);
  check(await waitFor(async () => (await got()).length >= n, 30000, `${n} events on the page`),
        `the page gets ${n} events`);
  const events = await got();
  check(events.length === n, `every event exactly once (${events.length} events for ${n} published)`);
  const mismatch = published.findIndex((p, i) => JSON.stringify(events[i]) !== JSON.stringify(p));
  check(mismatch === -1, mismatch === -1 ? "in order, with ids, types and JSON data as published"
                                         : `event ${mismatch}: ${JSON.stringify(events[mismatch])} != ${JSON.stringify(published[mismatch])}`);
  const streamEnds = () => (daemon.log().match(/reason=max stream duration/g) || []).length;
  await waitFor(() => streamEnds() >= 2, 10000, "two stream end log lines");
  const ends = streamEnds();
  check(ends >= 2, `the daemon ended the page's stream ${ends} times meanwhile (at least 2)`);

  // ---- 2. cross-origin pages ------------------------------------------------------------------
  const target = encodeURIComponent(`${base}/events?channel=xo`);
  const good = await browser.newPage();
  await good.goto(`${allowedOrigin}/?target=${target}`);
  check(await waitFor(() => good.evaluate(() => window.opened), 10000, "the allowed page's stream"),
        `a page from ${allowedOrigin} (allowed) opens a stream`);
  const bad = await browser.newPage();
  await bad.goto(`http://127.0.0.1:${refused.address().port}/?target=${target}`);
  // The browser sees a network error (no CORS permission) and keeps retrying; it never opens.
  check(await waitFor(() => bad.evaluate(() => window.errors > 0), 10000, "the refused page's error"),
        "a page from another origin gets an error");
  check(await waitFor(() => /status=403 reason=origin http:\/\/127\.0\.0\.1:\d+ is not allowed/.test(daemon.log()),
                      10000, "the daemon's log line"),
        "the daemon refused it with 403 (--cors-origins)");
  await publish(port, { channel: "xo", data: "across origins" });
  check(await waitFor(async () => (await good.evaluate(() => window.got)).some((e) => e.data === "across origins"), 10000, "the cross-origin event"),
        "the allowed page receives the event");
  check((await bad.evaluate(() => window.got)).length === 0 && !(await bad.evaluate(() => window.opened)),
        "the refused page received nothing");

  // ---- 3. private channels --------------------------------------------------------------------
  const secret = "0123456789abcdef0123456789abcdef0123456789abcdef";
  const secretDir = fs.mkdtempSync(path.join(os.tmpdir(), "ssecast-browser-"));
  const secretFile = path.join(secretDir, "jwt.secret");
  fs.writeFileSync(secretFile, secret + "\n", { mode: 0o600 });
  privateDaemon = startDaemon(binary, ["--jwt-secret-file", secretFile, "--private-channels", "user:*",
                               "--jwt-leeway", "0s", "--cors-origins", allowedOrigin,
                               "--cors-credentials", "true", "--publish-auth", "loopback-or-token"]);
  const privatePort = await privateDaemon.port;
  const privateBase = `http://127.0.0.1:${privatePort}`;
  const now = Math.floor(Date.now() / 1000);
  const token = mintJwt({ sub: "u42", exp: now + 3600, ssecast: { subscribe: ["user:42"] } }, secret);
  // The cookie of the daemon's host (cookies do not depend on the port): sent along with the
  // cross-origin EventSource because it asks withCredentials.
  const context = await browser.newContext();
  await context.addCookies([{ name: "ssecast_jwt", value: token, domain: "127.0.0.1", path: "/" }]);
  const withCookie = await context.newPage();
  const privateTarget = encodeURIComponent(`${privateBase}/events?channel=user:42`);
  await withCookie.goto(`${allowedOrigin}/?credentials=1&target=${privateTarget}`);
  check(await waitFor(() => withCookie.evaluate(() => window.opened), 10000, "the private stream"),
        "a cross-origin page subscribes to a private channel with its JWT cookie");
  const anonymous = await browser.newPage();
  await anonymous.goto(`${allowedOrigin}/?credentials=1&target=${privateTarget}`);
  check(await waitFor(() => anonymous.evaluate(() => window.gaveUp), 10000, "the refusal"),
        "a page without a token is refused, and its EventSource stops for good (401)");
  // The access log line is written after the answer, by the logger's thread: wait for it.
  check(await waitFor(() => /path=\/events\?channel=user:42 status=401/.test(privateDaemon.log()),
                      10000, "the 401 log line"),
        "the daemon logged the 401");

  // A token that expires in about three seconds, in the query as EventSource cannot set headers.
  const briefExp = Math.floor(Date.now() / 1000) + 3;
  const brief = mintJwt({ sub: "u42", exp: briefExp, ssecast: { subscribe: ["user:42"] } }, secret);
  const expiring = await browser.newPage();
  await expiring.goto(`${allowedOrigin}/?target=${encodeURIComponent(`${privateBase}/events?channel=user:42&token=${brief}`)}`);
  check(await waitFor(() => expiring.evaluate(() => window.opened), 10000, "the short-lived stream"),
        "a page subscribes with its JWT in the query");
  await publish(privatePort, { channel: "user:42", data: "for 42" });
  for (const [p, who] of [[withCookie, "cookie"], [expiring, "query"]]) {
    check(await waitFor(async () => (await p.evaluate(() => window.got)).some((e) => e.data === "for 42"), 10000, "the private event"),
          `the ${who} page receives the private event`);
  }
  check((await anonymous.evaluate(() => window.got)).length === 0, "the refused page received nothing");
  check(await waitFor(async () => (await expiring.evaluate(() => window.expired)).length === 1, 10000, "token-expired"),
        "the short-lived stream gets a token-expired event");
  const expiredData = JSON.parse((await expiring.evaluate(() => window.expired))[0] || "{}");
  check(expiredData.exp === briefExp, `its data names the exp: ${JSON.stringify(expiredData)}`);
  check(!privateDaemon.log().includes(brief) && !privateDaemon.log().includes(token),
        "no token in the daemon's log");
  await context.close();
  fs.rmSync(secretDir, { recursive: true, force: true });
} catch (err) {
  check(false, String(err && err.stack || err));
} finally {
  if (browser) await browser.close();
  daemon.child.kill("SIGTERM");
  if (privateDaemon) privateDaemon.child.kill("SIGTERM");
  allowed.close();
  refused.close();
}
if (anyFailed()) {
  console.log("daemon log:\n" + daemon.log());
  if (privateDaemon) console.log("private channels daemon log:\n" + privateDaemon.log());
  process.exit(1);
}
console.log("browser test passed");
