#!/usr/bin/env python3
"""Every plot a directory's data supports: plot/all.py DIR [--out OUTDIR] [--flow N]

DIR is a sweep directory (summary.csv from tunsim sweep / tunsim merge) and/or
holds time series CSVs from tunsim run --timeseries (searched recursively; at
most --max-timeseries of them, one figure each). Plots go to DIR/plots (or
--out) as PNG and PDF. For each plot it prints the files written or why it was
skipped. Exit status 0 if at least one plot was made, 1 if none."""
import argparse
import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import delay_cdf  # noqa: E402
import goodput_vs_ring  # noqa: E402
import loss_vs_ring  # noqa: E402
import timeseries  # noqa: E402
from common import Skip  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--out", help="output directory (default DIR/plots)")
    ap.add_argument("--flow", default="0", help="flow index for the sweep plots (default 0)")
    ap.add_argument("--max-timeseries", type=int, default=4)
    a = ap.parse_args()
    out = a.out or os.path.join(a.dir, "plots")
    made = 0
    jobs = [
        ("loss_vs_ring", lambda: loss_vs_ring.plot(a.dir, out, a.flow)),
        ("goodput_vs_ring", lambda: goodput_vs_ring.plot(a.dir, out, a.flow)),
        ("delay_cdf", lambda: delay_cdf.plot(a.dir, out, a.flow)),
    ]
    series = sorted(f for f in glob.glob(os.path.join(a.dir, "**", "*timeseries*.csv"), recursive=True)
                    if ".tmp." not in os.path.basename(f) and not os.path.abspath(f).startswith(os.path.abspath(out)))
    if not series:
        print("timeseries: skipped: no *timeseries*.csv under %s" % a.dir)
    for f in series[:a.max_timeseries]:
        rel = os.path.relpath(os.path.dirname(f), a.dir)
        name = "timeseries" if rel == "." else "timeseries-" + re.sub(r"[^A-Za-z0-9._=,+-]+", "_", rel)
        jobs.append((name, lambda f=f, name=name: timeseries.plot(f, out, name, title=os.path.relpath(f, a.dir))))
    for name, job in jobs:
        try:
            for p in job():
                print(p)
            made += 1
        except Skip as e:
            print("%s: skipped: %s" % (name, e))
    sys.exit(0 if made else 1)


if __name__ == "__main__":
    main()
