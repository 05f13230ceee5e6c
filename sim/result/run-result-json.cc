// RunResult <-> result.json (docs/results.md). One function per block, the
// writer and the reader side by side so that a field is added to both at once.
#include "run-result.h"

#include "common/bounded-input.h"
#include "common/errors.h"
#include "result-writer.h"

#include <filesystem>

namespace tunsim
{

using nlohmann::json;

void
DirectionBooks::Close()
{
    stillQueued = 0;
    for (const auto& [place, n] : stillQueuedByPlace)
    {
        stillQueued += n;
    }
    ok = sent == delivered + dropped + stillQueued;
}

namespace
{

/// Bounds of a result file read back (tunsim's own are far below both).
constexpr size_t kMaxResultBytes = 256u << 20;
constexpr size_t kMaxResultDepth = 64;

template <typename T>
json
Opt(const std::optional<T>& v)
{
    return v ? json(*v) : json(nullptr);
}

/// Reading one object of a result, with the path of each field for errors.
class In
{
  public:
    In(const json& j, std::string path)
        : m_j(j),
          m_path(std::move(path))
    {
        if (!j.is_object())
        {
            throw ResultFormatError(Where() + "must be an object");
        }
    }

    bool Has(const char* key) const { return m_j.contains(key) && !m_j.at(key).is_null(); }

    template <typename T>
    T Req(const char* key) const
    {
        if (!m_j.contains(key))
        {
            throw ResultFormatError(Path(key) + ": missing");
        }
        return As<T>(m_j.at(key), key);
    }

    /// Missing or null: nullopt.
    template <typename T>
    std::optional<T> Opt(const char* key) const
    {
        if (!Has(key))
        {
            return std::nullopt;
        }
        return As<T>(m_j.at(key), key);
    }

    In Sub(const char* key) const
    {
        if (!m_j.contains(key))
        {
            throw ResultFormatError(Path(key) + ": missing");
        }
        return In(m_j.at(key), Path(key));
    }

    const json& Raw(const char* key) const
    {
        static const json kNull;
        return m_j.contains(key) ? m_j.at(key) : kNull;
    }

    std::string Path(const char* key) const { return m_path.empty() ? key : m_path + "." + key; }

  private:
    std::string Where() const { return m_path.empty() ? "" : m_path + ": "; }

    template <typename T>
    T As(const json& v, const char* key) const
    {
        try
        {
            if constexpr (std::is_unsigned_v<T> && !std::is_same_v<T, bool>)
            {
                if (!v.is_number_integer() || (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0))
                {
                    throw ResultFormatError(Path(key) + ": must be a non-negative integer");
                }
            }
            return v.get<T>();
        }
        catch (const json::exception& e)
        {
            throw ResultFormatError(Path(key) + ": " + e.what());
        }
    }

    const json& m_j;
    std::string m_path;
};

// ------------------------------------------------------------------ flows

json
DelayJson(const DelayResult& d)
{
    json j = {{"samples", d.samples}, {"p50_ms", d.p50Ms}, {"p99_ms", d.p99Ms}, {"max_ms", d.maxMs}, {"mean_ms", d.meanMs}};
    if (d.histogram)
    {
        j["histogram"] = {{"upper_edge_ms", d.histogram->upperEdgeMs}, {"count", d.histogram->count}};
    }
    return j;
}

DelayResult
ReadDelay(const In& in)
{
    DelayResult d;
    d.samples = in.Req<uint64_t>("samples");
    d.p50Ms = in.Req<double>("p50_ms");
    d.p99Ms = in.Req<double>("p99_ms");
    d.maxMs = in.Req<double>("max_ms");
    d.meanMs = in.Req<double>("mean_ms");
    if (in.Has("histogram"))
    {
        In h = in.Sub("histogram");
        d.histogram = DelayResult::Histogram{h.Req<std::vector<double>>("upper_edge_ms"),
                                             h.Req<std::vector<uint64_t>>("count")};
    }
    return d;
}

json
SocketJson(const SocketResult& s)
{
    return {{"sndbuf_bytes", Opt(s.sndbufBytes)},
            {"wmem_max_bytes", Opt(s.wmemMaxBytes)},
            {"blocked_count", Opt(s.blockedCount)},
            {"blocked_s", Opt(s.blockedS)}};
}

SocketResult
ReadSocket(const In& in)
{
    return SocketResult{in.Opt<uint64_t>("sndbuf_bytes"), in.Opt<uint64_t>("wmem_max_bytes"),
                        in.Opt<uint64_t>("blocked_count"), in.Opt<double>("blocked_s")};
}

json
FlowJson(const FlowResult& f)
{
    json j;
    j["index"] = f.index;
    j["kind"] = f.kind;
    j["active_s"] = f.activeS;
    j["sent_packets"] = f.sentPackets;
    j["delivered_packets"] = f.deliveredPackets;
    j["dropped_packets"] = f.droppedPackets;
    j["in_flight_packets"] = f.inFlightPackets;
    j["loss_ratio"] = f.lossRatio;
    j["goodput_mbps"] = f.goodputMbps;
    j["delay"] = DelayJson(f.delay);
    if (f.udp)
    {
        j["mode"] = f.udp->mode;
        j["app_sent_datagrams"] = f.udp->appSentDatagrams;
        j["app_received_datagrams"] = f.udp->appReceivedDatagrams;
        j["app_backlog_datagrams"] = f.udp->appBacklogDatagrams;
        j["reordered_datagrams"] = f.udp->reorderedDatagrams;
        j["sent_mbps"] = f.udp->sentMbps;
    }
    if (f.video)
    {
        j["frames_judged"] = f.video->framesJudged;
        j["frames_lost"] = f.video->framesLost;
        j["frame_loss_ratio"] = f.video->frameLossRatio;
    }
    if (f.tcp)
    {
        j["cc"] = f.tcp->cc;
        j["received_bytes"] = f.tcp->receivedBytes;
        j["retransmits"] = f.tcp->retransmits;
        j["cwnd_end_bytes"] = f.tcp->cwndEndBytes;
        j["srtt_end_ms"] = f.tcp->srttEndMs;
        j["rtt_last_sample_ms"] = f.tcp->rttLastSampleMs;
        j["rtt_min_ms"] = f.tcp->rttMinMs;
        j["ack_packets_sent"] = f.tcp->ackPacketsSent;
        j["ack_packets_delivered"] = f.tcp->ackPacketsDelivered;
        if (!f.tcp->caEvents.is_null())
        {
            j["ca_events"] = f.tcp->caEvents;
        }
    }
    j["socket"] = SocketJson(f.socket);
    if (!f.sender.is_null())
    {
        j["sender"] = f.sender;
    }
    if (!f.backend.is_null())
    {
        j["kernel"] = f.backend;
    }
    return j;
}

FlowResult
ReadFlow(const In& in)
{
    FlowResult f;
    f.index = in.Req<uint64_t>("index");
    f.kind = in.Req<std::string>("kind");
    f.activeS = in.Req<double>("active_s");
    f.sentPackets = in.Req<uint64_t>("sent_packets");
    f.deliveredPackets = in.Req<uint64_t>("delivered_packets");
    f.droppedPackets = in.Req<uint64_t>("dropped_packets");
    f.inFlightPackets = in.Req<uint64_t>("in_flight_packets");
    f.lossRatio = in.Req<double>("loss_ratio");
    f.goodputMbps = in.Req<double>("goodput_mbps");
    f.delay = ReadDelay(in.Sub("delay"));
    if (in.Has("mode"))
    {
        f.udp = UdpFlowResult{in.Req<std::string>("mode"),         in.Req<uint64_t>("app_sent_datagrams"),
                              in.Req<uint64_t>("app_received_datagrams"), in.Req<uint64_t>("app_backlog_datagrams"),
                              in.Req<uint64_t>("reordered_datagrams"),    in.Req<double>("sent_mbps")};
    }
    if (in.Has("frames_judged"))
    {
        f.video = VideoResult{in.Req<uint64_t>("frames_judged"), in.Req<uint64_t>("frames_lost"),
                              in.Req<double>("frame_loss_ratio")};
    }
    if (in.Has("cc"))
    {
        f.tcp = TcpFlowResult{in.Req<std::string>("cc"),          in.Req<uint64_t>("received_bytes"),
                              in.Req<uint64_t>("retransmits"),     in.Req<uint64_t>("cwnd_end_bytes"),
                              in.Req<double>("srtt_end_ms"),       in.Req<double>("rtt_last_sample_ms"),
                              in.Req<double>("rtt_min_ms"),        in.Req<uint64_t>("ack_packets_sent"),
                              in.Req<uint64_t>("ack_packets_delivered"),
                              in.Raw("ca_events")};
    }
    f.socket = ReadSocket(in.Sub("socket"));
    f.backend = in.Raw("kernel");
    f.sender = in.Raw("sender");
    return f;
}

// --------------------------------------------------------- tun and qdisc

json
TunJson(const TunResult& t)
{
    json j;
    j["policy"] = t.policy;
    j["tx_queue_len"] = t.txQueueLen;
    j["ring_size"] = t.ringSize;
    j["ring_batch"] = t.ringBatch;
    j["has_qdisc"] = t.hasQdisc;
    j["tx_packets"] = t.txPackets;
    j["tx_bytes"] = t.txBytes;
    j["tx_dropped"] = t.txDropped;
    j["drop_reasons"] = Opt(t.dropReasons);
    j["rx_packets"] = t.rxPackets;
    j["xmit_calls"] = Opt(t.xmitCalls);
    j["txq"] = {{"stop_count", Opt(t.txq.stopCount)},
                {"wake_count", Opt(t.txq.wakeCount)},
                {"stopped_s", Opt(t.txq.stoppedS)},
                {"stopped_fraction", Opt(t.txq.stoppedFraction)},
                {"stopped_at_end", Opt(t.txq.stoppedAtEnd)},
                {"softirq_runs", Opt(t.txq.softirqRuns)}};
    j["ring_occupancy"] = {{"mean", Opt(t.ringOccupancyMean)},
                           {"max", Opt(t.ringOccupancyMax)},
                           {"end", Opt(t.ringOccupancyEnd)}};
    return j;
}

TunResult
ReadTun(const In& in)
{
    TunResult t;
    t.policy = in.Req<std::string>("policy");
    t.txQueueLen = in.Req<uint64_t>("tx_queue_len");
    t.ringSize = in.Req<uint64_t>("ring_size");
    t.ringBatch = in.Req<uint64_t>("ring_batch");
    t.hasQdisc = in.Req<bool>("has_qdisc");
    t.txPackets = in.Req<uint64_t>("tx_packets");
    t.txBytes = in.Req<uint64_t>("tx_bytes");
    t.txDropped = in.Req<uint64_t>("tx_dropped");
    t.dropReasons = in.Opt<std::map<std::string, uint64_t>>("drop_reasons");
    t.rxPackets = in.Req<uint64_t>("rx_packets");
    t.xmitCalls = in.Opt<uint64_t>("xmit_calls");
    const In q = in.Sub("txq");
    t.txq = TxqResult{q.Opt<uint64_t>("stop_count"),  q.Opt<uint64_t>("wake_count"), q.Opt<double>("stopped_s"),
                      q.Opt<double>("stopped_fraction"), q.Opt<bool>("stopped_at_end"), q.Opt<uint64_t>("softirq_runs")};
    const In o = in.Sub("ring_occupancy");
    t.ringOccupancyMean = o.Opt<double>("mean");
    t.ringOccupancyMax = o.Opt<uint64_t>("max");
    t.ringOccupancyEnd = o.Opt<int64_t>("end");
    return t;
}

json
QdiscJson(const QdiscResult& q)
{
    json j;
    j["kind"] = q.kind;
    j["limit_packets"] = Opt(q.limitPackets);
    if (q.counters)
    {
        const auto& c = *q.counters;
        j["received_packets"] = c.receivedPackets;
        j["sent_packets"] = c.sentPackets;
        j["dropped_packets"] = c.droppedPackets;
        j["drop_reasons"] = Opt(c.dropReasons);
        j["requeues"] = c.requeues;
        j["backlog_packets_end"] = c.backlogPacketsEnd;
        j["backlog_packets_max"] = Opt(c.backlogPacketsMax);
        j["backlog_packets_mean"] = Opt(c.backlogPacketsMean);
    }
    return j;
}

QdiscResult
ReadQdisc(const In& in)
{
    QdiscResult q;
    q.kind = in.Req<std::string>("kind");
    q.limitPackets = in.Opt<uint64_t>("limit_packets");
    if (in.Has("sent_packets"))
    {
        q.counters = QdiscResult::Counters{in.Req<uint64_t>("received_packets"),
                                           in.Req<uint64_t>("sent_packets"),
                                           in.Req<uint64_t>("dropped_packets"),
                                           in.Opt<std::map<std::string, uint64_t>>("drop_reasons"),
                                           in.Req<uint64_t>("requeues"),
                                           in.Req<uint64_t>("backlog_packets_end"),
                                           in.Opt<uint64_t>("backlog_packets_max"),
                                           in.Opt<double>("backlog_packets_mean")};
    }
    return q;
}

// ------------------------------------------------------ reader and books

json
ReaderJson(const ReaderResult& r)
{
    return {{"packets_read", r.packetsRead},
            {"bytes_read", r.bytesRead},
            {"reads", r.reads},
            {"sleeps", r.sleeps},
            {"wakeups", r.wakeups},
            {"deep_wakeups", Opt(r.deepWakeups)},
            {"preemptions", Opt(r.preemptions)},
            {"sndbuf_blocks", Opt(r.sndbufBlocks)},
            {"busy_fraction", r.busyFraction},
            {"softirq_stolen_s", Opt(r.softirqStolenS)},
            {"capacity_pps_at_mean_size", Opt(r.capacityPpsAtMeanSize)},
            {"socket", SocketJson(r.socket)}};
}

ReaderResult
ReadReader(const In& in)
{
    ReaderResult r;
    r.packetsRead = in.Req<uint64_t>("packets_read");
    r.bytesRead = in.Req<uint64_t>("bytes_read");
    r.reads = in.Req<uint64_t>("reads");
    r.sleeps = in.Req<uint64_t>("sleeps");
    r.wakeups = in.Req<uint64_t>("wakeups");
    r.deepWakeups = in.Opt<uint64_t>("deep_wakeups");
    r.preemptions = in.Opt<uint64_t>("preemptions");
    r.sndbufBlocks = in.Opt<uint64_t>("sndbuf_blocks");
    r.busyFraction = in.Req<double>("busy_fraction");
    r.softirqStolenS = in.Opt<double>("softirq_stolen_s");
    r.capacityPpsAtMeanSize = in.Opt<double>("capacity_pps_at_mean_size");
    r.socket = ReadSocket(in.Sub("socket"));
    return r;
}

json
BooksJson(const DirectionBooks& b)
{
    return {{"sent", b.sent},
            {"delivered", b.delivered},
            {"dropped", b.dropped},
            {"dropped_by_place", b.droppedByPlace},
            {"still_queued", b.stillQueued},
            {"still_queued_by_place", b.stillQueuedByPlace},
            {"ok", b.ok}};
}

DirectionBooks
ReadBooks(const In& in)
{
    DirectionBooks b;
    b.sent = in.Req<uint64_t>("sent");
    b.delivered = in.Req<uint64_t>("delivered");
    b.dropped = in.Req<uint64_t>("dropped");
    b.droppedByPlace = in.Req<std::map<std::string, uint64_t>>("dropped_by_place");
    b.stillQueued = in.Req<uint64_t>("still_queued");
    b.stillQueuedByPlace = in.Req<std::map<std::string, uint64_t>>("still_queued_by_place");
    b.ok = in.Req<bool>("ok");
    return b;
}

} // namespace

json
ToJson(const RunResult& r)
{
    json out;
    out["tunsim"] = {{"version", r.tunsimVersion}, {"git", r.tunsimGit}, {"ns3", r.ns3Version}};
    out["scenario"] = r.scenario;
    out["seed"] = r.seed;
    out["simulated_s"] = r.simulatedS;
    json flows = json::array();
    for (const auto& f : r.flows)
    {
        flows.push_back(FlowJson(f));
    }
    out["flows"] = flows;
    out["tun"] = TunJson(r.tun);
    out["qdisc"] = QdiscJson(r.qdisc);
    out["reader"] = ReaderJson(r.reader);
    out["underlay"] = {{"client_qdisc_drops", Opt(r.underlayClientQdiscDrops)},
                       {"server_qdisc_drops", Opt(r.underlayServerQdiscDrops)}};
    out["conservation"] = {{"forward", BooksJson(r.conservation.forward)},
                           {"reverse", BooksJson(r.conservation.reverse)},
                           {"untracked_packets", r.conservation.untrackedPackets},
                           {"ok", r.conservation.ok}};
    out["simulated_packets"] = r.simulatedPackets;
    out["simulator_events"] = Opt(r.simulatorEvents);
    out["wall"] = {{"seconds", r.wall.seconds},
                   {"simulated_packets_per_wall_s", r.wall.simulatedPacketsPerWallS},
                   {"events_per_wall_s", Opt(r.wall.eventsPerWallS)},
                   {"allocator", r.wall.allocator}};
    if (!r.kernel.is_null())
    {
        out["kernel"] = r.kernel;
    }
    if (!r.host.is_null())
    {
        out["host"] = r.host;
    }
    if (r.partial)
    {
        out["partial"] = {{"reason", r.partial->reason}, {"stopped_at_s", r.partial->stoppedAtS}};
    }
    return out;
}

RunResult
RunResultFromJson(const json& j)
{
    const In in(j, "");
    RunResult r;
    const In t = in.Sub("tunsim");
    r.tunsimVersion = t.Req<std::string>("version");
    r.tunsimGit = t.Req<std::string>("git");
    r.ns3Version = t.Req<std::string>("ns3");
    r.scenario = in.Raw("scenario");
    if (!r.scenario.is_object())
    {
        throw ResultFormatError("scenario: missing");
    }
    r.seed = in.Req<uint64_t>("seed");
    r.simulatedS = in.Req<double>("simulated_s");
    const json& flows = in.Raw("flows");
    if (!flows.is_array())
    {
        throw ResultFormatError("flows: must be an array");
    }
    for (size_t i = 0; i < flows.size(); ++i)
    {
        r.flows.push_back(ReadFlow(In(flows[i], "flows[" + std::to_string(i) + "]")));
    }
    r.tun = ReadTun(in.Sub("tun"));
    r.qdisc = ReadQdisc(in.Sub("qdisc"));
    r.reader = ReadReader(in.Sub("reader"));
    const In u = in.Sub("underlay");
    r.underlayClientQdiscDrops = u.Opt<uint64_t>("client_qdisc_drops");
    r.underlayServerQdiscDrops = u.Opt<uint64_t>("server_qdisc_drops");
    const In c = in.Sub("conservation");
    r.conservation.forward = ReadBooks(c.Sub("forward"));
    r.conservation.reverse = ReadBooks(c.Sub("reverse"));
    r.conservation.untrackedPackets = c.Req<uint64_t>("untracked_packets");
    r.conservation.ok = c.Req<bool>("ok");
    r.simulatedPackets = in.Req<uint64_t>("simulated_packets");
    r.simulatorEvents = in.Opt<uint64_t>("simulator_events");
    const In w = in.Sub("wall");
    r.wall.seconds = w.Req<double>("seconds");
    r.wall.simulatedPacketsPerWallS = w.Req<double>("simulated_packets_per_wall_s");
    r.wall.eventsPerWallS = w.Opt<double>("events_per_wall_s");
    r.wall.allocator = w.Opt<std::string>("allocator").value_or("");
    r.kernel = in.Raw("kernel");
    r.host = in.Raw("host");
    if (in.Has("partial"))
    {
        const In p = in.Sub("partial");
        r.partial = PartialRun{p.Req<std::string>("reason"), p.Req<double>("stopped_at_s")};
    }
    return r;
}

void
WriteResult(const std::string& dir, const RunResult& r)
{
    WriteFileAtomically((std::filesystem::path(dir) / "result.json").string(), ToJson(r).dump(2) + "\n");
}

RunResult
ReadResultFile(const std::string& fileOrDir)
{
    std::filesystem::path p(fileOrDir);
    if (std::filesystem::is_directory(p))
    {
        p /= "result.json";
    }
    std::string text;
    try
    {
        text = ReadBoundedFile(p.string(), kMaxResultBytes);
    }
    catch (const BoundedReadError& e)
    {
        throw BadInput(p.string() + ": " + e.what());
    }
    if (JsonTooDeepAt(text, kMaxResultDepth) != std::string::npos)
    {
        throw BadInput(p.string() + ": not a result file: JSON nested deeper than " + std::to_string(kMaxResultDepth) +
                       " levels");
    }
    json j;
    try
    {
        j = json::parse(text);
    }
    catch (const json::exception& e)
    {
        throw BadInput(p.string() + ": not a result file: " + e.what());
    }
    if (!j.is_object() || !j.contains("flows"))
    {
        throw BadInput(p.string() + ": not a tunsim result (no \"flows\")");
    }
    try
    {
        return RunResultFromJson(j);
    }
    catch (const ResultFormatError& e)
    {
        throw BadInput(p.string() + ": not a tunsim result: " + e.what());
    }
}

} // namespace tunsim
