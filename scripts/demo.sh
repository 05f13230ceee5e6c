#!/usr/bin/env bash
# The main job: set up, build, and show mainline `drop` losing packets where
# NODROP loses none, on the authors' validation setup (udp-flood) and on
# bursts into a slower reader (bursts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
T=build/tunsim
OUT=${OUT:-results/demo}
for sc in udp-flood bursts; do
  for policy in drop nodrop-v8; do
    echo "== $sc, policy $policy"
    $T run "scenarios/$sc.json" --set "tun.policy=$policy" --out "$OUT/$sc-$policy"
  done
done
echo
echo "== comparison (results under $OUT/)"
$T table "$OUT/udp-flood-drop" "$OUT/udp-flood-nodrop-v8" "$OUT/bursts-drop" "$OUT/bursts-nodrop-v8"
