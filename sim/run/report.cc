// The report step: RunResult from the models' own counters at the end of a
// run, and the summary `tunsim run` prints.
#include "testbed.h"
#include "tunsim-version.h"

#include "ns3/simulator.h"

#include <algorithm>
#include <iomanip>
#include <sstream>

namespace tunsim
{

using namespace ns3;

namespace
{

double
Ms(int64_t ns)
{
    return static_cast<double>(ns) / 1e6;
}

DelayResult
DelayOf(const DelayHistogram& h)
{
    DelayResult d;
    d.samples = h.Count();
    d.p50Ms = Ms(h.QuantileNs(0.50));
    d.p99Ms = Ms(h.QuantileNs(0.99));
    d.maxMs = Ms(h.Max());
    d.meanMs = h.MeanNs() / 1e6;
    DelayResult::Histogram hist;
    for (const auto& [edge, n] : h.Buckets())
    {
        hist.upperEdgeMs.push_back(Ms(edge));
        hist.count.push_back(n);
    }
    d.histogram = hist;
    return d;
}

SocketResult
SocketOf(const SocketAccount& a)
{
    return SocketResult{a.Sndbuf(), a.MaxWmemAlloc(), a.BlockCount(), a.BlockedTime().GetSeconds()};
}

/// LinuxTcpSocket::CaEvents() as result.json's flows[].ca_events, with the
/// receiver's compressed ACKs (null without the Linux-like socket).
nlohmann::json
CaEventsJson(const TcpBulkSender& tx, const TcpSink& rx)
{
    if (!tx.Linux())
    {
        return nullptr;
    }
    const LinuxTcpSocket::Events& e = tx.Linux()->CaEvents();
    return {{"recoveries", e.recoveries},
            {"timeouts", e.timeouts},
            {"cwr", e.cwr},
            {"acks_compressed", rx.AcksCompressed()}};
}

/// flows[].sender: what the socket refused, and the send() contexts.
nlohmann::json
SenderJson(const FlowConfig& f, const UdpSeqSender& tx)
{
    const UdpSeqSender::SenderStats& st = tx.GetSenderStats();
    nlohmann::json j = {{"style", NameOf(f.sender)},
                        {"on_send_error", NameOf(f.onSendError)},
                        {"recverr", f.recverr},
                        {"eagain_drops", st.eagainDrops},
                        {"enobufs_seen", st.enobufsSeen},
                        {"enobufs_frame_drops", st.enobufsFrameDrops},
                        {"sndbuf_errors", st.sndbufErrors}};
    if (tx.HasXmitProbe())
    {
        using C = UdpSeqSender::SendContext;
        auto n = [&st](C c) { return st.byContext[static_cast<size_t>(c)]; };
        j["sends_by_context"] = {{"full_ring", n(C::FullRing)},     {"woke_reader", n(C::WokeReader)},
                                 {"first", n(C::First)},            {"running_reader", n(C::RunningReader)},
                                 {"plain", n(C::Plain)}};
    }
    return j;
}

FlowResult
FlowOf(const Scenario& s, const Testbed& tb, size_t i)
{
    const FlowConfig& f = s.flows[i];
    const FlowApps& a = tb.flows[i];
    const FlowLedger& L = tb.ledger->Flows()[i];
    FlowResult r;
    r.index = i;
    r.kind = NameOf(f.kind);
    r.activeS = a.activeS;
    r.sentPackets = L.sentPackets;
    r.deliveredPackets = L.deliveredPackets;
    r.droppedPackets = L.droppedPackets;
    r.inFlightPackets = L.sentPackets - L.deliveredPackets - L.droppedPackets;
    r.lossRatio = L.sentPackets ? static_cast<double>(L.droppedPackets) / L.sentPackets : 0.0;
    r.delay = DelayOf(L.delay);
    const double act = a.activeS > 0 ? a.activeS : 1;
    switch (f.kind)
    {
    case FlowKind::Udp: {
        r.goodputMbps = a.udpRx->ReceivedBytes() * 8.0 / act / 1e6;
        const uint64_t backlog = a.udpTx->Backlog();
        r.udp = UdpFlowResult{NameOf(f.mode),
                              a.udpTx->Sent(),
                              a.udpRx->Received(),
                              backlog > (1ull << 60) ? 0 : backlog,
                              a.udpRx->Reordered(),
                              a.udpTx->SentBytes() * 8.0 / act / 1e6};
        if (f.sender == SenderStyle::Nonblocking || f.recverr || a.udpTx->HasXmitProbe())
        {
            r.sender = SenderJson(f, *a.udpTx);
        }
        if (f.mode == UdpMode::Video)
        {
            const UdpSeqSink::FrameLoss fl = a.udpRx->FrameLossOf(*a.udpTx, r.inFlightPackets);
            r.video = VideoResult{fl.judged, fl.lost, fl.judged ? static_cast<double>(fl.lost) / fl.judged : 0.0};
        }
        break;
    }
    case FlowKind::Tcp: {
        r.goodputMbps = a.tcpRx->ReceivedBytes() * 8.0 / act / 1e6;
        const FlowLedger& acks = tb.ledger->Flows()[a.reverseFlow];
        r.tcp = TcpFlowResult{NameOf(f.cc),
                              a.tcpRx->ReceivedBytes(),
                              a.tcpTx->Retransmits(),
                              a.tcpTx->Cwnd(),
                              a.tcpTx->Srtt().GetSeconds() * 1e3,
                              a.tcpTx->LastRtt().GetSeconds() * 1e3,
                              a.tcpTx->MinRtt().GetSeconds() * 1e3,
                              acks.sentPackets,
                              acks.deliveredPackets,
                              CaEventsJson(*a.tcpTx, *a.tcpRx)};
        break;
    }
    }
    r.socket = SocketOf(*a.account);
    return r;
}

TunResult
TunOf(const Scenario& s, const Testbed& tb, const Instruments& in, int64_t endNs)
{
    const TunNetDevice& tun = *tb.path.tun;
    const TunQueue& q = tun.GetQueue(0);
    const auto& st = tun.GetStats();
    const uint64_t noqueueDrops = in.monitor->NoqueueDrops();
    TunResult t;
    t.policy = s.tun.policy;
    t.txQueueLen = tun.GetTxQueueLen();
    t.ringSize = q.Ring().Size();
    t.ringBatch = q.Ring().Batch();
    t.hasQdisc = tun.GetHasQdisc();
    t.txPackets = st.txPackets;
    t.txBytes = st.txBytes;
    t.txDropped = st.txDropped + noqueueDrops;
    std::map<std::string, uint64_t> reasons;
    for (size_t r = 0; r < st.dropReasons.size(); ++r)
    {
        if (st.dropReasons[r])
        {
            reasons[TunDropReasonName(static_cast<TunDropReason>(r))] = st.dropReasons[r];
        }
    }
    if (noqueueDrops)
    {
        reasons["NOQUEUE_TXQ_STOPPED"] = noqueueDrops;
    }
    t.dropReasons = reasons;
    t.rxPackets = st.rxPackets;
    t.xmitCalls = st.xmitCalls;
    // With several queues (IFF_MULTI_QUEUE) the txq and ring figures add up
    // over the queues (stopped_s in queue-seconds, the fraction averaged,
    // the occupancy maximum the largest single ring's).
    uint64_t stops = 0;
    int64_t stoppedNs = 0;
    bool stoppedAtEnd = false;
    double occMean = 0;
    uint32_t occMax = 0;
    uint32_t occEnd = 0;
    for (uint32_t i = 0; i < tun.GetNQueues(); ++i)
    {
        const TunQueue& qi = tun.GetQueue(i);
        stops += qi.StopCount();
        stoppedNs += qi.StoppedTime().GetNanoSeconds();
        stoppedAtEnd = stoppedAtEnd || qi.IsStopped();
        occMean += qi.MeanOccupancy();
        occMax = std::max(occMax, qi.MaxOccupancy());
        occEnd += qi.Ring().Count();
    }
    const double n = tun.GetNQueues();
    t.txq = TxqResult{stops,
                      st.wakes,
                      stoppedNs / 1e9,
                      endNs ? stoppedNs / static_cast<double>(endNs) / n : 0.0,
                      stoppedAtEnd,
                      st.softirqRuns};
    t.ringOccupancyMean = occMean;
    t.ringOccupancyMax = occMax;
    t.ringOccupancyEnd = occEnd;
    return t;
}

QdiscResult
QdiscOf(const TunPath& path, const BacklogStats& b, int64_t endNs)
{
    QdiscResult r;
    r.kind = NameOf(path.tunQdiscKind);
    const Ptr<QueueDisc> q = path.tunQdisc;
    if (!q)
    {
        return r;
    }
    r.limitPackets = path.tunQdiscLimit;
    QdiscResult::Counters c;
    std::map<std::string, uint64_t> reasons;
    // mq: the children hold the packets; their counters add up.
    for (const Ptr<QueueDisc>& leaf : path.tunLeafQdiscs)
    {
        const QueueDisc::Stats& st = leaf->GetStats();
        c.receivedPackets += st.nTotalReceivedPackets;
        c.sentPackets += st.nTotalSentPackets;
        c.droppedPackets += st.nTotalDroppedPackets;
        for (const auto& [reason, n] : st.nDroppedPacketsBeforeEnqueue)
        {
            reasons[reason] += n;
        }
        for (const auto& [reason, n] : st.nDroppedPacketsAfterDequeue)
        {
            reasons[reason] += n;
        }
        c.requeues += st.nTotalRequeuedPackets;
        c.backlogPacketsEnd += leaf->GetNPackets();
    }
    c.dropReasons = reasons;
    c.backlogPacketsMax = b.max;
    c.backlogPacketsMean = b.Mean(endNs);
    r.counters = c;
    return r;
}

ReaderResult
ReaderOf(const Scenario& s, const TunPath& path, int64_t endNs)
{
    // Several readers (one per queue): their counts add up; busy_fraction is
    // the busiest one's (each runs on a CPU of its own). A VM backend is one.
    ReaderResult r;
    r.deepWakeups = 0;
    r.preemptions = 0;
    r.sndbufBlocks = 0;
    int64_t busiestNs = 0;
    double stolenS = 0;
    auto add = [&](const auto& rs) {
        r.packetsRead += rs.packetsRead;
        r.bytesRead += rs.bytesRead;
        r.reads += rs.reads;
        r.sleeps += rs.sleeps;
        r.wakeups += rs.wakeups;
        *r.deepWakeups += rs.deepWakeups;
        *r.preemptions += rs.preemptions;
        *r.sndbufBlocks += rs.sndbufBlocks;
        busiestNs = std::max(busiestNs, rs.busy.GetNanoSeconds());
        stolenS += rs.stolen.GetSeconds();
    };
    if (path.vm)
    {
        add(path.vm->GetStats());
    }
    for (const auto& reader : path.readers)
    {
        add(reader->GetStats());
    }
    r.busyFraction = endNs ? busiestNs / static_cast<double>(endNs) : 0.0;
    r.softirqStolenS = stolenS;
    if (!path.vm && r.packetsRead && (s.reader.perPacketNs > 0 || s.reader.nsPerByte > 0))
    {
        r.capacityPpsAtMeanSize =
            1e9 / (s.reader.perPacketNs + s.reader.nsPerByte * static_cast<double>(r.bytesRead) / r.packetsRead);
    }
    r.socket = SocketOf(*path.readerAccount);
    return r;
}

DirectionBooks
BooksOf(const PacketLedger& ledger, Direction d, std::map<std::string, uint64_t> queued)
{
    DirectionBooks b;
    b.sent = ledger.SentPackets(d);
    b.delivered = ledger.DeliveredPackets(d);
    b.dropped = ledger.DroppedPackets(d);
    b.droppedByPlace = ledger.Drops(d);
    b.stillQueuedByPlace = std::move(queued);
    b.Close();
    return b;
}

} // namespace

RunResult
Report(const Scenario& s, const Testbed& tb, const Instruments& in, const WallClock& wall)
{
    const int64_t endNs = Simulator::Now().GetNanoSeconds();
    RunResult r = NewRunResult(ScenarioToJson(s), s.seed);
    r.simulatedS = endNs / 1e9;
    for (size_t i = 0; i < s.flows.size(); ++i)
    {
        r.flows.push_back(FlowOf(s, tb, i));
    }
    r.tun = TunOf(s, tb, in, endNs);
    r.qdisc = QdiscOf(tb.path, in.monitor->TunBacklog(), endNs);
    r.reader = ReaderOf(s, tb.path, endNs);
    r.host = HostCpusJson(tb);
    r.underlayClientQdiscDrops = tb.path.clientNicQdisc ? tb.path.clientNicQdisc->GetStats().nTotalDroppedPackets : 0;
    r.underlayServerQdiscDrops = tb.path.serverNicQdisc ? tb.path.serverNicQdisc->GetStats().nTotalDroppedPackets : 0;

    const PacketLedger& ledger = *tb.ledger;
    auto& cons = r.conservation;
    cons.forward = BooksOf(ledger, Direction::Forward, in.monitor->StillQueued(Direction::Forward));
    cons.reverse = BooksOf(ledger, Direction::Reverse, in.monitor->StillQueued(Direction::Reverse));
    cons.untrackedPackets = ledger.Untracked();
    cons.ok = cons.forward.ok && cons.reverse.ok && ledger.Untracked() == 0;

    r.simulatedPackets = ledger.SentPackets(Direction::Forward) + ledger.SentPackets(Direction::Reverse);
    r.simulatorEvents = wall.events;
    r.wall.seconds = wall.seconds;
    r.wall.simulatedPacketsPerWallS = wall.seconds > 0 ? r.simulatedPackets / wall.seconds : 0.0;
    r.wall.eventsPerWallS = wall.seconds > 0 ? wall.events / wall.seconds : 0.0;
    return r;
}

std::string
Summary(const Scenario& s, const RunResult& r)
{
    std::ostringstream sum;
    sum << std::fixed << std::setprecision(2);
    sum << "tunsim " << TUNSIM_VERSION << "  scenario " << s.name << "  policy " << s.tun.policy << "  ring "
        << s.tun.ringSize << "  qdisc " << NameOf(s.qdisc.kind) << "  seed " << s.seed << "\n";
    for (const auto& f : r.flows)
    {
        sum << "  flow " << f.index << " " << f.kind << ": sent " << f.sentPackets << "  delivered "
            << f.deliveredPackets << "  dropped " << f.droppedPackets << " (" << 100.0 * f.lossRatio
            << " %)  goodput " << f.goodputMbps << " Mbit/s  delay p50 " << f.delay.p50Ms << " ms p99 "
            << f.delay.p99Ms << " ms\n";
    }
    const uint64_t qdrops = r.qdisc.counters ? r.qdisc.counters->droppedPackets : 0;
    sum << "  tun0: tx_dropped " << r.tun.txDropped << "  txq stops " << r.tun.txq.stopCount.value_or(0)
        << "  ring mean/max " << r.tun.ringOccupancyMean.value_or(0) << "/" << r.tun.ringOccupancyMax.value_or(0)
        << "  qdisc drops " << qdrops << "  reader busy " << 100.0 * r.reader.busyFraction << " %\n";
    if (!r.host.is_null())
    {
        // the multi-core host: each CPU's load, and what of it is transmit work
        sum << "  cpus:";
        for (const auto& c : r.host["cpus"])
        {
            const auto& b = c["busy_s"];
            const double xmit = b["xmit_direct"].get<double>() + b["xmit_softirq"].get<double>();
            sum << "  " << c["cpu"].get<uint32_t>() << ": " << std::setprecision(0)
                << 100.0 * c["busy_fraction"].get<double>() << " % (xmit "
                << 100.0 * xmit / std::max(r.simulatedS, 1e-12) << " %)";
        }
        sum << std::setprecision(2) << "\n";
    }
    const auto& fwd = r.conservation.forward;
    sum << "  conservation: " << (r.conservation.ok ? "ok" : "VIOLATED") << " (forward sent " << fwd.sent
        << " = delivered " << fwd.delivered << " + dropped " << fwd.dropped << " + queued " << fwd.stillQueued
        << ")\n";
    sum << "  " << std::setprecision(3) << r.wall.seconds << " s wall, " << std::setprecision(0)
        << r.wall.simulatedPacketsPerWallS << " simulated packets per wall second\n";
    return sum.str();
}

} // namespace tunsim
