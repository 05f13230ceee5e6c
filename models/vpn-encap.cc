#include "vpn-encap.h"

namespace tunsim
{

NS_OBJECT_ENSURE_REGISTERED(VpnEncapHeader);

VpnEncapHeader::VpnEncapHeader(uint32_t bytes)
    : m_bytes(bytes)
{
}

ns3::TypeId
VpnEncapHeader::GetTypeId()
{
    static ns3::TypeId tid = ns3::TypeId("tunsim::VpnEncapHeader")
                                 .SetParent<ns3::Header>()
                                 .SetGroupName("Tunsim")
                                 .AddConstructor<VpnEncapHeader>();
    return tid;
}

ns3::TypeId
VpnEncapHeader::GetInstanceTypeId() const
{
    return GetTypeId();
}

uint32_t
VpnEncapHeader::GetSerializedSize() const
{
    return m_bytes;
}

void
VpnEncapHeader::Serialize(ns3::Buffer::Iterator start) const
{
    start.WriteU8(0, m_bytes);
}

uint32_t
VpnEncapHeader::Deserialize(ns3::Buffer::Iterator start)
{
    start.Next(m_bytes);
    return m_bytes;
}

void
VpnEncapHeader::Print(std::ostream& os) const
{
    os << "vpn-encap " << m_bytes << "B";
}

} // namespace tunsim
