#!/usr/bin/env python3
"""Kernel TCP twin vs simulator: plot/kernel_validation_tcp.py VALIDATION.csv [--out DIR]

Reads the validation.csv of scripts/validate-kernel-tcp.sh and draws

  kernel_validation_tcp.{png,pdf}: goodput against ring size (txqueuelen,
    log axis), one panel per (RTT, reader capacity): the TCP twin's mean
    over repeats with +- one standard deviation (points; grey crosses where
    its reader lost CPU to other processes), the simulator (line), the
    reader's payload capacity (dotted);
  kernel_validation_tcp_series.{png,pdf}: cwnd and srtt over time, kernel
    (repeat 1) and simulator overlaid, for rings 25 and 500 at 120 ms and
    200 Mbit/s (the points the CSV has), from kernel/<point>/timeseries.csv
    and sim/<point>/timeseries.csv beside the CSV.

DIR defaults to the CSV's directory."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import OKABE_ITO, num, paper_style, plt, read_csv, save  # noqa: E402

SERIES_POINTS = [(25, 120.0, 200.0), (500, 120.0, 200.0)]  # (ring, rtt ms, capacity Mbit/s)


def point_name(ring, rtt_ms, capacity_mbps):
    return "ring%d-delay%g-nspb%g" % (ring, rtt_ms / 2, 8000.0 / capacity_mbps)


def goodput_figure(rows, out):
    panels = sorted({(num(r["rtt_ms"]), num(r["capacity_mbps"])) for r in rows})
    fig, axes = plt.subplots(1, len(panels), figsize=(2.9 * len(panels) + 0.6, 3.2), squeeze=False)
    for ax, (rtt, cap) in zip(axes[0], panels):
        pts = sorted((r for r in rows if num(r["rtt_ms"]) == rtt and num(r["capacity_mbps"]) == cap),
                     key=lambda r: num(r["ring"]))
        x = [num(r["ring"]) for r in pts]
        ax.plot(x, [num(r["sim_goodput_mbps"]) for r in pts], color=OKABE_ITO[5], marker="s",
                markerfacecolor="white", label="tunsim run")
        # A kernel point whose reader lost CPU to other processes is drawn apart: it
        # measures the machine's load, not the tun path.
        for starved, color, what in ((False, OKABE_ITO[0], ""), (True, "#999999", ", reader starved (machine not quiet)")):
            sel = [r for r in pts if str(r.get("kernel_reader_starved", "False")) == str(starved)]
            if sel:
                ax.errorbar([num(r["ring"]) for r in sel], [num(r["kernel_goodput_mbps_mean"]) for r in sel],
                            yerr=[num(r["kernel_goodput_mbps_sd"]) for r in sel], color=color, linestyle="none",
                            marker="x" if starved else "o", capsize=2.5, label="kernel (TCP twin), mean +- sd" + what)
        ax.axhline(num(pts[0]["payload_capacity_mbps"]), color=OKABE_ITO[6], linestyle=":", linewidth=0.9,
                   label="reader capacity (payload)")
        ax.set_xscale("log")
        ax.set_ylim(bottom=0, top=1.1 * num(pts[0]["capacity_mbps"]))
        ax.set_xlabel("ring size (txqueuelen)")
        ax.set_title("RTT %g ms, reader %g Mbit/s" % (rtt, cap))
    axes[0][0].set_ylabel("goodput (Mbit/s)")
    seen = {}
    for ax in axes[0]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    handles, labels = list(seen.values()), list(seen.keys())
    fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False, bbox_to_anchor=(0.5, -0.02))
    fig.suptitle("One Cubic flow through tun (drop): Linux TCP twin vs tunsim", fontsize=9)
    fig.tight_layout(rect=(0, 0.13, 1, 1))
    return save(fig, out, "kernel_validation_tcp")


def series(path, time_col, cols, repeat_one):
    """time and the columns of a timeseries.csv (kernel: repeat 1, flow 0)."""
    if not os.path.exists(path):
        return None
    _, rows = read_csv(path)
    if repeat_one:
        rows = [r for r in rows if r.get("repeat", "1") == "1" and r.get("flow", "0") == "0"]
    return [num(r[time_col]) for r in rows], {c: [num(r[c]) for r in rows] for c in cols}


def series_figure(base, out):
    points = [p for p in SERIES_POINTS if os.path.exists(os.path.join(base, "kernel", point_name(*p)))]
    if not points:
        return []
    fig, axes = plt.subplots(2, len(points), figsize=(3.6 * len(points) + 0.4, 4.6), squeeze=False, sharex=True)
    for j, p in enumerate(points):
        name = point_name(*p)
        for src, color, label, first in (("kernel", OKABE_ITO[0], "kernel", True), ("sim", OKABE_ITO[5], "sim", False)):
            s = series(os.path.join(base, src, name, "timeseries.csv"), "time_s", ["cwnd_bytes", "srtt_ms"], first)
            if not s:
                continue
            t, v = s
            axes[0][j].plot(t, [b / 1448 for b in v["cwnd_bytes"]], color=color, label=label, linewidth=1.0)
            measured = [(x, y) for x, y in zip(t, v["srtt_ms"]) if y > 0]  # 0: no RTT sample yet
            axes[1][j].plot([x for x, _ in measured], [y for _, y in measured], color=color, label=label,
                            linewidth=1.0)
        axes[0][j].set_title("ring %d, RTT %g ms, reader %g Mbit/s" % p)
        axes[1][j].set_xlabel("time (s)")
    axes[0][0].set_ylabel("cwnd (1448-byte segments)")
    axes[1][0].set_ylabel("srtt (ms)")
    axes[0][0].legend(loc="best", frameon=False)
    fig.tight_layout()
    return save(fig, out, "kernel_validation_tcp_series")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv")
    ap.add_argument("--out", help="output directory (default: the CSV's directory)")
    a = ap.parse_args()
    _, rows = read_csv(a.csv)
    if not rows:
        sys.exit("kernel_validation_tcp: %s has no rows" % a.csv)
    paper_style()
    base = os.path.dirname(os.path.abspath(a.csv))
    out = a.out or base
    for p in goodput_figure(rows, out) + series_figure(base, out):
        print(p)


if __name__ == "__main__":
    main()
