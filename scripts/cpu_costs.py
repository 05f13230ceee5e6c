#!/usr/bin/env python3
"""Turn a `perf record -a -g -e cpu-clock` of the TCP twin into the multi-core
host's CPU costs (issue 13; scripts/measure-cpu-costs.sh runs it).

usage: cpu_costs.py PERF_SCRIPT.txt KERNEL_RESULT.json NET_TX_RUNS > costs.json

PERF_SCRIPT.txt is `perf script -F comm,tid,cpu,period,ip,sym`: one header line
per sample (comm, tid, [cpu], period in ns) and the kernel/user call chain,
innermost frame first. Each sample's period is charged to one of the model's
cost fields by the kernel functions on its stack (outermost match decides the
path, innermost decides the part):

  tun.xmit_cost_ns   dequeue + validate_xmit_skb() (GSO segmentation for a
                     tun without offloads) + tun_net_xmit(): frames
                     sch_direct_xmit / dev_hard_start_xmit / __qdisc_run
                     under a data transmit (tcp_write_xmit, a retransmit,
                     or net_tx_action) -- per packet through tun0;
  host.tcp_output_ns tcp_write_xmit() / tcp_retransmit_skb() down to the
                     qdisc enqueue, without the above and without a
                     contended qdisc lock -- per packet through tun0;
  host.qdisc_lock_contended_ns
                     native_queued_spin_lock_slowpath under
                     __dev_queue_xmit of a data transmit -- reported per
                     packet (the model charges it per contended enqueue,
                     which perf cannot count);
  host.tcp_sendmsg_ns
                     tcp_sendmsg() without the transmits and the ACK
                     processing it runs (__tcp_push_pending_frames,
                     __release_sock) -- per segment's worth of new data;
  tun.softirq_cost_ns
                     net_tx_action() without the qdisc run -- per NET_TX run.

A server's ACKs (__tcp_send_ack) are not a data transmit and are not charged.
Everything else is reported under "other" (seconds), for the reader's read()
and write() and the far end, whose costs the scenario takes elsewhere.

Limits, named: cpu-clock samples from an hrtimer, so time with interrupts off
is charged to where they come back on; the period (1/F) is the resolution,
so a cost is as good as its sample count (printed beside it). A guest
without a PMU (this project's VM) has no NMI sampling; a sample taken with
interrupts off lands where they come back on, with its call chain, so it is
charged to the right function -- except a system call's entry and exit,
counted apart ("syscall_edge_cpu_s").
"""
import json
import sys

XMIT = {"sch_direct_xmit", "dev_hard_start_xmit", "__qdisc_run"}
DATA_TX = {"tcp_write_xmit", "tcp_retransmit_skb", "__tcp_retransmit_skb", "net_tx_action"}
LOCK = {"native_queued_spin_lock_slowpath", "queued_spin_lock_slowpath"}
SENDMSG = {"tcp_sendmsg", "tcp_sendmsg_locked"}
SENDMSG_NOT = {"__tcp_push_pending_frames", "tcp_push", "tcp_push_one", "__release_sock", "tcp_write_xmit"}


def samples(path):
    """Yields (tid, period_ns, [symbols innermost first], kernel frames) per sample."""
    head, stack, kernel = None, [], 0
    with open(path, errors="replace") as f:
        for line in f:
            if not line.strip():
                if head:
                    yield head[0], head[1], stack, kernel
                head, stack, kernel = None, [], 0
            elif line[0] in " \t" and head:
                parts = line.split()
                if len(parts) >= 2:
                    stack.append(parts[1].split("+")[0])
                    kernel += parts[0].startswith("ffff")
            else:
                parts = line.split()
                try:
                    head = (parts[1], int(parts[-1]))
                except (IndexError, ValueError):
                    head = None
                stack, kernel = [], 0
    if head:
        yield head[0], head[1], stack, kernel


def syscall_edge(stack, kernel):
    """A sample in a system call's entry or exit, with interrupts off: the
    hrtimer fires when do_syscall_64() turns them back on (on a PVM guest
    such as this project's VM a system call is a switch through the host, and
    this is where its cost shows)."""
    return 2 < kernel <= 4 and "irq_enable" in stack[0] and stack[2] == "do_syscall_64"


def classify(stack):
    """The cost field one sample's stack belongs to, or an 'other' label."""
    on = set(stack)
    if "__tcp_send_ack" in on or "__tcp_send_ack.part.0" in on or "tcp_send_ack" in on:
        return "other:server_ack_tx"
    if on & DATA_TX:
        if on & XMIT:
            return "xmit"
        if "net_tx_action" in on:
            return "softirq"
        if "__dev_queue_xmit" in on and on & LOCK:
            return "lock"
        return "output"
    if on & SENDMSG:
        return "other:sendmsg_ack" if on & SENDMSG_NOT else "sendmsg"
    for name, label in (("tun_chr_read_iter", "other:tun_read"), ("tun_chr_write_iter", "other:tun_write"),
                        ("tcp_recvmsg", "other:tcp_recvmsg"), ("do_idle", "idle")):
        if name in on:
            return label
    return "other:rest"


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    seconds = {}
    counts = {}
    senders, offByTid = set(), {}  # the senders' threads; syscall edges by thread
    for tid, period, stack, kernel in samples(sys.argv[1]):
        if syscall_edge(stack, kernel):
            offByTid[tid] = offByTid.get(tid, 0.0) + period * 1e-9
            label = "syscall_edge"
        else:
            label = classify(stack)
            if label == "sendmsg":
                senders.add(tid)
        seconds[label] = seconds.get(label, 0.0) + period * 1e-9
        counts[label] = counts.get(label, 0) + 1
    senderOff = sum(v for t, v in offByTid.items() if t in senders)
    res = json.load(open(sys.argv[2]))
    netTx = int(sys.argv[3])
    packets = int(res["tun"]["tx_packets"]) + int(res["tun"]["tx_dropped"] or 0)
    retrans = sum(int(f.get("retransmits") or 0) for f in res["flows"])
    newSegs = max(1, packets - retrans)

    def cost(label, per, minSamples=0):
        """ns per unit; None when `per` is too small to see (fewer than
        minSamples samples: softirq runs are rare when no queue stops)."""
        s, n = seconds.get(label, 0.0), counts.get(label, 0)
        seen = per > 0 and (n >= minSamples or per >= 10000)
        return {"ns": round(s * 1e9 / per, 1) if seen else None, "cpu_s": round(s, 4), "samples": n, "per": per}

    out = {
        "costs": {
            "tun.xmit_cost_ns": cost("xmit", packets),
            "host.tcp_output_ns": cost("output", packets),
            "host.tcp_sendmsg_ns": cost("sendmsg", newSegs),
            "tun.softirq_cost_ns": cost("softirq", netTx, 20),
            "lock_contended_ns_per_packet": cost("lock", packets),
        },
        "packets_through_tun0": packets,
        "new_segments": newSegs,
        "net_tx_runs": netTx,
        "goodput_mbps": round(sum(float(f.get("goodput_mbps") or 0) for f in res["flows"]), 1),
        "other_cpu_s": {k.split(":", 1)[1]: round(v, 6) for k, v in sorted(seconds.items())
                        if k.startswith("other:")},
        "idle_cpu_s": round(seconds.get("idle", 0.0), 4),
        "syscall_edge_cpu_s": round(seconds.get("syscall_edge", 0.0), 4),
        # the senders' write()s' entry and exit, per segment of new data:
        # the model has no field for it (it is the application's, per call)
        "sender_syscall_edge_ns_per_segment": round(senderOff * 1e9 / newSegs, 1),
    }
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
