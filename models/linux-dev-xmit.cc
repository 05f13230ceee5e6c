#include "linux-dev-xmit.h"

#include "tunsim-tag.h"

#include "ns3/log.h"
#include "ns3/net-device-queue-interface.h"
#include "ns3/simulator.h"
#include "ns3/uinteger.h"

namespace tunsim
{

NS_LOG_COMPONENT_DEFINE("LinuxDevXmit");
NS_OBJECT_ENSURE_REGISTERED(LinuxDevXmit);

ns3::TypeId
LinuxDevXmit::GetTypeId()
{
    static ns3::TypeId tid = ns3::TypeId("tunsim::LinuxDevXmit")
                                 .SetParent<ns3::TrafficControlLayer>()
                                 .SetGroupName("Tunsim")
                                 .AddConstructor<LinuxDevXmit>();
    return tid;
}

void
LinuxDevXmit::Setup(ns3::Ptr<ns3::TrafficControlLayer> inner,
                    ns3::Ptr<TunNetDevice> tun,
                    std::vector<ns3::Ptr<HostCpu>> cpus,
                    std::vector<uint32_t> flowCpu,
                    std::vector<uint32_t> readerCpu,
                    const Costs& costs)
{
    NS_ABORT_MSG_IF(cpus.empty(), "LinuxDevXmit needs at least one CPU");
    m_inner = inner;
    m_tun = tun;
    m_cpus = std::move(cpus);
    m_flowCpu = std::move(flowCpu);
    m_readerCpu = std::move(readerCpu);
    m_costs = costs;
    m_ndqi = tun->GetObject<ns3::NetDeviceQueueInterface>();
    m_outputQueue.assign(m_cpus.size(), {});
    for (size_t i = 0; i < m_cpus.size(); ++i)
    {
        m_cpus[i]->SetIndex(static_cast<uint32_t>(i));
    }
    ns3::Ptr<ns3::QueueDisc> root = inner->GetRootQueueDiscOnDevice(tun);
    m_noqueue = !root;
    m_qdiscs.clear();
    if (root && root->GetWakeMode() == ns3::QueueDisc::WAKE_CHILD)
    {
        // mq: a child qdisc per tx queue, each with its own lock and running bit
        m_mq = true;
        for (uint32_t i = 0; i < tun->GetNQueues(); ++i)
        {
            m_qdiscs.emplace_back();
            m_qdiscs.back().q = root->GetQueueDiscClass(i)->GetQueueDisc();
        }
    }
    else if (root)
    {
        m_qdiscs.emplace_back();
        m_qdiscs.back().q = root;
    }
    for (auto& d : m_qdiscs)
    {
        // ns-3's QueueDisc::Run() then sends one packet: the loop is ours.
        d.q->SetQuota(1);
    }
    // netif_tx_wake_queue(): __netif_schedule() on the waking CPU
    tun->SetNetifSchedule([this](uint32_t txq) { OnTxqWake(txq); });
}

HostCpu*
LinuxDevXmit::CpuOf(uint32_t flowId) const
{
    if (HostCpu* c = HostCpu::Current())
    {
        return c; // the stack runs in the context that sends: a sender, or a reader's write()
    }
    const uint32_t cpu = flowId < m_flowCpu.size() ? m_flowCpu[flowId] : 0;
    return ns3::PeekPointer(m_cpus[cpu]);
}

void
LinuxDevXmit::Send(ns3::Ptr<ns3::NetDevice> device, ns3::Ptr<ns3::QueueDiscItem> item)
{
    if (device != m_tun)
    {
        m_inner->Send(device, item);
        return;
    }
    TunsimTag tag;
    item->GetPacket()->PeekPacketTag(tag);
    HostCpu* cpu = CpuOf(tag.flowId);
    // The segment's data was copied in by tcp_sendmsg() on the flow's own
    // CPU (charged now, when it leaves; simplification: docs/model.md).
    HostCpu* own = ns3::PeekPointer(m_cpus[tag.flowId < m_flowCpu.size() ? m_flowCpu[tag.flowId] : 0]);
    // udp: the sender's sendto() already is this CPU's work, up to here
    const bool senderCharged = tag.flowId < m_senderCharged.size() && m_senderCharged[tag.flowId];
    if (m_costs.sendmsg.IsStrictlyPositive() && !senderCharged)
    {
        own->Submit(m_costs.sendmsg, CpuWork::Sender, nullptr);
    }
    if (m_noqueue)
    {
        // __dev_queue_xmit() without a qdisc: dev_hard_start_xmit() inline
        // (or the stopped-queue drop), on this CPU.
        m_inner->Send(device, item);
        if (!senderCharged)
        {
            cpu->Submit(m_costs.output, CpuWork::Sender, nullptr);
        }
        cpu->Submit(m_costs.xmit, CpuWork::XmitDirect, nullptr);
        return;
    }
    uint32_t txq = 0;
    if (m_ndqi && m_ndqi->GetNTxQueues() > 1)
    {
        txq = static_cast<uint32_t>(m_ndqi->GetSelectQueueCallback()(item)); // tun_select_queue()
    }
    item->SetTxQueueIndex(txq);
    const uint32_t qi = m_mq ? txq : 0;
    // dev_qdisc_enqueue(): a drop here is NET_XMIT_DROP to the socket, now.
    m_qdiscs[qi].q->Enqueue(item);
    if (senderCharged)
    {
        DevXmitSkb(qi, cpu); // udp_send_skb() -> ip_output() -> here, inside the sendto()
        return;
    }
    cpu->Submit(m_costs.output, CpuWork::Sender, [this, qi, cpu]() { DevXmitSkb(qi, cpu); });
}

void
LinuxDevXmit::Receive(ns3::Ptr<ns3::NetDevice> device,
                      ns3::Ptr<const ns3::Packet> p,
                      uint16_t protocol,
                      const ns3::Address& from,
                      const ns3::Address& to,
                      ns3::NetDevice::PacketType packetType)
{
    m_inner->Receive(device, p, protocol, from, to, packetType);
}

void
LinuxDevXmit::DevXmitSkb(uint32_t qi, HostCpu* cpu)
{
    Qdisc& d = m_qdiscs[qi];
    if (d.owner != nullptr)
    {
        // contended = qdisc_is_running(q): spin on busylock, then the root
        // lock, enqueue, and leave; the running CPU sends the packet.
        ++d.stats.contended;
        if (d.owner != cpu && m_costs.lock.IsStrictlyPositive())
        {
            cpu->Submit(m_costs.lock, CpuWork::Lock, nullptr);
        }
        return;
    }
    QdiscRun(qi, cpu, false, nullptr);
}

void
LinuxDevXmit::QdiscRun(uint32_t qi, HostCpu* cpu, bool softirq, std::function<void()> onEnd)
{
    Qdisc& d = m_qdiscs[qi];
    NS_ASSERT(d.owner == nullptr);
    // qdisc_run_begin(): this CPU runs the qdisc; bottom halves stay
    // disabled on it until qdisc_run_end().
    d.owner = cpu;
    d.inSoftirq = softirq;
    d.quota = static_cast<int32_t>(m_costs.quota);
    d.runPackets = 0;
    d.onEnd = std::move(onEnd);
    ++(softirq ? d.stats.softirqRuns : d.stats.directRuns);
    cpu->DisableBh();
    QdiscRestart(qi);
}

void
LinuxDevXmit::QdiscRestart(uint32_t qi)
{
    Qdisc& d = m_qdiscs[qi];
    // qdisc_restart(): dequeue_skb() (nothing if the tx queue is frozen),
    // sch_direct_xmit() -> tun_net_xmit(); ns-3's Run() with Quota 1.
    const uint64_t before = m_tun->GetStats().xmitCalls;
    d.q->Run();
    if (m_tun->GetStats().xmitCalls == before)
    {
        QdiscRunEnd(qi); // empty, or the queue is stopped
        return;
    }
    ++d.stats.packets;
    ++d.runPackets;
    if (d.inSoftirq)
    {
        ++d.stats.softirqPackets;
    }
    --d.quota;
    d.owner->Submit(m_costs.xmit, d.inSoftirq ? CpuWork::XmitSoftirq : CpuWork::XmitDirect, [this, qi]() {
        Qdisc& dd = m_qdiscs[qi];
        if (dd.quota <= 0)
        {
            // __qdisc_run(): quota used -> __netif_schedule(q) (NOLOCK: the
            // MISSED bit, rescheduled by qdisc_run_end(): the same CPU)
            ++dd.stats.quotaHits;
            HostCpu* cpu = dd.owner;
            QdiscRunEnd(qi);
            NetifSchedule(qi, cpu);
            return;
        }
        QdiscRestart(qi);
    });
}

void
LinuxDevXmit::QdiscRunEnd(uint32_t qi)
{
    // qdisc_run_end()
    Qdisc& d = m_qdiscs[qi];
    HostCpu* cpu = d.owner;
    d.owner = nullptr;
    d.stats.maxRunPackets = std::max(d.stats.maxRunPackets, d.runPackets);
    if (m_runTrace)
    {
        m_runTrace(qi, cpu->Index(), d.inSoftirq, d.runPackets);
    }
    cpu->EnableBh();
    if (d.onEnd)
    {
        std::function<void()> next = std::move(d.onEnd);
        d.onEnd = nullptr;
        next();
    }
}

void
LinuxDevXmit::NetifSchedule(uint32_t qi, HostCpu* cpu)
{
    // __netif_schedule(): test_and_set_bit(__QDISC_STATE_SCHED), then
    // __netif_reschedule(): onto this CPU's output_queue, raise NET_TX.
    Qdisc& d = m_qdiscs[qi];
    if (d.sched)
    {
        return;
    }
    d.sched = true;
    ++d.stats.scheduled;
    m_outputQueue[cpu->Index()].push_back(qi);
    cpu->RaiseNetTx([this, cpu]() { NetTxAction(cpu); });
}

void
LinuxDevXmit::NetTxAction(HostCpu* cpu)
{
    // net_tx_action(): take the whole output_queue, run each qdisc listed.
    std::vector<uint32_t> list;
    list.swap(m_outputQueue[cpu->Index()]);
    if (list.empty())
    {
        return;
    }
    cpu->Submit(m_costs.softirq, CpuWork::Softirq,
                [this, cpu, list = std::move(list)]() { RunListed(cpu, list, 0); });
}

void
LinuxDevXmit::RunListed(HostCpu* cpu, std::vector<uint32_t> list, size_t next)
{
    for (; next < list.size(); ++next)
    {
        const uint32_t qi = list[next];
        Qdisc& d = m_qdiscs[qi];
        d.sched = false; // clear_bit(__QDISC_STATE_SCHED)
        if (d.owner != nullptr)
        {
            continue; // qdisc_run_begin() fails: its owner sends what is there
        }
        QdiscRun(qi, cpu, true, [this, cpu, list, next]() { RunListed(cpu, list, next + 1); });
        return;
    }
}

void
LinuxDevXmit::OnTxqWake(uint32_t txq)
{
    const uint32_t qi = m_mq ? txq : 0;
    if (m_noqueue || qi >= m_qdiscs.size())
    {
        return; // noqueue: nothing to restart, the next send goes straight in
    }
    HostCpu* cpu = HostCpu::Current();
    if (!cpu)
    {
        cpu = ns3::PeekPointer(m_cpus[txq < m_readerCpu.size() ? m_readerCpu[txq] : 0]);
    }
    ++m_qdiscs[qi].stats.wakeSchedules;
    NetifSchedule(qi, cpu);
}

void
LinuxDevXmit::DoDispose()
{
    if (m_tun)
    {
        m_tun->SetNetifSchedule(nullptr);
    }
    m_inner = nullptr;
    m_tun = nullptr;
    m_ndqi = nullptr;
    m_cpus.clear();
    m_qdiscs.clear();
    ns3::TrafficControlLayer::DoDispose();
}

} // namespace tunsim
