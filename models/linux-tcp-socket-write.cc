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
// every side effect are those of the per-segment loop (tests/
// test_linux_tcp.cc runs both and compares).
//
// Why NextSeg() needs no asking in between: it returned new data (rule 2)
// for the first segment, so no segment was lost and unretransmitted (rule 1);
// sending marks none lost, and rule 3 is used only in recovery, which this
// pass never runs in (DoRetransmit() calls SendDataPacket() only there).
#include "linux-tcp-socket.h"

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

} // namespace tunsim
