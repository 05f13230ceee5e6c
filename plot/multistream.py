#!/usr/bin/env python3
"""Aggregate TCP throughput and reader load vs the number of parallel flows,
from the run directories scripts/multistream.sh writes (OUT/n<N>/points/*/
seed-*/result.json): one line per (policy, queues = 1 or N).

    plot/multistream.py results/multistream --png docs/multistream.png

Prints the throughput table (markdown) docs/multistream.md quotes.
"""
import argparse
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import paper_style, plt, policy_color  # noqa: E402


def rows(out):
    for path in sorted(glob.glob(os.path.join(out, "n*", "points", "*", "seed-*", "result.json"))):
        r = json.load(open(path))
        n = len(r["flows"])
        q = r["scenario"]["tun"].get("queues", 1)
        yield {
            "n": n,
            "policy": r["tun"]["policy"],
            "mq": q > 1,
            "queues": q,
            "gbps": sum(f["goodput_mbps"] for f in r["flows"]) / 1000.0,
            "reader_busy": r["reader"]["busy_fraction"],
            "stops": r["tun"]["txq"]["stop_count"],
            "ring_drops": r["tun"]["tx_dropped"],
            "qdisc_drops": (r["qdisc"].get("dropped_packets") or 0),
            "retrans": sum(f.get("retransmits", 0) for f in r["flows"]),
            "fairness": jain([f["goodput_mbps"] for f in r["flows"]]),
            "cpus": cpu_loads(r),
        }


def cpu_loads(r):
    """The multi-core host (result "host" block): per CPU, busy fraction by kind."""
    host = r.get("host")
    if not host:
        return None
    out = []
    for c in host["cpus"]:
        sim = r["simulated_s"]
        out.append({k: v / sim for k, v in c["busy_s"].items()})
        out[-1]["total"] = c["busy_fraction"]
        out[-1]["softirq_runs"] = c["net_tx_softirq"]["run_on_return"] + c["net_tx_softirq"]["run_in_ksoftirqd"]
        out[-1]["ksoftirqd"] = c["net_tx_softirq"]["run_in_ksoftirqd"]
    return out


def cpu_table(data):
    """Per-CPU breakdown (%): CPU 0 (the reader's) by kind, the senders' CPUs' mean."""
    print()
    print("| N | policy | queues | CPU 0 busy | reader | xmit direct | xmit softirq | sender | softirq runs (ksoftirqd) | CPUs 1-3 mean busy | of which xmit |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for d in sorted(data, key=lambda d: (d["n"], d["policy"], d["queues"])):
        c = d["cpus"]
        c0 = c[0]
        rest = c[1:] or [c0]
        mean = sum(x["total"] for x in rest) / len(rest)
        xm = sum(x["xmit_direct"] + x["xmit_softirq"] for x in rest) / len(rest)
        print("| %d | %s | %d | %.0f %% | %.0f %% | %.0f %% | %.0f %% | %.0f %% | %d (%d) | %.0f %% | %.0f %% |" % (
            d["n"], d["policy"], d["queues"], 100 * c0["total"], 100 * c0["reader"], 100 * c0["xmit_direct"],
            100 * c0["xmit_softirq"], 100 * c0["sender"], c0["softirq_runs"], c0["ksoftirqd"], 100 * mean,
            100 * xm))


def jain(xs):
    s = sum(xs)
    return s * s / (len(xs) * sum(x * x for x in xs)) if xs and s > 0 else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--png", default="docs/multistream.png")
    a = ap.parse_args()
    data = list(rows(a.out))
    if not data:
        sys.exit("multistream.py: no result.json under %s" % a.out)
    print("| N | policy | queues | aggregate Gbit/s | busiest reader | txq stops | ring drops | qdisc drops | retransmits | Jain |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for d in sorted(data, key=lambda d: (d["n"], d["policy"], d["queues"])):
        print("| %d | %s | %d | %.2f | %.0f %% | %d | %d | %d | %d | %.3f |" % (
            d["n"], d["policy"], d["queues"], d["gbps"], 100 * d["reader_busy"], d["stops"], d["ring_drops"],
            d["qdisc_drops"], d["retrans"], d["fairness"]))
    cores = all(d["cpus"] for d in data)
    if cores:
        cpu_table(data)
    paper_style()
    if cores:
        fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(11.5, 3.2))
    else:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.0, 3.2))
        ax3 = None
    for policy in ("drop", "merged"):
        for mq, ls in ((False, "-"), (True, "--")):
            pts = sorted((d["n"], d) for d in data if d["policy"] == policy and (d["mq"] == mq or d["n"] == 1))
            if not pts:
                continue
            ns = [p[0] for p in pts]
            label = "%s, %s" % (policy, "queues = N (mq)" if mq else "1 queue")
            style = dict(color=policy_color(policy), linestyle=ls, marker="o" if not mq else "s")
            ax1.plot(ns, [p[1]["gbps"] for p in pts], label=label, **style)
            if cores:
                # CPU 0 (the reader's) and the senders' CPUs' mean load
                ax2.plot(ns, [100 * p[1]["cpus"][0]["total"] for p in pts], label=label, **style)
                ax3.plot(ns, [100 * sum(c["total"] for c in p[1]["cpus"][1:]) / max(1, len(p[1]["cpus"]) - 1)
                              for p in pts], label=label, **style)
            else:
                ax2.plot(ns, [100 * p[1]["reader_busy"] for p in pts], label=label, **style)
    for ax in [a for a in (ax1, ax2, ax3) if a is not None]:
        ax.set_xscale("log", base=2)
        ax.set_xticks([1, 2, 4, 8, 16])
        ax.set_xticklabels(["1", "2", "4", "8", "16"])
        ax.set_xlabel("parallel TCP flows N")
    ax1.set_ylabel("aggregate goodput (Gbit/s)")
    if cores:
        ax2.set_ylabel("CPU 0 (reader's) busy (%)")
        ax3.set_ylabel("CPUs 1-3 (senders') mean busy (%)")
    else:
        ax2.set_ylabel("busiest reader's CPU (%)")
    ax1.legend(loc="best")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(a.png)), exist_ok=True)
    fig.savefig(a.png, bbox_inches="tight")
    print("plot: %s" % a.png)


if __name__ == "__main__":
    main()
