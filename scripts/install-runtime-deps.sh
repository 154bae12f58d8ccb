#!/usr/bin/env bash
# Installs the packages listed in a file (one per line, from scripts/runtime-packages.sh): what the
# ssecast binary needs to run, and nothing to build it. The Dockerfile's runtime stage runs it.
# Idempotent: packages already present are skipped.
#   ./scripts/install-runtime-deps.sh runtime-packages.txt
set -euo pipefail
list=${1:?usage: install-runtime-deps.sh PACKAGE_LIST_FILE}

missing=()
while read -r p; do
  [ -n "$p" ] || continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done <"$list"

if ((${#missing[@]})); then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  echo "install-runtime-deps: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # A container image keeps no package lists.
  [ "${SSECAST_CLEAN_APT_LISTS:-0}" = 1 ] && "${sudo_cmd[@]}" rm -rf /var/lib/apt/lists/*
fi
echo "install-runtime-deps: ${#missing[@]} installed, everything in $list present"
