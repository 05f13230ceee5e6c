#include "tunsim-tag.h"

namespace tunsim
{

NS_OBJECT_ENSURE_REGISTERED(TunsimTag);

TunsimTag::TunsimTag(uint32_t flow, int64_t txNs, uint32_t owner, uint32_t size)
    : flowId(flow),
      txTimeNs(txNs),
      ownerId(owner),
      truesize(size)
{
}

ns3::TypeId
TunsimTag::GetTypeId()
{
    static ns3::TypeId tid = ns3::TypeId("tunsim::TunsimTag")
                                 .SetParent<ns3::Tag>()
                                 .SetGroupName("Tunsim")
                                 .AddConstructor<TunsimTag>();
    return tid;
}

ns3::TypeId
TunsimTag::GetInstanceTypeId() const
{
    return GetTypeId();
}

uint32_t
TunsimTag::GetSerializedSize() const
{
    return 4 + 8 + 4 + 4;
}

void
TunsimTag::Serialize(ns3::TagBuffer i) const
{
    i.WriteU32(flowId);
    i.WriteU64(static_cast<uint64_t>(txTimeNs));
    i.WriteU32(ownerId);
    i.WriteU32(truesize);
}

void
TunsimTag::Deserialize(ns3::TagBuffer i)
{
    flowId = i.ReadU32();
    txTimeNs = static_cast<int64_t>(i.ReadU64());
    ownerId = i.ReadU32();
    truesize = i.ReadU32();
}

void
TunsimTag::Print(std::ostream& os) const
{
    os << "flow=" << flowId << " tx=" << txTimeNs << "ns owner=" << ownerId
       << " truesize=" << truesize;
}

} // namespace tunsim
