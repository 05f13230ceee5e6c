#!/usr/bin/env python3
"""One-way delay distribution per policy: plot/delay_cdf.py SWEEP_DIR [--flow N] [--out DIR]

result.json holds delay quantiles, not the histogram (docs/results.md, `delay`:
p50_ms, p99_ms, max_ms, mean_ms). So this draws the CDF at the points that are
known -- F(p50) = 0.5, F(p99) = 0.99, F(max) = 1 -- joined by straight lines;
the shape between the quantiles is not measured and the plot says so. The y
axis is stretched towards the tail (-log10(1 - F), with the maximum drawn at
F = 0.999), so p99 and max stay apart. One panel per ring size (at most
six, spread over the swept sizes), one line per policy, means across seeds
from SWEEP_DIR/summary.csv. Writes delay_cdf.png and .pdf."""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (Skip, num, paper_style, plt, policy_rank, read_csv, save, series_key,  # noqa: E402
                    series_label, series_style, sweep_csv, varied_keys)

QUANTILES = [("delay_p50_ms_mean", 0.5), ("delay_p99_ms_mean", 0.99), ("delay_max_ms_mean", 1.0)]
TICKS = [(0.5, "0.5 (p50)"), (0.9, "0.9"), (0.99, "0.99 (p99)"), (1.0, "1 (max)")]


def tail(f):
    """y position of cumulative fraction f: -log10(1 - f), the maximum at 0.999."""
    return -math.log10(max(1.0 - f, 1e-3))


def pick(values, n):
    if len(values) <= n:
        return values
    idx = sorted({round(i * (len(values) - 1) / (n - 1)) for i in range(n)})
    return [values[i] for i in idx]


def plot(sweep_dir, outdir, flow="0"):
    path = sweep_csv(sweep_dir, "summary.csv")
    if not os.path.exists(path):
        raise Skip("no %s" % path)
    header, rows = read_csv(path)
    missing = [c for c, _ in QUANTILES if c not in header] + [c for c in ("policy", "ring_size", "flow")
                                                               if c not in header]
    if missing:
        raise Skip("%s lacks columns %s" % (path, ", ".join(missing)))
    rows = [r for r in rows if r["flow"] == str(flow) and num(r["delay_max_ms_mean"]) > 0]
    if not rows:
        raise Skip("no delivered packets for flow %s in %s" % (flow, path))
    rings = pick(sorted({int(r["ring_size"]) for r in rows}), 6)
    keys = varied_keys(header)
    skip = {"tun.ring_size", "tun.policy"}
    varying = {k for k in keys if k not in skip and len({r[k] for r in rows}) > 1}
    paper_style()
    cols = min(3, len(rings))
    nrows = (len(rings) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(2.6 * cols + 0.6, 2.3 * nrows + 0.5), squeeze=False,
                             sharey=True)
    handles = {}
    for i, ring in enumerate(rings):
        ax = axes[i // cols][i % cols]
        groups = {}
        for r in rows:
            if int(r["ring_size"]) == ring:
                groups.setdefault(series_key(r, keys, skip), []).append(r)
        seen = {}
        for key in sorted(groups, key=lambda k: (policy_rank(k[0]), k[0], k[1])):
            r = groups[key][0]
            xs = [num(r[c]) for c, _ in QUANTILES]
            ys = [tail(q) for _, q in QUANTILES]
            n = seen.get(key[0], 0)
            seen[key[0]] = n + 1
            st = series_style(key, n)
            (h,) = ax.plot(xs, ys, color=st["color"], marker=st["marker"], linestyle=st["linestyle"])
            handles.setdefault(series_label(key, varying), h)
        ax.set_title("ring size %d" % ring, loc="left")
        ax.set_ylim(tail(0.4), tail(1.0) + 0.2)
        ax.set_yticks([tail(f) for f, _ in TICKS])
        ax.set_yticklabels([t for _, t in TICKS])
        if i % cols == 0:
            ax.set_ylabel("cumulative fraction")
        if i // cols == nrows - 1:
            ax.set_xlabel("one-way delay (ms)")
    for j in range(len(rings), nrows * cols):
        axes[j // cols][j % cols].set_visible(False)
    fig.legend(list(handles.values()), list(handles.keys()), title="tun.policy", loc="upper center",
               ncol=min(4, len(handles)), frameon=False, bbox_to_anchor=(0.5, 1.0))
    fig.text(0.01, -0.02, "Points: p50, p99, max (means across seeds). result.json has "
             "quantiles only, no histogram: the curve between them is not measured. Flow %s." % flow,
             fontsize=7, color="0.35", ha="left", va="top")
    fig.tight_layout(rect=(0, 0, 1, 0.86))
    return save(fig, outdir, "delay_cdf")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sweep_dir")
    ap.add_argument("--flow", default="0")
    ap.add_argument("--out", help="output directory (default SWEEP_DIR/plots)")
    a = ap.parse_args()
    try:
        for p in plot(a.sweep_dir, a.out or os.path.join(a.sweep_dir, "plots"), a.flow):
            print(p)
    except Skip as e:
        print("delay_cdf: skipped: %s" % e, file=sys.stderr)


if __name__ == "__main__":
    main()
