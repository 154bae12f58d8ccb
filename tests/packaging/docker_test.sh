#!/usr/bin/env bash
# There is no Docker engine here, so this runs the Dockerfile's steps outside Docker with the same
# scripts: the build stage (scripts/install-deps.sh --build-only, scripts/build.sh, done by the
# release_build fixture, then scripts/runtime-packages.sh), the runtime stage
# (scripts/install-runtime-deps.sh), and the container's start as an unprivileged user with the
# image's ENTRYPOINT arguments and its HEALTHCHECK command. It also checks the Dockerfile says what
# the issue asks (multi-stage, bookworm-slim runtime, non-root user, EXPOSE 8080, HEALTHCHECK).
#   tests/packaging/docker_test.sh RELEASE_BUILD_DIR
set -euo pipefail
release=$(cd "${1:?usage: docker_test.sh RELEASE_BUILD_DIR}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
dockerfile=$root/Dockerfile
work=$(mktemp -d)
fail() { echo "docker_test: FAIL: $*" >&2; exit 1; }
# shellcheck source=tests/packaging/daemon.sh
. "$(dirname "$0")/daemon.sh"
trap 'stop_daemon; rm -rf "$work"' EXIT

# ---- what the Dockerfile says ------------------------------------------------------------------
# Instructions with their continuation lines joined.
instructions=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$dockerfile" | grep -vE '^\s*(#|$)')
froms=$(grep -E '^FROM ' <<<"$instructions")
[ "$(wc -l <<<"$froms")" -ge 2 ] || fail "not a multi-stage build"
[ "$(tail -1 <<<"$froms" | awk '{print $2}')" = debian:bookworm-slim ] || fail "the runtime stage is not debian:bookworm-slim"
user=$(grep -E '^USER ' <<<"$instructions" | tail -1 | awk '{print $2}')
[ -n "$user" ] && [ "$user" != root ] && [ "$user" != 0 ] || fail "the image runs as root"
grep -qE '^EXPOSE 8080$' <<<"$instructions" || fail "no EXPOSE 8080"
healthcheck=$(grep -E '^HEALTHCHECK ' <<<"$instructions" | sed 's/.* CMD //')
grep -q '/healthz' <<<"$healthcheck" || fail "HEALTHCHECK does not ask /healthz"
runs=$(grep -E '^RUN ' <<<"$instructions")
for step in "./scripts/install-deps.sh --build-only" "./scripts/build.sh build-docker" \
            "./scripts/runtime-packages.sh build-docker/ssecast" "/tmp/ssecast/install-runtime-deps.sh"; do
  grep -qF -- "$step" <<<"$runs" || fail "the Dockerfile no longer runs '$step': update this test"
done
entrypoint=$(grep -E '^ENTRYPOINT ' <<<"$instructions" | sed 's/^ENTRYPOINT //')
mapfile -t args_in_image < <(python3 -c 'import json,sys; print("\n".join(json.loads(sys.argv[1])))' "$entrypoint")

# ---- the build stage ---------------------------------------------------------------------------
"$root/scripts/install-deps.sh" --build-only
[ -x "$release/ssecast" ] || fail "scripts/build.sh made no binary in $release"
"$root/scripts/runtime-packages.sh" "$release/ssecast" >"$work/runtime-packages.txt"
echo "docker_test: runtime packages: $(tr '\n' ' ' <"$work/runtime-packages.txt")"
grep -qx libc6 "$work/runtime-packages.txt" || fail "runtime-packages.sh missed libc6"
grep -qx curl "$work/runtime-packages.txt" || fail "runtime-packages.sh missed curl (the health check)"

# ---- the runtime stage -------------------------------------------------------------------------
"$root/scripts/install-runtime-deps.sh" "$work/runtime-packages.txt"
# The image's layout: the binary and the config copied where the image has them, readable by all.
mkdir -p "$work/image/usr/bin" "$work/image/etc/ssecast"
cp "$release/ssecast" "$work/image/usr/bin/ssecast"
cp "$root/config/ssecast.toml" "$work/image/etc/ssecast/ssecast.toml"
chmod -R a+rX "$work"

# ---- the container starts as an unprivileged user and passes its health check ------------------
image=$work/image
if [ "$(id -u)" -eq 0 ]; then
  # As root, the image directory becomes the daemon's root directory, as in a container: the
  # libraries the runtime stage installed (what ldd resolves) are copied into it, and the daemon
  # runs chrooted as nobody with the ENTRYPOINT exactly as the image has it. Its own root, not the
  # host's: the host's / need not be open to other users (a debootstrap root made with mktemp -d is
  # mode 0700, where nobody cannot load a single library), an image's root is.
  for lib in $(ldd "$image/usr/bin/ssecast" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
    mkdir -p "$image${lib%/*}" && cp -L "$lib" "$image$lib"
  done
  cp /etc/ld.so.cache "$image/etc/ld.so.cache"
  chmod -R a+rX "$image"
  uid=$(id -u nobody) gid=$(getent group nogroup | cut -d: -f3)
  start_daemon "$work/daemon.log" chroot --userspec="$uid:$gid" --groups="$gid" "$image" "${args_in_image[@]}"
  # chroot execs the daemon, so PID is the daemon's: it runs as nobody, with no capability.
  [ "$(awk '/^Uid:/ {print $2}' "/proc/$PID/status")" = "$uid" ] || fail "the daemon does not run as nobody"
  [ "$(awk '/^CapEff:/ {print $2}' "/proc/$PID/status")" = 0000000000000000 ] || fail "the daemon kept capabilities"
else
  # Not root: the image's paths moved under $image, run as the current (unprivileged) user.
  entry_args=()
  for arg in "${args_in_image[@]}"; do entry_args+=("${arg/#\//$image/}"); done
  start_daemon "$work/daemon.log" "${entry_args[@]}"
fi
sh -c "${healthcheck//8080/$PORT}" || fail "the HEALTHCHECK command failed: ${healthcheck//8080/$PORT}"
stop_daemon
echo "docker_test: ok"
