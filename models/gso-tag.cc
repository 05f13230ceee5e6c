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
    return 8;
}

void
GsoTag::Serialize(ns3::TagBuffer i) const
{
    i.WriteU64(m_skb);
}

void
GsoTag::Deserialize(ns3::TagBuffer i)
{
    m_skb = i.ReadU64();
}

void
GsoTag::Print(std::ostream& os) const
{
    os << "gso-skb=" << m_skb;
}

uint64_t
GsoTag::Next()
{
    static uint64_t next = 0;
    return ++next;
}

} // namespace tunsim
