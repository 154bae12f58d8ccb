#include <string>
#include <string_view>

#include "ssecast/auth/sha256.hpp"
#include "ssecast/http/handlers.hpp"

namespace ssecast {

namespace {

// The built-in console (--demo-page): live events of the channels named in its URL
// (/?channel=a&channel=b), a publish form, and the daemon's /healthz counters and /channels list.
// Plain HTML, CSS and JavaScript, kept in literals so the binary needs no files. Element ids are
// used by the browser test (tests/interop/console_test.mjs).

constexpr std::string_view head = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ssecast console</title>
<style>)html";

constexpr std::string_view style = R"css(
  body { font: 13px/1.4 system-ui, sans-serif; margin: 0; color: #222; background: #f6f7f9; }
  header { display: flex; align-items: baseline; gap: 1em; padding: .5em 1em; background: #234; color: #fff; }
  h1 { font-size: 1.15em; margin: 0; }
  h2 { font-size: 1em; margin: .4em 0 .3em; }
  main { display: grid; grid-template-columns: 1fr 22.5em; gap: .6em; padding: .6em 1em; align-items: start; }
  section { background: #fff; border: 1px solid #dde; border-radius: 6px; padding: .5em .7em; }
  #server { grid-column: 2; grid-row: 1 / 3; } #log { grid-column: 1; }
  label { margin-right: .6em; }
  input[type=text] { font: inherit; padding: .15em .35em; width: 11em; }
  #channels { width: 16em; } #pub-data { width: 18em; }
  button { font: inherit; padding: .15em .7em; }
  .error { color: #a00; }
  #streams { list-style: none; margin: .4em 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: .4em; }
  #streams li { padding: .05em .6em; border-radius: 1em; background: #ddd; }
  #streams li.open { background: #b9ecc0; } #streams li.connecting, #streams li.reconnecting { background: #f6e7a8; }
  #streams li.failed { background: #f3c1c1; }
  dl { display: grid; grid-template-columns: auto auto; gap: 0 .8em; margin: 0; }
  dt { color: #556; white-space: nowrap; } dd { margin: 0; text-align: right; font-family: ui-monospace, monospace; }
  table { border-collapse: collapse; width: 100%; font-family: ui-monospace, monospace; font-size: 12px; }
  th, td { text-align: left; border-bottom: 1px solid #eee; padding: .1em .4em; vertical-align: top; white-space: nowrap; }
  td.data { white-space: pre-wrap; overflow-wrap: anywhere; }
  tr.resync td { background: #ffe2b3; font-weight: 600; }
  #pub-result { margin-left: .6em; font-family: ui-monospace, monospace; }
)css";

constexpr std::string_view body = R"html(</style>
</head>
<body>
<header><h1>ssecast console</h1><span><span id="count">0</span> events received</span>
  <span><span id="reconnects">0</span> reconnects</span></header>
<main>
<section>
  <h2>Subscribe</h2>
  <label>Channels <input type="text" id="channels" title="comma-separated, at most 4"></label>
  <button id="connect">Connect</button> <button id="disconnect">Disconnect</button>
  <span id="sub-error" class="error"></span>
  <ul id="streams"></ul>
  <h2>Publish</h2>
  <label>Channel <input type="text" id="pub-channel"></label>
  <label>Event <input type="text" id="pub-event" placeholder="message"></label><br>
  <label>Data <input type="text" id="pub-data" value="hello" placeholder="text or JSON"></label>
  <button id="publish">Publish</button><span id="pub-result"></span>
</section>
<section id="log">
  <table>
    <thead><tr><th>time (UTC)</th><th>channel</th><th>id</th><th>type</th><th>data</th></tr></thead>
    <tbody id="events"></tbody>
  </table>
</section>
<section id="server">
  <h2>Server <small id="health-note" class="error"></small></h2>
  <dl id="health"></dl>
  <h2>Channels <small id="channels-note" class="error"></small></h2>
  <table><thead><tr><th>name</th><th>subs</th><th>buffered</th><th>last id</th></tr></thead>
  <tbody id="channel-list"></tbody></table>
</section>
</main>
<script>)html";

constexpr std::string_view script = R"js(
"use strict";
const $ = (id) => document.getElementById(id);
const MAX_ROWS = 500;        // the DOM keeps the newest rows only
const MAX_CHANNELS = 4;      // a stream each; browsers open at most 6 HTTP/1.1 connections per server
const POLL_MS = 3000;
const MAX_LISTED = 50;       // channels shown from /channels
const streams = new Map();   // channel -> its stream
const lastIds = new Map();   // channel -> last event id, kept over Disconnect so Connect resumes
let received = 0;
let reconnects = 0;

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text;  // event data is untrusted: never parsed as HTML
  if (cls) td.className = cls;
  return td;
}

function resyncText(data) {
  try {
    const { lastEventId, oldestId } = JSON.parse(data);
    return `events lost after ${lastEventId}; oldest still buffered: ${oldestId}  ${data}`;
  } catch {
    return data;
  }
}

function show(channel, type, id, data) {
  const row = document.createElement("tr");
  if (type === "resync") row.className = "resync";
  row.append(cell(new Date().toISOString().slice(11, 23)), cell(channel, "channel"), cell(id, "id"),
             cell(type, "type"), cell(type === "resync" ? resyncText(data) : data, "data"));
  const rows = $("events");
  rows.prepend(row);
  while (rows.rows.length > MAX_ROWS) rows.lastElementChild.remove();
  $("count").textContent = String(++received);
}

// One stream per channel: the stream does not say which channel an event came from, so a
// stream of its own is how the console knows. Read with fetch rather than EventSource, which hands
// a typed event only to listeners of that type, and a console cannot know the types in advance.
// Parsing, reconnection and Last-Event-ID follow the WHATWG rules that EventSource follows.
class Stream {
  constructor(channel) {
    this.channel = channel;
    this.retryMs = 3000;  // the browsers' default, until the daemon sends retry:
    this.reconnects = 0;
    this.closed = false;
    this.timer = 0;
    this.pill = document.createElement("li");
    this.pill.dataset.channel = channel;
    $("streams").append(this.pill);
    this.open();
  }

  setState(state, detail = "") {
    this.pill.className = state;
    this.pill.textContent = `${this.channel}: ${state}${detail}` +
                            (this.reconnects ? ` (${this.reconnects} reconnect${this.reconnects > 1 ? "s" : ""})` : "");
  }

  async open() {
    this.setState(this.reconnects ? "reconnecting" : "connecting");
    this.abort = new AbortController();
    const last = lastIds.get(this.channel);
    let res;
    try {
      res = await fetch("/events?" + new URLSearchParams({ channel: this.channel }), {
        headers: last ? { "Last-Event-ID": last } : {},
        cache: "no-store",
        signal: this.abort.signal,
      });
    } catch {
      return this.later();
    }
    if (res.status !== 200 || !/^text\/event-stream/.test(res.headers.get("Content-Type") || "")) {
      // EventSource gives up for good on such an answer; so does the console, and says why.
      let why = res.statusText;
      try { why = (await res.json()).error; } catch { /* not JSON: keep the status text */ }
      return this.setState("failed", ` ${res.status}: ${why}`);
    }
    this.setState("open");
    try {
      await this.read(res.body.pipeThrough(new TextDecoderStream()).getReader());
    } catch { /* a network error or close(): handled below */ }
    this.later();
  }

  later() {
    if (this.closed) return;
    this.reconnects++;
    $("reconnects").textContent = String(++reconnects);
    this.setState("reconnecting", ` in ${this.retryMs} ms`);
    this.timer = setTimeout(() => this.open(), this.retryMs);
  }

  async read(reader) {
    let buffer = "";
    this.type = "";
    this.data = [];
    this.id = lastIds.get(this.channel) || "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;  // a half-received event is dropped, as EventSource does
      buffer += value;
      // A line ends at CRLF, LF or a lone CR; a CR last in the buffer may be half of a CRLF.
      for (let m; (m = /\r\n|\n|\r/.exec(buffer)) && !(m[0] === "\r" && m.index === buffer.length - 1);) {
        this.line(buffer.slice(0, m.index));
        buffer = buffer.slice(m.index + m[0].length);
      }
    }
  }

  line(text) {
    if (text === "") return this.dispatch();
    if (text.startsWith(":")) return;  // a comment: the heartbeats
    const colon = text.indexOf(":");
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.type = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id" && !value.includes("\0")) this.id = value;
    else if (field === "retry" && /^[0-9]+$/.test(value)) this.retryMs = Number(value);
  }

  dispatch() {
    // The id counts even without data (the daemon's first id: line), as in EventSource.
    lastIds.set(this.channel, this.id);
    const [type, data] = [this.type || "message", this.data];
    this.type = "";
    this.data = [];
    if (data.length > 0) show(this.channel, type, this.id, data.join("\n"));
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.abort) this.abort.abort();
    this.pill.remove();
  }
}

function connect(names) {
  disconnect();
  const channels = [...new Set(names.length ? names : ["default"])];  // none: "default", as /events
  if (channels.length > MAX_CHANNELS) {
    $("sub-error").textContent = `at most ${MAX_CHANNELS} channels: the console opens a stream ` +
                                 "for each, and a browser opens at most 6 connections to a server";
    return;
  }
  $("sub-error").textContent = "";
  $("channels").value = channels.join(", ");
  if (!$("pub-channel").value) $("pub-channel").value = channels[0];
  // The URL names what is shown, so a reload or a shared link opens the same view.
  const query = new URLSearchParams(channels.map((c) => ["channel", c]));
  history.replaceState(null, "", "?" + query);
  for (const c of channels) streams.set(c, new Stream(c));
}

function disconnect() {
  for (const s of streams.values()) s.close();
  streams.clear();
}

async function publish() {
  const body = { channel: $("pub-channel").value.trim() || "default" };
  const type = $("pub-event").value.trim();
  if (type) body.event = type;
  const raw = $("pub-data").value;
  // JSON text is sent as JSON (delivered compact); anything else as a string.
  try { body.data = JSON.parse(raw); } catch { body.data = raw; }
  const out = $("pub-result");
  try {
    const res = await fetch("/notify", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await res.json();
    out.className = res.ok ? "" : "error";
    out.textContent = res.ok ? `id ${answer.id}, delivered to ${answer.delivered}`
                             : `${res.status}: ${answer.error}`;
  } catch (err) {
    out.className = "error";
    out.textContent = String(err);
  }
}

function showHealth(h) {
  const c = h.counters;
  const items = [["subscribers", h.subscribers], ["connections", h.connections],
                 ["channels", h.channels], ["events_published", c.events_published],
                 ["deliveries", c.deliveries], ["events_replayed", c.events_replayed],
                 ["resyncs", c.resyncs], ["slow_consumer_disconnects", c.slow_consumer_disconnects],
                 ["requests_rejected", c.requests_rejected], ["uptime_seconds", h.uptime_seconds]];
  $("health").replaceChildren(...items.flatMap(([key, value]) => {
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = key.replaceAll("_", " ");
    dd.textContent = String(value);
    dd.dataset.key = key;
    return [dt, dd];
  }));
}

function showChannels(answer) {
  const list = answer.channels;
  const rows = list.slice(0, MAX_LISTED).map((ch) => {
    const tr = document.createElement("tr");
    tr.dataset.name = ch.name;
    tr.append(cell(ch.name), cell(String(ch.subscribers)), cell(String(ch.buffered)),
              cell(ch.lastId === null ? "-" : ch.lastId));
    return tr;
  });
  if (list.length > MAX_LISTED) {
    const tr = document.createElement("tr");
    tr.append(cell(`and ${list.length - MAX_LISTED} more`));
    rows.push(tr);
  }
  $("channel-list").replaceChildren(...rows);
}

// Polls `path` every POLL_MS; a 401 or 403 (/channels is for local clients or a credential) ends
// the polling, since asking again gets the same answer, and the note says why.
async function poll(path, render, note) {
  try {
    const res = await fetch(path, { cache: "no-store" });
    const answer = await res.json();
    $(note).textContent = res.ok ? "" : `${res.status}: ${answer.error}`;
    if (res.ok) render(answer);
    if (res.status === 401 || res.status === 403) return;
  } catch (err) {
    $(note).textContent = String(err);
  }
  setTimeout(() => poll(path, render, note), POLL_MS);
}

const names = (text) => text.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
$("connect").onclick = () => connect(names($("channels").value));
$("disconnect").onclick = disconnect;
$("publish").onclick = publish;
connect(new URLSearchParams(location.search).getAll("channel"));
poll("/healthz", showHealth, "health-note");
poll("/channels", showChannels, "channels-note");
)js";

constexpr std::string_view tail = R"html(</script>
</body>
</html>
)html";

// Standard base64 with padding, as CSP hash sources are written.
std::string base64(const sha256_digest& bytes) {
    constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        unsigned chunk = static_cast<unsigned>(bytes[i]) << 16;
        if (i + 1 < bytes.size()) chunk |= static_cast<unsigned>(bytes[i + 1]) << 8;
        if (i + 2 < bytes.size()) chunk |= bytes[i + 2];
        for (std::size_t k = 0; k < 4; ++k) {
            out += i + k <= bytes.size() ? alphabet[(chunk >> (18 - 6 * k)) & 63] : '=';
        }
    }
    return out;
}

std::string hash_source(std::string_view text) { return "'sha256-" + base64(sha256(text)) + "'"; }

// The page renders untrusted event data; should a bug ever let some of it be read as HTML, the
// browser still runs no script but the page's own and sends nothing anywhere but this daemon.
struct page_and_policy {
    std::string page = std::string(head) + std::string(style) + std::string(body) +
                       std::string(script) + std::string(tail);
    std::string policy = "Content-Security-Policy: default-src 'none'; script-src " +
                         hash_source(script) + "; style-src " + hash_source(style) +
                         "; connect-src 'self'; base-uri 'none'; form-action 'none'; "
                         "frame-ancestors 'none'\r\n";
};

}  // namespace

answer demo_page(const handler_context& ctx) {
    static const page_and_policy built;
    auto r = json_reply(http::status::ok, built.page, ctx.req);
    r.content_type = "text/html; charset=utf-8";
    r.cache_control = "no-cache";
    r.extra_headers = built.policy;
    return r;
}

}  // namespace ssecast
