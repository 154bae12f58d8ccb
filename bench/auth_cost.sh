#!/usr/bin/env bash
# What authentication costs the publish path: publish-only requests/s with no credential, with a
# static API key and with an HS256 JWT (the same token on every request, as a publisher sends it),
# 16 keep-alive publishers, ssecast pinned to one core and ssecast-bench to another. The three
# configurations run in turn, ROUNDS times, each on a freshly started server; the table gives the
# median of each and its ratio to no auth.
#
#   bench/auth_cost.sh [--rounds N] [--duration SECONDS] [--no-build] [--out FILE]
# Environment: BUILD_DIR (default build-bench), SERVER_CPUS (0), BENCH_CPUS (1).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
ROUNDS=5
DURATION=5
BUILD=1
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --no-build) BUILD=0 ;;
    --out) OUT=$2; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "auth_cost.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
SERVER_CPUS=${SERVER_CPUS:-0}
BENCH_CPUS=${BENCH_CPUS:-1}
SSECAST=$BUILD_DIR/ssecast
BENCH=$BUILD_DIR/bench/ssecast-bench
log() { echo "auth_cost.sh: $*" >&2; }

if [ "$BUILD" = 1 ]; then
  log "building ssecast and ssecast-bench (Release) in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSSECAST_BUILD_TESTS=OFF >/dev/null
  cmake --build "$BUILD_DIR" -j2 --target ssecast ssecast-bench >/dev/null
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ssecast-auth-cost.XXXXXX")
SERVER_PID=""
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
trap 'stop_server; rm -rf "$WORK"' EXIT

KEY=bench-key-0123456789abcdef0123456789
printf '%s\n' "$KEY" >"$WORK/tokens"
SECRET=0123456789abcdef0123456789abcdef0123456789abcdef
printf '%s\n' "$SECRET" >"$WORK/secret"
chmod 600 "$WORK/tokens" "$WORK/secret"
# An HS256 JWT with an exp, as a publisher's would be, made with the standard library.
JWT=$(python3 - "$SECRET" <<'PY'
import base64, hashlib, hmac, json, sys, time
part = lambda o: base64.urlsafe_b64encode(json.dumps(o, separators=(",", ":")).encode()).rstrip(b"=")
signed = part({"alg": "HS256", "typ": "JWT"}) + b"." + part({"sub": "bench", "exp": int(time.time()) + 86400,
                                                  "ssecast": {"publish": ["*"]}})
sig = base64.urlsafe_b64encode(hmac.new(sys.argv[1].encode(), signed, hashlib.sha256).digest()).rstrip(b"=")
print((signed + b"." + sig).decode())
PY
)

PIN_SERVER=(taskset -c "$SERVER_CPUS")
PIN_BENCH=(taskset -c "$BENCH_CPUS")
[ "$(nproc)" -gt 1 ] || { PIN_SERVER=(); PIN_BENCH=(); }

run() { # name, then the server's extra options; sets RATE
  local name=$1 port
  shift
  port=$((20000 + RANDOM % 10000))
  "${PIN_SERVER[@]}" "$SSECAST" --listen "127.0.0.1:$port" --log-level warn --threads 1 "$@" \
    2>>"$WORK/server.log" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
  local header=()
  case "$name" in
    static) header=(--publish-header "Authorization: Bearer $KEY") ;;
    jwt) header=(--publish-header "Authorization: Bearer $JWT") ;;
  esac
  "${PIN_BENCH[@]}" "$BENCH" --target ssecast --port "$port" --mode publish-only --publishers 16 \
    --pipeline 1 --duration "$DURATION" --server-pid "$SERVER_PID" "${header[@]}" \
    --json "$WORK/$name-$round.json" -q
  stop_server
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["publish"]; assert r["rejected"]==0, r; print(r["requests_per_s"])' \
    "$WORK/$name-$round.json" >>"$WORK/$name.rates"
}

for round in $(seq 1 "$ROUNDS"); do
  log "round $round of $ROUNDS"
  run none
  run static --publish-tokens-file "$WORK/tokens"
  run jwt --jwt-secret-file "$WORK/secret"
done

REPORT=$WORK/report.md
python3 - "$WORK" "$ROUNDS" "$DURATION" "$(git -C "$ROOT" rev-parse --short HEAD)" >"$REPORT" <<'PY'
import statistics, sys
work, rounds, duration, commit = sys.argv[1:5]
rates = {n: [float(x) for x in open(f"{work}/{n}.rates")] for n in ("none", "static", "jwt")}
base = statistics.median(rates["none"])
print(f"## Publish-only with authentication (commit {commit}, {rounds} rounds of {duration} s)\n")
print("| credential | requests/s (median) | every round | vs no auth |")
print("|---|---:|---|---:|")
labels = {"none": "none (loopback)", "static": "static API key", "jwt": "HS256 JWT"}
for n in ("none", "static", "jwt"):
    m = statistics.median(rates[n])
    runs = ", ".join(f"{r:,.0f}" for r in rates[n])
    print(f"| {labels[n]} | {m:,.0f} | {runs} | {m / base:.3f}x |")
PY
cat "$REPORT"
[ -z "$OUT" ] || cp "$REPORT" "$OUT"
