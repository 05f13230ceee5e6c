// The build step: a scenario becomes an ns-3 testbed.
#include "testbed.h"

#include "socket-account.h"
#include "tunsim-tag.h"

#include "ns3/boolean.h"
#include "ns3/config.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"

#include <iomanip>
#include <sstream>

namespace tunsim
{

using namespace ns3;

namespace
{

constexpr uint16_t kFirstAppPort = 5000;

Time
Us(double us)
{
    return NanoSeconds(static_cast<int64_t>(us * 1e3));
}

Time
Ns(double ns)
{
    return NanoSeconds(static_cast<int64_t>(ns));
}

std::vector<Time>
UsTimes(const std::vector<double>& us)
{
    std::vector<Time> t;
    for (double u : us)
    {
        t.push_back(Us(u));
    }
    return t;
}

/// The VM behind the tap (reader.kind qemu / vhost-net): the backend's and
/// the guest's costs, a field's -1 (or 0 for guest_refill) taking the preset.
void
ConfigureVm(const Scenario& s, TunPathHelper& h)
{
    const VmConfig& m = s.vm;
    const VmPreset pre = VmPresetFor(s.reader.kind, m.nic);
    auto orPreset = [](double v, double preset) { return v < 0 ? preset : v; };
    h.SetConsumer(s.reader.kind);
    h.SetBackendAttribute("FrameCost", TimeValue(Ns(orPreset(m.frameNs, pre.frameNs))));
    h.SetBackendAttribute("NsPerByte", DoubleValue(orPreset(m.nsPerByte, pre.nsPerByte)));
    h.SetBackendAttribute("TxCost", TimeValue(Ns(orPreset(m.txFrameNs, pre.txFrameNs))));
    h.SetBackendAttribute("WakeupLatency", TimeValue(Us(s.reader.wakeupLatencyUs)));
    h.SetGuestAttribute("Size", UintegerValue(m.guestRxSize));
    h.SetGuestAttribute("RefillBatch", UintegerValue(m.guestRefill ? m.guestRefill : pre.refill));
    h.SetGuestAttribute("PerFrameCost", TimeValue(Ns(m.guestFrameNs)));
    h.SetGuestAttribute("IrqLatency", TimeValue(Us(m.guestIrqUs)));
    h.SetGuestAttribute("Gro", BooleanValue(m.gro));
    const bool virtio = s.reader.kind == ConsumerKind::VhostNet || m.nic == VmNic::VirtioNet;
    // virtio_net_hdr_mrg_rxbuf in front of every frame (VIRTIO_NET_F_MRG_RXBUF,
    // QEMU's default); e1000 writes none.
    h.SetGuestAttribute("HdrBytes", UintegerValue(virtio ? 12 : 0));
    h.SetOffloads(VmOffloadsOn(s.reader.kind, m.nic, m.offloads));
}

/// The tunnel path of the scenario: TunPathHelper configured field by field.
TunPath
InstallPath(const Scenario& s, Ptr<Node> client, Ptr<Node> server)
{
    TunPathHelper h;
    h.SetPolicy(s.tun.policy);
    h.SetRingSize(s.tun.ringSize);
    h.SetQueues(s.tun.queues, s.qdisc.sharedRoot);
    h.SetSteerByFlow(s.tun.steerByFlow);
    h.SetMode(s.tun.mode);
    h.SetQdisc(s.qdisc.kind, QdiscParams{s.qdisc.limit, s.qdisc.targetMs, s.qdisc.intervalMs});
    h.SetTunAttribute("SoftirqLatency", TimeValue(Us(s.tun.softirqLatencyUs)));
    h.SetTunAttribute("SoftirqCost", TimeValue(Ns(s.tun.softirqCostNs)));
    h.SetTunAttribute("XmitCost", TimeValue(Ns(s.tun.xmitCostNs)));
    h.SetTunAttribute("HostXmitCost", TimeValue(Ns(s.vm.hostXmitNs))); // 0 unless a VM backend
    const ReaderConfig& r = s.reader;
    h.SetReaderAttribute("PerPacketCost", TimeValue(Ns(r.perPacketNs)));
    h.SetReaderAttribute("NsPerByte", DoubleValue(r.nsPerByte));
    h.SetReaderAttribute("WakeupLatency", TimeValue(Us(r.wakeupLatencyUs)));
    h.SetReaderAttribute("DeepIdleAfter", TimeValue(Us(r.deepIdleAfterUs)));
    h.SetReaderAttribute("DeepWakeupLatency", TimeValue(Us(r.deepWakeupLatencyUs)));
    h.SetReaderAttribute("Batch", UintegerValue(r.batch));
    h.SetReaderAttribute("PollCost", TimeValue(Ns(r.pollNs)));
    h.SetReaderAttribute("PollBlockCost", TimeValue(r.pollBlockNs < 0 ? NanoSeconds(-1) : Ns(r.pollBlockNs)));
    h.SetReaderAttribute("ReadCost", TimeValue(Ns(r.readNs)));
    h.SetReaderAttribute("ReadEmptyCost", TimeValue(Ns(r.readEmptyNs)));
    h.SetReaderAttribute("WriteCost", TimeValue(Ns(r.writeNs)));
    h.SetReaderAttribute("WriteXmitCost", TimeValue(Ns(r.writeXmitNs)));
    h.SetReaderSndbuf(r.sndbufBytes);
    h.SetEncap(r.encap, r.encapOverheadBytes);
    std::ostringstream rate;
    rate << std::setprecision(17) << s.underlay.rateMbps * 1e6 << "bps";
    h.SetUnderlay(DataRate(rate.str()), NanoSeconds(static_cast<int64_t>(s.underlay.delayMs * 1e6)),
                  s.underlay.queuePackets, s.underlay.qdisc);
    if (r.kind != ConsumerKind::Vpn)
    {
        ConfigureVm(s, h);
    }
    TunPath path = h.Install(client, server);
    if (s.tun.policy == "iff-backpressure" && s.tun.iffBackpressure)
    {
        path.tun->SetTunFlags(kIffBackpressure); // TUNSETIFF with IFF_BACKPRESSURE
    }
    path.peer->SetWakeupLatencies(UsTimes(s.underlay.peerWakeupQuantilesUs), 905);
    path.peer->SetWriteCosts(UsTimes(s.underlay.peerWriteQuantilesUs), 907);
    path.peer->SetPreemption(NanoSeconds(static_cast<int64_t>(s.underlay.peerPreemptIntervalMs * 1e6)),
                             NanoSeconds(static_cast<int64_t>(s.underlay.peerPreemptMs * 1e6)), 908);
    path.peer->SetAttribute("WriteCost", ns3::TimeValue(ns3::NanoSeconds(static_cast<int64_t>(s.underlay.peerWriteNs))));
    path.peer->SetAttribute("AckPerPass", ns3::BooleanValue(s.underlay.peerAckPerPass));
    if (!path.reader)
    {
        // A VM backend: its one thread (QEMU's main loop / the vhost-net
        // worker) is what loses the CPU, with the reader's streams.
        for (const auto& st : r.stalls)
        {
            path.vm->AddStall(NanoSeconds(static_cast<int64_t>(st.atS * 1e9)),
                              NanoSeconds(static_cast<int64_t>(st.forS * 1e9)));
        }
        path.vm->SetPreemption(NanoSeconds(static_cast<int64_t>(r.preemptIntervalMs * 1e6)),
                               NanoSeconds(static_cast<int64_t>(r.preemptMs * 1e6)), 900);
        return path;
    }

    // What the helper leaves to its user: the reader's misbehaviour. The
    // stalls are queue 0's reader's; the random wake-ups and preemptions
    // every reader's, each from streams of its own (queue 0 keeps 902/903/900).
    for (const auto& st : r.stalls)
    {
        path.reader->AddStall(NanoSeconds(static_cast<int64_t>(st.atS * 1e9)),
                              NanoSeconds(static_cast<int64_t>(st.forS * 1e9)));
    }
    std::vector<std::pair<Time, std::vector<Time>>> bins;
    for (const WakeBinConfig& b : r.wakeupBySleep)
    {
        bins.emplace_back(Us(b.sleepUsFrom), UsTimes(b.wakeQuantilesUs));
    }
    for (size_t q = 0; q < path.readers.size(); ++q)
    {
        // queue 0 keeps the streams a single-queue run always had
        const int64_t base = q == 0 ? 900 : 1000 + 10 * static_cast<int64_t>(q);
        const Ptr<VpnReader>& reader = path.readers[q];
        reader->SetLoop(r.loop);
        reader->SetWakeupQuantiles(UsTimes(r.wakeupQuantilesUs), base + 3);
        reader->SetDeepWakeupQuantiles(UsTimes(r.deepWakeupQuantilesUs), base + 2);
        reader->SetWakeupBySleep(bins, q == 0 ? 910 : base + 5);
        reader->SetPreemption(NanoSeconds(static_cast<int64_t>(r.preemptIntervalMs * 1e6)),
                              NanoSeconds(static_cast<int64_t>(r.preemptMs * 1e6)), base);
    }
    if (s.tun.softirqOnReaderCpu)
    {
        // NET_TX_SOFTIRQ runs on the CPU that woke the queue: its reader's.
        std::vector<VpnReader*> readers;
        for (const auto& reader : path.readers)
        {
            readers.push_back(PeekPointer(reader));
        }
        path.tun->SetSoftirqCpuSink([readers](uint32_t q, Time t) { readers[q]->ChargeCpu(t); });
    }
    return path;
}

UdpSeqSender::Config
UdpConfigOf(const FlowConfig& f, const HostConfig& host)
{
    UdpSeqSender::Config c;
    c.mode = f.mode;
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
    c.wakeupLatency = Us(host.senderWakeupLatencyUs);
    c.sendCost = Ns(f.sendCostNs);
    c.sendCostFirst = f.sendCostFirstNs < 0 ? c.sendCost : Ns(f.sendCostFirstNs);
    c.sendCostWake = Ns(f.sendCostWakeNs);
    for (const IdleCostBinConfig& b : f.sendCostWakeByIdle)
    {
        c.sendCostWakeByIdle.emplace_back(Us(b.idleUsFrom), Ns(b.sendNs));
    }
    c.sendCostRunning = Ns(f.sendCostRunningNs);
    c.sendCostFull = Ns(f.sendCostFullNs);
    c.sendEnqueue = Ns(f.sendEnqueueNs);
    c.nonblocking = f.sender == SenderStyle::Nonblocking;
    c.dropFrame = f.onSendError == OnSendError::DropFrame;
    c.recverr = f.recverr;
    return c;
}

/// Whether flow f's sender needs to know what each send() did in the tun
/// path (its cost by context, IP_RECVERR). Without, no probe: the sends
/// are what they were before contexts existed.
bool
NeedsXmitProbe(const FlowConfig& f)
{
    return f.recverr || f.sendCostWakeNs >= 0 || !f.sendCostWakeByIdle.empty() || f.sendCostRunningNs >= 0 ||
           f.sendCostFullNs >= 0;
}

/// The tun path's counters a sender compares before and after its send():
/// tun_net_xmit()'s FULL_RING drops and produces, the reader's wake-ups,
/// and the drops __dev_queue_xmit() reports back (NET_XMIT_DROP): at the
/// qdisc's enqueue, or with noqueue in tun_net_xmit() itself.
std::function<UdpSeqSender::XmitCounters()>
XmitProbeOf(const TunPath& path)
{
    TunNetDevice* tun = PeekPointer(path.tun);
    VpnReader* reader = PeekPointer(path.reader);
    QueueDisc* qdisc = PeekPointer(path.tunQdisc);
    return [tun, reader, qdisc]() {
        const auto& st = tun->GetStats();
        UdpSeqSender::XmitCounters c;
        c.ringDrops = st.dropReasons[static_cast<size_t>(TunDropReason::FULL_RING)];
        c.produced = st.xmitCalls - st.txDropped;
        c.readerWakeups = reader->GetStats().wakeups;
        c.returnedDrops = qdisc ? qdisc->GetStats().nTotalDroppedPacketsBeforeEnqueue : c.ringDrops;
        return c;
    };
}

/// Sender on the client, sink on the server, for flow `i`.
void
InstallFlow(const Scenario& s, size_t i, Testbed& tb)
{
    const FlowConfig& f = s.flows[i];
    FlowApps& a = tb.flows[i];
    const uint16_t port = static_cast<uint16_t>(kFirstAppPort + i);
    const std::string name = "flow" + std::to_string(i) + "-" + NameOf(f.kind);
    const uint32_t id = tb.ledger->AddFlow(name, Direction::Forward);
    NS_ASSERT(id == i);
    a.port = port;
    const double stop = f.StopOr(s.durationS);
    a.activeS = stop - f.startS;
    const InetSocketAddress dest(TunPath::ServerTunAddress(), port);
    Ptr<Node> client = tb.path.client;
    Ptr<Node> server = tb.path.server;
    Ptr<Application> tx;
    Ptr<Application> rx;
    switch (f.kind)
    {
    case FlowKind::Udp:
        a.account = SocketAccountTable::Create(name, s.host.udpSndbufBytes);
        a.udpTx = CreateObject<UdpSeqSender>();
        a.udpTx->Setup(dest, UdpConfigOf(f, s.host), a.account, tb.ledger, id);
        if (NeedsXmitProbe(f))
        {
            a.udpTx->SetXmitProbe(XmitProbeOf(tb.path));
        }
        if (!tb.cpus.empty())
        {
            a.udpTx->SetHostCpu(tb.cpus[f.cpu]); // its sendto()s are that CPU's work
        }
        client->AddApplication(a.udpTx);
        a.udpRx = CreateObject<UdpSeqSink>();
        a.udpRx->Setup(port);
        server->AddApplication(a.udpRx);
        tx = a.udpTx;
        rx = a.udpRx;
        break;
    case FlowKind::Tcp:
        // TCP's sk_sndbuf is autotuned up to tcp_wmem[2]; ns-3's own send
        // buffer limits the application. The account records wmem only.
        a.account = SocketAccountTable::Create(name, 4u << 20);
        a.tcpTx = CreateObject<TcpBulkSender>();
        a.tcpTx->Setup(dest, f.cc, f.maxBytes, a.account, tb.ledger, id);
        client->AddApplication(a.tcpTx);
        a.tcpRx = CreateObject<TcpSink>();
        a.tcpRx->Setup(port);
        server->AddApplication(a.tcpRx);
        tx = a.tcpTx;
        rx = a.tcpRx;
        break;
    }
    tx->SetStartTime(Seconds(f.startS));
    tx->SetStopTime(Seconds(stop));
    rx->SetStartTime(Seconds(0));
}

/// host.cpus > 0: the client's CPUs, its readers on them, and tun0's
/// transmit path through LinuxDevXmit (set on tun0's Ipv4Interface only).
void
InstallHostCpus(const Scenario& s, Testbed& tb)
{
    const HostConfig& h = s.host;
    for (uint32_t i = 0; i < h.cpus; ++i)
    {
        tb.cpus.push_back(CreateObject<HostCpu>());
    }
    std::vector<uint32_t> readerCpu;
    for (size_t q = 0; q < tb.path.readers.size(); ++q)
    {
        readerCpu.push_back(static_cast<uint32_t>((s.reader.cpu + q) % h.cpus));
        tb.path.readers[q]->SetHostCpu(tb.cpus[readerCpu.back()]);
        tb.path.readers[q]->SetAckOnSenderCpu(h.ackOnSenderCpu);
    }
    std::vector<uint32_t> flowCpu;
    std::vector<bool> udp; // the sender's send_cost_ns is its sendmsg() and stack
    for (const FlowConfig& f : s.flows)
    {
        flowCpu.push_back(f.cpu);
        udp.push_back(f.kind == FlowKind::Udp);
    }
    LinuxDevXmit::Costs c;
    c.sendmsg = Ns(h.tcpSendmsgNs);
    c.output = Ns(h.tcpOutputNs);
    c.xmit = Ns(s.tun.xmitCostNs);
    c.softirq = Ns(s.tun.softirqCostNs);
    c.lock = Ns(h.qdiscLockContendedNs);
    c.quota = h.devTxWeight;
    Ptr<Node> client = tb.path.client;
    tb.devXmit = CreateObject<LinuxDevXmit>();
    tb.devXmit->Setup(client->GetObject<TrafficControlLayer>(), tb.path.tun, tb.cpus, flowCpu, readerCpu, c);
    tb.devXmit->SetSenderChargedFlows(std::move(udp));
    Ptr<Ipv4L3Protocol> ip = client->GetObject<Ipv4L3Protocol>();
    const int32_t tunIf = ip->GetInterfaceForDevice(tb.path.tun);
    NS_ABORT_MSG_IF(tunIf < 0, "tun0 has no IPv4 interface");
    ip->GetInterface(static_cast<uint32_t>(tunIf))->SetTrafficControl(tb.devXmit);
}

/// IFF_MULTI_QUEUE with one reader per queue: a multi-threaded VPN writes
/// a flow's reverse packets (its ACKs) through the fd of the thread that
/// handles the flow, i.e. of the queue the flow's packets arrive on. Linux
/// keeps the two paired itself: tun_get_user() -> tun_flow_update() records
/// the writing queue under the flow's rxhash, and tun_automq_select_queue()
/// sends the flow's next packets to that queue. So the reverse packets of
/// flow f go to the reader of TunSelectQueue(f), and that reader's write()
/// (its CPU, WriteCost, the transmits the ACK releases) carries them. The
/// peer finds the flow from the ledger's tag on the reverse packet (set by
/// TunPathMonitor::TrackReverse() before it is sent back); untagged or
/// other reverse packets go to queue 0.
void
RouteReverseByQueue(const Scenario& s, Testbed& tb)
{
    const uint32_t n = static_cast<uint32_t>(tb.path.readers.size());
    if (n <= 1)
    {
        return;
    }
    std::vector<uint32_t> queueOf(tb.ledger->Flows().size(), 0); // by reverse ledger flow
    for (size_t i = 0; i < s.flows.size(); ++i)
    {
        if (s.flows[i].kind == FlowKind::Tcp)
        {
            queueOf.at(tb.flows[i].reverseFlow) = TunSelectQueue(static_cast<uint32_t>(i), n, s.tun.steerByFlow);
        }
    }
    tb.path.peer->SetReverseQueueSelector([queueOf](Ptr<const Packet> p) -> uint32_t {
        TunsimTag tag;
        if (!p->PeekPacketTag(tag) || tag.flowId >= queueOf.size())
        {
            return 0;
        }
        return queueOf[tag.flowId];
    });
}

} // namespace

void
ResetSimulator(const Scenario& s)
{
    Simulator::Destroy();
    Config::Reset();
    SocketAccountTable::Reset();
    RngSeedManager::SetSeed(1);
    RngSeedManager::SetRun(s.seed);

    // Linux-like TCP defaults (ns-3's are 536-byte segments and 128 KiB buffers).
    Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(1448));
    Config::SetDefault("ns3::TcpSocket::SndBufSize", UintegerValue(4u << 20)); // tcp_wmem max
    // tcp_rmem[2]: ns-3's receive buffer holds what Linux's window can offer,
    // and gives the same window scale (10 for 32 MiB).
    Config::SetDefault("ns3::TcpSocket::RcvBufSize", UintegerValue(s.host.tcpRmemMax));
    Config::SetDefault("tunsim::LinuxTcpSocket::RmemDefault", UintegerValue(s.host.tcpRmemDefault));
    Config::SetDefault("tunsim::LinuxTcpSocket::RmemMax", UintegerValue(s.host.tcpRmemMax));
    Config::SetDefault("tunsim::LinuxTcpSocket::CompSackNr", UintegerValue(s.host.tcpCompSackNr));
    Config::SetDefault("tunsim::LinuxTcpSocket::CompSackDelay",
                       TimeValue(NanoSeconds(static_cast<int64_t>(s.host.tcpCompSackDelayNs))));
    Config::SetDefault("tunsim::LinuxTcpSocket::CompSackSlack",
                       TimeValue(NanoSeconds(static_cast<int64_t>(s.host.tcpCompSackSlackNs))));
    Config::SetDefault("tunsim::LinuxTcpSocket::CompSackRttPercent", UintegerValue(s.host.tcpCompSackRttPercent));
    Config::SetDefault("ns3::TcpSocket::ConnTimeout", TimeValue(Seconds(1))); // TCP_TIMEOUT_INIT
    Config::SetDefault("ns3::TcpSocket::InitialCwnd", UintegerValue(10));
    Config::SetDefault("ns3::TcpSocketBase::Sack", BooleanValue(true));
    Config::SetDefault("tunsim::TsqTcpSocket::TsqEnabled", BooleanValue(s.host.tcpSmallQueues));
    Config::SetDefault("tunsim::TsqTcpSocket::LimitOutputBytes", UintegerValue(s.host.tcpLimitOutputBytes));
    Config::SetDefault("tunsim::TsqTcpSocket::PacingShift", UintegerValue(s.host.tcpPacingShift));
}

Testbed
BuildTestbed(const Scenario& s)
{
    Testbed tb;
    tb.nodes.Create(2);
    InternetStackHelper internet;
    // Connected routes only (no global routing to consult per packet), no IPv6.
    Ipv4StaticRoutingHelper staticRouting;
    internet.SetRoutingHelper(staticRouting);
    internet.SetIpv6StackInstall(false);
    internet.Install(tb.nodes);
    internet.AssignStreams(tb.nodes, 0); // fixed RNG streams: runs repeat bit for bit

    tb.path = InstallPath(s, tb.nodes.Get(0), tb.nodes.Get(1));
    if (s.host.cpus > 0)
    {
        InstallHostCpus(s, tb);
    }
    tb.ledger = Create<PacketLedger>();
    tb.flows.resize(s.flows.size());
    for (size_t i = 0; i < s.flows.size(); ++i)
    {
        InstallFlow(s, i, tb);
    }
    // Reverse-direction ledger flows (ACKs) for the TCP flows, after the
    // forward ones so forward flow ids equal scenario indices.
    for (size_t i = 0; i < s.flows.size(); ++i)
    {
        if (s.flows[i].kind == FlowKind::Tcp)
        {
            tb.flows[i].reverseFlow = tb.ledger->AddFlow("flow" + std::to_string(i) + "-tcp-acks", Direction::Reverse);
        }
    }
    RouteReverseByQueue(s, tb);
    return tb;
}

} // namespace tunsim
