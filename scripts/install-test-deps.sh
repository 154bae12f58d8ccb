#!/usr/bin/env bash
# Installs what only the tests need: the programs they start (Debian's nginx-light for the Nginx
# recipe's end-to-end test, Debian's chromium for the browser test, Debian's python3-jwt for the
# README's token command in the curl test) and the npm packages of the
# interop tests (tests/interop: the `eventsource` client and `playwright-core`, which drives
# chromium) exactly as pinned by tests/interop/package-lock.json, with `npm ci`.
# Idempotent: packages already present are skipped, and when node_modules already matches
# package.json and package-lock.json, npm is not run. Needs node >= 18 and npm
# (scripts/install-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(nginx-light chromium python3-jwt)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  echo "install-test-deps: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cd tests/interop

for tool in node npm; do
    command -v "$tool" >/dev/null || { echo "install-test-deps: $tool not found: run scripts/install-deps.sh" >&2; exit 1; }
done
node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 18)); then
    echo "install-test-deps: node $(node --version) is too old, the interop tests need node >= 18" >&2
    exit 1
fi

# What node_modules was installed from; recorded after a successful install.
stamp=node_modules/.ssecast-install-stamp
wanted="$(sha256sum package.json package-lock.json | sha256sum | cut -d' ' -f1) node-$node_major"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && [ -f node_modules/eventsource/package.json ] &&
   [ -f node_modules/playwright-core/package.json ]; then
    echo "install-test-deps: tests/interop/node_modules is up to date"
    exit 0
fi

echo "install-test-deps: npm ci in tests/interop"
# --ignore-scripts: these packages need no install scripts, so none may run.
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
echo "$wanted" >"$stamp"
