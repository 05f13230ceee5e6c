// What the live kernel can run (see support.h).
#include "support.h"

#include "tcp-info.h"

#include <algorithm>
#include <iterator>
#include <sstream>

namespace tunsim
{
namespace kernel
{

namespace
{

template <typename E, size_t N>
bool
OneOf(E e, const E (&list)[N])
{
    return std::find(std::begin(list), std::end(list), e) != std::end(list);
}

/// "a, b, c" (or "a, b and c" with `lastAnd`).
template <typename E, size_t N>
std::string
Names(const E (&list)[N], bool lastAnd)
{
    std::string s;
    for (size_t i = 0; i < N; ++i)
    {
        s += i == 0 ? "" : (lastAnd && i + 1 == N ? " and " : ", ");
        s += NameOf(list[i]);
    }
    return s;
}

void
CheckQdisc(const QdiscConfig& q)
{
    if (!OneOf(q.kind, kBuiltInQdiscs))
    {
        throw ScenarioError("qdisc.kind", "\"" + std::string(NameOf(q.kind)) +
                                              "\" is not available for tunsim kernel on this kernel (no "
                                              "modules; built-in root qdiscs only); allowed here: " +
                                              Names(kBuiltInQdiscs, false));
    }
    if (q.kind == QdiscKind::PfifoFast && q.limit != 0)
    {
        throw ScenarioError("qdisc.limit", "Linux pfifo_fast takes its limit from txqueuelen; use 0 "
                                           "(or qdisc.kind pfifo), got " + std::to_string(q.limit));
    }
}

void
CheckFlow(const FlowConfig& f, size_t i, FlowKind first)
{
    const std::string at = "flows[" + std::to_string(i) + "]";
    if (f.kind != first)
    {
        throw ScenarioError(at + ".kind", "tunsim kernel runs either udp flows (" + Names(kSenderModes, false) +
                                              ") or tcp flows (the TCP twin), not both; flows[0] is \"" +
                                              std::string(NameOf(first)) + "\", this one \"" +
                                              std::string(NameOf(f.kind)) + "\"");
    }
    if (f.kind == FlowKind::Udp && !OneOf(f.mode, kSenderModes))
    {
        throw ScenarioError(at + ".mode", "tunsim kernel runs the udp modes " + Names(kSenderModes, true) +
                                              "; not \"" + std::string(NameOf(f.mode)) + "\"");
    }
}

} // namespace

void
CheckKernelSupports(const Scenario& sc)
{
    CheckQdisc(sc.qdisc);
    for (size_t i = 0; i < sc.flows.size(); ++i)
    {
        CheckFlow(sc.flows[i], i, sc.flows[0].kind);
    }
    if (IsTcpRun(sc) && sc.reader.loop != ReaderLoop::ReadUntilEmpty)
    {
        throw ScenarioError("reader.loop", std::string("the TCP twin's forwarder reads until empty; \"") +
                                               NameOf(sc.reader.loop) + "\" is for udp flows");
    }
    if (sc.flows.size() > kMaxFlows)
    {
        throw ScenarioError("flows", "tunsim kernel runs at most " + std::to_string(kMaxFlows) + " flows");
    }
}

bool
IsTcpRun(const Scenario& sc)
{
    return !sc.flows.empty() && sc.flows[0].kind == FlowKind::Tcp;
}

void
CheckCongestionControl(const Scenario& sc, const std::string& available)
{
    std::istringstream in(available);
    const std::vector<std::string> names{std::istream_iterator<std::string>(in), {}};
    for (size_t i = 0; i < sc.flows.size(); ++i)
    {
        const std::string linux = LinuxCcName(sc.flows[i].cc);
        if (sc.flows[i].kind == FlowKind::Tcp && std::find(names.begin(), names.end(), linux) == names.end())
        {
            throw ScenarioError("flows[" + std::to_string(i) + "].cc",
                                "\"" + std::string(NameOf(sc.flows[i].cc)) + "\" needs Linux's \"" + linux +
                                    "\", which this kernel does not have (tcp_available_congestion_control: " +
                                    (available.empty() ? "unreadable" : available) + ")");
        }
    }
}

uint32_t
KernelQdiscLimit(const Scenario& sc)
{
    return sc.qdisc.limit ? sc.qdisc.limit : std::max<uint32_t>(sc.tun.ringSize, 1);
}

std::vector<std::string>
NotApplicable()
{
    std::vector<std::string> v;
    for (const FieldDoc& f : ScenarioFieldDocs())
    {
        if (!f.simOnly.empty())
        {
            v.push_back(f.path + ": " + f.simOnly);
        }
    }
    return v;
}

std::vector<std::string>
NotApplicableTcp()
{
    // The twin's delay lines are its underlay: these fields it uses ...
    static const char* const kUsed[] = {"underlay.rate_mbps", "underlay.delay_ms", "reader.encap",
                                        "reader.encap_overhead_bytes"};
    // ... and for these the table's reason ("no underlay") is not the twin's.
    static const std::pair<const char*, const char*> kWhy[] = {
        {"underlay.queue_packets", "the twin's delay line holds up to a million packets (overflow: place forwarder)"},
        {"underlay.qdisc", "the twin's delay line has no qdisc"},
        {"reader.sndbuf_bytes", "the twin's reader pushes to a delay line, not a UDP socket"}};
    std::vector<std::string> v;
    for (const FieldDoc& f : ScenarioFieldDocs())
    {
        if (f.simOnly.empty() || std::find(std::begin(kUsed), std::end(kUsed), f.path) != std::end(kUsed))
        {
            continue;
        }
        std::string why = f.simOnly;
        for (const auto& [path, text] : kWhy)
        {
            why = f.path == path ? text : why;
        }
        v.push_back(f.path + ": " + why);
    }
    v.push_back("reader.batch: a tun read() returns one packet");
    v.push_back("host.udp_sndbuf_bytes: no udp flows");
    v.push_back("host.tcp_small_queues: the host's own TCP Small Queues (always on)");
    v.push_back("host.tcp_limit_output_bytes: the host's net.ipv4.tcp_limit_output_bytes (kernel.sysctls), not set");
    v.push_back("host.tcp_pacing_shift: the kernel's own sk_pacing_shift");
    v.push_back("host.tcp_rmem_default: the host's net.ipv4.tcp_rmem[1] (kernel.sysctls), not set");
    v.push_back("host.tcp_rmem_max: the host's net.ipv4.tcp_rmem[2] (kernel.sysctls), not set");
    for (const char* f : {"nr", "delay_ns", "slack_ns", "rtt_percent"})
    {
        v.push_back(std::string("host.tcp_comp_sack_") + f + ": the host's net.ipv4.tcp_comp_sack_" + f +
                    " (kernel.sysctls), not set");
    }
    return v;
}

} // namespace kernel
} // namespace tunsim
