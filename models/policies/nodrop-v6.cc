// NODROP v5/v6 (seed 004, "tun/tap: add synchronized ring produce/consume
// with queue management"):
//
//   tun_ring_produce():
//       if (unlikely(!__ptr_ring_full(ring) && __ptr_ring_full_next(ring)))
//               netif_tx_stop_queue(queue);
//       ret = __ptr_ring_produce(ring, skb);
//
// Never stop when the ring is full already: the consumer could empty it
// without seeing the stop and the queue would stay stopped for ever.
//
//   __tun_ring_consume():
//       stopped = netif_tx_queue_stopped(txq);   (read before the discard)
//       __ptr_ring_discard_one(ring);
//       if (unlikely(stopped && (__ptr_ring_consume_created_space(ring) ||
//                                __ptr_ring_empty(ring))))
//               netif_tx_wake_queue(txq);
//
// The blocking wait needs no wake of its own since v5.
#include "tun-policy.h"

namespace tunsim
{
namespace
{
class NodropV6Policy : public TunPolicy
{
  public:
    std::string Name() const override { return "nodrop-v6"; }

    void BeforeProduce(TunTxQueue& q) override
    {
        const TunRing& r = q.Ring();
        if (!r.Full() && r.FullNext())
        {
            q.Stop();
        }
    }

    void AfterConsume(TunTxQueue& q, bool wasStopped) override
    {
        const TunRing& r = q.Ring();
        if (wasStopped && (r.ConsumeCreatedSpace(1) || r.Empty()))
        {
            q.Wake();
        }
    }
};
} // namespace

ns3::Ptr<TunPolicy>
CreateNodropV6Policy()
{
    return ns3::Create<NodropV6Policy>();
}
} // namespace tunsim
