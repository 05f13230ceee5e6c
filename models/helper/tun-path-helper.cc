#include "tun-path-helper.h"

#include "qemu-tap-reader.h"
#include "tun-policy.h"
#include "tunsim-tag.h"
#include "vhost-net-worker.h"

#include "ns3/abort.h"
#include "ns3/inet-socket-address.h"
#include "ns3/ipv4.h"
#include "ns3/net-device-queue-interface.h"
#include "ns3/point-to-point-helper.h"
#include "ns3/queue-size.h"
#include "ns3/traffic-control-layer.h"
#include "ns3/uinteger.h"

namespace tunsim
{

namespace
{

constexpr uint16_t kVpnPort = 1194;

/// ip addr add ADDR/MASK dev DEV; ip link set DEV up.
void
AddAddress(ns3::Ptr<ns3::Node> node, ns3::Ptr<ns3::NetDevice> dev, const char* addr, const char* mask)
{
    ns3::Ptr<ns3::Ipv4> ipv4 = node->GetObject<ns3::Ipv4>();
    NS_ABORT_MSG_IF(!ipv4, "TunPathHelper: node " << node->GetId() << " has no IPv4 stack");
    const int32_t i = ipv4->AddInterface(dev);
    ipv4->AddAddress(i, ns3::Ipv4InterfaceAddress(ns3::Ipv4Address(addr), ns3::Ipv4Mask(mask)));
    ipv4->SetMetric(i, 1);
    ipv4->SetUp(i);
}

} // namespace

TunPathHelper::TunPathHelper()
{
    m_tunFactory.SetTypeId(TunNetDevice::GetTypeId());
    m_readerFactory.SetTypeId(VpnReader::GetTypeId());
    m_guestFactory.SetTypeId(GuestRxQueue::GetTypeId());
}

void
TunPathHelper::SetConsumer(ConsumerKind kind)
{
    m_consumer = kind;
    if (kind != ConsumerKind::Vpn)
    {
        m_backendFactory.SetTypeId(kind == ConsumerKind::Qemu ? QemuTapReader::GetTypeId()
                                                               : VhostNetWorker::GetTypeId());
    }
}

void
TunPathHelper::SetBackendAttribute(const std::string& name, const ns3::AttributeValue& value)
{
    m_backendFactory.Set(name, value);
}

void
TunPathHelper::SetGuestAttribute(const std::string& name, const ns3::AttributeValue& value)
{
    m_guestFactory.Set(name, value);
}

void
TunPathHelper::SetTunAttribute(const std::string& name, const ns3::AttributeValue& value)
{
    m_tunFactory.Set(name, value);
}

void
TunPathHelper::SetReaderAttribute(const std::string& name, const ns3::AttributeValue& value)
{
    m_readerFactory.Set(name, value);
}

void
TunPathHelper::SetUnderlay(ns3::DataRate rate, ns3::Time delay, uint32_t queuePackets, QdiscKind qdisc)
{
    m_underlayRate = rate;
    m_underlayDelay = delay;
    m_underlayQueue = queuePackets;
    m_underlayQdisc = qdisc;
}

TunPath
TunPathHelper::Install(ns3::Ptr<ns3::Node> client, ns3::Ptr<ns3::Node> server) const
{
    using namespace ns3;
    TunPath path;
    path.client = client;
    path.server = server;
    path.encapOverhead = m_consumer == ConsumerKind::Vpn ? EncapOverheadBytes(m_encap, m_encapCustom) : 0;

    // The underlay: one PointToPoint link, its MTU large enough for an
    // encapsulated 1500-byte packet, a qdisc on each NIC.
    PointToPointHelper p2p;
    p2p.SetDeviceAttribute("DataRate", DataRateValue(m_underlayRate));
    p2p.SetDeviceAttribute("Mtu", UintegerValue(9000));
    p2p.SetChannelAttribute("Delay", TimeValue(m_underlayDelay));
    p2p.SetQueue("ns3::DropTailQueue<Packet>", "MaxSize",
                 QueueSizeValue(QueueSize(std::to_string(m_underlayQueue) + "p")));
    NetDeviceContainer link = p2p.Install(client, server);
    path.clientNic = DynamicCast<PointToPointNetDevice>(link.Get(0));
    path.serverNic = DynamicCast<PointToPointNetDevice>(link.Get(1));
    const QdiscParams nicQdisc{DefaultQdiscLimit(m_underlayQdisc, 0, 1000), 5, 100};
    path.clientNicQdisc = InstallLinuxQdisc(path.clientNic, m_underlayQdisc, nicQdisc);
    path.serverNicQdisc = InstallLinuxQdisc(path.serverNic, m_underlayQdisc, nicQdisc);
    AddAddress(client, path.clientNic, "192.168.0.1", "255.255.255.252");
    AddAddress(server, path.serverNic, "192.168.0.2", "255.255.255.252");

    // tun0: ring(s), policy, netdev queue(s), qdisc(s).
    path.tun = m_tunFactory.Create<TunNetDevice>();
    InstallTunQueues(path);
    path.mode = m_mode;
    AddAddress(client, path.tun, "10.8.0.1", "255.255.255.0");

    // The server's end of the tunnel.
    path.peerDevice = CreateObject<VirtualNetDevice>();
    path.peerDevice->SetNeedsArp(false);
    path.peerDevice->SetIsPointToPoint(true);
    path.peerDevice->SetSupportsSendFrom(false);
    path.peerDevice->SetAddress(Mac48Address::Allocate());
    server->AddDevice(path.peerDevice);
    AddAddress(server, path.peerDevice, "10.8.0.2", "255.255.255.0");

    // The VPN processes (or the VM's backend and its guest).
    if (m_consumer == ConsumerKind::Vpn)
    {
        InstallReaders(path);
    }
    else
    {
        path.readerAccount = SocketAccountTable::Create("vpn-reader", m_readerSndbuf);
        path.readerAccounts.push_back(path.readerAccount);
        const InetSocketAddress clientEnd(Ipv4Address("192.168.0.1"), kVpnPort);
        const InetSocketAddress serverEnd(Ipv4Address("192.168.0.2"), kVpnPort);
        path.vm = m_backendFactory.Create<VmBackend>();
        client->AddApplication(path.vm);
        path.vm->Setup(path.tun, 0, clientEnd, serverEnd, m_guestFactory.Create<GuestRxQueue>());
        path.vm->SetStartTime(Seconds(0));
    }

    path.peer = CreateObject<VpnPeer>();
    server->AddApplication(path.peer);
    path.peer->Setup(path.peerDevice, InetSocketAddress(Ipv4Address("192.168.0.2"), kVpnPort),
                     InetSocketAddress(Ipv4Address("192.168.0.1"), kVpnPort), path.encapOverhead);
    path.peer->SetTapFrames(m_mode == TunMode::Tap);
    path.peer->SetStartTime(Seconds(0));
    ConnectReturnCodes(path);
    return path;
}

void
TunPathHelper::InstallTunQueues(TunPath& path) const
{
    using namespace ns3;
    Ptr<TunPolicy> policy = CreateTunPolicy(m_policy);
    NS_ABORT_MSG_IF(!policy, "TunPathHelper: unknown policy " << m_policy);
    path.tun->Configure(policy, m_ringSize, m_queues);
    path.tun->SetMode(m_mode);
    path.tun->SetSteerByFlow(m_steerByFlow);
    path.tun->SetOffloads(m_offloads);
    // alloc_netdev_mqs() + netif_set_real_num_tx_queues(): n netdev queues.
    Ptr<NetDeviceQueueInterface> ndqi = CreateObjectWithAttributes<NetDeviceQueueInterface>("NTxQueues", UintegerValue(m_queues));
    if (m_queues > 1)
    {
        // The qdisc layer asks tun_select_queue() for each packet's queue.
        const uint32_t n = m_queues;
        const bool steer = m_steerByFlow;
        ndqi->SetSelectQueueCallback([n, steer](Ptr<QueueItem> item) -> std::size_t {
            TunsimTag tag;
            item->GetPacket()->PeekPacketTag(tag);
            return TunSelectQueue(tag.flowId, n, steer);
        });
    }
    path.tun->AggregateObject(ndqi);
    path.client->AddDevice(path.tun);
    path.tunQdiscKind = m_qdisc;
    path.tunQdiscLimit = DefaultQdiscLimit(m_qdisc, m_qdiscParams.limit, m_ringSize);
    QdiscParams tunQdisc = m_qdiscParams;
    tunQdisc.limit = path.tunQdiscLimit;
    path.tunQdisc = (m_queues > 1 && !m_sharedRoot) ? InstallLinuxMqQdisc(path.tun, m_queues, m_qdisc, tunQdisc)
                                                     : InstallLinuxQdisc(path.tun, m_qdisc, tunQdisc);
    path.tunLeafQdiscs = LeafQdiscs(path.tunQdisc);
    path.tun->SetHasQdisc(path.tunQdisc != nullptr);
}

void
TunPathHelper::InstallReaders(TunPath& path) const
{
    using namespace ns3;
    for (uint32_t q = 0; q < m_queues; ++q)
    {
        const std::string name = q == 0 ? "vpn-reader" : "vpn-reader" + std::to_string(q);
        Ptr<SocketAccount> account = SocketAccountTable::Create(name, m_readerSndbuf);
        Ptr<VpnReader> reader = m_readerFactory.Create<VpnReader>();
        reader->SetAttribute("EncapOverhead", UintegerValue(path.encapOverhead));
        path.client->AddApplication(reader);
        reader->Setup(path.tun, q, InetSocketAddress(Ipv4Address("192.168.0.1"), static_cast<uint16_t>(kVpnPort + q)),
                      InetSocketAddress(Ipv4Address("192.168.0.2"), kVpnPort), account);
        reader->SetStartTime(Seconds(0));
        path.readers.push_back(reader);
        path.readerAccounts.push_back(account);
    }
    path.reader = path.readers[0];
    path.readerAccount = path.readerAccounts[0];
}

void
TunPathHelper::ConnectReturnCodes(const TunPath& path)
{
    using namespace ns3;
    // What Linux reports to the sending socket and ns-3 does not (its
    // NetDevice/QueueDisc return values go nowhere): a qdisc that drops at
    // enqueue returns NET_XMIT_DROP (or _CN); with noqueue, the driver's
    // verdict comes back from __dev_queue_xmit(): a stopped queue or a full
    // ring. A drop behind a qdisc, after the enqueue succeeded, is silent.
    Callback<void, Ptr<const QueueDiscItem>, const char*> enqueueDrop(
        [](Ptr<const QueueDiscItem> item, const char*) { SocketAccountTable::NotifyLocalDrop(item->GetPacket()); });
    std::vector<Ptr<QueueDisc>> enqueueing = path.tunLeafQdiscs;
    enqueueing.push_back(path.clientNicQdisc);
    for (const Ptr<QueueDisc>& q : enqueueing)
    {
        if (q)
        {
            q->TraceConnectWithoutContext("DropBeforeEnqueue", enqueueDrop);
        }
    }
    path.client->GetObject<TrafficControlLayer>()->TraceConnectWithoutContext(
        "TcDrop", Callback<void, Ptr<const Packet>>([](Ptr<const Packet> p) { SocketAccountTable::NotifyLocalDrop(p); }));
    if (!path.tunQdisc)
    {
        path.tun->TraceConnectWithoutContext(
            "Drop", Callback<void, Ptr<const Packet>, TunDropReason>(
                        [](Ptr<const Packet> p, TunDropReason) { SocketAccountTable::NotifyLocalDrop(p); }));
    }
}

} // namespace tunsim
