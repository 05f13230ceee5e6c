#!/usr/bin/env python3
"""One-way delay distribution per policy: plot/delay_cdf.py SWEEP_DIR [--flow N] [--out DIR]

The CDF comes from each run's delay histogram (result.json `delay.histogram`,
docs/results.md): the runs of a point (all its seeds) are merged bucket by
bucket, so the curve is the measured distribution, within the histogram's
bucket width (1/32 of the value). For sweeps whose results predate the
histogram, it falls back to the quantiles in SWEEP_DIR/summary.csv -- F(p50)
= 0.5, F(p99) = 0.99, F(max) = 1, joined by straight lines -- and says so on
the plot. The y axis is stretched towards the tail (-log10(1 - F), the
maximum drawn at F = 0.999). One panel per ring size (at most six, spread
over the swept sizes), one line per policy. Writes delay_cdf.png and .pdf."""
import glob
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (Skip, num, sweep_plot_main, paper_style, plt, policy_rank, read_csv, save, series_key,  # noqa: E402
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


def point_histograms(sweep_dir, flow):
    """{point id: (edges_ms, cumulative fractions)} merged over the point's
    seeds, from SWEEP_DIR/sweep.json and the per-run result.json files; empty
    when the results carry no histogram."""
    try:
        with open(os.path.join(sweep_dir, "sweep.json")) as f:
            points = json.load(f)["points"]
    except (OSError, ValueError, KeyError):
        return {}
    out = {}
    for p in points:
        merged = {}
        for path in glob.glob(os.path.join(sweep_dir, "points", p["id"], "seed-*", "result.json")):
            with open(path) as f:
                r = json.load(f)
            flows = r.get("flows", [])
            if int(flow) >= len(flows):
                continue
            h = flows[int(flow)].get("delay", {}).get("histogram")
            if not h:
                return {}
            for edge, n in zip(h["upper_edge_ms"], h["count"]):
                merged[edge] = merged.get(edge, 0) + n
        total = sum(merged.values())
        if total:
            edges = sorted(merged)
            cum, acc = [], 0
            for e in edges:
                acc += merged[e]
                cum.append(acc / total)
            out[p["id"]] = (edges, cum)
    return out


def point_id(row, keys):
    return ",".join("%s=%s" % (k, row[k]) for k in keys)


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
    hists = point_histograms(sweep_dir, flow) if os.path.isdir(sweep_dir) else {}
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
            n = seen.get(key[0], 0)
            seen[key[0]] = n + 1
            st = series_style(key, n)
            hist = hists.get(point_id(r, keys))
            if hist:
                xs, fs = hist
                # F is 0 below the first bucket and reaches each bucket's
                # cumulative fraction at its upper edge.
                (h,) = ax.plot([xs[0]] + xs, [0.0] + [tail(f) for f in fs], color=st["color"],
                               linestyle=st["linestyle"], drawstyle="steps-pre")
            else:
                xs = [num(r[c]) for c, _ in QUANTILES]
                ys = [tail(q) for _, q in QUANTILES]
                (h,) = ax.plot(xs, ys, color=st["color"], marker=st["marker"], linestyle=st["linestyle"])
            handles.setdefault(series_label(key, varying), h)
        ax.set_title("ring size %d" % ring, loc="left")
        ticks = ([(0.0, "0")] if hists else []) + TICKS
        ax.set_ylim(0 if hists else tail(0.4), tail(1.0) + 0.2)
        ax.set_yticks([tail(f) for f, _ in ticks])
        ax.set_yticklabels([t for _, t in ticks])
        if i % cols == 0:
            ax.set_ylabel("cumulative fraction")
        if i // cols == nrows - 1:
            ax.set_xlabel("one-way delay (ms)")
    for j in range(len(rings), nrows * cols):
        axes[j // cols][j % cols].set_visible(False)
    fig.legend(list(handles.values()), list(handles.keys()), title="tun.policy", loc="upper center",
               ncol=min(4, len(handles)), frameon=False, bbox_to_anchor=(0.5, 1.0))
    note = ("Measured delay histograms, all seeds of a point merged (bucket width 1/32 of the value). "
            "Flow %s." % flow) if hists else (
        "Points: p50, p99, max (means across seeds); these results have no histogram, "
        "so the curve between the quantiles is not measured. Flow %s." % flow)
    fig.text(0.01, -0.02, note, fontsize=7, color="0.35", ha="left", va="top")
    fig.tight_layout(rect=(0, 0, 1, 0.86))
    return save(fig, outdir, "delay_cdf")


def main():
    sweep_plot_main(plot, "delay_cdf", __doc__)


if __name__ == "__main__":
    main()
