#!/usr/bin/env python3
"""The tap ring's occupancy from scripts/tap-ring-trace.sh's trace.

tap_ring_occupancy.py TRACE [BIN_S] [--from S] [--to S] [--stalls] [--stalls-json FILE]

Occupancy = frames handed to tun_net_xmit() - FULL_RING drops - QEMU's
frame reads (> 8 bytes), from the first traced frame, in the trace's order
(a dropped frame's kfree_skb comes before its net_dev_xmit). Prints per bin of
BIN_S seconds (default 0.05; times from the first frame): the highest
occupancy, frames in, drops, frames read, writev()s (the guest's ACKs),
ACKs the host's TCP processed (tcp_probe) and the last snd_cwnd seen.
--stalls adds QEMU's read stalls: gaps of more than 1 ms between two frame
reads while frames waited in the ring (count, per s, mean, p50, p90, max).
With the main thread's sched_switch and ppoll/futex entries in the trace
(tap-ring-trace.sh since 2026-12-01) it also splits the stalls' time by
what QEMU's main thread was doing: running, runnable but off its CPU
(preempted), asleep on a futex (the BQL: under TCG the vCPU thread holds
it while it emulates), asleep in ppoll() (the tap fd not polled: QEMU stops
reading when the guest's receive ring is full), or asleep elsewhere. A
stall of which less than half was spent in ppoll() is a main-loop stall:
the CPU or the lock lost, not the guest's back-pressure; those are counted
apart, as the model's reader.preempt_interval_ms / preempt_ms describe.
--stalls-json FILE (implies --stalls) also writes those figures as JSON
(scripts/twin-tap-qemu.sh hands its calibration point's to the simulator).
"""
import argparse
import json
import os
import re
import sys

LINE = re.compile(r'\s*(\S+)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+): (\S+)(.*)')


SWITCH = re.compile(r'prev_pid=(\d+) .*prev_state=(\S+) ==> .*next_pid=(\d+)')


def events(path):
    """Time-ordered (t, kind, value). Kinds: in, drop, read, writev, ack
    (value: snd_cwnd), and for QEMU's main thread (pid from the trace's
    '# qemu_main_pid=' line, else the pid of the first frame read): main
    (value: running, runnable, or asleep: ppoll, futex, other)."""
    ev, raw, main_pid = [], [], None
    for line in open(path, errors='replace'):
        if line.startswith('# qemu_main_pid='):
            main_pid = int(line.split('=')[1])
            continue
        if line.startswith('#'):
            continue
        m = LINE.match(line)
        if m:
            raw.append(m)
    if main_pid is None:
        main_pid = next((int(m.group(2)) for m in raw if m.group(5) == 'sys_read'
                         and 8 < int(m.group(6).split('->')[1], 16) < 2 ** 63), None)
    syscall = 'other'
    for m in raw:
        t, name, rest = float(m.group(4)), m.group(5), m.group(6)
        if name == 'sched_switch:':
            sw = SWITCH.search(rest)
            if sw and int(sw.group(1)) == main_pid:
                runnable = sw.group(2).startswith('R')
                ev.append((t, 'main', 'runnable' if runnable else syscall))
            elif sw and int(sw.group(3)) == main_pid:
                ev.append((t, 'main', 'running'))
        elif name.startswith('sys_ppoll(') or name.startswith('sys_futex('):
            if int(m.group(2)) == main_pid:
                syscall = 'ppoll' if name.startswith('sys_ppoll(') else 'futex'
        elif name == 'sys_read' and int(m.group(2)) == main_pid:
            syscall = 'other'
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
    that arrived into it), each as (length, {main thread's state: time})."""
    occ, last_read, stalls = 0, None, []
    state, since, spent = 'unknown', None, {}
    for t, k, v in ev:
        if k == 'main':
            if since is not None:
                spent[state] = spent.get(state, 0.0) + t - since
            state, since = v, t
            continue
        if t < first:
            continue
        if k == 'read':
            if last_read is not None and occ > 0 and t - last_read > min_gap:
                if since is not None:
                    spent[state] = spent.get(state, 0.0) + t - since
                stalls.append((t - last_read, dict(spent)))
            last_read, spent, since = t, {}, (t if since is not None else None)
        occ += {'in': 1, 'drop': -1, 'read': -1}.get(k, 0)
        if k == 'in' and occ == 1:
            last_read, spent, since = t, {}, (t if since is not None else None)
    return sorted(stalls, key=lambda s: s[0])


def stall_figures(st, span):
    """count, per_s and (when any) mean, p50, p90, max in ms of sorted stalls."""
    n, ls = len(st), [s[0] for s in st]
    f = {'count': n, 'span_s': round(span, 6), 'per_s': n / span if span > 0 else 0.0}
    if n:
        f.update({'mean_ms': 1e3 * sum(ls) / n, 'p50_ms': 1e3 * ls[n // 2], 'p90_ms': 1e3 * ls[9 * n // 10],
                  'max_ms': 1e3 * ls[-1]})
    return f


def print_stalls(label, f):
    if not f['count']:
        print('%s: 0 in %.2f s' % (label, f['span_s']))
        return
    print('%s: %d in %.2f s (%.1f per s), mean %.2f ms, p50 %.2f, p90 %.2f, max %.2f ms'
          % (label, f['count'], f['span_s'], f['per_s'], f['mean_ms'], f['p50_ms'], f['p90_ms'], f['max_ms']))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('trace')
    ap.add_argument('bin_s', nargs='?', type=float, default=0.05)
    ap.add_argument('--from', dest='t_from', type=float, default=0.0)
    ap.add_argument('--to', dest='t_to', type=float, default=1e9)
    ap.add_argument('--stalls', action='store_true')
    ap.add_argument('--stalls-json', default=None)
    a = ap.parse_args()
    if a.bin_s <= 0:
        sys.exit('tap_ring_occupancy: BIN_S must be > 0')
    ev = events(a.trace)
    first = next((t for t, k, _ in ev if k == 'in'), None)
    if first is None:
        sys.exit('tap_ring_occupancy: no tap0 frame in %s' % a.trace)
    occ, bins = 0, {}
    for t, k, cwnd in ev:
        if t < first or k == 'main':
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
    if a.stalls or a.stalls_json:
        out = stalls_report(ev, first)
        if a.stalls_json:
            with open(a.stalls_json + '.tmp', 'w') as f:
                json.dump(out, f, indent=1)
            os.replace(a.stalls_json + '.tmp', a.stalls_json)


def stalls_report(ev, first):
    """Print the read stalls (and, with the main thread traced, their
    causes and the main-loop stalls); return the figures."""
    st = read_stalls(ev, first)
    span = ev[-1][0] - first
    out = {'min_gap_ms': 1.0, 'stalls': stall_figures(st, span)}
    print_stalls('read stalls > 1 ms with frames waiting', out['stalls'])
    total = {}
    for _, spent in st:
        for k, v in spent.items():
            total[k] = total.get(k, 0.0) + v
    if any(k != 'unknown' for k in total):
        whole = sum(total.values())
        out['time_share_by_main_thread_state'] = {k: total[k] / whole for k in total}
        print('  their time by the main thread\'s state: ' + ', '.join(
            '%s %.1f %%' % (k, 100 * total.get(k, 0.0) / whole)
            for k in ('running', 'runnable', 'futex', 'ppoll', 'other', 'unknown') if k in total))
        main = [s for s in st if s[1].get('ppoll', 0.0) < 0.5 * s[0]]
        out['main_loop_stalls'] = stall_figures(main, span)
        print_stalls('  main-loop stalls (less than half of it in ppoll)', out['main_loop_stalls'])
    return out


if __name__ == '__main__':
    main()
