// The table of built-in policies (policy-list.h), and lookups by name.
#include "tun-policy.h"

namespace tunsim
{

#define TUNSIM_POLICY(factory, name, summary, source) ns3::Ptr<TunPolicy> factory();
#include "policy-list.h"
#undef TUNSIM_POLICY

const std::vector<TunPolicyInfo>&
TunPolicyRegistry()
{
    static const std::vector<TunPolicyInfo> registry = {
#define TUNSIM_POLICY(factory, name, summary, source) {name, summary, source, factory},
#include "policy-list.h"
#undef TUNSIM_POLICY
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
