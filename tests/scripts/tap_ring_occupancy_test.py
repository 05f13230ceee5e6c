#!/usr/bin/env python3
"""scripts/tap_ring_occupancy.py on a hand-made ftrace text: the tap ring's
occupancy is frames in - FULL_RING drops - QEMU's frame reads (> 8 bytes).

  t=0.000  3 frames in                        -> occupancy 3
  t=0.001  an 8-byte read (an eventfd)         -> not a frame: 3
  t=0.001  a drop of another reason            -> not the ring's: 3
  t=0.002  2 frames in, 1 dropped FULL_RING    -> 4 (the drop's kfree_skb
           comes before its net_dev_xmit, as tun_net_xmit() frees it inside)
  t=0.003  1 writev (an ACK), 2 frame reads    -> 2
  t=0.004  a read returning -EAGAIN            -> 2
  t=0.012  2 frame reads                       -> 0
  t=0.013  an ACK processed (snd_cwnd 42)
Bins of 10 ms: [0, 10 ms): max 4, in 5, drops 1, reads 2, writevs 1, no ACK;
[10, 20 ms): max 2 (what it held when the bin began), reads 2, 1 ACK at
cwnd 42; end
occupancy 0.
"""
import json
import os
import subprocess
import sys
import tempfile

BASE = 100.0


def ev(t, pid, what):
    return ' qemu-system-x86-%d [001] b..2. %.6f: %s\n' % (pid, BASE + t, what)


XMIT = 'net_dev_xmit: dev=tap0 skbaddr=0000000012345678 len=1514 rc=0'
DROP = ('kfree_skb: skbaddr=0000000012345678 rx_sk=0000000000000000 protocol=2048 '
        'location=tun_net_xmit+0x2e2/0x4f0 reason: FULL_RING')
OTHER_DROP = ('kfree_skb: skbaddr=0000000012345678 rx_sk=0000000000000000 protocol=2048 '
              'location=ip_rcv_core+0x1/0x2 reason: IP_CSUM')
lines = ['# tracer: nop\n']
lines += [ev(0.000, 7, XMIT)] * 3
lines += [ev(0.001, 5, 'sys_read -> 0x8'), ev(0.001, 7, OTHER_DROP)]
lines += [ev(0.002, 7, XMIT), ev(0.002, 7, DROP), ev(0.002, 7, XMIT)]  # kfree_skb inside the xmit, before its event
lines += [ev(0.003, 7, 'sys_writev -> 0x4e'), ev(0.003, 5, 'sys_read -> 0x5ea'), ev(0.003, 5, 'sys_read -> 0x5ea')]
lines += [ev(0.004, 5, 'sys_read -> 0xfffffffffffffff5')]
lines += [ev(0.012, 5, 'sys_read -> 0x5ea'), ev(0.012, 5, 'sys_read -> 0x5ea')]
lines += [ev(0.013, 7, 'tcp_probe: family=AF_INET src=10.77.0.1:40000 dest=10.77.0.2:5201 mark=0 data_len=0 '
                       'snd_nxt=0x1 snd_una=0x1 snd_cwnd=42 ssthresh=2147483647 snd_wnd=64000 srtt=1000 rcv_wnd=64000')]

script = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'scripts', 'tap_ring_occupancy.py')
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, 'trace.txt')
    with open(path, 'w') as f:
        f.writelines(lines)
    out = subprocess.run([sys.executable, script, path, '0.01'], check=True, capture_output=True, text=True).stdout
    rows = [l.split() for l in out.splitlines()[1:] if l.strip() and l.split()[0][0].isdigit()]
    assert rows == [['0.000', '4', '5', '1', '2', '1', '0', '-'], ['0.010', '2', '0', '0', '2', '0', '1', '42']], out
    assert 'end occupancy 0' in out, out
    # --stalls: frames wait from 0 ms (the first into an empty ring) to the
    # first reads at 3 ms, and the two left then wait until 12 ms: two
    # stalls, of 3 and 9 ms.
    st = subprocess.run([sys.executable, script, path, '0.01', '--stalls'], check=True, capture_output=True,
                        text=True).stdout
    assert 'read stalls > 1 ms with frames waiting: 2 in' in st and 'max 9.00 ms' in st, st
    bad = subprocess.run([sys.executable, script, path, '0'], capture_output=True, text=True)
    assert bad.returncode != 0 and 'BIN_S' in bad.stderr, bad

# Stall causes, from QEMU's main thread (pid 5) as tap-ring-trace.sh records
# it: a frame waits from 0 to the read at 3 ms; the main thread was
# preempted (prev_state R+) from 0.5 to 2.5 ms and ran from 2.5 ms (before
# its first switch nothing is known: not counted). A second frame waits from
# 4 to 7.3 ms; the main thread ran until 4.2 ms, slept in ppoll() (entered at
# 4.1 ms) until 7.2 ms, then ran. Stall time counted: 2.5 + 3.3 ms; runnable
# 2.0 (34.5 %), running 0.5 + 0.3 (13.8 %), ppoll 3.0 (51.7 %). Only the
# first is a main-loop stall (less than half in ppoll): 1, of 3.00 ms.
def switch(t, prev, state, nxt):
    return ev(t, 0, 'sched_switch: prev_comm=x prev_pid=%d prev_prio=120 prev_state=%s ==> '
                    'next_comm=y next_pid=%d next_prio=120' % (prev, state, nxt))


sched = ['# qemu_main_pid=5\n', ev(0.0, 7, XMIT), switch(0.0005, 5, 'R+', 9), switch(0.0025, 9, 'S', 5),
         ev(0.003, 5, 'sys_read -> 0x5ea'), ev(0.004, 7, XMIT),
         ev(0.0041, 5, 'sys_ppoll(ufds: 0x1, nfds: 0x3, tsp: 0x0, sigmask: 0x0, sigsetsize: 0x8)'),
         switch(0.0042, 5, 'S', 0), switch(0.0072, 0, 'R', 5), ev(0.0073, 5, 'sys_read -> 0x5ea')]
with tempfile.TemporaryDirectory() as d:
    path, js = os.path.join(d, 'sched.txt'), os.path.join(d, 'stalls.json')
    with open(path, 'w') as f:
        f.writelines(sched)
    out = subprocess.run([sys.executable, script, path, '0.01', '--stalls-json', js], check=True,
                         capture_output=True, text=True).stdout
    assert 'running 13.8 %, runnable 34.5 %, ppoll 51.7 %' in out, out
    j = json.load(open(js))
    assert j['stalls']['count'] == 2 and abs(j['stalls']['max_ms'] - 3.3) < 1e-6, j
    assert j['main_loop_stalls']['count'] == 1 and abs(j['main_loop_stalls']['mean_ms'] - 3.0) < 1e-6, j
print('tap_ring_occupancy_test: ok')
