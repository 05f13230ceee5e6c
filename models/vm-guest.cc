#include "vm-guest.h"

#include "gso-tag.h"

#include "ns3/boolean.h"
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
            .AddAttribute("BufferBytes",
                          "Bytes one receive buffer holds (virtio-net mergeable buffers grown to "
                          "PAGE_SIZE: 4096; e1000 rx_buffer_len for MTU 1500: 2048)",
                          ns3::UintegerValue(4096), ns3::MakeUintegerAccessor(&GuestRxQueue::m_bufferBytes),
                          ns3::MakeUintegerChecker<uint32_t>(64, 1u << 20))
            .AddAttribute("HdrBytes",
                          "Bytes the device writes in front of a frame in its first buffer "
                          "(virtio_net_hdr_mrg_rxbuf: 12; e1000: 0)",
                          ns3::UintegerValue(0), ns3::MakeUintegerAccessor(&GuestRxQueue::m_hdrBytes),
                          ns3::MakeUintegerChecker<uint32_t>(0, 64))
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
                          ns3::MakeTimeAccessor(&GuestRxQueue::m_irqLatency), ns3::MakeTimeChecker(ns3::Time(0)))
            .AddAttribute("Gro",
                          "Generic receive offload in the poll (NapiGro: napi_gro_receive(), on by "
                          "default on every Linux NIC): consecutive MTU segments of a TCP flow go "
                          "up as one skb and are acknowledged once",
                          ns3::BooleanValue(true), ns3::MakeBooleanAccessor(&GuestRxQueue::m_groOn),
                          ns3::MakeBooleanChecker());
    return tid;
}

void
GuestRxQueue::Open()
{
    m_free = m_size;
    m_handled = 0;
    m_gro.SetDeliver([this](ns3::Ptr<ns3::Packet> p) {
        if (m_deliver)
        {
            m_deliver(p);
        }
    });
}

void
GuestRxQueue::DoDispose()
{
    m_event.Cancel();
    m_written.clear();
    m_visible.clear();
    m_gro = NapiGro(); // held segments and the callback that holds `this`
    m_deliver = nullptr;
    m_refilled = nullptr;
    ns3::Object::DoDispose();
}

uint32_t
GuestRxQueue::BuffersFor(uint32_t bytes) const
{
    // receive_mergeable(): num_buffers of the header and the frame.
    return std::max<uint32_t>(1, (bytes + m_hdrBytes + m_bufferBytes - 1) / m_bufferBytes);
}

void
GuestRxQueue::Put(VmFrame frame)
{
    frame.buffers = frame.rest.empty() ? 1 : BuffersFor(frame.Bytes());
    NS_ASSERT_MSG(m_free >= frame.buffers, "GuestRxQueue::Put() without enough free buffers");
    m_free -= frame.buffers;
    m_queuedSegments += frame.Segments();
    m_written.push_back(std::move(frame));
    m_stats.maxQueued = std::max(m_stats.maxQueued, Queued());
}

void
GuestRxQueue::Publish()
{
    while (!m_written.empty())
    {
        m_visible.push_back(std::move(m_written.front()));
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
        // napi_complete_done(), and napi_poll() after a poll that used its
        // budget (HZ < 1000): every held GRO skb goes up.
        m_gro.Flush();
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
    VmFrame frame = std::move(m_visible.front());
    m_visible.pop_front();
    m_queuedSegments -= frame.Segments();
    ++m_stats.frames;
    m_handled += frame.buffers;
    if (m_handled >= m_refillBatch)
    {
        Refill();
    }
    if (m_deliver)
    {
        // netif_receive_skb(): the guest stack, inside the poll. A GSO
        // frame is one skb there: its segments go up in order, the last
        // one marked as the end of the skb.
        if (frame.rest.empty())
        {
            if (m_groOn)
            {
                m_gro.Receive(frame.head); // napi_gro_receive()
            }
            else
            {
                m_deliver(frame.head);
            }
        }
        else
        {
            if (m_groOn)
            {
                m_gro.FlushFlowOf(frame.head); // the flow's held skb first, in order
            }
            frame.head->AddPacketTag(VnetFrameTag(false));
            m_deliver(frame.head);
            for (size_t i = 0; i < frame.rest.size(); ++i)
            {
                frame.rest[i]->AddPacketTag(VnetFrameTag(i + 1 == frame.rest.size()));
                m_deliver(frame.rest[i]);
            }
        }
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
