// LinuxTcpSocket, continued: RACK for the retransmitted head (with its
// probe timer) and pacing per GSO skb. See linux-tcp-socket.h.
#include "linux-tcp-socket.h"

#include "ns3/simulator.h"
#include "ns3/tcp-tx-buffer.h"

#include <algorithm>

namespace tunsim
{

bool
LinuxTcpSocket::RackHeadLost()
{
    // tcp_rack_detect_loss(), for the segment at snd_una: a retransmission
    // is lost again when a segment sent after it has been (s)acked and
    // rack.rtt + reo_wnd (min_rtt / 4) have passed since it was sent.
    // ns-3's scoreboard (RFC 6675 NextSeg()) never retransmits a segment
    // twice before an RTO; Linux's RACK does, which is what keeps a flow
    // out of RTOs when a full ring drops retransmissions too. Only the
    // head is checked (the hole every lost retransmission ends up at).
    const ns3::SequenceNumber32 head = m_txBuffer->HeadSequence();
    while (!m_retxAt.empty() && ns3::SequenceNumber32(m_retxAt.begin()->first) < head)
    {
        m_retxAt.erase(m_retxAt.begin()); // acked
    }
    const auto state = m_tcb->m_congState.Get();
    const auto it = m_retxAt.find(head.GetValue());
    if ((state != ns3::TcpSocketState::CA_RECOVERY && state != ns3::TcpSocketState::CA_LOSS) ||
        !m_txBuffer->IsHeadRetransmitted() || it == m_retxAt.end())
    {
        return false;
    }
    const ns3::Time sentAt = it->second;
    const ns3::Time now = ns3::Simulator::Now();
    const ns3::Time latestDelivered = m_linuxRate->GetConnectionRate().m_firstSentTime; // rack.mstamp
    const ns3::Time minRtt = m_tcb->m_minRtt == ns3::Time::Max() ? ns3::Time(0) : m_tcb->m_minRtt;
    const ns3::Time rackRtt = m_caRtt.IsZero() ? minRtt : m_caRtt;
    if (latestDelivered <= sentAt || now < sentAt + rackRtt + minRtt / 4)
    {
        return false;
    }
    m_txBuffer->DeleteRetransmittedFlagFromHead();
    m_txBuffer->MarkHeadAsLost();
    ++m_rackLost;
    return true;
}

void
LinuxTcpSocket::PaceSkb(uint32_t sz, bool moreOfThisSkb)
{
    // tcp_internal_pacing(): Linux paces skbs, not segments -- a GSO skb of
    // n segments leaves at once and the next one waits n * len / rate.
    // ns-3's SendPendingData() arms its pacing timer after every segment;
    // the rest of this skb goes at once (PaceContinue), and after its last
    // segment the timer covers the whole skb (PaceSkbDone).
    m_pacedSkbBytes += sz;
    if (moreOfThisSkb)
    {
        ns3::Simulator::ScheduleNow(&LinuxTcpSocket::PaceContinue, this);
        return;
    }
    const uint32_t bytes = m_pacedSkbBytes;
    m_pacedSkbBytes = 0;
    if (bytes > sz)
    {
        ns3::Simulator::ScheduleNow(&LinuxTcpSocket::PaceSkbDone, this, bytes);
    }
}

void
LinuxTcpSocket::PaceContinue()
{
    const uint32_t before = m_pacedSkbBytes;
    m_pacingTimer.Cancel();
    SendPendingArmed();
    if (m_pacedSkbBytes == before && before > 0)
    {
        // the window stopped the skb short: pace what was sent of it
        m_pacedSkbBytes = 0;
        PaceSkbDone(before);
    }
}

void
LinuxTcpSocket::PaceSkbDone(uint32_t bytes)
{
    m_pacingTimer.Cancel();
    const ns3::DataRate rate = m_tcb->m_pacingRate.Get();
    if (rate.GetBitRate() > 0)
    {
        m_pacingTimer.Schedule(rate.CalculateBytesTxTime(bytes));
    }
}

ns3::Time
LinuxTcpSocket::ProbeTimeout() const
{
    // tcp_schedule_loss_probe(): PTO = 2 * srtt (at least 10 ms)
    return std::max(2 * LinuxSrtt(), ns3::MilliSeconds(10));
}

void
LinuxTcpSocket::RackTimeout()
{
    // tcp_send_loss_probe() on a tail whose only segment in question is the
    // retransmitted head: the probe's ACK would let RACK mark it lost one
    // RTT later; here the head is marked lost when the timer finds it still
    // unacked and nothing sent after it delivered (a named simplification
    // of TLP + RACK for this one case).
    const ns3::SequenceNumber32 head = m_txBuffer->HeadSequence();
    const auto it = m_retxAt.find(head.GetValue());
    if (m_state != ESTABLISHED && m_state != CLOSE_WAIT)
    {
        return;
    }
    if (!m_txBuffer->IsHeadRetransmitted() || it == m_retxAt.end())
    {
        return;
    }
    const ns3::Time due = it->second + ProbeTimeout();
    if (ns3::Simulator::Now() < due)
    {
        m_rackTimer = ns3::Simulator::Schedule(due - ns3::Simulator::Now(), &LinuxTcpSocket::RackTimeout, this);
        return;
    }
    m_txBuffer->DeleteRetransmittedFlagFromHead();
    m_txBuffer->MarkHeadAsLost();
    ++m_rackLost;
    m_wndBlocked = false; // a retransmission inside the window
    SendPendingArmed();
}

} // namespace tunsim
