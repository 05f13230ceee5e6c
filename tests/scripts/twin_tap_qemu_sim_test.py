#!/usr/bin/env python3
"""scripts/twin_tap_qemu_sim.py's variants, with a stand-in for tunsim: from
a calibration row (5 us per frame in QEMU, 20 us in the guest), a round trip
of 1000 us and stalls of 2 ms 10 times a second, the per-interrupt reading
(rtt, cal) puts 1000 - 2 x 5 - 20 - 5 = 965 us on vm.guest_irq_us; the
per-frame reading (rttd, cald) adds the same 965 us to the row's round trip
as a delay, half each way on underlay.delay_ms, with no vm.guest_irq_us;
cal and cald carry the stalls (preempt every 100 ms of 2 ms)."""
import argparse
import importlib.util
import json
import os
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location('tts', os.path.join(here, '..', '..', 'scripts', 'twin_tap_qemu_sim.py'))
tts = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tts)

with tempfile.TemporaryDirectory() as d:
    rtt = os.path.join(d, 'vm-rtt.json')
    json.dump({'p50_us': 1000.0}, open(rtt, 'w'))
    stalls = os.path.join(d, 'stalls.json')
    json.dump({'main_loop_stalls': {'per_s': 10.0, 'mean_ms': 2.0}}, open(stalls, 'w'))
    cal = {'rtt_ms': '0'}
    costs = {'frame_ns': 5000.0, 'guest_frame_ns': 20000.0}
    vs, cols = tts.variants(argparse.Namespace(vm_rtt=rtt, stalls=stalls), cal, costs)
    by = {v['name']: v for v in vs}
    assert list(by) == ['gro', 'nogro', 'rtt', 'rttd', 'cal', 'cald'], list(by)
    assert by['rtt']['set']['vm.guest_irq_us'] == '965.0', by['rtt']
    assert 'delay_add_ms' not in by['rtt'] and 'delay_add_ms' not in by['cal']
    for n in ('rttd', 'cald'):
        assert 'vm.guest_irq_us' not in by[n]['set'], by[n]
        assert abs(by[n]['delay_add_ms'] - 0.4825) < 1e-12, by[n]
    for n in ('cal', 'cald'):
        assert by[n]['set']['reader.preempt_interval_ms'] == '100' and by[n]['set']['reader.preempt_ms'] == '2', by[n]
    assert by['cal']['set']['vm.guest_irq_us'] == '965.0'
    assert cols['cal_guest_irq_us'] == '965.0' and cols['cal_main_stalls_per_s'] == '10.00', cols

    # simulate(): the row's RTT / 2 plus the variant's delay on underlay.delay_ms.
    seen = []

    class Done:
        returncode = 0

    def fake_run(cmd, check, stdout):
        seen.append(cmd)
        out = cmd[cmd.index('--out') + 1]
        os.makedirs(out, exist_ok=True)
        json.dump({'flows': [{'goodput_mbps': 1.0, 'retransmits': 0}],
                   'conservation': {'forward': {'sent': 10}, 'reverse': {'sent': 5}}},
                  open(os.path.join(out, 'result.json'), 'w'))
        return Done()

    tts.subprocess.run = fake_run
    row = {'ring': '100', 'rtt_ms': '120', 'secs': '30'}
    tts.simulate('tunsim', row, costs, by['rttd'], d)
    tts.simulate('tunsim', row, costs, by['rtt'], d)
    sets = [dict(a.split('=', 1) for a in c[c.index('--out') + 3::2]) for c in seen]
    assert sets[0]['underlay.delay_ms'] == '60.4825' and 'vm.guest_irq_us' not in sets[0], sets[0]
    assert sets[1]['underlay.delay_ms'] == '60' and sets[1]['vm.guest_irq_us'] == '965.0', sets[1]
print('twin_tap_qemu_sim_test: ok')
