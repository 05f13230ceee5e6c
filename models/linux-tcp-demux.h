// tcp_v4_rcv()'s socket lookup for established connections
// (__inet_lookup_established(): the exact 4-tuple first) in front of
// ns-3.37's TcpL4Protocol::Receive().
//
// TcpL4Protocol::Receive() deserializes the whole TCP header to read its two
// ports (PacketReceived()'s PeekHeader(), which makes every option -- the
// timestamp on every segment -- an Object through ObjectFactory), then asks
// Ipv4EndPointDemux::Lookup() to walk every end point of the node, and hands
// the packet to the one that matches exactly. LinuxTcpDemux stands in for it
// as the node's IPv4 protocol 6: it reads the two ports from the header's
// bytes, and if one of the LinuxTcpSockets registered with it has an IPv4
// end point that matches the segment exactly (local address and port, peer
// address and port, receiving, and not bound to another device -- what makes
// Lookup() return that end point alone), it calls that end point's
// ForwardUp() as TcpL4Protocol::Receive() would. Everything else (a SYN for
// a listener, a segment for no socket, which gets a RST, other socket types,
// runs with checksums on, IPv6) goes to TcpL4Protocol::Receive() itself. So
// the same end point gets the same packet at the same instant either way;
// the whole-run tests compare runs with it on and off (attribute
// LinuxTcpSocket::DemuxByEndPoint).
#pragma once

#include "ns3/ip-l4-protocol.h"
#include "ns3/node.h"
#include "ns3/tcp-l4-protocol.h"

#include <vector>

namespace tunsim
{

class LinuxTcpSocket;

class LinuxTcpDemux : public ns3::IpL4Protocol
{
  public:
    static ns3::TypeId GetTypeId();
    LinuxTcpDemux() = default;

    /// The node's demux, put in place of its TcpL4Protocol as IPv4's
    /// protocol 6 the first time.
    static ns3::Ptr<LinuxTcpDemux> Of(ns3::Ptr<ns3::Node> node);

    /// Look `socket`'s end point up from now on (again: no effect).
    void Add(ns3::Ptr<LinuxTcpSocket> socket);

    /// Segments handed to an end point found here, and those passed on to
    /// TcpL4Protocol::Receive().
    uint64_t Found() const { return m_found; }
    uint64_t PassedOn() const { return m_passedOn; }

    int GetProtocolNumber() const override;
    RxStatus Receive(ns3::Ptr<ns3::Packet> p, const ns3::Ipv4Header& header,
                     ns3::Ptr<ns3::Ipv4Interface> incomingInterface) override;
    RxStatus Receive(ns3::Ptr<ns3::Packet> p, const ns3::Ipv6Header& header,
                     ns3::Ptr<ns3::Ipv6Interface> incomingInterface) override;
    void ReceiveIcmp(ns3::Ipv4Address icmpSource, uint8_t icmpTtl, uint8_t icmpType, uint8_t icmpCode,
                     uint32_t icmpInfo, ns3::Ipv4Address payloadSource, ns3::Ipv4Address payloadDestination,
                     const uint8_t payload[8]) override;
    void SetDownTarget(DownTargetCallback cb) override;
    void SetDownTarget6(DownTargetCallback6 cb) override;
    DownTargetCallback GetDownTarget() const override;
    DownTargetCallback6 GetDownTarget6() const override;

  protected:
    void DoDispose() override;

  private:
    ns3::Ptr<ns3::TcpL4Protocol> m_tcp;              // the node's TCP, which does the rest
    std::vector<ns3::Ptr<LinuxTcpSocket>> m_sockets; // a few per flow
    uint64_t m_found = 0;
    uint64_t m_passedOn = 0;
};

} // namespace tunsim
