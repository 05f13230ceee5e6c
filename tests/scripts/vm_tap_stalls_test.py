#!/usr/bin/env python3
"""scripts/vm-tap-stalls.sh with a stand-in for tunsim: 40 simulated s, so the
authors' 28 loss episodes in 290 s scale to round(28 x 30 / 290) = 3. The
stand-in's cwnd series falls by more than 10 % in 5 of the seconds after
t = 10 s with a stall every 200 ms, 3 times with one every 500 ms, twice
with one every 1000 ms, never without; falls before t = 10 s are not
counted. So the script must pick 500 ms (nearest 3), run 120 ms (delay 60)
with that interval for `drop` and `nodrop-v8`, and report their ratio; a bad
argument is exit 2 before anything runs."""
import csv
import json
import os
import stat
import subprocess
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
script = os.path.join(here, '..', '..', 'scripts', 'vm-tap-stalls.sh')

STAND_IN = r'''#!/usr/bin/env python3
import json, os, sys
a = sys.argv[1:]
sets = {}
out = None
for i, x in enumerate(a):
    if x == '--set':
        k, v = a[i + 1].split('=', 1)
        sets[k] = v
    if x == '--out':
        out = a[i + 1]
secs = int(sets['duration_s'])
interval = sets.get('reader.preempt_interval_ms', '0')
falls = {'200': 5, '500': 3, '1000': 2, '0': 0}[interval]
os.makedirs(out, exist_ok=True)
cw = []
for t in range(secs + 1):
    # one fall at t = 3 (not counted), then `falls` of them from t = 12 on
    k = t - 12
    cw.append(700000 if t == 3 or (k >= 0 and k % 2 == 0 and k // 2 < falls) else 1400000)
with open(os.path.join(out, 'timeseries.csv'), 'w') as f:
    f.write('time_s,cwnd_bytes\n')
    for t, c in enumerate(cw):
        f.write('%d,%d\n' % (t, c))
good = 100.0 if sets['tun.policy'] == 'drop' else 170.0
if sets['underlay.delay_ms'] == '30':
    good = 200.0
json.dump({'seed': 1, 'tunsim': {'git': 'standin'},
           'flows': [{'goodput_mbps': good, 'retransmits': 7}],
           'args': sets}, open(os.path.join(out, 'result.json'), 'w'))
'''

with tempfile.TemporaryDirectory() as d:
    fake = os.path.join(d, 'tunsim')
    with open(fake, 'w') as f:
        f.write(STAND_IN)
    os.chmod(fake, os.stat(fake).st_mode | stat.S_IXUSR)
    out = os.path.join(d, 'out')

    bad = subprocess.run(['bash', script, '--tunsim', fake, '--out', out, '--intervals', '200 x'],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and '--intervals' in bad.stderr, bad
    assert not os.path.exists(out), 'a bad argument wrote something'

    r = subprocess.run(['bash', script, '--tunsim', fake, '--out', out, '--secs', '40',
                        '--intervals', '200 500 1000 0'], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert 'a stall every 500 ms' in r.stdout and '(3 in 30 s)' in r.stdout, r.stdout
    rows = {x['run']: x for x in csv.DictReader(open(os.path.join(out, 'stalls.csv')))}
    assert [rows['cal-i%s' % i]['episodes_from_10s'] for i in ('200', '500', '1000', '0')] == ['5', '3', '2', '0'], rows
    for name, policy in (('pred-drop', 'drop'), ('pred-nodrop', 'nodrop-v8')):
        args = json.load(open(os.path.join(out, name, 'result.json')))['args']
        assert args['underlay.delay_ms'] == '60' and args['tun.policy'] == policy, args
        assert args['reader.preempt_interval_ms'] == '500' and args['reader.preempt_ms'] == '10', args
        assert rows[name]['rtt_ms'] == '120' and rows[name]['stall_every_ms'] == '500', rows[name]
    assert 'NODROP / mainline = 1.70' in r.stdout, r.stdout
print('ok')
