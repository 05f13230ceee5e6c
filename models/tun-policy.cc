#include "tun-policy.h"

#include "policies/policies.h"

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

const std::vector<TunPolicyInfo>&
TunPolicyRegistry()
{
    // One line per policy: name, summary for `tunsim list`, factory.
    static const std::vector<TunPolicyInfo> registry = {
        {"drop", "mainline: never stop the queue; drop FULL_RING when the ring is full", CreateDropPolicy},
        {"legacy-flowctl", "pre-3.8 / IFF_FLOW_CONTROL (seed 002): stop all queues at tx_queue_len, wake all after every read", CreateLegacyFlowctlPolicy},
        {"stop-if-nonempty", "seed 003 (OpenConnect test): stop after produce if the ring is not empty, wake after every read", CreateStopIfNonemptyPolicy},
        {"nodrop-v2", "NODROP v2 (seed 000): stop when the ring became full; wake when it is empty and in the reader's wait", CreateNodropV2Policy},
        {"nodrop-v4", "NODROP v4: stop when full; wake after consume and in the wait when __ptr_ring_spare(1)", CreateNodropV4Policy},
        {"nodrop-v6", "NODROP v5/v6 (seed 004): stop before producing the last fitting entry; wake when consume created space or emptied the ring", CreateNodropV6Policy},
        {"nodrop-v8", "NODROP v8 (seed 001): as v6 but only with a qdisc attached; wake after half the ring was consumed since the stop", CreateNodropV8Policy},
    };
    return registry;
}

std::vector<std::string>
TunPolicyNames()
{
    std::vector<std::string> names;
    for (const auto& p : TunPolicyRegistry())
    {
        names.push_back(p.name);
    }
    return names;
}

ns3::Ptr<TunPolicy>
CreateTunPolicy(const std::string& name)
{
    for (const auto& p : TunPolicyRegistry())
    {
        if (p.name == name)
        {
            return p.create();
        }
    }
    return nullptr;
}

} // namespace tunsim
