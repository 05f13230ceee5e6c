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

} // namespace

ns3::Ptr<ns3::QueueDisc>
InstallLinuxQdisc(ns3::Ptr<ns3::NetDevice> dev, QdiscKind kind, const QdiscParams& params)
{
    using namespace ns3;
    TrafficControlHelper tch;
    const QueueSizeValue size(QueueSize(std::to_string(params.limit) + "p"));
    switch (kind)
    {
    case QdiscKind::Noqueue:
        return nullptr;
    case QdiscKind::FqCodel:
        tch.SetRootQueueDisc("ns3::FqCoDelQueueDisc",
                             "MaxSize", size,
                             "Target", StringValue(Ms(params.targetMs)),
                             "Interval", StringValue(Ms(params.intervalMs)));
        break;
    case QdiscKind::PfifoFast:
        tch.SetRootQueueDisc(LinuxFifoQueueDisc::GetTypeId().GetName(), "Limit", UintegerValue(params.limit), "Lockless",
                             BooleanValue(true));
        break;
    case QdiscKind::Pfifo:
        tch.SetRootQueueDisc(LinuxFifoQueueDisc::GetTypeId().GetName(), "Limit", UintegerValue(params.limit), "Lockless",
                             BooleanValue(false));
        break;
    }
    QueueDiscContainer c = tch.Install(dev);
    // ns-3 stops a qdisc run after Quota packets and (unlike __qdisc_run's
    // __netif_schedule) never resumes it; the kernel continues from the
    // softirq. Let a run go on until the qdisc is empty or the queue stops.
    c.Get(0)->SetQuota(std::numeric_limits<uint32_t>::max() / 2);
    return c.Get(0);
}

} // namespace tunsim
