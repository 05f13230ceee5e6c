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
        }


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
    paper_style()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.0, 3.2))
    for policy in ("drop", "merged"):
        for mq, ls in ((False, "-"), (True, "--")):
            pts = sorted((d["n"], d) for d in data if d["policy"] == policy and (d["mq"] == mq or d["n"] == 1))
            if not pts:
                continue
            ns = [p[0] for p in pts]
            label = "%s, %s" % (policy, "queues = N (mq)" if mq else "1 queue")
            style = dict(color=policy_color(policy), linestyle=ls, marker="o" if not mq else "s")
            ax1.plot(ns, [p[1]["gbps"] for p in pts], label=label, **style)
            ax2.plot(ns, [100 * p[1]["reader_busy"] for p in pts], label=label, **style)
    for ax in (ax1, ax2):
        ax.set_xscale("log", base=2)
        ax.set_xticks([1, 2, 4, 8, 16])
        ax.set_xticklabels(["1", "2", "4", "8", "16"])
        ax.set_xlabel("parallel TCP flows N")
    ax1.set_ylabel("aggregate goodput (Gbit/s)")
    ax2.set_ylabel("busiest reader's CPU (%)")
    ax1.legend(loc="best")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(a.png)), exist_ok=True)
    fig.savefig(a.png, bbox_inches="tight")
    print("plot: %s" % a.png)


if __name__ == "__main__":
    main()
