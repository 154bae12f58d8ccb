#!/usr/bin/env bash
# Checks systemd/ssecast.service and systemd/ssecast.socket with `systemd-analyze verify`.
# Usage: verify_units.sh UNIT_DIR SSECAST_BINARY
#
# verify refuses an ExecStart= program that does not exist, and /usr/bin/ssecast is not installed
# here, so it checks copies whose ExecStart= names the built binary; the rest is verified as
# shipped. Both units are verified together: the socket needs its service to be loadable.
# systemd-analyze reports unknown keys and bad values as warnings and still exits 0, so any
# output at all fails the test. Nothing is filtered: on Debian 12, in a container without systemd
# as PID 1, the shipped units verify without a single message.
set -euo pipefail

units=$1
binary=$2
fail() { echo "FAIL: $*" >&2; exit 1; }

command -v systemd-analyze >/dev/null ||
    fail "systemd-analyze not found: run scripts/install-deps.sh (Debian package systemd)"
[ -x "$binary" ] || fail "$binary is not an executable"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Copies the units into directory $1 with ExecStart= pointed at the built binary.
prepare() {
    mkdir -p "$1"
    sed "s#^ExecStart=/usr/bin/ssecast #ExecStart=$binary #" "$units/ssecast.service" >"$1/ssecast.service"
    cp "$units/ssecast.socket" "$1/ssecast.socket"
    grep -q "^ExecStart=$binary --config /etc/ssecast/ssecast.toml\$" "$1/ssecast.service" ||
        fail "ssecast.service: expected ExecStart=/usr/bin/ssecast --config /etc/ssecast/ssecast.toml"
}

# Prints what systemd-analyze says about the units in directory $1, and its exit code.
verify() {
    local code=0
    (cd "$1" && systemd-analyze verify ./ssecast.socket ./ssecast.service 2>&1) || code=$?
    echo "exit $code"
}

# First make sure a broken unit is noticed here, so that silence below means something.
prepare "$work/broken"
printf '[Service]\nNoSuchSetting=yes\n' >>"$work/broken/ssecast.service"
broken=$(verify "$work/broken")
grep -q "NoSuchSetting" <<<"$broken" ||
    fail "systemd-analyze verify did not report an unknown key; it said: $broken"

prepare "$work/units"
out=$(verify "$work/units")
if [ "$out" != "exit 0" ]; then
    echo "systemd-analyze verify ssecast.socket ssecast.service:" >&2
    echo "$out" >&2
    fail "the unit files have problems"
fi
echo "PASS: ssecast.service and ssecast.socket verify cleanly"
