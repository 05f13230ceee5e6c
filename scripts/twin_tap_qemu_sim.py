#!/usr/bin/env python3
"""The simulator beside the TAP + QEMU twin (scripts/twin-tap-qemu.sh).

twin_tap_qemu_sim.py TWIN.csv [--tunsim build/tunsim] [--out DIR]

The costs come from the twin's first row only (its calibration point):
  vm.frame_ns = vm.tx_frame_ns = QEMU main-loop CPU / (frames in + frames out)
  vm.guest_frame_ns            = the vCPU's CPU / frames into the guest
Every row is then simulated (scenarios/vm-tap-qemu.json, tun.ring_size,
underlay.delay_ms = rtt/2, duration_s = the twin's seconds) with the guest's
GRO on and off. Writes DIR/twin-vs-sim.csv and prints the table.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile


def simulate(tunsim, row, costs, gro, workdir):
    out = os.path.join(workdir, 'r%s-rtt%s-gro%d' % (row['ring'], row['rtt_ms'], gro))
    cmd = [tunsim, 'run', 'scenarios/vm-tap-qemu.json',
           '--set', 'duration_s=%s' % row['secs'],
           '--set', 'underlay.delay_ms=%g' % (float(row['rtt_ms']) / 2),
           '--set', 'tun.ring_size=%s' % row['ring'],
           '--set', 'vm.frame_ns=%.0f' % costs['frame_ns'],
           '--set', 'vm.tx_frame_ns=%.0f' % costs['frame_ns'],
           '--set', 'vm.guest_frame_ns=%.0f' % costs['guest_frame_ns'],
           '--set', 'vm.gro=%s' % ('true' if gro else 'false'),
           '--out', out]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    r = json.load(open(os.path.join(out, 'result.json')))
    c = r['conservation']
    return {'goodput': r['flows'][0]['goodput_mbps'], 'retrans': r['flows'][0].get('retransmits', 0),
            'fwd': c['forward']['sent'], 'rev': c['reverse']['sent']}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('csv')
    ap.add_argument('--tunsim', default='build/tunsim')
    ap.add_argument('--out', default=None)
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
    out_dir = a.out or os.path.dirname(os.path.abspath(a.csv))
    fields = list(rows[0].keys()) + ['cal_frame_ns', 'cal_guest_frame_ns', 'twin_frames_per_ack',
                                     'sim_gro_goodput_mbps', 'sim_gro_diff_pct', 'sim_gro_retransmits',
                                     'sim_gro_frames_per_ack', 'sim_nogro_goodput_mbps', 'sim_nogro_diff_pct',
                                     'sim_nogro_retransmits', 'sim_nogro_frames_per_ack']
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
            res.append(out)
            print('ring %5s rtt %4s ms: twin %8.2f Mbit/s (%s drops, %s frames/ACK) | sim GRO %8s (%s %%, %s frames/ACK) | no GRO %8s (%s %%)'
                  % (row['ring'], row['rtt_ms'], k, row['tap_tx_dropped'], out['twin_frames_per_ack'],
                     out['sim_gro_goodput_mbps'], out['sim_gro_diff_pct'], out['sim_gro_frames_per_ack'],
                     out['sim_nogro_goodput_mbps'], out['sim_nogro_diff_pct']), flush=True)
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
