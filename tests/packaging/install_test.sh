#!/usr/bin/env bash
# `cmake --install` of a build directory into a DESTDIR: with the build's prefix (/usr/local by
# default) and with another one, the installed unit's Exec*= lines name the binary installed under
# that prefix, and the installed units verify (tests/systemd/verify_units.sh). The installed man
# page has the sections help2man cannot make from --help (packaging/ssecast.h2m).
#   tests/packaging/install_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: install_test.sh BUILD_DIR}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "install_test: FAIL: $*" >&2; exit 1; }

# install_into DESTDIR PREFIX [cmake --install options]: checks the unit names PREFIX/bin/ssecast.
install_into() {
  local dest=$1 prefix=$2
  shift 2
  DESTDIR=$dest cmake --install "$build" "$@" >"$work/install.log" 2>&1 ||
    fail "cmake --install $*: $(cat "$work/install.log")"
  [ -x "$dest$prefix/bin/ssecast" ] || fail "no $prefix/bin/ssecast installed: $(cat "$work/install.log")"
  local unit=$dest/lib/systemd/system/ssecast.service
  [ -f "$unit" ] || fail "no /lib/systemd/system/ssecast.service installed"
  local exec_lines
  exec_lines=$(grep -E '^Exec(StartPre|Start|Reload)=' "$unit")
  echo "install_test: prefix $prefix: $(tr '\n' ' ' <<<"$exec_lines")"
  grep -qx "ExecStart=$prefix/bin/ssecast --config /etc/ssecast/ssecast.toml" <<<"$exec_lines" ||
    fail "prefix $prefix: the unit's ExecStart is not $prefix/bin/ssecast: $exec_lines"
  grep -qx "ExecStartPre=$prefix/bin/ssecast --check-config --config /etc/ssecast/ssecast.toml" <<<"$exec_lines" ||
    fail "prefix $prefix: the unit's ExecStartPre does not check the configuration with $prefix/bin/ssecast"
  [ "$(grep -c "^ExecReload=$prefix/bin/ssecast --check-config " <<<"$exec_lines")" = 1 ] ||
    fail "prefix $prefix: the unit's first ExecReload does not check the configuration with $prefix/bin/ssecast"
  # Only the Exec lines change: the rest is systemd/ssecast.service as it is.
  diff <(grep -vE '^Exec' "$root/systemd/ssecast.service") <(grep -vE '^Exec' "$unit") >/dev/null ||
    fail "prefix $prefix: the installed unit differs from systemd/ssecast.service beyond its Exec lines"
  bash "$root/tests/systemd/verify_units.sh" "$dest/lib/systemd/system" "$dest$prefix/bin/ssecast" "$prefix/bin/ssecast" ||
    fail "prefix $prefix: the installed units do not verify"
}

default_prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
[ -n "$default_prefix" ] || fail "no CMAKE_INSTALL_PREFIX in $build/CMakeCache.txt"
install_into "$work/default" "$default_prefix"
install_into "$work/opt" /opt/ssecast --prefix /opt/ssecast

# The man page: help2man's page plus packaging/ssecast.h2m, as man shows it.
page=$work/default$default_prefix/share/man/man1/ssecast.1.gz
[ -f "$page" ] || fail "no man page installed at $default_prefix/share/man/man1/ssecast.1.gz"
MANWIDTH=200 man -l "$page" 2>"$work/man.err" >"$work/man.txt" || fail "man -l $page: $(cat "$work/man.err")"
[ ! -s "$work/man.err" ] || fail "man -l $page warned: $(cat "$work/man.err")"
headings=$(grep -E '^[A-Z][A-Z ]+$' "$work/man.txt")
for heading in NAME SYNOPSIS OPTIONS ENDPOINTS SIGNALS "EXIT STATUS" ENVIRONMENT FILES; do
  grep -qx "$heading" <<<"$headings" || fail "the man page has no $heading section (it has: $(tr '\n' ',' <<<"$headings"))"
done
# The text of section $1 of the rendered page.
section() { awk -v h="$1" '/^[A-Z][A-Z ]+$/ { on = ($0 == h); next } on' "$work/man.txt"; }
section SIGNALS | grep -q SIGHUP || fail "SIGNALS does not mention SIGHUP"
section SIGNALS | grep -q SIGTERM || fail "SIGNALS does not mention SIGTERM"
for code in 0 1 2; do
  section "EXIT STATUS" | grep -qE "^ +$code\b" || fail "EXIT STATUS does not list $code"
done
for endpoint in "GET /events" "POST /notify" "GET /healthz" "GET /readyz" "GET /channels" "GET /metrics"; do
  section ENDPOINTS | grep -qF "$endpoint" || fail "ENDPOINTS does not list $endpoint"
done
section FILES | grep -qF /etc/ssecast/ssecast.toml || fail "FILES does not name /etc/ssecast/ssecast.toml"
# Every variable --help names, and those systemd sets.
env_vars=$(ASAN_OPTIONS=detect_leaks=0 "$build/ssecast" --help | grep -oE 'env SSECAST_[A-Z_]+' | cut -d' ' -f2)
[ "$(wc -l <<<"$env_vars")" -gt 30 ] || fail "--help names only $(wc -l <<<"$env_vars") environment variables"
environment=$(section ENVIRONMENT)
for var in $env_vars NOTIFY_SOCKET LISTEN_FDS LISTEN_PID WATCHDOG_USEC; do
  grep -qw -- "$var" <<<"$environment" || fail "ENVIRONMENT does not name $var"
done
echo "install_test: ok"
