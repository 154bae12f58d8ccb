#include "ssecast/http/handlers.hpp"

namespace ssecast {

namespace {

// The built-in demo page (--demo-page): subscribe to channels with EventSource, watch the events
// and the connection state, publish with a form. Plain HTML and JavaScript, kept in one literal
// so the binary needs no files. Element ids are used by the browser test
// (tests/interop/browser_test.mjs): #channels #types #connect #disconnect #state #events #count
// #pub-channel #pub-event #pub-data #publish #pub-result.
constexpr std::string_view page = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ssecast demo</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; max-width: 60em; }
  h1 { font-size: 1.3em; margin: 0 0 .8em; }
  fieldset { border: 1px solid #ccc; border-radius: 6px; margin: 0 0 1em; padding: .6em .9em; }
  legend { font-weight: 600; }
  label { margin-right: .8em; }
  input[type=text] { font: inherit; padding: .25em .4em; width: 14em; }
  #pub-data { width: 24em; }
  button { font: inherit; padding: .25em .9em; }
  #state { display: inline-block; padding: .1em .6em; border-radius: 1em; background: #ddd; }
  #state.open { background: #b9ecc0; } #state.connecting { background: #f6e7a8; }
  #state.closed { background: #f3c1c1; }
  table { border-collapse: collapse; width: 100%; font-family: ui-monospace, monospace; font-size: 13px; }
  th, td { text-align: left; border-bottom: 1px solid #eee; padding: .2em .5em; vertical-align: top; }
  td.data { white-space: pre-wrap; word-break: break-all; }
  #pub-result { margin-left: .8em; font-family: ui-monospace, monospace; }
  .error { color: #a00; }
</style>
</head>
<body>
<h1>ssecast demo</h1>
<fieldset>
  <legend>Subscribe</legend>
  <label>Channels <input type="text" id="channels" value="demo" title="comma-separated"></label>
  <label>Event types <input type="text" id="types" value="" title="named events to show besides 'message', comma-separated"></label>
  <button id="connect">Connect</button> <button id="disconnect" disabled>Disconnect</button>
  &nbsp; <span id="state" class="closed">closed</span>
</fieldset>
<fieldset>
  <legend>Publish <small>(allowed from the daemon's own machine only)</small></legend>
  <label>Channel <input type="text" id="pub-channel" value="demo"></label>
  <label>Event <input type="text" id="pub-event" value="" placeholder="message"></label>
  <label>Data <input type="text" id="pub-data" value="hello" placeholder="text or JSON"></label>
  <button id="publish">Publish</button><span id="pub-result"></span>
</fieldset>
<p><span id="count">0</span> events</p>
<table>
  <thead><tr><th>id</th><th>type</th><th>data</th></tr></thead>
  <tbody id="events"></tbody>
</table>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const list = (text) => text.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
let source = null;
let count = 0;

function setState(name) {
  $("state").textContent = name;
  $("state").className = name;
}

function show(e) {
  const row = document.createElement("tr");
  for (const [text, cls] of [[e.lastEventId, ""], [e.type, ""], [e.data, "data"]]) {
    const cell = document.createElement("td");
    cell.textContent = text;
    if (cls) cell.className = cls;
    row.appendChild(cell);
  }
  $("events").appendChild(row);
  $("count").textContent = String(++count);
}

function connect() {
  disconnect();
  const params = new URLSearchParams();
  for (const name of list($("channels").value)) params.append("channel", name);
  source = new EventSource("/events?" + params.toString());
  setState("connecting");
  source.onopen = () => setState("open");
  // EventSource retries by itself (with Last-Event-ID); CLOSED means it gave up.
  source.onerror = () => setState(source.readyState === EventSource.CLOSED ? "closed" : "connecting");
  source.onmessage = show;
  for (const type of ["resync", ...list($("types").value)]) source.addEventListener(type, show);
  $("connect").disabled = true;
  $("disconnect").disabled = false;
}

function disconnect() {
  if (source) source.close();
  source = null;
  setState("closed");
  $("connect").disabled = false;
  $("disconnect").disabled = true;
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
    out.textContent = res.ok ? "id " + answer.id + ", delivered to " + answer.delivered
                             : res.status + ": " + answer.error;
  } catch (err) {
    out.className = "error";
    out.textContent = String(err);
  }
}

$("connect").onclick = connect;
$("disconnect").onclick = disconnect;
$("publish").onclick = publish;
</script>
</body>
</html>
)html";

}  // namespace

answer demo_page(const handler_context& ctx) {
    auto r = json_reply(http::status::ok, std::string(page), ctx.req);
    r.content_type = "text/html; charset=utf-8";
    r.cache_control = "no-cache";
    return r;
}

}  // namespace ssecast
