// TunPathHelper: puts a VPN tunnel between two ns-3 nodes, as a Linux client
// with a tun device and a user-space VPN process has it.
//
//   client node                                          server node
//   ---------------------------------------              -----------------------
//   app (UDP/TCP) -> IPv4 -> qdisc(tun0)                 VirtualNetDevice vtun0
//     -> TunNetDevice tun0 (ring, policy)                  -> IPv4 -> sink app
//     -> VpnReader (user space) -> UDP:1194               VpnPeer UDP:1194
//     -> IPv4 -> qdisc(eth0) -> PointToPoint eth0 ==link== PointToPoint eth0
//
// Both nodes need an IPv4 stack (InternetStackHelper) and nothing else. The
// tunnel's addresses are 10.8.0.1/24 (client) and 10.8.0.2/24 (server), the
// underlay's 192.168.0.1/30 and 192.168.0.2/30: send to TunPath::ServerTunAddress()
// from the client to go through tun0.
//
//   TunPathHelper h;
//   h.SetPolicy("nodrop-v8");
//   h.SetRingSize(25);
//   h.SetQdisc(QdiscKind::FqCodel);
//   h.SetReaderAttribute("PerPacketCost", TimeValue(MicroSeconds(10)));
//   TunPath path = h.Install(client, server);
//
// Then TunPathMonitor (tun-path-monitor.h) books every packet of the path.
//
// SetQueues(n) with n > 1 makes tun0 an IFF_MULTI_QUEUE device: n tfiles
// (rings), one VpnReader per queue (its own process: own UDP socket on port
// 1194 + q, own CPU time), a flow's queue chosen by TunAutomqSelectQueue(),
// and the root qdisc `mq` with one child of the qdisc kind per queue -- or,
// with a shared root, one qdisc of that kind in front of all the queues
// (`tc qdisc replace dev tun0 root pfifo_fast` on a multiqueue tun).
#pragma once

#include "linux-qdisc.h"
#include "socket-account.h"
#include "vm-backend.h"
#include "tun-net-device.h"
#include "vpn-encap.h"
#include "vpn-peer.h"
#include "vpn-reader.h"

#include "ns3/data-rate.h"
#include "ns3/ipv4-address.h"
#include "ns3/node.h"
#include "ns3/nstime.h"
#include "ns3/object-factory.h"
#include "ns3/point-to-point-net-device.h"
#include "ns3/queue-disc.h"
#include "ns3/virtual-net-device.h"

#include <string>
#include <vector>

namespace tunsim
{

/// What TunPathHelper::Install() created.
struct TunPath
{
    ns3::Ptr<ns3::Node> client;
    ns3::Ptr<ns3::Node> server;
    ns3::Ptr<TunNetDevice> tun;                 ///< tun0 on the client
    ns3::Ptr<ns3::QueueDisc> tunQdisc;          ///< its root qdisc; null for noqueue
    QdiscKind tunQdiscKind = QdiscKind::PfifoFast;
    uint32_t tunQdiscLimit = 0;                 ///< packets (0 for noqueue)
    std::vector<ns3::Ptr<ns3::QueueDisc>> tunLeafQdiscs; ///< mq's children, else {tunQdisc}; empty for noqueue
    ns3::Ptr<VpnReader> reader;                 ///< the VPN process on the client (queue 0's; null for a VM backend)
    ns3::Ptr<VmBackend> vm;                     ///< QEMU / vhost-net reading the tap (null for the VPN)
    ns3::Ptr<SocketAccount> readerAccount;      ///< its UDP socket's sk_wmem_alloc
    std::vector<ns3::Ptr<VpnReader>> readers;   ///< one per tx queue; readers[0] == reader
    std::vector<ns3::Ptr<SocketAccount>> readerAccounts; ///< theirs; [0] == readerAccount
    ns3::Ptr<ns3::VirtualNetDevice> peerDevice; ///< the server's tunnel device
    ns3::Ptr<VpnPeer> peer;                     ///< the VPN process on the server
    ns3::Ptr<ns3::PointToPointNetDevice> clientNic;
    ns3::Ptr<ns3::PointToPointNetDevice> serverNic;
    ns3::Ptr<ns3::QueueDisc> clientNicQdisc;    ///< null for noqueue
    ns3::Ptr<ns3::QueueDisc> serverNicQdisc;
    uint32_t encapOverhead = 0;                 ///< bytes the VPN adds per packet
    TunMode mode = TunMode::Tun;                ///< tun0 carries IP packets or frames

    static ns3::Ipv4Address ClientTunAddress() { return ns3::Ipv4Address("10.8.0.1"); }
    static ns3::Ipv4Address ServerTunAddress() { return ns3::Ipv4Address("10.8.0.2"); }
};

class TunPathHelper
{
  public:
    TunPathHelper();

    /// The stop/wake policy of tun0 (TunPolicyNames(); default "drop").
    /// NS_FATAL_ERROR at Install() if there is no such policy.
    void SetPolicy(const std::string& name) { m_policy = name; }
    /// IFF_TUN (default) or IFF_TAP: the ring holds Ethernet frames.
    void SetMode(TunMode mode) { m_mode = mode; }
    /// TUNSETOFFLOAD on the device (a VM backend's virtio-net): GSO skbs
    /// whole in the ring (TunNetDevice::SetOffloads).
    void SetOffloads(bool on) { m_offloads = on; }
    /// dev->tx_queue_len, the ring's size (default 500).
    void SetRingSize(uint32_t txQueueLen) { m_ringSize = txQueueLen; }
    /// The root qdisc of tun0 (default pfifo_fast, Linux limits).
    void SetQdisc(QdiscKind kind, QdiscParams params = {})
    {
        m_qdisc = kind;
        m_qdiscParams = params;
    }
    /// An attribute of tunsim::TunNetDevice (SoftirqLatency, SoftirqCost, XmitCost, Mtu).
    void SetTunAttribute(const std::string& name, const ns3::AttributeValue& value);
    /// An attribute of tunsim::VpnReader (PerPacketCost, NsPerByte, WakeupLatency,
    /// DeepIdleAfter, DeepWakeupLatency, Batch). EncapOverhead comes from SetEncap().
    void SetReaderAttribute(const std::string& name, const ns3::AttributeValue& value);
    /// Who reads the device: the VPN process (default), or a VM's backend
    /// (QEMU, vhost-net) feeding a guest whose stack is the server node;
    /// then the underlay is the link to the guest's stack (no encapsulation).
    /// Call before SetBackendAttribute().
    void SetConsumer(ConsumerKind kind);
    /// An attribute of tunsim::VmBackend (FrameCost, NsPerByte, TxCost, WakeupLatency).
    void SetBackendAttribute(const std::string& name, const ns3::AttributeValue& value);
    /// An attribute of tunsim::GuestRxQueue (Size, RefillBatch, Budget, PerFrameCost, IrqLatency).
    void SetGuestAttribute(const std::string& name, const ns3::AttributeValue& value);
    /// sk_sndbuf of the VPN's UDP socket (default 212992).
    void SetReaderSndbuf(uint32_t bytes) { m_readerSndbuf = bytes; }
    /// What the VPN adds per packet (default openvpn).
    void SetEncap(EncapKind kind, uint32_t customBytes = 0)
    {
        m_encap = kind;
        m_encapCustom = customBytes;
    }
    /// The physical link (defaults: 10 Gbit/s, 50 us one way, 1000-packet
    /// device queue, pfifo_fast on both NICs).
    void SetUnderlay(ns3::DataRate rate, ns3::Time delay, uint32_t queuePackets, QdiscKind qdisc);

    /// tun0's tx queues (IFF_MULTI_QUEUE when > 1; default 1) and, for
    /// more than one, whether the qdisc kind is one shared root instead of
    /// mq's child per queue.
    void SetQueues(uint32_t queues, bool sharedRoot = false)
    {
        m_queues = queues;
        m_sharedRoot = sharedRoot;
    }
    /// TUNSETSTEERINGEBPF with a program that returns the flow's index:
    /// flow i on queue i mod queues (tun_ebpf_select_queue()).
    void SetSteerByFlow(bool steer) { m_steerByFlow = steer; }

    /// Build the path between `client` and `server` (both with IPv4).
    TunPath Install(ns3::Ptr<ns3::Node> client, ns3::Ptr<ns3::Node> server) const;

  private:
    /// NET_XMIT_DROP back to the sender where Linux returns it.
    static void ConnectReturnCodes(const TunPath& path);
    /// tun0's NetDeviceQueueInterface, queues and qdisc(s).
    void InstallTunQueues(TunPath& path) const;
    /// One VPN process per queue.
    void InstallReaders(TunPath& path) const;

    std::string m_policy = "drop";
    uint32_t m_ringSize = 500;
    uint32_t m_queues = 1;
    bool m_sharedRoot = false;
    bool m_steerByFlow = false;
    TunMode m_mode = TunMode::Tun;
    bool m_offloads = false;
    QdiscKind m_qdisc = QdiscKind::PfifoFast;
    QdiscParams m_qdiscParams;
    ns3::ObjectFactory m_tunFactory;
    ns3::ObjectFactory m_readerFactory;
    uint32_t m_readerSndbuf = 212992;
    ConsumerKind m_consumer = ConsumerKind::Vpn;
    ns3::ObjectFactory m_backendFactory;
    ns3::ObjectFactory m_guestFactory;
    EncapKind m_encap = EncapKind::OpenVpn;
    uint32_t m_encapCustom = 0;
    ns3::DataRate m_underlayRate{10000000000ULL};
    ns3::Time m_underlayDelay = ns3::MicroSeconds(50);
    uint32_t m_underlayQueue = 1000;
    QdiscKind m_underlayQdisc = QdiscKind::PfifoFast;
};

} // namespace tunsim
