// The repeats pooled into result.json (see assemble.h).
#include "assemble.h"

#include "measure.h"
#include "support.h"

#include "ptr-ring.h"
#include "tunsim-version.h"

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

namespace
{

json
DelayJson(std::vector<int64_t>& v)
{
    if (v.empty())
    {
        return {{"samples", 0}, {"p50_ms", 0.0}, {"p99_ms", 0.0}, {"max_ms", 0.0}, {"mean_ms", 0.0}};
    }
    long double sum = 0;
    int64_t mx = 0;
    for (auto x : v)
    {
        sum += x;
        mx = std::max(mx, x);
    }
    double p50 = Quantile(v, 0.5);
    double p99 = Quantile(v, 0.99);
    return {{"samples", v.size()},
            {"p50_ms", p50 / 1e6},
            {"p99_ms", p99 / 1e6},
            {"max_ms", mx / 1e6},
            {"mean_ms", static_cast<double>(sum / v.size()) / 1e6}};
}

} // namespace

Assembled
Assemble(const Scenario& sc, uint32_t qdiscLimit, std::vector<Repeat>& reps, const json& probe,
         const json& calibration, const std::string& nsName, double wallS)
{
    const size_t nf = sc.flows.size();
    const size_t nr = reps.size();
    const bool detectedDrop = probe.value("verdict", "") == "drop";

    // pooled counters
    Repeat tot;
    tot.flows.resize(nf);
    std::vector<SendProfile> sendProfiles(nf);
    for (auto& r : reps)
    {
        for (size_t i = 0; i < nf; ++i)
        {
            sendProfiles[i].Add(r.flows[i]);
        }
        for (size_t i = 0; i < nf; ++i)
        {
            FlowStats& a = tot.flows[i];
            FlowStats& b = r.flows[i];
            a.sent += b.sent;
            a.sentBytes += b.sentBytes;
            a.sendErrors += b.sendErrors;
            a.generated += b.generated;
            a.sendNsTotal += b.sendNsTotal;
            a.sndbuf = b.sndbuf;
            a.received += b.received;
            a.receivedBytes += b.receivedBytes;
            a.gaps += b.gaps;
            a.reordered += b.reordered;
            a.delayNs.insert(a.delayNs.end(), b.delayNs.begin(), b.delayNs.end());
        }
        tot.reader.packetsRead += r.reader.packetsRead;
        tot.reader.bytesRead += r.reader.bytesRead;
        tot.reader.untracked += r.reader.untracked;
        tot.reader.sleeps += r.reader.sleeps;
        tot.reader.busyNs += r.reader.busyNs;
        tot.reader.readNsTotal += r.reader.readNsTotal;
        tot.reader.wakeNs.insert(tot.reader.wakeNs.end(), r.reader.wakeNs.begin(), r.reader.wakeNs.end());
        tot.reader.sleepWakeNs.insert(tot.reader.sleepWakeNs.end(), r.reader.sleepWakeNs.begin(),
                                      r.reader.sleepWakeNs.end());
        tot.txPackets += r.txPackets;
        tot.txBytes += r.txBytes;
        tot.txDropped += r.txDropped;
        tot.rxPackets += r.rxPackets;
        tot.txQueueLen = r.txQueueLen;
        tot.haveTc = r.haveTc;
        tot.tc.kind = r.tc.kind;
        tot.tc.sentPackets += r.tc.sentPackets;
        tot.tc.sentBytes += r.tc.sentBytes;
        tot.tc.dropped += r.tc.dropped;
        tot.tc.requeues += r.tc.requeues;
        tot.tc.overlimits += r.tc.overlimits;
        tot.tc.backlogPackets += r.tc.backlogPackets;
        tot.tc.backlogBytes += r.tc.backlogBytes;
        tot.drainS = std::max(tot.drainS, r.drainS);
    }
    const double windowS = sc.durationS * nr;

    // per-repeat cross-check and figures
    json repeats = json::array();
    bool allOk = true;
    std::vector<std::vector<double>> lossPerFlow(nf);
    auto crossCheck = [&](const Repeat& r) {
        uint64_t sent = 0, received = 0, seqLost = 0;
        for (const auto& f : r.flows)
        {
            sent += f.sent;
            received += f.received;
            seqLost += f.sent - std::min(f.sent, f.received);
        }
        uint64_t qdrop = r.haveTc ? r.tc.dropped : 0;
        uint64_t qbacklog = r.haveTc ? r.tc.backlogPackets : 0;
        // Entries still in the ring: what the qdisc handed to tun_net_xmit()
        // minus what tun dropped and what the reader read.
        int64_t ring = r.haveTc ? static_cast<int64_t>(r.tc.sentPackets) - static_cast<int64_t>(r.txDropped) -
                                      static_cast<int64_t>(r.txPackets)
                                : 0;
        uint64_t dropped = r.txDropped + qdrop;
        bool sumOk = sent + r.reader.untracked == received + r.reader.untracked + dropped + qbacklog +
                                                     static_cast<uint64_t>(std::max<int64_t>(ring, 0)) &&
                     ring >= 0;
        bool readOk = r.txPackets == r.reader.packetsRead;
        bool seqOk = seqLost == dropped;
        json j = {{"app_sent", sent},
                  {"reader_received", received},
                  {"reader_untracked", r.reader.untracked},
                  {"reader_seq_lost", seqLost},
                  {"sysfs_tx_packets", r.txPackets},
                  {"sysfs_tx_dropped", r.txDropped},
                  {"tc_sent_packets", r.haveTc ? json(r.tc.sentPackets) : json(nullptr)},
                  {"tc_dropped", r.haveTc ? json(qdrop) : json(nullptr)},
                  {"tc_backlog_packets", r.haveTc ? json(qbacklog) : json(nullptr)},
                  {"ring_entries_left", r.haveTc ? json(ring) : json(nullptr)},
                  {"sent_eq_received_plus_drops_plus_queued", sumOk},
                  {"tx_packets_eq_reader_reads", readOk},
                  {"seq_lost_eq_kernel_drops", seqOk},
                  {"ok", sumOk && readOk && seqOk}};
        return j;
    };
    for (size_t k = 0; k < nr; ++k)
    {
        Repeat& r = reps[k];
        json cc = crossCheck(r);
        allOk = allOk && cc["ok"].get<bool>();
        json fl = json::array();
        for (size_t i = 0; i < nf; ++i)
        {
            const FlowStats& f = r.flows[i];
            double loss = f.sent ? static_cast<double>(f.sent - std::min(f.sent, f.received)) / f.sent : 0.0;
            lossPerFlow[i].push_back(loss);
            fl.push_back({{"index", i},
                          {"sent_packets", f.sent},
                          {"delivered_packets", f.received},
                          {"loss_ratio", loss},
                          {"send_ns_mean", f.sent ? json(static_cast<double>(f.sendNsTotal) / f.sent) : json(nullptr)}});
        }
        repeats.push_back({{"repeat", k + 1},
                           {"flows", fl},
                           {"tx_dropped", r.txDropped},
                           {"qdisc_dropped", r.haveTc ? json(r.tc.dropped) : json(nullptr)},
                           {"drain_s", r.drainS},
                           {"wall_s", r.wallS},
                           {"cross_check", cc}});
    }
    json lossStats = json::array();
    for (size_t i = 0; i < nf; ++i)
    {
        const auto& v = lossPerFlow[i];
        lossStats.push_back({{"index", i},
                             {"n", v.size()},
                             {"mean", Mean(v)},
                             {"stddev", Stddev(v)},
                             {"min", *std::min_element(v.begin(), v.end())},
                             {"max", *std::max_element(v.begin(), v.end())}});
    }
    json crossTotal = crossCheck(tot);
    crossTotal["ok"] = allOk;

    // flows
    json flows = json::array();
    uint64_t totalSent = 0;
    uint64_t totalDelivered = 0;
    for (size_t i = 0; i < nf; ++i)
    {
        const FlowConfig& fc = sc.flows[i];
        FlowStats& f = tot.flows[i];
        const double stopS = fc.stopS < 0 ? sc.durationS : std::min(fc.stopS, sc.durationS);
        const double active = (stopS - fc.startS) * nr;
        const double act = active > 0 ? active : 1.0;
        uint64_t dropped = f.sent - std::min(f.sent, f.received);
        totalSent += f.sent;
        totalDelivered += f.received;
        json j;
        j["index"] = i;
        j["kind"] = NameOf(fc.kind);
        j["mode"] = NameOf(fc.mode);
        j["active_s"] = stopS - fc.startS;
        j["sent_packets"] = f.sent;
        j["delivered_packets"] = f.received;
        j["dropped_packets"] = dropped;
        j["in_flight_packets"] = 0;
        j["loss_ratio"] = f.sent ? static_cast<double>(dropped) / f.sent : 0.0;
        j["goodput_mbps"] = f.receivedBytes * 8.0 / act / 1e6;
        j["delay"] = DelayJson(f.delayNs);
        j["app_sent_datagrams"] = f.sent;
        j["app_received_datagrams"] = f.received;
        j["app_backlog_datagrams"] = fc.mode == UdpMode::Flood ? 0 : (f.generated > f.sent + f.sendErrors ? f.generated - f.sent - f.sendErrors : 0);
        j["reordered_datagrams"] = f.reordered;
        j["sent_mbps"] = f.sentBytes * 8.0 / act / 1e6;
        j["socket"] = {{"sndbuf_bytes", f.sndbuf}, {"wmem_max_bytes", nullptr}, {"blocked_count", nullptr},
                       {"blocked_s", nullptr}};
        j["kernel"] = {{"send_errors", f.sendErrors},
                       {"send_ns_mean", f.sent ? json(static_cast<double>(f.sendNsTotal) / f.sent) : json(nullptr)},
                       {"seq_gaps", f.gaps},
                       {"seq_tail_lost", dropped >= f.gaps ? dropped - f.gaps : 0},
                       {"loss_ratio_over_repeats", lossStats[i]},
                       {"send_ns_profile", sendProfiles[i].ToJson()}};
        flows.push_back(j);
    }

    // tun
    json tunJ;
    tunJ["policy"] = detectedDrop ? "drop" : probe.value("verdict", "unknown");
    tunJ["tx_queue_len"] = tot.txQueueLen;
    tunJ["ring_size"] = tot.txQueueLen;
    tunJ["ring_batch"] = PtrRingBatchFor(static_cast<uint32_t>(tot.txQueueLen));
    tunJ["has_qdisc"] = sc.qdisc.kind != QdiscKind::Noqueue;
    tunJ["tx_packets"] = tot.txPackets;
    tunJ["tx_bytes"] = tot.txBytes;
    tunJ["tx_dropped"] = tot.txDropped;
    tunJ["drop_reasons"] = nullptr;
    tunJ["rx_packets"] = tot.rxPackets;
    tunJ["xmit_calls"] = nullptr;
    if (detectedDrop)
    {
        // Mainline tun never stops its tx queue: these follow from the source.
        tunJ["txq"] = {{"stop_count", 0}, {"wake_count", 0}, {"stopped_s", 0.0}, {"stopped_fraction", 0.0},
                       {"stopped_at_end", false}, {"softirq_runs", nullptr}};
    }
    else
    {
        tunJ["txq"] = {{"stop_count", nullptr}, {"wake_count", nullptr}, {"stopped_s", nullptr},
                       {"stopped_fraction", nullptr}, {"stopped_at_end", nullptr}, {"softirq_runs", nullptr}};
    }
    tunJ["ring_occupancy"] = {{"mean", nullptr}, {"max", nullptr}, {"end", crossTotal["ring_entries_left"]}};

    // qdisc
    json qd;
    qd["kind"] = NameOf(sc.qdisc.kind);
    if (sc.qdisc.kind == QdiscKind::Noqueue)
    {
        qd["limit_packets"] = nullptr;
    }
    else
    {
        qd["limit_packets"] = qdiscLimit;
        qd["sent_packets"] = tot.tc.sentPackets;
        qd["dropped_packets"] = tot.tc.dropped;
        qd["received_packets"] = tot.tc.sentPackets + tot.tc.dropped + tot.tc.backlogPackets;
        qd["drop_reasons"] = nullptr;
        qd["requeues"] = tot.tc.requeues;
        qd["backlog_packets_end"] = tot.tc.backlogPackets;
        qd["backlog_packets_max"] = nullptr;
        qd["backlog_packets_mean"] = nullptr;
    }

    // reader
    json rd;
    rd["packets_read"] = tot.reader.packetsRead;
    rd["bytes_read"] = tot.reader.bytesRead;
    rd["reads"] = tot.reader.packetsRead;
    rd["sleeps"] = tot.reader.sleeps;
    rd["wakeups"] = tot.reader.wakeNs.size();
    if (sc.reader.deepIdleAfterUs > 0)
    {
        uint64_t deep = 0;
        for (const auto& [sl, wk] : tot.reader.sleepWakeNs)
        {
            deep += sl >= static_cast<int64_t>(sc.reader.deepIdleAfterUs * 1e3) ? 1 : 0;
        }
        rd["deep_wakeups"] = deep;
    }
    else
    {
        rd["deep_wakeups"] = nullptr;
    }
    rd["sndbuf_blocks"] = nullptr;
    rd["busy_fraction"] = windowS > 0 ? tot.reader.busyNs / 1e9 / windowS : 0.0;
    rd["softirq_stolen_s"] = nullptr;
    rd["capacity_pps_at_mean_size"] =
        tot.reader.packetsRead && (sc.reader.perPacketNs > 0 || sc.reader.nsPerByte > 0)
            ? json(1e9 / (sc.reader.perPacketNs +
                          sc.reader.nsPerByte * static_cast<double>(tot.reader.bytesRead) / tot.reader.packetsRead))
            : json(nullptr);
    rd["socket"] = {{"sndbuf_bytes", nullptr}, {"wmem_max_bytes", nullptr}, {"blocked_count", nullptr},
                    {"blocked_s", nullptr}};

    // conservation (forward: what the kernel's own counters say)
    uint64_t dropped = tot.txDropped + (tot.haveTc ? tot.tc.dropped : 0);
    uint64_t qback = tot.haveTc ? tot.tc.backlogPackets : 0;
    int64_t ringLeft = crossTotal["ring_entries_left"].is_null() ? 0 : crossTotal["ring_entries_left"].get<int64_t>();
    json byPlace = json::object();
    if (tot.txDropped)
    {
        byPlace["tun0_ring/tx_dropped"] = tot.txDropped;
    }
    if (tot.haveTc && tot.tc.dropped)
    {
        byPlace["tun0_qdisc/dropped"] = tot.tc.dropped;
    }
    uint64_t stillQueued = qback + static_cast<uint64_t>(std::max<int64_t>(ringLeft, 0));
    json fwd = {{"sent", totalSent + tot.reader.untracked},
                {"delivered", totalDelivered + tot.reader.untracked},
                {"dropped", dropped},
                {"dropped_by_place", byPlace},
                {"still_queued", stillQueued},
                {"still_queued_by_place",
                 {{"tun0_qdisc", qback}, {"tun0_ring", std::max<int64_t>(ringLeft, 0)}, {"vpn_reader", 0}}},
                {"ok", totalSent + tot.reader.untracked == totalDelivered + tot.reader.untracked + dropped + stillQueued}};
    json rev = {{"sent", 0}, {"delivered", 0}, {"dropped", 0}, {"dropped_by_place", json::object()},
                {"still_queued", 0}, {"still_queued_by_place", json::object()}, {"ok", true}};
    bool consOk = fwd["ok"].get<bool>();
    json cons = {{"forward", fwd}, {"reverse", rev}, {"untracked_packets", tot.reader.untracked}, {"ok", consOk}};

    utsname u;
    uname(&u);
    json warnings = json::array();
    if (sc.tun.policy != "drop" && sc.tun.policy != tunJ["policy"].get<std::string>())
    {
        warnings.push_back("tun.policy \"" + sc.tun.policy +
                           "\" cannot be chosen on a live kernel; this kernel behaves as \"" +
                           tunJ["policy"].get<std::string>() + "\"");
    }
    if (sc.reader.batch != 1)
    {
        warnings.push_back("reader.batch " + std::to_string(sc.reader.batch) +
                           " not applicable: a tun read() returns one packet");
    }
    double readFloor = calibration["reader_read_ns"]["mean_ns"].is_number()
                           ? calibration["reader_read_ns"]["mean_ns"].get<double>()
                           : 0.0;
    if (sc.reader.perPacketNs + sc.reader.nsPerByte * 28 < readFloor)
    {
        std::ostringstream w;
        w << "reader.per_packet_ns " << sc.reader.perPacketNs << " is below the measured read() cost "
          << std::fixed << std::setprecision(0) << readFloor << " ns: the kernel reader is slower than the scenario's";
        warnings.push_back(w.str());
    }

    json kernelJ;
    kernelJ["uname"] = {{"sysname", u.sysname}, {"release", u.release}, {"version", u.version}, {"machine", u.machine}};
    kernelJ["policy"] = tunJ["policy"];
    kernelJ["policy_probe"] = probe;
    kernelJ["requested_policy"] = sc.tun.policy;
    kernelJ["namespace"] = nsName;
    kernelJ["device"] = kDevice;
    kernelJ["cpus"] = std::thread::hardware_concurrency();
    kernelJ["calibration"] = calibration;
    kernelJ["repeat"] = nr;
    kernelJ["repeats"] = repeats;
    kernelJ["loss_ratio"] = lossStats;
    kernelJ["cross_check"] = crossTotal;
    kernelJ["reader_wakeup_by_sleep"] = WakeBySleepJson(tot.reader.sleepWakeNs);
    {
        // Send -> read() returned, for the first datagram after the reader slept
        // in poll(): the reader's wake-up latency plus one send().
        auto& w = tot.reader.wakeNs;
        double sum = 0;
        for (auto x : w)
        {
            sum += static_cast<double>(x);
        }
        kernelJ["reader_wakeup_us"] =
            w.empty() ? json(nullptr)
                      : json({{"samples", w.size()}, {"mean", sum / w.size() / 1e3}, {"p50", Quantile(w, 0.5) / 1e3},
                              {"p90", Quantile(w, 0.9) / 1e3}});
    }
    kernelJ["reader_read_ns_mean"] =
        tot.reader.packetsRead ? json(static_cast<double>(tot.reader.readNsTotal) / tot.reader.packetsRead) : json(nullptr);
    kernelJ["drain_s_max"] = tot.drainS;
    kernelJ["warnings"] = warnings;
    kernelJ["not_applicable"] = NotApplicable();

    json out;
    out["tunsim"] = {{"version", TUNSIM_VERSION}, {"git", TUNSIM_GIT_REV}, {"ns3", "3.37"}};
    out["scenario"] = ScenarioToJson(sc);
    out["seed"] = sc.seed;
    out["simulated_s"] = sc.durationS;
    out["flows"] = flows;
    out["tun"] = tunJ;
    out["qdisc"] = qd;
    out["reader"] = rd;
    out["underlay"] = {{"client_qdisc_drops", nullptr}, {"server_qdisc_drops", nullptr}};
    out["conservation"] = cons;
    out["simulated_packets"] = totalSent;
    out["simulator_events"] = nullptr;
    out["wall"] = {{"seconds", wallS},
                   {"simulated_packets_per_wall_s", wallS > 0 ? totalSent / wallS : 0.0},
                   {"events_per_wall_s", nullptr}};
    out["kernel"] = kernelJ;

    std::ostringstream s;
    s << std::fixed << std::setprecision(2);
    s << "tunsim kernel  " << u.sysname << " " << u.release << "  behaves as \"" << tunJ["policy"].get<std::string>()
      << "\" (probe: txqueuelen " << probe["txqueuelen"] << ", burst " << probe["burst_packets"] << " -> tx_dropped "
      << probe["tx_dropped"] << ", qdisc backlog " << probe["qdisc_backlog_packets"] << ")\n";
    s << "  scenario " << sc.name << "  ring " << sc.tun.ringSize << "  qdisc " << NameOf(sc.qdisc.kind) << "  repeats "
      << nr << "\n";
    for (size_t i = 0; i < nf; ++i)
    {
        const json& f = flows[i];
        s << "  flow " << i << " udp/" << NameOf(sc.flows[i].mode) << ": sent " << f["sent_packets"].get<uint64_t>()
          << "  delivered " << f["delivered_packets"].get<uint64_t>() << "  dropped "
          << f["dropped_packets"].get<uint64_t>() << " (" << 100.0 * f["loss_ratio"].get<double>() << " %";
        if (nr > 1)
        {
            s << "; per repeat " << 100.0 * lossStats[i]["mean"].get<double>() << " +- "
              << 100.0 * lossStats[i]["stddev"].get<double>();
        }
        s << ")  goodput " << f["goodput_mbps"].get<double>() << " Mbit/s  delay p50 "
          << f["delay"]["p50_ms"].get<double>() << " ms p99 " << f["delay"]["p99_ms"].get<double>() << " ms\n";
    }
    s << "  tun0: tx_packets " << tot.txPackets << "  tx_dropped " << tot.txDropped;
    if (tot.haveTc)
    {
        s << "  qdisc sent " << tot.tc.sentPackets << " dropped " << tot.tc.dropped << " backlog "
          << tot.tc.backlogPackets << " requeues " << tot.tc.requeues;
    }
    s << "\n  cross-check: " << (allOk ? "ok" : "MISMATCH") << " (sent " << crossTotal["app_sent"]
      << " = received " << crossTotal["reader_received"] << " + tun tx_dropped " << tot.txDropped
      << " + qdisc drops " << (tot.haveTc ? tot.tc.dropped : 0) << " + queued " << stillQueued
      << "; seq-gap loss " << crossTotal["reader_seq_lost"] << ")\n";
    for (const auto& w : warnings)
    {
        s << "  note: " << w.get<std::string>() << "\n";
    }

    Assembled a;
    a.result = std::move(out);
    a.crossOk = allOk && consOk;
    a.summary = s.str();
    return a;
}

} // namespace kernel
} // namespace tunsim
