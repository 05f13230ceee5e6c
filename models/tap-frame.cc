#include "tap-frame.h"

namespace tunsim
{

NS_OBJECT_ENSURE_REGISTERED(TapFrameHeader);

ns3::TypeId
TapFrameHeader::GetTypeId()
{
    static ns3::TypeId tid = ns3::TypeId("tunsim::TapFrameHeader")
                                 .SetParent<ns3::Header>()
                                 .SetGroupName("Tunsim")
                                 .AddConstructor<TapFrameHeader>();
    return tid;
}

ns3::TypeId
TapFrameHeader::GetInstanceTypeId() const
{
    return GetTypeId();
}

void
TapFrameHeader::Serialize(ns3::Buffer::Iterator start) const
{
    // eth_header(): h_dest, h_source (locally administered, fixed), h_proto.
    start.WriteU8(0x02, 6);
    start.WriteU8(0x04, 6);
    start.WriteHtonU16(m_etherType);
}

uint32_t
TapFrameHeader::Deserialize(ns3::Buffer::Iterator start)
{
    start.Next(12);
    m_etherType = start.ReadNtohU16();
    return kEthHeaderBytes;
}

void
TapFrameHeader::Print(std::ostream& os) const
{
    os << "ethhdr proto=0x" << std::hex << m_etherType << std::dec;
}

} // namespace tunsim
