#!/usr/bin/env bash
# Installs the dependencies, builds everything with AddressSanitizer and UndefinedBehaviorSanitizer
# in build-test/ (warnings are errors), and runs all the tests with ctest.
# Then, with no arguments, runs every fuzz target (scripts/fuzz.sh) for SSECAST_FUZZ_SECONDS each
# (default 40; 0 skips the stage).
# Arguments are passed to ctest: ./scripts/test.sh -R interop (and the fuzzing stage is skipped).
# Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
./scripts/install-test-deps.sh

echo "test: configuring build-test/ (RelWithDebInfo, ASan+UBSan, -Werror)"
cmake -S . -B build-test -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSSECAST_SANITIZE=ON -DSSECAST_WERROR=ON -DSSECAST_BUILD_TESTS=ON
echo "test: building"
cmake --build build-test -j2

# Any sanitizer report fails the test that triggered it, including the daemons the integration and
# interop tests start (they inherit these). LeakSanitizer runs here (checked on this Debian 12
# machine as root: it reports a deliberate leak), so a leak at exit fails a test too.
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "test: ASAN_OPTIONS=$ASAN_OPTIONS UBSAN_OPTIONS=$UBSAN_OPTIONS"

echo "test: ctest --test-dir build-test --output-on-failure -j2 $*"
ctest --test-dir build-test --output-on-failure -j2 "$@"

# ---- fuzzing: after the tests, a bounded run of every fuzz target (tests/fuzz/) ----
fuzz_seconds=${SSECAST_FUZZ_SECONDS:-40}
if (($#)); then
  echo "test: ctest arguments given: skipping the fuzzing stage (run scripts/fuzz.sh for it)"
elif [ "$fuzz_seconds" = 0 ]; then
  echo "test: SSECAST_FUZZ_SECONDS=0: skipping the fuzzing stage"
else
  echo "test: fuzzing, $fuzz_seconds s per target (SSECAST_FUZZ_SECONDS)"
  ./scripts/fuzz.sh "$fuzz_seconds"
fi
