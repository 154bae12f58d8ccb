#!/usr/bin/env bash
# Installs what only the tests need: the programs they start (Debian's nginx-light for the Nginx
# recipe's end-to-end tests and openssl for its TLS site's certificate, Debian's chromium for the
# browser tests, Debian's python3-jwt for the README's token command in the curl test, lintian for
# the .deb test and man-db for the man page test) and the npm
# packages of the interop tests (tests/interop: the `eventsource` client and `playwright-core`,
# which drives chromium) exactly as pinned by tests/interop/package-lock.json, with `npm ci`.
# Idempotent: packages already present are skipped, and when node_modules already matches
# package.json and package-lock.json, npm is not run. Needs node and npm (scripts/install-deps.sh
# installs Debian's: node 18), of a version every pinned package supports.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(nginx-light openssl chromium python3-jwt lintian man-db)
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
# The Node.js the pinned packages support, from their "engines" in package-lock.json: the check
# follows the pin (Debian 12's node is 18.20, and a package bumped past it must fail here, clearly).
if ! too_old=$(node -e '
    const lock = require("./package-lock.json");
    const have = process.versions.node.split(".").map(Number);
    const problems = [];
    for (const [path, pkg] of Object.entries(lock.packages)) {
      const range = pkg.engines && pkg.engines.node;
      if (!range) continue;
      const m = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
      const name = (path || "tests/interop") + "@" + pkg.version;
      if (!m) { problems.push(name + " states engines.node \"" + range + "\", which this check does not read"); continue; }
      const want = [m[1], m[2] || 0, m[3] || 0].map(Number);
      const cmp = have[0] - want[0] || have[1] - want[1] || have[2] - want[2];
      if (cmp < 0) problems.push(name + " needs node " + range);
    }
    console.log(problems.join("; "));
    process.exit(problems.length ? 1 : 0);'); then
    echo "install-test-deps: node $(node --version) cannot run the pinned packages: $too_old" >&2
    exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')

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
