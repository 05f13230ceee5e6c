// NODROP v4 (Sep 2025, first "avoid ptr_ring tail-drop" series): stop as in
// v2 (after a produce that filled the ring); wake through the new helper
// wake_netdev_queue() whenever the ring has spare room again:
//
//   tun_ring_recv(), after a consume and in the blocking wait:
//       if (netif_tx_queue_stopped(txq) && __ptr_ring_spare(ring, 1))
//               netif_tx_wake_queue(txq);
//
// __ptr_ring_spare(r, 1) looks at the slot behind consumer_head: it is free
// only once the consumed run was zeroed, so with a 500-entry ring (batch 16)
// the wake comes every 16 reads, with a 25-entry ring (batch 1) every read.
#include "tun-policy.h"

namespace tunsim
{
namespace
{
class NodropV4Policy : public TunPolicy
{
  public:
    std::string Name() const override { return "nodrop-v4"; }

    void AfterProduce(TunTxQueue& q, bool produced) override
    {
        if (!produced || q.Ring().Full())
        {
            q.Stop();
        }
    }

    void AfterConsume(TunTxQueue& q, bool wasStopped) override { WakeNetdevQueue(q); }

    void ReaderWait(TunTxQueue& q) override { WakeNetdevQueue(q); }

  private:
    /// mirrors wake_netdev_queue() of the v4 series.
    static void WakeNetdevQueue(TunTxQueue& q)
    {
        if (q.IsStopped() && q.Ring().Spare(1))
        {
            q.Wake();
        }
    }
};
} // namespace

ns3::Ptr<TunPolicy>
CreateNodropV4Policy()
{
    return ns3::Create<NodropV4Policy>();
}
} // namespace tunsim
