// The repeats pooled into a RunResult (see assemble.h, docs/kernel.md).
//
// The repeats are pooled and cross-checked (pool.h); then one function a
// block of the result (FlowOf, TunOf, QdiscOf, ReaderOf, ConservationOf,
// KernelBlock) and the Summary().
#include "assemble.h"

#include "measure.h"
#include "pool.h"
#include "support.h"

#include "delay-histogram.h"
#include "ptr-ring.h"

#include <algorithm>
#include <iomanip>
#include <sstream>
#include <thread>

#include <sys/utsname.h>

namespace tunsim
{
namespace kernel
{

using json = nlohmann::json;

DelayResult
DelayOf(std::vector<int64_t>& v)
{
    DelayResult d;
    d.samples = v.size();
    DelayHistogram h;
    long double sum = 0;
    int64_t mx = 0;
    for (auto x : v)
    {
        sum += x;
        mx = std::max(mx, x);
        h.Add(x);
    }
    if (!v.empty())
    {
        d.p50Ms = Quantile(v, 0.5) / 1e6;
        d.p99Ms = Quantile(v, 0.99) / 1e6;
        d.maxMs = mx / 1e6;
        d.meanMs = static_cast<double>(sum / v.size()) / 1e6;
    }
    DelayResult::Histogram hist;
    for (const auto& [edgeNs, n] : h.Buckets())
    {
        hist.upperEdgeMs.push_back(edgeNs / 1e6);
        hist.count.push_back(n);
    }
    d.histogram = hist;
    return d;
}

namespace
{

json
Warnings(const Scenario& sc, const std::string& policy, const json& calibration)
{
    json warnings = json::array();
    if (sc.tun.policy != "drop" && sc.tun.policy != policy)
    {
        warnings.push_back("tun.policy \"" + sc.tun.policy +
                           "\" cannot be chosen on a live kernel; this kernel behaves as \"" + policy + "\"");
    }
    if (sc.reader.batch != 1 && (sc.reader.loop != ReaderLoop::Batched || IsTcpRun(sc)))
    {
        warnings.push_back("reader.batch " + std::to_string(sc.reader.batch) +
                           " not applicable: a tun read() returns one packet (batch is used by reader.loop "
                           "\"batched\" only: read()s per poll())");
    }
    const json& readMean = calibration["reader_read_ns"]["mean_ns"];
    const double readFloor = readMean.is_number() ? readMean.get<double>() : 0.0;
    // The smallest packet the reader reads: a UDP header's worth, or (the TCP
    // twin) a full data segment; the twin's ACKs are written, not read.
    const double bytes = IsTcpRun(sc) ? 1500 : 28;
    if (sc.reader.perPacketNs + sc.reader.nsPerByte * bytes < readFloor)
    {
        std::ostringstream w;
        w << "reader.per_packet_ns " << sc.reader.perPacketNs << " is below the measured read() cost "
          << std::fixed << std::setprecision(0) << readFloor << " ns: the kernel reader is slower than the scenario's";
        warnings.push_back(w.str());
    }
    return warnings;
}

} // namespace

json
KernelBlockBase(const Scenario& sc, const Setup& setup, const std::string& policy, size_t repeats)
{
    utsname u;
    uname(&u);
    json k;
    k["uname"] = {{"sysname", u.sysname}, {"release", u.release}, {"version", u.version}, {"machine", u.machine}};
    k["policy"] = policy;
    k["policy_probe"] = setup.probe;
    k["requested_policy"] = sc.tun.policy;
    k["namespace"] = setup.nsName;
    k["device"] = kDevice;
    k["cpus"] = std::thread::hardware_concurrency();
    k["calibration"] = setup.calibration;
    k["repeat"] = repeats;
    k["warnings"] = Warnings(sc, policy, setup.calibration);
    return k;
}

ReaderResult
ReaderBlock(const Scenario& sc, uint64_t reads, uint64_t bytes, uint64_t sleeps, uint64_t wakeups, int64_t busyNs,
            double windowS)
{
    ReaderResult r;
    r.packetsRead = reads;
    r.bytesRead = bytes;
    r.reads = reads; // a tun read() returns one packet
    r.sleeps = sleeps;
    r.wakeups = wakeups;
    r.busyFraction = windowS > 0 ? busyNs / 1e9 / windowS : 0.0;
    if (reads && (sc.reader.perPacketNs > 0 || sc.reader.nsPerByte > 0))
    {
        r.capacityPpsAtMeanSize =
            1e9 / (sc.reader.perPacketNs + sc.reader.nsPerByte * static_cast<double>(bytes) / reads);
    }
    return r;
}

namespace
{

json
SendNsMean(const FlowStats& f)
{
    return f.sent ? json(static_cast<double>(f.sendNsTotal) / f.sent) : json(nullptr);
}

// ------------------------------------------------------------ the blocks

/// Flow i pooled over `nr` repeats; `backend` gets flows[i].kernel.
FlowResult
FlowOf(const Scenario& sc, size_t i, FlowStats& f, size_t nr, const json& lossOverRepeats, const SendProfile& profile)
{
    const FlowConfig& fc = sc.flows[i];
    const double stopS = fc.stopS < 0 ? sc.durationS : std::min(fc.stopS, sc.durationS);
    const double active = (stopS - fc.startS) * nr;
    const double act = active > 0 ? active : 1.0;
    const uint64_t dropped = Lost(f);
    const uint64_t tried = f.sent + f.sendErrors + f.eagainDrops;
    FlowResult r;
    r.index = i;
    r.kind = NameOf(fc.kind);
    r.activeS = stopS - fc.startS;
    r.sentPackets = f.sent + f.eagainDrops; // what the application tried, as the simulator's ledger
    r.deliveredPackets = f.received;
    r.droppedPackets = dropped + f.eagainDrops;
    r.inFlightPackets = f.queuedAtEnd;
    r.lossRatio = LossRatio(f);
    r.goodputMbps = f.receivedBytes * 8.0 / act / 1e6;
    r.delay = DelayOf(f.delayNs);
    r.udp = UdpFlowResult{NameOf(fc.mode),
                          f.sent,
                          f.received,
                          fc.mode == UdpMode::Flood || f.generated <= tried ? 0 : f.generated - tried,
                          f.reordered,
                          f.sentBytes * 8.0 / act / 1e6};
    r.socket.sndbufBytes = static_cast<uint64_t>(f.sndbuf);
    r.backend = {{"send_errors", f.sendErrors},
                 {"send_ns_mean", SendNsMean(f)},
                 {"seq_gaps", f.gaps},
                 {"seq_tail_lost", dropped >= f.gaps ? dropped - f.gaps : 0},
                 {"loss_ratio_over_repeats", lossOverRepeats},
                 {"send_ns_profile", profile.ToJson()}};
    if (fc.sender == SenderStyle::Nonblocking || fc.recverr)
    {
        r.backend["eagain_drops"] = f.eagainDrops;
        r.backend["enobufs_seen"] = f.enobufsSeen;
    }
    return r;
}

} // namespace

TunResult
TunOf(const Scenario& sc, const DeviceCounters& d, const std::string& policy)
{
    TunResult t;
    t.policy = policy;
    t.txQueueLen = d.txQueueLen;
    t.ringSize = d.txQueueLen;
    t.ringBatch = PtrRingBatchFor(static_cast<uint32_t>(d.txQueueLen));
    t.hasQdisc = sc.qdisc.kind != QdiscKind::Noqueue;
    t.txPackets = d.txPackets;
    t.txBytes = d.txBytes;
    t.txDropped = d.txDropped;
    t.rxPackets = d.rxPackets;
    if (policy == "drop")
    {
        // Mainline tun never stops its tx queue: these follow from the source.
        t.txq = TxqResult{0, 0, 0.0, 0.0, false, std::nullopt};
    }
    if (d.haveTc)
    {
        t.ringOccupancyEnd = d.RingLeft();
    }
    return t;
}

QdiscResult
QdiscOf(const Scenario& sc, uint32_t qdiscLimit, const DeviceCounters& d)
{
    QdiscResult q;
    q.kind = NameOf(sc.qdisc.kind);
    if (sc.qdisc.kind == QdiscKind::Noqueue)
    {
        return q;
    }
    q.limitPackets = qdiscLimit;
    QdiscResult::Counters c;
    c.receivedPackets = d.tc.sentPackets + d.tc.dropped + d.tc.backlogPackets;
    c.sentPackets = d.tc.sentPackets;
    c.droppedPackets = d.tc.dropped;
    c.requeues = d.tc.requeues;
    c.backlogPacketsEnd = d.tc.backlogPackets;
    q.counters = c;
    return q;
}

namespace
{

ReaderResult
ReaderOf(const Scenario& sc, const Repeat& tot, double windowS)
{
    const ReaderStats& rs = tot.reader;
    ReaderResult r = ReaderBlock(sc, rs.packetsRead, rs.bytesRead, rs.sleeps, rs.wakeNs.size(), rs.busyNs, windowS);
    if (sc.reader.deepIdleAfterUs > 0)
    {
        const auto deepNs = static_cast<int64_t>(sc.reader.deepIdleAfterUs * 1e3);
        r.deepWakeups = static_cast<uint64_t>(std::count_if(rs.sleepWakeNs.begin(), rs.sleepWakeNs.end(),
                                                            [deepNs](const auto& sw) { return sw.first >= deepNs; }));
    }
    return r;
}

/// Forward: what the kernel's own counters say (senders, reader, sysfs, tc);
/// nothing goes the other way.
ConservationResult
ConservationOf(const RunResult& r, const Repeat& tot, const CrossCheck& total)
{
    const std::string dev = kDevice;
    ConservationResult c;
    DirectionBooks& f = c.forward;
    for (const auto& fl : r.flows)
    {
        f.sent += fl.sentPackets;
        f.delivered += fl.deliveredPackets;
    }
    f.sent += tot.reader.untracked + (total.leftRead - total.queuedRead);
    f.delivered += tot.reader.untracked;
    f.dropped = total.Dropped();
    uint64_t eagain = 0;
    for (const auto& fl : tot.flows)
    {
        eagain += fl.eagainDrops; // in the flows' sent (FlowOf), dropped by the application
    }
    f.dropped += eagain;
    if (eagain)
    {
        f.droppedByPlace["app/EAGAIN"] = eagain;
    }
    if (tot.dev.txDropped)
    {
        f.droppedByPlace[dev + "_ring/tx_dropped"] = tot.dev.txDropped;
    }
    if (total.tcDropped)
    {
        f.droppedByPlace[dev + "_qdisc/dropped"] = total.tcDropped;
    }
    f.stillQueuedByPlace = {{dev + "_qdisc", total.tcBacklog},
                            {dev + "_ring", static_cast<uint64_t>(std::max<int64_t>(total.ringLeft, 0)) + total.leftRead},
                            {"vpn_reader", 0}};
    f.Close();
    c.reverse.Close();
    c.untrackedPackets = tot.reader.untracked;
    c.ok = f.ok;
    return c;
}

// ------------------------------------------------------------ the kernel block

/// kernel.repeats: each repeat's flows, drops and cross-check.
json
RepeatsJson(const std::vector<Repeat>& reps, const std::vector<CrossCheck>& checks)
{
    json repeats = json::array();
    for (size_t k = 0; k < reps.size(); ++k)
    {
        const Repeat& r = reps[k];
        json fl = json::array();
        for (size_t i = 0; i < r.flows.size(); ++i)
        {
            const FlowStats& f = r.flows[i];
            fl.push_back({{"index", i},
                          {"sent_packets", f.sent},
                          {"delivered_packets", f.received},
                          {"loss_ratio", LossRatio(f)},
                          {"send_ns_mean", SendNsMean(f)}});
        }
        repeats.push_back({{"repeat", k + 1},
                           {"flows", fl},
                           {"tx_dropped", r.dev.txDropped},
                           {"qdisc_dropped", r.dev.haveTc ? json(r.dev.tc.dropped) : json(nullptr)},
                           {"drain_s", r.drainS},
                           {"wall_s", r.wallS},
                           {"cross_check", checks[k].ToJson()}});
    }
    return repeats;
}

/// kernel.loss_ratio: per flow, its loss ratio over the repeats.
json
LossOverRepeats(const std::vector<Repeat>& reps, size_t nflows)
{
    json stats = json::array();
    for (size_t i = 0; i < nflows; ++i)
    {
        std::vector<double> v;
        for (const Repeat& r : reps)
        {
            v.push_back(LossRatio(r.flows[i]));
        }
        stats.push_back({{"index", i},
                         {"n", v.size()},
                         {"mean", Mean(v)},
                         {"stddev", Stddev(v)},
                         {"min", *std::min_element(v.begin(), v.end())},
                         {"max", *std::max_element(v.begin(), v.end())}});
    }
    return stats;
}

/// What only tunsim kernel reports (docs/kernel.md, "The kernel block").
/// `checks`: each repeat's cross-check; `total`: the pooled one.
json
KernelBlock(const Scenario& sc, Repeat& tot, const std::vector<Repeat>& reps, const Setup& setup,
            const std::vector<CrossCheck>& checks, const CrossCheck& total, const std::string& policy)
{
    const ReaderStats& rs = tot.reader;
    json k = KernelBlockBase(sc, setup, policy, reps.size());
    k["repeats"] = RepeatsJson(reps, checks);
    k["loss_ratio"] = LossOverRepeats(reps, sc.flows.size());
    k["cross_check"] = total.ToJson();
    k["reader_wakeup_by_sleep"] = WakeBySleepJson(rs.sleepWakeNs);
    // Send -> read() returned, for the first datagram after the reader slept
    // in poll(): the reader's wake-up latency plus one send().
    k["reader_wakeup_us"] = rs.wakeNs.empty() ? json(nullptr) : SampleSummary(tot.reader.wakeNs, 1e3, "");
    k["reader_read_ns_mean"] =
        rs.packetsRead ? json(static_cast<double>(rs.readNsTotal) / rs.packetsRead) : json(nullptr);
    if (sc.reader.loop != ReaderLoop::ReadUntilEmpty)
    {
        // poll-each, batched: the poll() before each read / batch that found data.
        k["reader_polls"] = rs.polls;
        k["reader_poll_ns_mean"] = rs.polls ? json(static_cast<double>(rs.pollNsTotal) / rs.polls) : json(nullptr);
    }
    k["drain_s_max"] = tot.drainS;
    k["not_applicable"] = NotApplicable();
    return k;
}

// ------------------------------------------------------------ the summary

std::string
Summary(const Scenario& sc, const RunResult& r, const json& probe, const CrossCheck& total)
{
    const json& k = r.kernel;
    std::ostringstream s;
    s << std::fixed << std::setprecision(2);
    s << "tunsim kernel  " << k["uname"]["sysname"].get<std::string>() << " "
      << k["uname"]["release"].get<std::string>() << "  behaves as \"" << r.tun.policy << "\" (probe: txqueuelen "
      << probe["txqueuelen"] << ", burst " << probe["burst_packets"] << " -> tx_dropped " << probe["tx_dropped"]
      << ", qdisc backlog " << probe["qdisc_backlog_packets"] << ")\n";
    s << "  scenario " << sc.name << "  ring " << sc.tun.ringSize << "  qdisc " << NameOf(sc.qdisc.kind)
      << "  repeats " << k["repeat"] << "\n";
    for (const FlowResult& f : r.flows)
    {
        const json& loss = k["loss_ratio"][f.index];
        s << "  flow " << f.index << " udp/" << f.udp->mode << ": sent " << f.sentPackets << "  delivered "
          << f.deliveredPackets << "  dropped " << f.droppedPackets << " (" << 100.0 * f.lossRatio << " %";
        if (k["repeat"] > 1)
        {
            s << "; per repeat " << 100.0 * loss["mean"].get<double>() << " +- "
              << 100.0 * loss["stddev"].get<double>();
        }
        s << ")  goodput " << f.goodputMbps << " Mbit/s  delay p50 " << f.delay.p50Ms << " ms p99 " << f.delay.p99Ms
          << " ms\n";
    }
    s << "  " << kDevice << ": tx_packets " << r.tun.txPackets << "  tx_dropped " << r.tun.txDropped;
    if (const auto& c = r.qdisc.counters)
    {
        s << "  qdisc sent " << c->sentPackets << " dropped " << c->droppedPackets << " backlog "
          << c->backlogPacketsEnd << " requeues " << c->requeues;
    }
    s << "\n  cross-check: " << (total.ok ? "ok" : "MISMATCH") << " (sent " << total.sent << " = received "
      << total.received << " + tun tx_dropped " << total.txDropped << " + qdisc drops " << total.tcDropped
      << " + queued " << r.conservation.forward.stillQueued << "; seq-gap loss " << total.seqLost << ")\n";
    for (const auto& w : k["warnings"])
    {
        s << "  note: " << w.get<std::string>() << "\n";
    }
    return s.str();
}

} // namespace

Assembled
Assemble(const Scenario& sc, uint32_t qdiscLimit, const std::vector<Repeat>& reps, const Setup& setup, double wallS)
{
    const size_t nf = sc.flows.size();
    Repeat tot = Pool(reps, nf);
    std::vector<CrossCheck> checks;
    std::vector<SendProfile> profiles(nf);
    bool allOk = true;
    for (const Repeat& rep : reps)
    {
        checks.push_back(CrossCheckOf(rep));
        allOk = allOk && checks.back().ok;
        for (size_t i = 0; i < nf; ++i)
        {
            profiles[i].Add(rep.flows[i]);
        }
    }
    CrossCheck total = CrossCheckOf(tot);
    total.ok = allOk;
    const std::string policy = setup.probe.value("verdict", "unknown");

    RunResult r = NewRunResult(ScenarioToJson(sc), sc.seed);
    r.simulatedS = sc.durationS;
    r.kernel = KernelBlock(sc, tot, reps, setup, checks, total, policy);
    for (size_t i = 0; i < nf; ++i)
    {
        r.flows.push_back(FlowOf(sc, i, tot.flows[i], reps.size(), r.kernel["loss_ratio"][i], profiles[i]));
        r.simulatedPackets += tot.flows[i].sent;
    }
    r.tun = TunOf(sc, tot.dev, policy);
    if (r.tun.ringOccupancyEnd)
    {
        *r.tun.ringOccupancyEnd += static_cast<int64_t>(total.leftRead); // read out after the drain
    }
    r.qdisc = QdiscOf(sc, qdiscLimit, tot.dev);
    r.reader = ReaderOf(sc, tot, sc.durationS * reps.size());
    r.conservation = ConservationOf(r, tot, total);
    r.wall.seconds = wallS;
    r.wall.simulatedPacketsPerWallS = wallS > 0 ? r.simulatedPackets / wallS : 0.0;

    Assembled a;
    a.crossOk = allOk && r.conservation.ok;
    a.summary = Summary(sc, r, setup.probe, total);
    a.result = std::move(r);
    return a;
}

} // namespace kernel
} // namespace tunsim
