# Sourced by the packaging tests: starts an ssecast binary on a free loopback port and stops it.
# Needs fail() from the caller. Sets PID and PORT.
PID=""
PORT=""

# start_daemon LOG_FILE COMMAND... (the command runs ssecast; --listen 127.0.0.1:0 is appended)
start_daemon() {
  local log=$1
  shift
  "$@" --listen 127.0.0.1:0 >"$log" 2>&1 &
  PID=$!
  local i
  for i in $(seq 1 200); do
    PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$log" | head -1)
    [ -n "$PORT" ] && return 0
    kill -0 "$PID" 2>/dev/null || fail "ssecast exited at start: $(cat "$log")"
    sleep 0.05
  done
  fail "ssecast did not listen within 10 s: $(cat "$log")"
}

# SIGTERM, and waits (at most 15 s) for a clean exit.
stop_daemon() {
  [ -n "$PID" ] || return 0
  local pid=$PID
  PID=""
  kill -TERM "$pid" 2>/dev/null || return 0
  local i
  for i in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    fail "ssecast did not stop within 15 s of SIGTERM"
  fi
  wait "$pid" || fail "ssecast exited with $? after SIGTERM"
}
