#!/usr/bin/env bash
# Installs everything ssecast needs to build, run and test, from Debian 12 packages and npm.
# Idempotent: packages already present are skipped, so a second run takes a second.
#   ./scripts/install-deps.sh               build, run and test
#   ./scripts/install-deps.sh --build-only  only what building needs (the Dockerfile's build stage)
set -euo pipefail
cd "$(dirname "$0")/.."
build_only=0
[ "${1:-}" = --build-only ] && build_only=1

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev
  libsystemd-dev help2man libjwt-dev libssl-dev libtomlplusplus-dev libsqlite3-dev
)
if ((!build_only)); then
  # systemd provides systemd-analyze, which the tests run on the unit files.
  packages+=(libgtest-dev libgmock-dev systemd curl ca-certificates python3 util-linux)
  # The sqlite3 shell: README shows how to read the history with it.
  packages+=(sqlite3)
  # cpack's DEB generator runs dpkg-shlibdeps only where `file` exists (the .deb and its test).
  packages+=(file)
  # The fuzz targets (scripts/fuzz.sh): clang with libFuzzer and the sanitizer runtimes, and
  # llvm-symbolizer (llvm-14) for readable stack traces in their reports.
  packages+=(clang-14 libclang-rt-14-dev llvm-14)
  # Node.js and npm run the interop tests; a machine may already have them from another source
  # (whose nodejs bundles npm), so only ask Debian for them when the commands are missing.
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  echo "install-deps: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
