// The TCP twin's repeats pooled into a RunResult (see assemble.h,
// docs/kernel.md "The TCP twin"): one function a block (TcpFlowOf,
// TcpReaderOf, the conservation, TcpKernelBlock) and the summary.
#include "assemble.h"

#include "measure.h"
#include "support.h"
#include "tcp-pool.h"

#include <algorithm>
#include <numeric>
#include <iomanip>
#include <sstream>

namespace tunsim
{
namespace kernel
{

using json = nlohmann::json;

namespace
{

/// {index, n, mean, stddev, min, max} of per-repeat values.
json
OverRepeats(size_t index, const std::vector<double>& v)
{
    return {{"index", index},
            {"n", v.size()},
            {"mean", Mean(v)},
            {"stddev", Stddev(v)},
            {"min", *std::min_element(v.begin(), v.end())},
            {"max", *std::max_element(v.begin(), v.end())}};
}

double
ActiveS(const Scenario& sc, size_t i)
{
    return sc.flows[i].StopOr(sc.durationS) - sc.flows[i].startS;
}

/// Flow i's goodput in one repeat: bytes the receiver read inside the window.
double
GoodputMbps(const Scenario& sc, size_t i, const TcpFlowRun& f, size_t nr)
{
    const double act = ActiveS(sc, i) * static_cast<double>(nr);
    return act > 0 ? f.windowBytes * 8.0 / act / 1e6 : 0.0;
}

/// The ACKs the reader wrote into tun0, by how much of the sender's window
/// each newly acknowledged (in segments of `mss`): a stretch ACK (many
/// segments at once) makes the sender answer with as many segments in one
/// burst into the ring, inside the reader's write(). Duplicates count 0.
json
AckStrideJson(const std::vector<uint32_t>& bytes, uint32_t mss)
{
    if (bytes.empty() || mss == 0)
    {
        return {{"acks", bytes.size()}, {"mss_bytes", mss}};
    }
    std::vector<int64_t> seg;
    seg.reserve(bytes.size());
    uint64_t dup = 0, over8 = 0, over16 = 0;
    for (uint32_t b : bytes)
    {
        const int64_t n = (b + mss / 2) / mss;
        seg.push_back(n);
        dup += b == 0;
        over8 += n > 8;
        over16 += n > 16;
    }
    const double mean = std::accumulate(seg.begin(), seg.end(), 0.0) / static_cast<double>(seg.size());
    const int64_t mx = *std::max_element(seg.begin(), seg.end());
    return {{"acks", bytes.size()},       {"mss_bytes", mss},
            {"duplicates", dup},          {"mean", mean},
            {"p50", Quantile(seg, 0.5)},  {"p90", Quantile(seg, 0.9)},
            {"p99", Quantile(seg, 0.99)}, {"p999", Quantile(seg, 0.999)},
            {"max", mx},                  {"over_8", over8},
            {"over_16", over16}};
}

/// flows[].ca_events from the client namespace's MIB (acks_compressed
/// from the server's), summed over the repeats: the counters are per
/// namespace, so only with one flow; cwr has no counter in Linux (null).
json
KernelCaEvents(const Scenario& sc, const std::map<std::string, int64_t>& mib,
               const std::map<std::string, int64_t>& serverMib)
{
    if (sc.flows.size() != 1)
    {
        return nullptr;
    }
    auto get = [](const std::map<std::string, int64_t>& m, const char* k) {
        const auto it = m.find(k);
        return it == m.end() ? int64_t{0} : it->second;
    };
    return {{"recoveries", get(mib, "TcpExt.TCPSackRecovery") + get(mib, "TcpExt.TCPRenoRecovery")},
            {"timeouts", get(mib, "TcpExt.TCPTimeouts")},
            {"cwr", nullptr},
            {"acks_compressed", get(serverMib, "TcpExt.TCPAckCompressed")}};
}

/// Flow i pooled over the repeats; `goodputs` the per-repeat goodput.
FlowResult
TcpFlowOf(const Scenario& sc, size_t i, TcpPooled& p, size_t nr, const json& goodputs, uint64_t deviceDrops)
{
    const TcpFlowRun& f = p.tot.flows[i];
    FlowPath& path = p.tot.paths[i];
    const TcpInfoSample& end = f.infoEnd;
    FlowResult r;
    r.index = i;
    r.kind = NameOf(sc.flows[i].kind);
    r.activeS = ActiveS(sc, i);
    r.sentPackets = p.dataSegsOut[i];
    r.deliveredPackets = path.fwdDataWritten;
    r.droppedPackets = DataDropped(p.dataSegsOut[i], path);
    r.inFlightPackets = 0;
    r.lossRatio = r.sentPackets ? static_cast<double>(r.droppedPackets) / r.sentPackets : 0.0;
    r.goodputMbps = GoodputMbps(sc, i, f, nr);
    r.delay = DelayOf(path.delayNs);
    r.tcp = TcpFlowResult{NameOf(sc.flows[i].cc),
                          f.receivedBytes,
                          p.totalRetrans[i],
                          uint64_t{end.cwnd} * end.mss,
                          end.rttUs / 1e3,
                          end.rttUs / 1e3,
                          end.minRttUs / 1e3,
                          path.revRead,
                          path.revWritten,
                          KernelCaEvents(sc, p.tot.clientMib, p.tot.serverMib)};
    r.socket.sndbufBytes = static_cast<uint64_t>(f.sndbuf);
    r.backend = {{"linux_cc", LinuxCcName(sc.flows[i].cc)},
                 {"data_segs_out", p.dataSegsOut[i]},
                 {"data_segs_read_from_tun0", path.fwdDataRead},
                 {"data_segs_written_into_tun1", path.fwdDataWritten},
                 {"packets_read_from_tun0", path.fwdRead},
                 {"packets_written_into_tun1", path.fwdWritten},
                 {"device_drops", deviceDrops},
                 {"ack_stride_segments", AckStrideJson(path.ackStrideBytes, end.mss)},
                 {"receiver_realtime", f.receiverRealtime},
                 {"bytes_written_by_sender", f.bytesWritten},
                 {"window_bytes", f.windowBytes},
                 {"goodput_mbps_over_repeats", goodputs},
                 {"connect_ms", f.connectMs},
                 {"tcp_info_end", TcpInfoJson(end)},
                 {"receiver_tcp_info_end", TcpInfoJson(f.rcvInfoEnd)}};
    return r;
}

/// An endpoint's own counters (kernel.reader, kernel.far_end).
/// The tail of an endpoint's lateness (how long after its due time a packet
/// of the delay line was written): the rare multi-millisecond stalls of a
/// preempted endpoint thread that p50/p90 do not show. A stalled endpoint
/// writes everything that fell due meanwhile at once (the far end: a train
/// of ACKs, so the sender answers with a burst into the ring).
json
LateTailJson(std::vector<int64_t> v)
{
    if (v.empty())
    {
        return {{"samples", 0}, {"p99", nullptr}, {"p999", nullptr}, {"max", nullptr}};
    }
    uint64_t over1ms = 0;
    uint64_t over4ms = 0;
    for (int64_t x : v)
    {
        over1ms += x > 1000000 ? 1 : 0;
        over4ms += x > 4000000 ? 1 : 0;
    }
    const double max = static_cast<double>(*std::max_element(v.begin(), v.end()));
    return {{"samples", v.size()},
            {"p99", Quantile(v, 0.99) / 1e3},
            {"p999", Quantile(v, 0.999) / 1e3},
            {"max", max / 1e3},
            {"over_1ms", over1ms},
            {"over_4ms", over4ms}};
}

/// Time the endpoint's thread was runnable (spinning out a packet's cost)
/// but not running: count, rate per busy second, and the lengths. What
/// `reader.preempt_interval_ms` and `reader.preempt_ms` describe in the
/// simulator (busy_s / count and the mean length).
json
PreemptionsJson(std::vector<int64_t> v, int64_t busyNs)
{
    double total = 0;
    for (int64_t x : v)
    {
        total += static_cast<double>(x);
    }
    const double busyS = busyNs / 1e9;
    json j = {{"threshold_us", 20},
              {"count", v.size()},
              {"stolen_ms", total / 1e6},
              {"per_busy_s", busyS > 0 ? json(v.size() / busyS) : json(nullptr)},
              {"busy_ms_between", v.empty() ? json(nullptr) : json(busyS * 1e3 / v.size())},
              {"mean_us", v.empty() ? json(nullptr) : json(total / v.size() / 1e3)}};
    if (!v.empty())
    {
        j["p50_us"] = Quantile(v, 0.5) / 1e3;
        j["p90_us"] = Quantile(v, 0.9) / 1e3;
        j["p99_us"] = Quantile(v, 0.99) / 1e3;
        j["max_us"] = static_cast<double>(*std::max_element(v.begin(), v.end())) / 1e3;
    }
    return j;
}

/// Samples over kStallNs (an endpoint that lost its CPU, or a write() that
/// stalled, for a millisecond or more) leave `v` and are summed into
/// `stalls` (count, lengths); what stays is the body the quantile lists
/// describe. The simulator draws the stalls apart, as preemptions
/// (underlay.peer_preempt_interval_ms, peer_preempt_ms).
constexpr int64_t kStallNs = 1000000;

std::vector<int64_t>
TakeStalls(std::vector<int64_t>& v)
{
    std::vector<int64_t> stalls;
    auto body = std::partition(v.begin(), v.end(), [](int64_t x) { return x <= kStallNs; });
    stalls.assign(body, v.end());
    v.erase(body, v.end());
    return stalls;
}

json
StallsJson(const std::vector<int64_t>& wake, const std::vector<int64_t>& service)
{
    std::vector<int64_t> all(wake);
    all.insert(all.end(), service.begin(), service.end());
    double total = 0;
    for (int64_t x : all)
    {
        total += static_cast<double>(x);
    }
    json j = {{"threshold_us", kStallNs / 1000},
              {"count", all.size()},
              {"in_wakeups", wake.size()},
              {"in_writes", service.size()},
              {"mean_ms", all.empty() ? json(nullptr) : json(total / all.size() / 1e6)}};
    if (!all.empty())
    {
        j["p50_ms"] = Quantile(all, 0.5) / 1e6;
        j["max_ms"] = static_cast<double>(*std::max_element(all.begin(), all.end())) / 1e6;
    }
    return j;
}

json
EndJson(EndStats st)
{
    json tail = LateTailJson(st.lateNs);
    json lateQ = EqualQuantilesUs(st.lateNs, 1000); // as reader.wakeup_quantiles_us takes them
    json wakeTail = LateTailJson(st.wakeLateNs);
    json serviceTail = LateTailJson(st.serviceNs);
    json wakeSummary = SampleSummary(st.wakeLateNs, 1e3, "");
    json serviceSummary = SampleSummary(st.serviceNs, 1e3, "");
    const std::vector<int64_t> wakeStalls = TakeStalls(st.wakeLateNs);
    const std::vector<int64_t> serviceStalls = TakeStalls(st.serviceNs);
    json stalls = StallsJson(wakeStalls, serviceStalls);
    json wakeQ = EqualQuantilesUs(std::move(st.wakeLateNs), 1000);    // the body: stalls apart
    json serviceQ = EqualQuantilesUs(std::move(st.serviceNs), 1000);
    json preempt = PreemptionsJson(std::move(st.stolenNs), st.busyNs);
    auto mean = [](int64_t total, uint64_t n) { return n ? json(static_cast<double>(total) / n) : json(nullptr); };
    return {{"reads", st.reads},
            {"read_bytes", st.readBytes},
            {"read_ns_mean", mean(st.readNsTotal, st.reads)},
            {"untracked", st.untracked},
            {"writes", st.writes},
            {"write_bytes", st.writeBytes},
            {"write_ns_mean", mean(st.writeNsTotal, st.writes)},
            {"write_errors", st.writeErrors},
            {"delay_line_full_drops", st.lineDrops},
            {"sleeps", st.sleeps},
            {"wakeups", st.wakeups},
            {"busy_s", st.busyNs / 1e9},
            {"thread_cpu_s", st.cpuS},
            {"involuntary_context_switches", st.involuntarySwitches},
            {"realtime", st.realtime},
            {"late_us", SampleSummary(std::move(st.lateNs), 1e3, "")},
            {"late_tail_us", std::move(tail)},
            {"late_quantiles_us", std::move(lateQ)},
            {"wake_late_us", std::move(wakeSummary)},
            {"wake_late_tail_us", std::move(wakeTail)},
            {"wake_late_quantiles_us", std::move(wakeQ)},
            {"write_service_us", std::move(serviceSummary)},
            {"write_service_tail_us", std::move(serviceTail)},
            {"write_service_quantiles_us", std::move(serviceQ)},
            {"stalls", std::move(stalls)},
            {"preemptions", std::move(preempt)}};
}

/// kernel.repeats: each repeat's flows, drops, drain and check.
json
TcpRepeatsJson(const Scenario& sc, const std::vector<TcpRepeat>& reps)
{
    json out = json::array();
    for (size_t k = 0; k < reps.size(); ++k)
    {
        const TcpRepeat& r = reps[k];
        json fl = json::array();
        for (size_t i = 0; i < r.flows.size(); ++i)
        {
            const TcpInfoSample& e = r.flows[i].infoEnd;
            fl.push_back({{"index", i},
                          {"goodput_mbps", GoodputMbps(sc, i, r.flows[i], 1)},
                          {"data_segs_out", e.dataSegsOut},
                          {"data_segs_written_into_tun1", r.paths[i].fwdDataWritten},
                          {"retransmits", e.totalRetrans},
                          {"cwnd_end_segments", e.cwnd},
                          {"ssthresh_end_segments", e.ssthresh},
                          {"srtt_end_ms", e.rttUs / 1e3},
                          {"rwnd_limited_us", e.rwndLimitedUs},
                          {"sndbuf_limited_us", e.sndbufLimitedUs},
                          {"busy_us", e.busyUs},
                          {"connect_ms", r.flows[i].connectMs}});
        }
        out.push_back({{"repeat", k + 1},
                       {"flows", fl},
                       {"tx_dropped", r.tun0.txDropped},
                       {"qdisc_dropped", r.tun0.haveTc ? json(r.tun0.tc.dropped) : json(nullptr)},
                       {"qdisc_requeues", r.tun0.haveTc ? json(r.tun0.tc.requeues) : json(nullptr)},
                       {"drain_s", r.drainS},
                       {"reader_busy_s", r.reader.busyNs / 1e9},
                       {"reader_thread_cpu_s", r.reader.cpuS},
                       {"wall_s", r.wallS},
                       {"tcp_mib_client", r.clientMib},
                       {"tcp_mib_server", r.serverMib},
                       {"cross_check", CheckTcp(r).ToJson(r)}});
    }
    return out;
}

/// What only the TCP twin reports (docs/kernel.md, "The TCP twin").
json
TcpKernelBlock(const Scenario& sc, const std::vector<TcpRepeat>& reps, const TcpPooled& p, const Setup& setup,
               const std::string& policy, const TcpCheck& total, bool allOk)
{
    const TcpRepeat& t = p.tot;
    json k = KernelBlockBase(sc, setup, policy, reps.size());
    k["twin"] = {{"server_namespace", setup.serverNsName},
                 {"server_device", kServerDevice},
                 {"server_txqueuelen", kServerTxQueueLen},
                 {"server_qdisc", "pfifo_fast"},
                 {"delay_line", {{"rate_mbps", sc.underlay.rateMbps},
                                 {"delay_ms", sc.underlay.delayMs},
                                 {"wire_overhead_bytes", EncapOverhead(sc.reader) + 28},
                                 {"capacity_packets", kLineCapacity}}}};
    k["sysctls"] = setup.sysctls;
    k["available_congestion_control"] = AvailableCongestionControls();
    k["repeats"] = TcpRepeatsJson(sc, reps);
    json cross = total.ToJson(t);
    cross["ok"] = allOk;
    k["cross_check"] = cross;
    k["reader"] = EndJson(t.reader);
    k["far_end"] = EndJson(t.farEnd);
    k["delay_lines"] = {
        {"forward", {{"max_depth", t.fwdLineMax}, {"drops", t.fwdLineDrops}, {"left", t.fwdLineLeft}}},
        {"reverse", {{"max_depth", t.revLineMax}, {"drops", t.revLineDrops}, {"left", t.revLineLeft}}}};
    const DeviceCounters& s = t.tun1;
    k["server_device_counters"] = {{"tx_packets", s.txPackets}, {"tx_dropped", s.txDropped},
                                   {"rx_packets", s.rxPackets}, {"rx_dropped", s.rxDropped},
                                   {"qdisc_sent", s.tc.sentPackets}, {"qdisc_dropped", s.tc.dropped},
                                   {"qdisc_requeues", s.tc.requeues}, {"qdisc_backlog", s.tc.backlogPackets}};
    k["drain_s_max"] = t.drainS;
    k["not_applicable"] = NotApplicableTcp();
    const double busyS = t.reader.busyNs / 1e9;
    if (busyS > 0 && t.reader.cpuS < 0.9 * busyS)
    {
        std::ostringstream w;
        w << std::fixed << std::setprecision(2) << "the reader's thread ran " << t.reader.cpuS << " s on its CPU for "
          << busyS << " s of busy time in the window (" << t.reader.involuntarySwitches
          << " involuntary context switches): other processes took its CPU, so it read less than the scenario's "
             "costs allow (the machine was not quiet)";
        k["warnings"].push_back(w.str());
    }
    return k;
}

std::string
TcpSummary(const Scenario& sc, const RunResult& r, const json& probe, const TcpCheck& total, bool allOk)
{
    const json& k = r.kernel;
    std::ostringstream s;
    s << std::fixed << std::setprecision(2);
    s << "tunsim kernel  " << k["uname"]["sysname"].get<std::string>() << " "
      << k["uname"]["release"].get<std::string>() << "  behaves as \"" << r.tun.policy << "\" (probe: tx_dropped "
      << probe["tx_dropped"] << " of " << probe["burst_packets"] << ")\n";
    s << "  scenario " << sc.name << "  ring " << sc.tun.ringSize << "  qdisc " << NameOf(sc.qdisc.kind)
      << "  repeats " << k["repeat"] << "  TCP twin: " << sc.underlay.delayMs << " ms each way, underlay "
      << sc.underlay.rateMbps << " Mbit/s\n";
    for (const FlowResult& f : r.flows)
    {
        const json& g = f.backend["goodput_mbps_over_repeats"];
        const json& e = f.backend["tcp_info_end"];
        s << "  flow " << f.index << " tcp/" << f.tcp->cc << ": goodput " << f.goodputMbps << " Mbit/s";
        if (k["repeat"] > 1)
        {
            s << " (per repeat " << g["mean"].get<double>() << " +- " << g["stddev"].get<double>() << ")";
        }
        s << "  data segs " << f.sentPackets << "  dropped " << f.droppedPackets << " (" << 100.0 * f.lossRatio
          << " %)  retransmits " << f.tcp->retransmits << "\n    end: cwnd " << (e.is_null() ? json(0) : e["snd_cwnd"])
          << " ssthresh " << (e.is_null() ? json(0) : e["snd_ssthresh"]) << " segs  srtt " << f.tcp->srttEndMs
          << " ms  min rtt " << f.tcp->rttMinMs << " ms  ACKs " << f.tcp->ackPacketsSent << " -> "
          << f.tcp->ackPacketsDelivered << "\n";
    }
    s << "  " << kDevice << ": tx_packets " << r.tun.txPackets << "  tx_dropped " << r.tun.txDropped;
    if (const auto& c = r.qdisc.counters)
    {
        s << "  qdisc sent " << c->sentPackets << " dropped " << c->droppedPackets << " requeues " << c->requeues
          << " backlog " << c->backlogPacketsEnd;
    }
    s << "\n  reader: reads " << r.reader.reads << "  writes " << k["reader"]["writes"] << " (write() mean "
      << std::setprecision(1) << k["reader"]["write_ns_mean"].get<double>() / 1e3 << " us)  busy "
      << 100.0 * r.reader.busyFraction << " %  sleeps " << r.reader.sleeps << "  wake-ups " << r.reader.wakeups
      << "\n";
    s << "  books: forward " << (total.forward.ok ? "ok" : "MISMATCH") << " (sent " << total.forward.sent
      << " = delivered " << total.forward.delivered << " + dropped " << total.forward.dropped << " + queued "
      << total.forward.stillQueued << "), reverse " << (total.reverse.ok ? "ok" : "MISMATCH") << "; cross-check "
      << (allOk ? "ok" : "MISMATCH") << (total.drained ? "" : " (the path never went quiet)") << "\n";
    for (const auto& w : k["warnings"])
    {
        s << "  note: " << w.get<std::string>() << "\n";
    }
    return s.str();
}

} // namespace

Assembled
AssembleTcp(const Scenario& sc, uint32_t qdiscLimit, const std::vector<TcpRepeat>& reps, const Setup& setup,
            double wallS)
{
    const size_t nf = sc.flows.size();
    TcpPooled p = PoolTcp(reps, nf);
    bool allOk = true;
    for (const TcpRepeat& rep : reps)
    {
        allOk = allOk && CheckTcp(rep).ok;
    }
    const TcpCheck total = CheckTcp(p.tot);
    const std::string policy = setup.probe.value("verdict", "unknown");

    RunResult r = NewRunResult(ScenarioToJson(sc), sc.seed);
    r.simulatedS = sc.durationS;
    r.kernel = TcpKernelBlock(sc, reps, p, setup, policy, total, allOk);
    const uint64_t deviceDrops = total.forward.dropped;
    for (size_t i = 0; i < nf; ++i)
    {
        std::vector<double> g;
        for (const TcpRepeat& rep : reps)
        {
            g.push_back(GoodputMbps(sc, i, rep.flows[i], 1));
        }
        r.flows.push_back(TcpFlowOf(sc, i, p, reps.size(), OverRepeats(i, g), nf == 1 ? deviceDrops : 0));
        r.simulatedPackets += r.flows.back().sentPackets;
    }
    json over = json::array();
    for (const FlowResult& f : r.flows)
    {
        over.push_back(f.backend["goodput_mbps_over_repeats"]);
    }
    r.kernel["goodput_mbps_over_repeats"] = over;
    r.tun = TunOf(sc, p.tot.tun0, policy);
    r.qdisc = QdiscOf(sc, qdiscLimit, p.tot.tun0);
    const EndStats& rs = p.tot.reader;
    r.reader = ReaderBlock(sc, rs.reads, rs.readBytes, rs.sleeps, rs.wakeups, rs.busyNs, sc.durationS * reps.size());
    r.conservation.forward = total.forward;
    r.conservation.reverse = total.reverse;
    r.conservation.untrackedPackets = p.tot.reader.untracked + p.tot.farEnd.untracked;
    r.conservation.ok = total.forward.ok && total.reverse.ok;
    r.wall.seconds = wallS;
    r.wall.simulatedPacketsPerWallS = wallS > 0 ? r.simulatedPackets / wallS : 0.0;

    Assembled a;
    a.crossOk = allOk && r.conservation.ok;
    a.summary = TcpSummary(sc, r, setup.probe, total, allOk);
    a.result = std::move(r);
    return a;
}

} // namespace kernel
} // namespace tunsim
