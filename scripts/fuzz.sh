#!/usr/bin/env bash
# make fuzz: build the libFuzzer harness tests/fuzz/fuzz_scenario.cc (the
# scenario parser and --set, with ASan + UBSan) with Debian's clang, and run
# it for a fixed budget from the committed corpus tests/fuzz/corpus/.
#
#   FUZZ_RUNS     executions (default 1000000)
#   FUZZ_BUILD_DIR  build directory (default build-fuzz)
#
# New inputs the fuzzer finds go to a temporary directory (the committed
# corpus is only read). Any crash, sanitizer report, uncaught exception,
# timeout (10 s per input) or out-of-memory (2 GB) fails the run: the input
# is kept in $FUZZ_BUILD_DIR/artifacts/ and the exit code is non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${FUZZ_RUNS:-1000000}
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}

# The project's libraries (no build), then clang and its runtime (libFuzzer,
# ASan, UBSan: libclang-rt-<version>-dev), installed only for fuzzing.
TUNSIM_SETUP_BUILD=0 bash scripts/setup.sh
install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || { echo "fuzz: missing Debian packages: ${missing[*]}; run as root" >&2; exit 1; }
    echo "fuzz: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}
install clang
install "libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev"

CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTUNSIM_FUZZ=ON \
  -DTUNSIM_BUILD_TESTS=OFF -DTUNSIM_BUILD_BENCH=OFF -DTUNSIM_MALLOC=system >/dev/null
cmake --build "$BUILD_DIR" --target fuzz_scenario -j"$(nproc)"

work=$(mktemp -d /tmp/tunsim-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$BUILD_DIR/artifacts"
log="$BUILD_DIR/fuzz.log"
echo "fuzz: $RUNS executions of fuzz_scenario from tests/fuzz/corpus ($(ls tests/fuzz/corpus | wc -l) inputs); log: $log"
start=$(date +%s.%N)
set +e
"$BUILD_DIR/tests/fuzz/fuzz_scenario" -runs="$RUNS" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -dict=tests/fuzz/scenario.dict -artifact_prefix="$BUILD_DIR/artifacts/" -print_final_stats=1 \
  "$work" tests/fuzz/corpus >"$log" 2>&1
rc=$?
set -e
end=$(date +%s.%N)
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
echo "fuzz: ${runs:-?} executions in $(awk "BEGIN { printf \"%.1f\", $end - $start }") s, exit $rc" \
     "($(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1) MB peak RSS; $(ls "$work" | wc -l) new inputs)"
if [ "$rc" -ne 0 ]; then
  tail -n 40 "$log" >&2
  echo "fuzz: FAILED: see $log and $BUILD_DIR/artifacts/" >&2
  exit 1
fi
if [ -z "$runs" ] || [ "$runs" -lt "$RUNS" ]; then
  echo "fuzz: FAILED: fewer executions than the budget of $RUNS" >&2
  exit 1
fi
