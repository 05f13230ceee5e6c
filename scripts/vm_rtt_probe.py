#!/usr/bin/env python3
"""The VM's round trip, measured from the host: SYN -> RST to a closed port.

vm_rtt_probe.py ADDR [--port 9] [--count 200] [--gap-ms 5] [--json FILE]

Each probe is a TCP connect() to a port nobody listens on in the guest: one
frame into the tap (QEMU reads it, the emulated NIC raises an interrupt, the
guest's NAPI and TCP answer with a RST) and one frame back (the NIC's
transmit, QEMU's write into the tap), timed around connect() until it fails
with ECONNREFUSED. The guest is otherwise idle, so this is the path's latency
without queueing: scripts/twin-tap-qemu.sh runs it at its calibration step,
before the calibration point's traffic, and twin_tap_qemu_sim.py takes the
part of it the per-frame costs do not explain as the guest's interrupt
latency (vm.guest_irq_us). A probe that times out or meets anything but a
refusal is counted as lost, not timed. Prints p10/p50/p90/mean in µs;
--json writes them (written to FILE.tmp, then renamed). A bad option exits 2
naming it; fewer than half the probes refused (nothing answers, or
something listens on the port) exits 1, nothing written.
"""
import argparse
import json
import os
import socket
import statistics
import sys
import time


def probe(addr, port, timeout_s):
    """One connect(); its time in µs if the guest refused it, else None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout_s)
    t = time.perf_counter()
    try:
        s.connect((addr, port))
    except ConnectionRefusedError:
        return 1e6 * (time.perf_counter() - t)
    except OSError:
        return None
    finally:
        s.close()
    return None  # something listens there: not the probe this is


def bad_option(msg):
    print('vm_rtt_probe: ' + msg, file=sys.stderr)
    sys.exit(2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('addr')
    ap.add_argument('--port', type=int, default=9)
    ap.add_argument('--count', type=int, default=200)
    ap.add_argument('--gap-ms', type=float, default=5.0)
    ap.add_argument('--json', default=None)
    a = ap.parse_args()
    if not 1 <= a.port <= 65535:
        bad_option('--port must be in [1, 65535]')
    if not 10 <= a.count <= 100000:
        bad_option('--count must be in [10, 100000]')
    if not 0 <= a.gap_ms <= 10000:
        bad_option('--gap-ms must be in [0, 10000]')
    rtts, lost = [], 0
    for _ in range(a.count):
        r = probe(a.addr, a.port, 1.0)
        if r is None:
            lost += 1
        else:
            rtts.append(r)
        time.sleep(a.gap_ms / 1000.0)
    if len(rtts) < a.count // 2:
        sys.exit('vm_rtt_probe: only %d of %d probes were refused by %s:%d' % (len(rtts), a.count, a.addr, a.port))
    rtts.sort()
    n = len(rtts)
    out = {'probes': a.count, 'refused': n, 'lost': lost, 'port': a.port, 'gap_ms': a.gap_ms,
           'p10_us': rtts[n // 10], 'p50_us': rtts[n // 2], 'p90_us': rtts[9 * n // 10],
           'mean_us': statistics.mean(rtts)}
    print('vm_rtt_probe: %d of %d refused, round trip p10 %.0f p50 %.0f p90 %.0f mean %.0f us'
          % (n, a.count, out['p10_us'], out['p50_us'], out['p90_us'], out['mean_us']))
    if a.json:
        with open(a.json + '.tmp', 'w') as f:
            json.dump(out, f, indent=1)
        os.replace(a.json + '.tmp', a.json)


if __name__ == '__main__':
    main()
