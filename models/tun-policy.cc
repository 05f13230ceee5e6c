#include "tun-policy.h"

namespace tunsim
{

NS_OBJECT_ENSURE_REGISTERED(TunPolicy);

ns3::TypeId
TunPolicy::GetTypeId()
{
    static ns3::TypeId tid =
        ns3::TypeId("tunsim::TunPolicy").SetParent<ns3::Object>().SetGroupName("Tunsim");
    return tid;
}

RingGeometry
TunPolicy::Geometry(uint32_t txQueueLen) const
{
    return RingGeometry{txQueueLen, 0};
}

} // namespace tunsim
