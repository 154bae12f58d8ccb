#!/usr/bin/env bash
# What durable history (issue 10: --data-dir, --fsync) costs, in one run, side by side:
#
#   previous  ssecast built from a baseline commit (default 38aea12, the commit before the backend
#             seam), history in memory
#   memory    the current tree's ssecast, history in memory
#   always    the current ssecast with --data-dir (fresh empty dir per run) --fsync always
#   batch     ... --fsync batch
#   off       ... --fsync off
#
# Scenarios (the same ssecast-bench calls as bench/compare.sh's 6 and 4):
#   publish-only  16 keep-alive publishers, pipeline 1: requests/s, answer p50/p99 (all five)
#   saturation    1000 subscribers, 4 publishers flat out: deliveries/s, publish->receive p50/p99
#                 (previous, memory and, for information, always)
# Every run on a freshly started server pinned to CPU 0, ssecast-bench (the current one for all)
# on CPU 1. Each (scenario, variant) runs --repeat times; within a repeat the variants run one
# after another (their order rotated by one each repeat), and the table gives the medians.
#
#   bench/durability.sh                 full profile: 10 s of publishing per run (~2 min per repeat)
#   bench/durability.sh --quick         2 s per run, to check the harness
# Options: --repeat N (default 1), --baseline COMMIT (default 38aea12), --out FILE (also write the
#          report there), --no-build (use the binaries already built), --wait-idle SECONDS (before
#          each repeat wait at most this long for no compiler/ninja/ctest and < 0.25 busy cores,
#          and at most 60 s of it before each run; default 600, 0 = do not wait)
# Environment: BUILD_DIR (default build-bench), BASELINE_BUILD_DIR (default
#   /tmp/ssecast-baseline-<commit>-build, kept between runs), DATA_ROOT (where the data dirs are
#   made; default $TMPDIR or /var/tmp; tmpfs is refused unless ALLOW_TMPFS=1), SERVER_CPUS (0),
#   BENCH_CPUS (1), SSECAST_THREADS (1), KEEP_RESULTS=1 (keep the JSON and server logs).
#
# The baseline is built in a temporary `git worktree add --detach` (removed at the end; the main
# work tree and its index are not touched). Leaves nothing running behind.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
PROFILE=full
OUT=""
BUILD=1
REPEAT=1
BASELINE=38aea12
WAIT_IDLE=600
INVOCATION="bench/durability.sh $*"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) PROFILE=quick ;;
    --full) PROFILE=full ;;
    --repeat) REPEAT=$2; shift ;;
    --baseline) BASELINE=$2; shift ;;
    --out) OUT=$2; shift ;;
    --no-build) BUILD=0 ;;
    --wait-idle) WAIT_IDLE=$2; shift ;;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    *) echo "durability.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || { echo "durability.sh: --repeat takes a positive number" >&2; exit 2; }
[[ "$WAIT_IDLE" =~ ^[0-9]+$ ]] || { echo "durability.sh: --wait-idle takes seconds" >&2; exit 2; }

SERVER_CPUS=${SERVER_CPUS:-0}
BENCH_CPUS=${BENCH_CPUS:-1}
THREADS=${SSECAST_THREADS:-1}
SSECAST=$BUILD_DIR/ssecast
BENCH=$BUILD_DIR/bench/ssecast-bench
STARTED=$(date +%s)
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-/work}

log() { echo "durability.sh: $*" >&2; }

for tool in python3 taskset timeout git df; do
  command -v "$tool" >/dev/null || { log "missing $tool"; exit 1; }
done
if [ "$BUILD" = 1 ]; then
  for tool in cmake ninja g++; do command -v "$tool" >/dev/null || { log "missing $tool"; exit 1; }; done
fi

BASE_FULL=$(git -C "$ROOT" rev-parse --verify --quiet "$BASELINE^{commit}") ||
  { log "no commit $BASELINE in $ROOT"; exit 2; }
BASE_SHORT=$(git -C "$ROOT" rev-parse --short=7 "$BASE_FULL")
BASE_TREE=/tmp/ssecast-baseline-$BASE_SHORT
BASELINE_BUILD_DIR=${BASELINE_BUILD_DIR:-/tmp/ssecast-baseline-$BASE_SHORT-build}
PREVIOUS=$BASELINE_BUILD_DIR/ssecast

# ---- the data dirs' file system -----------------------------------------------------------------
DATA_ROOT=${DATA_ROOT:-${TMPDIR:-/var/tmp}}
mkdir -p "$DATA_ROOT"
DATA_FS_TYPE=$(df -PT "$DATA_ROOT" | awk 'NR == 2 { print $2 }')
DATA_FS=$(df -PT "$DATA_ROOT" | awk 'NR == 2 { print $1 " (" $2 ", mounted on " $7 ")" }')
if command -v findmnt >/dev/null; then
  opts=$(findmnt -n -o OPTIONS -T "$DATA_ROOT" 2>/dev/null || true)
  [ -z "$opts" ] || DATA_FS="$DATA_FS, options $opts"
fi
case "$DATA_FS_TYPE" in
  tmpfs|ramfs|devtmpfs)
    if [ "${ALLOW_TMPFS:-0}" != 1 ]; then
      log "DATA_ROOT $DATA_ROOT is on $DATA_FS_TYPE: fsync costs nothing there; use a real disk (or ALLOW_TMPFS=1)"
      exit 2
    fi ;;
esac

# ---- cleanup ----------------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ssecast-durability.XXXXXX")
RESULTS=$WORK/results
LOGS=$WORK/logs
mkdir -p "$RESULTS" "$LOGS"
SERVER_PID=""
DATA_DIR=""
WORKTREE_ADDED=0

# shellcheck disable=SC2317  # also called by the EXIT trap; sets SERVER_RC
stop_server() {
  SERVER_RC=""
  [ -n "$SERVER_PID" ] || return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      log "server $SERVER_PID still running 10 s after SIGTERM: SIGKILL"
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
  fi
  SERVER_RC=0
  wait "$SERVER_PID" 2>/dev/null || SERVER_RC=$?
  SERVER_PID=""
}

# shellcheck disable=SC2317
remove_worktree() {
  [ "$WORKTREE_ADDED" = 1 ] || return 0
  git -C "$ROOT" worktree remove --force "$BASE_TREE" >/dev/null 2>&1 || rm -rf "$BASE_TREE"
  WORKTREE_ADDED=0
}

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  stop_server
  [ -z "$DATA_DIR" ] || rm -rf "$DATA_DIR"
  remove_worktree
  if [ "${KEEP_RESULTS:-0}" = 1 ]; then log "results kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- builds -----------------------------------------------------------------------------------
# What is built: HEAD and the local changes to what goes into the binary, as the build starts.
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY_FILES=$(git -C "$ROOT" status --porcelain -- src include CMakeLists.txt 2>/dev/null | awk '{ print $NF }' | paste -sd' ' - || true)
if [ "$BUILD" = 1 ]; then
  log "building ssecast and ssecast-bench (Release) of the current tree in $BUILD_DIR"
  if ! { cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSSECAST_BUILD_TESTS=OFF &&
          timeout 3600 cmake --build "$BUILD_DIR" -j2 --target ssecast ssecast-bench; } >"$LOGS/build-current.log" 2>&1; then
    tail -n 40 "$LOGS/build-current.log" >&2; log "the current tree does not build"; exit 1
  fi

  log "building ssecast of $BASE_SHORT (Release) in a worktree at $BASE_TREE, build dir $BASELINE_BUILD_DIR"
  if [ -e "$BASE_TREE" ]; then  # left over by an interrupted run
    git -C "$ROOT" worktree remove --force "$BASE_TREE" >/dev/null 2>&1 || rm -rf "$BASE_TREE"
  fi
  git -C "$ROOT" worktree add --force --detach "$BASE_TREE" "$BASE_FULL" >"$LOGS/build-baseline.log" 2>&1 ||
    { cat "$LOGS/build-baseline.log" >&2; log "git worktree add failed"; exit 1; }
  WORKTREE_ADDED=1
  if ! { cmake -S "$BASE_TREE" -B "$BASELINE_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSSECAST_BUILD_TESTS=OFF &&
          timeout 3600 cmake --build "$BASELINE_BUILD_DIR" -j2 --target ssecast; } >>"$LOGS/build-baseline.log" 2>&1; then
    tail -n 40 "$LOGS/build-baseline.log" >&2; log "$BASE_SHORT does not build"; exit 1
  fi
  remove_worktree  # the binary is all that is needed
fi
for b in "$SSECAST" "$BENCH" "$PREVIOUS"; do
  [ -x "$b" ] || { log "missing $b (run without --no-build)"; exit 1; }
done

# ---- servers ----------------------------------------------------------------------------------
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
  log "no free port found"; return 1
}

wait_port() { # port pid: at most 10 s
  for _ in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    kill -0 "$2" 2>/dev/null || { log "server exited at start"; return 1; }
    sleep 0.05
  done
  log "server did not listen on port $1 within 10 s"; return 1
}

# compare.sh's SSECAST_ARGS, for the flags each binary has.
server_args() { # binary
  local help args=(--log-level warn --history 1000)
  help=$("$1" --help 2>/dev/null || true)
  if grep -q -- '--max-connections-per-ip' <<<"$help"; then args+=(--max-connections-per-ip 0); fi
  if grep -q -- '--threads' <<<"$help"; then args+=(--threads "$THREADS"); fi
  echo "${args[*]}"
}
read -r -a PREVIOUS_ARGS <<<"$(server_args "$PREVIOUS")"
read -r -a CURRENT_ARGS <<<"$(server_args "$SSECAST")"
grep -q -- '--data-dir' <<<"$("$SSECAST" --help 2>/dev/null || true)" || { log "$SSECAST has no --data-dir"; exit 1; }

variant_command() { # variant [port] [dir]: the server's command line, for the report too
  local port=${2:-PORT} dir=${3:-DIR}
  case "$1" in
    previous) echo "$PREVIOUS --listen 127.0.0.1:$port ${PREVIOUS_ARGS[*]}" ;;
    memory) echo "$SSECAST --listen 127.0.0.1:$port ${CURRENT_ARGS[*]}" ;;
    always|batch|off) echo "$SSECAST --listen 127.0.0.1:$port ${CURRENT_ARGS[*]} --data-dir $dir --fsync $1" ;;
  esac
}

start_server() { # variant run-name; sets PORT, SERVER_PID, DATA_DIR
  local cmd
  PORT=$(free_port)
  DATA_DIR=""
  case "$1" in
    always|batch|off) DATA_DIR=$(mktemp -d "$DATA_ROOT/ssecast-durability-data.XXXXXX") ;;
  esac
  read -r -a cmd <<<"$(variant_command "$1" "$PORT" "$DATA_DIR")"
  "${SERVER_PIN[@]}" "${cmd[@]}" >>"$LOGS/$2.server.log" 2>&1 &
  SERVER_PID=$!
  wait_port "$PORT" "$SERVER_PID"
}

# ---- a quiet machine --------------------------------------------------------------------------
busy_cores() { # machine-wide busy CPU over 2 s, in cores
  python3 - <<'PY'
import time
def sample():
    f = open("/proc/stat").readline().split()[1:]
    v = [int(x) for x in f]
    idle = v[3] + v[4]
    return sum(v[:8]) - idle, sum(v[:8])
b0, t0 = sample(); time.sleep(2); b1, t1 = sample()
import os
print(f"{(b1 - b0) / max(t1 - t0, 1) * os.cpu_count():.2f}")
PY
}
# shellcheck disable=SC2009  # counted by name, whoever started them
builders() { ps -eo comm= | grep -cE '^(cc1plus|cc1|ninja|make|ld|collect2|ld\.gold|lto1|ctest)$' || true; }

QUIET_NOTES=$WORK/quiet.txt
: >"$QUIET_NOTES"
wait_quiet() { # budget-seconds what: wait at most that long for no compiler/ninja/ctest and < 0.25 busy cores
  local budget=$1 what=$2 waited=0 busy n
  while :; do
    n=$(builders)
    busy=$(busy_cores)
    if [ "$n" -eq 0 ] && python3 -c "import sys; sys.exit(0 if float('$busy') < 0.25 else 1)"; then break; fi
    if [ "$waited" -ge "$budget" ]; then
      echo "- $what started on a busy machine after waiting ${waited} s: $n build/test process(es), $busy cores busy" >>"$QUIET_NOTES"
      log "still busy after ${waited} s ($n build/test processes, $busy cores busy): measuring $what anyway"
      return 0
    fi
    [ "$waited" -gt 0 ] || log "waiting (at most ${budget} s) for a quiet machine before $what: $n build/test process(es), $busy cores busy"
    sleep 3
    waited=$((waited + 5))
  done
  [ "$waited" -eq 0 ] ||
    echo "- $what: waited ${waited} s for a quiet machine; load average then $(cut -d' ' -f1-3 /proc/loadavg)" >>"$QUIET_NOTES"
}

# ---- the disk's sync time ---------------------------------------------------------------------
# --fsync always waits for one sync per group commit: its rate is about the publishers waiting
# divided by this.
disk_sync() { # dir: p50 and p99 of 200 x (4 KiB write + fdatasync) in a fresh file
  timeout 120 python3 - "$1" <<'PY' || echo "n/a"
import os, statistics, sys, tempfile, time
fd, path = tempfile.mkstemp(dir=sys.argv[1], prefix="ssecast-durability-sync.")
try:
    block, t = os.urandom(4096), []
    for i in range(200):
        os.pwrite(fd, block, i * 4096)
        s = time.perf_counter(); os.fdatasync(fd); t.append((time.perf_counter() - s) * 1000)
    t.sort()
    print(f"p50 {statistics.median(t):.2f} ms, p99 {t[int(len(t) * 0.99) - 1]:.2f} ms")
finally:
    os.close(fd); os.unlink(path)
PY
}

# ---- scenarios --------------------------------------------------------------------------------
case "$PROFILE" in
  full) D=10; DRAIN=15 ;;
  quick) D=2; DRAIN=5 ;;
esac
SCENARIOS=(publish saturation)
declare -A SCEN_ARGS SCEN_VARIANTS SCEN_LABEL
SCEN_LABEL[publish]="6 publish-only 16"
SCEN_ARGS[publish]="--mode publish-only --publishers 16 --pipeline 1 --duration $D"
SCEN_VARIANTS[publish]="previous memory always batch off"
SCEN_LABEL[saturation]="4 saturation 1000"
SCEN_ARGS[saturation]="-n 1000 --rate 0 --publishers 4 --pipeline 1 --duration $D --drain $DRAIN"
SCEN_VARIANTS[saturation]="previous memory always"
BENCH_TIMEOUT=$((3 * D + DRAIN + 60))

COMMANDS=$WORK/commands.txt
RUNS=$WORK/runs.tsv  # run name, scenario, variant, repeat, bench rc, server rc, db bytes, log lines
: >"$COMMANDS"
: >"$RUNS"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
DISK_SYNC=""
MEASURE_STARTED=$(date +%s)
FAILED=0
for rep in $(seq 1 "$REPEAT"); do
  if [ "$WAIT_IDLE" -gt 0 ]; then wait_quiet "$WAIT_IDLE" "repeat $rep"; fi
  if [ "$rep" = 1 ]; then
    LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
    DISK_SYNC=$(disk_sync "$DATA_ROOT")
    log "4 KiB write + fdatasync in $DATA_ROOT: $DISK_SYNC"
  fi
  for scen in "${SCENARIOS[@]}"; do
    read -r -a vs <<<"${SCEN_VARIANTS[$scen]}"
    k=$(( (rep - 1) % ${#vs[@]} ))
    order=("${vs[@]:$k}" "${vs[@]:0:$k}")  # rotated by one each repeat
    for variant in "${order[@]}"; do
      run=$scen-$variant-$rep
      if [ "$WAIT_IDLE" -gt 0 ]; then wait_quiet $((WAIT_IDLE < 60 ? WAIT_IDLE : 60)) "$run"; fi
      log "repeat $rep/$REPEAT, ${SCEN_LABEL[$scen]}: $variant"
      bench_rc=0
      if ! start_server "$variant" "$run"; then
        bench_rc=start
        stop_server
      else
        file=$RESULTS/$run.json
        # shellcheck disable=SC2206
        args=(--target ssecast --port "$PORT" --server-pid "$SERVER_PID" --label "${SCEN_LABEL[$scen]} / $variant"
              ${SCEN_ARGS[$scen]} --json "$file")
        {
          echo "# $run"
          echo "taskset -c $SERVER_CPUS $(variant_command "$variant" "$PORT" "$DATA_DIR")"
          echo "timeout $BENCH_TIMEOUT taskset -c $BENCH_CPUS $BENCH ${args[*]}"
        } >>"$COMMANDS"
        timeout -k 10 "$BENCH_TIMEOUT" "${BENCH_PIN[@]}" "$BENCH" "${args[@]}" 2>"$LOGS/$run.summary.txt" || bench_rc=$?
        sed 's/^/    /' "$LOGS/$run.summary.txt" >&2
        [ -s "$file" ] || [ "$bench_rc" != 0 ] || bench_rc=nojson
        kill -0 "$SERVER_PID" 2>/dev/null || log "$run: the server had exited before the end of the run"
        stop_server
      fi
      db_bytes=""
      if [ -n "$DATA_DIR" ]; then
        db_bytes=$(du -sb "$DATA_DIR" | cut -f1)
        rm -rf "$DATA_DIR"
        DATA_DIR=""
        sync  # nothing of this run's writes left to be written back during the next one
      fi
      lines=$(wc -l <"$LOGS/$run.server.log")
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$scen" "$variant" "$rep" "$bench_rc" "${SERVER_RC:-}" \
        "$db_bytes" "$lines" >>"$RUNS"
      if [ "$bench_rc" != 0 ]; then log "$run: ssecast-bench failed ($bench_rc)"; FAILED=1; fi
      if [ "${SERVER_RC:-0}" != 0 ]; then log "$run: the server exited with status $SERVER_RC"; FAILED=1; fi
    done
  done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
MEASURE_S=$(( $(date +%s) - MEASURE_STARTED ))

# ---- the report --------------------------------------------------------------------------------
[ "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" = "$COMMIT" ] ||
  COMMIT="$COMMIT (HEAD moved to $(git -C "$ROOT" rev-parse --short HEAD) during the run)"
REPORT_ENV=(
  REPORT_PROFILE="$PROFILE" REPORT_D="$D" REPORT_DRAIN="$DRAIN" REPORT_REPEAT="$REPEAT"
  REPORT_COMMIT="$COMMIT" REPORT_DIRTY="$DIRTY_FILES" REPORT_BASE="$BASE_SHORT"
  REPORT_BASE_SUBJECT="$(git -C "$ROOT" show -s --format=%s "$BASE_FULL")"
  REPORT_NPROC="$(nproc)" REPORT_KERNEL="$(uname -r)"
  REPORT_CPU="$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
  REPORT_MEM="$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  REPORT_DATA_FS="$DATA_FS" REPORT_DATA_ROOT="$DATA_ROOT" REPORT_DISK_SYNC="$DISK_SYNC"
  REPORT_SQLITE="$(dpkg-query -W -f='${Version}' libsqlite3-0 2>/dev/null || echo unknown)"
  REPORT_GXX="$(g++ -dumpfullversion 2>/dev/null || echo unknown)"
  REPORT_LOAD_BEFORE="$LOAD_BEFORE" REPORT_LOAD_AFTER="$LOAD_AFTER" REPORT_MEASURE_S="$MEASURE_S"
  REPORT_ELAPSED="$(( $(date +%s) - STARTED ))" REPORT_INVOCATION="$INVOCATION"
  REPORT_SERVER_CPUS="$SERVER_CPUS" REPORT_BENCH_CPUS="$BENCH_CPUS"
  REPORT_PREVIOUS_CMD="taskset -c $SERVER_CPUS $(variant_command previous)"
  REPORT_MEMORY_CMD="taskset -c $SERVER_CPUS $(variant_command memory)"
  REPORT_DURABLE_CMD="taskset -c $SERVER_CPUS $(variant_command always | sed 's/--fsync always/--fsync always|batch|off/')"
  REPORT_PUBLISH_CMD="taskset -c $BENCH_CPUS ssecast-bench --target ssecast --port PORT --server-pid PID ${SCEN_ARGS[publish]}"
  REPORT_SATURATION_CMD="taskset -c $BENCH_CPUS ssecast-bench --target ssecast --port PORT --server-pid PID ${SCEN_ARGS[saturation]}"
)
REPORT=$WORK/report.md
env "${REPORT_ENV[@]}" python3 - "$RESULTS" "$RUNS" "$LOGS" "$QUIET_NOTES" >"$REPORT" <<'PY'
import json, os, statistics, sys
results, runs_file, logs, quiet_file = sys.argv[1:5]
E = os.environ
VARIANTS = ["previous", "memory", "always", "batch", "off"]

def get(r, *keys):
    for k in keys:
        if not isinstance(r, dict) or k not in r:
            return None
        r = r[k]
    return r

runs = []
for line in open(runs_file):
    name, scen, variant, rep, bench_rc, server_rc, db, loglines = line.rstrip("\n").split("\t")
    path = os.path.join(results, name + ".json")
    data = json.load(open(path)) if os.path.exists(path) and os.path.getsize(path) else None
    runs.append(dict(name=name, scen=scen, variant=variant, rep=int(rep), bench_rc=bench_rc,
                     server_rc=server_rc, db=int(db) if db else None, loglines=int(loglines), r=data))

def values(scen, variant, getter):
    out = []
    for run in runs:
        if run["scen"] == scen and run["variant"] == variant and run["r"] is not None:
            v = getter(run["r"])
            if v is not None:
                out.append(v)
    return out

def ran(scen, variant):
    return any(r["scen"] == scen and r["variant"] == variant for r in runs)

def median(scen, variant, getter):
    v = values(scen, variant, getter)
    return statistics.median(v) if v else None

def total(scen, variant, getter):
    v = values(scen, variant, getter)
    return sum(v) if v else None

def fmt(v, unit=""):
    if v is None:
        return "n/a"
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
    return None if a is None or b is None or b == 0 else a / b

def rfmt(x):
    return "n/a" if x is None else f"{x:.2f}x"

# (scenario, label, metric, getter, unit, how combined)
PUB, SAT = "publish", "saturation"
rows = [
    (PUB, "publish-only, 16 publishers", "publish requests/s (higher is better)",
     lambda r: get(r, "publish", "requests_per_s"), "/s", median),
    (PUB, "", "answer p50", lambda r: get(r, "publish", "answer_latency_ms", "p50"), " ms", median),
    (PUB, "", "answer p99", lambda r: get(r, "publish", "answer_latency_ms", "p99"), " ms", median),
    (PUB, "", "non-200 answers + lost in flight (all runs)",
     lambda r: (get(r, "publish", "rejected") or 0) + (get(r, "publish", "lost_in_flight") or 0), "", total),
    (PUB, "", "server CPU (cores)", lambda r: get(r, "server", "load_cores"), "", median),
    (SAT, "saturation, 1000 subscribers", "deliveries/s (higher is better)",
     lambda r: get(r, "delivery", "delivered_per_s"), "/s", median),
    (SAT, "", "publish->receive p50", lambda r: get(r, "delivery", "latency_ms", "p50"), " ms", median),
    (SAT, "", "publish->receive p99", lambda r: get(r, "delivery", "latency_ms", "p99"), " ms", median),
    (SAT, "", "publish requests/s", lambda r: get(r, "publish", "requests_per_s"), "/s", median),
    (SAT, "", "lost deliveries + non-200 answers (all runs)",
     lambda r: (get(r, "delivery", "lost") or 0) + (get(r, "publish", "rejected") or 0)
     + (get(r, "publish", "lost_in_flight") or 0), "", total),
    (SAT, "", "server CPU (cores)", lambda r: get(r, "server", "load_cores"), "", median),
]

def cell(scen, variant, getter, unit, how):
    if not ran(scen, variant):
        return "-"
    return fmt(how(scen, variant, getter), unit)

out = []
n = E["REPORT_REPEAT"]
out.append(f"## Durable history: previous vs memory vs --data-dir ({E['REPORT_PROFILE']} run, "
           f"{n} repeat(s) of {E['REPORT_D']} s, medians)\n")
dirty = f" with local changes to {E['REPORT_DIRTY']}" if E.get("REPORT_DIRTY") else ""
out.append(f"- previous = {E['REPORT_BASE']} ({E['REPORT_BASE_SUBJECT'][:70]}), in memory; memory, always, "
           f"batch, off = {E['REPORT_COMMIT']}{dirty}; always/batch/off = `--data-dir` (a fresh empty dir "
           f"per run) `--fsync POLICY` (batch: default `--fsync-interval` 100ms)")
out.append(f"- machine: {E['REPORT_NPROC']} cores ({E['REPORT_CPU']}), {E['REPORT_MEM']}, kernel "
           f"{E['REPORT_KERNEL']}; g++ {E['REPORT_GXX']}, libsqlite3 {E['REPORT_SQLITE']}")
out.append(f"- data dirs in {E['REPORT_DATA_ROOT']} on {E['REPORT_DATA_FS']}; a 4 KiB write + fdatasync "
           f"there takes {E['REPORT_DISK_SYNC']} (200 in a row, before the runs)")
out.append(f"- server (all its threads, the journal's writer included) pinned to CPU {E['REPORT_SERVER_CPUS']}, "
           f"ssecast-bench (the current one for all) to CPU {E['REPORT_BENCH_CPUS']}; every run on a freshly "
           f"started server; load average {E['REPORT_LOAD_BEFORE']} before measuring, "
           f"{E['REPORT_LOAD_AFTER']} after; {E['REPORT_MEASURE_S']} s measuring, {E['REPORT_ELAPSED']} s in all\n")
out.append("| scenario | metric | previous | memory | always | batch | off |")
out.append("|---|---|---:|---:|---:|---:|---:|")
for scen, label, metric, getter, unit, how in rows:
    out.append(f"| {label} | {metric} | " + " | ".join(cell(scen, v, getter, unit, how) for v in VARIANTS) + " |")
def db_size(v):
    sizes = [x["db"] for x in runs if x["scen"] == PUB and x["variant"] == v and x["db"] is not None]
    return fmt(int(statistics.median(sizes)), " B") if sizes else "-"
dbrow = [db_size(v) for v in VARIANTS]
out.append("| publish-only, 16 publishers | data dir size after the run | " + " | ".join(dbrow) + " |")
out.append("")

rq = lambda r: get(r, "publish", "requests_per_s")
ap99 = lambda r: get(r, "publish", "answer_latency_ms", "p99")
dl = lambda r: get(r, "delivery", "delivered_per_s")
dp99 = lambda r: get(r, "delivery", "latency_ms", "p99")
def spread(scen, v, g):
    x = values(scen, v, g)
    return f"{(max(x) / min(x) - 1) * 100:.0f} %" if len(x) > 1 and min(x) > 0 else "n/a (one run)"

mp_pub = ratio(median(PUB, "memory", rq), median(PUB, "previous", rq))
mp_sat = ratio(median(SAT, "memory", dl), median(SAT, "previous", dl))
def verdict_noise(x):
    if x is None:
        return "n/a"
    return "within 10 %" if abs(x - 1) <= 0.10 else "**outside 10 %**"
out.append(f"- memory/previous: publish requests/s {rfmt(mp_pub)} ({verdict_noise(mp_pub)}), answer p99 "
           f"{rfmt(ratio(median(PUB, 'memory', ap99), median(PUB, 'previous', ap99)))}; saturation "
           f"deliveries/s {rfmt(mp_sat)} ({verdict_noise(mp_sat)}), publish->receive p99 "
           f"{rfmt(ratio(median(SAT, 'memory', dp99), median(SAT, 'previous', dp99)))}. Goal: within noise "
           f"(~±5-10 %); spread (max/min - 1) over the repeats of requests/s: previous {spread(PUB, 'previous', rq)}, "
           f"memory {spread(PUB, 'memory', rq)}; of deliveries/s: previous {spread(SAT, 'previous', dl)}, "
           f"memory {spread(SAT, 'memory', dl)}")
bm = ratio(median(PUB, "batch", rq), median(PUB, "memory", rq))
out.append(f"- batch/memory publish requests/s: {rfmt(bm)} (goal >= 0.80x: "
           f"{'n/a' if bm is None else ('met' if bm >= 0.8 else '**missed**')}); off/memory "
           f"{rfmt(ratio(median(PUB, 'off', rq), median(PUB, 'memory', rq)))}")
al = median(PUB, "always", rq)
out.append(f"- always: {fmt(al, '/s')} acknowledged (200, on disk) events/s with 16 publishers (goal >= 30,000/s: "
           f"{'n/a' if al is None else ('met' if al >= 30000 else '**missed**')}); always/memory "
           f"{rfmt(ratio(al, median(PUB, 'memory', rq)))}; in the saturation run always/memory deliveries/s "
           f"{rfmt(ratio(median(SAT, 'always', dl), median(SAT, 'memory', dl)))}")
out.append("")

# Every repeat, to judge the noise.
out.append("Every repeat, in order (each repeat runs the variants one after another, the order rotated by one per repeat):\n")
out.append("| scenario | metric | " + " | ".join(VARIANTS) + " |")
out.append("|---|---|" + "---|" * len(VARIANTS))
for scen, label, g, unit in [(PUB, "publish-only", rq, ""), (SAT, "saturation", dl, "")]:
    cells = []
    for v in VARIANTS:
        if not ran(scen, v):
            cells.append("-")
            continue
        xs = []
        for run in sorted((x for x in runs if x["scen"] == scen and x["variant"] == v), key=lambda x: x["rep"]):
            val = g(run["r"]) if run["r"] else None
            xs.append("failed" if val is None else f"{val:,.0f}")
        cells.append(", ".join(xs))
    metric = "requests/s" if scen == PUB else "deliveries/s"
    out.append(f"| {label} | {metric} | " + " | ".join(cells) + " |")
out.append("")

notes, logged, shared = [], {}, []
for run in runs:
    if run["bench_rc"] not in ("0",):
        notes.append(f"- {run['name']}: ssecast-bench failed ({'the server did not start' if run['bench_rc'] == 'start' else 'exit ' + run['bench_rc']})")
    if run["server_rc"] not in ("", "0"):
        notes.append(f"- {run['name']}: the server exited with status {run['server_rc']} after SIGTERM")
    if run["loglines"]:
        for line in open(os.path.join(logs, run["name"] + ".server.log"), errors="replace"):
            words = line.strip().split(" ", 1)
            text = words[1] if len(words) == 2 and words[0][:4].isdigit() else line.strip()  # no timestamp
            logged.setdefault(text[:200], []).append(run["name"])
    for h in (run["r"] or {}).get("limits_hit", []):
        if h.startswith("SHARED MACHINE"):
            lp = get(run["r"], "machine", "load_phase") or {}
            shared.append(f"{run['name']} (others {lp.get('other_processes_cores', 0):.2f}, "
                          f"steal {lp.get('steal_cores', 0):.2f})")
        else:
            notes.append(f"- {run['name']}: {h}")
for text, names in logged.items():
    who = "every run" if len(names) == len(runs) else ", ".join(names)
    notes.append(f"- server log (--log-level warn), {len(names)} run(s) ({who}): `{text}`")
if shared:
    notes.append(f"- SHARED MACHINE (ssecast-bench saw other processes, or the hypervisor's steal, take CPU during "
                 f"the load phase, in cores; those figures are not reliable): {', '.join(shared)}")
quiet = [l.rstrip() for l in open(quiet_file)]
if notes:
    out.append("Failures, limits hit, server log lines:\n")
    out.extend(notes)
else:
    out.append("No run failed, no limit was hit, no server logged a warning.")
if not any(r["server_rc"] not in ("", "0") for r in runs):
    out.append("\nEvery server exited 0 on SIGTERM (a clean stop).")
if quiet:
    busy = [l for l in quiet if "busy machine" in l]
    if len(busy) > 3:  # one line for them all
        names = [l[2:].split(" started on a busy machine")[0] for l in busy]
        quiet = [l for l in quiet if l not in busy]
        quiet.append(f"- {len(busy)} of {len(runs)} runs (or repeats) started on a busy machine (after the wait ran "
                     f"out): {', '.join(names)}")
    out.append("")
    out.extend(quiet)
out.append("\nCommands:\n")
out.append("```sh")
out.append(E["REPORT_INVOCATION"])
out.append(f"# servers")
out.append(E["REPORT_PREVIOUS_CMD"])
out.append(E["REPORT_MEMORY_CMD"])
out.append(E["REPORT_DURABLE_CMD"])
out.append(f"# ssecast-bench")
out.append(E["REPORT_PUBLISH_CMD"])
out.append(E["REPORT_SATURATION_CMD"])
out.append("```")
print("\n".join(out))
PY

cat "$REPORT"
[ -z "$OUT" ] || cp "$REPORT" "$OUT"
if [ "${KEEP_RESULTS:-0}" = 1 ]; then log "every run's command is in $COMMANDS"; fi
exit $FAILED
