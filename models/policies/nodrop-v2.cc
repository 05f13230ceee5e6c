// NODROP v2 (seed 000, "TUN/TAP: Improving throughput and latency by avoiding
// SKB drops", Aug 2025):
//
//   tun_net_xmit():
//       if (unlikely(ptr_ring_produce(&tfile->tx_ring, skb))) {
//               netif_tx_stop_queue(queue);        (and drop, as mainline)
//               goto drop;
//       }
//       if (ptr_ring_full(&tfile->tx_ring))
//               netif_tx_stop_queue(queue);
//
//   tun_ring_recv():
//       after a consume:    if the ring is now empty, netif_tx_wake_queue()
//       in the blocking wait, before schedule():
//                           if netif_tx_queue_stopped(), netif_tx_wake_queue()
//
// The wake-on-empty ("waking when not full showed crashes in our testing")
// lets the ring drain completely before the qdisc refills it.
#include "tun-policy.h"

namespace tunsim
{
namespace
{
class NodropV2Policy : public TunPolicy
{
  public:
    std::string Name() const override { return "nodrop-v2"; }

    void AfterProduce(TunTxQueue& q, bool produced) override
    {
        if (!produced || q.Ring().Full())
        {
            q.Stop();
        }
    }

    void AfterConsume(TunTxQueue& q, bool wasStopped) override
    {
        if (q.Ring().Empty())
        {
            q.Wake();
        }
    }

    void ReaderWait(TunTxQueue& q) override
    {
        if (q.IsStopped())
        {
            q.Wake();
        }
    }
};
} // namespace

ns3::Ptr<TunPolicy>
CreateNodropV2Policy()
{
    return ns3::Create<NodropV2Policy>();
}
} // namespace tunsim
