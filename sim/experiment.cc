#include "experiment.h"

#include "allocator.h"

#include "packet-ledger.h"
#include "socket-account.h"
#include "traffic-apps.h"
#include "tun-net-device.h"
#include "tun-policy.h"
#include "tunsim-tag.h"
#include "tunsim-version.h"
#include "vpn-peer.h"
#include "vpn-reader.h"

#include "ns3/config.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/traffic-control-module.h"
#include "ns3/virtual-net-device.h"

#include <array>
#include <chrono>
#include <functional>
#include <cmath>
#include <iomanip>
#include <sstream>

namespace tunsim
{

using namespace ns3;
using json = nlohmann::json;

namespace
{

constexpr uint16_t kVpnPort = 1194;
constexpr uint16_t kFirstAppPort = 5000;

/// Linux default limits of the qdisc kinds (limit 0 in the scenario).
uint32_t
QdiscLimit(const std::string& kind, uint32_t configured, uint32_t txQueueLen)
{
    if (configured)
    {
        return configured;
    }
    if (kind == "fq_codel")
    {
        return 10240; // fq_codel_init(): sch->limit = 10*1024
    }
    // pfifo_fast / pfifo: qdisc_dev(sch)->tx_queue_len (at least 1)
    return std::max<uint32_t>(txQueueLen, 1);
}

/// Install a root qdisc of `kind` on `dev`; returns it (null for noqueue).
Ptr<QueueDisc>
InstallQdisc(Ptr<NetDevice> dev, const std::string& kind, uint32_t limit, double targetMs, double intervalMs)
{
    if (kind == "noqueue")
    {
        return nullptr;
    }
    TrafficControlHelper tch;
    std::string size = std::to_string(limit) + "p";
    if (kind == "fq_codel")
    {
        std::ostringstream target;
        std::ostringstream interval;
        target << targetMs << "ms";
        interval << intervalMs << "ms";
        tch.SetRootQueueDisc("ns3::FqCoDelQueueDisc",
                             "MaxSize", QueueSizeValue(QueueSize(size)),
                             "Target", StringValue(target.str()),
                             "Interval", StringValue(interval.str()));
    }
    else if (kind == "pfifo_fast")
    {
        tch.SetRootQueueDisc("ns3::PfifoFastQueueDisc", "MaxSize", QueueSizeValue(QueueSize(size)));
    }
    else if (kind == "pfifo")
    {
        tch.SetRootQueueDisc("ns3::FifoQueueDisc", "MaxSize", QueueSizeValue(QueueSize(size)));
    }
    else
    {
        NS_FATAL_ERROR("unknown qdisc kind " << kind);
    }
    QueueDiscContainer c = tch.Install(dev);
    // ns-3 stops a qdisc run after Quota packets and (unlike __qdisc_run's
    // __netif_schedule) never resumes it; the kernel continues from the
    // softirq. Let a run go on until the qdisc is empty or the queue stops.
    c.Get(0)->SetQuota(std::numeric_limits<uint32_t>::max() / 2);
    return c.Get(0);
}

/// ip addr add ADDR/MASK dev DEV; ip link set DEV up (no default qdisc).
void
AddAddress(Ptr<Node> node, Ptr<NetDevice> dev, const char* addr, const char* mask)
{
    Ptr<Ipv4> ipv4 = node->GetObject<Ipv4>();
    int32_t i = ipv4->AddInterface(dev);
    ipv4->AddAddress(i, Ipv4InterfaceAddress(Ipv4Address(addr), Ipv4Mask(mask)));
    ipv4->SetMetric(i, 1);
    ipv4->SetUp(i);
}

/// Time-weighted occupancy statistics of a queue disc.
struct BacklogStats
{
    uint32_t max = 0;
    long double area = 0;
    int64_t lastNs = 0;
    uint32_t last = 0;

    void Change(uint32_t, uint32_t n)
    {
        int64_t now = Simulator::Now().GetNanoSeconds();
        area += static_cast<long double>(last) * (now - lastNs);
        lastNs = now;
        last = n;
        max = std::max(max, n);
    }

    double Mean(int64_t endNs) const
    {
        if (endNs <= 0)
        {
            return last;
        }
        return static_cast<double>((area + static_cast<long double>(last) * (endNs - lastNs)) / endNs);
    }
};

json
QdiscJson(Ptr<QueueDisc> q, const std::string& kind, uint32_t limit, const BacklogStats& b, int64_t endNs)
{
    json j;
    j["kind"] = kind;
    if (!q)
    {
        j["limit_packets"] = nullptr;
        return j;
    }
    const QueueDisc::Stats& st = q->GetStats();
    j["limit_packets"] = limit;
    j["received_packets"] = st.nTotalReceivedPackets;
    j["sent_packets"] = st.nTotalSentPackets;
    j["dropped_packets"] = st.nTotalDroppedPackets;
    json reasons = json::object();
    for (const auto& [r, n] : st.nDroppedPacketsBeforeEnqueue)
    {
        reasons[r] = reasons.value(r, 0u) + n;
    }
    for (const auto& [r, n] : st.nDroppedPacketsAfterDequeue)
    {
        reasons[r] = reasons.value(r, 0u) + n;
    }
    j["drop_reasons"] = reasons;
    j["requeues"] = st.nTotalRequeuedPackets;
    j["backlog_packets_end"] = q->GetNPackets();
    j["backlog_packets_max"] = b.max;
    j["backlog_packets_mean"] = b.Mean(endNs);
    return j;
}

double
Ms(int64_t ns)
{
    return static_cast<double>(ns) / 1e6;
}

json
DelayJson(const DelayHistogram& h)
{
    json j;
    j["samples"] = h.Count();
    j["p50_ms"] = Ms(h.QuantileNs(0.50));
    j["p99_ms"] = Ms(h.QuantileNs(0.99));
    j["max_ms"] = Ms(h.Max());
    j["mean_ms"] = h.MeanNs() / 1e6;
    // The whole distribution: non-empty log-linear buckets (upper edge, count).
    json edges = json::array();
    json counts = json::array();
    for (const auto& [edge, n] : h.Buckets())
    {
        edges.push_back(Ms(edge));
        counts.push_back(n);
    }
    j["histogram"] = {{"upper_edge_ms", edges}, {"count", counts}};
    return j;
}

/// Counters of packets handed to / taken off a point-to-point wire.
struct WireCount
{
    uint64_t txBegin = 0;
    uint64_t rxEnd = 0;
    uint64_t InFlight() const { return txBegin - rxEnd; }
};

} // namespace

RunOutput
RunExperiment(const Scenario& s, const RunOptions& options)
{
    auto wallStart = std::chrono::steady_clock::now();

    // ---- global ns-3 state: a clean slate for every run.
    Simulator::Destroy();
    Config::Reset();
    SocketAccountTable::Reset();
    RngSeedManager::SetSeed(1);
    RngSeedManager::SetRun(s.seed);

    // Linux-like TCP defaults (ns-3's are 536-byte segments and 128 KiB buffers).
    Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(1448));
    Config::SetDefault("ns3::TcpSocket::SndBufSize", UintegerValue(4u << 20)); // tcp_wmem max
    Config::SetDefault("ns3::TcpSocket::RcvBufSize", UintegerValue(6u << 20)); // tcp_rmem max
    Config::SetDefault("ns3::TcpSocket::InitialCwnd", UintegerValue(10));
    Config::SetDefault("ns3::TcpSocketBase::Sack", BooleanValue(true));
    Config::SetDefault("tunsim::TsqTcpSocket::TsqEnabled", BooleanValue(s.host.tcpSmallQueues));
    Config::SetDefault("tunsim::TsqTcpSocket::LimitOutputBytes", UintegerValue(s.host.tcpLimitOutputBytes));
    Config::SetDefault("tunsim::TsqTcpSocket::PacingShift", UintegerValue(s.host.tcpPacingShift));

    // ---- nodes and the underlay link.
    NodeContainer nodes;
    nodes.Create(2);
    Ptr<Node> client = nodes.Get(0);
    Ptr<Node> server = nodes.Get(1);
    InternetStackHelper internet;
    // Connected routes only (no global routing to consult per packet), no IPv6.
    Ipv4StaticRoutingHelper staticRouting;
    internet.SetRoutingHelper(staticRouting);
    internet.SetIpv6StackInstall(false);
    internet.Install(nodes);
    internet.AssignStreams(nodes, 0); // fixed RNG streams: runs repeat bit for bit

    PointToPointHelper p2p;
    std::ostringstream rate;
    rate << std::setprecision(17) << s.underlay.rateMbps * 1e6 << "bps";
    p2p.SetDeviceAttribute("DataRate", StringValue(rate.str()));
    p2p.SetDeviceAttribute("Mtu", UintegerValue(9000)); // carries encapsulated 1500-byte packets whole
    p2p.SetChannelAttribute("Delay", TimeValue(NanoSeconds(static_cast<int64_t>(s.underlay.delayMs * 1e6))));
    p2p.SetQueue("ns3::DropTailQueue<Packet>",
                 "MaxSize",
                 QueueSizeValue(QueueSize(std::to_string(s.underlay.queuePackets) + "p")));
    NetDeviceContainer link = p2p.Install(client, server);
    auto eth0c = DynamicCast<PointToPointNetDevice>(link.Get(0));
    auto eth0s = DynamicCast<PointToPointNetDevice>(link.Get(1));
    uint32_t underlayLimit = QdiscLimit(s.underlay.qdisc, 0, 1000);
    Ptr<QueueDisc> underlayQdiscC = InstallQdisc(eth0c, s.underlay.qdisc, underlayLimit, 5, 100);
    Ptr<QueueDisc> underlayQdiscS = InstallQdisc(eth0s, s.underlay.qdisc, underlayLimit, 5, 100);
    AddAddress(client, eth0c, "192.168.0.1", "255.255.255.252");
    AddAddress(server, eth0s, "192.168.0.2", "255.255.255.252");

    // ---- tun0 on the client: ring + policy + qdisc.
    Ptr<TunPolicy> policy = CreateTunPolicy(s.tun.policy);
    NS_ABORT_MSG_IF(!policy, "unknown policy " << s.tun.policy);
    auto tun = CreateObject<TunNetDevice>();
    tun->SetAttribute("SoftirqLatency", TimeValue(NanoSeconds(static_cast<int64_t>(s.tun.softirqLatencyUs * 1e3))));
    tun->SetAttribute("SoftirqCost", TimeValue(NanoSeconds(static_cast<int64_t>(s.tun.softirqCostNs))));
    tun->SetAttribute("XmitCost", TimeValue(NanoSeconds(static_cast<int64_t>(s.tun.xmitCostNs))));
    tun->Configure(policy, s.tun.ringSize, 1);
    {
        auto ndqi = CreateObject<NetDeviceQueueInterface>();
        tun->AggregateObject(ndqi);
    }
    client->AddDevice(tun);
    uint32_t qdiscLimit = QdiscLimit(s.qdisc.kind, s.qdisc.limit, s.tun.ringSize);
    Ptr<QueueDisc> tunQdisc = InstallQdisc(tun, s.qdisc.kind, qdiscLimit, s.qdisc.targetMs, s.qdisc.intervalMs);
    tun->SetHasQdisc(tunQdisc != nullptr);
    AddAddress(client, tun, "10.8.0.1", "255.255.255.0");

    // ---- the server's end of the tunnel.
    auto vtun = CreateObject<VirtualNetDevice>();
    vtun->SetNeedsArp(false);
    vtun->SetIsPointToPoint(true);
    vtun->SetSupportsSendFrom(false);
    vtun->SetAddress(Mac48Address::Allocate());
    server->AddDevice(vtun);
    AddAddress(server, vtun, "10.8.0.2", "255.255.255.0");

    // ---- accounting.
    auto ledger = Create<PacketLedger>();
    uint32_t encap = EncapOverhead(s.reader);

    // ---- the VPN processes.
    auto readerAccount = SocketAccountTable::Create("vpn-reader", s.reader.sndbufBytes);
    auto reader = CreateObject<VpnReader>();
    reader->SetAttribute("PerPacketCost", TimeValue(NanoSeconds(static_cast<int64_t>(s.reader.perPacketNs))));
    reader->SetAttribute("NsPerByte", DoubleValue(s.reader.nsPerByte));
    reader->SetAttribute("WakeupLatency", TimeValue(NanoSeconds(static_cast<int64_t>(s.reader.wakeupLatencyUs * 1e3))));
    reader->SetAttribute("DeepIdleAfter", TimeValue(NanoSeconds(static_cast<int64_t>(s.reader.deepIdleAfterUs * 1e3))));
    reader->SetAttribute("DeepWakeupLatency",
                         TimeValue(NanoSeconds(static_cast<int64_t>(s.reader.deepWakeupLatencyUs * 1e3))));
    reader->SetAttribute("Batch", UintegerValue(s.reader.batch));
    reader->SetAttribute("EncapOverhead", UintegerValue(encap));
    client->AddApplication(reader);
    reader->Setup(tun,
                  0,
                  InetSocketAddress(Ipv4Address("192.168.0.1"), kVpnPort),
                  InetSocketAddress(Ipv4Address("192.168.0.2"), kVpnPort),
                  readerAccount);
    for (const auto& st : s.reader.stalls)
    {
        reader->AddStall(NanoSeconds(static_cast<int64_t>(st.atS * 1e9)),
                         NanoSeconds(static_cast<int64_t>(st.forS * 1e9)));
    }
    auto toTimes = [](const std::vector<double>& us) {
        std::vector<Time> t;
        for (double u : us)
        {
            t.push_back(NanoSeconds(static_cast<int64_t>(u * 1e3)));
        }
        return t;
    };
    reader->SetWakeupQuantiles(toTimes(s.reader.wakeupQuantilesUs), 903);
    reader->SetDeepWakeupQuantiles(toTimes(s.reader.deepWakeupQuantilesUs), 902);
    reader->SetPreemption(NanoSeconds(static_cast<int64_t>(s.reader.preemptIntervalMs * 1e6)),
                          NanoSeconds(static_cast<int64_t>(s.reader.preemptMs * 1e6)),
                          900);
    reader->SetReverseDeliveryCallback([ledger](Ptr<const Packet> p) { ledger->Delivered(p); });
    reader->SetStartTime(Seconds(0));
    if (s.tun.softirqOnReaderCpu)
    {
        VpnReader* r = PeekPointer(reader);
        tun->SetSoftirqCpuSink([r](Time t) { r->ChargeCpu(t); });
    }

    auto peer = CreateObject<VpnPeer>();
    server->AddApplication(peer);
    peer->Setup(vtun,
                InetSocketAddress(Ipv4Address("192.168.0.2"), kVpnPort),
                InetSocketAddress(Ipv4Address("192.168.0.1"), kVpnPort),
                encap);
    peer->SetDeliveryCallback([ledger](Ptr<const Packet> p) { ledger->Delivered(p); });
    peer->SetStartTime(Seconds(0));

    // ---- traffic.
    const Time duration = NanoSeconds(static_cast<int64_t>(s.durationS * 1e9));
    struct FlowApps
    {
        Ptr<UdpSeqSender> udpTx;
        Ptr<UdpSeqSink> udpRx;
        Ptr<TcpBulkSender> tcpTx;
        Ptr<TcpSink> tcpRx;
        Ptr<SocketAccount> account;
        uint32_t reverseFlow = 0;
        double activeS = 0;
    };
    std::vector<FlowApps> apps(s.flows.size());
    std::map<uint16_t, uint32_t> reverseFlowByPort; // sink port -> reverse ledger flow
    for (size_t i = 0; i < s.flows.size(); ++i)
    {
        const FlowConfig& f = s.flows[i];
        uint16_t port = static_cast<uint16_t>(kFirstAppPort + i);
        std::string name = "flow" + std::to_string(i) + "-" + f.kind;
        uint32_t id = ledger->AddFlow(name, Direction::Forward);
        NS_ASSERT(id == i);
        double stop = f.stopS < 0 ? s.durationS : f.stopS;
        apps[i].activeS = stop - f.startS;
        InetSocketAddress dest(Ipv4Address("10.8.0.2"), port);
        if (f.kind == "udp")
        {
            UdpSeqSender::Config c;
            c.mode = f.mode == "flood"   ? UdpSeqSender::Mode::Flood
                     : f.mode == "rate"  ? UdpSeqSender::Mode::Rate
                     : f.mode == "video" ? UdpSeqSender::Mode::Video
                                         : UdpSeqSender::Mode::Bursts;
            c.fps = f.fps;
            c.gop = f.gop;
            c.iFrameRatio = f.iFrameRatio;
            c.phase = NanoSeconds(static_cast<int64_t>(f.phaseMs * 1e6));
            c.frameSizeCv = f.frameSizeCv;
            c.payloadBytes = f.payloadBytes;
            c.rateBps = f.rateMbps * 1e6;
            c.poisson = f.poisson;
            c.burstPackets = f.burstPackets;
            c.burstInterval = NanoSeconds(static_cast<int64_t>(f.burstIntervalMs * 1e6));
            c.wakeupLatency = NanoSeconds(static_cast<int64_t>(s.host.senderWakeupLatencyUs * 1e3));
            c.sendCost = NanoSeconds(static_cast<int64_t>(f.sendCostNs));
            c.sendCostFirst = f.sendCostFirstNs < 0 ? c.sendCost : NanoSeconds(static_cast<int64_t>(f.sendCostFirstNs));
            apps[i].account = SocketAccountTable::Create(name, s.host.udpSndbufBytes);
            apps[i].udpTx = CreateObject<UdpSeqSender>();
            apps[i].udpTx->Setup(dest, c, apps[i].account, ledger, id);
            client->AddApplication(apps[i].udpTx);
            apps[i].udpRx = CreateObject<UdpSeqSink>();
            apps[i].udpRx->Setup(port);
            server->AddApplication(apps[i].udpRx);
            apps[i].udpTx->SetStartTime(Seconds(f.startS));
            apps[i].udpTx->SetStopTime(Seconds(stop));
            apps[i].udpRx->SetStartTime(Seconds(0));
        }
        else
        {
            TypeId cc = f.cc == "cubic" ? TcpCubic::GetTypeId() : TcpNewReno::GetTypeId();
            // TCP's sk_sndbuf is autotuned up to tcp_wmem[2]; ns-3's own send
            // buffer limits the application. The account records wmem only.
            apps[i].account = SocketAccountTable::Create(name, 4u << 20);
            apps[i].tcpTx = CreateObject<TcpBulkSender>();
            apps[i].tcpTx->Setup(dest, cc, f.maxBytes, apps[i].account, ledger, id);
            client->AddApplication(apps[i].tcpTx);
            apps[i].tcpRx = CreateObject<TcpSink>();
            apps[i].tcpRx->Setup(port);
            server->AddApplication(apps[i].tcpRx);
            apps[i].tcpTx->SetStartTime(Seconds(f.startS));
            apps[i].tcpTx->SetStopTime(Seconds(stop));
            apps[i].tcpRx->SetStartTime(Seconds(0));
        }
    }
    // Reverse-direction ledger flows (ACKs) for the TCP flows, after the
    // forward ones so forward flow ids equal scenario indices.
    for (size_t i = 0; i < s.flows.size(); ++i)
    {
        if (s.flows[i].kind == "tcp")
        {
            apps[i].reverseFlow =
                ledger->AddFlow("flow" + std::to_string(i) + "-tcp-acks", Direction::Reverse);
            reverseFlowByPort[static_cast<uint16_t>(kFirstAppPort + i)] = apps[i].reverseFlow;
        }
    }
    // The reverse tunnel entry: tag what the server sends back, by its port.
    uint32_t strayReverse = ledger->AddFlow("reverse-other", Direction::Reverse);
    peer->SetReverseEntryCallback([ledger, reverseFlowByPort, strayReverse](Ptr<Packet> p) {
        Ipv4Header ip;
        Ptr<Packet> c = p->Copy();
        c->RemoveHeader(ip);
        uint32_t flow = strayReverse;
        if (ip.GetProtocol() == TcpL4Protocol::PROT_NUMBER)
        {
            TcpHeader tcp;
            c->PeekHeader(tcp);
            auto it = reverseFlowByPort.find(tcp.GetSourcePort());
            if (it != reverseFlowByPort.end())
            {
                flow = it->second;
            }
        }
        p->AddPacketTag(TunsimTag(flow, Simulator::Now().GetNanoSeconds(), 0, 0));
        ledger->Sent(flow, p->GetSize());
    });

    // ---- drop points -> ledger (and sock_wfree() of whatever owned the skb).
    using PacketTrace = Callback<void, Ptr<const Packet>>;
    auto connectQdisc = [ledger](Ptr<QueueDisc> q, const std::string& place) {
        if (!q)
        {
            return;
        }
        Callback<void, Ptr<const QueueDiscItem>, const char*> drop(
            [ledger, place](Ptr<const QueueDiscItem> item, const char* reason) {
                Ptr<Packet> p = item->GetPacket();
                SocketAccountTable::Orphan(p);
                ledger->Dropped(p, place, reason);
            });
        q->TraceConnectWithoutContext("DropBeforeEnqueue", drop);
        q->TraceConnectWithoutContext("DropAfterDequeue", drop);
    };
    connectQdisc(tunQdisc, "tun0_qdisc");
    connectQdisc(underlayQdiscC, "underlay_qdisc");
    connectQdisc(underlayQdiscS, "underlay_qdisc");
    std::array<uint32_t, static_cast<size_t>(TunDropReason::COUNT)> ringPoints{};
    for (size_t r = 0; r < ringPoints.size(); ++r)
    {
        ringPoints[r] = ledger->DropPoint("tun0_ring", TunDropReasonName(static_cast<TunDropReason>(r)));
    }
    tun->TraceConnectWithoutContext("Drop",
                                    Callback<void, Ptr<const Packet>, TunDropReason>(
                                        [ledger, ringPoints](Ptr<const Packet> p, TunDropReason r) {
                                            ledger->Dropped(p, ringPoints[static_cast<size_t>(r)]);
                                        }));
    // noqueue + stopped txq: __dev_queue_xmit() frees the skb ("Virtual
    // device tun0 asks to queue packet!") and counts tx_dropped.
    uint64_t noqueueDrops = 0;
    client->GetObject<TrafficControlLayer>()->TraceConnectWithoutContext(
        "TcDrop",
        PacketTrace([ledger, &noqueueDrops, point = ledger->DropPoint("tun0_noqueue", "TXQ_STOPPED")](
                        Ptr<const Packet> p) {
            ++noqueueDrops;
            SocketAccountTable::Orphan(p);
            ledger->Dropped(p, point);
        }));
    PacketTrace nicDrop([ledger, point = ledger->DropPoint("underlay_nic", "QUEUE_FULL")](Ptr<const Packet> p) {
        SocketAccountTable::Orphan(p);
        ledger->Dropped(p, point);
    });
    eth0c->TraceConnectWithoutContext("MacTxDrop", nicDrop);
    eth0s->TraceConnectWithoutContext("MacTxDrop", nicDrop);
    // The underlay NIC finished sending: the skb is freed, sock_wfree() for
    // the VPN's socket; and the wire's in-flight count, per direction.
    eth0c->TraceConnectWithoutContext("PhyTxEnd",
                                      PacketTrace([](Ptr<const Packet> p) { SocketAccountTable::Orphan(p); }));
    WireCount wireC2S;
    WireCount wireS2C;
    auto countWire = [](Ptr<PointToPointNetDevice> from, Ptr<PointToPointNetDevice> to, WireCount& w) {
        from->TraceConnectWithoutContext("PhyTxBegin", PacketTrace([&w](Ptr<const Packet>) { ++w.txBegin; }));
        to->TraceConnectWithoutContext("PhyRxEnd", PacketTrace([&w](Ptr<const Packet>) { ++w.rxEnd; }));
    };
    countWire(eth0c, eth0s, wireC2S);
    countWire(eth0s, eth0c, wireS2C);

    // qdisc backlog statistics
    BacklogStats tunBacklog;
    if (tunQdisc)
    {
        tunQdisc->TraceConnectWithoutContext(
            "PacketsInQueue",
            MakeCallback(&BacklogStats::Change, &tunBacklog));
    }

    // ---- optional time series: one sampling event per interval.
    std::ostringstream series;
    std::function<void()> sample;
    if (options.timeseriesIntervalMs > 0)
    {
        series << "time_s,ring_occupancy,qdisc_backlog,txq_stopped,sender_wmem_bytes,cwnd_bytes,srtt_ms,"
              "bytes_in_flight\n";
        Ptr<TcpBulkSender> tcp0;
        for (const auto& a : apps)
        {
            if (a.tcpTx)
            {
                tcp0 = a.tcpTx;
                break;
            }
        }
        const Time interval = NanoSeconds(static_cast<int64_t>(options.timeseriesIntervalMs * 1e6));
        sample = [&, tcp0, interval]() {
            uint64_t wmem = 0;
            for (const auto& a : apps)
            {
                wmem += a.account->WmemAlloc();
            }
            const TunQueue& q = tun->GetQueue(0);
            series << Simulator::Now().GetSeconds() << ',' << q.Ring().Count() << ','
               << (tunQdisc ? tunQdisc->GetNPackets() : 0) << ',' << (q.IsStopped() ? 1 : 0) << ','
               << wmem << ',';
            if (tcp0)
            {
                series << tcp0->Cwnd() << ',' << tcp0->Srtt().GetSeconds() * 1e3 << ','
                       << tcp0->BytesInFlight();
            }
            else
            {
                series << ",,";
            }
            series << '\n';
            Simulator::Schedule(interval, sample);
        };
        Simulator::ScheduleNow(sample);
    }

    // ---- run.
    Simulator::Stop(duration);
    Simulator::Run();
    const int64_t endNs = Simulator::Now().GetNanoSeconds();
    auto wallEnd = std::chrono::steady_clock::now();
    double wallS = std::chrono::duration<double>(wallEnd - wallStart).count();
    uint64_t events = Simulator::GetEventCount();

    // ---- what is still queued, place by place, measured on the queues.
    const TunQueue& tq = tun->GetQueue(0);
    json fwdQueued;
    fwdQueued["tun0_qdisc"] = tunQdisc ? tunQdisc->GetNPackets() : 0;
    fwdQueued["tun0_ring"] = tq.Ring().Count();
    fwdQueued["vpn_reader"] = reader->InHand();
    fwdQueued["underlay_qdisc"] = underlayQdiscC ? underlayQdiscC->GetNPackets() : 0;
    fwdQueued["underlay_nic"] = eth0c->GetQueue()->GetNPackets();
    fwdQueued["underlay_wire"] = wireC2S.InFlight();
    json revQueued;
    revQueued["underlay_qdisc"] = underlayQdiscS ? underlayQdiscS->GetNPackets() : 0;
    revQueued["underlay_nic"] = eth0s->GetQueue()->GetNPackets();
    revQueued["underlay_wire"] = wireS2C.InFlight();

    auto conservation = [&](Direction d, const json& queued) {
        json j;
        uint64_t q = 0;
        for (const auto& [k, v] : queued.items())
        {
            q += v.get<uint64_t>();
        }
        uint64_t sent = ledger->SentPackets(d);
        uint64_t delivered = ledger->DeliveredPackets(d);
        uint64_t dropped = ledger->DroppedPackets(d);
        j["sent"] = sent;
        j["delivered"] = delivered;
        j["dropped"] = dropped;
        j["dropped_by_place"] = ledger->Drops(d);
        j["still_queued"] = q;
        j["still_queued_by_place"] = queued;
        j["ok"] = sent == delivered + dropped + q;
        return j;
    };
    json cons;
    cons["forward"] = conservation(Direction::Forward, fwdQueued);
    cons["reverse"] = conservation(Direction::Reverse, revQueued);
    cons["untracked_packets"] = ledger->Untracked();
    bool consOk = cons["forward"]["ok"].get<bool>() && cons["reverse"]["ok"].get<bool>() &&
                  ledger->Untracked() == 0;
    cons["ok"] = consOk;

    // ---- flows
    json flows = json::array();
    const auto& lf = ledger->Flows();
    for (size_t i = 0; i < s.flows.size(); ++i)
    {
        const FlowConfig& f = s.flows[i];
        const FlowLedger& L = lf[i];
        json j;
        j["index"] = i;
        j["kind"] = f.kind;
        j["active_s"] = apps[i].activeS;
        j["sent_packets"] = L.sentPackets;
        j["delivered_packets"] = L.deliveredPackets;
        j["dropped_packets"] = L.droppedPackets;
        j["in_flight_packets"] = L.sentPackets - L.deliveredPackets - L.droppedPackets;
        j["loss_ratio"] = L.sentPackets ? static_cast<double>(L.droppedPackets) / L.sentPackets : 0.0;
        j["delay"] = DelayJson(L.delay);
        double act = apps[i].activeS > 0 ? apps[i].activeS : 1;
        if (f.kind == "udp")
        {
            j["mode"] = f.mode;
            uint64_t rx = apps[i].udpRx->Received();
            j["app_sent_datagrams"] = apps[i].udpTx->Sent();
            j["app_received_datagrams"] = rx;
            j["app_backlog_datagrams"] = apps[i].udpTx->Backlog() > (1ull << 60) ? 0 : apps[i].udpTx->Backlog();
            j["reordered_datagrams"] = apps[i].udpRx->Reordered();
            j["sent_mbps"] = apps[i].udpTx->SentBytes() * 8.0 / act / 1e6;
            j["goodput_mbps"] = apps[i].udpRx->ReceivedBytes() * 8.0 / act / 1e6;
            if (f.mode == "video")
            {
                // A frame is lost when any of its datagrams is missing. Only
                // frames entirely sent count (the last may still be queued in
                // the application).
                const auto& starts = apps[i].udpTx->FrameStarts();
                uint64_t sent = apps[i].udpTx->Sent();
                uint64_t frames = 0;
                uint64_t lostFrames = 0;
                uint64_t inFlight = L.sentPackets - L.deliveredPackets - L.droppedPackets;
                for (size_t k = 0; k < starts.size(); ++k)
                {
                    uint64_t end = k + 1 < starts.size() ? starts[k + 1] : sent + 1;
                    if (end > sent)
                    {
                        break;
                    }
                    // Frames whose datagrams may still be in the tunnel at the
                    // end are not judged.
                    if (end + inFlight > sent)
                    {
                        break;
                    }
                    ++frames;
                    for (uint64_t q = starts[k]; q < end; ++q)
                    {
                        if (!apps[i].udpRx->Got(q))
                        {
                            ++lostFrames;
                            break;
                        }
                    }
                }
                j["frames_judged"] = frames;
                j["frames_lost"] = lostFrames;
                j["frame_loss_ratio"] = frames ? static_cast<double>(lostFrames) / frames : 0.0;
            }
        }
        else
        {
            j["cc"] = f.cc;
            j["goodput_mbps"] = apps[i].tcpRx->ReceivedBytes() * 8.0 / act / 1e6;
            j["received_bytes"] = apps[i].tcpRx->ReceivedBytes();
            j["retransmits"] = apps[i].tcpTx->Retransmits();
            j["cwnd_end_bytes"] = apps[i].tcpTx->Cwnd();
            j["srtt_end_ms"] = apps[i].tcpTx->Srtt().GetSeconds() * 1e3;
            j["rtt_last_sample_ms"] = apps[i].tcpTx->LastRtt().GetSeconds() * 1e3;
            j["rtt_min_ms"] = apps[i].tcpTx->MinRtt().GetSeconds() * 1e3;
            const FlowLedger& R = lf[apps[i].reverseFlow];
            j["ack_packets_sent"] = R.sentPackets;
            j["ack_packets_delivered"] = R.deliveredPackets;
        }
        const SocketAccount& a = *apps[i].account;
        j["socket"] = {{"sndbuf_bytes", a.Sndbuf()},
                       {"wmem_max_bytes", a.MaxWmemAlloc()},
                       {"blocked_count", a.BlockCount()},
                       {"blocked_s", a.BlockedTime().GetSeconds()}};
        flows.push_back(j);
    }

    // ---- tun device
    const auto& ts = tun->GetStats();
    json tunJ;
    tunJ["policy"] = s.tun.policy;
    tunJ["tx_queue_len"] = tun->GetTxQueueLen();
    tunJ["ring_size"] = tq.Ring().Size();
    tunJ["ring_batch"] = tq.Ring().Batch();
    tunJ["has_qdisc"] = tun->GetHasQdisc();
    tunJ["tx_packets"] = ts.txPackets;
    tunJ["tx_bytes"] = ts.txBytes;
    tunJ["tx_dropped"] = ts.txDropped + noqueueDrops;
    json reasons = json::object();
    for (size_t r = 0; r < ts.dropReasons.size(); ++r)
    {
        if (ts.dropReasons[r])
        {
            reasons[TunDropReasonName(static_cast<TunDropReason>(r))] = ts.dropReasons[r];
        }
    }
    if (noqueueDrops)
    {
        reasons["NOQUEUE_TXQ_STOPPED"] = noqueueDrops;
    }
    tunJ["drop_reasons"] = reasons;
    tunJ["rx_packets"] = ts.rxPackets;
    tunJ["xmit_calls"] = ts.xmitCalls;
    tunJ["txq"] = {{"stop_count", tq.StopCount()},
                   {"wake_count", ts.wakes},
                   {"stopped_s", tq.StoppedTime().GetSeconds()},
                   {"stopped_fraction", endNs ? tq.StoppedTime().GetNanoSeconds() / static_cast<double>(endNs) : 0.0},
                   {"stopped_at_end", tq.IsStopped()},
                   {"softirq_runs", ts.softirqRuns}};
    tunJ["ring_occupancy"] = {{"mean", tq.MeanOccupancy()}, {"max", tq.MaxOccupancy()}, {"end", tq.Ring().Count()}};

    // ---- reader
    const auto& rs = reader->GetStats();
    json readerJ = {{"packets_read", rs.packetsRead},
                    {"bytes_read", rs.bytesRead},
                    {"reads", rs.reads},
                    {"sleeps", rs.sleeps},
                    {"wakeups", rs.wakeups},
                    {"deep_wakeups", rs.deepWakeups},
                    {"preemptions", rs.preemptions},
                    {"sndbuf_blocks", rs.sndbufBlocks},
                    {"busy_fraction", endNs ? rs.busy.GetNanoSeconds() / static_cast<double>(endNs) : 0.0},
                    {"softirq_stolen_s", rs.stolen.GetSeconds()},
                    {"capacity_pps_at_mean_size",
                     rs.packetsRead && (s.reader.perPacketNs > 0 || s.reader.nsPerByte > 0)
                         ? json(1e9 / (s.reader.perPacketNs +
                                       s.reader.nsPerByte * static_cast<double>(rs.bytesRead) / rs.packetsRead))
                         : json(nullptr)},
                    {"socket",
                     {{"sndbuf_bytes", readerAccount->Sndbuf()},
                      {"wmem_max_bytes", readerAccount->MaxWmemAlloc()},
                      {"blocked_count", readerAccount->BlockCount()},
                      {"blocked_s", readerAccount->BlockedTime().GetSeconds()}}}};

    json out;
    out["tunsim"] = {{"version", TUNSIM_VERSION}, {"git", TUNSIM_GIT_REV}, {"ns3", "3.37"}};
    out["scenario"] = ScenarioToJson(s);
    out["seed"] = s.seed;
    out["simulated_s"] = endNs / 1e9;
    out["flows"] = flows;
    out["tun"] = tunJ;
    out["qdisc"] = QdiscJson(tunQdisc, s.qdisc.kind, qdiscLimit, tunBacklog, endNs);
    out["reader"] = readerJ;
    out["underlay"] = {{"client_qdisc_drops", underlayQdiscC ? underlayQdiscC->GetStats().nTotalDroppedPackets : 0},
                       {"server_qdisc_drops", underlayQdiscS ? underlayQdiscS->GetStats().nTotalDroppedPackets : 0}};
    out["conservation"] = cons;
    uint64_t simPackets = ledger->SentPackets(Direction::Forward) + ledger->SentPackets(Direction::Reverse);
    out["simulated_packets"] = simPackets;
    out["simulator_events"] = events;
    out["wall"] = {{"seconds", wallS},
                   {"simulated_packets_per_wall_s", wallS > 0 ? simPackets / wallS : 0.0},
                   {"events_per_wall_s", wallS > 0 ? events / wallS : 0.0},
                   {"allocator", HeapAllocator()}};

    // ---- human summary
    std::ostringstream sum;
    sum << std::fixed << std::setprecision(2);
    sum << "tunsim " << TUNSIM_VERSION << "  scenario " << s.name << "  policy " << s.tun.policy
        << "  ring " << s.tun.ringSize << "  qdisc " << s.qdisc.kind << "  seed " << s.seed << "\n";
    for (const auto& f : flows)
    {
        sum << "  flow " << f["index"].get<size_t>() << " " << f["kind"].get<std::string>()
            << ": sent " << f["sent_packets"].get<uint64_t>() << "  delivered "
            << f["delivered_packets"].get<uint64_t>() << "  dropped " << f["dropped_packets"].get<uint64_t>()
            << " (" << 100.0 * f["loss_ratio"].get<double>() << " %)  goodput "
            << f["goodput_mbps"].get<double>() << " Mbit/s  delay p50 " << f["delay"]["p50_ms"].get<double>()
            << " ms p99 " << f["delay"]["p99_ms"].get<double>() << " ms\n";
    }
    sum << "  tun0: tx_dropped " << tunJ["tx_dropped"].get<uint64_t>() << "  txq stops "
        << tq.StopCount() << "  ring mean/max " << tq.MeanOccupancy() << "/" << tq.MaxOccupancy()
        << "  qdisc drops " << (tunQdisc ? tunQdisc->GetStats().nTotalDroppedPackets : 0)
        << "  reader busy " << 100.0 * readerJ["busy_fraction"].get<double>() << " %\n";
    sum << "  conservation: " << (consOk ? "ok" : "VIOLATED") << " (forward sent "
        << cons["forward"]["sent"].get<uint64_t>() << " = delivered " << cons["forward"]["delivered"].get<uint64_t>()
        << " + dropped " << cons["forward"]["dropped"].get<uint64_t>() << " + queued "
        << cons["forward"]["still_queued"].get<uint64_t>() << ")\n";
    sum << "  " << std::setprecision(3) << wallS << " s wall, " << std::setprecision(0)
        << (wallS > 0 ? simPackets / wallS : 0.0) << " simulated packets per wall second\n";

    Simulator::Destroy();
    SocketAccountTable::Reset();

    RunOutput r;
    r.timeseriesCsv = series.str();
    r.result = std::move(out);
    r.conservationOk = consOk;
    r.summary = sum.str();
    return r;
}

} // namespace tunsim
