#!/usr/bin/env bash
# Trace tap0's ring during a TAP + QEMU twin run (docs/twin-tap-qemu.md,
# "The ring itself, traced"): start this, then scripts/twin-tap-qemu.sh.
#
#   bash scripts/tap-ring-trace.sh [--secs S] [--out FILE]     (root)
#
# It waits for the twin's `iperf3 -c` to start, then records for S seconds
# (default 7) with the kernel's tracepoints (tracefs; no function tracer):
#   net:net_dev_xmit on tap0   -- every frame tun_net_xmit() was handed
#                                 (into the ring, or dropped there);
#   skb:kfree_skb              -- drops, with their reason (FULL_RING);
#   syscalls:sys_exit_read     -- QEMU's main loop (the tap reader): a read
#                                 of more than 8 bytes is one frame out of
#                                 the ring (8-byte reads are eventfds);
#   syscalls:sys_exit_writev   -- frames QEMU writes into tap0 (the guest's
#                                 ACKs), iperf3's own left out;
#   tcp:tcp_probe (dport 5201) -- each segment the host's iperf3 sockets
#                                 receive (the ACKs), with snd_cwnd, in the
#                                 context that processed it;
#   sched:sched_switch (QEMU's main thread in or out), and its
#   syscalls:sys_enter_ppoll / sys_enter_futex -- so that a read stall can
#                                 be told apart by cause: main loop off
#                                 its CPU while runnable (preempted), asleep
#                                 on a futex (the BQL, held by the vCPU
#                                 thread), or asleep in ppoll() (the tap fd
#                                 not polled: the guest's receive ring full).
# The trace goes to FILE (default tap-ring-trace.txt); then
#   python3 scripts/tap_ring_occupancy.py FILE [BIN_S]
# prints the ring's occupancy (max per bin), entries, drops, reads, writes,
# ACKs processed and the last snd_cwnd.
# Tracing is switched off and the events' filters cleared on every exit.
set -u
SECS=7 OUT=tap-ring-trace.txt
while [ $# -gt 0 ]; do
  case $1 in
    --secs) SECS=${2:-}; shift 2 ;;
    --out) OUT=${2:-}; shift 2 ;;
    *) echo "tap-ring-trace: unknown option $1 (allowed: --secs S, --out FILE)" >&2; exit 2 ;;
  esac
done
case $SECS in ''|*[!0-9]*|0) echo "tap-ring-trace: --secs must be a whole number of seconds >= 1, not '$SECS'" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "tap-ring-trace: needs root (tracefs)" >&2; exit 2; }
T=/sys/kernel/tracing
mountpoint -q $T || mount -t tracefs nodev $T || { echo "tap-ring-trace: cannot mount tracefs" >&2; exit 1; }
EVENTS="net/net_dev_xmit skb/kfree_skb syscalls/sys_exit_read syscalls/sys_exit_writev tcp/tcp_probe
        sched/sched_switch syscalls/sys_enter_ppoll syscalls/sys_enter_futex"
BUF=$(cut -d' ' -f1 $T/buffer_size_kb) ON=$(cat $T/tracing_on) # both restored on exit
cleanup() {
  echo 0 > $T/tracing_on
  for e in $EVENTS; do echo 0 > $T/events/$e/enable; echo 0 > $T/events/$e/filter; done
  echo > $T/trace; echo "$BUF" > $T/buffer_size_kb; echo "$ON" > $T/tracing_on
}
trap cleanup EXIT
trap 'exit 130' INT TERM
IP=
for _ in $(seq 1 1500); do
  IP=$(pgrep -f "iperf3 -c 10.77.0.2" | head -1); [ -n "$IP" ] && break; sleep 0.2
done
[ -n "$IP" ] || { echo "tap-ring-trace: no twin iperf3 client appeared in 300 s" >&2; exit 1; }
Q=$(pgrep -f qemu-system-x86_64 | head -1)
[ -n "$Q" ] || { echo "tap-ring-trace: no QEMU process" >&2; exit 1; }
echo 0 > $T/tracing_on; echo > $T/trace
echo 200000 > $T/buffer_size_kb
echo 'name == "tap0"' > $T/events/net/net_dev_xmit/filter
echo "common_pid == $Q" > $T/events/syscalls/sys_exit_read/filter
echo "common_pid != $IP" > $T/events/syscalls/sys_exit_writev/filter
echo "dport == 5201" > $T/events/tcp/tcp_probe/filter
echo "prev_pid == $Q || next_pid == $Q" > $T/events/sched/sched_switch/filter
echo "common_pid == $Q" > $T/events/syscalls/sys_enter_ppoll/filter
echo "common_pid == $Q" > $T/events/syscalls/sys_enter_futex/filter
for e in $EVENTS; do echo 1 > $T/events/$e/enable; done
echo 1 > $T/tracing_on
sleep "$SECS"
echo 0 > $T/tracing_on
{ echo "# qemu_main_pid=$Q"; cat $T/trace; } > "$OUT.tmp" && mv "$OUT.tmp" "$OUT"
echo "tap-ring-trace: iperf3 $IP, QEMU $Q (main loop = its pid), $SECS s: $OUT"
