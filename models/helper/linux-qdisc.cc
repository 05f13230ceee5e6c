#include "linux-qdisc.h"

#include "linux-fifo-queue-disc.h"

#include "ns3/boolean.h"
#include "ns3/uinteger.h"
#include "ns3/string.h"
#include "ns3/traffic-control-helper.h"

#include <algorithm>
#include <limits>
#include <sstream>

namespace tunsim
{

uint32_t
DefaultQdiscLimit(QdiscKind kind, uint32_t configured, uint32_t txQueueLen)
{
    if (kind == QdiscKind::Noqueue)
    {
        return 0;
    }
    if (configured)
    {
        return configured;
    }
    switch (kind)
    {
    case QdiscKind::FqCodel:
        return 10240; // fq_codel_init(): sch->limit = 10*1024
    case QdiscKind::PfifoFast:
    case QdiscKind::Pfifo:
        return std::max<uint32_t>(txQueueLen, 1); // qdisc_dev(sch)->tx_queue_len, at least 1
    case QdiscKind::Noqueue:
        break;
    }
    return 0;
}

namespace
{

std::string
Ms(double ms)
{
    std::ostringstream s;
    s << ms << "ms";
    return s.str();
}

/// Calls `add(type, attribute name/value pairs...)` with the ns-3 queue disc
/// that stands for `kind` (not for noqueue).
template <typename Add>
auto
WithLinuxKind(QdiscKind kind, const QdiscParams& params, Add&& add)
{
    using namespace ns3;
    const QueueSizeValue size(QueueSize(std::to_string(params.limit) + "p"));
    const std::string fifo = LinuxFifoQueueDisc::GetTypeId().GetName();
    switch (kind)
    {
    case QdiscKind::FqCodel:
        return add("ns3::FqCoDelQueueDisc", "MaxSize", size, "Target", StringValue(Ms(params.targetMs)), "Interval",
                   StringValue(Ms(params.intervalMs)));
    case QdiscKind::PfifoFast:
        return add(fifo, "Limit", UintegerValue(params.limit), "Lockless", BooleanValue(true));
    case QdiscKind::Pfifo:
    case QdiscKind::Noqueue:
        break;
    }
    return add(fifo, "Limit", UintegerValue(params.limit), "Lockless", BooleanValue(false));
}

/// ns-3 stops a qdisc run after Quota packets and (unlike __qdisc_run's
/// __netif_schedule) never resumes it; the kernel continues from the
/// softirq. Let a run go on until the qdisc is empty or the queue stops.
void
RunUntilEmpty(ns3::Ptr<ns3::QueueDisc> q)
{
    q->SetQuota(std::numeric_limits<uint32_t>::max() / 2);
}

} // namespace

ns3::Ptr<ns3::QueueDisc>
InstallLinuxQdisc(ns3::Ptr<ns3::NetDevice> dev, QdiscKind kind, const QdiscParams& params)
{
    using namespace ns3;
    if (kind == QdiscKind::Noqueue)
    {
        return nullptr;
    }
    TrafficControlHelper tch;
    WithLinuxKind(kind, params,
                  [&](const std::string& type, auto&&... a) { return tch.SetRootQueueDisc(type, a...); });
    QueueDiscContainer c = tch.Install(dev);
    RunUntilEmpty(c.Get(0));
    return c.Get(0);
}

ns3::Ptr<ns3::QueueDisc>
InstallLinuxMqQdisc(ns3::Ptr<ns3::NetDevice> dev, uint32_t nTxQueues, QdiscKind kind, const QdiscParams& params)
{
    using namespace ns3;
    if (kind == QdiscKind::Noqueue)
    {
        return nullptr;
    }
    TrafficControlHelper tch;
    const uint16_t root = tch.SetRootQueueDisc("ns3::MqQueueDisc");
    const auto classes = tch.AddQueueDiscClasses(root, static_cast<uint16_t>(nTxQueues), "ns3::QueueDiscClass");
    WithLinuxKind(kind, params, [&](const std::string& type, auto&&... a) {
        return tch.AddChildQueueDiscs(root, classes, type, a...);
    });
    QueueDiscContainer c = tch.Install(dev);
    for (const auto& leaf : LeafQdiscs(c.Get(0)))
    {
        RunUntilEmpty(leaf);
    }
    return c.Get(0);
}

std::vector<ns3::Ptr<ns3::QueueDisc>>
LeafQdiscs(ns3::Ptr<ns3::QueueDisc> root)
{
    std::vector<ns3::Ptr<ns3::QueueDisc>> leaves;
    if (!root)
    {
        return leaves;
    }
    if (root->GetWakeMode() != ns3::QueueDisc::WAKE_CHILD)
    {
        leaves.push_back(root);
        return leaves;
    }
    for (std::size_t i = 0; i < root->GetNQueueDiscClasses(); ++i)
    {
        leaves.push_back(root->GetQueueDiscClass(i)->GetQueueDisc());
    }
    return leaves;
}

} // namespace tunsim
