#!/usr/bin/env bash
# Builds the .deb with cpack from a Release build directory and checks its metadata, contents,
# conffiles and maintainer scripts, runs lintian on it (no error allowed), runs the packaged
# binary and man page, verifies the packaged units, then installs the package on this machine
# with apt, enables its socket as an administrator would, purges it and checks that nothing of it
# is left. Installing needs root (or sudo); the package must not be installed already.
#   tests/packaging/deb_test.sh RELEASE_BUILD_DIR
set -euo pipefail
release=$(cd "${1:?usage: deb_test.sh RELEASE_BUILD_DIR}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'stop_daemon; rm -rf "$work"' EXIT
fail() { echo "deb_test: FAIL: $*" >&2; exit 1; }
# shellcheck source=tests/packaging/daemon.sh
. "$(dirname "$0")/daemon.sh"

(cd "$release" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) || fail "cpack -G DEB failed: $(cat "$work/cpack.log")"
deb=$(ls "$work"/out/ssecast_*.deb 2>/dev/null | head -1)
[ -f "$deb" ] || fail "no ssecast_*.deb produced"
echo "deb_test: built $(basename "$deb")"

field() { dpkg-deb -f "$deb" "$1"; }
version=$(sed -n 's/^project(ssecast VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
[ "$(field Package)" = ssecast ] || fail "Package is '$(field Package)'"
[ "$(field Version)" = "$version" ] || fail "Version is '$(field Version)', CMakeLists.txt says $version"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] || fail "Architecture is '$(field Architecture)'"
[ -n "$(field Maintainer)" ] && [ -n "$(field Description)" ] || fail "Maintainer or Description missing"
depends=$(field Depends)
echo "deb_test: Depends: $depends"
depends_names=$(tr ',' '\n' <<<"$depends" | awk '{print $1}')
# A dependency on PKG, or on a name PKG provides (libspdlog1.10 provides libspdlog1.10-fmt9).
depends_on() { awk -v p="$1" '$0 == p || index($0, p "-") == 1 { found = 1 } END { exit !found }' <<<"$depends_names"; }
# Every shared library the binary links directly (its NEEDED entries; what those load in turn is
# their own packages' business) must come from a dependency (dpkg-shlibdeps), and the maintainer
# scripts need deb-systemd-helper.
needed=$(readelf -d "$release/ssecast" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
[ -n "$needed" ] || fail "readelf found no NEEDED libraries in $release/ssecast"
for lib in $(ldd "$release/ssecast" | awk -v needed="$needed" '
    BEGIN { n = split(needed, list, " "); for (i = 1; i <= n; i++) want[list[i]] = 1 }
    $2 == "=>" && ($1 in want) && $3 ~ /^\// { print $3 }'); do
  pkg=$( (dpkg-query -S "$lib" || dpkg-query -S "$(readlink -f "$lib")" || true) 2>/dev/null | cut -d: -f1 | head -1)
  [ -n "$pkg" ] || fail "no package owns $lib"
  depends_on "$pkg" || fail "Depends lacks $pkg (for $lib)"
done
depends_on init-system-helpers || fail "Depends lacks init-system-helpers"
# The unit's ExecReload= runs /bin/kill.
depends_on procps || fail "Depends lacks procps (/bin/kill)"
[ "$(field Maintainer)" = "ssecast developers <ssecast@example.org>" ] || fail "Maintainer is '$(field Maintainer)'"

# lintian: every error fails the test; the warnings and infos are printed.
command -v lintian >/dev/null || fail "lintian not found: run scripts/install-test-deps.sh"
lintian --display-info "$deb" >"$work/lintian.txt" 2>&1 || true
echo "deb_test: lintian says:"
sed 's/^/  /' "$work/lintian.txt"
grep -q '^E: ' "$work/lintian.txt" && fail "lintian reports errors: $(grep '^E: ' "$work/lintian.txt" | tr '\n' ';')"

contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for path in ./usr/bin/ssecast ./etc/ssecast/ssecast.toml ./lib/systemd/system/ssecast.service \
            ./lib/systemd/system/ssecast.socket ./usr/share/man/man1/ssecast.1.gz \
            ./usr/share/doc/ssecast/README.md ./usr/share/doc/ssecast/nginx/ssecast.conf \
            ./usr/share/doc/ssecast/nginx/ssecast-tls.conf \
            ./usr/share/doc/ssecast/nginx/ssecast-locations.conf \
            ./usr/share/doc/ssecast/copyright ./usr/share/doc/ssecast/changelog.gz; do
  grep -qx -- "$path" <<<"$contents" || fail "$path is not in the package"
done
grep -q '^./usr/local' <<<"$contents" && fail "files under /usr/local in a Debian package"

dpkg-deb -e "$deb" "$work/control"
grep -qx /etc/ssecast/ssecast.toml "$work/control/conffiles" || fail "the config file is not a conffile"
for script in postinst prerm postrm; do
  [ -x "$work/control/$script" ] || fail "$script missing or not executable"
  sh -n "$work/control/$script" || fail "$script is not valid sh"
done
grep -q 'deb-systemd-helper enable ssecast.service' "$work/control/postinst" || fail "postinst does not enable the service"
grep -q 'deb-systemd-invoke "$action" ssecast.service' "$work/control/postinst" || fail "postinst does not start the service"
grep -q 'deb-systemd-invoke stop ssecast.service' "$work/control/prerm" || fail "prerm does not stop the service"

dpkg-deb -x "$deb" "$work/root"
"$work/root/usr/bin/ssecast" --version | grep -qx "ssecast $version" || fail "packaged binary --version"
zcat "$work/root/usr/share/man/man1/ssecast.1.gz" | grep -q -- 'max\\-queue' || fail "the man page lacks the options"
# The unit runs the binary and the config the package ships.
exec_start=$(sed -n 's/^ExecStart=//p' "$work/root/lib/systemd/system/ssecast.service")
[ -x "$work/root${exec_start%% *}" ] || fail "ExecStart ($exec_start) is not in the package"
grep -q -- "--config /etc/ssecast/ssecast.toml" <<<"$exec_start" || fail "ExecStart does not use /etc/ssecast/ssecast.toml"
# The binary is stripped (CPACK_STRIP_FILES), and the units verify as shipped.
file -b "$work/root/usr/bin/ssecast" | grep -q ', stripped' || fail "the packaged binary is not stripped: $(file -b "$work/root/usr/bin/ssecast")"
bash "$root/tests/systemd/verify_units.sh" "$work/root/lib/systemd/system" "$work/root/usr/bin/ssecast" /usr/bin/ssecast ||
  fail "the packaged units do not verify"
# The packaged binary serves with the packaged configuration.
start_daemon "$work/daemon.log" "$work/root/usr/bin/ssecast" --config "$work/root/etc/ssecast/ssecast.toml"
curl -fsS "http://127.0.0.1:$PORT/healthz" | grep -q '"status":"ok"' || fail "/healthz of the packaged binary"
stop_daemon

# ---- install, enable the socket, purge: nothing of the package is left -------------------------
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
# One such test at a time on this machine (other worktrees run it too), and apt waits for the dpkg
# lock instead of failing when another installation holds it.
exec 9>/tmp/ssecast-deb_test.lock
flock -w 900 9 || fail "another deb_test held /tmp/ssecast-deb_test.lock for 15 minutes"
apt_get() { DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get -y -qq -o DPkg::Lock::Timeout=600 "$@"; }
# What of the package exists on this machine: its files and directories of its own, its
# configuration, and every systemd link or deb-systemd-helper state naming its units.
leftovers() {
  local path
  while read -r path; do
    path=${path#.}
    [ -e "$path" ] || [ -L "$path" ] || continue
    # Shared directories (/usr/bin, /lib/systemd/system ...) stay; those of the package must go.
    [ -d "$path" ] && [ ! -L "$path" ] && [[ "$path" != */ssecast && "$path" != */ssecast/* ]] && continue
    echo "$path"
  done <<<"$contents"
  [ -e /etc/ssecast ] && echo /etc/ssecast
  find /etc/systemd /var/lib/systemd -name 'ssecast.*' 2>/dev/null
  return 0
}
# dpkg's state of the package: empty or not-installed when it knows nothing of it.
dpkg_status() { dpkg-query -W -f='${db:Status-Status}' ssecast 2>/dev/null || true; }
[[ "$(dpkg_status)" =~ ^(not-installed)?$ ]] ||
  fail "ssecast is on this machine already (dpkg status $(dpkg_status)): this test would remove it"
before=$(leftovers)
[ -z "$before" ] || fail "files of ssecast exist before the test installed it: $before"
apt_get install --no-install-recommends "$deb" >"$work/apt.log" 2>&1 || fail "apt-get install $deb: $(cat "$work/apt.log")"
installed() { [ "$(dpkg_status)" = installed ]; }
purge() { installed && apt_get purge ssecast >>"$work/apt.log" 2>&1; }
trap 'purge || true; stop_daemon; rm -rf "$work"' EXIT
installed || fail "ssecast is not installed after apt-get install: $(cat "$work/apt.log")"
[ -L /etc/systemd/system/multi-user.target.wants/ssecast.service ] || fail "postinst did not enable ssecast.service"
# The administrator enables the socket (no systemd runs here: systemctl only makes the link).
"${sudo_cmd[@]}" systemctl enable ssecast.socket >"$work/enable.log" 2>&1 || fail "systemctl enable ssecast.socket: $(cat "$work/enable.log")"
[ -L /etc/systemd/system/sockets.target.wants/ssecast.socket ] || fail "systemctl enable ssecast.socket made no link: $(cat "$work/enable.log")"
echo "deb_test: installed, enabled: $(leftovers | grep -c .) paths of ssecast on this machine"
purge || fail "apt-get purge ssecast: $(cat "$work/apt.log")"
[[ "$(dpkg_status)" =~ ^(not-installed)?$ ]] || fail "dpkg status of ssecast after the purge: $(dpkg_status)"
after=$(leftovers)
[ -z "$after" ] || fail "the purge left behind: $(tr '\n' ' ' <<<"$after")"
echo "deb_test: purged: nothing of ssecast is left"
echo "deb_test: ok"
