"""One metric against ring size, one line per policy (and per value of any
other varied key), from a sweep's summary.csv: mean across seeds with the 95 %
confidence interval as error bars. Used by loss_vs_ring.py and
goodput_vs_ring.py."""
import os

from common import (Skip, matplotlib, num, paper_style, plt, policy_rank, read_csv, save, series_key, series_label,
                    series_style, varied_keys)


def plot_vs_ring(summary_csv, outdir, name, column, scale, ylabel, flow="0", title=None, logy=False):
    if not os.path.exists(summary_csv):
        raise Skip("no %s" % summary_csv)
    header, rows = read_csv(summary_csv)
    need = ["ring_size", "policy", "flow", column + "_mean"]
    missing = [c for c in need if c not in header]
    if missing:
        raise Skip("%s lacks columns %s" % (summary_csv, ", ".join(missing)))
    rows = [r for r in rows if r["flow"] == str(flow)]
    if not rows:
        raise Skip("no rows for flow %s in %s" % (flow, summary_csv))
    rings = sorted({int(r["ring_size"]) for r in rows})
    if len(rings) < 2:
        raise Skip("only one ring size (%s) in %s; vary tun.ring_size" % (rings[0], summary_csv))
    keys = varied_keys(header)
    skip = {"tun.ring_size", "tun.policy"}
    groups = {}
    for r in rows:
        groups.setdefault(series_key(r, keys, skip), []).append(r)
    varying = {k for k in keys if k not in skip and len({r[k] for r in rows}) > 1}
    paper_style()
    fig, ax = plt.subplots()
    seen_policy = {}
    any_ci = False
    for key in sorted(groups, key=lambda k: (policy_rank(k[0]), k[0], k[1])):
        pts = sorted(groups[key], key=lambda r: int(r["ring_size"]))
        xs = [int(r["ring_size"]) for r in pts]
        ys = [num(r[column + "_mean"]) * scale for r in pts]
        ci = [num(r.get(column + "_ci95", "")) * scale for r in pts]
        ci = [0.0 if c != c else c for c in ci]  # NaN (one seed) -> no bar
        any_ci = any_ci or any(ci)
        n = seen_policy.get(key[0], 0)
        seen_policy[key[0]] = n + 1
        ax.errorbar(xs, ys, yerr=ci if any(ci) else None, label=series_label(key, varying), capsize=2,
                    **series_style(key, n))
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: "%g" % v))
    if logy:
        ax.set_yscale("symlog", linthresh=0.1)
    ax.set_xlabel("tun ring size (txqueuelen, packets)")
    ax.set_ylabel(ylabel)
    seeds = sorted({r.get("seeds", "1") for r in rows})
    ax.set_title(title or "", loc="left")
    note = "flow %s, mean of %s seed(s)" % (flow, "/".join(seeds))
    if any_ci:
        note += ", bars: 95 % CI"
    elif any(s != "1" for s in seeds):
        note += " (all agree)"
    ax.set_title(note, loc="right", fontsize=7, color="0.4")
    ax.legend(title="tun.policy", frameon=False)
    return save(fig, outdir, name)
