#!/usr/bin/env bash
# Quick start: installs the dependencies, builds a Release ssecast in build/ and runs it in the
# foreground with the default in-memory configuration (listens on 0.0.0.0:8080).
# Arguments are passed to ssecast: ./scripts/run.sh --listen 127.0.0.1:9000 --log-level debug
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
./scripts/build.sh build

echo "run: build/ssecast $*"
exec build/ssecast "$@"
