// `merged`: the NODROP series as merged into net-next (kuba's push of
// 2026-05-14; reverted in net on 2026-07-30 by f11b48aa674b and siblings):
//
//   1d6e569b7d0c tun/tap & vhost-net: avoid ptr_ring tail-drop when a qdisc is present
//   d4c22d70d725 tun/tap: add ptr_ring consume helper with netdev queue wakeup
//   baf808fe4fcd vhost-net: wake queue of tun/tap after ptr_ring consume
//   fba362c17d9d ptr_ring: move free-space check into separate helper
//
// tun_net_xmit() and __tun_wake_queue(): backpressure-1d6e569b.h (stop when a
// qdisc is attached and the ring became full; a failed produce still drops;
// wake after half the ring was consumed since the stop).
// Besides those, the merged code (as the context lines of the 2026-07-04
// IFF_BACKPRESSURE patch show it):
//   tun_attach():       tfile->cons_cnt = 0 under the consumer lock;
//   tun_queue_resize(): netif_wake_subqueue() and cons_cnt = 0 for every queue;
//   tun_set_iff():      netif_tx_wake_all_queues() (as mainline).
// No wake in tun_ring_recv()'s wait loop (dropped since v5).
//
// Difference from `nodrop-v8` (seed 001): none in the stop and wake rules
// (v8 is the version the four commits came from); `merged` adds the resize
// and attach resets, which the v8 cover letter does not describe.
#include "backpressure-1d6e569b.h"

namespace tunsim
{
namespace
{
class MergedPolicy : public TunPolicy
{
  public:
    std::string Name() const override { return "merged"; }

    void AfterProduce(TunTxQueue& q, bool produced) override { TunNetXmitStop1d6e569b(q); }

    void AfterConsume(TunTxQueue& q, bool wasStopped) override { TunWakeQueue1d6e569b(q, wasStopped); }

    void Reconfigured(TunTxQueue& q, TunReconfig what) override
    {
        switch (what)
        {
        case TunReconfig::Attach:
            q.ResetConsumedSinceStop();
            break;
        case TunReconfig::Resize:
            q.ForceWake();
            break;
        case TunReconfig::SetIff:
            q.Wake(); // netif_tx_wake_all_queues()
            break;
        }
    }
};
} // namespace

ns3::Ptr<TunPolicy>
CreateMergedPolicy()
{
    return ns3::Create<MergedPolicy>();
}
} // namespace tunsim
