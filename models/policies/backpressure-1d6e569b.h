// The stop and wake rules of the merged NODROP series (net-next, pushed
// 2026-05-14: d4c22d70d725 "tun/tap: add ptr_ring consume helper with netdev
// queue wakeup", 1d6e569b7d0c "tun/tap & vhost-net: avoid ptr_ring tail-drop
// when a qdisc is present"), shared by the `merged` and `iff-backpressure`
// policies (the latter gates both behind IFF_BACKPRESSURE).
//
//   tun_net_xmit():  ret = __ptr_ring_produce(ring, skb);
//                    if (!qdisc_txq_has_no_queue(queue) &&
//                        __ptr_ring_check_produce(ring) == -ENOSPC)
//                            netif_tx_stop_queue(queue);  (+ mb, re-check)
//                    if (ret) -> drop FULL_RING
//   __tun_wake_queue(tun, tfile, consumed): while the queue is stopped,
//                    tfile->cons_cnt += consumed; wake once the threshold
//                    is reached (cons_cnt >= ring size / 2 here, see below).
//
// The threshold: the merged __tun_wake_queue() body was not in anything we
// could read (the IFF_BACKPRESSURE mails of 2026-07-04 quote only its first
// lines). The v8 cover letter (seed 001, 2026-03-13, the last version before
// the four-commit form that was merged) says "Only wake after the queue
// stopped and half of the ring was consumed as suggested by MST"; tunsim
// uses cons_cnt >= size / 2 (docs/model.md, "Simplifications").
#pragma once

#include "tun-policy.h"

namespace tunsim
{

/// The stop in the merged tun_net_xmit(): after the produce, if a qdisc is
/// attached and __ptr_ring_check_produce() reports the ring full.
inline void
TunNetXmitStop1d6e569b(TunTxQueue& q)
{
    if (q.HasQdisc() && q.Ring().Full())
    {
        q.Stop();
    }
}

/// __tun_wake_queue() after one consumed entry: `wasStopped` is
/// netif_tx_queue_stopped() as the consumer saw it; cons_cnt is the device's
/// ConsumedSinceStop() (zeroed at every stop).
inline void
TunWakeQueue1d6e569b(TunTxQueue& q, bool wasStopped)
{
    if (wasStopped && q.ConsumedSinceStop() >= q.Ring().Size() / 2)
    {
        q.Wake();
    }
}

} // namespace tunsim
