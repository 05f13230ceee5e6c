// What the live kernel can run (see support.h).
#include "support.h"

#include <algorithm>

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
CheckFlow(const FlowConfig& f, size_t i)
{
    const std::string at = "flows[" + std::to_string(i) + "]";
    if (f.kind != FlowKind::Udp)
    {
        throw ScenarioError(at + ".kind", "tunsim kernel runs udp flows only (" + Names(kSenderModes, false) +
                                              "), got \"" + std::string(NameOf(f.kind)) + "\"");
    }
    if (!OneOf(f.mode, kSenderModes))
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
        CheckFlow(sc.flows[i], i);
    }
    if (sc.flows.size() > kMaxFlows)
    {
        throw ScenarioError("flows", "tunsim kernel runs at most " + std::to_string(kMaxFlows) + " flows");
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

} // namespace kernel
} // namespace tunsim
