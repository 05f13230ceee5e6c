#!/usr/bin/env python3
"""Reproduce the NODROP paper's experiments with tunsim and compare.

    python3 plot/reproduce.py [--tunsim build/tunsim] [--out results/reproduce] [--jobs N] [--quick]

Runs the four scenarios of issue 3 (teleop-video, germany-usa-tcp,
openconnect-netperf, peak-rate) and their sweeps with `tunsim run`, in
parallel, then prints a table (experiment, metric, paper figure, tunsim
figure, target, within) and writes it with the plots (PNG + PDF) under the
output directory:

    table.md, table.csv, reproduce.json     the comparison
    video_loss_vs_ring.*                    video packet loss vs ring size per policy
    video_sensitivity.md                    loss of mainline drop vs bit rate, reader cost, ring
    tcp_goodput_vs_ring.*                   TCP goodput vs ring size per policy
    tcp_timeseries.*                        cwnd and ring/qdisc occupancy, drop vs nodrop-v8
    runs/<name>/result.json                 every run (repeatable: scenario + seed inside)

Every figure in the table is measured in this invocation. Exit status 0 when
every target is met, 1 otherwise (the table says which), 2 on a failed run.
"""
import argparse
import concurrent.futures
import csv
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (re-executes under Debian's python3 if matplotlib is missing)
from common import plt, POLICY_STYLE, paper_style, save  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NODROP = ["nodrop-v2", "nodrop-v4", "nodrop-v6", "nodrop-v8"]


class Runner:
    def __init__(self, tunsim, out, jobs):
        self.tunsim, self.out, self.jobs = tunsim, out, jobs
        self.todo = {}

    def add(self, name, scenario, sets=(), seed=None, timeseries=None):
        """Queue one run; returns its name (results are fetched with get)."""
        args = [self.tunsim, "run", os.path.join(ROOT, "scenarios", scenario),
                "--out", os.path.join(self.out, "runs", name), "--quiet"]
        for s in sets:
            args += ["--set", s]
        if seed is not None:
            args += ["--seed", str(seed)]
        if timeseries:
            args += ["--timeseries", str(timeseries)]
        self.todo[name] = args
        return name

    def run_all(self):
        def one(item):
            name, args = item
            p = subprocess.run(args, capture_output=True, text=True)
            return name, p.returncode, p.stderr
        failed = []
        done = 0
        with concurrent.futures.ThreadPoolExecutor(self.jobs) as ex:
            for name, rc, err in ex.map(one, sorted(self.todo.items())):
                done += 1
                print("  [%3d/%d] %s%s" % (done, len(self.todo), name, "" if rc == 0 else "  FAILED (%d)" % rc),
                      flush=True)
                if rc != 0:
                    failed.append((name, rc, err.strip()))
        for name, rc, err in failed:
            print("run %s failed with exit %d: %s" % (name, rc, err), file=sys.stderr)
        if failed:
            sys.exit(2)

    def get(self, name):
        with open(os.path.join(self.out, "runs", name, "result.json")) as f:
            return json.load(f)

    def timeseries(self, name):
        with open(os.path.join(self.out, "runs", name, "timeseries.csv")) as f:
            return list(csv.DictReader(f))


def loss(r):
    sent = sum(f["sent_packets"] for f in r["flows"])
    dropped = sum(f["dropped_packets"] for f in r["flows"])
    return dropped / sent if sent else 0.0


class Table:
    def __init__(self):
        self.rows = []

    def add(self, experiment, metric, paper, value, target, ok, unit=""):
        self.rows.append(dict(experiment=experiment, metric=metric, paper=paper,
                              tunsim=value if isinstance(value, str) else ("%.4g%s" % (value, unit)),
                              target=target, within="-" if ok is None else ("yes" if ok else "NO")))

    def print(self):
        cols = ["experiment", "metric", "paper", "tunsim", "target", "within"]
        w = {c: max(len(c), *(len(str(r[c])) for r in self.rows)) for c in cols}
        line = "  ".join(c.ljust(w[c]) for c in cols)
        print(line)
        print("-" * len(line))
        for r in self.rows:
            print("  ".join(str(r[c]).ljust(w[c]) for c in cols))

    def markdown(self):
        cols = ["experiment", "metric", "paper", "tunsim", "target", "within"]
        out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for r in self.rows:
            out.append("| " + " | ".join(str(r[c]) for c in cols) + " |")
        return "\n".join(out) + "\n"

    def write(self, outdir):
        with open(os.path.join(outdir, "table.md.tmp"), "w") as f:
            f.write(self.markdown())
        os.replace(os.path.join(outdir, "table.md.tmp"), os.path.join(outdir, "table.md"))
        with open(os.path.join(outdir, "table.csv.tmp"), "w", newline="") as f:
            wr = csv.DictWriter(f, fieldnames=list(self.rows[0].keys()))
            wr.writeheader()
            wr.writerows(self.rows)
        os.replace(os.path.join(outdir, "table.csv.tmp"), os.path.join(outdir, "table.csv"))

    def all_ok(self):
        return all(r["within"] != "NO" for r in self.rows)


def plot_vs_ring(points, ylabel, title, outdir, name, logy=False, percent=False):
    """points: {policy: [(ring, value), ...]}"""
    paper_style()
    fig, ax = plt.subplots()
    for policy in ["drop"] + NODROP:
        if policy not in points:
            continue
        xs, ys = zip(*sorted(points[policy]))
        color, marker = POLICY_STYLE[policy]
        ax.plot(xs, [100 * y for y in ys] if percent else ys, color=color, marker=marker, label=policy,
                linestyle="-" if policy == "drop" else "--")
    ax.set_xscale("log")
    ax.set_xticks([1, 5, 10, 25, 100, 500, 1000])
    ax.get_xaxis().set_major_formatter(common.matplotlib.ticker.ScalarFormatter())
    ax.set_xlabel("tun ring size (txqueuelen, entries)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return save(fig, outdir, name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tunsim", default=os.path.join(ROOT, "build", "tunsim"))
    ap.add_argument("--out", default=os.path.join(ROOT, "results", "reproduce"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--quick", action="store_true",
                    help="shorter runs and fewer seeds (the CI smoke test; targets may then miss)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    R = Runner(a.tunsim, a.out, a.jobs)
    q = a.quick
    seeds = [1, 2] if q else [1, 2, 3, 4, 5]

    # ---- 1. teleoperation video
    vdur = ["duration_s=5", "flows.0.stop_s=4.5"] if q else []
    rings = [1, 5, 10, 25, 50, 100, 250, 500, 1000]
    for s in seeds:
        R.add("video-drop-25-seed%d" % s, "teleop-video.json", vdur, seed=s)
    for p in ["drop"] + NODROP:
        for ring in rings:
            R.add("video-%s-ring%d" % (p, ring), "teleop-video.json", vdur + ["tun.policy=" + p, "tun.ring_size=%d" % ring])
    sens = {"rate": [6, 8, 10, 12, 14], "reader": [5000, 10000, 20000], "ring": [15, 25, 35, 50]}
    for v in sens["rate"]:
        R.add("video-sens-rate%d" % v, "teleop-video.json", vdur + ["flows.0.rate_mbps=%d" % v])
    for v in sens["reader"]:
        R.add("video-sens-reader%d" % v, "teleop-video.json", vdur + ["reader.per_packet_ns=%d" % v])
    for v in sens["ring"]:
        R.add("video-sens-ring%d" % v, "teleop-video.json", vdur + ["tun.ring_size=%d" % v])

    # ---- 2. Germany-USA TCP
    tdur = ["duration_s=20"] if q else []
    for s in seeds:
        for p in ["drop", "nodrop-v8"]:
            R.add("tcp-%s-500-seed%d" % (p, s), "germany-usa-tcp.json", tdur + ["tun.policy=" + p], seed=s,
                  timeseries=50 if s == 1 else None)
    tcp_rings = [5, 10, 25, 100, 500, 1000]
    for p in ["drop", "nodrop-v6", "nodrop-v8"]:
        for ring in tcp_rings:
            R.add("tcp-sweep-%s-ring%d" % (p, ring), "germany-usa-tcp.json",
                  ["duration_s=%d" % (10 if q else 20), "tun.policy=" + p, "tun.ring_size=%d" % ring])

    # ---- 3. seed 003 netperf
    ndur = ["duration_s=0.3"] if q else ["duration_s=1"]
    for p in ["drop", "stop-if-nonempty"]:
        R.add("netperf-%s" % p, "openconnect-netperf.json", ndur + ["tun.policy=" + p])
    R.add("netperf-stop-if-nonempty-no-cpu-charge", "openconnect-netperf.json",
          ndur + ["tun.policy=stop-if-nonempty", "tun.softirq_on_reader_cpu=false"])
    R.add("netperf-stop-if-nonempty-latency20us", "openconnect-netperf.json",
          ndur + ["tun.policy=stop-if-nonempty", "tun.softirq_on_reader_cpu=false", "tun.softirq_latency_us=20"])

    # ---- 4. peak packet rate
    pdur = ["duration_s=0.2"] if q else []
    for p in ["drop"] + NODROP:
        R.add("peak-%s" % p, "peak-rate.json", pdur + ["tun.policy=" + p])

    print("tunsim reproduce: %d runs on %d jobs -> %s" % (len(R.todo), a.jobs, a.out), flush=True)
    R.run_all()

    T = Table()
    summary = {}

    # video
    drop25 = [loss(R.get("video-drop-25-seed%d" % s)) for s in seeds]
    frames = [R.get("video-drop-25-seed%d" % s)["flows"][0]["frame_loss_ratio"] for s in seeds]
    m = statistics.mean(drop25)
    T.add("teleop-video", "packet loss, drop, ring 25 (mean of %d seeds)" % len(seeds), "29 %",
          100 * m, "29 ± 5 pp", abs(100 * m - 29) <= 5, " %")
    T.add("teleop-video", "frame loss, drop, ring 25", "-", 100 * statistics.mean(frames), "(reported)", None, " %")
    r0 = R.get("video-drop-25-seed1")["flows"][0]["delay"]
    r8 = R.get("video-nodrop-v8-ring25")["flows"][0]["delay"]
    T.add("teleop-video", "one-way delay p50/p99, drop, ring 25", "-",
          "%.1f / %.1f ms" % (r0["p50_ms"], r0["p99_ms"]), "(reported)", None)
    T.add("teleop-video", "one-way delay p50/p99, nodrop-v8, ring 25", "-",
          "%.1f / %.1f ms" % (r8["p50_ms"], r8["p99_ms"]), "(reported)", None)
    worst = max(loss(R.get("video-%s-ring%d" % (p, ring))) for p in NODROP for ring in rings)
    T.add("teleop-video", "max packet loss, every NODROP policy, rings 1-1000", "0", 100 * worst,
          "0", worst == 0, " %")
    vpoints = {p: [(ring, loss(R.get("video-%s-ring%d" % (p, ring)))) for ring in rings] for p in ["drop"] + NODROP}
    plot_vs_ring(vpoints, "packet loss (%)", "teleoperation video (10 Mbit/s, 1080p30) through the VPN",
                 a.out, "video_loss_vs_ring", percent=True)
    lines = ["# Mainline drop: video packet loss sensitivity (one seed)", "",
             "Base: teleop-video.json (10 Mbit/s, reader 10 us + 4 ns/B, ring 25). One parameter varied at a time.", "",
             "| parameter | value | packet loss | frame loss |", "|---|---|---|---|"]
    for key, label, unit in [("rate", "video bit rate", "Mbit/s"), ("reader", "reader fixed cost", "ns/packet"),
                             ("ring", "ring size", "entries")]:
        for v in sens[key]:
            r = R.get("video-sens-%s%d" % (key, v))
            lines.append("| %s | %s %s | %.1f %% | %.1f %% |" % (label, v, unit, 100 * loss(r),
                                                                100 * r["flows"][0]["frame_loss_ratio"]))
    with open(os.path.join(a.out, "video_sensitivity.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    summary["video_sensitivity"] = lines

    # TCP
    gp = lambda n: R.get(n)["flows"][0]["goodput_mbps"]  # noqa: E731
    gd = [gp("tcp-drop-500-seed%d" % s) for s in seeds]
    g8 = [gp("tcp-nodrop-v8-500-seed%d" % s) for s in seeds]
    md, m8 = statistics.mean(gd), statistics.mean(g8)
    T.add("germany-usa-tcp", "goodput, drop, ring 500", "117 Mbit/s", md, "117 ± 20 %", abs(md - 117) <= 0.2 * 117,
          " Mbit/s")
    T.add("germany-usa-tcp", "goodput, nodrop-v8, ring 500", "185 Mbit/s", m8, "185 ± 20 %",
          abs(m8 - 185) <= 0.2 * 185, " Mbit/s")
    T.add("germany-usa-tcp", "ratio nodrop-v8 / drop", "1.58", m8 / md, "1.58 ± 0.25", abs(m8 / md - 1.58) <= 0.25)
    rx = statistics.mean(R.get("tcp-drop-500-seed%d" % s)["flows"][0]["retransmits"] for s in seeds)
    rx8 = statistics.mean(R.get("tcp-nodrop-v8-500-seed%d" % s)["flows"][0]["retransmits"] for s in seeds)
    T.add("germany-usa-tcp", "retransmitted segments drop / nodrop-v8", "-", "%.0f / %.0f" % (rx, rx8),
          "(reported)", None)
    g500 = gp("tcp-sweep-nodrop-v8-ring500")
    for ring in [5, 10]:
        g = gp("tcp-sweep-nodrop-v8-ring%d" % ring)
        T.add("germany-usa-tcp", "nodrop-v8 ring %d vs ring 500 (seed 1)" % ring, "no loss of performance",
              100 * (g / g500 - 1), "within 5 %", abs(g / g500 - 1) <= 0.05, " %")
    tpoints = {p: [(ring, gp("tcp-sweep-%s-ring%d" % (p, ring))) for ring in tcp_rings]
               for p in ["drop", "nodrop-v6", "nodrop-v8"]}
    plot_vs_ring(tpoints, "goodput (Mbit/s)", "TCP Cubic, 120 ms RTT, OpenVPN-like reader", a.out,
                 "tcp_goodput_vs_ring")
    paper_style()
    fig, axes = plt.subplots(2, 2, figsize=(8, 5), sharex=True)
    for col, p in enumerate(["drop", "nodrop-v8"]):
        rows = R.timeseries("tcp-%s-500-seed1" % p)
        t = [float(r["time_s"]) for r in rows]
        color = POLICY_STYLE[p][0]
        axes[0][col].plot(t, [float(r["cwnd_bytes"] or 0) / 1448 for r in rows], color=color, lw=0.8)
        axes[0][col].set_title(p)
        axes[0][col].set_ylabel("cwnd (segments)")
        axes[1][col].plot(t, [float(r["ring_occupancy"]) for r in rows], color=color, lw=0.8, label="tun ring")
        axes[1][col].plot(t, [float(r["qdisc_backlog"]) for r in rows], color="#56B4E9", lw=0.8,
                          label="qdisc (fq_codel)")
        axes[1][col].set_ylabel("packets queued")
        axes[1][col].set_xlabel("time (s)")
        axes[1][col].legend(loc="upper right")
        for ax in (axes[0][col], axes[1][col]):
            ax.grid(True, alpha=0.3)
    fig.suptitle("Germany-USA TCP over the VPN, ring 500 (seed 1, sampled every 50 ms)")
    fig.tight_layout()
    save(fig, a.out, "tcp_timeseries")

    # netperf
    nd = R.get("netperf-drop")["flows"][0]
    ns = R.get("netperf-stop-if-nonempty")["flows"][0]
    capacity = 1400 * 8 / 6.51e-6 / 1e6
    T.add("openconnect-netperf", "drop: sent / received", "9178 / 1720 Mbit/s",
          "%.0f / %.0f Mbit/s" % (nd["sent_mbps"], nd["goodput_mbps"]), "sent >= 3 x received",
          nd["sent_mbps"] >= 3 * nd["goodput_mbps"])
    T.add("openconnect-netperf", "drop: received vs reader capacity", "1720 Mbit/s",
          100 * (nd["goodput_mbps"] / capacity - 1), "within 2 %", abs(nd["goodput_mbps"] / capacity - 1) <= 0.02,
          " %")
    T.add("openconnect-netperf", "stop-if-nonempty: sent / received", "1400 / 1395 Mbit/s",
          "%.0f / %.0f Mbit/s" % (ns["sent_mbps"], ns["goodput_mbps"]), "within 2 %",
          abs(ns["sent_mbps"] / ns["goodput_mbps"] - 1) <= 0.02)
    change = 100 * (ns["goodput_mbps"] / nd["goodput_mbps"] - 1)
    T.add("openconnect-netperf", "received, stop-if-nonempty vs drop", "-19 %", change, "-19 ± 5 pp",
          abs(change + 19) <= 5, " %")
    for name, label in [("netperf-stop-if-nonempty-no-cpu-charge", "without the softirq CPU on the reader"),
                        ("netperf-stop-if-nonempty-latency20us", "no CPU charge, softirq latency 20 us")]:
        f = R.get(name)["flows"][0]
        T.add("openconnect-netperf", "received, stop-if-nonempty, " + label, "-",
              100 * (f["goodput_mbps"] / nd["goodput_mbps"] - 1), "(mechanism check)", None, " %")

    # peak rate
    pps = lambda n: R.get(n)["flows"][0]["delivered_packets"] / R.get(n)["flows"][0]["active_s"]  # noqa: E731
    base = pps("peak-drop")
    for p in NODROP:
        d = 100 * (pps("peak-" + p) / base - 1)
        paper = "about -4 % (the paper's patch)" if p == "nodrop-v2" else "-"
        ok = abs(d + 4) <= 2 if p == "nodrop-v2" else None
        T.add("peak-rate", "peak packet rate %s vs drop, ring 500" % p, paper, d,
              "-4 ± 2 pp" if p == "nodrop-v2" else "(reported)", ok, " %")

    print()
    T.print()
    T.write(a.out)
    summary["table"] = T.rows
    with open(os.path.join(a.out, "reproduce.json.tmp"), "w") as f:
        json.dump(summary, f, indent=2)
    os.replace(os.path.join(a.out, "reproduce.json.tmp"), os.path.join(a.out, "reproduce.json"))
    print("\nplots and tables in %s" % a.out)
    sys.exit(0 if T.all_ok() else 1)


if __name__ == "__main__":
    main()
