#!/usr/bin/env python3
"""Time series of one run: plot/timeseries.py RUN_DIR|FILE.csv [--out DIR] [--name NAME]

Reads the CSV `tunsim run --timeseries` writes next to result.json (columns
time_s, ring_occupancy, qdisc_backlog, txq_stopped, sender_wmem_bytes,
cwnd_bytes, srtt_ms, bytes_in_flight). Given a directory, it plots the first
*timeseries*.csv in it (searching subdirectories). Panels: ring occupancy,
qdisc backlog, txq state, and for TCP cwnd (with bytes in flight) and srtt.
A missing or all-empty column drops its panel; no file, or no time_s column,
is a clean skip (message on stderr, exit 0). Writes timeseries.png and .pdf
(default: next to the CSV, in plots/)."""
import argparse
import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import OKABE_ITO, Skip, num, paper_style, plt, read_csv, save  # noqa: E402

# (column(s), y label, scale, step?)
PANELS = [
    (["ring_occupancy"], "ring occupancy\n(entries)", 1.0, True),
    (["qdisc_backlog"], "qdisc backlog\n(packets)", 1.0, True),
    (["txq_stopped"], "txq stopped\n(1 = stopped)", 1.0, True),
    (["sender_wmem_bytes"], "sender sk_wmem\n(KiB)", 1 / 1024.0, True),
    (["cwnd_bytes", "bytes_in_flight"], "cwnd, in flight\n(KiB)", 1 / 1024.0, True),
    (["srtt_ms"], "srtt\n(ms)", 1.0, False),
]
LABELS = {"cwnd_bytes": "cwnd", "bytes_in_flight": "bytes in flight"}


def find(path):
    if os.path.isfile(path):
        return path
    if os.path.isdir(path):
        hits = sorted(glob.glob(os.path.join(path, "**", "*timeseries*.csv"), recursive=True))
        hits = [h for h in hits if ".tmp." not in os.path.basename(h)]
        if hits:
            return hits[0]
    return None


def plot(path, outdir=None, name="timeseries", title=None):
    f = find(path)
    if not f:
        raise Skip("no time series CSV at %s (run with tunsim run --timeseries)" % path)
    header, rows = read_csv(f)
    if "time_s" not in header or not rows:
        raise Skip("%s: no time_s column or no rows" % f)
    t = [num(r["time_s"]) for r in rows]
    panels = []
    for cols, label, scale, step in PANELS:
        present = []
        for c in cols:
            if c in header:
                ys = [num(r[c]) * scale for r in rows]
                if any(y == y for y in ys):  # not all NaN
                    present.append((c, ys))
        if present:
            panels.append((present, label, step))
    if not panels:
        raise Skip("%s: none of the plotted columns present" % f)
    paper_style()
    fig, axes = plt.subplots(len(panels), 1, sharex=True, figsize=(5.5, 1.15 * len(panels) + 0.6), squeeze=False)
    for ax, (present, label, step) in zip(axes[:, 0], panels):
        for k, (c, ys) in enumerate(present):
            kw = dict(color=OKABE_ITO[(5 + 1 * k) % len(OKABE_ITO)] if k else OKABE_ITO[5], linewidth=1.0,
                      label=LABELS.get(c, c))
            if step:
                ax.step(t, ys, where="post", **kw)
            else:
                ax.plot(t, ys, **kw)
            if c == "txq_stopped":
                ax.fill_between(t, ys, step="post", alpha=0.25, color=kw["color"], linewidth=0)
                ax.set_ylim(-0.05, 1.15)
                ax.set_yticks([0, 1])
        ax.set_ylabel(label)
        if len(present) > 1:
            ax.legend(frameon=False, loc="best")
    axes[-1, 0].set_xlabel("simulated time (s)")
    axes[0, 0].set_title(title or os.path.relpath(f), loc="left", fontsize=7)
    fig.align_ylabels(axes[:, 0])
    fig.tight_layout()
    return save(fig, outdir or os.path.join(os.path.dirname(f), "plots"), name)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path")
    ap.add_argument("--out", help="output directory")
    ap.add_argument("--name", default="timeseries", help="file name without extension")
    a = ap.parse_args()
    try:
        for p in plot(a.path, a.out, a.name):
            print(p)
    except Skip as e:
        print("timeseries: skipped: %s" % e, file=sys.stderr)


if __name__ == "__main__":
    main()
