// A real browser (Debian's chromium, driven by playwright-core) against the real daemon:
//  1. the demo page at / subscribes with EventSource and gets named and JSON events, while the
//     daemon ends every stream after about a second (--max-stream-duration 1s) and events keep
//     being published: the page ends with every event exactly once, in order;
//  2. the demo page's publish form works (the browser is on the daemon's machine);
//  3. a page from an allowed origin (--cors-origins) subscribes across origins; a page from another
//     origin is refused.
// A screenshot of the demo page is written to the path given (docs/demo.png is one of them).
//
//   node browser_test.mjs SSECAST_BINARY SCREENSHOT_PATH
import { spawn } from "node:child_process";
import http from "node:http";
import { chromium } from "playwright-core";

const [binary, screenshotPath] = process.argv.slice(2);
if (!binary || !screenshotPath) {
  console.error("usage: node browser_test.mjs SSECAST_BINARY SCREENSHOT_PATH");
  process.exit(2);
}
const CHROMIUM = "/usr/bin/chromium";

let failed = false;
function check(ok, what) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failed = true;
}

// Polls `condition` (which may be async) every 50 ms until it holds or `ms` pass.
async function waitFor(condition, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) {
      console.log(`timed out after ${ms} ms waiting for ${what}`);
      return false;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

// A page served from its own origin (a port of its own) that subscribes to the daemon across
// origins and records what happens.
function originServer() {
  const server = http.createServer((req, res) => {
    const target = decodeURIComponent(new URL(req.url, "http://x").searchParams.get("target"));
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end(`<!DOCTYPE html><meta charset="utf-8"><script>
      window.got = []; window.errors = 0; window.opened = false;
      const es = new EventSource(${JSON.stringify(target)});
      es.onopen = () => { window.opened = true; };
      es.onmessage = (e) => window.got.push(e.data);
      es.onerror = () => { window.errors++; };
    </script>`);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

function startDaemon(args) {
  const child = spawn(binary, ["--listen", "127.0.0.1:0", ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr.on("data", (d) => { log += d; });
  const port = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("ssecast did not listen:\n" + log)), 20000);
    child.stderr.on("data", () => {
      const m = log.match(/listening on 127\.0\.0\.1:(\d+) /);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    child.on("exit", (code) => reject(new Error(`ssecast exited (${code}):\n${log}`)));
  });
  return { child, port, log: () => log };
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

const allowed = await originServer();
const refused = await originServer();
const allowedOrigin = `http://127.0.0.1:${allowed.address().port}`;
const daemon = startDaemon(["--max-stream-duration", "1s", "--reconnect-delay", "1s",
                            "--cors-origins", allowedOrigin, "--log-level", "info"]);
let browser;
try {
  const port = await daemon.port;
  const base = `http://127.0.0.1:${port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  const page = await browser.newPage({ viewport: { width: 1000, height: 720 } });

  // ---- 1. the demo page through stream ends -------------------------------------------------
  await page.goto(base + "/");
  await page.fill("#channels", "browser");
  await page.fill("#types", "update");
  await page.click("#connect");
  check(await waitFor(async () => (await page.textContent("#state")) === "open", 10000, "the stream to open"),
        "the demo page's EventSource opens");

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
  check(await waitFor(async () => Number(await page.textContent("#count")) >= n, 30000, `${n} events on the page`),
        `the page shows ${n} events`);
  const rows = await page.$$eval("#events tr", (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  check(rows.length === n, `every event exactly once (${rows.length} rows for ${n} events)`);
  const mismatch = published.findIndex((p, i) => !rows[i] || rows[i][0] !== p.id || rows[i][1] !== p.type || rows[i][2] !== p.data);
  check(mismatch === -1, mismatch === -1 ? "in order, with ids, types and JSON data as published"
                                         : `row ${mismatch}: ${JSON.stringify(rows[mismatch])} != ${JSON.stringify(published[mismatch])}`);
  const ends = (daemon.log().match(/reason=max stream duration/g) || []).length;
  check(ends >= 2, `the daemon ended the page's stream ${ends} times meanwhile (at least 2)`);

  // ---- 2. the publish form --------------------------------------------------------------------
  await page.fill("#pub-channel", "browser");
  await page.fill("#pub-event", "update");
  await page.fill("#pub-data", '{"from":"the form"}');
  await page.click("#publish");
  check(await waitFor(async () => /^id \d+-\d+, delivered to 1$/.test(await page.textContent("#pub-result")), 10000, "the form's answer"),
        "the publish form gets the id back: " + (await page.textContent("#pub-result")));
  check(await waitFor(async () => Number(await page.textContent("#count")) === n + 1, 10000, "the form's event"),
        "the form's event reaches the page");
  await page.screenshot({ path: screenshotPath });

  // ---- 3. cross-origin pages ------------------------------------------------------------------
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
  check(await waitFor(async () => (await good.evaluate(() => window.got)).includes("across origins"), 10000, "the cross-origin event"),
        "the allowed page receives the event");
  check((await bad.evaluate(() => window.got)).length === 0 && !(await bad.evaluate(() => window.opened)),
        "the refused page received nothing");
} catch (err) {
  check(false, String(err && err.stack || err));
} finally {
  if (browser) await browser.close();
  daemon.child.kill("SIGTERM");
  allowed.close();
  refused.close();
}
if (failed) {
  console.log("daemon log:\n" + daemon.log());
  process.exit(1);
}
console.log("browser test passed");
