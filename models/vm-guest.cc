#include "vm-guest.h"

#include "ns3/simulator.h"
#include "ns3/uinteger.h"

namespace tunsim
{

NS_OBJECT_ENSURE_REGISTERED(GuestRxQueue);

ns3::TypeId
GuestRxQueue::GetTypeId()
{
    static ns3::TypeId tid =
        ns3::TypeId("tunsim::GuestRxQueue")
            .SetParent<ns3::Object>()
            .SetGroupName("Tunsim")
            .AddConstructor<GuestRxQueue>()
            .AddAttribute("Size", "Receive buffers the guest posts (rx ring / virtqueue entries)",
                          ns3::UintegerValue(256), ns3::MakeUintegerAccessor(&GuestRxQueue::m_size),
                          ns3::MakeUintegerChecker<uint32_t>(1, 32768))
            .AddAttribute("RefillBatch",
                          "Handled buffers given back to the device at a time (e1000: "
                          "E1000_RX_BUFFER_WRITE = 16); the rest at the end of a poll",
                          ns3::UintegerValue(16), ns3::MakeUintegerAccessor(&GuestRxQueue::m_refillBatch),
                          ns3::MakeUintegerChecker<uint32_t>(1, 32768))
            .AddAttribute("Budget", "Frames per NAPI poll (NAPI_POLL_WEIGHT)", ns3::UintegerValue(64),
                          ns3::MakeUintegerAccessor(&GuestRxQueue::m_budget),
                          ns3::MakeUintegerChecker<uint32_t>(1, 4096))
            .AddAttribute("PerFrameCost", "Guest CPU per received frame (driver + stack)",
                          ns3::TimeValue(ns3::NanoSeconds(1000)),
                          ns3::MakeTimeAccessor(&GuestRxQueue::m_perFrame), ns3::MakeTimeChecker(ns3::Time(0)))
            .AddAttribute("IrqLatency", "Interrupt raised -> the guest's NAPI poll runs",
                          ns3::TimeValue(ns3::MicroSeconds(5)),
                          ns3::MakeTimeAccessor(&GuestRxQueue::m_irqLatency), ns3::MakeTimeChecker(ns3::Time(0)));
    return tid;
}

void
GuestRxQueue::Open()
{
    m_free = m_size;
    m_handled = 0;
}

void
GuestRxQueue::DoDispose()
{
    m_event.Cancel();
    m_written.clear();
    m_visible.clear();
    m_deliver = nullptr;
    m_refilled = nullptr;
    ns3::Object::DoDispose();
}

void
GuestRxQueue::Put(ns3::Ptr<ns3::Packet> frame)
{
    NS_ASSERT_MSG(m_free > 0, "GuestRxQueue::Put() with no free buffer");
    --m_free;
    m_written.push_back(frame);
    m_stats.maxQueued = std::max(m_stats.maxQueued, Queued());
}

void
GuestRxQueue::Publish()
{
    while (!m_written.empty())
    {
        m_visible.push_back(m_written.front());
        m_written.pop_front();
    }
}

void
GuestRxQueue::Signal()
{
    // An interrupt while NAPI is scheduled or running is masked
    // (napi_schedule_prep() fails): the running poll will see the frames.
    if (m_napiScheduled || m_visible.empty())
    {
        return;
    }
    m_napiScheduled = true;
    ++m_stats.interrupts;
    m_inPoll = 0;
    ++m_stats.polls;
    m_event = ns3::Simulator::Schedule(m_irqLatency, &GuestRxQueue::NapiPoll, this);
}

void
GuestRxQueue::NapiPoll()
{
    // virtnet_poll() / e1000_clean(): take the next published frame.
    if (m_visible.empty() || m_inPoll >= m_budget)
    {
        Refill(); // end of the poll: e1000_alloc_rx_buffers / try_fill_recv
        if (!m_visible.empty())
        {
            // Budget used up: napi_complete_done() is not called, the poll
            // runs again.
            m_inPoll = 0;
            ++m_stats.polls;
            m_event = ns3::Simulator::ScheduleNow(&GuestRxQueue::NapiPoll, this);
            return;
        }
        m_napiScheduled = false; // napi_complete_done(): interrupts back on
        return;
    }
    ++m_inPoll;
    m_stats.busy += m_perFrame;
    m_event = ns3::Simulator::Schedule(m_perFrame, &GuestRxQueue::FrameDone, this);
}

void
GuestRxQueue::FrameDone()
{
    ns3::Ptr<ns3::Packet> frame = m_visible.front();
    m_visible.pop_front();
    ++m_stats.frames;
    ++m_handled;
    if (m_handled >= m_refillBatch)
    {
        Refill();
    }
    if (m_deliver)
    {
        m_deliver(frame); // netif_receive_skb(): the guest stack, inside the poll
    }
    NapiPoll();
}

void
GuestRxQueue::Refill()
{
    if (m_handled == 0)
    {
        return;
    }
    m_free += m_handled;
    m_handled = 0;
    ++m_stats.refills;
    if (m_refilled)
    {
        m_refilled();
    }
}

} // namespace tunsim
