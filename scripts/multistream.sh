#!/usr/bin/env bash
# The multistream sweep (docs/multistream.md) from one command:
#   N = 1, 2, 4, 8, 16 parallel bulk TCP flows x tun.policy {drop, merged}
#   x tun.queues {1, N}, each run DURATION simulated seconds (default 0.1),
# then the table and the plot (docs/multistream.png).
#   OUT=results/multistream DURATION=0.1 JOBS=2 scripts/multistream.sh
# The multi-core client (issue 13's host.cpus): the same sweep of
# scenarios/multistream-cores.json, flow i's sender on CPU 1 + i mod
# (host.cpus - 1), CPU 0 the reader's:
#   SCENARIO=scenarios/multistream-cores.json OUT=results/multistream-cores \
#     PNG=docs/multistream-cores.png scripts/multistream.sh
# iff-backpressure with the flag clear gives drop's result bit for bit and
# with it merged's (tests: EndToEnd.IffBackpressureIsDrop...), so it is not
# swept separately.
set -euo pipefail
cd "$(dirname "$0")/.."
T=${TUNSIM:-build/tunsim}
SCENARIO=${SCENARIO:-scenarios/multistream.json}
OUT=${OUT:-results/multistream}
DURATION=${DURATION:-0.1}
JOBS=${JOBS:-2}
NS=${NS:-"1 2 4 8 16"}
mkdir -p "$OUT/scenarios"
for n in $NS; do
  base=$(basename "$SCENARIO" .json)
  sc="$OUT/scenarios/$base-$n.json"
  # N copies of the scenario's one flow
  python3 - "$n" "$SCENARIO" "$sc" <<'PY'
import json, sys
n, src, dst = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = json.load(open(src))
s["name"] = "%s-%d" % (s["name"], n)
s["flows"] = [dict(s["flows"][0]) for _ in range(n)]
cpus = s.get("host", {}).get("cpus", 0)
if cpus > 1:
    # the senders round-robin on CPUs 1 .. cpus-1; CPU 0 is the reader's
    for i, f in enumerate(s["flows"]):
        f["cpu"] = 1 + i % (cpus - 1)
json.dump(s, open(dst, "w"), indent=1)
PY
  queues="1"
  if [ "$n" -gt 1 ]; then queues="1,$n"; fi
  "$T" sweep "$sc" --vary tun.policy=drop,merged --vary "tun.queues=$queues" \
      --set "duration_s=$DURATION" --jobs "$JOBS" --quiet --out "$OUT/n$n"
done
python3 plot/multistream.py "$OUT" --png "${PNG:-docs/multistream.png}"
