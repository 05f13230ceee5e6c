#!/usr/bin/env bash
# Example.BuildsAgainstTheInstalledModelsAndRuns: `cmake --install` the build
# into a temporary prefix, configure and build examples/ against it with
# find_package(tunsim), and run the example for two policies:
#   drop:      packets die in the ring (tun0_ring/FULL_RING > 0), books balance
#   nodrop-v8: no drop anywhere, the tx queue stopped, books balance
set -euo pipefail
build=$1
src=$2
work=$(mktemp -d /tmp/tunsim-example-XXXXXX)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$src/examples" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" -j2 >/dev/null
drop=$("$work/build/tun-burst" --policy=drop)
echo "$drop"
nodrop=$("$work/build/tun-burst" --policy=nodrop-v8)
echo "$nodrop"
fail() { echo "FAIL: $*" >&2; exit 1; }
grep -q "dropped at tun0_ring/FULL_RING: [1-9]" <<<"$drop" || fail "drop: no ring drops"
grep -q "conservation ok" <<<"$drop" || fail "drop: books do not balance"
grep -q " dropped 0 " <<<"$nodrop" || fail "nodrop-v8: packets dropped"
grep -q "tx queue stops [1-9]" <<<"$nodrop" || fail "nodrop-v8: the queue never stopped"
grep -q "conservation ok" <<<"$nodrop" || fail "nodrop-v8: books do not balance"
echo "ok"
