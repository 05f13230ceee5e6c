#include "linux-fifo-queue-disc.h"

#include "gso-tag.h"

#include "ns3/boolean.h"
#include "ns3/uinteger.h"
#include "ns3/drop-tail-queue.h"
#include "ns3/object-factory.h"
#include "ns3/queue-size.h"

namespace tunsim
{

NS_OBJECT_ENSURE_REGISTERED(LinuxFifoQueueDisc);

ns3::TypeId
LinuxFifoQueueDisc::GetTypeId()
{
    static ns3::TypeId tid =
        ns3::TypeId("tunsim::LinuxFifoQueueDisc")
            .SetParent<ns3::QueueDisc>()
            .SetGroupName("Tunsim")
            .AddConstructor<LinuxFifoQueueDisc>()
            .AddAttribute("Limit", "The limit, in skbs (a GSO skb of several segments is one)",
                          ns3::UintegerValue(1000), ns3::MakeUintegerAccessor(&LinuxFifoQueueDisc::m_limit),
                          ns3::MakeUintegerChecker<uint32_t>(1))
            .AddAttribute("Lockless",
                          "pfifo_fast (true): requeued segments do not count against the limit; "
                          "pfifo (false): they do (q.qlen)",
                          ns3::BooleanValue(true), ns3::MakeBooleanAccessor(&LinuxFifoQueueDisc::m_lockless),
                          ns3::MakeBooleanChecker());
    return tid;
}

LinuxFifoQueueDisc::LinuxFifoQueueDisc()
    : ns3::QueueDisc(ns3::QueueDiscSizePolicy::NO_LIMITS, ns3::QueueSizeUnit::PACKETS)
{
}

bool
LinuxFifoQueueDisc::DoEnqueue(ns3::Ptr<ns3::QueueDiscItem> item)
{
    GsoTag tag;
    const uint64_t gso = item->GetPacket()->PeekPacketTag(tag) ? tag.Skb() : 0;
    // A segment of an skb already accepted joins it. tunsim's TCP hands the
    // segments down one by one and ns-3 runs the qdisc after each, so the
    // skb's head may have left already: the segment is then part of the
    // requeued rest of that skb (q->gso_skb), as if it had come with it.
    const bool waiting = gso != 0 && !m_skbs.empty() && m_skbs.back().gso == gso && !m_skbs.back().dequeued;
    const bool requeued = gso != 0 && !waiting && gso == m_openGso;
    if (!waiting && !requeued)
    {
        const uint32_t qlen = m_waitingSkbs + (m_lockless ? 0 : m_requeued);
        if (qlen >= m_limit)
        {
            DropBeforeEnqueue(item, "Queue disc limit exceeded");
            return false;
        }
    }
    if (!GetInternalQueue(0)->Enqueue(item))
    {
        return false; // the internal queue reported the drop
    }
    if (waiting)
    {
        ++m_skbs.back().segments;
    }
    else if (requeued)
    {
        if (!m_skbs.empty() && m_skbs.back().gso == gso)
        {
            ++m_skbs.back().segments;
        }
        else
        {
            m_skbs.push_back(Skb{gso, 1, true});
        }
        ++m_requeued;
    }
    else
    {
        m_skbs.push_back(Skb{gso, 1, false});
        ++m_waitingSkbs;
    }
    return true;
}

ns3::Ptr<ns3::QueueDiscItem>
LinuxFifoQueueDisc::DoDequeue()
{
    ns3::Ptr<ns3::QueueDiscItem> item = GetInternalQueue(0)->Dequeue();
    if (!item)
    {
        return item;
    }
    Skb& head = m_skbs.front();
    if (!head.dequeued)
    {
        // dequeue_skb() takes the skb; its other segments are the gso_skb now
        head.dequeued = true;
        --m_waitingSkbs;
        m_requeued += head.segments - 1;
        m_openGso = head.gso;
    }
    else
    {
        --m_requeued;
    }
    if (--head.segments == 0)
    {
        m_skbs.pop_front();
    }
    return item;
}

ns3::Ptr<const ns3::QueueDiscItem>
LinuxFifoQueueDisc::DoPeek()
{
    return GetInternalQueue(0)->Peek();
}

bool
LinuxFifoQueueDisc::CheckConfig()
{
    if (GetNQueueDiscClasses() > 0 || GetNPacketFilters() > 0)
    {
        return false;
    }
    if (GetNInternalQueues() == 0)
    {
        // The limit is ours (in skbs); the internal queue only holds them.
        ns3::ObjectFactory factory;
        factory.SetTypeId("ns3::DropTailQueue<QueueDiscItem>");
        factory.Set("MaxSize", ns3::QueueSizeValue(ns3::QueueSize(ns3::QueueSizeUnit::PACKETS, 0xffffffffu)));
        AddInternalQueue(factory.Create<InternalQueue>());
    }
    return GetNInternalQueues() == 1;
}

void
LinuxFifoQueueDisc::InitializeParams()
{
}

} // namespace tunsim
