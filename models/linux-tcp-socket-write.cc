// LinuxTcpSocket::ContinueWritePass(): one tcp_write_xmit() pass over new
// data without ns-3.37's O(flight) scoreboard walk per segment.
//
// TcpSocketBase::SendPendingData() asks TcpTxBuffer::NextSeg() for every
// segment it sends, and NextSeg() walks the whole sent list each time (RFC
// 6675 rule 1 looks for a lost segment before rule 2 offers new data). With
// thousands of segments in flight that walk was 45 % of a bulk TCP run at a
// 5000-entry ring. Linux's tcp_write_xmit() keeps no such walk: it sends
// from sk->sk_send_head until cwnd, the receive window, TSQ or pacing stop
// it. Here, once SendPendingData() has sent one segment of new data, the
// rest of its loop is run from SendDataPacket(): the same checks, in the
// same order, for as long as they send new data, and the first time one of
// them would do anything else the pass is handed back to SendPendingData(),
// which then goes on exactly as before. So the segments, their order and
// every side effect are those of the per-segment loop.
//
// Why NextSeg() needs no asking in between: it returned new data (rule 2)
// for the first segment, so no segment was lost and unretransmitted (rule 1);
// sending marks none lost, and rule 3 is used only in recovery, which this
// pass never runs in (DoRetransmit() calls SendDataPacket() only there).
//
// LinuxTcpSocket::WritePassFromTop(): the first segment of a pass without
// the walk either. SendPendingData() is not virtual, but the first thing it
// asks is AvailableWindow(), which is. Where this socket calls
// SendPendingData() itself (TSQ handler, pacing timer, PaceContinue(),
// probe0, RACK) and around ns-3.37's ReceivedAck() -- whose last statement is
// SendPendingData(), with no AvailableWindow() asked before it but Send()'s
// when the application writes from NewAck()'s NotifySend(), and Send()
// leaves the arming alone -- and for the SendPendingData() that Send()
// schedules one time step on (Send() below: the event is put back armed,
// in its place; until 2026-11-30 that call walked the list for its first
// segment, 26 % of a 10-s bulk run at a 5000-entry ring) -- the call is
// armed: its first AvailableWindow() runs the loop here, the same steps in
// the same order, each segment through SendDataPacket(), and answers with
// the window the loop would test next (0: the loop is over). NextSeg() is answered without its walk
// (NextSegHinted()): rule 1 finds nothing while TcpTxBuffer::GetLost() is 0
// (m_lostOut is the sum of the lost segments' sizes,
// TcpTxBuffer::ConsistencyCheck()), else rules 1 and 3 come from the
// RetransmitHint (retransmit-hint.h: positions in the sent list that only
// move forward, as Linux's retransmit_skb_hint); rule 2 is computed as
// NextSeg() computes it, the size of the sent list recovered from the
// buffer's counters (BytesInFlight() = sent - sacked - lost + retrans).
// Without SACK (Reno's emulated scoreboard) it hands the loop back at the top
// of an iteration, where SendPendingData() asks NextSeg() as it always did.
// tests/test_write_pass.cc runs whole scenarios both ways and compares.
#include "linux-tcp-socket.h"

#include "ns3/abort.h"
#include "ns3/simulator.h"
#include "ns3/tcp-tx-buffer.h"

#include <algorithm>

namespace tunsim
{

uint32_t
LinuxTcpSocket::ContinueWritePass(ns3::SequenceNumber32 next, bool withAck)
{
    using State = ns3::TcpSocketState;
    if (m_tcb->m_pacing || m_tcb->m_congState == State::CA_RECOVERY || m_sendBlocked)
    {
        return 0; // paced: SendPendingData() stops after every segment anyway
    }
    const ns3::SequenceNumber32 first = m_tcb->m_nextTxSequence;
    const uint32_t mss = m_tcb->m_segmentSize;
    uint32_t total = 0;
    while (true)
    {
        // (C.4) after the segment just sent, then (C.5)
        const uint32_t window = AvailableWindow();
        if (window == 0 || (m_tcb->m_congState == State::CA_OPEN && m_state == FIN_WAIT_1))
        {
            break;
        }
        // TcpTxBuffer::NextSeg() rule (2): new data within the peer's window
        const uint32_t sent = m_tcb->m_highTxMark - m_txBuffer->HeadSequence();
        const uint32_t availableData = m_txBuffer->SizeFromSequence(next);
        if (next != m_tcb->m_highTxMark || availableData == 0 || sent > m_rWnd.Get())
        {
            break;
        }
        const uint32_t allowed = std::min(mss, m_rWnd.Get() - sent);
        // SendPendingData(): the application refill, silly window, Nagle
        // and CA_EVENT_TX_START are left to it (break before them).
        if (availableData < window || window < mss || m_tcb->m_bytesInFlight.Get() == 0 ||
            (!m_noDelay && UnAckDataCount() > 0 && availableData < mss))
        {
            break;
        }
        m_tcb->m_nextTxSequence = next;
        const uint32_t sz = SendSegment(next, std::min({window, mss, allowed}), withAck);
        total += sz;
        next += sz;
        if (sz == 0 || m_sendBlocked)
        {
            break;
        }
    }
    m_tcb->m_nextTxSequence = first; // SendPendingData() adds what was sent
    return total;
}

uint32_t
LinuxTcpSocket::WritePassFromTop()
{
    using State = ns3::TcpSocketState;
    const uint32_t mss = m_tcb->m_segmentSize;
    uint32_t window = AvailableWindow();
    while (window > 0)
    {
        if (IsPacingEnabled() && m_pacingTimer.IsRunning())
        {
            return 0; // the loop breaks
        }
        if (m_tcb->m_congState == State::CA_OPEN && m_state == FIN_WAIT_1)
        {
            return 0;
        }
        const bool rule3 = m_rfc6675Rule3 && m_sackEnabled && m_tcb->m_congState == State::CA_RECOVERY;
        ns3::SequenceNumber32 next;
        ns3::SequenceNumber32 nextHigh;
        bool found = false;
        if (!NextSegHinted(rule3, &next, &nextHigh, &found))
        {
            return window; // NextSeg()'s walk decides
        }
        if (!found)
        {
            return 0; // NextSeg() false: the loop breaks
        }
        const uint32_t availableData = m_txBuffer->SizeFromSequence(next);
        const uint32_t maxSizeToSend = static_cast<uint32_t>(nextHigh - next);
        // SendPendingData() from here on, step by step
        if (availableData < window)
        {
            NotifySend(GetTxAvailable());
        }
        if (window < mss && availableData > window)
        {
            return 0; // silly window
        }
        if (!m_noDelay && UnAckDataCount() > 0 && availableData < mss)
        {
            return 0; // Nagle
        }
        const uint32_t s = std::min({window, mss, maxSizeToSend});
        if (m_tcb->m_nextTxSequence != next)
        {
            m_tcb->m_nextTxSequence = next;
        }
        if (m_tcb->m_bytesInFlight.Get() == 0)
        {
            m_congestionControl->CwndEvent(m_tcb, State::CA_EVENT_TX_START);
        }
        const uint32_t sz = SendDataPacket(m_tcb->m_nextTxSequence, s, m_connected);
        m_tcb->m_nextTxSequence += sz;
        if (IsPacingEnabled() && m_pacingTimer.IsExpired())
        {
            m_pacingTimer.Schedule(m_tcb->m_pacingRate.Get().CalculateBytesTxTime(sz));
            return 0;
        }
        window = AvailableWindow(); // (C.4), then (C.5)
    }
    return 0;
}

bool
LinuxTcpSocket::OnlyRule3Left()
{
    if (m_rfc6675Rule3 || !m_sackEnabled || m_tcb->m_congState != ns3::TcpSocketState::CA_RECOVERY)
    {
        return false;
    }
    // rule (2): unsent data (ns-3's NextSeg() asks for it whatever the peer's window)
    if (m_txBuffer->SizeFromSequence(m_tcb->m_highTxMark) > 0)
    {
        return false;
    }
    // rule (1): a segment marked lost, neither retransmitted nor SACKed
    return m_txBuffer->GetLost() == 0 || !m_hint.Query(*m_txBuffer).lost;
}

bool
LinuxTcpSocket::NextSegHinted(bool rule3, ns3::SequenceNumber32* seq, ns3::SequenceNumber32* seqHigh, bool* found)
{
    if (!m_sackEnabled)
    {
        return false; // AddRenoSack()'s scoreboard: left to NextSeg()
    }
    const uint32_t mss = m_tcb->m_segmentSize;
    RetransmitHint::Answer a;
    if (m_txBuffer->GetLost() != 0 || rule3)
    {
        a = m_hint.Query(*m_txBuffer); // GetLost() == 0: no segment is marked lost
    }
    bool known = true;
    *found = true;
    if (a.lost)
    {
        // rule (1): the first lost segment neither retransmitted nor SACKed
        *seq = a.lostSeq;
        *seqHigh = *seq + mss;
    }
    else
    {
        // rule (2): new data if the peer's window covers the sent list, whose
        // size is BytesInFlight() = sent - sacked - lost + retrans solved for sent
        const uint32_t sentSize = m_txBuffer->BytesInFlight() + m_txBuffer->GetSacked() + m_txBuffer->GetLost() -
                                  m_txBuffer->GetRetransmitsCount();
        const ns3::SequenceNumber32 next = m_txBuffer->HeadSequence() + sentSize;
        const uint32_t rWnd = m_rWnd.Get();
        if (m_txBuffer->SizeFromSequence(next) > 0)
        {
            *found = sentSize <= rWnd;
            *seq = next;
            *seqHigh = next + (*found ? std::min(mss, rWnd - sentSize) : 0);
        }
        else if (rule3 && a.unsacked)
        {
            // rule (3): the first segment neither retransmitted nor SACKed;
            // NextSeg() skips one that starts at sequence 0 (it tests its
            // "no rule-3 segment yet" by the value 0): left to it
            known = a.unsackedSeq.GetValue() != 0;
            *seq = a.unsackedSeq;
            *seqHigh = *seq + mss;
        }
        else
        {
            *found = false; // rule (4) is not implemented by ns-3.37
        }
    }
    if (m_checkNextSeg && known)
    {
        ns3::SequenceNumber32 s;
        ns3::SequenceNumber32 h;
        const bool r = m_txBuffer->NextSeg(&s, &h, rule3);
        NS_ABORT_MSG_UNLESS(r == *found && (!r || (s == *seq && h == *seqHigh)),
                            "RetransmitHint: NextSeg() says " << r << " " << s << "-" << h << ", the hint " << *found
                                                              << " " << *seq << "-" << *seqHigh);
    }
    return known;
}

void
LinuxTcpSocket::OnTsqHandler()
{
    m_sendBlocked = false;
    // TsqHandler() calls SendPendingData() next in these states; it reaches
    // its first AvailableWindow() with data and an endpoint.
    if ((m_state == ESTABLISHED || m_state == CLOSE_WAIT) && m_txBuffer->Size() > 0 &&
        (m_endPoint != nullptr || m_endPoint6 != nullptr))
    {
        ArmWritePass();
    }
}

int
LinuxTcpSocket::Send(ns3::Ptr<ns3::Packet> p, uint32_t flags)
{
    const bool armed = m_passArmed;
    const bool pending = m_sendPendingDataEvent.IsRunning();
    m_passArmed = false;
    const int r = TsqTcpSocket::Send(p, flags);
    m_passArmed = armed;
    if (m_writePass && !pending && m_sendPendingDataEvent.IsRunning())
    {
        // Send() scheduled SendPendingData(m_connected) one time step on
        // (m_connected is true in the states where it does). The same call,
        // armed: removed and scheduled again at once, the event keeps its
        // place among those of its time stamp (nothing was scheduled in
        // between), and the simulator's event count is unchanged.
        const ns3::Time delay = ns3::Simulator::GetDelayLeft(m_sendPendingDataEvent);
        ns3::Simulator::Remove(m_sendPendingDataEvent);
        m_sendPendingDataEvent = ns3::Simulator::Schedule(delay, &LinuxTcpSocket::SendPendingArmed, this);
    }
    return r;
}

void
LinuxTcpSocket::SendPendingArmed()
{
    ArmWritePass();
    SendPendingData(m_connected);
    m_passArmed = false;
}

void
LinuxTcpSocket::PacingTimerExpired()
{
    ArmWritePass();
    NotifyPacingPerformed(); // SendPendingData(m_connected)
    m_passArmed = false;
}

} // namespace tunsim
