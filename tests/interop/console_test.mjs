// The console at / (src/http/demo_page.cpp) in a real browser (Debian's chromium, driven by
// playwright-core) against the real daemon, which ends every stream after about a second
// (--max-stream-duration 1s) and keeps 12 events per channel (--history 12):
//  1. /?channel=a&channel=b connects on load; events without a type and of the types price and
//     alert, some to both channels, arrive while the streams are ended and resumed: each shows
//     once per channel, in order, with its channel, id, type and arrival time;
//  2. Disconnect, 17 events published to a, Connect: the resync is shown, marked, then the 12
//     events still buffered;
//  3. the publish form publishes, and its event comes back;
//  4. the counters and the channel list are those of /healthz and /channels;
//  5. a client that is not local (a proxy header) is told that /channels and /notify are
//     refused (403), and the console stops asking /channels; a bad channel name and too many
//     channels are errors that say why.
// The page's Content-Security-Policy is kept: no script or style of the page is refused.
// A screenshot of the console (after 4.) is written to the path given: docs/demo.png is one.
//
//   node console_test.mjs SSECAST_BINARY SCREENSHOT_PATH
import { chromium } from "playwright-core";

import { anyFailed, check, startDaemon, waitFor } from "./harness.mjs";

const [binary, screenshotPath] = process.argv.slice(2);
if (!binary || !screenshotPath) {
  console.error("usage: node console_test.mjs SSECAST_BINARY SCREENSHOT_PATH");
  process.exit(2);
}
const CHROMIUM = "/usr/bin/chromium";
const HISTORY = 12;  // small, so that the resync row is in the screenshot



const daemon = startDaemon(binary, ["--max-stream-duration", "1s", "--reconnect-delay", "1s",
                            "--history", String(HISTORY), "--log-level", "info"]);
const count = (re) => (daemon.log().match(re) || []).length;
let browser;
try {
  const port = await daemon.port;
  const base = `http://127.0.0.1:${port}`;
  const api = async (path, init = {}) => {
    const res = await fetch(base + path, init);
    return { status: res.status, body: await res.json() };
  };
  // Publishes one event or a batch; returns the ids.
  const publish = async (body) => {
    const { status, body: answer } = await api("/notify", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    if (status !== 200) throw new Error(`publish: ${status} ${JSON.stringify(answer)}`);
    return Array.isArray(answer) ? answer.map((a) => a.id) : [answer.id];
  };

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  const page = await browser.newPage({ viewport: { width: 1000, height: 600 } });
  const refusals = [];
  // The browser's own favicon request is refused too (default-src 'none'): not the page's.
  page.on("console", (m) => { if (/^Refused to (?!load the image)/.test(m.text())) refusals.push(m.text()); });
  page.on("pageerror", (e) => refusals.push(String(e)));
  const rows = () => page.$$eval("#events tr", (trs) => trs.reverse().map((tr) => ({
    resync: tr.classList.contains("resync"),
    cells: [...tr.children].map((td) => td.textContent),
  })));
  const pill = (channel) => page.textContent(`#streams li[data-channel="${channel}"]`).catch(() => "");

  // ---- 1. connect on load, events of several types through stream ends ----------------------
  const served = await page.goto(base + "/?channel=a&channel=b");
  check(/script-src 'sha256-[A-Za-z0-9+/]{43}='/.test(served.headers()["content-security-policy"] || ""),
        "the page is served with a Content-Security-Policy naming its script's hash");
  for (const c of ["a", "b"]) {
    check(await waitFor(async () => (await pill(c)) === `${c}: open`, 10000, `${c} to open`),
          `the console connects to channel ${c} on load`);
  }
  const expected = [];  // {channel, id, type, data, reconnectsBefore}
  const started = Date.now();
  // About 3.5 s of events, one every 250 ms or more: the daemon ends each stream several times meanwhile,
  // and fewer than HISTORY events of a channel go by while a stream is away.
  for (let i = 0; Date.now() - started < 3500 && i < 40; i++) {
    const kind = i % 4;
    const body = [{ channel: "a", data: `plain ${i}` },
                  { channel: "b", event: "price", data: { n: i, quote: "<b>1.5</b>" } },
                  { channel: "a", event: "alert", data: `two\nlines ${i}` },
                  { channels: ["a", "b"], event: "price", data: { n: i, both: true } }][kind];
    const reconnectsBefore = Number(await page.textContent("#reconnects"));
    const [id] = await publish(body);
    const type = body.event || "message";
    const data = typeof body.data === "string" ? body.data : JSON.stringify(body.data);
    for (const channel of body.channels || [body.channel]) {
      expected.push({ channel, id, type, data, reconnectsBefore });
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const n = expected.length;
  check(await waitFor(async () => Number(await page.textContent("#count")) >= n, 20000, `${n} rows`),
        `the console shows ${n} rows`);
  let shown = await rows();
  check(shown.length === n, `each event once per channel, no duplicates (${shown.length} rows for ${n})`);
  for (const c of ["a", "b"]) {
    const want = expected.filter((e) => e.channel === c).map((e) => [e.id, e.type, e.data]);
    const got = shown.filter((r) => r.cells[1] === c).map((r) => r.cells.slice(2));
    check(JSON.stringify(got) === JSON.stringify(want),
          `channel ${c}: ${want.length} events in order, with ids, types and data as published` +
          (JSON.stringify(got) === JSON.stringify(want) ? "" : `\n  got  ${JSON.stringify(got)}\n  want ${JSON.stringify(want)}`));
  }
  check((await page.$$("#events b")).length === 0, "data is shown as text, never as HTML");
  const types = new Set(shown.map((r) => r.cells[3]));
  check(["message", "price", "alert"].every((t) => types.has(t)), `the types shown: ${[...types].join(", ")}`);
  check(shown.every((r) => /^\d\d:\d\d:\d\d\.\d{3}$/.test(r.cells[0])), "every row has its arrival time");
  const reconnects = Number(await page.textContent("#reconnects"));
  const afterReconnect = expected.filter((e) => e.reconnectsBefore >= 2).length;
  check(reconnects >= 2 && count(/reason=max stream duration/g) >= 2,
        `the daemon ended the streams and the console reconnected (${reconnects} reconnects)`);
  check(afterReconnect > 0, `${afterReconnect} of the rows were published after the streams had reconnected`);
  check(await waitFor(async () => /^a: open \(\d+ reconnects?\)$/.test(await pill("a")), 5000, "a to be open"),
        `the state says so: "${await pill("a")}"`);

  // ---- 2. a resync ------------------------------------------------------------------------------
  const lastSeenA = expected.filter((e) => e.channel === "a").at(-1).id;
  await page.click("#disconnect");
  check(await waitFor(async () => (await page.$$("#streams li")).length === 0, 5000, "the streams to close"),
        "Disconnect closes the streams");
  const bulk = await publish(Array.from({ length: HISTORY + 5 }, (_, i) => ({ channel: "a", event: "bulk", data: `bulk ${i}` })));
  await page.click("#connect");
  check(await waitFor(async () => Number(await page.textContent("#count")) >= n + 1 + HISTORY, 10000, "the resync and the replay"),
        "Connect resumes: the resync and the buffered events arrive");
  shown = await rows();
  const resync = shown[n];
  check(resync && resync.resync && resync.cells[1] === "a" && resync.cells[3] === "resync",
        `the resync row is marked, on channel a: ${JSON.stringify(resync)}`);
  check(resync && resync.cells[4].includes(`events lost after ${lastSeenA}; oldest still buffered: ${bulk[5]}`),
        "it says after which id events were lost and the oldest still buffered");
  const colours = await page.$$eval("#events tr td:last-child", (tds) => [...new Set(tds.map((td) => getComputedStyle(td).backgroundColor))]);
  check(colours.length === 2, `it is drawn differently from the other rows (backgrounds ${colours.join(", ")})`);
  const replay = shown.slice(n + 1).map((r) => r.cells.slice(1, 5).join(" "));
  const wantReplay = bulk.slice(5).map((id, i) => `a ${id} bulk bulk ${i + 5}`);
  check(JSON.stringify(replay) === JSON.stringify(wantReplay), `then the ${HISTORY} events still buffered, once each`);

  // ---- 3. the publish form ----------------------------------------------------------------------
  await page.fill("#pub-channel", "b");
  await page.fill("#pub-event", "alert");
  await page.fill("#pub-data", '{"from":"the form"}');
  await page.click("#publish");
  let formId = "";
  check(await waitFor(async () => {
    const m = /^id (\d+-\d+), delivered to 1$/.exec(await page.textContent("#pub-result"));
    formId = m ? m[1] : "";
    return formId !== "";
  }, 10000, "the form's answer"), "the publish form gets the id back: " + (await page.textContent("#pub-result")));
  check(await waitFor(async () => (await rows()).some((r) => r.cells.slice(1, 5).join(" ") === `b ${formId} alert {"from":"the form"}`),
                      10000, "the form's event"), "the form's event comes back on channel b");

  // ---- 4. counters and channels -----------------------------------------------------------------
  const health = (await api("/healthz")).body;
  const list = (await api("/channels")).body.channels;
  const dd = (key) => page.textContent(`#health dd[data-key="${key}"]`).catch(() => "");
  check(await waitFor(async () => Number(await dd("events_published")) === health.counters.events_published, 10000, "the counters"),
        `the console shows /healthz's events_published (${health.counters.events_published})`);
  check(Number(await dd("resyncs")) === health.counters.resyncs && health.counters.resyncs >= 1,
        `and its resyncs (${health.counters.resyncs})`);
  check(/^\d+$/.test(await dd("subscribers")) && /^\d+(\.\d+)?$/.test(await dd("uptime_seconds")),
        "and numbers for subscribers and uptime");
  // /channels is polled on its own: wait for a poll after the last publish. Subscriber counts
  // come and go as the daemon ends streams: compare those as numbers only.
  const listed = () => page.$$eval("#channel-list tr", (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  const wantListed = JSON.stringify(list.map((ch) => [ch.name, ch.buffered, ch.lastId].join(" ")));
  check(await waitFor(async () => {
    const rows = await listed();
    return JSON.stringify(rows.map((r) => [r[0], r[2], r[3]].join(" "))) === wantListed && rows.every((r) => /^\d+$/.test(r[1]));
  }, 10000, "the channel list"), `the channel list is /channels': ${JSON.stringify(await listed())}`);
  await page.screenshot({ path: screenshotPath });
  check(refusals.length === 0, `the Content-Security-Policy refused nothing of the page: ${JSON.stringify(refusals)}`);
  await page.close();

  // ---- 5. refusals and bad input ----------------------------------------------------------------
  // Through a proxy the browser is not a local client: /channels and /notify answer 403.
  const relayed = await browser.newContext({ extraHTTPHeaders: { "X-Forwarded-For": "203.0.113.9" } });
  const remote = await relayed.newPage();
  await remote.goto(base + "/?channel=a");
  check(await waitFor(async () => /^403: only local clients/.test(await remote.textContent("#channels-note")), 10000, "the 403 note"),
        "the console says /channels is refused: " + (await remote.textContent("#channels-note")));
  check(await waitFor(async () => (await remote.textContent('#streams li[data-channel="a"]')) === "a: open", 10000, "the stream"),
        "and still subscribes");
  await remote.click("#publish");
  check(await waitFor(async () => /^403: only local clients/.test(await remote.textContent("#pub-result")), 10000, "the form's 403"),
        "the form says publishing is refused: " + (await remote.textContent("#pub-result")));
  const refusedLists = count(/path=\/channels status=403/g);
  const polled = count(/path=\/healthz status=200/g);
  check(await waitFor(() => count(/path=\/healthz status=200/g) >= polled + 2, 10000, "two more polls of /healthz"),
        "the console keeps polling /healthz");
  check(count(/path=\/channels status=403/g) === refusedLists && refusedLists > 0,
        "but asks /channels no more after its 403");
  await relayed.close();

  const bad = await browser.newPage();
  await bad.goto(base + "/?channel=bad!name");
  check(await waitFor(async () => /^bad!name: failed 400: channel name may only contain/.test(await bad.textContent("#streams li")), 10000, "the 400"),
        "a bad channel name: " + (await bad.textContent("#streams li")));
  await bad.goto(base + "/?channel=1&channel=2&channel=3&channel=4&channel=5");
  check(await waitFor(async () => /^at most 4 channels/.test(await bad.textContent("#sub-error")), 10000, "the error"),
        "five channels: " + (await bad.textContent("#sub-error")));
} catch (err) {
  check(false, String(err && err.stack || err));
} finally {
  if (browser) await browser.close();
  daemon.child.kill("SIGTERM");
}
if (anyFailed()) {
  console.log("daemon log:\n" + daemon.log());
  process.exit(1);
}
console.log("console test passed");
