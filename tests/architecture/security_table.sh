#!/usr/bin/env bash
# Every test SECURITY.md names in its tables exists (a renamed or deleted test would leave a row
# unproven), and every row of the table of bad inputs names at least one.
#   tests/architecture/security_table.sh SECURITY.md TEST_BINARY...
set -euo pipefail
doc=${1:?usage: security_table.sh SECURITY.md TEST_BINARY...}
shift

known=$(mktemp)
trap 'rm -f "$known"' EXIT
for binary in "$@"; do
  # --gtest_list_tests prints "Suite." lines, then "  Name" lines.
  "$binary" --gtest_list_tests | awk '/^[^ ]/ { suite = $1 } /^  / { print suite $1 }' >>"$known"
done

missing=0
rows=0
in_table=0
while IFS= read -r line; do
  case "$line" in
    "## Bad inputs"*) in_table=1; continue ;;
    "## "*) in_table=0; continue ;;
  esac
  ((in_table)) || continue
  [[ $line == "| "* && $line != "| Input "* && $line != "|---"* ]] || continue
  rows=$((rows + 1))
  last_cell=${line%|}
  last_cell=${last_cell##*|}
  names=$(grep -oE '`[A-Za-z0-9_]+\.[A-Za-z0-9_]+`' <<<"$last_cell" | tr -d '`' || true)
  if [ -z "$names" ]; then
    echo "security_table: a row names no test: $line" >&2
    missing=$((missing + 1))
  fi
  for name in $names; do
    if ! grep -qxF "$name" "$known"; then
      echo "security_table: SECURITY.md names $name, which no test binary has" >&2
      missing=$((missing + 1))
    fi
  done
done <"$doc"
((rows > 0)) || { echo "security_table: no table of bad inputs in $doc" >&2; exit 1; }
if ((missing)); then
  echo "security_table: FAIL: $missing problem(s)" >&2
  exit 1
fi
echo "security_table: $rows rows, every test they name exists"
