#!/usr/bin/env python3
"""The TAP figures (issue 15): goodput vs ring size for the qemu (e1000) and
vhost-net consumers, one line per (RTT, policy), with the authors' published
points: plot/vm_tap.py SWEEPS_DIR [--out DIR]

SWEEPS_DIR holds the four sweeps of docs/model.md ("Virtual machines"):
qemu-local, qemu-rtt, vhost-local, vhost-rtt (tunsim sweep ... --vary
tun.ring_size --vary tun.policy [--vary underlay.delay_ms]). Writes
vm_tap.png/.pdf and vm_tap.csv (consumer, rtt_ms, ring, policy, goodput,
loss, retransmits, tap drops) into SWEEPS_DIR (or --out).

--keep CSV: a consumer with no sweep in SWEEPS_DIR keeps its rows from CSV
(an earlier vm_tap.csv), so one consumer can be re-run alone when a change
touches only it."""
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import POLICY_STYLE, matplotlib, num, paper_style, plt, read_csv, save  # noqa: E402

CONSUMERS = [("qemu", "QEMU + e1000 (tap_send, one read per frame)"),
             ("vhost", "vhost-net + virtio-net (batches of 64, GSO frames)")]
# Reference §6 (v4 cover letter) and the authors' benchmark files
# (tudo-cni/nodrop validation_tools/qemu/benchmarks), Mbit/s, ring 1000.
PUBLISHED = {
    ("qemu", 0): {"drop": 2200, "nodrop-v8": 2200},
    ("qemu", 120): {"drop": 98, "nodrop-v8": 198},
    ("vhost", 0): {"drop": 23400, "nodrop-v8": 23900},
    ("vhost", 120): {"drop": 200, "nodrop-v8": 200},
}
RTT_STYLE = {0: "-", 60: "--", 120: ":"}


def rows_of(sweeps_dir, consumer):
    out = []
    for part in ("local", "rtt"):
        path = os.path.join(sweeps_dir, "%s-%s" % (consumer, part), "summary.csv")
        if not os.path.exists(path):
            continue
        _, rows = read_csv(path)
        for r in rows:
            one_way = num(r.get("underlay.delay_ms", "0") or "0")
            out.append({
                "consumer": consumer,
                "rtt_ms": int(round(2 * one_way)),
                "ring": int(r["ring_size"]),
                "policy": r["policy"],
                "goodput_mbps": num(r["goodput_mbps_mean"]),
                "loss_ratio": num(r["loss_ratio_mean"]),
                "retransmits": num(r.get("retransmits_mean", "nan")),
                "tap_drops": num(r["tun_tx_dropped_mean"]),
            })
    return sorted(out, key=lambda x: (x["rtt_ms"], x["ring"], x["policy"]))


def kept_rows(path, consumer):
    if not path or not os.path.exists(path):
        return []
    _, rows = read_csv(path)
    out = []
    for r in rows:
        if r["consumer"] != consumer:
            continue
        out.append({"consumer": consumer, "rtt_ms": int(r["rtt_ms"]), "ring": int(r["ring"]), "policy": r["policy"],
                    "goodput_mbps": num(r["goodput_mbps"]), "loss_ratio": num(r["loss_ratio"]),
                    "retransmits": num(r["retransmits"]), "tap_drops": num(r["tap_drops"])})
    return out


def main():
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if args else 2
    sweeps_dir = args[0]
    outdir = args[args.index("--out") + 1] if "--out" in args else sweeps_dir
    keep = args[args.index("--keep") + 1] if "--keep" in args else None
    if keep:
        # read before the output (possibly the same file) is rewritten
        kept = {c: kept_rows(keep, c) for c, _ in CONSUMERS}
    os.makedirs(outdir, exist_ok=True)
    table = []
    paper_style()
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.6))
    for ax, (consumer, title) in zip(axes, CONSUMERS):
        rows = rows_of(sweeps_dir, consumer)
        if not rows and keep:
            rows = kept[consumer]
        table += rows
        for rtt in sorted({r["rtt_ms"] for r in rows}):
            for policy in ("drop", "nodrop-v8"):
                pts = [r for r in rows if r["rtt_ms"] == rtt and r["policy"] == policy]
                if not pts:
                    continue
                colour, marker = POLICY_STYLE[policy]
                ax.plot([p["ring"] for p in pts], [p["goodput_mbps"] for p in pts], color=colour, marker=marker,
                        linestyle=RTT_STYLE.get(rtt, "-"), label="%s, RTT %d ms" % (policy, rtt))
                pub = PUBLISHED.get((consumer, rtt), {}).get(policy)
                if pub:
                    ax.plot([1000], [pub], marker="*", markersize=11, color=colour, markerfacecolor="none",
                            linestyle="none")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: "%g" % v))
        ax.set_xlabel("tap ring size (txqueuelen, frames)")
        ax.set_ylabel("TCP goodput host -> guest (Mbit/s)")
        ax.set_title(title, loc="left")
    for ax in axes:
        ax.legend(frameon=False, fontsize=6.5, loc="lower right")
    fig.text(0.01, 0.01, "open stars: published (reference §6), ring 1000; vhost-net: tap with offloads (one ring "
             "entry per GSO skb), e1000: without", fontsize=6.5, color="0.4")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    save(fig, outdir, "vm_tap")
    with open(os.path.join(outdir, "vm_tap.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(table[0].keys()) if table else ["consumer"])
        w.writeheader()
        for r in table:
            w.writerow({k: ("%.4g" % v if isinstance(v, float) else v) for k, v in r.items()})
    print("wrote %s" % os.path.join(outdir, "vm_tap.csv"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
