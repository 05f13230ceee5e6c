#include "vpn-peer.h"

#include "tap-frame.h"
#include "vpn-encap.h"

#include "vpn-reader.h"

#include "ns3/packet.h"
#include "ns3/udp-socket-factory.h"
#include "ns3/uinteger.h"

namespace tunsim
{

NS_OBJECT_ENSURE_REGISTERED(VpnPeer);

ns3::TypeId
VpnPeer::GetTypeId()
{
    static ns3::TypeId tid = ns3::TypeId("tunsim::VpnPeer")
                                 .SetParent<ns3::Application>()
                                 .SetGroupName("Tunsim")
                                 .AddConstructor<VpnPeer>();
    return tid;
}

void
VpnPeer::Setup(ns3::Ptr<ns3::VirtualNetDevice> dev,
               ns3::InetSocketAddress local,
               ns3::InetSocketAddress client,
               uint32_t encapOverhead)
{
    m_dev = dev;
    m_local = local;
    m_client = client;
    m_encapOverhead = encapOverhead;
    m_dev->SetSendCallback(ns3::MakeCallback(&VpnPeer::TunnelSend, this));
}

void
VpnPeer::StartApplication()
{
    m_socket = ns3::Socket::CreateSocket(GetNode(), ns3::UdpSocketFactory::GetTypeId());
    m_socket->SetAttribute("RcvBufSize", ns3::UintegerValue(1u << 30));
    m_socket->Bind(m_local);
    m_socket->SetRecvCallback(ns3::MakeCallback(&VpnPeer::HandleRead, this));
}

void
VpnPeer::StopApplication()
{
}

void
VpnPeer::DoDispose()
{
    m_dev = nullptr;
    m_socket = nullptr;
    ns3::Application::DoDispose();
}

void
VpnPeer::HandleRead(ns3::Ptr<ns3::Socket> socket)
{
    ns3::Ptr<ns3::Packet> p;
    ns3::Address from;
    while ((p = socket->RecvFrom(from)))
    {
        VpnEncapHeader encap(m_encapOverhead);
        p->RemoveHeader(encap);
        if (m_tap)
        {
            TapFrameHeader eth; // eth_type_trans() on the far side
            p->RemoveHeader(eth);
        }
        ++m_forward;
        if (m_delivered)
        {
            m_delivered(p);
        }
        m_dev->Receive(p, 0x0800, m_dev->GetAddress(), m_dev->GetAddress(), ns3::NetDevice::PACKET_HOST);
    }
}

bool
VpnPeer::TunnelSend(ns3::Ptr<ns3::Packet> packet,
                    const ns3::Address& source,
                    const ns3::Address& dest,
                    uint16_t protocol)
{
    ++m_reverse;
    if (m_reverseEntry)
    {
        m_reverseEntry(packet);
    }
    if (m_tap)
    {
        packet->AddHeader(TapFrameHeader());
    }
    packet->AddHeader(VpnEncapHeader(m_encapOverhead));
    m_socket->SendTo(packet, 0, m_client);
    return true;
}

} // namespace tunsim
