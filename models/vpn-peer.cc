#include "vpn-peer.h"

#include "gso-tag.h"
#include "tap-frame.h"
#include "vpn-encap.h"

#include "vpn-reader.h"

#include "ns3/boolean.h"
#include "ns3/packet.h"
#include "ns3/nstime.h"
#include "ns3/simulator.h"

namespace tunsim
{

NS_OBJECT_ENSURE_REGISTERED(VpnPeer);

ns3::TypeId
VpnPeer::GetTypeId()
{
    static ns3::TypeId tid = ns3::TypeId("tunsim::VpnPeer")
                                 .SetParent<ns3::Application>()
                                 .SetGroupName("Tunsim")
                                 .AddConstructor<VpnPeer>()
                                 .AddAttribute("WriteCost",
                                               "One write() of an inner packet into the peer's tun device "
                                               "(its host's receive processing runs inside it); packets "
                                               "arriving meanwhile wait. 0: free.",
                                               ns3::TimeValue(ns3::Time(0)),
                                               ns3::MakeTimeAccessor(&VpnPeer::m_writeCost),
                                               ns3::MakeTimeChecker(ns3::Time(0)))
                                 .AddAttribute("AckPerPass",
                                               "The receiving application reads, and its TCP acknowledges, "
                                               "after the peer's write pass: the segments of a pass of two "
                                               "or more are acknowledged once, at its last (VnetFrameTag).",
                                               ns3::BooleanValue(false),
                                               ns3::MakeBooleanAccessor(&VpnPeer::m_ackPerPass),
                                               ns3::MakeBooleanChecker());
    return tid;
}

void
VpnPeer::Setup(ns3::Ptr<ns3::VirtualNetDevice> dev,
               ns3::InetSocketAddress local,
               ns3::InetSocketAddress client,
               uint32_t encapOverhead)
{
    m_dev = dev;
    m_local = local;
    m_client = client;
    m_encapOverhead = encapOverhead;
    m_dev->SetSendCallback(ns3::MakeCallback(&VpnPeer::TunnelSend, this));
}

void
VpnPeer::StartApplication()
{
    m_socket = ns3::CreateObject<UnderlayEndpoint>();
    m_socket->Open(GetNode(), m_local, [this](ns3::Ptr<ns3::Packet> p) { HandleRead(p); });
    if (m_preemptGap)
    {
        ns3::Simulator::Schedule(ns3::Seconds(m_preemptGap->GetValue()), &VpnPeer::Preempt, this);
    }
}

void
VpnPeer::StopApplication()
{
}

void
VpnPeer::DoDispose()
{
    m_wakeEvent.Cancel();
    m_pendingFwd.clear();
    m_pendingRev.clear();
    m_dev = nullptr;
    if (m_socket)
    {
        m_socket->Dispose();
    }
    m_socket = nullptr;
    ns3::Application::DoDispose();
}

void
VpnPeer::SetWakeupLatencies(std::vector<ns3::Time> values, int64_t stream)
{
    m_sleeps = !values.empty();
    m_wakeup.Set(std::move(values), stream);
}

void
VpnPeer::SetWriteCosts(std::vector<ns3::Time> values, int64_t stream)
{
    m_drawsWriteCost = !values.empty();
    m_writeCosts.Set(std::move(values), stream);
}

void
VpnPeer::SetPreemption(ns3::Time interval, ns3::Time duration, int64_t stream)
{
    MakePreemptionDraws(interval, duration, stream, m_preemptGap, m_preemptLength);
}

void
VpnPeer::Preempt()
{
    ++m_preemptions;
    const ns3::Time end = ns3::Simulator::Now() + ns3::Seconds(m_preemptLength->GetValue());
    if (end > m_preemptedUntil)
    {
        m_preemptedUntil = end;
        ns3::Simulator::Schedule(end - ns3::Simulator::Now(), &VpnPeer::PreemptEnd, this);
    }
    m_preempted = true;
    ns3::Simulator::Schedule(ns3::Seconds(m_preemptGap->GetValue()), &VpnPeer::Preempt, this);
}

void
VpnPeer::PreemptEnd()
{
    if (ns3::Simulator::Now() < m_preemptedUntil)
    {
        return; // a later preemption overlapped this one
    }
    m_preempted = false;
    if (!m_resume)
    {
        return;
    }
    m_resume = false;
    m_wakeEvent.Cancel(); // running again: no wake-up to wait for
    RunAwake();
}

void
VpnPeer::HandleRead(ns3::Ptr<ns3::Packet> p)
{
    VpnEncapHeader encap(m_encapOverhead);
    p->RemoveHeader(encap);
    if (m_tap)
    {
        TapFrameHeader eth; // eth_type_trans() on the far side
        p->RemoveHeader(eth);
    }
    Arrive(p);
}

void
VpnPeer::Arrive(ns3::Ptr<ns3::Packet> p)
{
    if (m_preempted)
    {
        m_pendingFwd.push_back(p);
        m_resume = true;
        return;
    }
    if (WritesCost())
    {
        m_pendingFwd.push_back(p);
        if (m_busy || m_awake)
        {
            return; // WriteNext() takes it
        }
        if (m_sleeps)
        {
            ScheduleWake();
            return;
        }
        m_awake = true;
        WriteNext();
        return;
    }
    if (m_sleeps && !m_awake)
    {
        m_pendingFwd.push_back(p);
        ScheduleWake();
        return;
    }
    Deliver(p);
}

void
VpnPeer::WriteNext()
{
    if (m_preempted)
    {
        m_resume = true; // the next write() waits for the CPU
        return;
    }
    m_busy = false;
    if (!m_pendingFwd.empty())
    {
        m_busy = true; // before the write: its host's answer waits for the next read
        DeliverNextDue();
        ns3::Simulator::Schedule(m_writeCosts.Next(m_writeCost), &VpnPeer::WriteNext, this);
        return;
    }
    SendPendingBack();
}

void
VpnPeer::Deliver(ns3::Ptr<ns3::Packet> p)
{
    ++m_forward;
    if (m_delivered)
    {
        m_delivered(p);
    }
    m_dev->Receive(p, 0x0800, m_dev->GetAddress(), m_dev->GetAddress(), ns3::NetDevice::PACKET_HOST);
}

bool
VpnPeer::TunnelSend(ns3::Ptr<ns3::Packet> packet,
                    const ns3::Address& source,
                    const ns3::Address& dest,
                    uint16_t protocol)
{
    ++m_reverse;
    if (m_reverseEntry)
    {
        m_reverseEntry(packet);
    }
    if (m_busy || m_preempted)
    {
        m_pendingRev.push_back(packet); // read after its last due write() / when it runs again
        m_resume = m_resume || m_preempted;
        return true;
    }
    if (m_sleeps && !m_awake)
    {
        m_pendingRev.push_back(packet); // in its tun until the process reads it
        ScheduleWake();
        return true;
    }
    SendBack(packet);
    return true;
}

void
VpnPeer::SendBack(ns3::Ptr<ns3::Packet> packet)
{
    if (m_tap)
    {
        packet->AddHeader(TapFrameHeader());
    }
    ns3::InetSocketAddress to = m_client;
    if (m_reverseQueue)
    {
        // the client's reader for this packet's queue listens on port + q
        to.SetPort(static_cast<uint16_t>(m_client.GetPort() + m_reverseQueue(packet)));
    }
    packet->AddHeader(VpnEncapHeader(m_encapOverhead));
    m_socket->SendTo(packet, to);
}

void
VpnPeer::ScheduleWake()
{
    if (!m_wakeEvent.IsRunning())
    {
        m_wakeEvent = ns3::Simulator::Schedule(m_wakeup.Next(ns3::Time(0)), &VpnPeer::Wake, this);
    }
}

void
VpnPeer::Wake()
{
    // As the twin's far end: write() every forward packet that is due into
    // its tun (its host answers inside those writes: sent at once), then
    // read() what its host had sent meanwhile and send it on.
    if (m_preempted)
    {
        m_resume = true; // woken, but it has no CPU until the preemption ends
        return;
    }
    RunAwake();
}

void
VpnPeer::RunAwake()
{
    ++m_wakeups;
    m_awake = true;
    if (WritesCost())
    {
        WriteNext();
        return;
    }
    HandleAll();
}

void
VpnPeer::SendPendingBack()
{
    while (!m_pendingRev.empty())
    {
        ns3::Ptr<ns3::Packet> p = m_pendingRev.front();
        m_pendingRev.pop_front();
        SendBack(p);
    }
    m_awake = false;
    m_passWritten = 0;
}

void
VpnPeer::DeliverNextDue()
{
    ns3::Ptr<ns3::Packet> p = m_pendingFwd.front();
    m_pendingFwd.pop_front();
    MarkPass(p);
    Deliver(p);
}

void
VpnPeer::MarkPass(ns3::Ptr<ns3::Packet> p)
{
    // The twin's far end and its receivers share one CPU at one real-time
    // priority: a receiver woken by the first write() runs only when the far
    // end sleeps again. Until it reads, the unread data keeps the window from
    // advancing, so __tcp_ack_snd_check() sends no ACK per two segments;
    // tcp_recvmsg() -> tcp_cleanup_rbuf() then acknowledges everything at
    // once (more than one MSS unacknowledged). Simplified: the receiver's
    // own reads are not deferred (its window model sees them at arrival).
    if (!m_ackPerPass)
    {
        return;
    }
    const bool more = !m_pendingFwd.empty();
    if (more || m_passWritten > 0)
    {
        p->AddPacketTag(VnetFrameTag(!more));
    }
    ++m_passWritten;
}

void
VpnPeer::HandleAll()
{
    while (!m_pendingFwd.empty())
    {
        DeliverNextDue();
    }
    SendPendingBack();
}

} // namespace tunsim
