#include "linux-tcp-demux.h"

#include "linux-tcp-socket.h"
#include "unaligned-be.h"

#include "ns3/abort.h"
#include "ns3/ipv4-end-point.h"
#include "ns3/ipv4-interface.h"
#include "ns3/ipv4-l3-protocol.h"
#include "ns3/ipv6-header.h"
#include "ns3/ipv6-interface.h"

#include <algorithm>

namespace tunsim
{

NS_OBJECT_ENSURE_REGISTERED(LinuxTcpDemux);

ns3::TypeId
LinuxTcpDemux::GetTypeId()
{
    static ns3::TypeId tid = ns3::TypeId("tunsim::LinuxTcpDemux")
                                 .SetParent<ns3::IpL4Protocol>()
                                 .SetGroupName("Tunsim")
                                 .AddConstructor<LinuxTcpDemux>();
    return tid;
}

ns3::Ptr<LinuxTcpDemux>
LinuxTcpDemux::Of(ns3::Ptr<ns3::Node> node)
{
    ns3::Ptr<LinuxTcpDemux> demux = node->GetObject<LinuxTcpDemux>();
    if (demux)
    {
        return demux;
    }
    ns3::Ptr<ns3::TcpL4Protocol> tcp = node->GetObject<ns3::TcpL4Protocol>();
    ns3::Ptr<ns3::Ipv4L3Protocol> ipv4 = node->GetObject<ns3::Ipv4L3Protocol>();
    NS_ABORT_MSG_IF(!tcp || !ipv4, "LinuxTcpDemux: the node has no TCP/IPv4 stack");
    demux = ns3::CreateObject<LinuxTcpDemux>();
    demux->m_tcp = tcp;
    node->AggregateObject(demux);
    ipv4->Insert(demux); // in place of TcpL4Protocol for protocol 6 on every interface
    return demux;
}

void
LinuxTcpDemux::Add(ns3::Ptr<LinuxTcpSocket> socket)
{
    if (std::find(m_sockets.begin(), m_sockets.end(), socket) == m_sockets.end())
    {
        m_sockets.push_back(socket);
    }
}

int
LinuxTcpDemux::GetProtocolNumber() const
{
    return ns3::TcpL4Protocol::PROT_NUMBER;
}

ns3::IpL4Protocol::RxStatus
LinuxTcpDemux::Receive(ns3::Ptr<ns3::Packet> p, const ns3::Ipv4Header& header,
                       ns3::Ptr<ns3::Ipv4Interface> incomingInterface)
{
    uint8_t ports[4];
    if (ns3::Node::ChecksumEnabled() || p->GetSize() < sizeof(ports))
    {
        ++m_passedOn;
        return m_tcp->Receive(p, header, incomingInterface); // verifies, or finds it malformed
    }
    p->CopyData(ports, sizeof(ports)); // RFC 9293: source port, destination port
    const uint16_t sport = GetUnalignedBe16(ports);
    const uint16_t dport = GetUnalignedBe16(ports + 2);
    for (const ns3::Ptr<LinuxTcpSocket>& s : m_sockets)
    {
        ns3::Ipv4EndPoint* ep = s->EndPointV4();
        if (ep != nullptr && ep->GetLocalPort() == dport && ep->GetPeerPort() == sport &&
            ep->GetLocalAddress() == header.GetDestination() && ep->GetPeerAddress() == header.GetSource() &&
            ep->IsRxEnabled() && (!ep->GetBoundNetDevice() || ep->GetBoundNetDevice() == incomingInterface->GetDevice()))
        {
            ++m_found;
            ep->ForwardUp(p, header, sport, incomingInterface);
            return RX_OK;
        }
    }
    ++m_passedOn;
    return m_tcp->Receive(p, header, incomingInterface);
}

ns3::IpL4Protocol::RxStatus
LinuxTcpDemux::Receive(ns3::Ptr<ns3::Packet> p, const ns3::Ipv6Header& header,
                       ns3::Ptr<ns3::Ipv6Interface> incomingInterface)
{
    return m_tcp->Receive(p, header, incomingInterface);
}

void
LinuxTcpDemux::ReceiveIcmp(ns3::Ipv4Address icmpSource, uint8_t icmpTtl, uint8_t icmpType, uint8_t icmpCode,
                           uint32_t icmpInfo, ns3::Ipv4Address payloadSource, ns3::Ipv4Address payloadDestination,
                           const uint8_t payload[8])
{
    m_tcp->ReceiveIcmp(icmpSource, icmpTtl, icmpType, icmpCode, icmpInfo, payloadSource, payloadDestination, payload);
}

void
LinuxTcpDemux::SetDownTarget(DownTargetCallback cb)
{
    m_tcp->SetDownTarget(cb);
}

void
LinuxTcpDemux::SetDownTarget6(DownTargetCallback6 cb)
{
    m_tcp->SetDownTarget6(cb);
}

ns3::IpL4Protocol::DownTargetCallback
LinuxTcpDemux::GetDownTarget() const
{
    return m_tcp->GetDownTarget();
}

ns3::IpL4Protocol::DownTargetCallback6
LinuxTcpDemux::GetDownTarget6() const
{
    return m_tcp->GetDownTarget6();
}

void
LinuxTcpDemux::DoDispose()
{
    m_sockets.clear();
    m_tcp = nullptr;
    ns3::IpL4Protocol::DoDispose();
}

} // namespace tunsim
