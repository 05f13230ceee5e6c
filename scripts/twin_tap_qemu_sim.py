#!/usr/bin/env python3
"""The simulator beside the TAP + QEMU twin (scripts/twin-tap-qemu.sh).

twin_tap_qemu_sim.py TWIN.csv [--tunsim build/tunsim] [--out DIR] [--stalls STALLS.json]

The costs come from the twin's first row only (its calibration point):
  vm.frame_ns = vm.tx_frame_ns = QEMU main-loop CPU / (frames in + frames out)
  vm.guest_frame_ns            = the vCPU's CPU / frames into the guest
Every row is then simulated (scenarios/vm-tap-qemu.json, tun.ring_size,
underlay.delay_ms = rtt/2, duration_s = the twin's seconds) with the guest's
GRO on and off. With --stalls (tap_ring_occupancy.py --stalls-json of the
calibration point, traced by twin-tap-qemu.sh) a third run per row, with
GRO, adds QEMU's main-loop stalls measured there:
  reader.preempt_interval_ms = 1000 / main-loop stalls per s,
  reader.preempt_ms          = their mean length
(VmBackend::SetPreemption(): exponential gaps and lengths with those means;
the trace counts only stalls of more than 1 ms, so the model's total stall
time per second is the measured one, spread over more, shorter stalls).
Writes DIR/twin-vs-sim.csv and prints the table.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile


def simulate(tunsim, row, costs, gro, workdir, stalls=None):
    out = os.path.join(workdir, 'r%s-rtt%s-gro%d-st%d' % (row['ring'], row['rtt_ms'], gro, stalls is not None))
    cmd = [tunsim, 'run', 'scenarios/vm-tap-qemu.json',
           '--set', 'duration_s=%s' % row['secs'],
           '--set', 'underlay.delay_ms=%g' % (float(row['rtt_ms']) / 2),
           '--set', 'tun.ring_size=%s' % row['ring'],
           '--set', 'vm.frame_ns=%.0f' % costs['frame_ns'],
           '--set', 'vm.tx_frame_ns=%.0f' % costs['frame_ns'],
           '--set', 'vm.guest_frame_ns=%.0f' % costs['guest_frame_ns'],
           '--set', 'vm.gro=%s' % ('true' if gro else 'false'),
           '--out', out]
    if stalls is not None:
        cmd += ['--set', 'reader.preempt_interval_ms=%.6g' % stalls['interval_ms'],
                '--set', 'reader.preempt_ms=%.6g' % stalls['mean_ms']]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    r = json.load(open(os.path.join(out, 'result.json')))
    c = r['conservation']
    return {'goodput': r['flows'][0]['goodput_mbps'], 'retrans': r['flows'][0].get('retransmits', 0),
            'fwd': c['forward']['sent'], 'rev': c['reverse']['sent']}


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('csv')
    ap.add_argument('--tunsim', default='build/tunsim')
    ap.add_argument('--out', default=None)
    ap.add_argument('--stalls', default=None)
    a = ap.parse_args()
    stalls = calibration_stalls(a.stalls) if a.stalls else None
    rows = list(csv.DictReader(open(a.csv)))
    if not rows:
        sys.exit('twin_tap_qemu_sim: %s has no rows' % a.csv)
    cal = rows[0]
    frames_in, frames_out = float(cal['tap_tx_packets']), float(cal['tap_rx_packets'])
    if frames_in <= 0:
        sys.exit('twin_tap_qemu_sim: the calibration row moved no frames')
    costs = {'frame_ns': 1e9 * float(cal['qemu_main_cpu_s']) / (frames_in + frames_out),
             'guest_frame_ns': 1e9 * float(cal['qemu_vcpu_cpu_s']) / frames_in}
    out_dir = a.out or os.path.dirname(os.path.abspath(a.csv))
    fields = list(rows[0].keys()) + ['cal_frame_ns', 'cal_guest_frame_ns', 'twin_frames_per_ack',
                                     'sim_gro_goodput_mbps', 'sim_gro_diff_pct', 'sim_gro_retransmits',
                                     'sim_gro_frames_per_ack', 'sim_nogro_goodput_mbps', 'sim_nogro_diff_pct',
                                     'sim_nogro_retransmits', 'sim_nogro_frames_per_ack']
    if stalls is not None:
        fields += ['cal_main_stalls_per_s', 'cal_main_stall_mean_ms', 'sim_stalls_goodput_mbps',
                   'sim_stalls_diff_pct', 'sim_stalls_retransmits']
    res = []
    with tempfile.TemporaryDirectory() as work:
        for row in rows:
            out = dict(row)
            out['cal_frame_ns'] = '%.0f' % costs['frame_ns']
            out['cal_guest_frame_ns'] = '%.0f' % costs['guest_frame_ns']
            out['twin_frames_per_ack'] = '%.1f' % (float(row['tap_tx_packets']) / max(1.0, float(row['tap_rx_packets'])))
            k = float(row['goodput_mbps'])
            for gro, name in ((1, 'gro'), (0, 'nogro')):
                s = simulate(a.tunsim, row, costs, gro, work)
                out['sim_%s_goodput_mbps' % name] = '%.2f' % s['goodput']
                out['sim_%s_diff_pct' % name] = '%.1f' % (100 * (s['goodput'] - k) / k) if k > 0 else ''
                out['sim_%s_retransmits' % name] = s['retrans']
                out['sim_%s_frames_per_ack' % name] = '%.1f' % (s['fwd'] / max(1, s['rev']))
            if stalls is not None:
                s = simulate(a.tunsim, row, costs, 1, work, stalls)
                out['cal_main_stalls_per_s'] = '%.2f' % stalls['per_s']
                out['cal_main_stall_mean_ms'] = '%.3f' % stalls['mean_ms']
                out['sim_stalls_goodput_mbps'] = '%.2f' % s['goodput']
                out['sim_stalls_diff_pct'] = '%.1f' % (100 * (s['goodput'] - k) / k) if k > 0 else ''
                out['sim_stalls_retransmits'] = s['retrans']
            res.append(out)
            print('ring %5s rtt %4s ms: twin %8.2f Mbit/s (%s drops, %s frames/ACK) | sim GRO %8s (%s %%, %s frames/ACK) | no GRO %8s (%s %%)'
                  % (row['ring'], row['rtt_ms'], k, row['tap_tx_dropped'], out['twin_frames_per_ack'],
                     out['sim_gro_goodput_mbps'], out['sim_gro_diff_pct'], out['sim_gro_frames_per_ack'],
                     out['sim_nogro_goodput_mbps'], out['sim_nogro_diff_pct']), flush=True)
            if stalls is not None:
                print('    with the calibration point\'s main-loop stalls: sim %8s (%s %%, %s retransmits)'
                      % (out['sim_stalls_goodput_mbps'], out['sim_stalls_diff_pct'], out['sim_stalls_retransmits']),
                      flush=True)
    path = os.path.join(out_dir, 'twin-vs-sim.csv')
    with open(path + '.tmp', 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(res)
    os.replace(path + '.tmp', path)
    print('twin_tap_qemu_sim: costs from the first row: frame_ns %.0f, guest_frame_ns %.0f; %s'
          % (costs['frame_ns'], costs['guest_frame_ns'], path))


if __name__ == '__main__':
    main()
