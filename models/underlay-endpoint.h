// The UDP socket of the VPN (or of the VM backend, or of the far end) on the
// underlay: sendto() -> udp_sendmsg() -> ip_output() -> the NIC's qdisc, and
// the NIC -> ip_rcv() -> udp_rcv() -> the socket's receive queue -> the
// process. The underlay of a TunPath carries nothing but these datagrams.
//
// Two ways to carry them, chosen by the attribute `Bypass`:
//
//  - off: an ns-3 UdpSocket. Down through UdpSocketImpl::DoSendTo(),
//    UdpL4Protocol::Send(), Ipv4L3Protocol::Send() (a route lookup, then
//    the same function again with the route), SendRealOut(),
//    Ipv4Interface::Send() and TrafficControlLayer::Send(); up through
//    Node::ReceiveFromDevice(), TrafficControlLayer::Receive(),
//    Ipv4L3Protocol::Receive(), RouteInput(), LocalDeliver(),
//    UdpL4Protocol::Receive(), Ipv4EndPoint::ForwardUp(),
//    UdpSocketImpl::ForwardUp(), the socket's delivery queue and RecvFrom().
//  - on (the default): the same UDP and IPv4 headers, the same packet tags
//    and the same Ipv4QueueDiscItem are built here and handed to the NIC's
//    TrafficControlLayer::Send(); what the NIC receives is taken from its
//    receive callback, its headers removed as those layers remove them, and
//    handed to the endpoint bound to the destination port.
//
// None of the layers skipped schedules an event, draws a random number or
// holds a packet (the sockets' receive buffers are 1 GiB and drained at every
// arrival), so both ways give the same run, event for event
// (tests/test_underlay_endpoint.cc). The bypass saves about a quarter of the
// instructions of a bulk TCP run (docs/performance.md). What it leaves out
// is named where it is left out: IPv4 fragmentation (the NIC's MTU is 9000;
// a larger datagram aborts), checksum verification (no model corrupts a
// packet), ICMP port-unreachable (every datagram has its endpoint; one
// without aborts) and the Ipv4L3Protocol trace sources (Tx, Rx,
// LocalDeliver, SendOutgoing), which nothing in tunsim connects.
#pragma once

#include "ns3/inet-socket-address.h"
#include "ns3/ipv4-address.h"
#include "ns3/net-device.h"
#include "ns3/node.h"
#include "ns3/object.h"
#include "ns3/packet.h"
#include "ns3/socket.h"
#include "ns3/traffic-control-layer.h"

#include <cstdint>
#include <functional>

namespace tunsim
{

class UnderlayDemux;

/// One bound UDP socket on the underlay.
class UnderlayEndpoint : public ns3::Object
{
  public:
    /// What the process does with one datagram read from the socket (the
    /// outer IPv4 and UDP headers removed).
    using Receiver = std::function<void(ns3::Ptr<ns3::Packet>)>;

    static ns3::TypeId GetTypeId();
    UnderlayEndpoint() = default;

    /// socket() + bind(local) on `node`; each datagram that arrives for
    /// `local` goes to `rx`, at the instant the socket would have it.
    void Open(ns3::Ptr<ns3::Node> node, const ns3::InetSocketAddress& local, Receiver rx);

    /// sendto(to): the datagram `p` (its payload; the headers are added
    /// here) handed to the NIC's qdisc now, as udp_sendmsg() hands it on.
    void SendTo(ns3::Ptr<ns3::Packet> p, const ns3::InetSocketAddress& to);

  protected:
    void DoDispose() override;

  private:
    /// The stock path's receive callback: every datagram in the queue.
    void DrainSocket(ns3::Ptr<ns3::Socket> socket);

    bool m_bypass = true;
    ns3::InetSocketAddress m_local{ns3::Ipv4Address::GetAny(), 0};
    Receiver m_rx;
    ns3::Ptr<ns3::Socket> m_socket;                  // the stock path
    ns3::Ptr<ns3::NetDevice> m_nic;                  // the bypass: the NIC that has m_local
    ns3::Ptr<ns3::TrafficControlLayer> m_tc;         // and its node's traffic control
    ns3::Ptr<UnderlayDemux> m_demux;                 // and its node's demux
    ns3::Address m_broadcast;                        // the NIC's (made from a string at each call)
};

/// The bypass's receive side on one node: the NIC's receive callback,
/// handing each datagram to the endpoint bound to its destination port
/// (udp_rcv()'s __udp4_lib_lookup() for a host whose sockets are all bound to
/// the NIC's address). Aggregated to the node.
class UnderlayDemux : public ns3::Object
{
  public:
    static ns3::TypeId GetTypeId();
    UnderlayDemux() = default;

    /// The demux of `nic`'s node, taking over `nic`'s receive callback the
    /// first time.
    static ns3::Ptr<UnderlayDemux> Of(ns3::Ptr<ns3::NetDevice> nic);

    /// bind(): datagrams to `local` go to `rx`. A second bind to the same
    /// port aborts (EADDRINUSE).
    void Bind(const ns3::InetSocketAddress& local, UnderlayEndpoint::Receiver rx);

    /// The IPv4 identification of the next datagram from `src` to `dst`:
    /// Ipv4L3Protocol::BuildHeader()'s counter per address pair (the
    /// node's, shared by its sockets).
    uint16_t NextIdentification(ns3::Ipv4Address src, ns3::Ipv4Address dst);

  protected:
    void DoDispose() override;

  private:
    bool Receive(ns3::Ptr<ns3::NetDevice> nic, ns3::Ptr<const ns3::Packet> p, uint16_t protocol, const ns3::Address& from);

    struct Bound
    {
        uint16_t port;
        ns3::Ipv4Address address;
        UnderlayEndpoint::Receiver rx;
    };
    std::vector<Bound> m_bound; // a few: one per reader queue
    std::vector<std::pair<uint64_t, uint16_t>> m_identification; // (src << 32 | dst, next)
};

} // namespace tunsim
