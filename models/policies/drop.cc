// mainline tun_net_xmit(): the tx queue is never stopped. When
// ptr_ring_produce() fails the skb is freed with SKB_DROP_REASON_FULL_RING and
// counted in tx_dropped; the device does that whatever the policy, so this
// policy has no hook at all.
#include "tun-policy.h"

namespace tunsim
{
namespace
{
class DropPolicy : public TunPolicy
{
  public:
    std::string Name() const override { return "drop"; }
};
} // namespace

ns3::Ptr<TunPolicy>
CreateDropPolicy()
{
    return ns3::Create<DropPolicy>();
}
} // namespace tunsim
