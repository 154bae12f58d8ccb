#!/usr/bin/env bash
# Runs the scenarios of issue 3 against ssecast and nchan (nginx + libnginx-mod-nchan) on loopback,
# interleaved (ssecast, then nchan, for each scenario, each on a freshly started server), with the
# server pinned to one core and ssecast-bench to another, and prints one Markdown table with both
# figures and their ratio, plus the machine it ran on.
#
#   bench/compare.sh            the full run (< 10 minutes on 2 cores)
#   bench/compare.sh --quick    small counts, ~1 minute
#   bench/compare.sh --smoke    ~5 seconds, ssecast only: CI runs it so the harness cannot rot
#                               (fails only when the harness itself is broken)
# Options: --out FILE (also write the report there), --no-build (use the binaries already built),
#          --only N[,N...] (run only these scenarios: 1..7)
# Environment: BUILD_DIR (default build-bench), SSECAST_THREADS (default 1; passed as --threads
#   when ssecast has that flag, and nchan gets as many workers), SERVER_CPUS (default 0),
#   BENCH_CPUS (default 1), KEEP_RESULTS=1 (keep the JSON of every run; their folder is printed).
#
# Installs nginx-light and libnginx-mod-nchan with apt-get when they are missing (not for --smoke),
# builds ssecast and ssecast-bench (Release, -j2), and leaves nothing running behind.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
PROFILE=full
OUT=""
BUILD=1
ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) PROFILE=quick ;;
    --smoke) PROFILE=smoke ;;
    --full) PROFILE=full ;;
    --out) OUT=$2; shift ;;
    --no-build) BUILD=0 ;;
    --only) ONLY=",$2,"; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

SERVER_CPUS=${SERVER_CPUS:-0}
BENCH_CPUS=${BENCH_CPUS:-1}
THREADS=${SSECAST_THREADS:-1}
SSECAST=$BUILD_DIR/ssecast
BENCH=$BUILD_DIR/bench/ssecast-bench
STARTED=$(date +%s)

log() { echo "compare.sh: $*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# ---- dependencies -----------------------------------------------------------------------------
missing=()
command -v python3 >/dev/null || missing+=(python3)
command -v taskset >/dev/null || missing+=(util-linux)
if [ "$PROFILE" != smoke ]; then
  command -v nginx >/dev/null || missing+=(nginx-light)
  [ -e /usr/lib/nginx/modules/ngx_nchan_module.so ] || missing+=(libnginx-mod-nchan)
fi
if [ "$BUILD" = 1 ]; then
  command -v cmake >/dev/null || missing+=(cmake)
  command -v g++ >/dev/null || missing+=(g++)
  command -v ninja >/dev/null || missing+=(ninja-build)
  dpkg -s libboost1.81-dev >/dev/null 2>&1 || missing+=(libboost1.81-dev)
  dpkg -s libcli11-dev >/dev/null 2>&1 || missing+=(libcli11-dev)
  dpkg -s nlohmann-json3-dev >/dev/null 2>&1 || missing+=(nlohmann-json3-dev)
  dpkg -s libspdlog-dev >/dev/null 2>&1 || missing+=(libspdlog-dev)
fi
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---- build ------------------------------------------------------------------------------------
if [ "$BUILD" = 1 ]; then
  grep -q 'add_subdirectory(bench)' "$ROOT/CMakeLists.txt" ||
    { log "the root CMakeLists.txt does not add bench/; cannot build ssecast-bench"; exit 1; }
  log "building ssecast and ssecast-bench (Release) in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSSECAST_BUILD_TESTS=OFF >/dev/null
  cmake --build "$BUILD_DIR" -j2 --target ssecast ssecast-bench >/dev/null
fi
if [ ! -x "$SSECAST" ] || [ ! -x "$BENCH" ]; then log "missing $SSECAST or $BENCH"; exit 1; fi

# ---- servers ----------------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ssecast-compare.XXXXXX")
RESULTS=$WORK/results
mkdir -p "$RESULTS"
SERVER_PID=""

# shellcheck disable=SC2317  # also called by the EXIT trap
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  stop_server
  if [ "${KEEP_RESULTS:-0}" = 1 ]; then log "results kept in $RESULTS"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# taskset execs the command, so $! of "taskset ... server &" is the server's own pid.
SERVER_PIN=()
BENCH_PIN=()
if [ "$(nproc)" -gt 1 ]; then
  SERVER_PIN=(taskset -c "$SERVER_CPUS")
  BENCH_PIN=(taskset -c "$BENCH_CPUS")
fi

free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 10000))  # below the ephemeral range used by the bench's connections
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  log "no free port found"; exit 1
}

wait_port() { # port pid
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    kill -0 "$2" 2>/dev/null || { log "server exited at start"; return 1; }
    sleep 0.05
  done
  log "server did not listen on port $1"; return 1
}

SSECAST_ARGS=(--log-level warn --history 1000)
# Every benchmark client comes from loopback: the per-address limit would refuse most of them.
if "$SSECAST" --help 2>/dev/null | grep -q -- '--max-connections-per-ip'; then
  SSECAST_ARGS+=(--max-connections-per-ip 0)
fi
if "$SSECAST" --help 2>/dev/null | grep -q -- '--threads'; then
  SSECAST_ARGS+=(--threads "$THREADS")
  SSECAST_HAS_THREADS=1
else
  SSECAST_HAS_THREADS=0
  THREADS=1  # single-threaded today: nchan gets one worker to match
fi

start_ssecast() {
  PORT=$(free_port)
  "${SERVER_PIN[@]}" "$SSECAST" --listen "127.0.0.1:$PORT" "${SSECAST_ARGS[@]}" >>"$WORK/ssecast.log" 2>&1 &
  SERVER_PID=$!
  wait_port "$PORT" "$SERVER_PID"
  PID_FLAG=(--server-pid "$SERVER_PID")
}

start_nchan() {
  PORT=$(free_port)
  local prefix=$WORK/nginx
  mkdir -p "$prefix"
  sed -e "s#@PREFIX@#$prefix#g" -e "s#@PORT@#$PORT#g" -e "s#@WORKERS@#$THREADS#g" \
    "$ROOT/bench/nchan.conf" >"$prefix/nchan.conf"
  "${SERVER_PIN[@]}" nginx -p "$prefix" -c "$prefix/nchan.conf" -g 'daemon off;' >>"$WORK/nginx.log" 2>&1 &
  SERVER_PID=$!
  wait_port "$PORT" "$SERVER_PID"
  PID_FLAG=(--server-pid-tree "$SERVER_PID")
}

# ---- scenarios --------------------------------------------------------------------------------
# Each: name | bench arguments. Paced scenarios allow 64 outstanding publishes so that the offered
# rate is kept even when a server answers late (the latency then shows the queueing); flat-out
# ones use 4 publishers with one request each (closed loop: they publish as fast as answers come).
case "$PROFILE" in
  full)
    D=10; DRAIN=15
    S1A=1000; S1B=15000; S2=10000; S3=1000; S4=1000; S5=10000; S5C=1000; S7=10000 ;;
  quick)
    D=3; DRAIN=5
    S1A=200; S1B=2000; S2=2000; S3=500; S4=500; S5=2000; S5C=200; S7=2000 ;;
  smoke)
    D=1; DRAIN=2 ;;
esac
PACED=(--publishers 1 --pipeline 64)
FLAT=(--rate 0 --publishers 4 --pipeline 1)
declare -a NAMES ARGS
add() { NAMES+=("$1"); shift; ARGS+=("$*"); }
if [ "$PROFILE" = smoke ]; then
  add "s1 idle 100" --mode idle -n 100 --settle 0.3
  add "s2 fanout 100 x 50/s" -n 100 --rate 50 --duration $D --drain $DRAIN --settle 0.2 "${PACED[@]}"
  add "s6 publish-only" --mode publish-only --publishers 4 --duration 0.5
  add "s7 storm 100" --mode reconnect-storm -n 100 --backlog 20 --drain $DRAIN --settle 0.2
  TARGETS=(ssecast)
else
  add "1a idle $S1A" --mode idle -n $S1A --settle 2
  add "1b idle $S1B" --mode idle -n $S1B --settle 3
  add "2 fanout $S2 x 20/s" -n $S2 --rate 20 --duration $D --drain $DRAIN "${PACED[@]}"
  add "3 fanout $S3 x 200/s" -n $S3 --rate 200 --duration $D --drain $DRAIN "${PACED[@]}"
  add "4 saturation $S4" -n $S4 --duration $D --drain $DRAIN "${FLAT[@]}"
  add "5 channels $S5 on $S5C" -n $S5 -c $S5C --duration $D --drain $DRAIN "${FLAT[@]}"
  add "6 publish-only 16" --mode publish-only --publishers 16 --pipeline 1 --duration $D
  add "7 storm $S7" --mode reconnect-storm -n $S7 --backlog 100 --drain $((DRAIN * 2))
  TARGETS=(ssecast nchan)
fi

COMMANDS=$WORK/commands.txt
: >"$COMMANDS"
FAILED=0
for i in "${!NAMES[@]}"; do
  name=${NAMES[$i]}
  number=${name%% *}
  if [ -n "$ONLY" ] && [[ "$ONLY" != *",${number//[ab]/},"* ]]; then continue; fi
  for target in "${TARGETS[@]}"; do
    if [ "$target" = ssecast ]; then start_ssecast; else start_nchan; fi
    file=$RESULTS/$i-$target.json
    # shellcheck disable=SC2206
    args=(--target "$target" --port "$PORT" "${PID_FLAG[@]}" --label "$name" ${ARGS[$i]} --json "$file")
    echo "taskset -c $BENCH_CPUS ssecast-bench ${args[*]}" >>"$COMMANDS"
    log "scenario $name: $target"
    rc=0
    timeout 300 "${BENCH_PIN[@]}" "$BENCH" "${args[@]}" 2>"$WORK/summary.txt" || rc=$?
    sed 's/^/    /' "$WORK/summary.txt" >&2
    if [ $rc -ne 0 ] || [ ! -s "$file" ]; then
      log "scenario $name against $target: ssecast-bench failed (exit $rc)"
      FAILED=1
    fi
    stop_server
  done
done

# ---- the table ---------------------------------------------------------------------------------
NGINX_VERSION=$( (nginx -v 2>&1 || true) | sed 's/.*: //')
NCHAN_VERSION=$(dpkg-query -W -f='${Version}' libnginx-mod-nchan 2>/dev/null || echo "not installed")
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -qv '^??' && echo " (with local changes)" || true)
REPORT=$WORK/report.md
python3 - "$RESULTS" "$PROFILE" "$THREADS" "$SSECAST_HAS_THREADS" "$NGINX_VERSION" "$NCHAN_VERSION" \
  "$COMMIT$DIRTY" "$SERVER_CPUS" "$BENCH_CPUS" "$(( $(date +%s) - STARTED ))" "$COMMANDS" >"$REPORT" <<'PY'
import glob, json, os, platform, sys
(results, profile, threads, has_threads, nginx_v, nchan_v, commit, server_cpus, bench_cpus,
 elapsed, commands) = sys.argv[1:12]
runs = {}
for path in sorted(glob.glob(os.path.join(results, "*.json"))):
    idx, target = os.path.basename(path)[:-5].split("-", 1)
    with open(path) as f:
        runs.setdefault(int(idx), {})[target] = json.load(f)

def get(r, *keys):
    for k in keys:
        if r is None or not isinstance(r, dict) or k not in r:
            return None
        r = r[k]
    return r

def fmt(v, unit=""):
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if isinstance(v, int):
        return f"{v:,}{unit}"
    if abs(v) >= 100:
        s = f"{v:,.0f}"
    elif abs(v) >= 10:
        s = f"{v:.1f}"
    else:
        s = f"{v:.2f}"
    return s + unit

def ratio(a, b):
    if a is None or b is None or isinstance(a, bool) or b == 0:
        return "n/a"
    return f"{a / b:.2f}x"

# (label, getter, unit, what is better)
def metrics(r):
    mode = r["mode"]
    m = []
    if mode == "idle":
        m.append(("RSS per idle subscriber", get(r, "server", "bytes_per_idle_subscriber"), " B", "lower"))
        m.append(("PSS per idle subscriber", get(r, "server", "pss_bytes_per_idle_subscriber"), " B", "lower"))
        slab = get(r, "kernel", "slab_bytes_per_connection_both_ends")
        m.append(("kernel socket slabs per connection, both ends", slab, " B", "lower"))
        rss = get(r, "server", "bytes_per_idle_subscriber")
        tcp = get(r, "kernel", "tcp_mem_bytes_per_connection_both_ends") or 0
        m.append(("1M subscribers projected: RSS + half the socket slabs and TCP mem",
                  None if rss is None or slab is None else (rss + (slab + max(tcp, 0)) / 2) * 1e6 / 2**30,
                  " GiB", "lower"))
    elif mode == "fanout":
        m.append(("delivered events/s", get(r, "delivery", "delivered_per_s"), "/s", "higher"))
        m.append(("offered deliveries/s", get(r, "delivery", "offered_per_s"), "/s", ""))
        m.append(("publish->receive p50", get(r, "delivery", "latency_ms", "p50"), " ms", "lower"))
        m.append(("publish->receive p99", get(r, "delivery", "latency_ms", "p99"), " ms", "lower"))
        m.append(("publish->receive max", get(r, "delivery", "latency_ms", "max"), " ms", "lower"))
        m.append(("loss (lost deliveries)", get(r, "delivery", "lost"), "", "lower"))
        m.append(("publish requests/s achieved", get(r, "publish", "achieved_rate"), "/s", ""))
    elif mode == "publish-only":
        m.append(("publish requests/s", get(r, "publish", "requests_per_s"), "/s", "higher"))
        m.append(("answer p99", get(r, "publish", "answer_latency_ms", "p99"), " ms", "lower"))
    elif mode == "reconnect-storm":
        m.append(("time until all caught up", get(r, "storm", "catch_up_s"), " s", "lower"))
        m.append(("catch-up p50 per subscriber", (get(r, "storm", "catch_up_ms", "p50") or 0) / 1000, " s", "lower"))
        m.append(("every subscriber caught up", get(r, "storm", "all_caught_up"), "", ""))
        m.append(("loss (backlog deliveries)", get(r, "storm", "lost"), "", "lower"))
        m.append(("resync notices", get(r, "storm", "resyncs"), "", ""))
    if mode != "idle":
        m.append(("server CPU (cores)", get(r, "server", "load_cores"), "", ""))
        m.append(("bench CPU (cores)", get(r, "bench_cpu", "load_cores"), "", ""))
    return m

any_run = next(iter(next(iter(runs.values())).values())) if runs else {}
machine = any_run.get("machine", {})
out = []
out.append(f"## ssecast vs nchan ({profile} run)\n")
out.append(f"- machine: {machine.get('online_cpus', '?')} cores ({machine.get('cpu_model', '?')}), "
           f"kernel {machine.get('kernel', platform.release())}, descriptor limit {machine.get('nofile_hard', '?')}")
out.append(f"- ssecast {commit}, {'--threads ' + threads if has_threads == '1' else 'single-threaded (no --threads flag yet)'}, "
           f"--history 1000; nchan {nchan_v} on {nginx_v}, {threads} worker(s), nchan_message_buffer_length 1000")
out.append(f"- server pinned to CPU {server_cpus}, ssecast-bench to CPU {bench_cpus}; every run on a freshly started server; "
           f"ratio = ssecast / nchan; {elapsed} s in all\n")
targets = ["ssecast", "nchan"] if any("nchan" in v for v in runs.values()) else ["ssecast"]
if len(targets) == 2:
    out.append("| scenario | metric | ssecast | nchan | ratio |")
    out.append("|---|---|---:|---:|---:|")
else:
    out.append("| scenario | metric | ssecast |")
    out.append("|---|---|---:|")
notes = []
for idx in sorted(runs):
    pair = runs[idx]
    first = pair.get("ssecast") or pair.get("nchan")
    label = first.get("label", str(idx))
    ms = {t: metrics(pair[t]) if t in pair else None for t in targets}
    base = ms["ssecast"] or ms.get("nchan")
    for k, (name, _, unit, better) in enumerate(base):
        vals = [ms[t][k][1] if ms[t] else None for t in targets]
        hint = f" ({better} is better)" if better else ""
        cells = [fmt(v, unit) for v in vals]
        row = f"| {label} | {name}{hint} | " + " | ".join(cells)
        if len(targets) == 2:
            row += f" | {ratio(vals[0], vals[1])}"
        out.append(row + " |")
        label = ""
    for t in targets:
        r = pair.get(t)
        if r is None:
            notes.append(f"- {first.get('label')}: no result from {t}")
            continue
        for h in r.get("limits_hit", []):
            notes.append(f"- {r.get('label')} / {t}: {h}")
        lp = get(r, "machine", "load_phase")
        if lp and lp.get("other_processes_cores", 0) > 0.15:
            pass  # already in limits_hit
out.append("")
if notes:
    out.append("Limits hit and warnings (a run that hit a limit measured the limit, not the server):\n")
    out.extend(notes)
else:
    out.append("No limit was hit in any run.")
out.append("\nCommands (ssecast-bench, per run):\n")
out.append("```")
with open(commands) as f:
    out.extend(line.rstrip() for line in f)
out.append("```")
print("\n".join(out))
PY

cat "$REPORT"
[ -n "$OUT" ] && cp "$REPORT" "$OUT"

if [ "$PROFILE" = smoke ]; then
  # The harness is broken if a run failed or nothing was delivered or replayed.
  python3 - "$RESULTS" <<'PY' || FAILED=1
import glob, json, sys
ok = True
for path in glob.glob(sys.argv[1] + "/*.json"):
    r = json.load(open(path))
    if r["mode"] == "fanout" and not r.get("delivery", {}).get("received"):
        print(f"smoke: {path}: nothing received", file=sys.stderr); ok = False
    if r["mode"] == "reconnect-storm" and not r.get("storm", {}).get("got"):
        print(f"smoke: {path}: nothing replayed", file=sys.stderr); ok = False
    if r["mode"] == "publish-only" and not r.get("publish", {}).get("ok"):
        print(f"smoke: {path}: nothing published", file=sys.stderr); ok = False
sys.exit(0 if ok else 1)
PY
fi
exit $FAILED
