#include "tun-net-device.h"

#include "gso-tag.h"
#include "socket-account.h"
#include "tunsim-tag.h"

#include "ns3/boolean.h"
#include "ns3/channel.h"
#include "ns3/log.h"
#include "ns3/node.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/traffic-control-layer.h"
#include "ns3/queue-disc.h"
#include "ns3/uinteger.h"

namespace tunsim
{

NS_LOG_COMPONENT_DEFINE("TunNetDevice");
NS_OBJECT_ENSURE_REGISTERED(TunNetDevice);

const char*
TunDropReasonName(TunDropReason r)
{
    switch (r)
    {
    case TunDropReason::FULL_RING:
        return "FULL_RING";
    case TunDropReason::RESIZE:
        return "RESIZE";
    default:
        return "UNKNOWN";
    }
}

uint32_t
TunFlowHash(uint32_t flowId)
{
    // murmur3 fmix32: a fixed, well-mixing stand-in for the kernel's flow
    // hash (siphash of the 5-tuple with a boot-time key).
    uint32_t h = flowId + 0x9e3779b9u;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

uint32_t
TunAutomqSelectQueue(uint32_t flowId, uint32_t numQueues)
{
    // tun_automq_select_queue(): txq = reciprocal_scale(txq /* rxhash */, numqueues)
    return static_cast<uint32_t>((static_cast<uint64_t>(TunFlowHash(flowId)) * numQueues) >> 32);
}

uint32_t
TunSelectQueue(uint32_t flowId, uint32_t numQueues, bool steerByFlow)
{
    // tun_select_queue(): tun_ebpf_select_queue() (ret % numqueues) when a
    // steering program is attached, else tun_automq_select_queue().
    return steerByFlow ? flowId % numQueues : TunAutomqSelectQueue(flowId, numQueues);
}

// ---------------------------------------------------------------- TunQueue

TunQueue::TunQueue(TunNetDevice& dev, uint32_t index, const RingGeometry& g)
    : m_dev(dev),
      m_index(index),
      m_ring(g.size)
{
    if (g.batch != 0)
    {
        m_ring.OverrideBatch(g.batch);
    }
}

uint32_t
TunQueue::TxQueueLen() const
{
    return m_dev.m_txQueueLen;
}

bool
TunQueue::IsStopped() const
{
    return m_stopped;
}

void
TunQueue::Stop()
{
    m_dev.StopQueue(*this);
}

void
TunQueue::Wake()
{
    m_dev.WakeQueue(*this);
}

void
TunQueue::StopAll()
{
    for (auto& q : m_dev.m_queues)
    {
        m_dev.StopQueue(*q);
    }
}

void
TunQueue::WakeAll()
{
    for (auto& q : m_dev.m_queues)
    {
        m_dev.WakeQueue(*q);
    }
}

uint32_t
TunQueue::DeviceFlags() const
{
    return m_dev.m_tunFlags;
}

void
TunQueue::ForceWake()
{
    // tun_force_wake_queue(): netif_wake_subqueue() and cons_cnt = 0 under the
    // consumer and producer locks (atomic in a discrete-event model).
    m_dev.WakeQueue(*this);
    m_consumedSinceStop = 0;
}

bool
TunQueue::HasQdisc() const
{
    return m_dev.m_hasQdisc;
}

ns3::Time
TunQueue::StoppedTime() const
{
    if (m_stopped)
    {
        return m_stoppedTotal + (ns3::Simulator::Now() - m_stoppedSince);
    }
    return m_stoppedTotal;
}

void
TunQueue::NoteOccupancy()
{
    ns3::Time now = ns3::Simulator::Now();
    m_area += static_cast<long double>(m_lastCount) * (now - m_lastChange).GetNanoSeconds();
    m_lastChange = now;
    m_lastCount = m_ring.Count();
    if (m_lastCount > m_maxOccupancy)
    {
        m_maxOccupancy = m_lastCount;
    }
}

double
TunQueue::MeanOccupancy() const
{
    int64_t now = ns3::Simulator::Now().GetNanoSeconds();
    if (now <= 0)
    {
        return m_ring.Count();
    }
    long double area =
        m_area + static_cast<long double>(m_lastCount) * (now - m_lastChange.GetNanoSeconds());
    return static_cast<double>(area / now);
}

// ------------------------------------------------------------ TunNetDevice

ns3::TypeId
TunNetDevice::GetTypeId()
{
    static ns3::TypeId tid =
        ns3::TypeId("tunsim::TunNetDevice")
            .SetParent<ns3::NetDevice>()
            .SetGroupName("Tunsim")
            .AddConstructor<TunNetDevice>()
            .AddAttribute("Mtu",
                          "The MTU of the device (bytes)",
                          ns3::UintegerValue(1500),
                          ns3::MakeUintegerAccessor(&TunNetDevice::SetMtu, &TunNetDevice::GetMtu),
                          ns3::MakeUintegerChecker<uint16_t>(68, 65535))
            .AddAttribute("SoftirqLatency",
                          "Delay from a tx queue wake (netif_tx_wake_queue) to the NET_TX "
                          "softirq running the qdisc",
                          ns3::TimeValue(ns3::MicroSeconds(2)),
                          ns3::MakeTimeAccessor(&TunNetDevice::m_softirqLatency),
                          ns3::MakeTimeChecker(ns3::Time(0)))
            .AddAttribute("SoftirqCost",
                          "Fixed CPU time of one NET_TX softirq run, charged to the softirq "
                          "CPU sink (the reader) when one is set",
                          ns3::TimeValue(ns3::Time(0)),
                          ns3::MakeTimeAccessor(&TunNetDevice::m_softirqCost),
                          ns3::MakeTimeChecker(ns3::Time(0)))
            .AddAttribute("XmitCost",
                          "CPU time per packet dequeued and passed to tun_net_xmit by a "
                          "softirq run, charged to the softirq CPU sink when one is set",
                          ns3::TimeValue(ns3::Time(0)),
                          ns3::MakeTimeAccessor(&TunNetDevice::m_xmitCost),
                          ns3::MakeTimeChecker(ns3::Time(0)))
            .AddAttribute("HostXmitCost",
                          "Host CPU per packet put into the device by the host's stack (TCP "
                          "output, qdisc dequeue, tun_net_xmit()): one packet reaches the ring "
                          "per HostXmitCost and the qdisc holds the next meanwhile; 0 = at once",
                          ns3::TimeValue(ns3::Time(0)),
                          ns3::MakeTimeAccessor(&TunNetDevice::m_hostXmitCost),
                          ns3::MakeTimeChecker(ns3::Time(0)))
            .AddTraceSource("RingOccupancy",
                            "Entries in a tx ring after each produce or consume (queue, entries)",
                            ns3::MakeTraceSourceAccessor(&TunNetDevice::m_ringOccupancyTrace),
                            "tunsim::TunNetDevice::RingOccupancyCallback")
            .AddTraceSource("TxQueueStop",
                            "A tx queue was stopped (queue index)",
                            ns3::MakeTraceSourceAccessor(&TunNetDevice::m_txqStopTrace),
                            "tunsim::TunNetDevice::QueueCallback")
            .AddTraceSource("TxQueueWake",
                            "A stopped tx queue was woken (queue index)",
                            ns3::MakeTraceSourceAccessor(&TunNetDevice::m_txqWakeTrace),
                            "tunsim::TunNetDevice::QueueCallback")
            .AddTraceSource("Drop",
                            "A packet the device freed instead of queueing (packet, reason)",
                            ns3::MakeTraceSourceAccessor(&TunNetDevice::m_dropTrace),
                            "tunsim::TunNetDevice::DropCallback");
    return tid;
}

TunNetDevice::TunNetDevice()
    : m_address(ns3::Mac48Address::Allocate())
{
}

TunNetDevice::~TunNetDevice() = default;

void
TunNetDevice::Configure(ns3::Ptr<TunPolicy> policy, uint32_t txQueueLen, uint32_t txQueues)
{
    NS_ABORT_MSG_IF(!policy, "TunNetDevice needs a policy");
    NS_ABORT_MSG_IF(txQueueLen == 0 || txQueues == 0, "TunNetDevice: bad geometry");
    m_policy = policy;
    m_txQueueLen = txQueueLen;
    m_queues.clear();
    for (uint32_t i = 0; i < txQueues; ++i)
    {
        m_queues.push_back(std::make_unique<TunQueue>(*this, i, policy->Geometry(txQueueLen)));
    }
}

void
TunNetDevice::SetTxQueueLen(uint32_t txQueueLen)
{
    // mirrors tun_queue_resize(): ptr_ring_resize_multiple() with
    // tun_ptr_free() as the destroy callback for what no longer fits.
    m_txQueueLen = txQueueLen;
    for (auto& q : m_queues)
    {
        RingGeometry g = m_policy->Geometry(txQueueLen);
        for (auto& p : q->m_ring.Resize(g.size))
        {
            if (p == q->m_openHead)
            {
                CloseGsoEntry(*q);
            }
            Drop(p, TunDropReason::RESIZE);
            DropGsoRest(*q, p, TunDropReason::RESIZE);
        }
        if (g.batch != 0)
        {
            q->m_ring.OverrideBatch(g.batch);
        }
        q->NoteOccupancy();
        m_policy->Reconfigured(*q, TunReconfig::Resize);
    }
}

void
TunNetDevice::SetTunFlags(uint32_t flags)
{
    // tun_set_iff() on an existing device: the flags change, then every
    // attached queue goes through the "do not stay in xoff" step.
    m_tunFlags = flags;
    for (auto& q : m_queues)
    {
        m_policy->Reconfigured(*q, TunReconfig::SetIff);
    }
}

void
TunNetDevice::AttachReader(uint32_t q, std::function<void()> dataReady)
{
    // tun_attach(): the reader's file descriptor becomes this queue's tfile.
    m_queues.at(q)->m_dataReady = std::move(dataReady);
    m_policy->Reconfigured(*m_queues.at(q), TunReconfig::Attach);
}

void
TunNetDevice::Drop(ns3::Ptr<ns3::Packet> p, TunDropReason reason, bool newSkb)
{
    // mirrors the drop: label of tun_net_xmit(): dev_core_stats_tx_dropped_inc()
    // then kfree_skb_reason(). The skb was orphaned before it reached the
    // ring (and a RESIZE victim sat in it), so no socket is charged any more.
    // A GSO skb (offloads) is one drop in the counters; the trace reports
    // each of its segments (the ledger books segments).
    if (newSkb)
    {
        ++m_stats.txDropped;
        ++m_stats.dropReasons[static_cast<size_t>(reason)];
    }
    m_dropTrace(p, reason);
}

void
TunNetDevice::DropGsoRest(TunQueue& q, ns3::Ptr<ns3::Packet> head, TunDropReason reason)
{
    auto it = m_gsoRest.find(ns3::PeekPointer(head));
    if (it == m_gsoRest.end())
    {
        return;
    }
    q.m_gsoExtra -= static_cast<uint32_t>(it->second.size());
    for (auto& seg : it->second)
    {
        Drop(seg, reason, false);
    }
    m_gsoRest.erase(it);
}

void
TunNetDevice::AppendGsoSegment(TunQueue& q, ns3::Ptr<ns3::Packet> p)
{
    // The same skb as the entry just produced: in the kernel these bytes
    // are part of that skb (one tun_net_xmit(), one ptr_ring slot).
    SocketAccountTable::Orphan(p);
    if (m_mode == TunMode::Tap)
    {
        p->AddHeader(TapFrameHeader());
    }
    if (q.m_openProduced)
    {
        // The segment joins the entry (no slot, no policy step).
        m_gsoRest[ns3::PeekPointer(q.m_openHead)].push_back(p);
        ++q.m_gsoExtra;
    }
    else
    {
        Drop(p, TunDropReason::FULL_RING, false); // the skb was freed whole
    }
    if (--q.m_openLeft == 0)
    {
        CloseGsoEntry(q);
    }
}

void
TunNetDevice::CloseGsoIfOpen(uint32_t qi, uint64_t skb)
{
    if (qi < m_queues.size() && m_queues[qi]->m_openGso == skb)
    {
        CloseGsoEntry(*m_queues[qi]);
    }
}

void
TunNetDevice::CloseGsoEntry(TunQueue& q)
{
    q.m_openGso = 0;
    q.m_openLeft = 0;
    q.m_openProduced = false;
    q.m_openHead = nullptr;
}

bool
TunNetDevice::Send(ns3::Ptr<ns3::Packet> packet, const ns3::Address& dest, uint16_t protocolNumber)
{
    // mirrors tun_net_xmit()
    uint32_t txq = 0;
    if (m_queues.size() > 1)
    {
        // skb->queue_mapping as tun_select_queue() set it before the qdisc
        // (the same function the NetDeviceQueueInterface's select-queue
        // callback uses, see TunPathHelper).
        TunsimTag tag;
        packet->PeekPacketTag(tag);
        txq = TunSelectQueue(tag.flowId, static_cast<uint32_t>(m_queues.size()), m_steerByFlow);
    }
    TunQueue& q = *m_queues[txq];
    const bool ok = TunNetXmit(q, packet);
    if (m_hostXmitCost.IsStrictlyPositive())
    {
        // The CPU that put this packet in is busy for HostXmitCost: the
        // next one leaves the qdisc only then (the segments an ACK releases
        // reach the ring one by one, as Linux's tcp_write_xmit() -> qdisc ->
        // tun_net_xmit() loop runs on one CPU). The qdisc sees a stopped
        // queue meanwhile; the policy's own stop is kept apart (m_stopped).
        q.m_hostXmitBusy = true;
        if (m_queueInterface)
        {
            m_queueInterface->GetTxQueue(q.m_index)->Stop();
        }
        ns3::Simulator::Schedule(m_hostXmitCost, &TunNetDevice::HostXmitDone, this, txq);
    }
    return ok;
}

void
TunNetDevice::HostXmitDone(uint32_t qi)
{
    TunQueue& q = *m_queues[qi];
    q.m_hostXmitBusy = false;
    if (q.m_stopped)
    {
        return; // the policy stopped the queue: its wake restarts the qdisc
    }
    if (m_queueInterface)
    {
        m_queueInterface->GetTxQueue(qi)->Start();
    }
    RunQdisc(qi);
}

bool
TunNetDevice::TunNetXmit(TunQueue& q, ns3::Ptr<ns3::Packet> packet)
{
    const uint32_t txq = q.m_index;
    // Offloads: a GSO skb reaches tun_net_xmit() whole (the device has
    // NETIF_F_TSO, validate_xmit_skb() does not segment it).
    GsoTag gso;
    const bool tagged = m_offloads && packet->PeekPacketTag(gso) && gso.Skb() != 0;
    if (tagged && gso.Skb() == q.m_openGso)
    {
        AppendGsoSegment(q, packet);
        return true;
    }
    if (q.m_openGso != 0)
    {
        CloseGsoEntry(q); // that skb's segments ended (or the rest waits in the qdisc)
    }
    const bool opens = tagged && gso.Segs() > 1;
    ++m_stats.xmitCalls;

    // skb_orphan(): the sending socket's memory is released here, before the
    // ring, whatever happens next.
    SocketAccountTable::Orphan(packet);
    if (m_mode == TunMode::Tap)
    {
        // IFF_TAP: the skb is a frame; eth_header() put ETH_HLEN in front
        // of the IP packet on the way down (tap-frame.h).
        packet->AddHeader(TapFrameHeader());
    }

    m_policy->BeforeProduce(q);
    bool produced = q.m_ring.Produce(packet) == 0;
    if (produced)
    {
        q.NoteOccupancy();
        m_ringOccupancyTrace(txq, q.m_ring.Count());
        // sk_data_ready(): wake the reader if it sleeps.
        if (q.m_dataReady)
        {
            q.m_dataReady();
        }
    }
    m_policy->AfterProduce(q, produced);
    if (opens)
    {
        // The skb's other segments join this entry: they take no slot, so
        // the ring (and the policy's decision just taken) is as after the
        // produce of the whole skb.
        q.m_openGso = gso.Skb();
        q.m_openLeft = gso.Segs() - 1;
        q.m_openProduced = produced;
        q.m_openHead = produced ? packet : nullptr;
        // Should fewer segments come (TCP stopped inside the skb), the skb
        // still ends with this call chain, as one produce does.
        ns3::Simulator::ScheduleNow(&TunNetDevice::CloseGsoIfOpen, this, txq, gso.Skb());
        if (!produced)
        {
            Drop(packet, TunDropReason::FULL_RING);
        }
        return true;
    }
    if (!produced)
    {
        Drop(packet, TunDropReason::FULL_RING);
    }
    // NETDEV_TX_OK either way: the packet is consumed (queued or freed).
    return true;
}

ns3::Ptr<ns3::Packet>
TunNetDevice::TunRingConsume(uint32_t qi, std::vector<ns3::Ptr<ns3::Packet>>* rest)
{
    TunQueue& q = *m_queues[qi];
    if (q.m_ring.Empty())
    {
        return nullptr;
    }
    // NODROP v6: stopped = netif_tx_queue_stopped(txq) before the discard.
    bool wasStopped = q.m_stopped;
    ns3::Ptr<ns3::Packet> p = q.m_ring.Consume();
    if (p == q.m_openHead)
    {
        CloseGsoEntry(q); // not while one skb is produced; kept safe
    }
    ++q.m_consumedSinceStop;
    q.NoteOccupancy();
    m_ringOccupancyTrace(qi, q.m_ring.Count());
    m_policy->AfterConsume(q, wasStopped);
    // tun_put_user(): dev_sw_netstats_tx_add(dev, 1, len) -- one skb
    ++m_stats.txPackets;
    m_stats.txBytes += p->GetSize();
    if (!m_gsoRest.empty())
    {
        auto it = m_gsoRest.find(ns3::PeekPointer(p));
        if (it != m_gsoRest.end())
        {
            NS_ABORT_MSG_IF(!rest, "TunRingConsume: a GSO entry for a reader without IFF_VNET_HDR");
            q.m_gsoExtra -= static_cast<uint32_t>(it->second.size());
            for (auto& seg : it->second)
            {
                m_stats.txBytes += seg->GetSize();
                rest->push_back(seg);
            }
            m_gsoRest.erase(it);
        }
    }
    return p;
}

void
TunNetDevice::TunRingWait(uint32_t qi)
{
    m_policy->ReaderWait(*m_queues[qi]);
}

void
TunNetDevice::StopQueue(TunQueue& q)
{
    if (q.m_stopped)
    {
        return;
    }
    q.m_stopped = true;
    q.m_consumedSinceStop = 0;
    ++q.m_stopCount;
    q.m_stoppedSince = ns3::Simulator::Now();
    if (m_queueInterface)
    {
        m_queueInterface->GetTxQueue(q.m_index)->Stop();
    }
    m_txqStopTrace(q.m_index);
}

void
TunNetDevice::WakeQueue(TunQueue& q)
{
    // netif_tx_wake_queue(): if (test_and_clear_bit(__QUEUE_STATE_DRV_XOFF))
    // __netif_schedule(qdisc).
    if (!q.m_stopped)
    {
        return;
    }
    q.m_stopped = false;
    ++m_stats.wakes;
    q.m_stoppedTotal += ns3::Simulator::Now() - q.m_stoppedSince;
    if (q.m_hostXmitBusy)
    {
        // The transmitting CPU is still busy: HostXmitDone() restarts the qdisc.
        m_txqWakeTrace(q.m_index);
        return;
    }
    if (m_queueInterface)
    {
        // Clear XOFF now (a sender's own dev_queue_xmit may run the qdisc
        // right away), restart the qdisc from the softirq later.
        m_queueInterface->GetTxQueue(q.m_index)->Start();
    }
    m_txqWakeTrace(q.m_index);
    if (m_netifSchedule)
    {
        m_netifSchedule(q.m_index); // the CPU model's __netif_schedule()
        return;
    }
    if (!q.m_softirqPending)
    {
        // __QDISC_STATE_SCHED: one pending softirq run per qdisc.
        q.m_softirqPending = true;
        ns3::Simulator::Schedule(m_softirqLatency, &TunNetDevice::NetTxSoftirq, this, q.m_index);
    }
}

void
TunNetDevice::NetTxSoftirq(uint32_t qi)
{
    // mirrors net_tx_action() -> qdisc_run() for this queue's qdisc.
    TunQueue& q = *m_queues[qi];
    q.m_softirqPending = false;
    ++m_stats.softirqRuns;
    uint64_t before = m_stats.xmitCalls;
    if (!q.m_stopped && !q.m_hostXmitBusy)
    {
        // The XOFF bit was cleared at the wake (NetDeviceQueue::Start()), so
        // NetDeviceQueue::Wake() would not call its callback any more: run
        // the root qdisc directly, as qdisc_run() does.
        RunQdisc(qi);
    }
    if (m_softirqCpu)
    {
        uint64_t sent = m_stats.xmitCalls - before;
        m_softirqCpu(qi, m_softirqCost + m_xmitCost * static_cast<int64_t>(sent));
    }
}

void
TunNetDevice::RunQdisc(uint32_t qi)
{
    if (!m_node)
    {
        return;
    }
    if (!m_rootQdisc)
    {
        auto tc = m_node->GetObject<ns3::TrafficControlLayer>();
        m_rootQdisc = tc ? tc->GetRootQueueDiscOnDevice(this) : nullptr;
    }
    if (m_rootQdisc && m_rootQdisc->GetWakeMode() == ns3::QueueDisc::WAKE_CHILD)
    {
        // mq: each tx queue has its own child qdisc (mq_select_queue()).
        m_rootQdisc->GetQueueDiscClass(qi)->GetQueueDisc()->Run();
    }
    else if (m_rootQdisc)
    {
        // one root for every tx queue (the only kind with one queue)
        m_rootQdisc->Run();
    }
}

void
TunNetDevice::TunGetUser(ns3::Ptr<ns3::Packet> packet)
{
    // mirrors tun_get_user() -> netif_rx_ni(): the packet enters the stack as
    // if received on tun0.
    ++m_stats.rxPackets;
    m_stats.rxBytes += packet->GetSize();
    if (m_mode == TunMode::Tap)
    {
        // eth_type_trans(): pull the Ethernet header before netif_rx().
        TapFrameHeader eth;
        packet->RemoveHeader(eth);
    }
    if (!m_promiscCallback.IsNull())
    {
        m_promiscCallback(this, packet, 0x0800, ns3::Address(), m_address, ns3::NetDevice::PACKET_HOST);
    }
    m_rxCallback(this, packet, 0x0800, ns3::Address());
}

void
TunNetDevice::NotifyNewAggregate()
{
    if (!m_queueInterface)
    {
        m_queueInterface = GetObject<ns3::NetDeviceQueueInterface>();
    }
    ns3::NetDevice::NotifyNewAggregate();
}

void
TunNetDevice::DoDispose()
{
    m_node = nullptr;
    m_queueInterface = nullptr;
    m_rootQdisc = nullptr;
    m_netifSchedule = nullptr;
    m_policy = nullptr;
    m_queues.clear();
    m_gsoRest.clear();
    m_rxCallback = ns3::MakeNullCallback<bool, ns3::Ptr<ns3::NetDevice>, ns3::Ptr<const ns3::Packet>, uint16_t, const ns3::Address&>();
    ns3::NetDevice::DoDispose();
}

} // namespace tunsim
