#!/usr/bin/env python3
"""Loss vs ring size, one line per policy (log x): plot/loss_vs_ring.py SWEEP_DIR [--flow N] [--out DIR]

Reads SWEEP_DIR/summary.csv (tunsim sweep ... --vary tun.ring_size=... --vary tun.policy=...);
writes loss_vs_ring.png and .pdf into SWEEP_DIR/plots (or --out)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import sweep_csv, sweep_plot_main  # noqa: E402
from sweep_lines import plot_vs_ring  # noqa: E402


def plot(sweep_dir, outdir, flow="0"):
    return plot_vs_ring(sweep_csv(sweep_dir, "summary.csv"), outdir, "loss_vs_ring", "loss_ratio", 100.0,
                        "packet loss (%)", flow=flow, title="Loss vs ring size")


def main():
    sweep_plot_main(plot, "loss_vs_ring", __doc__)


if __name__ == "__main__":
    main()
