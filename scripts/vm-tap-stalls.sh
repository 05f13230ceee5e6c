#!/usr/bin/env bash
# The e1000 guest at 120 ms RTT with backend stalls calibrated on the
# authors' 60-ms run (issue 15; docs/model.md, "The stalls, calibrated at
# 60 ms").
#
#   bash scripts/vm-tap-stalls.sh [--intervals "200 500 1000 3000 0"] [--stall-ms 10]
#                                 [--secs 300] [--out DIR] [--tunsim BIN]
#
# The authors' mainline at txqueuelen 1000 keeps a window of about
# txqueuelen segments at both RTTs and loses in one second out of ten all
# through its 300 s (tudo-cni/nodrop, validation_tools/qemu/benchmarks/
# tap/default_1000packets_{60,120}ms.json). The model's backend drains
# steadily and loses only at slow start's end unless its thread is
# preempted (reader.preempt_interval_ms / preempt_ms on VmBackend), and no
# measurement of a KVM host's QEMU stalls exists on this machine (its
# /dev/kvm is kvm_pvm; the TAP twin runs under TCG). So the stall rate is
# taken from the paper's set-up at the OTHER RTT:
#   1. scenarios/vm-tap-qemu.json at 60 ms RTT (underlay.delay_ms 30),
#      ring 1000, mainline `drop`, --secs simulated seconds, once per stall
#      interval (exponential gaps, start to start; each stall --stall-ms,
#      exponential; 0 = none);
#   2. each run's loss episodes: the seconds in which the sender's cwnd
#      fell by more than 10 % (--timeseries 1000), counted from t = 10 s,
#      as in the authors' file, where that count is 28 (iperf3's snd_cwnd
#      per 1-s interval; their mean 171.8 Mbit/s, cwnd p50 1055 segments);
#   3. the interval whose episode count is nearest 28 x (--secs - 10) / 290
#      (the authors' count scaled to the run; the shorter interval on a tie) runs at 120 ms (underlay.delay_ms 60) with `drop` and with
#      `nodrop-v8`: the prediction, beside the authors' 98.4 / 255.1 Mbit/s
#      (published 98 / 198).
# Runs two simulations at a time. --secs 300 (the authors' -t 300) takes
# about 25 minutes on this VM; --secs 60 about 6.
# Writes DIR/stalls.csv (one row per run) and prints the table.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=results/vm-tap-stalls
INTERVALS="200 500 1000 3000 0"
STALL_MS=10
SECS=300
BIN=${TUNSIM:-build/tunsim}
while [ $# -gt 0 ]; do
  case "$1" in
    --intervals) INTERVALS=$2; shift ;;
    --stall-ms) STALL_MS=$2; shift ;;
    --secs) SECS=$2; shift ;;
    --out) OUT=$2; shift ;;
    --tunsim) BIN=$2; shift ;;
    -h|--help) awk 'NR > 1 && /^set -euo/ {exit} NR > 1' "$0"; exit 0 ;;
    *) echo "vm-tap-stalls: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for i in $INTERVALS; do
  [[ "$i" =~ ^[0-9]+$ ]] || { echo "vm-tap-stalls: --intervals: '$i' is not a whole number of ms" >&2; exit 2; }
done
[[ "$STALL_MS" =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "vm-tap-stalls: --stall-ms: a number of ms" >&2; exit 2; }
[[ "$SECS" =~ ^[0-9]+$ ]] && [ "$SECS" -ge 20 ] || { echo "vm-tap-stalls: --secs: a whole number >= 20" >&2; exit 2; }
[ -x "$BIN" ] || { echo "vm-tap-stalls: $BIN not built (bash scripts/setup.sh)" >&2; exit 2; }
mkdir -p "$OUT"

# run NAME DELAY POLICY INTERVAL
run() {
  local st=()
  [ "$4" != 0 ] && st=(--set "reader.preempt_interval_ms=$4" --set "reader.preempt_ms=$STALL_MS")
  "$BIN" run scenarios/vm-tap-qemu.json --set "underlay.delay_ms=$2" --set "duration_s=$SECS" \
    --set "tun.policy=$3" "${st[@]}" --timeseries 1000 --out "$OUT/$1" -q
}
# pairs of background runs: NAME DELAY POLICY INTERVAL per line on stdin
run_two_at_a_time() {
  local n=0
  while read -r name delay policy interval; do
    run "$name" "$delay" "$policy" "$interval" &
    n=$((n + 1))
    if [ $((n % 2)) = 0 ]; then wait; fi
  done
  wait
}

for i in $INTERVALS; do echo "cal-i$i 30 drop $i"; done | run_two_at_a_time

episodes_py='
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
cw = [float(r["cwnd_bytes"]) for r in rows]
print(sum(1 for k in range(max(1, 10), len(cw)) if cw[k] < 0.9 * cw[k - 1]))'
target=$(( (28 * (SECS - 10) + 145) / 290 ))
best=""; bestd=""
for i in $INTERVALS; do
  e=$(python3 -c "$episodes_py" "$OUT/cal-i$i/timeseries.csv")
  d=$(( e > target ? e - target : target - e ))
  if [ -z "$bestd" ] || [ "$d" -lt "$bestd" ] || { [ "$d" = "$bestd" ] && [ "$i" != 0 ] && { [ "$best" = 0 ] || [ "$i" -lt "$best" ]; }; }; then
    best=$i; bestd=$d
  fi
done
echo "vm-tap-stalls: the 60-ms run nearest the authors' 28 loss episodes in 290 s ($target in $((SECS - 10)) s): a stall every $best ms (0 = none)"
printf 'pred-drop 60 drop %s\npred-nodrop 60 nodrop-v8 %s\n' "$best" "$best" | run_two_at_a_time

python3 - "$OUT" "$INTERVALS" "$best" <<'EOF'
import csv, json, os, sys
out, intervals, best = sys.argv[1], sys.argv[2].split(), sys.argv[3]
def row(name, rtt, interval, policy, authors):
    j = json.load(open(os.path.join(out, name, "result.json")))
    ts = list(csv.DictReader(open(os.path.join(out, name, "timeseries.csv"))))
    cw = [float(r["cwnd_bytes"]) / 1448 for r in ts]
    ep = sum(1 for k in range(10, len(cw)) if cw[k] < 0.9 * cw[k - 1])
    st = sorted(c for c in cw[10:] if c > 0)
    q = lambda p: round(st[min(len(st) - 1, int(p * len(st)))]) if st else ""
    f = j["flows"][0]
    return {"run": name, "rtt_ms": rtt, "stall_every_ms": interval, "policy": policy,
            "goodput_mbps": round(f["goodput_mbps"], 1), "retransmits": f.get("retransmits", ""),
            "episodes_from_10s": ep, "cwnd_p10": q(.1), "cwnd_p50": q(.5), "cwnd_p90": q(.9),
            "authors": authors, "seed": j["seed"], "tunsim_git": j["tunsim"]["git"]}
rows = [row("cal-i" + i, 60, i, "drop", "171.8 Mbit/s, 28 episodes, cwnd p10/50/90 894/1055/1205") for i in intervals]
rows.append(row("pred-drop", 120, best, "drop", "98.4 Mbit/s (published 98)"))
rows.append(row("pred-nodrop", 120, best, "nodrop-v8", "255.1 Mbit/s (published 198)"))
with open(os.path.join(out, "stalls.csv.tmp"), "w", newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=list(rows[0].keys()))
    w.writeheader()
    w.writerows(rows)
os.replace(os.path.join(out, "stalls.csv.tmp"), os.path.join(out, "stalls.csv"))
for r in rows:
    print("%-12s %4s ms  stall every %5s ms  %-9s %7.1f Mbit/s  %2d episodes  cwnd %s/%s/%s   authors: %s" % (
        r["run"], r["rtt_ms"], r["stall_every_ms"], r["policy"], r["goodput_mbps"], r["episodes_from_10s"],
        r["cwnd_p10"], r["cwnd_p50"], r["cwnd_p90"], r["authors"]))
d, n = rows[-2]["goodput_mbps"], rows[-1]["goodput_mbps"]
print("vm-tap-stalls: 120 ms, NODROP / mainline = %.2f (authors' files 2.59, published 2.02)" % (n / d if d else float("nan")))
EOF
echo "vm-tap-stalls: $OUT/stalls.csv"
