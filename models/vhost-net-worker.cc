#include "vhost-net-worker.h"

namespace tunsim
{

NS_OBJECT_ENSURE_REGISTERED(VhostNetWorker);

ns3::TypeId
VhostNetWorker::GetTypeId()
{
    static ns3::TypeId tid = ns3::TypeId("tunsim::VhostNetWorker")
                                 .SetParent<VmBackend>()
                                 .SetGroupName("Tunsim")
                                 .AddConstructor<VhostNetWorker>();
    return tid;
}

uint32_t
VhostNetWorker::BufProduce()
{
    // ptr_ring_consume_batched(): entry by entry through the tun consume
    // helper, so the policy hooks (and the ptr_ring's batched discard) see
    // every entry.
    uint32_t n = 0;
    while (n < kBatch)
    {
        VmFrame f = TakeFrame();
        if (!f.head)
        {
            break;
        }
        m_rxqSegments += f.Segments();
        m_rxq.push_back(std::move(f));
        ++n;
    }
    if (n)
    {
        ++m_batches;
        ++m_stats.reads;
    }
    return n;
}

void
VhostNetWorker::SignalUsed()
{
    if (m_doneIdx == 0)
    {
        return;
    }
    // vhost_add_used_and_signal_n()
    m_guest->Publish();
    m_guest->Signal();
    m_doneIdx = 0;
    ++m_signals;
}

void
VhostNetWorker::ForwardStep()
{
    // handle_rx(), one iteration of its loop.
    if (m_weightPkts >= kPktWeight || m_weightBytes >= kByteWeight)
    {
        // vhost_exceeds_weight(): requeue; out: vhost_net_signal_used().
        m_weightPkts = 0;
        m_weightBytes = 0;
        SignalUsed();
    }
    if (m_rxq.empty() && BufProduce() == 0)
    {
        // Nothing in the ring: vhost_net_enable_vq(), out: signal.
        m_weightPkts = 0;
        m_weightBytes = 0;
        SignalUsed();
        SleepOnRing();
        return;
    }
    if (m_guest->Free() < BuffersOf(m_rxq.front()))
    {
        // get_rx_bufs() found no buffer: vhost_enable_notify(), out: signal.
        m_weightPkts = 0;
        m_weightBytes = 0;
        SignalUsed();
        StopOnGuestFull();
        return;
    }
    RunOnCpu(FrameCost(m_rxq.front()), static_cast<void (VmBackend::*)()>(&VhostNetWorker::CopyDone));
}

void
VhostNetWorker::CopyDone()
{
    if (m_state == State::Idle)
    {
        return;
    }
    VmFrame f = std::move(m_rxq.front());
    m_rxq.pop_front();
    m_rxqSegments -= f.Segments();
    ++m_weightPkts;
    m_weightBytes += f.Bytes();
    const uint32_t headcount = BuffersOf(f);
    m_guest->Put(std::move(f));
    m_doneIdx += headcount; // vhost_net_rx: nvq->done_idx += headcount
    if (m_doneIdx > kBatch)
    {
        SignalUsed();
    }
    Loop();
}

} // namespace tunsim
