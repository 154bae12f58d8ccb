#!/usr/bin/env bash
# Runs the configuration checks of ssecast.service as systemd would, with the built binary: the
# ExecStartPre= and the first ExecReload= command, against a valid and a broken config file. A
# start or a reload with a broken file must fail (systemd runs a unit's ExecReload= commands in
# order and stops at the first that fails, so the signal is never sent) and say why.
# Usage: unit_config_check.sh UNIT_FILE SSECAST_BINARY SAMPLE_CONFIG
set -euo pipefail
unit=$1
binary=$2
sample=$3
fail() { echo "FAIL: $*" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'history = 5 5\n' >"$work/broken.toml"

# The command lines of KEY= in the unit, in order.
commands() { sed -n "s/^$1=//p" "$unit"; }

start_pre=$(commands ExecStartPre)
[ -n "$start_pre" ] || fail "no ExecStartPre= in $unit"
first_reload=$(commands ExecReload | head -n1)
last_reload=$(commands ExecReload | tail -n1)
[[ $first_reload == *--check-config* ]] || fail "the first ExecReload= does not check: $first_reload"
[[ $last_reload == *"-HUP \$MAINPID"* ]] || fail "the last ExecReload= does not signal: $last_reload"

for line in "$start_pre" "$first_reload"; do
  [[ $line == /usr/bin/ssecast\ * ]] || fail "expected /usr/bin/ssecast ...: $line"
  for config in "$sample" "$work/broken.toml"; do
    read -r -a argv <<<"${line/\/etc\/ssecast\/ssecast.toml/$config}"
    argv[0]=$binary
    code=0
    "${argv[@]}" >"$work/out" 2>"$work/err" || code=$?
    if [ "$config" = "$sample" ]; then
      ((code == 0)) || fail "$line with the sample config: exit $code: $(cat "$work/err")"
      grep -q 'the configuration is valid' "$work/out" || fail "$line: no listing: $(cat "$work/out")"
    else
      ((code == 2)) || fail "$line with a broken config: exit $code, expected 2"
      grep -qF "$work/broken.toml:1:" "$work/err" ||
          fail "$line with a broken config does not name file and line: $(cat "$work/err")"
    fi
  done
done
echo "unit_config_check: ok (ExecStartPre and ExecReload refuse a broken config with exit 2)"
