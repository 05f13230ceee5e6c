#!/usr/bin/env bash
# Validate tunsim's TCP path against the TCP twin of the running kernel
# (docs/kernel.md, "The TCP twin").
#
#   bash scripts/validate-kernel-tcp.sh [--quick] [--sim-only|--kernel-only] [--cc cubic|bbr|newreno] [--ack-per-pass 0|1] [--repeat N] [--duration S]
#        [--rings "R..."] [--delays "MS..."] [--costs "NS_PER_BYTE..."] [--out DIR] [--tunsim BIN] [--sim-seeds N]
#
# One bulk TCP flow (--cc, default cubic; this host's default is
# net.ipv4.tcp_congestion_control, bbr on the project's VM) through tun0 (pfifo_fast, mainline drop) and a reader
# of reader.per_packet_ns 0 and reader.ns_per_byte 40 (200 Mbit/s of
# 1500-byte packets) or 80 (100 Mbit/s), a delay line of underlay.delay_ms
# 30 or 60 each way (RTT 60 or 120 ms) at underlay.rate_mbps 1000, for rings
# (txqueuelen) of 1, 10, 25, 100, 500, 1000 and 5000. Each point runs
#   tunsim kernel  (--repeat N, default 2, --timeseries 100: TCP_INFO)
#   tunsim run     (the same scenario, seed 1, --timeseries 100; with
#                  --sim-seeds N also seeds 2..N, into DIR/sim*/POINT-seedS:
#                  the sim columns of validation.csv are then the mean over
#                  the seeds, beside their sd -- some points are bimodal,
#                  e.g. whether a second loss follows slow start's -- and
#                  the other sim columns are seed 1's) twice:
#                  sim/     the twin's own costs at that point: reader.read_ns
#                           = its mean read() (kernel.reader.read_ns_mean),
#                           reader.write_ns = its mean write() of an ACK into
#                           tun0, which includes the sender's transmits inside
#                           it (kernel.reader.write_ns_mean; write_xmit_ns 0);
#                  sim-cal/ the host calibration's (kernel.calibration,
#                           measured before the point's traffic; no per-point
#                           input): read_ns = its read(), write_ns = its
#                           write() of a 52-byte packet into tun delivered to
#                           a local socket, write_xmit_ns = its send() of one
#                           packet through the stack into tun. Kernel results
#                           from before 2026-11-30 08:50 UTC have no write
#                           calibration: write_ns and write_xmit_ns 0 there.
#                  Both keep the scenario's reader.per_packet_ns 0: the
#                  twin's busy-wait of ns_per_byte x len starts before its
#                  read() and covers it (read_ns is only a floor). Wake-ups
#                  and writes in sim/ are each endpoint's own at the point
#                  (since 2026-11-30 15:15 UTC the reader's too): the
#                  reader's reader.wakeup_quantiles_us = kernel.reader.
#                  wake_late_quantiles_us, the far end's underlay.
#                  peer_wakeup_quantiles_us = kernel.far_end.
#                  wake_late_quantiles_us (how late poll() returned,
#                  without the time spent writing earlier packets; before
#                  10:45 UTC only late_quantiles_us, which includes it),
#                  its underlay.peer_write_ns = kernel.far_end.write_ns_mean
#                  and peer_write_quantiles_us = its time per packet
#                  written (write_service_quantiles_us). The twin leaves
#                  out of those lists what took over 1 ms (its stalls,
#                  since 12:05 UTC). The reader's are put back into its
#                  wake-up list at their measured rate per wake-up
#                  (stalls.in_wakeups / wakeups), lengths 1 ms + an
#                  exponential of the measured mean excess, capped at the
#                  measured max; the far end's become preemptions at the
#                  run's mean rate in wall time (underlay.
#                  peer_preempt_interval_ms = the run's seconds / stalls.
#                  count, peer_preempt_ms = their mean length). (Before
#                  15:15 UTC the reader woke as the calibration's timer:
#                  ring 25, 60 ms RTT, 14:00 kernel 13.35 Mbit/s: 57.1
#                  then, 14.05 now.)
#                  sim-cal/: the calibration's timer wake-ups for both
#                  endpoints and its reader_write_ns for the far end's
#                  write (a 52-byte packet into tun, delivered to a
#                  socket: the same receive path, shorter). The scenarios
#                  are DIR/sim/<point>.json and DIR/sim-cal/<point>.json.
#                  Both set underlay.peer_ack_per_pass (--ack-per-pass 1,
#                  the default; 0 leaves it off): the twin's receivers and
#                  far end share CPU 0 at one real-time priority, so a
#                  receiver reads after the far end's write pass and its
#                  TCP acknowledges the pass once.
# for --duration seconds (default 20). --sim-only re-runs only the simulator
# on the kernel results already in DIR (no root needed); --kernel-only runs
# only the kernel twin (the simulator later, with --sim-only: the kernel
# points then follow one another with nothing else loading the CPU); --quick runs rings
# 25 and 500 at 120 ms and 200 Mbit/s, 5 s, one repeat. --rings, --delays
# (one way, ms) and --costs (reader.ns_per_byte) replace the grid's lists.
#
# Writes DIR/validation.csv (one row per point: ring, rtt, capacity, kernel
# goodput mean and sd over the repeats, sim goodput, diff %, retransmits,
# recoveries and timeouts (the kernel's from the client namespace's MIB),
# compressed ACKs (the kernel's from the server's: TCPAckCompressed),
# tx_dropped), the results under DIR/kernel/<point>/ and DIR/sim/<point>/
# (each with its timeseries.csv), and the plots
# DIR/kernel_validation_tcp.{png,pdf} (goodput against ring size) and
# DIR/kernel_validation_tcp_series.{png,pdf} (cwnd and srtt over time, kernel
# and sim, rings 25 and 500 at 120 ms and 200 Mbit/s). Needs root
# (CAP_NET_ADMIN) except with --sim-only.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=results/kernel-validation-tcp
REPEAT=2
DURATION=20
QUICK=0
CC=cubic
SIM_ONLY=0
KERNEL_ONLY=0
ACK_PER_PASS=1
SIM_SEEDS=1
BIN=${TUNSIM:-build/tunsim}
RINGS_ARG= DELAYS_ARG= COSTS_ARG=
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --sim-only) SIM_ONLY=1 ;;
    --kernel-only) KERNEL_ONLY=1 ;;
    --ack-per-pass) ACK_PER_PASS=$2; shift ;;
    --cc) CC=$2; shift ;;
    --repeat) REPEAT=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --out) OUT=$2; shift ;;
    --tunsim) BIN=$2; shift ;;
    --rings) RINGS_ARG=$2; shift ;;
    --delays) DELAYS_ARG=$2; shift ;;
    --costs) COSTS_ARG=$2; shift ;;
    --sim-seeds) SIM_SEEDS=$2; shift ;;
    -h|--help) awk 'NR > 1 && /^set -euo/ {exit} NR > 1' "$0"; exit 0 ;;
    *) echo "validate-kernel-tcp: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
case "$SIM_SEEDS" in
  [1-9]|1[0-9]|20) ;;
  *) echo "validate-kernel-tcp: --sim-seeds must be an integer 1-20, not '$SIM_SEEDS'" >&2; exit 2 ;;
esac
if [ ! -x "$BIN" ]; then
  echo "validate-kernel-tcp: $BIN not built (run scripts/setup.sh or make)" >&2
  exit 2
fi
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

if [ "$QUICK" = 1 ]; then
  RINGS="25 500"; DELAYS="60"; COSTS="40"; DURATION=5; REPEAT=1
else
  RINGS="1 10 25 100 500 1000 5000"; DELAYS="30 60"; COSTS="40 80"
fi
RINGS=${RINGS_ARG:-$RINGS}; DELAYS=${DELAYS_ARG:-$DELAYS}; COSTS=${COSTS_ARG:-$COSTS}
case "$ACK_PER_PASS" in
  0|1) ;;
  *) echo "validate-kernel-tcp: --ack-per-pass takes 0 or 1, got \"$ACK_PER_PASS\"" >&2; exit 2 ;;
esac
for v in $RINGS $DELAYS $COSTS; do
  case "$v" in
    ''|*[!0-9.]*) echo "validate-kernel-tcp: --rings/--delays/--costs take numbers, got \"$v\"" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT/kernel" "$OUT/sim" "$OUT/sim-cal"

# The base scenario: one bulk Cubic flow, the reader's cost per byte only,
# no VPN header (the twin's packets are the inner ones), a fast underlay.
BASE="$OUT/base.json"
cat > "$BASE" <<EOF
{
  "name": "kernel-validation-tcp",
  "description": "validate-kernel-tcp.sh grid point (overridden with --set)",
  "duration_s": $DURATION,
  "seed": 1,
  "tun": { "ring_size": 25, "policy": "drop" },
  "qdisc": { "kind": "pfifo_fast" },
  "reader": { "per_packet_ns": 0, "ns_per_byte": 40, "batch": 1, "encap": "none" },
  "underlay": { "rate_mbps": 1000, "delay_ms": 60 },
  "flows": [ { "kind": "tcp", "cc": "$CC" } ]
}
EOF

npoints=0
for c in $COSTS; do for d in $DELAYS; do for k in $RINGS; do npoints=$((npoints + 1)); done; done; done
i=0
for c in $COSTS; do
  for d in $DELAYS; do
    for k in $RINGS; do
      i=$((i + 1))
      p="ring${k}-delay${d}-nspb${c}"
      sets=(--set tun.ring_size="$k" --set underlay.delay_ms="$d" --set reader.ns_per_byte="$c")
      printf 'validate-kernel-tcp: [%d/%d] %s\n' "$i" "$npoints" "$p"
      if [ "$SIM_ONLY" = 1 ]; then
        [ -f "$OUT/kernel/$p/result.json" ] || {
          echo "validate-kernel-tcp: --sim-only: no $OUT/kernel/$p/result.json" >&2; exit 2; }
      else
        "$BIN" kernel "$BASE" "${sets[@]}" --repeat "$REPEAT" --timeseries 100 --out "$OUT/kernel/$p" -q || {
          rc=$?; echo "validate-kernel-tcp: tunsim kernel failed at $p (exit $rc)" >&2; [ $rc -eq 3 ] || exit $rc; }
      fi
      [ "$KERNEL_ONLY" = 1 ] && continue
      # A simulator that fails at one point (exit code, crash) leaves that
      # point's sim columns empty; the grid goes on.
      # The two simulator scenarios of the point: base + the point's fields +
      # the costs (sim/: the twin's own at this point; sim-cal/: the
      # calibration's), written as files (the wake-up lists are 1000 values).
      $PY - "$OUT/kernel/$p/result.json" "$BASE" "$k" "$d" "$c" "$OUT/sim/$p.json" "$OUT/sim-cal/$p.json" "$ACK_PER_PASS" <<'PYEOF'
import json, math, sys
kr, base, ring, delay, nspb, own_file, cal_file, ack_per_pass = sys.argv[1:9]
k = json.load(open(kr))["kernel"]
c = k["calibration"]
def mean(key):
    v = (c.get(key) or {}).get("mean_ns")
    return round(v) if v is not None else 0
timer = c.get("timer_wakeup_quantiles_us") or []       # absent before 2026-11-30 08:50 UTC
far_end = k["far_end"]
far = far_end.get("wake_late_quantiles_us") or far_end.get("late_quantiles_us") or []
far_w = far_end.get("write_ns_mean")
far_service = far_end.get("write_service_quantiles_us") or []   # since 2026-11-30 11:40 UTC
def with_stalls(q, events, hits, stalls):
    """An endpoint's time per event (wake-up or write) as equally likely
    values: its quantile list, which leaves out what took over the stall
    threshold (1 ms), with those stalls put back at their measured rate per
    event (stalls.in_wakeups / wakeups, in_writes / writes), lengths the
    threshold + an exponential of the measured mean excess, capped at the
    measured max (stalls: count, mean_ms, max_ms; since 2026-11-30 12:05)."""
    n = len(q)
    kk = round(n * hits / events) if n and events and hits else 0
    if kk <= 0 or not stalls.get("mean_ms"):
        return list(q)
    thr = (stalls.get("threshold_us") or 1000) / 1e3
    excess = max(stalls["mean_ms"] - thr, 1e-3)
    top = stalls.get("max_ms") or thr + 10 * excess
    body = [q[min(n - 1, int(i * n / (n - kk)))] for i in range(n - kk)]
    return body + [round(1e3 * min(top, thr - excess * math.log(1 - (j + 0.5) / kk)), 2) for j in range(kk)]
stalls = far_end.get("stalls") or {}                              # since 2026-11-30 12:05 UTC
run_s = json.load(open(kr))["scenario"]["duration_s"] * k["goodput_mbps_over_repeats"][0]["n"]
preempt = {}
if stalls.get("count"):
    # the far end's stalls: preemptions at the run's mean rate in wall time
    # (put back per event instead, as the reader's are, rings 25 and 500 at
    # 120 ms RTT came out 29 % and 24 % low on the 14:00 grid)
    preempt = {"peer_preempt_interval_ms": run_s * 1e3 / stalls["count"], "peer_preempt_ms": stalls["mean_ms"]}
rd = k["reader"]
rd_stalls = rd.get("stalls") or {}
reader_wake = with_stalls(rd.get("wake_late_quantiles_us") or [], rd.get("wakeups"), rd_stalls.get("in_wakeups"),
                          rd_stalls)
w = k["reader"].get("write_ns_mean")
cw = mean("reader_write_ns")
def scenario(read_ns, write_ns, xmit_ns, peer_q, peer_write_ns, peer_write_q=(), reader_q=(), peer_preempt=None):
    s = json.load(open(base))
    s["seed"] = 1
    s["tun"]["ring_size"] = int(ring)
    s["underlay"]["delay_ms"] = float(delay)
    s["reader"]["ns_per_byte"] = float(nspb)
    s["reader"].update({"read_ns": read_ns, "write_ns": write_ns, "write_xmit_ns": xmit_ns})
    if reader_q or timer:
        s["reader"]["wakeup_quantiles_us"] = list(reader_q) or timer
        s["reader"].pop("wakeup_latency_us", None)
    if peer_q:
        s["underlay"]["peer_wakeup_quantiles_us"] = peer_q
    s["underlay"]["peer_write_ns"] = peer_write_ns
    if peer_write_q:
        s["underlay"]["peer_write_quantiles_us"] = list(peer_write_q)
    s["underlay"].update(peer_preempt or {})
    s["underlay"]["peer_ack_per_pass"] = ack_per_pass == "1"
    return s
json.dump(scenario(round(k["reader"]["read_ns_mean"]), round(w) if w is not None else 0, 0, far,
                   round(far_w) if far_w is not None else 0, far_service, reader_wake, preempt), open(own_file, "w"))
json.dump(scenario(mean("reader_read_ns"), cw, mean("sender_send_ns") if cw else 0, timer, cw), open(cal_file, "w"))
PYEOF
      for dir in sim sim-cal; do
        rm -f "$OUT/$dir/$p/result.json"
        rm -rf "$OUT/$dir/$p"-seed*
        "$BIN" run "$OUT/$dir/$p.json" --timeseries 100 --out "$OUT/$dir/$p" -q || {
          rc=$?; echo "validate-kernel-tcp: tunsim run failed at $p ($dir, exit $rc); its columns stay empty" >&2; }
        for seed in $(seq 2 "$SIM_SEEDS"); do
          "$BIN" run "$OUT/$dir/$p.json" --set seed="$seed" --out "$OUT/$dir/$p-seed$seed" -q ||
            echo "validate-kernel-tcp: tunsim run failed at $p ($dir, seed $seed); left out of the mean" >&2
        done
      done
    done
  done
done
if [ "$KERNEL_ONLY" = 1 ]; then
  echo "validate-kernel-tcp: kernel results in $OUT/kernel; the simulator: $0 --sim-only --out $OUT (same lists)"
  exit 0
fi

$PY - "$OUT" "$RINGS" "$DELAYS" "$COSTS" <<'EOF'
import csv, glob, json, math, os, sys
out, rings, delays, costs = sys.argv[1], sys.argv[2].split(), sys.argv[3].split(), sys.argv[4].split()
rows = []
def over_seeds(d, p):
    """Goodputs of seed 1 (d/p) and of any further seeds (d/p-seedS): mean, sd, n."""
    files = [os.path.join(d, p, "result.json")] + sorted(glob.glob(os.path.join(d, p + "-seed*", "result.json")))
    g = [json.load(open(f))["flows"][0]["goodput_mbps"] for f in files if os.path.exists(f)]
    if not g:
        return None, "", 0
    m = sum(g) / len(g)
    return m, (math.sqrt(sum((x - m) ** 2 for x in g) / (len(g) - 1)) if len(g) > 1 else ""), len(g)
for c in costs:
    for d in delays:
        for k in rings:
            p = "ring%s-delay%s-nspb%s" % (k, d, c)
            kr = json.load(open(os.path.join(out, "kernel", p, "result.json")))
            sim_file = os.path.join(out, "sim", p, "result.json")
            sr = json.load(open(sim_file)) if os.path.exists(sim_file) else None  # None: tunsim run failed
            cal_file = os.path.join(out, "sim-cal", p, "result.json")
            cr = json.load(open(cal_file)) if os.path.exists(cal_file) else None
            cal, cal_sd, _ = over_seeds(os.path.join(out, "sim-cal"), p) if cr else (None, "", 0)
            sim_mean, sim_sd, seeds = over_seeds(os.path.join(out, "sim"), p) if sr else (None, "", 0)
            g = kr["kernel"]["goodput_mbps_over_repeats"][0]
            kf = kr["flows"][0]
            sf = sr["flows"][0] if sr else {}
            n = g["n"]
            capacity = 8000.0 / float(c)  # Mbit/s of 1500-byte packets at ns_per_byte c
            sim = sim_mean
            noisy = any("not quiet" in w for w in kr["kernel"]["warnings"])
            rows.append({
                "ring": int(k), "rtt_ms": 2 * float(d), "capacity_mbps": capacity,
                "payload_capacity_mbps": round(capacity * 1448 / 1500, 3),
                "kernel_goodput_mbps_mean": round(g["mean"], 3), "kernel_goodput_mbps_sd": round(g["stddev"], 3),
                "kernel_goodput_mbps_min": round(g["min"], 3), "kernel_goodput_mbps_max": round(g["max"], 3),
                "repeats": n, "sim_goodput_mbps": round(sim, 3) if sr else "",
                "sim_seeds": seeds, "sim_goodput_mbps_sd": round(sim_sd, 3) if sim_sd != "" else "",
                "sim_cal_goodput_mbps_sd": round(cal_sd, 3) if cal_sd != "" else "",
                "diff_pct": round(100.0 * (sim - g["mean"]) / g["mean"], 2) if sr and g["mean"] > 0 else "",
                "sim_cal_goodput_mbps": round(cal, 3) if cr else "",
                "cal_diff_pct": round(100.0 * (cal - g["mean"]) / g["mean"], 2) if cr and g["mean"] > 0 else "",
                "reader_read_ns_point": sr["scenario"]["reader"]["read_ns"] if sr else "",
                "reader_read_ns_cal": cr["scenario"]["reader"]["read_ns"] if cr else "",
                "reader_write_ns_point": sr["scenario"]["reader"]["write_ns"] if sr else "",
                "reader_write_ns_cal": cr["scenario"]["reader"]["write_ns"] if cr else "",
                "reader_write_xmit_ns_cal": cr["scenario"]["reader"]["write_xmit_ns"] if cr else "",
                "sim_peer_wakeups": bool(sr and sr["scenario"]["underlay"].get("peer_wakeup_quantiles_us")),
                "kernel_ack_stride_over_8": kf["kernel"].get("ack_stride_segments", {}).get("over_8", ""),
                "kernel_far_end_late_p999_us": kr["kernel"]["far_end"].get("late_tail_us", {}).get("p999", ""),
                "kernel_reader_late_p999_us": kr["kernel"]["reader"].get("late_tail_us", {}).get("p999", ""),
                "kernel_retransmits": round(kf["retransmits"] / n, 1), "sim_retransmits": sf.get("retransmits", ""),
                # congestion events (flows[].ca_events; kernel: the client MIB, per repeat)
                "kernel_recoveries": round(kf["ca_events"]["recoveries"] / n, 1) if kf.get("ca_events") else "",
                "sim_recoveries": sf.get("ca_events", {}).get("recoveries", ""),
                "kernel_timeouts": round(kf["ca_events"]["timeouts"] / n, 1) if kf.get("ca_events") else "",
                "sim_timeouts": sf.get("ca_events", {}).get("timeouts", ""),
                # SACK compression: ACKs the receiver held back (kernel: the server MIB)
                "kernel_acks_compressed": round(sum(r.get("tcp_mib_server", {}).get("TcpExt.TCPAckCompressed", 0)
                                                   for r in kr["kernel"]["repeats"]) / n, 1),
                "sim_acks_compressed": (sf.get("ca_events") or {}).get("acks_compressed", ""),
                "kernel_tx_dropped": round(kr["tun"]["tx_dropped"] / n, 1),
                "sim_tx_dropped": sr["tun"]["tx_dropped"] if sr else "",
                "kernel_qdisc_requeues": kr["qdisc"]["requeues"],
                "kernel_cwnd_end_segments": kf["kernel"]["tcp_info_end"]["snd_cwnd"],
                "kernel_rwnd_limited_us": kf["kernel"]["tcp_info_end"]["rwnd_limited_us"],
                "kernel_reader_busy": round(kr["reader"]["busy_fraction"], 4),
                "sim_reader_busy": round(sr["reader"]["busy_fraction"], 4) if sr else "",
                "kernel_cross_check_ok": kr["kernel"]["cross_check"]["ok"],
                "kernel_reader_starved": noisy,
            })
with open(os.path.join(out, "validation.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
    w.writeheader()
    w.writerows(rows)
print("%6s %6s %9s %20s %9s %8s %9s %8s %13s %13s %s" % ("ring", "rtt", "capacity", "kernel Mbit/s", "sim", "diff %",
                                                "sim-cal", "diff %", "retrans k/s", "tx_drop k/s", ""))
for r in rows:
    flag = "" if r["kernel_cross_check_ok"] else "CROSS-CHECK FAILED"
    flag += " [reader starved: machine not quiet]" if r["kernel_reader_starved"] else ""
    flag += " [tunsim run failed]" if r["sim_goodput_mbps"] == "" else ""
    print("%6d %4.0fms %7.0f M %10.2f +- %6.2f %9s %8s %9s %8s %6.0f/%-6s %6.0f/%-6s %s" % (
        r["ring"], r["rtt_ms"], r["capacity_mbps"], r["kernel_goodput_mbps_mean"], r["kernel_goodput_mbps_sd"],
        r["sim_goodput_mbps"], r["diff_pct"], r["sim_cal_goodput_mbps"], r["cal_diff_pct"],
        r["kernel_retransmits"], r["sim_retransmits"],
        r["kernel_tx_dropped"], r["sim_tx_dropped"], flag))
# The issue's target: ring >= 10 where the kernel's own spread is under 10 %:
# within +-15 %; and the ring-1 collapse (ring 1 under 10 % of ring 5000).
def eligible(r):
    m = r["kernel_goodput_mbps_mean"]
    return r["ring"] >= 10 and m > 0 and r["kernel_goodput_mbps_sd"] / m < 0.10
elig = [r for r in rows if eligible(r)]
print("validate-kernel-tcp: sim columns: the mean over %s seed(s) per point" % max(r["sim_seeds"] for r in rows))
for col, name in (("diff_pct", "per-point reader cost"), ("cal_diff_pct", "calibration only")):
    ok = [r for r in elig if r[col] != "" and abs(r[col]) <= 15]
    print("validate-kernel-tcp: %s: %d/%d eligible points (ring >= 10, kernel sd < 10 %%) within 15 %%; "
          "mean |diff| %.1f %%" % (name, len(ok), len(elig),
                                   sum(abs(r[col]) for r in elig if r[col] != "") / max(1, len(elig))))
for d in sorted({r["rtt_ms"] for r in rows}):
    for c in sorted({r["capacity_mbps"] for r in rows}):
        sel = {r["ring"]: r for r in rows if r["rtt_ms"] == d and r["capacity_mbps"] == c}
        if 1 in sel and max(sel) >= 1000:
            big = sel[max(sel)]
            k1 = sel[1]["kernel_goodput_mbps_mean"] / max(big["kernel_goodput_mbps_mean"], 1e-9)
            s1 = (sel[1]["sim_goodput_mbps"] or 0) / max(big["sim_goodput_mbps"] or 1e-9, 1e-9)
            print("validate-kernel-tcp: ring-1 collapse at %.0f ms, %.0f Mbit/s: kernel %.1f %%, sim %.1f %% of ring %d" % (
                d, c, 100 * k1, 100 * s1, max(sel)))
print("validate-kernel-tcp: kernel cross-checks ok: %d/%d" % (sum(r["kernel_cross_check_ok"] for r in rows), len(rows)))
EOF
$PY plot/kernel_validation_tcp.py "$OUT/validation.csv" --out "$OUT" ||
  echo "validate-kernel-tcp: plot skipped (matplotlib missing?)" >&2
echo "validate-kernel-tcp: $OUT/validation.csv"
