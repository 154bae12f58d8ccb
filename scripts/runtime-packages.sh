#!/usr/bin/env bash
# Prints, one per line, the Debian packages that hold the shared libraries a binary loads, plus
# what the container's health check uses (curl). The Dockerfile's runtime stage installs exactly
# these (scripts/install-runtime-deps.sh), so the list never drifts from what the build linked.
#   ./scripts/runtime-packages.sh build/ssecast > runtime-packages.txt
set -euo pipefail
binary=${1:?usage: runtime-packages.sh BINARY}

{
  ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | while read -r lib; do
    # The library may be reached through a symlink that dpkg does not list: ask for the real file.
    dpkg-query -S "$lib" 2>/dev/null || dpkg-query -S "$(readlink -f "$lib")"
  done | cut -d: -f1
  echo curl
} | sort -u
