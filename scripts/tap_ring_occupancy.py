#!/usr/bin/env python3
"""The tap ring's occupancy from scripts/tap-ring-trace.sh's trace.

tap_ring_occupancy.py TRACE [BIN_S] [--from S] [--to S] [--stalls]

Occupancy = frames handed to tun_net_xmit() - FULL_RING drops - QEMU's
frame reads (> 8 bytes), from the first traced frame, in the trace's order
(a dropped frame's kfree_skb comes before its net_dev_xmit). Prints per bin of
BIN_S seconds (default 0.05; times from the first frame): the highest
occupancy, frames in, drops, frames read, writev()s (the guest's ACKs),
ACKs the host's TCP processed (tcp_probe) and the last snd_cwnd seen.
--stalls adds QEMU's read stalls: gaps of more than 1 ms between two frame
reads while frames waited in the ring (count, per s, mean, p50, p90, max).
"""
import argparse
import re
import sys

LINE = re.compile(r'\s*(\S+)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+): (\S+)(.*)')


def events(path):
    ev = []
    for line in open(path, errors='replace'):
        if line.startswith('#'):
            continue
        m = LINE.match(line)
        if not m:
            continue
        t, name, rest = float(m.group(4)), m.group(5), m.group(6)
        if name == 'net_dev_xmit:':
            ev.append((t, 'in', None))
        elif name == 'kfree_skb:' and 'FULL_RING' in rest:
            ev.append((t, 'drop', None))
        elif name == 'sys_read':
            r = int(rest.split('->')[1], 16)
            if 8 < r < 2 ** 63:
                ev.append((t, 'read', None))
        elif name == 'sys_writev':
            ev.append((t, 'writev', None))
        elif name == 'tcp_probe:':
            c = re.search(r'snd_cwnd=(\d+)', rest)
            ev.append((t, 'ack', int(c.group(1)) if c else None))
    ev.sort(key=lambda e: e[0])
    return ev


def read_stalls(ev, first, min_gap=0.001):
    """Gaps > min_gap between two frame reads with the ring non-empty
    throughout (a gap that began with the ring empty starts at the frame
    that arrived into it)."""
    occ, last_read, stalls = 0, None, []
    for t, k, _ in ev:
        if t < first:
            continue
        if k == 'read':
            if last_read is not None and occ > 0 and t - last_read > min_gap:
                stalls.append(t - last_read)
            last_read = t
        occ += {'in': 1, 'drop': -1, 'read': -1}.get(k, 0)
        if k == 'in' and occ == 1:
            last_read = t
    return sorted(stalls)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('trace')
    ap.add_argument('bin_s', nargs='?', type=float, default=0.05)
    ap.add_argument('--from', dest='t_from', type=float, default=0.0)
    ap.add_argument('--to', dest='t_to', type=float, default=1e9)
    ap.add_argument('--stalls', action='store_true')
    a = ap.parse_args()
    if a.bin_s <= 0:
        sys.exit('tap_ring_occupancy: BIN_S must be > 0')
    ev = events(a.trace)
    first = next((t for t, k, _ in ev if k == 'in'), None)
    if first is None:
        sys.exit('tap_ring_occupancy: no tap0 frame in %s' % a.trace)
    occ, bins = 0, {}
    for t, k, cwnd in ev:
        if t < first:
            continue
        b = int((t - first) / a.bin_s)
        # the bin's highest occupancy counts what it held when the bin began
        s = bins.setdefault(b, {'max': occ, 'in': 0, 'drop': 0, 'read': 0, 'writev': 0, 'ack': 0, 'cwnd': None})
        occ += {'in': 1, 'drop': -1, 'read': -1}.get(k, 0)
        s['max'] = max(s['max'], occ)
        s[k] += 1
        if cwnd is not None:
            s['cwnd'] = cwnd
    print('t_s      max_occupancy  in  drops  reads  writevs  acks  cwnd   (from the first frame at %.6f)' % first)
    for b in sorted(bins):
        t = b * a.bin_s
        if a.t_from <= t < a.t_to:
            s = bins[b]
            print('%7.3f %6d %8d %5d %7d %6d %5d %5s' % (t, s['max'], s['in'], s['drop'], s['read'], s['writev'],
                                                   s['ack'], '-' if s['cwnd'] is None else s['cwnd']))
    print('end occupancy %d (0 when every frame in was read or dropped)' % occ)
    if a.stalls:
        st = read_stalls(ev, first)
        span = ev[-1][0] - first
        if st:
            n = len(st)
            print('read stalls > 1 ms with frames waiting: %d in %.2f s (%.1f per s), mean %.2f ms, p50 %.2f, '
                  'p90 %.2f, max %.2f ms' % (n, span, n / span if span > 0 else 0.0, 1e3 * sum(st) / n,
                                             1e3 * st[n // 2], 1e3 * st[9 * n // 10], 1e3 * st[-1]))
        else:
            print('read stalls > 1 ms with frames waiting: 0 in %.2f s' % span)


if __name__ == '__main__':
    main()
