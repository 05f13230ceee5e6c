// Seed 003 (OpenConnect, netperf UDP_STREAM): the test patch
//
//   tun_net_xmit():  ... sk_data_ready(); if (!ptr_ring_empty(&tfile->tx_ring))
//                                             netif_stop_queue(tun->dev);
//   tun_do_read():   ... netif_wake_queue(tun->dev);   (after every read)
//
// Right after a produce the ring is almost never empty, so the queue stops
// after nearly every packet and each packet waits for a read + a NET_TX
// softirq: the ping-pong that cost 1720 -> 1395 Mbit/s in the seed.
#include "tun-policy.h"

namespace tunsim
{
namespace
{
class StopIfNonemptyPolicy : public TunPolicy
{
  public:
    std::string Name() const override { return "stop-if-nonempty"; }

    void AfterProduce(TunTxQueue& q, bool produced) override
    {
        // Only on the success path: a failed produce goes to drop: first.
        if (produced && !q.Ring().Empty())
        {
            q.Stop();
        }
    }

    void AfterConsume(TunTxQueue& q, bool wasStopped) override
    {
        // netif_wake_queue() only acts (schedules the qdisc) if XOFF was set.
        q.Wake();
    }
};
} // namespace

ns3::Ptr<TunPolicy>
CreateStopIfNonemptyPolicy()
{
    return ns3::Create<StopIfNonemptyPolicy>();
}
} // namespace tunsim
