// What the browser tests share: their checks, waiting on a condition with a deadline, and
// starting the daemon on a free loopback port.
import { spawn } from "node:child_process";

let failed = false;
export function check(ok, what) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failed = true;
}
export function anyFailed() {
  return failed;
}

// Polls `condition` (which may be async) every 50 ms until it holds or `ms` pass.
export async function waitFor(condition, ms, what) {
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

// `port` resolves once the startup line names the port; `log()` is stderr so far.
export function startDaemon(binary, args) {
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
