#!/usr/bin/env bash
# Builds a Release ssecast (the daemon and its man page, no tests) in the given directory
# (default build/). Needs the packages of scripts/install-deps.sh. Used by scripts/run.sh, the
# Dockerfile and the packaging tests, so all of them build the same way.
#   ./scripts/build.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}

echo "build: building ssecast (Release) in $dir/"
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSSECAST_BUILD_TESTS=OFF \
    -DSSECAST_BUILD_BENCH=OFF >/dev/null
cmake --build "$dir" -j2
