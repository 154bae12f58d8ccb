#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang-14 (ASan+UBSan, -Werror) in build-fuzz/
# and runs each target named in tests/fuzz/CMakeLists.txt for SECONDS_PER_TARGET (default 40),
# starting from a copy of its seeds in tests/fuzz/corpus/<target>/ (the seeds are never changed).
# Needs the packages of scripts/install-deps.sh. Exits non-zero on any crash, property violation,
# leak, timeout or sanitizer report, and prints the path of the input that reproduces it.
#   ./scripts/fuzz.sh [SECONDS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-40}
if [[ ! $seconds =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET]" >&2
  exit 2
fi

build_dir=build-fuzz
echo "fuzz: configuring $build_dir/ (clang-14, RelWithDebInfo, SSECAST_FUZZ=ON, -Werror)"
CC=clang-14 CXX=clang++-14 timeout 300 cmake -S . -B "$build_dir" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSSECAST_FUZZ=ON -DSSECAST_WERROR=ON >/dev/null
echo "fuzz: building"
build_start=$SECONDS
timeout 3600 cmake --build "$build_dir" -j2
echo "fuzz: built in $((SECONDS - build_start)) s"

mapfile -t targets < <(sed -nE 's/^ssecast_fuzz_target\(([A-Za-z0-9_]+).*/\1/p' tests/fuzz/CMakeLists.txt)
if ((${#targets[@]} == 0)); then
  echo "fuzz: no ssecast_fuzz_target() in tests/fuzz/CMakeLists.txt" >&2
  exit 1
fi

# Working corpora are thrown away; reproducers and logs stay in build-fuzz/ for a look afterwards.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results=$build_dir/fuzz-results
rm -rf "$results"

export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
symbolizer=/usr/lib/llvm-14/bin/llvm-symbolizer
[ -x "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH=$symbolizer

# The last value of one of libFuzzer's -print_final_stats lines in a log.
final_stat() { sed -nE "s/^stat::$2: *([0-9]+).*/\1/p" "$1" | tail -n 1; }

failed=()
summary=()
for t in "${targets[@]}"; do
  corpus=$work/$t
  out=$results/$t
  mkdir -p "$corpus" "$out"
  [ -d "tests/fuzz/corpus/$t" ] && cp -R "tests/fuzz/corpus/$t/." "$corpus/"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$out/")
  [ -f "tests/fuzz/dict/$t.dict" ] && args+=(-dict="tests/fuzz/dict/$t.dict")
  seeds=$(find "$corpus" -type f | wc -l)
  echo "fuzz: $t: ${seconds} s from $seeds seeds (log: $out/log)"

  start=$SECONDS
  status=0
  # libFuzzer stops itself after max_total_time; the outer timeout only catches a hang outside it.
  timeout --kill-after=10 $((seconds + 120)) "$build_dir/tests/fuzz/fuzz_$t" "${args[@]}" "$corpus" \
      >"$out/log" 2>&1 || status=$?
  elapsed=$((SECONDS - start))

  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[KMG]?b' "$out/log" | tail -n 1 || true)
  line="$t: $(final_stat "$out/log" number_of_executed_units) runs"
  line+=" ($(final_stat "$out/log" average_exec_per_sec)/s), corpus $(find "$corpus" -type f | wc -l) files,"
  line+=" ${cov:-no coverage line}, $elapsed s"
  if ((status != 0)) || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:|property violated' "$out/log"; then
    line+=": FAILED (exit $status)"
    failed+=("$t")
    echo "fuzz: $t FAILED (exit $status); the end of its log:" >&2
    tail -n 40 "$out/log" >&2
    reproducers=$(find "$out" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
                      -o -name 'oom-*' \))
    if [ -n "$reproducers" ]; then
      while read -r r; do
        echo "fuzz: $t: reproducer $r (run: $build_dir/tests/fuzz/fuzz_$t $r)" >&2
      done <<<"$reproducers"
    else
      echo "fuzz: $t: no reproducer was written (see $out/log)" >&2
    fi
  else
    line+=": ok"
  fi
  echo "fuzz: $line"
  summary+=("$line")
done

echo "fuzz: summary"
printf 'fuzz:   %s\n' "${summary[@]}"
if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran clean"
