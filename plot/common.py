"""Shared helpers for tunsim's plot scripts: headless matplotlib, paper style,
the Okabe-Ito colour-blind-safe palette, CSV reading, PNG + PDF output.

The scripts read the CSVs `tunsim sweep` / `tunsim merge` write (docs/sweep.md)
and the time series of `tunsim run --timeseries`.
"""
import csv
import math
import os
import sys
import zlib


def _ensure_matplotlib():
    """Debian's python3-matplotlib lives under /usr/bin/python3; if this
    interpreter (e.g. a pyenv one first on PATH) lacks it, re-run there."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        system = "/usr/bin/python3"
        if os.path.realpath(sys.executable) != os.path.realpath(system) and os.path.exists(system) \
                and not os.environ.get("TUNSIM_PLOT_REEXEC"):
            os.environ["TUNSIM_PLOT_REEXEC"] = "1"
            os.execv(system, [system] + sys.argv)
        sys.exit("plot: matplotlib is missing (Debian: apt-get install python3-matplotlib)")


_ensure_matplotlib()
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402,F401

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every
# common colour-vision deficiency. Black first is reserved for mainline drop.
OKABE_ITO = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"]

# Policy names exactly as docs/model.md and `tunsim list` give them, in that
# order, each with a fixed colour and marker so every figure agrees.
POLICIES = ["drop", "legacy-flowctl", "stop-if-nonempty", "nodrop-v2", "nodrop-v4", "nodrop-v6", "nodrop-v8"]
POLICY_STYLE = {
    "drop": ("#000000", "o"),
    "legacy-flowctl": ("#E69F00", "s"),
    "stop-if-nonempty": ("#56B4E9", "^"),
    "nodrop-v2": ("#009E73", "v"),
    "nodrop-v4": ("#CC79A7", "D"),
    "nodrop-v6": ("#0072B2", "P"),
    "nodrop-v8": ("#D55E00", "X"),
}
LINESTYLES = ["-", "--", ":", "-."]


def paper_style():
    plt.rcParams.update({
        "figure.figsize": (5.0, 3.4),
        "figure.dpi": 150,
        "savefig.dpi": 200,
        "font.size": 9,
        "axes.labelsize": 9,
        "axes.titlesize": 9,
        "legend.fontsize": 8,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "grid.linewidth": 0.5,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "lines.linewidth": 1.4,
        "lines.markersize": 4.5,
        "pdf.fonttype": 42,  # TrueType in PDFs: editable text, accepted by publishers
        "ps.fonttype": 42,
    })


def read_csv(path):
    with open(path, newline="") as f:
        r = csv.DictReader(f)
        return r.fieldnames or [], list(r)


def num(s):
    """float of a CSV cell; NaN for an empty cell."""
    try:
        return float(s)
    except (TypeError, ValueError):
        return math.nan


def varied_keys(header):
    """The sweep's --vary columns: between `point` and the fixed columns."""
    if "point" not in header:
        return []
    end = header.index("seed") if "seed" in header else header.index("policy")
    return header[header.index("point") + 1:end]


def series_key(row, keys, skip):
    """(policy, other varied key=value...) naming one line in a figure."""
    others = tuple((k, row[k]) for k in keys if k not in skip)
    return (row.get("policy", ""), others)


def series_label(key, varying_other_keys):
    policy, others = key
    parts = [policy] + ["%s=%s" % (k, v) for k, v in others if k in varying_other_keys]
    return ", ".join(parts)


def policy_color(policy):
    """The fixed colour of a known policy; any other name gets one of the
    palette's non-black colours by CRC-32 of its name, the same in every
    process (Python's hash() of a str changes with PYTHONHASHSEED)."""
    if policy in POLICY_STYLE:
        return POLICY_STYLE[policy][0]
    others = OKABE_ITO[1:]  # black stays mainline drop's
    return others[zlib.crc32(policy.encode("utf-8")) % len(others)]


def series_style(key, index_among_policy):
    color = policy_color(key[0])
    marker = POLICY_STYLE[key[0]][1] if key[0] in POLICY_STYLE else "o"
    return dict(color=color, marker=marker, linestyle=LINESTYLES[index_among_policy % len(LINESTYLES)])


def policy_rank(p):
    return POLICIES.index(p) if p in POLICIES else len(POLICIES)


def save(fig, outdir, name):
    os.makedirs(outdir, exist_ok=True)
    paths = []
    for ext in ("png", "pdf"):
        p = os.path.join(outdir, "%s.%s" % (name, ext))
        tmp = p + ".tmp.%d.%s" % (os.getpid(), ext)
        fig.savefig(tmp, bbox_inches="tight")
        os.replace(tmp, p)
        paths.append(p)
    plt.close(fig)
    return paths


def sweep_csv(d, name):
    """DIR/name if DIR is a directory, else the file itself."""
    return os.path.join(d, name) if os.path.isdir(d) else d


def sweep_plot_main(plot, name, doc):
    """The command line every sweep plot script shares:
    SCRIPT SWEEP_DIR [--flow N] [--out DIR]; prints the files written, or why
    the data does not support the plot."""
    import argparse
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sweep_dir")
    ap.add_argument("--flow", default="0", help="flow index (default 0)")
    ap.add_argument("--out", help="output directory (default SWEEP_DIR/plots)")
    a = ap.parse_args()
    try:
        for p in plot(a.sweep_dir, a.out or os.path.join(a.sweep_dir, "plots"), a.flow):
            print(p)
    except Skip as e:
        print("%s: skipped: %s" % (name, e), file=sys.stderr)


class Skip(Exception):
    """The data does not support this plot; the message says why."""
