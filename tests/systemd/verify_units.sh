#!/usr/bin/env bash
# Checks ssecast.service and ssecast.socket with `systemd-analyze verify`, and the service's
# hardening with `systemd-analyze security --offline=yes`: its exposure score must be at most
# 1.6 (README, "### systemd", records it).
# Usage: verify_units.sh UNIT_DIR SSECAST_BINARY [PATH_IN_UNITS]
#   UNIT_DIR       the units: systemd/ of the repository, or those an install or the .deb put in
#                  lib/systemd/system
#   SSECAST_BINARY the binary to check them with
#   PATH_IN_UNITS  the path their Exec*= lines name the binary by (default /usr/bin/ssecast)
#
# verify refuses an Exec*= program that does not exist, and PATH_IN_UNITS is not installed here,
# so it checks copies whose Exec*= lines name SSECAST_BINARY; the rest is verified as given. Both
# units are verified together: the socket needs its service to be loadable. systemd-analyze
# reports unknown keys and bad values as warnings and still exits 0, so any output at all fails
# the test. Nothing is filtered: on Debian 12, in a container without systemd as PID 1, the units
# verify without a single message.
set -euo pipefail

units=$1
binary=$2
path_in_units=${3:-/usr/bin/ssecast}
max_exposure=1.6
fail() { echo "FAIL: $*" >&2; exit 1; }

command -v systemd-analyze >/dev/null ||
    fail "systemd-analyze not found: run scripts/install-deps.sh (Debian package systemd)"
[ -x "$binary" ] || fail "$binary is not an executable"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Copies the units into directory $1 with the Exec*= lines pointed at the binary to check.
prepare() {
    mkdir -p "$1"
    sed -E "s#^(Exec[A-Za-z]*=)$path_in_units #\\1$binary #" "$units/ssecast.service" >"$1/ssecast.service"
    cp "$units/ssecast.socket" "$1/ssecast.socket"
    grep -q "^ExecStart=$binary --config /etc/ssecast/ssecast.toml\$" "$1/ssecast.service" ||
        fail "ssecast.service: expected ExecStart=$path_in_units --config /etc/ssecast/ssecast.toml"
}

# Prints what systemd-analyze says about the units in directory $1, and its exit code.
verify() {
    local code=0
    (cd "$1" && systemd-analyze verify ./ssecast.socket ./ssecast.service 2>&1) || code=$?
    echo "exit $code"
}

# The overall exposure score of the service in directory $1 (0.0 best, 10.0 worst).
exposure() {
    (cd "$1" && systemd-analyze security --offline=yes ./ssecast.service 2>&1) |
        sed -n 's/^→ Overall exposure level for ssecast\.service: \([0-9.]*\) .*/\1/p'
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

# The score is read off the report; a copy without the system call filter must score worse, so a
# score that parses but does not follow the unit is noticed.
score=$(exposure "$work/units")
grep -v '^SystemCallFilter=' "$work/units/ssecast.service" >"$work/broken/ssecast.service"
weaker=$(exposure "$work/broken")
[ -n "$score" ] && [ -n "$weaker" ] ||
    fail "no overall exposure level in the output of systemd-analyze security --offline=yes"
awk -v a="$score" -v b="$weaker" 'BEGIN { exit !(a < b) }' ||
    fail "the exposure score ignores the unit: $score with the system call filter, $weaker without"
echo "systemd-analyze security: ssecast.service exposure $score (at most $max_exposure)"
awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s <= m) }' ||
    fail "ssecast.service exposure $score is over $max_exposure: harden the unit"
echo "PASS: ssecast.service exposure $score <= $max_exposure"
