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
DIR/kernel_validation.png and .pdf (default DIR: the CSV's directory)."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import OKABE_ITO, num, paper_style, plt, read_csv, save  # noqa: E402


DOTTED = [("sim_calwake_loss_pct", "calibration's wake-ups"), ("sim_meansend_loss_pct", "one send cost"),
          ("sim_onelevel_loss_pct", "one wake-up level"), ("sim_global_loss_pct", "global calibration")]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv")
    ap.add_argument("--out", help="output directory (default: the CSV's directory)")
    a = ap.parse_args()
    _, rows = read_csv(a.csv)
    if not rows:
        sys.exit("kernel_validation: %s has no rows" % a.csv)
    paper_style()
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
