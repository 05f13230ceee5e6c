#!/usr/bin/env bash
# Instructions per simulated packet (valgrind callgrind: a count, not a time,
# so it repeats exactly whatever else the machine does) for udp-flood across
# ring sizes and policies, and for the same traffic over the stock ns-3
# PointToPoint link of bench_throughput's p2p baseline (no tun, no reader, no
# tunnel). Prints a table; needs valgrind (Debian package) and a built
# build/bench/bench_throughput for the baseline row.
set -euo pipefail
cd "$(dirname "$0")/.."
T=${TUNSIM:-build/tunsim}
B=${BENCH:-build/bench/bench_throughput}
DUR=${DUR:-0.02}
command -v valgrind >/dev/null || { echo "instructions.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
collected() { # instructions valgrind counted, from its log $tmp/err
  grep -o "Collected : [0-9]*" "$tmp/err" | grep -o "[0-9]*"
}
count() { # policy ring qdisc duration -> instructions packets
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$T" run scenarios/udp-flood.json \
    --set duration_s="$4" --set tun.policy="$1" --set tun.ring_size="$2" --set qdisc.kind="$3" \
    --out "$tmp/r" -q 2>"$tmp/err"
  echo "$(collected) $(grep -m1 '"simulated_packets"' "$tmp/r/result.json" | grep -o "[0-9]*")"
}
# The p2p baseline: bench_throughput's BM_P2PBaseline.
base() { # duration -> instructions packets
  TUNSIM_BENCH_DURATION_S="$1" valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$B" \
    --benchmark_filter=P2PBaseline >"$tmp/out" 2>"$tmp/err"
  echo "$(collected) $(awk '$1 == "p2p-baseline" && $2 == "-" { print $3 }' "$tmp/out")"
}
row() { # policy qdisc ring COUNTER [ARGS...]: COUNTER ARGS DURATION -> instructions packets
  # The net figure subtracts set-up and tear-down: a run of 1/20 the length
  # measures them.
  local policy=$1 qdisc=$2 ring=$3 i1 p1 i0 p0
  shift 3
  read -r i1 p1 < <("$@" "$DUR")
  read -r i0 p0 < <("$@" "$(awk "BEGIN{print $DUR/20}")")
  printf "%-10s %-10s %6s %12s %10.0f %14.0f\n" "$policy" "$qdisc" "$ring" "$p1" \
    "$(awk "BEGIN{print $i1/$p1}")" "$(awk "BEGIN{print ($i1-$i0)/($p1-$p0)}")"
}
printf "%-10s %-10s %6s %12s %10s %14s\n" policy qdisc ring packets instr/pkt "instr/pkt(net)"
for policy in drop nodrop-v8; do
  qdisc=pfifo_fast; [ "$policy" = nodrop-v8 ] && qdisc=fq_codel
  for ring in 1 25 500 65536; do
    row "$policy" "$qdisc" "$ring" count "$policy" "$ring" "$qdisc"
  done
done
row p2p-base pfifo_fast - base
