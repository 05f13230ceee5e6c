#!/usr/bin/env bash
# make sanitize: build everything in build-sanitize/ with AddressSanitizer and
# UndefinedBehaviorSanitizer (gcc, -fno-sanitize-recover: any report fails
# the test that triggers it) and run the test suite there.
#
#   SANITIZE_BUILD_DIR  build directory (default build-sanitize)
#   SANITIZE_JOBS       ctest -j (default nproc)
#
# Left out: the tests of tunsim kernel that measure the real kernel in real
# time (Kernel.*, KernelLimits.PacketsLeftInTheRing*): under ASan the
# busy-waiting reader and the senders are several times slower, so their
# timing-derived expectations (closed-form drops, no loss at a given rate)
# do not hold; they say nothing about memory errors the other tests miss.
# KernelLimits' namespace-marker tests do run. The benches are not built.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${SANITIZE_BUILD_DIR:-build-sanitize}
TUNSIM_SETUP_BUILD=0 bash scripts/setup.sh

# CXXFLAGS/LDFLAGS from the environment: CMake takes them for this build,
# and the example test's nested CMake project (tests/example_test.sh) too.
export CXXFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
export LDFLAGS="-fsanitize=address,undefined"
# mimalloc would replace the allocator ASan instruments: glibc's here.
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTUNSIM_MALLOC=system -DTUNSIM_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
start=$(date +%s)
set +e
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"${SANITIZE_JOBS:-$(nproc)}" \
  -E '^Kernel\.|^KernelLimits\.PacketsLeftInTheRing' | tee "$BUILD_DIR/sanitize.log"
rc=${PIPESTATUS[0]}
set -e
echo "sanitize: ctest exit $rc in $(( $(date +%s) - start )) s (ASan + UBSan; kernel timing tests left out); log: $BUILD_DIR/sanitize.log"
exit "$rc"
