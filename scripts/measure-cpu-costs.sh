#!/usr/bin/env bash
# Measure the multi-core host's CPU costs (host.tcp_sendmsg_ns,
# host.tcp_output_ns, tun.xmit_cost_ns; docs/multistream.md, "Measured CPU
# costs") on this machine's kernel: bulk TCP through a real tun device (the
# TCP twin, `tunsim kernel`) drained as fast as its reader can, sampled by
# `perf record -a -g -e cpu-clock`; scripts/cpu_costs.py charges each sample
# to a cost by the kernel functions on its stack. Root; nothing else should
# load the CPUs (the script warns when the load average says otherwise).
#
#   OUT=results/cpu-costs/this-host REPEAT=2 DURATION=3 FLOWS=2 scripts/measure-cpu-costs.sh
#
# Writes OUT/costs.json (each run's figures, their mean, and where and when
# they were measured) and prints the --set arguments that apply them.
set -euo pipefail
cd "$(dirname "$0")/.."
T=${TUNSIM:-build/tunsim}
OUT=${OUT:-results/cpu-costs/$(hostname)}
REPEAT=${REPEAT:-2}
DURATION=${DURATION:-3}
FLOWS=${FLOWS:-2}
FREQ=${FREQ:-4999}

die() { echo "measure-cpu-costs: $*" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || die "needs root (tunsim kernel makes namespaces and tun devices)"
[ -x "$T" ] || die "no $T: build first (scripts/setup.sh)"
for v in REPEAT FLOWS FREQ; do
  case "${!v}" in ''|*[!0-9]*) die "$v must be a whole number, got '${!v}'";; esac
done
case "$DURATION" in ''|*[!0-9.]*|*.*.*) die "DURATION must be a number of seconds, got '$DURATION'";; esac
[ "$REPEAT" -ge 1 ] && [ "$REPEAT" -le 100 ] || die "REPEAT must be 1..100"
[ "$FLOWS" -ge 1 ] && [ "$FLOWS" -le 16 ] || die "FLOWS must be 1..16"
[ "$FREQ" -ge 100 ] && [ "$FREQ" -le 20000 ] || die "FREQ must be 100..20000 (Hz)"
if ! command -v perf >/dev/null || ! perf version >/dev/null 2>&1; then
  echo "measure-cpu-costs: installing Debian's linux-perf"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-perf >/dev/null; } ||
    die "perf is missing and linux-perf could not be installed"
fi
load=$(cut -d' ' -f1 /proc/loadavg)
if python3 -c "import sys; sys.exit(0 if float('$load') > 0.5 else 1)"; then
  echo "measure-cpu-costs: warning: load average $load; other work on the CPUs inflates the costs" >&2
fi

mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
flows=$(python3 -c "import json; print(json.dumps([{'kind': 'tcp', 'cc': 'cubic'}] * $FLOWS))")
cat > "$WORK/scenario.json" <<EOF
{
  "name": "cpu-costs",
  "description": "measure-cpu-costs.sh: $FLOWS bulk TCP flows through tun0, drained as fast as the reader can",
  "duration_s": $DURATION,
  "seed": 1,
  "tun": { "ring_size": 500, "policy": "drop" },
  "qdisc": { "kind": "pfifo_fast" },
  "reader": { "per_packet_ns": 0, "ns_per_byte": 0, "batch": 1, "encap": "none" },
  "underlay": { "rate_mbps": 40000, "delay_ms": 0.05 },
  "flows": $flows
}
EOF
cp "$WORK/scenario.json" "$OUT/scenario.json"

net_tx() { awk '/NET_TX/ { s = 0; for (i = 2; i <= NF; i++) s += $i; print s }' /proc/softirqs; }
runs=()
for i in $(seq 1 "$REPEAT"); do
  a=$(net_tx)
  perf record -q -a -g -F "$FREQ" -e cpu-clock -o "$WORK/perf.data" -- \
    "$T" kernel "$WORK/scenario.json" --out "$WORK/k$i" --timeseries 0 -q >/dev/null 2>"$WORK/perf.err" ||
    { cat "$WORK/perf.err" >&2; die "run $i failed"; }
  b=$(net_tx)
  perf script -i "$WORK/perf.data" -F comm,tid,cpu,period,ip,sym > "$WORK/perf$i.txt" 2>/dev/null
  python3 scripts/cpu_costs.py "$WORK/perf$i.txt" "$WORK/k$i/result.json" $((b - a)) > "$WORK/run$i.json"
  runs+=("$WORK/run$i.json")
  echo "measure-cpu-costs: run $i of $REPEAT done"
done

python3 - "$OUT/costs.json" "$FREQ" "$T" "${runs[@]}" <<'PY'
import datetime, json, os, platform, subprocess, sys
dst, freq, tunsim, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
runs = [json.load(open(p)) for p in paths]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mean = {}
for key in runs[0]["costs"]:
    vals = [r["costs"][key]["ns"] for r in runs if r["costs"][key]["ns"] is not None]
    mean[key] = round(sum(vals) / len(vals), 1) if vals else None  # None: not seen in any run
out = {
    "what": "CPU costs of the Linux TCP transmit path through tun, by perf sampling (scripts/measure-cpu-costs.sh)",
    "measured_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
    "kernel": platform.release(), "cpu_model": cpu, "cpus": os.cpu_count(),
    "tunsim": subprocess.run([tunsim, "--version"], capture_output=True, text=True).stdout.strip(),
    "perf_frequency_hz": freq,
    "mean_ns": mean,
    "runs": runs,
}
tmp = dst + ".tmp"
with open(tmp, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
os.replace(tmp, dst)
print("measured %s on %s (%s):" % (out["measured_utc"], out["kernel"], cpu))
for k, v in mean.items():
    per = [r["costs"][k]["ns"] for r in runs]
    print("  %-30s %8s ns   runs: %s" % (k, v, ", ".join(str(x) for x in per)))
sets = ["--set %s=%g" % (k, mean[k]) for k in ("host.tcp_sendmsg_ns", "host.tcp_output_ns", "tun.xmit_cost_ns")]
print("apply with: " + " ".join(sets))
PY
echo "measure-cpu-costs: wrote $OUT/costs.json"
