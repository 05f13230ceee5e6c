#include "host-cpu.h"

#include "ns3/log.h"
#include "ns3/simulator.h"

#include <algorithm>

namespace tunsim
{

NS_LOG_COMPONENT_DEFINE("HostCpu");
NS_OBJECT_ENSURE_REGISTERED(HostCpu);

namespace
{
HostCpu* g_current = nullptr; // the CPU whose continuation runs (one thread: ns-3's)

/// Current() for the length of a scope.
class CurrentScope
{
  public:
    explicit CurrentScope(HostCpu* cpu)
        : m_saved(g_current)
    {
        g_current = cpu;
    }
    ~CurrentScope() { g_current = m_saved; }

  private:
    HostCpu* m_saved;
};

bool
IsSoftirqWork(CpuWork k)
{
    return k == CpuWork::XmitSoftirq || k == CpuWork::Softirq;
}
} // namespace

const char*
CpuWorkName(CpuWork w)
{
    switch (w)
    {
    case CpuWork::Sender:
        return "sender";
    case CpuWork::Reader:
        return "reader";
    case CpuWork::XmitDirect:
        return "xmit_direct";
    case CpuWork::XmitSoftirq:
        return "xmit_softirq";
    case CpuWork::Softirq:
        return "softirq";
    case CpuWork::Lock:
        return "lock";
    default:
        return "unknown";
    }
}

ns3::TypeId
HostCpu::GetTypeId()
{
    static ns3::TypeId tid =
        ns3::TypeId("tunsim::HostCpu").SetParent<ns3::Object>().SetGroupName("Tunsim").AddConstructor<HostCpu>();
    return tid;
}

HostCpu*
HostCpu::Current()
{
    return g_current;
}

HostCpu::ContextScope::ContextScope(HostCpu* cpu)
    : m_saved(g_current)
{
    g_current = cpu;
}

HostCpu::ContextScope::~ContextScope()
{
    g_current = m_saved;
}

ns3::Time
HostCpu::Busy() const
{
    ns3::Time t;
    for (const auto& b : m_stats.busy)
    {
        t += b;
    }
    return t;
}

void
HostCpu::Submit(ns3::Time work, CpuWork kind, std::function<void()> done)
{
    const bool own = m_inContinuation && g_current == this;
    Job j{work, kind, std::move(done), ns3::Simulator::Now(), !own};
    if (own)
    {
        // the running context's own next step: in front, in submission order
        m_insertAt = std::min(m_insertAt, m_queue.size());
        m_queue.insert(m_queue.begin() + static_cast<std::ptrdiff_t>(m_insertAt), std::move(j));
        ++m_insertAt;
        return; // Finish() pumps once the continuation returns
    }
    m_queue.push_back(std::move(j));
    Pump();
}

void
HostCpu::RaiseNetTx(std::function<void()> action)
{
    // raise_softirq_irqoff(NET_TX_SOFTIRQ): set the pending bit; it runs at
    // this CPU's next softirq point.
    m_netTx = std::move(action);
    if (m_softirqPending || m_ksoftirqdQueued)
    {
        return;
    }
    m_softirqPending = true;
    ++m_stats.softirqRaised;
    if (!m_inContinuation && !m_running)
    {
        Pump(); // an idle CPU takes it at once (the raise came from outside its work)
    }
}

void
HostCpu::EnableBh()
{
    NS_ASSERT(m_bhDisabled > 0);
    --m_bhDisabled;
    if (m_bhDisabled == 0 && !m_inContinuation && !m_running)
    {
        Pump();
    }
}

void
HostCpu::RunSoftirq(bool inKsoftirqd)
{
    // __do_softirq() -> net_tx_action(): in the CPU's own context, so what it
    // submits (the qdisc runs' packets) runs next.
    m_softirqPending = false;
    m_inKsoftirqd = inKsoftirqd;
    if (inKsoftirqd)
    {
        ++m_stats.softirqKsoftirqd;
    }
    else
    {
        ++m_stats.softirqOnReturn;
    }
    CurrentScope scope(this);
    m_inContinuation = true;
    m_insertAt = 0;
    if (m_netTx)
    {
        m_netTx();
    }
    m_inContinuation = false;
}

void
HostCpu::Pump()
{
    while (!m_running)
    {
        if (m_softirqPending && m_bhDisabled == 0)
        {
            // A softirq point. Raised again by the work of the softirq that
            // just ended: __do_softirq() restarts, up to MAX_SOFTIRQ_RESTART
            // times; then wakeup_softirqd() and the rest waits in ksoftirqd.
            const bool restart = m_stats.jobs > 0 && IsSoftirqWork(m_current.kind);
            if (restart && m_inKsoftirqd)
            {
                RunSoftirq(true); // ksoftirqd loops while a softirq is pending
                continue;
            }
            m_restarts = restart ? m_restarts + 1 : 0;
            if (m_restarts >= kMaxSoftirqRestart)
            {
                m_restarts = 0;
                m_softirqPending = false;
                m_ksoftirqdQueued = true;
                m_queue.push_back(Job{ns3::Time(0), CpuWork::Softirq,
                                      [this]() {
                                          m_ksoftirqdQueued = false;
                                          m_softirqPending = true;
                                          RunSoftirq(true);
                                      },
                                      ns3::Simulator::Now(), true});
            }
            else
            {
                RunSoftirq(false);
            }
            continue;
        }
        if (m_queue.empty())
        {
            return;
        }
        m_current = std::move(m_queue.front());
        m_queue.pop_front();
        if (m_current.back)
        {
            m_stats.maxQueueWait = std::max(m_stats.maxQueueWait, ns3::Simulator::Now() - m_current.queuedAt);
        }
        m_running = true;
        ns3::Simulator::Schedule(m_current.work, &HostCpu::Finish, this);
    }
}

void
HostCpu::Finish()
{
    m_running = false;
    ++m_stats.jobs;
    m_stats.busy[static_cast<size_t>(m_current.kind)] += m_current.work;
    if (m_current.done)
    {
        CurrentScope scope(this);
        m_inContinuation = true;
        m_insertAt = 0;
        std::function<void()> done = std::move(m_current.done);
        m_current.done = nullptr;
        done();
        m_inContinuation = false;
    }
    Pump();
}

void
HostCpu::DoDispose()
{
    m_queue.clear();
    m_current.done = nullptr;
    m_netTx = nullptr;
    ns3::Object::DoDispose();
}

} // namespace tunsim
