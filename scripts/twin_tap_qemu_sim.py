#!/usr/bin/env python3
"""The simulator beside the TAP + QEMU twin (scripts/twin-tap-qemu.sh).

twin_tap_qemu_sim.py TWIN.csv [--tunsim build/tunsim] [--out DIR]
                     [--vm-rtt VM_RTT.json] [--stalls STALLS.json]

The costs come from the twin's first row only (its calibration point):
  vm.frame_ns = vm.tx_frame_ns = QEMU main-loop CPU / (frames in + frames out)
  vm.guest_frame_ns            = the vCPU's CPU / frames into the guest
Every row is then simulated (scenarios/vm-tap-qemu.json, tun.ring_size,
underlay.delay_ms = rtt/2, duration_s = the twin's seconds), each as:
  gro    -- those costs, the guest's GRO on (the default);
  nogro  -- the same with GRO off;
  rtt    -- (with --vm-rtt: vm_rtt_probe.py's JSON, taken at the
            calibration step with the guest idle) gro, and the part of the
            VM's measured round trip that the per-frame costs do not explain
            as the guest's interrupt latency:
              vm.guest_irq_us = p50 - calibration row's RTT - (frame_ns +
                                guest_frame_ns + tx_frame_ns) / 1000
                                - reader.wakeup_latency_us (5), at least 0;
  rttd   -- (with --vm-rtt) gro, and that same part of the round trip as
            a delay of every frame (underlay.delay_ms + half of it each
            way) instead of a latency per interrupt: under a paced load the
            probe's round trip stays (twin-tap-qemu.sh --probe-under-load,
            docs/twin-tap-qemu.md), so the guest is later, not slower;
  cal    -- (with --stalls: tap_ring_occupancy.py --stalls-json of the
            calibration point) rtt (or gro), and QEMU's main-loop stalls:
              reader.preempt_interval_ms = 1000 / main-loop stalls per s,
              reader.preempt_ms          = their mean length
            (VmBackend::SetPreemption(): exponential gaps and lengths with
            those means; the trace counts only stalls of more than 1 ms, so
            the model's stall time per second is the measured one, spread
            over more, shorter stalls);
  cald   -- (with both) rttd and those stalls.
Nothing comes from the row being simulated but its ring, RTT and duration.
Writes DIR/twin-vs-sim.csv and prints the table.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile


def simulate(tunsim, row, costs, variant, workdir):
    """Run the row with the calibration's costs and the variant's extra
    fields; goodput, retransmits and frames each way."""
    out = os.path.join(workdir, 'r%s-rtt%s-%s' % (row['ring'], row['rtt_ms'], variant['name']))
    sets = {'duration_s': row['secs'],
            'underlay.delay_ms': '%g' % (float(row['rtt_ms']) / 2 + variant.get('delay_add_ms', 0.0)),
            'tun.ring_size': row['ring'], 'vm.frame_ns': '%.0f' % costs['frame_ns'],
            'vm.tx_frame_ns': '%.0f' % costs['frame_ns'], 'vm.guest_frame_ns': '%.0f' % costs['guest_frame_ns']}
    sets.update(variant['set'])
    cmd = [tunsim, 'run', 'scenarios/vm-tap-qemu.json', '--out', out]
    for k, v in sets.items():
        cmd += ['--set', '%s=%s' % (k, v)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    r = json.load(open(os.path.join(out, 'result.json')))
    c = r['conservation']
    return {'goodput': r['flows'][0]['goodput_mbps'], 'retrans': r['flows'][0].get('retransmits', 0),
            'fwd': c['forward']['sent'], 'rev': c['reverse']['sent']}


def guest_irq_us(path, cal, costs, wakeup_us=5.0):
    """vm.guest_irq_us from vm_rtt_probe.py's p50 (see the header)."""
    try:
        p50 = float(json.load(open(path))['p50_us'])
    except (OSError, ValueError, KeyError, TypeError) as e:
        sys.exit('twin_tap_qemu_sim: --vm-rtt %s: no p50_us (%s)' % (path, e))
    frames_us = (2 * costs['frame_ns'] + costs['guest_frame_ns']) / 1000.0
    return p50, max(0.0, p50 - 1000.0 * float(cal['rtt_ms']) - frames_us - wakeup_us)


def calibration_stalls(path):
    """The main-loop stalls of tap_ring_occupancy.py --stalls-json: rate,
    mean length and the preemption interval they make."""
    try:
        m = json.load(open(path))['main_loop_stalls']
        per_s, mean_ms = float(m['per_s']), float(m.get('mean_ms', 0.0))
    except (OSError, ValueError, KeyError, TypeError) as e:
        sys.exit('twin_tap_qemu_sim: --stalls %s: no main_loop_stalls.per_s / mean_ms (%s): trace the '
                 'main thread (tap-ring-trace.sh since 2026-12-01)' % (path, e))
    if per_s <= 0 or mean_ms <= 0:
        return {'per_s': 0.0, 'mean_ms': 0.0, 'interval_ms': 0.0}  # no stall seen: none simulated
    return {'per_s': per_s, 'mean_ms': mean_ms, 'interval_ms': 1000.0 / per_s}


def variants(a, cal, costs):
    """The simulations per row (see the header) and the calibration figures
    they use, as CSV columns."""
    v = [{'name': 'gro', 'set': {'vm.gro': 'true'}}, {'name': 'nogro', 'set': {'vm.gro': 'false'}}]
    extra, cols = {'vm.gro': 'true'}, {}
    if a.vm_rtt:
        p50, irq = guest_irq_us(a.vm_rtt, cal, costs)
        extra['vm.guest_irq_us'] = '%.1f' % irq
        cols.update({'cal_vm_rtt_p50_us': '%.0f' % p50, 'cal_guest_irq_us': '%.1f' % irq})
        v.append({'name': 'rtt', 'set': dict(extra)})
        # The same part of the round trip as a delay of every frame instead
        # (half each way): the guest is not slower, only later.
        v.append({'name': 'rttd', 'set': {'vm.gro': 'true'}, 'delay_add_ms': irq / 2000.0})
    if a.stalls:
        st = calibration_stalls(a.stalls)
        stalls = {'reader.preempt_interval_ms': '%.6g' % st['interval_ms'], 'reader.preempt_ms': '%.6g' % st['mean_ms']}
        extra.update(stalls)
        cols.update({'cal_main_stalls_per_s': '%.2f' % st['per_s'], 'cal_main_stall_mean_ms': '%.3f' % st['mean_ms']})
        v.append({'name': 'cal', 'set': dict(extra)})
        if a.vm_rtt:
            v.append({'name': 'cald', 'set': dict(stalls, **{'vm.gro': 'true'}), 'delay_add_ms': irq / 2000.0})
    return v, cols


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('csv')
    ap.add_argument('--tunsim', default='build/tunsim')
    ap.add_argument('--out', default=None)
    ap.add_argument('--vm-rtt', default=None)
    ap.add_argument('--stalls', default=None)
    a = ap.parse_args()
    rows = list(csv.DictReader(open(a.csv)))
    if not rows:
        sys.exit('twin_tap_qemu_sim: %s has no rows' % a.csv)
    cal = rows[0]
    frames_in, frames_out = float(cal['tap_tx_packets']), float(cal['tap_rx_packets'])
    if frames_in <= 0:
        sys.exit('twin_tap_qemu_sim: the calibration row moved no frames')
    costs = {'frame_ns': 1e9 * float(cal['qemu_main_cpu_s']) / (frames_in + frames_out),
             'guest_frame_ns': 1e9 * float(cal['qemu_vcpu_cpu_s']) / frames_in}
    vs, cal_cols = variants(a, cal, costs)
    out_dir = a.out or os.path.dirname(os.path.abspath(a.csv))
    fields = list(rows[0].keys()) + ['cal_frame_ns', 'cal_guest_frame_ns'] + list(cal_cols) + ['twin_frames_per_ack']
    for v in vs:
        fields += ['sim_%s_%s' % (v['name'], f) for f in ('goodput_mbps', 'diff_pct', 'retransmits', 'frames_per_ack')]
    res = []
    with tempfile.TemporaryDirectory() as work:
        for row in rows:
            out = dict(row)
            out.update(cal_cols)
            out['cal_frame_ns'] = '%.0f' % costs['frame_ns']
            out['cal_guest_frame_ns'] = '%.0f' % costs['guest_frame_ns']
            out['twin_frames_per_ack'] = '%.1f' % (float(row['tap_tx_packets']) / max(1.0, float(row['tap_rx_packets'])))
            k = float(row['goodput_mbps'])
            line = 'ring %5s rtt %4s ms: twin %8.2f Mbit/s (%s drops, %s frames/ACK)' % (
                row['ring'], row['rtt_ms'], k, row['tap_tx_dropped'], out['twin_frames_per_ack'])
            for v in vs:
                s = simulate(a.tunsim, row, costs, v, work)
                n = v['name']
                out['sim_%s_goodput_mbps' % n] = '%.2f' % s['goodput']
                out['sim_%s_diff_pct' % n] = '%.1f' % (100 * (s['goodput'] - k) / k) if k > 0 else ''
                out['sim_%s_retransmits' % n] = s['retrans']
                out['sim_%s_frames_per_ack' % n] = '%.1f' % (s['fwd'] / max(1, s['rev']))
                line += ' | %s %.2f (%s %%)' % (n, s['goodput'], out['sim_%s_diff_pct' % n])
            res.append(out)
            print(line, flush=True)
    path = os.path.join(out_dir, 'twin-vs-sim.csv')
    with open(path + '.tmp', 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(res)
    os.replace(path + '.tmp', path)
    print('twin_tap_qemu_sim: costs from the first row: frame_ns %.0f, guest_frame_ns %.0f%s; %s'
          % (costs['frame_ns'], costs['guest_frame_ns'],
             ''.join(', %s %s' % kv for kv in cal_cols.items()), path))


if __name__ == '__main__':
    main()
