#!/usr/bin/env python3
"""scripts/vm_rtt_probe.py against this host's loopback: a closed port
refuses every probe (all timed, each well under a second), a listening port
refuses none (the probe is not timed and the script says so, exit != 0), and
bad options exit 2 naming the option. --json writes the figures in order
p10 <= p50 <= p90."""
import json
import os
import socket
import subprocess
import sys
import tempfile

script = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'scripts', 'vm_rtt_probe.py')


def closed_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()  # nobody listens there now: connect() is refused
    return port


with tempfile.TemporaryDirectory() as d:
    js = os.path.join(d, 'rtt.json')
    r = subprocess.run([sys.executable, script, '127.0.0.1', '--port', str(closed_port()), '--count', '20',
                        '--gap-ms', '0', '--json', js], capture_output=True, text=True)
    assert r.returncode == 0, r
    j = json.load(open(js))
    assert j['probes'] == 20 and j['refused'] == 20 and j['lost'] == 0, j
    assert 0 < j['p10_us'] <= j['p50_us'] <= j['p90_us'] < 1e6, j
    assert not os.path.exists(js + '.tmp')

    srv = socket.socket()
    srv.bind(('127.0.0.1', 0))
    srv.listen(64)
    r = subprocess.run([sys.executable, script, '127.0.0.1', '--port', str(srv.getsockname()[1]), '--count', '10',
                        '--gap-ms', '0', '--json', os.path.join(d, 'no.json')], capture_output=True, text=True)
    srv.close()
    assert r.returncode != 0 and 'only 0 of 10 probes were refused' in r.stderr, r
    assert not os.path.exists(os.path.join(d, 'no.json'))

for bad, word in ((['--port', '0'], '--port'), (['--count', '5'], '--count'), (['--gap-ms', '-1'], '--gap-ms')):
    r = subprocess.run([sys.executable, script, '127.0.0.1'] + bad, capture_output=True, text=True)
    assert r.returncode == 2 and word in r.stderr, (bad, r)
print('vm_rtt_probe_test: ok')
