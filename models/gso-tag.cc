#include "gso-tag.h"

#include <ostream>

namespace tunsim
{

NS_OBJECT_ENSURE_REGISTERED(GsoTag);

ns3::TypeId
GsoTag::GetTypeId()
{
    static ns3::TypeId tid =
        ns3::TypeId("tunsim::GsoTag").SetParent<ns3::Tag>().SetGroupName("Tunsim").AddConstructor<GsoTag>();
    return tid;
}

ns3::TypeId
GsoTag::GetInstanceTypeId() const
{
    return GetTypeId();
}

uint32_t
GsoTag::GetSerializedSize() const
{
    return 12;
}

void
GsoTag::Serialize(ns3::TagBuffer i) const
{
    i.WriteU64(m_skb);
    i.WriteU32(m_segs);
}

void
GsoTag::Deserialize(ns3::TagBuffer i)
{
    m_skb = i.ReadU64();
    m_segs = i.ReadU32();
}

void
GsoTag::Print(std::ostream& os) const
{
    os << "gso-skb=" << m_skb << " segs=" << m_segs;
}

uint64_t
GsoTag::Next()
{
    static uint64_t next = 0;
    return ++next;
}

} // namespace tunsim

namespace tunsim
{

NS_OBJECT_ENSURE_REGISTERED(VnetFrameTag);

ns3::TypeId
VnetFrameTag::GetTypeId()
{
    static ns3::TypeId tid = ns3::TypeId("tunsim::VnetFrameTag")
                                 .SetParent<ns3::Tag>()
                                 .SetGroupName("Tunsim")
                                 .AddConstructor<VnetFrameTag>();
    return tid;
}

ns3::TypeId
VnetFrameTag::GetInstanceTypeId() const
{
    return GetTypeId();
}

} // namespace tunsim
