"""The reader's wake-ups as tunsim kernel measured them, for validate-kernel.sh.

wake_pairs(result_json): the (sleep, wake-up) pairs of that run's
reader_wakeups.csv in us, the wake-up minus the run's mean send() (the
simulator counts the wake-up from the produce, inside the send()).
quantile_midpoints(xs, q): q equally likely values standing for the
distribution of xs, as reader.*wakeup_quantiles_us takes them.
"""
import csv
import json
import os


def wake_pairs(result_json):
    send_ns = json.load(open(result_json))["flows"][0]["kernel"]["send_ns_mean"]
    with open(os.path.join(os.path.dirname(result_json), "reader_wakeups.csv")) as f:
        return [(int(r["sleep_ns"]) / 1e3, (int(r["wake_ns"]) - send_ns) / 1e3) for r in csv.DictReader(f)]


def quantile_midpoints(xs, q):
    """The empirical quantiles of xs at (i + 1/2) / q, i = 0 .. q-1, each >= 0."""
    xs = sorted(xs)
    return [round(max(0.0, xs[min(len(xs) - 1, int((i + 0.5) / q * len(xs)))]), 2) for i in range(q)]
