// Before 3.8 (and the 2014 IFF_FLOW_CONTROL patch of seed 002) the tun queue
// was the socket's sk_receive_queue, an skb list, and tun_net_xmit() did
//
//   if (skb_queue_len(&sk->sk_receive_queue) >= dev->tx_queue_len)
//           netif_tx_stop_all_queues(dev);      (then enqueue anyway)
//   skb_queue_tail(&sk->sk_receive_queue, skb);
//
// and tun_do_read() called netif_tx_wake_all_queues() after every dequeue.
// A list frees each entry as it is read and can hold tx_queue_len + 1 skbs
// (the one that triggered the stop), so the model's queue is a ring of
// tx_queue_len + 1 slots with batch 1, which behaves as that list.
#include "tun-policy.h"

namespace tunsim
{
namespace
{
class LegacyFlowctlPolicy : public TunPolicy
{
  public:
    std::string Name() const override { return "legacy-flowctl"; }

    RingGeometry Geometry(uint32_t txQueueLen) const override
    {
        return RingGeometry{txQueueLen + 1, 1};
    }

    void BeforeProduce(TunTxQueue& q) override
    {
        if (q.Ring().Count() >= q.TxQueueLen())
        {
            q.StopAll();
        }
    }

    void AfterConsume(TunTxQueue& q, bool wasStopped) override
    {
        q.WakeAll();
    }
};
} // namespace

ns3::Ptr<TunPolicy>
CreateLegacyFlowctlPolicy()
{
    return ns3::Create<LegacyFlowctlPolicy>();
}
} // namespace tunsim
