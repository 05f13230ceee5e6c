// `iff-backpressure`: the merged series made opt-in with a per-device flag,
// "[PATCH net] tun/tap & vhost-net: make qdisc backpressure opt-in via
// IFF_BACKPRESSURE" (Simon Schippers, 2026-07-04; v2 after review), landed
// in net-next on 2026-08-08 as 485e38995cc3 "tun/tap: add IFF_BACKPRESSURE
// flag" + d00c7369ef24 "tun/tap & vhost-net: stop tail-drop when
// IFF_BACKPRESSURE is set" (kuba's push log of that day).
//
//   tun_net_xmit():     the stop of 1d6e569b7d0c only if
//                       (tun->flags & IFF_BACKPRESSURE)
//   __tun_wake_queue(): returns at once without IFF_BACKPRESSURE
//   tun_force_wake_queue(tun, tfile): under the consumer and producer locks,
//                       netif_wake_subqueue() and cons_cnt = 0; called from
//                       tun_attach(), from tun_set_iff() for every attached
//                       tfile, and from tun_queue_resize()
//
// So with the flag clear the device is mainline `drop`, with it `merged`;
// clearing the flag on a running device can never leave a queue stopped.
// The flag is tun.iff_backpressure (TunNetDevice::SetTunFlags()).
#include "backpressure-1d6e569b.h"

namespace tunsim
{
namespace
{
class IffBackpressurePolicy : public TunPolicy
{
  public:
    std::string Name() const override { return "iff-backpressure"; }

    void AfterProduce(TunTxQueue& q, bool produced) override
    {
        if (q.DeviceFlags() & kIffBackpressure)
        {
            TunNetXmitStop1d6e569b(q);
        }
    }

    void AfterConsume(TunTxQueue& q, bool wasStopped) override
    {
        if (q.DeviceFlags() & kIffBackpressure)
        {
            TunWakeQueue1d6e569b(q, wasStopped);
        }
    }

    void Reconfigured(TunTxQueue& q, TunReconfig what) override { q.ForceWake(); }
};
} // namespace

ns3::Ptr<TunPolicy>
CreateIffBackpressurePolicy()
{
    return ns3::Create<IffBackpressurePolicy>();
}
} // namespace tunsim
