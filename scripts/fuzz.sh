#!/usr/bin/env bash
# Builds and runs the libFuzzer fuzzers of tests/fuzz/ (README § Fuzzing), in a clang build
# of their own ($CHAOSDRILL_FUZZ_BUILD, default build-fuzz/), each under nice -n 19:
#   scripts/fuzz.sh build              configure (CC=clang -DFUZZ=ON) and build them
#   scripts/fuzz.sh short NAME         NAME for $FUZZ_SECONDS (default 5): the ctest short run
#   scripts/fuzz.sh long [NAME...]     build, then each (default all) for $FUZZ_SECONDS
#                                      (default 900), one after another, and a table of
#                                      executions, coverage (cov/ft) and crashes
# Exits 77 when clang or its libFuzzer (Debian: libclang-rt-14-dev) is missing, 1 when a
# fuzzer found a crash (the input is kept in BUILD/crashes/NAME/).
set -uo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${CHAOSDRILL_FUZZ_BUILD:-$SRC/build-fuzz}
FUZZERS=(scenario target lines ffs_proto shimctl resp)
JOBS=${JOBS:-2}

probe() {
  local t
  t=$(mktemp -d) || return 1
  printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }\n' >"$t/p.c"
  if ! command -v clang >/dev/null; then
    echo "fuzz: SKIP: no clang (apt-get install clang libclang-rt-14-dev)"
    rm -rf "$t"; return 77
  fi
  if ! clang -fsanitize=fuzzer,address,undefined "$t/p.c" -o "$t/p" 2>/dev/null; then
    echo "fuzz: SKIP: clang has no libFuzzer (-fsanitize=fuzzer; Debian: libclang-rt-14-dev)"
    rm -rf "$t"; return 77
  fi
  rm -rf "$t"
}

build() {
  probe || return $?
  if [ ! -f "$B/Makefile" ]; then
    mkdir -p "$B"
    # WERROR off: clang warns where gcc does not, in files the fuzzers only link
    CC=clang nice -n 19 cmake -S "$SRC" -B "$B" -DFUZZ=ON -DWERROR=OFF \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$B/fuzz-configure.log" 2>&1 ||
      { cat "$B/fuzz-configure.log"; return 1; }
  fi
  local targets=()
  for f in "${FUZZERS[@]}"; do targets+=(--target "fuzz_$f"); done
  nice -n 19 cmake --build "$B" -j "$JOBS" "${targets[@]}" >"$B/fuzz-build.log" 2>&1 ||
    { tail -50 "$B/fuzz-build.log"; return 1; }
}

# The seeds of fuzzer $1 copied into its working corpus $2 (which keeps what it learns).
seed() {
  local name=$1 dir=$2 f
  mkdir -p "$dir"
  {
    find "$SRC/tests/fuzz/corpus/$1" "$SRC/tests/fuzz/regressions/$1" -type f ! -name '.*'
    case $name in
      scenario) find "$SRC/scenarios" "$SRC/tests/fixtures/scenarios" -name '*.yaml' ;;
      target) find "$SRC/targets" "$SRC/tests/fixtures/targets" -name target.yaml ;;
      shimctl) echo /bin/true ;; # an ELF program for sys_shim_fit
    esac
  } | while read -r f; do
    cp -f "$f" "$dir/seed-$(echo "${f#"$SRC"/}" | tr / _)"
  done
}

# Runs fuzzer $1 for $2 seconds; prints libFuzzer's final stats as one summary line.
run() {
  local name=$1 secs=$2 bin="$B/tests/fuzz/fuzz_$1" corpus="$B/corpus/$1"
  local art="$B/crashes/$1/" log="$B/fuzz-$1.log" dict="$SRC/tests/fuzz/dict/$1.dict"
  local opts=(-max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048
    -artifact_prefix="$art" -max_len=65536)
  [ -x "$bin" ] || { echo "fuzz: $bin not built (scripts/fuzz.sh build)"; return 1; }
  [ -f "$dict" ] && opts+=(-dict="$dict")
  seed "$1" "$corpus"
  mkdir -p "$art" "$B/tmp/$name"
  # the fuzzers' scratch files (fuzz_tmpdir), removed here: libFuzzer may _exit past atexit
  TMPDIR="$B/tmp/$name" ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    nice -n 19 "$bin" "${opts[@]}" "$corpus" >"$log" 2>&1
  local rc=$?
  rm -rf "${B:?}/tmp/$name"
  local execs cov ft corp crashes
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corp=$(find "$corpus" -type f | wc -l)
  crashes=$(find "$art" -type f | wc -l)
  printf '%-10s %6ss %12s %8s %8s %8s %8s\n' "$name" "$secs" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
    "$corp" "$crashes"
  if [ $rc -ne 0 ]; then
    echo "fuzz: $name exited $rc; its log $log ends:"
    grep -A30 -m1 'ERROR\|invariant broken\|deadly signal\|timeout' "$log" | head -40
    return 1
  fi
}

header() {
  printf '%-10s %7s %12s %8s %8s %8s %8s\n' fuzzer time executions cov ft corpus crashes
}

case ${1:-} in
  build) build ;;
  short)
    probe || exit $?
    header && run "$2" "${FUZZ_SECONDS:-5}"
    ;;
  long)
    shift
    build || exit $?
    names=("$@")
    [ ${#names[@]} -eq 0 ] && names=("${FUZZERS[@]}")
    header
    fail=0
    for n in "${names[@]}"; do run "$n" "${FUZZ_SECONDS:-900}" || fail=1; done
    exit $fail
    ;;
  *)
    sed -n '2,11p' "$0" >&2
    exit 2
    ;;
esac
