#!/usr/bin/env python3
"""Kernel vs simulator loss: plot/kernel_validation.py VALIDATION.csv [--out DIR]

Reads the validation.csv of scripts/validate-kernel.sh and draws, for each
reader cost (one panel), loss against ring size (txqueuelen, log axis): the
kernel's mean over repeats as points with error bars (min..max), the
simulator as a line (solid: the model, with the sender's first-of-burst and
other send() costs and the reader's slow wake-ups (drawn per burst) measured
at that point; dotted: the same with the calibration run's slow wake-ups, a
prediction without the point's own wake-ups; older CSVs: one send cost or
one wake-up level), one colour per burst size. Writes
DIR/kernel_validation.png and .pdf (default DIR: the CSV's directory).

--predict: the prediction.csv of validate-kernel.sh --predict instead: the
simulator's loss (from the host profile alone) against the kernel's mean
loss (error bars: the spread over repeats), one marker per reader loop
style, the band |diff| <= 3 pp shaded; DIR/kernel_prediction.{png,pdf}."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import OKABE_ITO, num, paper_style, plt, read_csv, save  # noqa: E402


DOTTED = [("sim_calwake_loss_pct", "calibration's wake-ups"), ("sim_meansend_loss_pct", "one send cost"),
          ("sim_onelevel_loss_pct", "one wake-up level"), ("sim_global_loss_pct", "global calibration")]


def predict_plot(rows, out):
    """validate-kernel.sh --predict: sim (profile only) vs kernel, per loop style."""
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    top = max([num(r["kernel_loss_pct_mean"]) + num(r["kernel_loss_pct_sd"]) for r in rows] +
              [num(r["sim_loss_pct"]) for r in rows] + [1.0]) * 1.05
    ax.fill_between([0, top], [-3, top - 3], [3, top + 3], color="0.9", label="|diff| <= 3 pp")
    ax.plot([0, top], [0, top], color="0.5", linewidth=0.8)
    styles = sorted({r["loop"] for r in rows})
    markers = ["o", "s", "^", "D"]
    for i, st in enumerate(styles):
        for j, kind in enumerate(("bursts", "flood")):
            pts = [r for r in rows if r["loop"] == st and r["mode"] == kind]
            if not pts:
                continue
            ax.errorbar([num(r["kernel_loss_pct_mean"]) for r in pts], [num(r["sim_loss_pct"]) for r in pts],
                        xerr=[num(r["kernel_loss_pct_sd"]) for r in pts], linestyle="none",
                        marker=markers[(2 * i + j) % len(markers)], color=OKABE_ITO[(2 * i + j + 1) % len(OKABE_ITO)],
                        markerfacecolor="white", capsize=2, label="%s, %s" % (st, kind))
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("kernel loss (%), mean +- sd over repeats")
    ax.set_ylabel("tunsim loss (%), host profile only")
    ax.legend(frameon=False, fontsize=7, loc="upper left")
    ax.set_title("Prediction from a host profile (points not used to calibrate)", fontsize=9)
    fig.tight_layout()
    for p in save(fig, out, "kernel_prediction"):
        print(p)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv")
    ap.add_argument("--out", help="output directory (default: the CSV's directory)")
    ap.add_argument("--predict", action="store_true", help="the CSV is validate-kernel.sh --predict's")
    a = ap.parse_args()
    _, rows = read_csv(a.csv)
    if not rows:
        sys.exit("kernel_validation: %s has no rows" % a.csv)
    paper_style()
    if a.predict:
        predict_plot(rows, a.out or os.path.dirname(os.path.abspath(a.csv)))
        return
    costs = sorted({int(num(r["reader_ns"])) for r in rows})
    bursts = sorted({int(num(r["burst"])) for r in rows})
    fig, axes = plt.subplots(1, len(costs), figsize=(3.0 * len(costs) + 0.6, 3.2), sharey=True, squeeze=False)
    for ax, c in zip(axes[0], costs):
        for i, b in enumerate(bursts):
            pts = sorted((r for r in rows if int(num(r["reader_ns"])) == c and int(num(r["burst"])) == b),
                         key=lambda r: num(r["ring"]))
            if not pts:
                continue
            color = OKABE_ITO[(i + 1) % len(OKABE_ITO)]
            x = [num(r["ring"]) for r in pts]
            ax.plot(x, [num(r["sim_loss_pct"]) for r in pts], color=color, linestyle="-", marker=None,
                    label="sim, burst %d" % b)
            # the dotted line: the first of these the CSV has (older CSVs lack the first ones)
            for col, what in DOTTED:
                if col in pts[0]:
                    ax.plot(x, [num(r[col]) for r in pts], color=color, linestyle=":", linewidth=0.9, marker=None,
                            label="sim, %s, burst %d" % (what, b))
                    break
            mean = [num(r["kernel_loss_pct_mean"]) for r in pts]
            lo = [m - num(r["kernel_loss_pct_min"]) for m, r in zip(mean, pts)]
            hi = [num(r["kernel_loss_pct_max"]) - m for m, r in zip(mean, pts)]
            ax.errorbar(x, mean, yerr=[lo, hi], color=color, linestyle="none", marker="o", capsize=2.5,
                        markerfacecolor="white", label="kernel, burst %d" % b)
        ax.set_xscale("log")
        ax.set_xlabel("ring size (txqueuelen)")
        ax.set_title("reader %g us/packet" % (c / 1e3))
    axes[0][0].set_ylabel("packet loss (%)")
    axes[0][0].set_ylim(bottom=-2)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False,
               bbox_to_anchor=(0.5, -0.02))
    fig.suptitle("Linux tun (drop): kernel mean and min..max over repeats (points) vs tunsim (lines)", fontsize=9)
    fig.tight_layout(rect=(0, 0.04 * ((len(labels) + 2) // 3), 1, 1))
    out = a.out or os.path.dirname(os.path.abspath(a.csv))
    for p in save(fig, out, "kernel_validation"):
        print(p)


if __name__ == "__main__":
    main()
