// The counters of tunsim kernel's devices (see host.h): the root qdisc
// (tc -s -j) and the device's sysfs statistics.
#include "host.h"

#include <nlohmann/json.hpp>

namespace tunsim
{
namespace kernel
{

using json = nlohmann::json;

// ------------------------------------------------------------ the qdisc

void
SetQdisc(const Netns& ns, const std::string& dev, const std::string& kind, uint32_t limit)
{
    std::vector<std::string> a = {"qdisc", "replace", "dev", dev, "root", kind};
    if (kind == "pfifo")
    {
        a.push_back("limit");
        a.push_back(std::to_string(limit));
    }
    ns.Tc(a);
}

TcStats
QdiscStats(const Netns& ns, const std::string& dev)
{
    return ParseTcJson(ns.Tc({"-s", "-j", "qdisc", "show", "dev", dev}));
}

TcStats
ParseTcJson(const std::string& text)
{
    json j;
    try
    {
        j = json::parse(text);
    }
    catch (const json::exception& e)
    {
        throw std::runtime_error(std::string("tc -j output is not JSON: ") + e.what());
    }
    if (!j.is_array())
    {
        throw std::runtime_error("tc -j output is not a JSON array");
    }
    for (const auto& q : j)
    {
        if (!q.value("root", false))
        {
            continue;
        }
        TcStats s;
        s.kind = q.value("kind", "");
        s.sentBytes = q.value("bytes", uint64_t{0});
        s.sentPackets = q.value("packets", uint64_t{0});
        s.dropped = q.value("drops", uint64_t{0});
        s.overlimits = q.value("overlimits", uint64_t{0});
        s.requeues = q.value("requeues", uint64_t{0});
        s.backlogBytes = q.value("backlog", uint64_t{0});
        s.backlogPackets = q.value("qlen", uint64_t{0});
        return s;
    }
    throw std::runtime_error("tc -j output has no root qdisc");
}

void
DeviceCounters::Add(const DeviceCounters& o)
{
    txPackets += o.txPackets;
    txBytes += o.txBytes;
    txDropped += o.txDropped;
    rxPackets += o.rxPackets;
    rxDropped += o.rxDropped;
    txQueueLen = o.txQueueLen;
    haveTc = o.haveTc;
    tc.kind = o.tc.kind;
    tc.sentPackets += o.tc.sentPackets;
    tc.sentBytes += o.tc.sentBytes;
    tc.dropped += o.tc.dropped;
    tc.requeues += o.tc.requeues;
    tc.overlimits += o.tc.overlimits;
    tc.backlogPackets += o.tc.backlogPackets;
    tc.backlogBytes += o.tc.backlogBytes;
}

DeviceCounters
ReadDeviceCounters(const Netns& ns, const std::string& dev, bool haveQdisc)
{
    auto v = ns.Sysfs(dev, {"statistics/tx_packets", "statistics/tx_bytes", "statistics/tx_dropped",
                            "statistics/rx_packets", "statistics/rx_dropped", "tx_queue_len"});
    DeviceCounters c;
    c.txPackets = v[0];
    c.txBytes = v[1];
    c.txDropped = v[2];
    c.rxPackets = v[3];
    c.rxDropped = v[4];
    c.txQueueLen = v[5];
    if (haveQdisc)
    {
        c.tc = QdiscStats(ns, dev);
        c.haveTc = true;
    }
    return c;
}

} // namespace kernel
} // namespace tunsim
