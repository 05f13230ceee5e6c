// TunNetDevice: the ns3::NetDevice interface a tun device has to provide
// besides its transmit and receive paths (tun-net-device.cc): addresses,
// MTU, link state, what it is not (broadcast, multicast, bridge).
#include "tun-net-device.h"

#include "ns3/channel.h"
#include "ns3/node.h"

namespace tunsim
{

// ------------------------------------------------- NetDevice boilerplate

void
TunNetDevice::SetIfIndex(const uint32_t index)
{
    m_ifIndex = index;
}

uint32_t
TunNetDevice::GetIfIndex() const
{
    return m_ifIndex;
}

ns3::Ptr<ns3::Channel>
TunNetDevice::GetChannel() const
{
    return nullptr;
}

void
TunNetDevice::SetAddress(ns3::Address address)
{
    m_address = ns3::Mac48Address::ConvertFrom(address);
}

ns3::Address
TunNetDevice::GetAddress() const
{
    return m_address;
}

bool
TunNetDevice::SetMtu(const uint16_t mtu)
{
    m_mtu = mtu;
    return true;
}

uint16_t
TunNetDevice::GetMtu() const
{
    return m_mtu;
}

bool
TunNetDevice::IsLinkUp() const
{
    return true;
}

void
TunNetDevice::AddLinkChangeCallback(ns3::Callback<void> callback)
{
}

bool
TunNetDevice::IsBroadcast() const
{
    return false;
}

ns3::Address
TunNetDevice::GetBroadcast() const
{
    // Ipv4Interface::Send() asks for it on every packet (tun needs no ARP);
    // build the Address once instead of converting a Mac48Address each time.
    static const ns3::Address kBroadcast = ns3::Mac48Address::GetBroadcast();
    return kBroadcast;
}

bool
TunNetDevice::IsMulticast() const
{
    return false;
}

ns3::Address
TunNetDevice::GetMulticast(ns3::Ipv4Address multicastGroup) const
{
    return ns3::Mac48Address::GetMulticast(multicastGroup);
}

ns3::Address
TunNetDevice::GetMulticast(ns3::Ipv6Address addr) const
{
    return ns3::Mac48Address::GetMulticast(addr);
}

bool
TunNetDevice::IsPointToPoint() const
{
    return true;
}

bool
TunNetDevice::IsBridge() const
{
    return false;
}

bool
TunNetDevice::SendFrom(ns3::Ptr<ns3::Packet> packet,
                       const ns3::Address& source,
                       const ns3::Address& dest,
                       uint16_t protocolNumber)
{
    return Send(packet, dest, protocolNumber);
}

ns3::Ptr<ns3::Node>
TunNetDevice::GetNode() const
{
    return m_node;
}

void
TunNetDevice::SetNode(ns3::Ptr<ns3::Node> node)
{
    m_node = node;
}

bool
TunNetDevice::NeedsArp() const
{
    return false;
}

void
TunNetDevice::SetReceiveCallback(ns3::NetDevice::ReceiveCallback cb)
{
    m_rxCallback = cb;
}

void
TunNetDevice::SetPromiscReceiveCallback(ns3::NetDevice::PromiscReceiveCallback cb)
{
    m_promiscCallback = cb;
}

bool
TunNetDevice::SupportsSendFrom() const
{
    return false;
}

} // namespace tunsim
