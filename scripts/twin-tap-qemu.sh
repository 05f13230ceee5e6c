#!/usr/bin/env bash
# Live TAP + QEMU twin (issue 15): bulk TCP from the host into a QEMU guest
# through a real tap device, on a ring grid, with the simulator beside it.
#
#   bash scripts/twin-tap-qemu.sh [--nic e1000|virtio-net-pci] [--accel auto|kvm|tcg]
#                                 [--rings "1000 100 10 1"] [--rtts "0 120"]
#                                 [--secs-local 10] [--secs-rtt 30] [--no-sim] [--out DIR]
#                                 [--netns-cc cubic|default] [--no-stall-trace]
#                                 [--probe-under-load "50 200 400"]
#
# What runs (as root, in a private network namespace "tunsim-tw<pid>"):
#   * tap0 in that namespace, txqueuelen = ring, pfifo_fast; mainline tun
#     (this kernel's tun_net_xmit drops when the ring is full);
#   * qemu-system-x86_64 -netdev tap,ifname=tap0,vhost=off -device NIC,
#     1 vCPU, 1024 MB (the authors' -m 1024), booting Debian's kernel
#     (linux-image-amd64, downloaded with apt-get download) with a small
#     initramfs: busybox-static, iperf3 -s, iproute2's tc; the guest's
#     egress gets `netem delay RTT` (this host's kernel has no sch_netem;
#     the Debian guest kernel has it), so the RTT is emulated on the ACK
#     path;
#   * iperf3 -c (Cubic, `-C cubic`) from the namespace to the guest. The
#     namespace's net.ipv4.tcp_congestion_control is set to cubic too
#     (--netns-cc default keeps the host's): on a host whose default is bbr,
#     iperf3's socket otherwise starts as BBR, bbr_init() sets
#     sk_pacing_status = SK_PACING_NEEDED, and the switch to Cubic keeps it:
#     a Cubic flow paced by tcp_pace_kick() (traced here 2026-12-01, docs/
#     twin-tap-qemu.md), unlike the unpaced Cubic the model and the paper's
#     hosts send. A namespace other than the host's may only choose a
#     congestion control listed in net.ipv4.tcp_allowed_congestion_control
#     (tcp_set_default_congestion_control(): -EPERM otherwise), so the
#     script adds cubic to that host-wide list for the run and puts the
#     list back on every exit.
# Per point: goodput (iperf3's receiver), retransmits, tap tx_dropped,
# tx_packets / rx_packets (frames into the guest, frames from it: ACKs),
# QEMU's threads' CPU seconds (main loop, vCPU), iperf3's mean RTT.
#
# The simulator (`--no-sim` to skip): scenarios/vm-tap-qemu.json at the
# same ring, RTT (underlay.delay_ms = RTT/2) and duration, with costs
# measured by this script at its first point (the calibration point: the
# first ring, first RTT): vm.frame_ns = vm.tx_frame_ns = main-loop CPU /
# frames both ways, vm.guest_frame_ns = vCPU CPU / frames into the guest.
# Runs with the guest's GRO on and off (tunsim::GuestRxQueue::Gro), and
# two more with GRO and what this script measures of the host at the
# calibration point after the grid (twin_tap_qemu_sim.py's header: `rtt`,
# `cal`). QEMU's main-loop stalls: the calibration point runs once more under
# scripts/tap-ring-trace.sh (tracefs; --no-stall-trace skips it), and
# tap_ring_occupancy.py --stalls-json writes DIR/stalls.json: the gaps of
# more than 1 ms between two frame reads while frames waited, with the
# time QEMU's main thread spent preempted or waiting on a futex (the BQL)
# rather than asleep in ppoll() (the guest's receive ring full, which the
# model has itself). Their rate and mean length become the simulator's
# reader.preempt_interval_ms and reader.preempt_ms (docs/twin-tap-qemu.md).
# The grid's own points are not traced: the tracepoints cost QEMU's main
# loop CPU, which the calibration point's costs are measured from. Before
# that run, with the guest idle, scripts/vm_rtt_probe.py measures the VM's
# round trip (SYN -> RST to a closed port: DIR/vm-rtt.json); what of it the
# per-frame costs do not explain becomes vm.guest_irq_us in the `rtt` and
# `cal` runs (twin_tap_qemu_sim.py --vm-rtt); if the probe fails, those
# runs go without it. --probe-under-load "R1 R2 ...": then the same probe
# again while iperf3 sends at each rate (Mbit/s, paced: iperf3 -b) into the
# guest (DIR/vm-rtt-load-R.json and iperf-load-R.json): does the round
# trip stay when the guest's NAPI is busy (a latency per packet) or go
# (one per interrupt into an idle NAPI, as vm.guest_irq_us models it)?
#
# KVM: `auto` tries a KVM boot first (20 s) and falls back to TCG, saying
# why. Under TCG the guest and QEMU's device emulation run an
# instruction-by-instruction translator: the tap ring, the qdisc, the
# host's TCP and QEMU's main loop are real, the consumer's speed is the
# emulator's (docs/kernel.md, "TAP + QEMU twin").
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

NIC=e1000 ACCEL=auto RINGS="1000 100 10 1" RTTS="0 120" SL=10 SR=30 SIM=1 NSCC=cubic STRACE=1 LOADS=""
OUT=results/twin-tap-qemu/$(date -u +%Y%m%d-%H%M)
while [ $# -gt 0 ]; do
  case $1 in
    --nic) NIC=$2; shift 2;; --accel) ACCEL=$2; shift 2;;
    --rings) RINGS=$2; shift 2;; --rtts) RTTS=$2; shift 2;;
    --secs-local) SL=$2; shift 2;; --secs-rtt) SR=$2; shift 2;;
    --no-sim) SIM=0; shift;; --out) OUT=$2; shift 2;;
    --netns-cc) NSCC=$2; shift 2;;
    --no-stall-trace) STRACE=0; shift;;
    --probe-under-load) LOADS=$2; shift 2;;
    *) echo "twin-tap-qemu: unknown option $1 (see the header of $0)" >&2; exit 2;;
  esac
done
case $NIC in e1000|virtio-net-pci) ;; *) echo "twin-tap-qemu: --nic must be e1000 or virtio-net-pci" >&2; exit 2;; esac
case $ACCEL in auto|kvm|tcg) ;; *) echo "twin-tap-qemu: --accel must be auto, kvm or tcg" >&2; exit 2;; esac
case $NSCC in cubic|default) ;; *) echo "twin-tap-qemu: --netns-cc must be cubic or default" >&2; exit 2;; esac
for r in $RINGS; do [[ $r =~ ^[0-9]+$ ]] && [ "$r" -ge 1 ] && [ "$r" -le 100000 ] || { echo "twin-tap-qemu: --rings: integers in [1, 100000]" >&2; exit 2; }; done
for t in $RTTS; do [[ $t =~ ^[0-9]+$ ]] && [ "$t" -le 2000 ] || { echo "twin-tap-qemu: --rtts: integers in [0, 2000] ms" >&2; exit 2; }; done
for l in $LOADS; do [[ $l =~ ^[0-9]+$ ]] && [ "$l" -ge 1 ] && [ "$l" -le 100000 ] || { echo "twin-tap-qemu: --probe-under-load: rates in Mbit/s, integers in [1, 100000]" >&2; exit 2; }; done
for s in $SL $SR; do [[ $s =~ ^[0-9]+$ ]] && [ "$s" -ge 2 ] && [ "$s" -le 3600 ] || { echo "twin-tap-qemu: --secs-*: integers in [2, 3600]" >&2; exit 2; }; done
[ "$(id -u)" -eq 0 ] || { echo "twin-tap-qemu: needs root (tap device, network namespace)" >&2; exit 1; }

# --- the guest image, built once into build/vm-guest -------------------------
bash scripts/vm-guest-image.sh build/vm-guest
IMG=build/vm-guest

NS=tunsim-tw$$
QPID= TPID=
ALLOWED=$(sysctl -n net.ipv4.tcp_allowed_congestion_control)
cleanup() {
  [ -n "$TPID" ] && kill "$TPID" 2>/dev/null && wait "$TPID" 2>/dev/null || true # its own trap restores tracefs
  [ -n "$QPID" ] && kill "$QPID" 2>/dev/null && wait "$QPID" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  [ "$(sysctl -n net.ipv4.tcp_allowed_congestion_control)" = "$ALLOWED" ] ||
    sysctl -qw net.ipv4.tcp_allowed_congestion_control="$ALLOWED" || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM # exit runs the EXIT trap
ip netns add "$NS"
ip -n "$NS" link set lo up
if [ "$NSCC" != default ]; then
  case " $ALLOWED " in *" $NSCC "*) ;; *) sysctl -qw net.ipv4.tcp_allowed_congestion_control="$ALLOWED $NSCC" ;; esac
  ip netns exec "$NS" sysctl -qw net.ipv4.tcp_congestion_control="$NSCC"
fi
ip -n "$NS" tuntap add dev tap0 mode tap
ip -n "$NS" addr add 10.77.0.1/24 dev tap0
ip -n "$NS" link set tap0 up

stat_of() { ip netns exec "$NS" cat /sys/class/net/tap0/statistics/$1; }
threads_cpu() { # "main vcpu" CPU seconds of QEMU's main thread and its busiest other thread
  python3 - "$1" <<'PY'
import os, sys
pid = sys.argv[1]; hz = os.sysconf('SC_CLK_TCK'); cpu = {}
for t in os.listdir(f'/proc/{pid}/task'):
    f = open(f'/proc/{pid}/task/{t}/stat').read().rsplit(')', 1)[1].split()
    cpu[t] = (int(f[11]) + int(f[12])) / hz
main = cpu.pop(pid, 0.0)
print(main, max(cpu.values()) if cpu else 0.0)
PY
}

boot() { # boot ACCEL RTT LOG: start the guest, wait for it (returns 1 if it did not come up)
  local accel=$1 rtt=$2 log=$3 wait_s=$4
  local cpu=(); [ "$accel" = kvm ] && cpu=(-cpu host,-arch-capabilities)
  rm -f "$log"
  ip netns exec "$NS" qemu-system-x86_64 -accel "$accel" "${cpu[@]}" -m 1024 -smp 1 -display none \
    -serial file:"$log" -no-reboot -kernel "$IMG/vmlinuz" -initrd "$IMG/initrd.gz" \
    -append "console=ttyS0 edd=off panic=-1 quiet tunsim_delay_ms=$rtt" \
    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=off -device "$NIC",netdev=n0,romfile= \
    >/dev/null 2>&1 &
  QPID=$!
  for _ in $(seq 1 "$wait_s"); do
    sleep 1
    grep -aq GUEST-READY "$log" 2>/dev/null && { sleep 2; return 0; }
    kill -0 "$QPID" 2>/dev/null || break
  done
  kill "$QPID" 2>/dev/null; wait "$QPID" 2>/dev/null || true; QPID=
  return 1
}

mkdir -p "$OUT"
HOSTINFO="$(date -u +%FT%TZ) $(uname -r) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) nproc=$(nproc)"
if [ "$ACCEL" = auto ]; then
  ACCEL=tcg
  if [ -r /dev/kvm ] && boot kvm 0 "$OUT/kvm-probe.log" 20; then
    ACCEL=kvm; kill "$QPID"; wait "$QPID" 2>/dev/null || true; QPID=
  else
    echo "twin-tap-qemu: no KVM guest came up in 20 s ($( [ -e /dev/kvm ] && echo "/dev/kvm present; modules: $(ls /sys/module | grep -i kvm | xargs)" || echo "no /dev/kvm")): using TCG" | tee "$OUT/accel.txt"
  fi
fi
echo "twin-tap-qemu: $NIC, accel $ACCEL, namespace tcp_congestion_control $(ip netns exec "$NS" sysctl -n net.ipv4.tcp_congestion_control), $HOSTINFO" | tee -a "$OUT/accel.txt"

CSV=$OUT/twin.csv.partial # renamed to twin.csv when the grid is complete
echo "ring,rtt_ms,secs,goodput_mbps,retransmits,tap_tx_dropped,tap_tx_packets,tap_rx_packets,qemu_main_cpu_s,qemu_vcpu_cpu_s,mean_rtt_ms,accel,nic" > "$CSV"
for rtt in $RTTS; do
  for ring in $RINGS; do
    secs=$SL; [ "$rtt" != 0 ] && secs=$SR
    ip netns exec "$NS" ip link set tap0 txqueuelen "$ring"
    ip netns exec "$NS" tc qdisc replace dev tap0 root pfifo_fast
    boot "$ACCEL" "$rtt" "$OUT/guest-$ring-$rtt.log" 120 || { echo "twin-tap-qemu: guest did not boot (ring $ring, rtt $rtt)" >&2; exit 1; }
    d0=$(stat_of tx_dropped); t0=$(stat_of tx_packets); r0=$(stat_of rx_packets); read -r m0 v0 < <(threads_cpu "$QPID")
    ip netns exec "$NS" iperf3 -c 10.77.0.2 -t "$secs" -C cubic -J > "$OUT/iperf-$ring-$rtt.json" ||
      { echo "twin-tap-qemu: iperf3 failed (ring $ring, rtt $rtt): $(grep -o '"error":.*' "$OUT/iperf-$ring-$rtt.json")" >&2; exit 1; }
    d1=$(stat_of tx_dropped); t1=$(stat_of tx_packets); r1=$(stat_of rx_packets); read -r m1 v1 < <(threads_cpu "$QPID")
    kill "$QPID"; wait "$QPID" 2>/dev/null || true; QPID=
    python3 - "$OUT/iperf-$ring-$rtt.json" "$ring,$rtt,$secs" $((d1-d0)) $((t1-t0)) $((r1-r0)) "$m0" "$m1" "$v0" "$v1" "$ACCEL,$NIC" >> "$CSV" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); e = j['end']
rtt = e['streams'][0]['sender'].get('mean_rtt', 0) / 1000
print('%s,%.2f,%d,%s,%s,%s,%.2f,%.2f,%.1f,%s' % (sys.argv[2], e['sum_received']['bits_per_second'] / 1e6,
      e['sum_sent'].get('retransmits', 0), sys.argv[3], sys.argv[4], sys.argv[5],
      float(sys.argv[7]) - float(sys.argv[6]), float(sys.argv[9]) - float(sys.argv[8]), rtt, sys.argv[10]))
PY
    tail -1 "$CSV"
  done
done
mv "$CSV" "$OUT/twin.csv"
CSV=$OUT/twin.csv

# --- the calibration point again: the VM's round trip, QEMU's read stalls -----
# (first ring, first RTT). Before its traffic, with the guest idle,
# vm_rtt_probe.py times 200 SYN -> RST round trips to a closed port of the
# guest (DIR/vm-rtt.json); then the point runs again, traced unless
# --no-stall-trace.
read -r cring _ <<< "$RINGS"; read -r crtt _ <<< "$RTTS"
csecs=$SL; [ "$crtt" != 0 ] && csecs=$SR
ip netns exec "$NS" ip link set tap0 txqueuelen "$cring"
ip netns exec "$NS" tc qdisc replace dev tap0 root pfifo_fast
boot "$ACCEL" "$crtt" "$OUT/guest-calibration.log" 120 || { echo "twin-tap-qemu: guest did not boot (calibration)" >&2; exit 1; }
CAL=()
if ip netns exec "$NS" python3 scripts/vm_rtt_probe.py 10.77.0.2 --json "$OUT/vm-rtt.json"; then
  CAL=(--vm-rtt "$OUT/vm-rtt.json")
else
  echo "twin-tap-qemu: the round-trip probe failed: the simulator runs without vm.guest_irq_us from it" >&2
fi
for l in $LOADS; do
  ip netns exec "$NS" iperf3 -c 10.77.0.2 -t 8 -b "${l}M" -C cubic -J > "$OUT/iperf-load-$l.json" &
  LPID=$!
  sleep 3
  ip netns exec "$NS" python3 scripts/vm_rtt_probe.py 10.77.0.2 --json "$OUT/vm-rtt-load-$l.json" ||
    echo "twin-tap-qemu: the round-trip probe failed under $l Mbit/s" >&2
  wait "$LPID" || echo "twin-tap-qemu: iperf3 at $l Mbit/s failed" >&2
done
if [ "$STRACE" = 1 ]; then
  tsecs=$((csecs > 10 ? 8 : csecs - 1))
  bash scripts/tap-ring-trace.sh --secs "$tsecs" --out "$OUT/stall-trace.txt" > "$OUT/stall-trace.log" 2>&1 &
  TPID=$!
fi
ip netns exec "$NS" iperf3 -c 10.77.0.2 -t "$csecs" -C cubic -J > "$OUT/iperf-calibration.json" ||
  { echo "twin-tap-qemu: iperf3 failed (calibration)" >&2; exit 1; }
if [ "$STRACE" = 1 ]; then
  wait "$TPID" || { echo "twin-tap-qemu: tap-ring-trace.sh failed: $(cat "$OUT/stall-trace.log")" >&2; exit 1; }
  TPID=
  echo "twin-tap-qemu: QEMU's read stalls at ring $cring, RTT $crtt ms ($tsecs s traced):"
  python3 scripts/tap_ring_occupancy.py "$OUT/stall-trace.txt" 1 --stalls-json "$OUT/stalls.json" | sed -n '/^read stalls/,$p'
  rm -f "$OUT/stall-trace.txt" # ~10 MB per traced second; stalls.json keeps the figures
  CAL+=(--stalls "$OUT/stalls.json")
fi
kill "$QPID"; wait "$QPID" 2>/dev/null || true; QPID=

[ "$SIM" = 1 ] || exit 0
cmake --build build --target tunsim >/dev/null
python3 scripts/twin_tap_qemu_sim.py "$CSV" --tunsim build/tunsim --out "$OUT" "${CAL[@]}"
