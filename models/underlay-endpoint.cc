#include "underlay-endpoint.h"

#include "ns3/abort.h"
#include "ns3/boolean.h"
#include "ns3/ipv4-header.h"
#include "ns3/ipv4-l3-protocol.h"
#include "ns3/ipv4-queue-disc-item.h"
#include "ns3/ipv4.h"
#include "ns3/socket.h"
#include "ns3/udp-header.h"
#include "ns3/udp-l4-protocol.h"
#include "ns3/udp-socket-factory.h"
#include "ns3/uinteger.h"

namespace tunsim
{

NS_OBJECT_ENSURE_REGISTERED(UnderlayEndpoint);
NS_OBJECT_ENSURE_REGISTERED(UnderlayDemux);

namespace
{
/// Ipv4L3Protocol's DefaultTtl (64), as Linux's ip_default_ttl.
constexpr uint8_t kDefaultTtl = 64;
/// UdpSocketImpl's largest datagram (65535 - 8 - 20), above which its
/// sendto() fails with EMSGSIZE.
constexpr uint32_t kMaxUdpPayload = 65507;
} // namespace

ns3::TypeId
UnderlayEndpoint::GetTypeId()
{
    static ns3::TypeId tid =
        ns3::TypeId("tunsim::UnderlayEndpoint")
            .SetParent<ns3::Object>()
            .SetGroupName("Tunsim")
            .AddConstructor<UnderlayEndpoint>()
            .AddAttribute("Bypass",
                          "Carry the datagrams between the socket and the NIC's qdisc without ns-3's "
                          "UdpSocketImpl/UdpL4Protocol/Ipv4L3Protocol (the same headers, tags, queue-disc "
                          "item and instants; see underlay-endpoint.h). False: an ns-3 UdpSocket.",
                          ns3::BooleanValue(true),
                          ns3::MakeBooleanAccessor(&UnderlayEndpoint::m_bypass),
                          ns3::MakeBooleanChecker());
    return tid;
}

void
UnderlayEndpoint::Open(ns3::Ptr<ns3::Node> node, const ns3::InetSocketAddress& local, Receiver rx)
{
    m_local = local;
    m_rx = std::move(rx);
    ns3::Ptr<ns3::Ipv4> ipv4 = node->GetObject<ns3::Ipv4>();
    NS_ABORT_MSG_IF(!ipv4, "UnderlayEndpoint: the node has no IPv4 stack");
    const int32_t ifIndex = ipv4->GetInterfaceForAddress(local.GetIpv4());
    NS_ABORT_MSG_IF(ifIndex < 0, "UnderlayEndpoint: " << local.GetIpv4() << " is not an address of the node");
    ns3::Ptr<ns3::NetDevice> nic = ipv4->GetNetDevice(static_cast<uint32_t>(ifIndex));
    if (m_bypass && !nic->NeedsArp())
    {
        m_nic = nic;
        m_broadcast = nic->GetBroadcast();
        m_tc = node->GetObject<ns3::TrafficControlLayer>();
        NS_ABORT_MSG_IF(!m_tc, "UnderlayEndpoint: the node has no traffic control layer");
        m_demux = UnderlayDemux::Of(nic);
        m_demux->Bind(local, m_rx);
        return;
    }
    // The stock path. Its NIC must still be the node's: a demux that took
    // the NIC's receive callback would never let a datagram reach ns-3's IPv4.
    NS_ABORT_MSG_IF(node->GetObject<UnderlayDemux>(), "UnderlayEndpoint: Bypass differs between the sockets of one node");
    m_socket = ns3::Socket::CreateSocket(node, ns3::UdpSocketFactory::GetTypeId());
    m_socket->SetAttribute("RcvBufSize", ns3::UintegerValue(1u << 30));
    m_socket->Bind(local);
    m_socket->SetRecvCallback(ns3::MakeCallback(&UnderlayEndpoint::DrainSocket, this));
}

void
UnderlayEndpoint::DrainSocket(ns3::Ptr<ns3::Socket> socket)
{
    ns3::Ptr<ns3::Packet> p;
    ns3::Address from;
    while ((p = socket->RecvFrom(from)))
    {
        m_rx(p);
    }
}

void
UnderlayEndpoint::SendTo(ns3::Ptr<ns3::Packet> p, const ns3::InetSocketAddress& to)
{
    if (m_socket)
    {
        m_socket->SendTo(p, 0, to);
        return;
    }
    NS_ABORT_MSG_IF(!m_nic, "UnderlayEndpoint::SendTo before Open");
    NS_ABORT_MSG_IF(p->GetSize() > kMaxUdpPayload, "UnderlayEndpoint: a datagram of " << p->GetSize() << " bytes");
    // UdpSocketImpl::DoSendTo(): IP_MTU_DISCOVER off -- the don't-fragment
    // tag goes on the caller's packet (one it already had is taken off),
    // and a copy goes down. No TOS, priority or TTL is set on these sockets.
    ns3::SocketSetDontFragmentTag df;
    if (!p->RemovePacketTag(df))
    {
        df.Disable();
        p->AddPacketTag(df);
    }
    ns3::Ptr<ns3::Packet> packet = p->Copy();
    const ns3::Ipv4Address src = m_local.GetIpv4();
    const ns3::Ipv4Address dst = to.GetIpv4();
    // UdpL4Protocol::Send()
    ns3::UdpHeader udp;
    if (ns3::Node::ChecksumEnabled())
    {
        udp.EnableChecksums();
        udp.InitializeChecksum(src, dst, ns3::UdpL4Protocol::PROT_NUMBER);
    }
    udp.SetDestinationPort(to.GetPort());
    udp.SetSourcePort(m_local.GetPort());
    packet->AddHeader(udp);
    // Ipv4L3Protocol::Send() -> BuildHeader(): the route is the NIC's own
    // subnet (the underlay is one link), fragments may be made (none are:
    // MTU 9000).
    ns3::Ipv4Header ip;
    ip.SetSource(src);
    ip.SetDestination(dst);
    ip.SetProtocol(ns3::UdpL4Protocol::PROT_NUMBER);
    ip.SetPayloadSize(static_cast<uint16_t>(packet->GetSize()));
    ip.SetTtl(kDefaultTtl);
    ip.SetTos(0);
    ip.SetMayFragment();
    ip.SetIdentification(m_demux->NextIdentification(src, dst));
    if (ns3::Node::ChecksumEnabled())
    {
        ip.EnableChecksum();
    }
    NS_ABORT_MSG_IF(packet->GetSize() + ip.GetSerializedSize() > m_nic->GetMtu(),
                    "UnderlayEndpoint: a datagram larger than the underlay's MTU (no fragmentation)");
    // Ipv4Interface::Send() for a device without ARP: the qdisc gets the
    // packet and its IPv4 header apart, to the device's broadcast address.
    m_tc->Send(m_nic, ns3::Create<ns3::Ipv4QueueDiscItem>(packet, m_broadcast, ns3::Ipv4L3Protocol::PROT_NUMBER, ip));
}

void
UnderlayEndpoint::DoDispose()
{
    m_rx = nullptr;
    m_socket = nullptr;
    m_nic = nullptr;
    m_tc = nullptr;
    m_demux = nullptr;
    ns3::Object::DoDispose();
}

ns3::TypeId
UnderlayDemux::GetTypeId()
{
    static ns3::TypeId tid = ns3::TypeId("tunsim::UnderlayDemux")
                                 .SetParent<ns3::Object>()
                                 .SetGroupName("Tunsim")
                                 .AddConstructor<UnderlayDemux>();
    return tid;
}

ns3::Ptr<UnderlayDemux>
UnderlayDemux::Of(ns3::Ptr<ns3::NetDevice> nic)
{
    ns3::Ptr<ns3::Node> node = nic->GetNode();
    ns3::Ptr<UnderlayDemux> demux = node->GetObject<UnderlayDemux>();
    if (!demux)
    {
        demux = ns3::CreateObject<UnderlayDemux>();
        node->AggregateObject(demux);
        // In place of Node::NonPromiscReceiveFromDevice(), which hands IPv4
        // packets to TrafficControlLayer::Receive() and on to IPv4.
        nic->SetReceiveCallback(ns3::MakeCallback(&UnderlayDemux::Receive, demux));
    }
    return demux;
}

void
UnderlayDemux::Bind(const ns3::InetSocketAddress& local, UnderlayEndpoint::Receiver rx)
{
    for (const Bound& b : m_bound)
    {
        NS_ABORT_MSG_IF(b.port == local.GetPort(), "UnderlayDemux: port " << local.GetPort() << " is bound twice");
    }
    m_bound.push_back(Bound{local.GetPort(), local.GetIpv4(), std::move(rx)});
}

uint16_t
UnderlayDemux::NextIdentification(ns3::Ipv4Address src, ns3::Ipv4Address dst)
{
    const uint64_t key = (static_cast<uint64_t>(src.Get()) << 32) | dst.Get();
    for (auto& [k, next] : m_identification)
    {
        if (k == key)
        {
            return next++;
        }
    }
    m_identification.emplace_back(key, 1);
    return 0;
}

bool
UnderlayDemux::Receive(ns3::Ptr<ns3::NetDevice>, ns3::Ptr<const ns3::Packet> p, uint16_t protocol, const ns3::Address&)
{
    NS_ABORT_MSG_IF(protocol != ns3::Ipv4L3Protocol::PROT_NUMBER, "UnderlayDemux: a non-IPv4 frame on the underlay");
    // Ipv4L3Protocol::Receive(): a copy, its header off, padding trimmed.
    ns3::Ptr<ns3::Packet> packet = p->Copy();
    ns3::Ipv4Header ip;
    packet->RemoveHeader(ip);
    if (ip.GetPayloadSize() < packet->GetSize())
    {
        packet->RemoveAtEnd(packet->GetSize() - ip.GetPayloadSize());
    }
    NS_ABORT_MSG_IF(ip.GetProtocol() != ns3::UdpL4Protocol::PROT_NUMBER, "UnderlayDemux: a non-UDP datagram on the underlay");
    // UdpL4Protocol::Receive(): the endpoint for the destination.
    ns3::UdpHeader udp;
    packet->RemoveHeader(udp);
    for (const Bound& b : m_bound)
    {
        if (b.port == udp.GetDestinationPort() && b.address == ip.GetDestination())
        {
            // UdpSocketImpl::ForwardUp(): a priority tag the sender left is
            // taken off; no receive options are set on these sockets.
            ns3::SocketPriorityTag priority;
            packet->RemovePacketTag(priority);
            b.rx(packet);
            return true;
        }
    }
    NS_FATAL_ERROR("UnderlayDemux: a datagram for " << ip.GetDestination() << ":" << udp.GetDestinationPort()
                                                    << ", where no socket is bound");
}

void
UnderlayDemux::DoDispose()
{
    m_bound.clear();
    ns3::Object::DoDispose();
}

} // namespace tunsim
