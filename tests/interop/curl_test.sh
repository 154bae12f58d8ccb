#!/usr/bin/env bash
# Interop test: curl as subscriber and publisher, running exactly the commands README.md shows.
#
# Usage: tests/interop/curl_test.sh PATH/TO/ssecast
#
# Every command below is written as README.md prints it (port 8080, the example event id
# 1763712000000-1); the test first checks that README.md still contains it word for word, then
# runs it against a daemon on a free port, with the port and the example id replaced by the real
# ones. Every wait polls for a condition with a deadline; nothing sleeps to synchronise.
set -euo pipefail

binary=${1:?usage: curl_test.sh PATH/TO/ssecast}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readme=$here/../../README.md
work=$(mktemp -d "${TMPDIR:-/tmp}/ssecast-curl-test.XXXXXX")
pids=()
daemon_pid=

cleanup() {
    local pid
    for pid in "${pids[@]}" $daemon_pid; do
        kill -KILL "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '== %s\n' "$*"; }
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    if [ -f "$work/daemon.log" ]; then
        printf -- '--- daemon log (last 30 lines):\n' >&2
        tail -n 30 "$work/daemon.log" >&2
    fi
    exit 1
}

# wait_for DESCRIPTION COMMAND...: runs COMMAND every 50 ms until it succeeds, at most 200 times
# (10 s: the sanitizer build is slow to start).
wait_for() {
    local what=$1 i
    shift
    for ((i = 0; i < 200; i++)); do
        if "$@"; then return 0; fi
        sleep 0.05
    done
    fail "timed out waiting for $what"
}

has() { grep -qF -- "$2" "$1" 2>/dev/null; }
has_line() { grep -qxF -- "$2" "$1" 2>/dev/null; }
is_dead() { ! kill -0 "$1" 2>/dev/null; }

# The example id README.md uses for "the first event"; replaced by the real first id when run.
readme_id=1763712000000-1
first_id=

# readme_command CMD: checks README.md shows CMD verbatim and prints it ready to run here.
readme_command() {
    grep -qF -- "$1" "$readme" || fail "README.md does not show this command (any more): $1"
    local cmd=${1//127.0.0.1:8080/127.0.0.1:$port}
    [ -z "$first_id" ] || cmd=${cmd//$readme_id/$first_id}
    printf '%s\n' "$cmd"
}

# README commands run so far; at the end every curl command of README.md must be among them.
tested=()

# run_readme OUT CMD: runs a README command to completion, stdout in OUT.
run_readme() {
    local out=$1 cmd
    tested+=("$2")
    cmd=$(readme_command "$2")
    printf '$ %s\n' "$cmd"
    eval "$cmd" >"$out" 2>"$out.stderr" || fail "command failed ($?): $cmd: $(cat "$out.stderr")"
    cat "$out"
}

# start_readme OUT CMD: starts a README command (a subscriber) in the background, stdout in OUT;
# sets started_pid.
started_pid=
start_readme() {
    local out=$1 cmd
    tested+=("$2")
    cmd=$(readme_command "$2")
    printf '$ %s &\n' "$cmd"
    eval "exec $cmd" >"$out" 2>"$out.stderr" &
    started_pid=$!
    pids+=("$started_pid")
}

# stop PID: ends a background curl that we no longer need.
stop() {
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# stop_daemon: SIGTERM, and the daemon must exit 0.
stop_daemon() {
    kill -TERM "$daemon_pid"
    wait_for "the daemon to exit" is_dead "$daemon_pid"
    local rc=0
    wait "$daemon_pid" || rc=$?
    daemon_pid=
    [ "$rc" = 0 ] || fail "the daemon exited with $rc after SIGTERM"
}

# count_lines FILE LINE: how many lines of FILE are exactly LINE.
count_lines() { grep -cxF -- "$2" "$1" || true; }

# ids_of FILE: the id: values of FILE, one per line.
ids_of() { sed -n 's/^id: //p' "$1"; }

# SSECAST_* variables of the caller would change the daemon's configuration.
while read -r name; do unset "$name"; done < <(compgen -e | grep '^SSECAST_' || true)

command -v curl >/dev/null || fail "curl is not installed (run scripts/install-deps.sh)"
[ -x "$binary" ] || fail "not an executable: $binary"
[ -f "$readme" ] || fail "README.md not found at $readme"

step "start $binary"
"$binary" --listen 127.0.0.1:0 --heartbeat 200ms --max-body 2MiB 2>"$work/daemon.log" &
daemon_pid=$!
listening() { grep -q ' listening on 127\.0\.0\.1:[0-9]' "$work/daemon.log" || { is_dead "$daemon_pid" && fail "daemon exited"; }; }
wait_for "the daemon's listening line" listening
port=$(sed -n 's/.* listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$work/daemon.log" | head -n 1)
[ -n "$port" ] || fail "no port in the daemon log"
echo "daemon pid $daemon_pid listening on port $port"

step "subscribe to news"
start_readme "$work/sub1" 'curl -N "http://127.0.0.1:8080/events?channel=news"'
sub1=$started_pid
# The stream's first bytes (":ok" and "retry:") are written after the subscription is in place.
wait_for "the subscriber's stream to open" has "$work/sub1" "retry: 3000"
has_line "$work/sub1" ":ok" || fail "the stream does not start with the :ok comment"

step "publish one event"
run_readme "$work/pub1" "curl -X POST -H 'Content-Type: application/json' -d '{\"channel\":\"news\",\"event\":\"update\",\"data\":\"hello\"}' http://127.0.0.1:8080/notify"
grep -qxE '\{"delivered":1,"id":"[0-9]+-1"\}' "$work/pub1" || fail "unexpected publish answer: $(cat "$work/pub1")"
first_id=$(sed -n 's/.*"id":"\([0-9-]*\)".*/\1/p' "$work/pub1")
epoch=${first_id%-*}
echo "first id $first_id"
wait_for "the subscriber to receive the event" has_line "$work/sub1" "data: hello"
grep -A2 -xF -- "id: $first_id" "$work/sub1" >"$work/frame1" || fail "the subscriber did not get id: $first_id"
printf 'id: %s\nevent: update\ndata: hello\n' "$first_id" | cmp -s - "$work/frame1" ||
    fail "unexpected frame: $(cat "$work/frame1")"

step "heartbeat comment within 200 ms"
wait_for "a heartbeat comment" has_line "$work/sub1" ":"

step "subscribe to news and sports on one connection"
start_readme "$work/sub2" 'curl -N "http://127.0.0.1:8080/events?channel=news&channel=sports"'
sub2=$started_pid
wait_for "the second subscriber's stream to open" has "$work/sub2" "retry: 3000"

step "publish a batch"
run_readme "$work/pub2" "curl -X POST -H 'Content-Type: application/json' -d '[{\"channel\":\"news\",\"data\":\"first line\\nsecond line\"},{\"channels\":[\"news\",\"sports\"],\"data\":{\"score\":[2,1]}}]' http://127.0.0.1:8080/notify"
expected="[{\"delivered\":2,\"id\":\"$epoch-2\"},{\"delivered\":2,\"id\":\"$epoch-3\"}]"
[ "$(cat "$work/pub2")" = "$expected" ] || fail "batch answer: expected $expected, got $(cat "$work/pub2")"
for f in sub1 sub2; do
    wait_for "$f to receive the batch" has_line "$work/$f" 'data: {"score":[2,1]}'
    has_line "$work/$f" "data: first line" || fail "$f: missing 'data: first line'"
    has_line "$work/$f" "data: second line" || fail "$f: missing 'data: second line'"
    [ "$(count_lines "$work/$f" "id: $epoch-3")" = 1 ] || fail "$f: event $epoch-3 not received exactly once"
done
# A fresh stream starts with its resume point (the newest id before it, $epoch-0 when there was none).
[ "$(ids_of "$work/sub1" | tr '\n' ' ')" = "$epoch-0 $epoch-1 $epoch-2 $epoch-3 " ] || fail "sub1 ids: $(ids_of "$work/sub1")"
[ "$(ids_of "$work/sub2" | tr '\n' ' ')" = "$epoch-1 $epoch-2 $epoch-3 " ] || fail "sub2 ids: $(ids_of "$work/sub2")"

step "resume with the Last-Event-ID header"
start_readme "$work/resume1" "curl -N -H 'Last-Event-ID: 1763712000000-1' \"http://127.0.0.1:8080/events?channel=news\""
wait_for "the replay" has "$work/resume1" "id: $epoch-3"
stop "$started_pid"
[ "$(ids_of "$work/resume1" | tr '\n' ' ')" = "$epoch-2 $epoch-3 " ] || fail "replay ids: $(ids_of "$work/resume1")"
has "$work/resume1" "event: resync" && fail "unexpected resync on a valid resume"

step "resume with the lastEventId query parameter"
start_readme "$work/resume2" 'curl -N "http://127.0.0.1:8080/events?channel=news&lastEventId=1763712000000-1"'
wait_for "the replay" has "$work/resume2" "id: $epoch-3"
stop "$started_pid"
[ "$(ids_of "$work/resume2" | tr '\n' ' ')" = "$epoch-2 $epoch-3 " ] || fail "replay ids: $(ids_of "$work/resume2")"
has "$work/resume2" "event: resync" && fail "unexpected resync on a valid resume"

step "resume with an id from an earlier run: resync"
start_readme "$work/resync" "curl -N -H 'Last-Event-ID: 1700000000000-5' \"http://127.0.0.1:8080/events?channel=news\""
wait_for "the resync and replay" has "$work/resync" "id: $epoch-3"
stop "$started_pid"
sed -n '/^id: /,$p' "$work/resync" | head -n 4 >"$work/resync.head"
printf 'id: %s-0\nevent: resync\ndata: {"lastEventId":"1700000000000-5","oldestId":"%s-1"}\n\n' "$epoch" "$epoch" |
    cmp -s - "$work/resync.head" || fail "unexpected resync notice: $(cat "$work/resync.head")"
[ "$(ids_of "$work/resync" | tr '\n' ' ')" = "$epoch-0 $epoch-1 $epoch-2 $epoch-3 " ] ||
    fail "resync ids: $(ids_of "$work/resync")"

step "healthz (the three ended streams are no longer counted)"
healthy() {
    run_readme "$work/health" 'curl http://127.0.0.1:8080/healthz' >/dev/null && has "$work/health" '"subscribers":2,'
}
wait_for "healthz to count 2 subscribers" healthy
cat "$work/health"
for want in '"status":"ok"' '"version":"' '"channels":2,' '"uptime_seconds":'; do
    has "$work/health" "$want" || fail "healthz lacks $want: $(cat "$work/health")"
done

step "channels"
run_readme "$work/channels" 'curl http://127.0.0.1:8080/channels'
expected="{\"channels\":[{\"buffered\":3,\"lastId\":\"$epoch-3\",\"name\":\"news\",\"subscribers\":2},{\"buffered\":1,\"lastId\":\"$epoch-3\",\"name\":\"sports\",\"subscribers\":1}]}"
[ "$(cat "$work/channels")" = "$expected" ] || fail "channels: expected $expected"

step "error: missing data is 400"
run_readme "$work/err400" "curl -i -X POST -H 'Content-Type: application/json' -d '{\"channel\":\"news\"}' http://127.0.0.1:8080/notify"
head -n 1 "$work/err400" | grep -q '^HTTP/1.1 400 Bad Request' || fail "expected 400"
[ "$(tail -n 1 "$work/err400")" = '{"error":"\"data\" is required"}' ] || fail "unexpected 400 body"

step "error: a proxied publisher is 403"
run_readme "$work/err403" "curl -i -X POST -H 'X-Forwarded-For: 203.0.113.7' -H 'Content-Type: application/json' -d '{\"data\":\"x\"}' http://127.0.0.1:8080/notify"
head -n 1 "$work/err403" | grep -q '^HTTP/1.1 403 Forbidden' || fail "expected 403"
grep -q '^{"error":"only local clients' "$work/err403" || fail "unexpected 403 body"

step "the rejected requests are logged"
wait_for "the 400 log line" has "$work/daemon.log" 'method=POST path=/notify status=400 reason="data" is required'
wait_for "the 403 log line" has "$work/daemon.log" 'path=/notify status=403'

step "nothing was published by the rejected requests"
grep -c '^id: ' "$work/sub1" | grep -qx 4 || fail "sub1 got more events than published (3 events and its resume point)"

step "a 1.5 MB publish: curl's Expect: 100-continue gets its 100 Continue"
# curl asks with bodies over 1 MiB and, with no answer, waits a second before sending the body.
head -c 1500000 /dev/zero | tr '\0' x | sed 's/.*/{"channel":"uploads","data":"&"}/' >"$work/big.json"
curl -sv -o "$work/big.out" -H 'Content-Type: application/json' --data-binary @"$work/big.json" \
    "http://127.0.0.1:$port/notify" 2>"$work/big.trace" || fail "the big publish failed: $(cat "$work/big.trace")"
grep -q '^> Expect: 100-continue' "$work/big.trace" || fail "curl did not send Expect (this check needs it)"
grep -q '^< HTTP/1.1 100 Continue' "$work/big.trace" || fail "no 100 Continue: $(grep '^[<>]' "$work/big.trace")"
grep -qxE '\{"delivered":0,"id":"[0-9]+-[0-9]+"\}' "$work/big.out" || fail "unexpected answer: $(cat "$work/big.out")"

step "SIGTERM: streams get a retry: and end, the daemon exits 0"
stop_daemon
for pid in "$sub1" "$sub2"; do
    wait_for "curl $pid to see the stream end" is_dead "$pid"
    rc=0
    wait "$pid" || rc=$?
    [ "$rc" = 0 ] || fail "curl subscriber $pid exited with $rc (stream not ended cleanly)"
done
for f in sub1 sub2; do
    retry=$(sed -n 's/^retry: //p' "$work/$f" | tail -n 1)
    # The jittered delay is the reconnect delay (3 s) plus up to as much again.
    ((retry >= 3000 && retry <= 6000)) || fail "$f: last retry: is $retry, expected 3000..6000"
    [ "$(tail -c 2 "$work/$f" | od -An -c | tr -d ' ')" = '\n\n' ] || fail "$f: stream does not end with a whole frame"
done
grep -q 'received SIGTERM' "$work/daemon.log" || fail "no shutdown log line"
grep -q 'reason=shutting down' "$work/daemon.log" || fail "no stream end log line"

step "authentication: a daemon with README's API keys and a JWT secret"
# README's keys file, line for line, and its commands for the secret and the token.
keys_line_1='9c2f6e1b7a4d8e3f0b5c6a7d8e9f0a1b news user:*    # the web application'
keys_line_2='4e5f6a7b8c9d0e1f2a3b4c5d6e7f8091                 # the admin tool: every channel'
for line in "$keys_line_1" "$keys_line_2"; do
    has_line "$readme" "$line" || fail "README.md does not show this keys file line (any more): $line"
done
printf '# /etc/ssecast/tokens\n%s\n%s\n' "$keys_line_1" "$keys_line_2" >"$work/tokens"
chmod 600 "$work/tokens"
secret_cmd='head -c 48 /dev/urandom | base64 > jwt.secret && chmod 600 jwt.secret'
mint_cmd='python3 -c '"'"'import jwt, time; print(jwt.encode({"sub": "user42", "exp": int(time.time()) + 3600, "ssecast": {"subscribe": ["user:42"]}}, open("jwt.secret", "rb").read().strip(), "HS256"))'"'"''
for cmd in "$secret_cmd" "$mint_cmd"; do
    grep -qxF -- "$cmd" "$readme" || fail "README.md does not show this command (any more): $cmd"
done
(cd "$work" && eval "$secret_cmd") || fail "the secret command failed"
# python3-jwt is Debian's, for Debian's python3 (a python3 earlier on PATH may lack it).
python=python3
[ -x /usr/bin/python3 ] && python=/usr/bin/python3
TOKEN=$(cd "$work" && eval "${mint_cmd/python3/$python}") || fail "minting the token failed"
[ "$(tr -cd . <<<"$TOKEN" | wc -c)" = 2 ] || fail "not a JWT: $TOKEN"
export TOKEN
grep -qF -- "ssecast --publish-tokens-file /etc/ssecast/tokens" "$readme" || fail "README.md lost its --publish-tokens-file command"
grep -qF -- "ssecast --jwt-secret-file jwt.secret --private-channels 'user:*'" "$readme" || fail "README.md lost its --jwt-secret-file command"
# Emptied first: the background job's own redirection truncates the file only when it runs.
: >"$work/daemon.log"
"$binary" --listen 127.0.0.1:0 --publish-tokens-file "$work/tokens" --jwt-secret-file "$work/jwt.secret" \
    --private-channels 'user:*' 2>"$work/daemon.log" &
daemon_pid=$!
wait_for "the daemon's listening line" listening
port=$(sed -n 's/.* listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$work/daemon.log" | head -n 1)
first_id=

start_readme "$work/private1" 'curl -N "http://127.0.0.1:8080/events?channel=user:42&token=$TOKEN"'
private1=$started_pid
start_readme "$work/private2" 'curl -N -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:8080/events?channel=user:42"'
private2=$started_pid
for f in private1 private2; do wait_for "$f to open" has "$work/$f" "retry: 3000"; done
run_readme "$work/keyed" "curl -X POST -H 'Authorization: Bearer 9c2f6e1b7a4d8e3f0b5c6a7d8e9f0a1b' -H 'Content-Type: application/json' -d '{\"channel\":\"user:42\",\"data\":\"hello 42\"}' http://127.0.0.1:8080/notify"
grep -qxE '\{"delivered":2,"id":"[0-9]+-1"\}' "$work/keyed" || fail "unexpected publish answer: $(cat "$work/keyed")"
# The Docker section's publish into a container, with its $key: one that may publish to "news".
key=9c2f6e1b7a4d8e3f0b5c6a7d8e9f0a1b
run_readme "$work/keyed_news" 'curl -X POST -H "Authorization: Bearer $key" -H '"'"'Content-Type: application/json'"'"' -d '"'"'{"channel":"news","data":"hi"}'"'"' http://127.0.0.1:8080/notify'
grep -qxE '\{"delivered":0,"id":"[0-9]+-2"\}' "$work/keyed_news" || fail "unexpected publish answer: $(cat "$work/keyed_news")"
for f in private1 private2; do wait_for "$f to get the event" has_line "$work/$f" "data: hello 42"; done
stop "$private1"
stop "$private2"
# Without the token the private channel is refused, and the log never shows the token.
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/events?channel=user:42")
[ "$code" = 401 ] || fail "a private channel without a token answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/events?channel=user:43&token=$TOKEN")
[ "$code" = 403 ] || fail "another user's channel answered $code"
wait_for "the 403 log line" has "$work/daemon.log" 'token=REDACTED status=403'
has "$work/daemon.log" "$TOKEN" && fail "the token is in the log"
stop_daemon

step "every curl command README.md shows was run"
while IFS= read -r line; do
    found=0
    for cmd in "${tested[@]}"; do
        if [ "$cmd" = "$line" ]; then found=1; break; fi
    done
    ((found)) || fail "README.md shows a curl command this test does not run: $line"
done < <(grep '^curl ' "$readme")

echo "PASS: curl interop"
