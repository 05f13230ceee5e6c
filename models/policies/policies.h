// Factories of the built-in stop/wake policies, one per file in this folder.
#pragma once

#include "tun-policy.h"

namespace tunsim
{
ns3::Ptr<TunPolicy> CreateDropPolicy();
ns3::Ptr<TunPolicy> CreateLegacyFlowctlPolicy();
ns3::Ptr<TunPolicy> CreateStopIfNonemptyPolicy();
ns3::Ptr<TunPolicy> CreateNodropV2Policy();
ns3::Ptr<TunPolicy> CreateNodropV4Policy();
ns3::Ptr<TunPolicy> CreateNodropV6Policy();
ns3::Ptr<TunPolicy> CreateNodropV8Policy();
} // namespace tunsim
