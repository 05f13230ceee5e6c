// LinuxTcpSocket, continued: the receiver -- what the application reads,
// and when an ACK leaves (tcp_input.c's __tcp_ack_snd_check() with SACK
// compression, tcp_timer.c's tcp_compressed_ack_kick()). See
// linux-tcp-socket.h.
#include "linux-tcp-socket.h"

#include "gso-tag.h"
#include "linux-tcp-demux.h"
#include "socket-account.h"
#include "unaligned-be.h"

#include "ns3/inet-socket-address.h"
#include "ns3/ipv4-end-point.h"
#include "ns3/simulator.h"
#include "ns3/tcp-option-ts.h"
#include "ns3/tcp-rx-buffer.h"

#include <algorithm>
#include <limits>

namespace tunsim
{

// The receive path's entry. ns-3.37 deserializes every TCP header three
// times on its way up (TcpL4Protocol::PacketReceived()'s PeekHeader(),
// TcpSocketBase::ForwardUp()'s PeekHeader(), DoForwardUp()'s
// RemoveHeader()), and each time makes every option an Object through
// ObjectFactory: about 4 % of a bulk TCP run's instructions per pass.
// ForwardUp() needs only the sequence number and the header's length, for
// IsValidTcpSegment() and the ECN CE check; ForwardUpV4() reads them from
// the header's bytes (RFC 9293: sequence number at offset 4, data offset in
// the high nibble of byte 12, which is the length TcpHeader::Deserialize()
// returns for the well-formed options ns-3 writes) and then does exactly
// what ForwardUp() does. The end point's callback is pointed here wherever
// TcpSocketBase::SetupCallback() sets it: Bind() (also reached from
// Connect()) and CompleteFork().

int
LinuxTcpSocket::Bind()
{
    const int r = TsqTcpSocket::Bind();
    HookForwardUp();
    return r;
}

int
LinuxTcpSocket::Bind(const ns3::Address& address)
{
    const int r = TsqTcpSocket::Bind(address);
    HookForwardUp();
    return r;
}

void
LinuxTcpSocket::CompleteFork(ns3::Ptr<ns3::Packet> p, const ns3::TcpHeader& tcpHeader,
                             const ns3::Address& fromAddress, const ns3::Address& toAddress)
{
    TsqTcpSocket::CompleteFork(p, tcpHeader, fromAddress, toAddress);
    HookForwardUp();
}

void
LinuxTcpSocket::HookForwardUp()
{
    if (m_forwardUpBytes && m_endPoint != nullptr)
    {
        m_endPoint->SetRxCallback(ns3::MakeCallback(&LinuxTcpSocket::ForwardUpV4, ns3::Ptr<LinuxTcpSocket>(this)));
    }
    if (m_demuxByEndPoint && m_endPoint != nullptr)
    {
        LinuxTcpDemux::Of(m_node)->Add(this);
    }
}

void
LinuxTcpSocket::ForwardUpV4(ns3::Ptr<ns3::Packet> packet, ns3::Ipv4Header header, uint16_t port,
                            ns3::Ptr<ns3::Ipv4Interface>)
{
    const ns3::Address fromAddress = ns3::InetSocketAddress(header.GetSource(), port);
    const ns3::Address toAddress = ns3::InetSocketAddress(header.GetDestination(), m_endPoint->GetLocalPort());
    uint8_t raw[13] = {};
    uint32_t headerBytes = 0; // too short for a header: IsValidTcpSegment() rejects 0
    if (packet->GetSize() >= sizeof(raw))
    {
        packet->CopyData(raw, sizeof(raw));
        // TcpHeader::Deserialize(): options of (words - 5) * 4 bytes, which
        // below 5 words wraps past m_maxOptionsLen, and it returns 20
        const uint32_t words = raw[12] >> 4;
        headerBytes = words >= 5 ? words * 4 : 20;
    }
    const ns3::SequenceNumber32 seq(GetUnalignedBe32(raw + 4));
    const uint32_t size = packet->GetSize();
    if (!IsValidTcpSegment(seq, headerBytes, headerBytes <= size ? size - headerBytes : 0))
    {
        return;
    }
    if (header.GetEcn() == ns3::Ipv4Header::ECN_CE && m_ecnCESeq < seq)
    {
        m_ecnCESeq = seq;
        m_tcb->m_ecnState = ns3::TcpSocketState::ECN_CE_RCVD;
        m_congestionControl->CwndEvent(m_tcb, ns3::TcpSocketState::CA_EVENT_ECN_IS_CE);
    }
    else if (header.GetEcn() != ns3::Ipv4Header::ECN_NotECT &&
             m_tcb->m_ecnState != ns3::TcpSocketState::ECN_DISABLED)
    {
        m_congestionControl->CwndEvent(m_tcb, ns3::TcpSocketState::CA_EVENT_ECN_NO_CE);
    }
    DoForwardUp(packet, fromAddress, toAddress);
}

void
LinuxTcpSocket::ReceivedData(ns3::Ptr<ns3::Packet> packet, const ns3::TcpHeader& tcpHeader)
{
    const ns3::SequenceNumber32 before = m_tcb->m_rxBuffer->NextRxSequence();
    m_rcvSeg = RcvSegment{true, false, before, m_tcb->m_rxBuffer->Size()}; // for CompressAck()
    if (!m_rcvWindowModel && !m_quickAck)
    {
        ns3::TcpSocketBase::ReceivedData(packet, tcpHeader);
        m_rcvSeg.active = false;
        return;
    }
    const uint32_t len = packet->GetSize();
    // Feed the window model first: quick-ACK mode decides this segment's ACK.
    ns3::Ptr<ns3::TcpRxBuffer> rx = m_tcb->m_rxBuffer;
    const bool inOrder = tcpHeader.GetSequenceNumber() == before;
    uint32_t tsEcho = 0;
    if (m_timestampEnabled && tcpHeader.HasOption(ns3::TcpOption::TS))
    {
        auto ts = ns3::DynamicCast<const ns3::TcpOptionTS>(tcpHeader.GetOption(ns3::TcpOption::TS));
        tsEcho = ts->GetEcho();
    }
    const uint32_t oooAfter = rx->Size() - rx->Available();
    RcvModel().OnSegment(len, SkbTruesize(len + 52), inOrder,
                       static_cast<uint64_t>(ns3::Simulator::Now().GetMicroSeconds()), tsEcho,
                       ns3::TcpOptionTS::NowToTsValue(), oooAfter);
    const uint32_t delAckMax = m_delAckMaxCount;
    if (m_quickAck && RcvModel().QuickAck())
    {
        m_delAckMaxCount = 1;
    }
    VnetFrameTag frame;
    if (packet->PeekPacketTag(frame))
    {
        // One skb in the guest (a GSO frame from a tap with offloads):
        // __tcp_ack_snd_check() runs once, at its end, and sends the ACK
        // at once (more than one full-sized segment arrived).
        m_delAckMaxCount = frame.Last() ? 1 : std::numeric_limits<uint32_t>::max();
    }
    const uint32_t delAckBefore = m_delAckCount;
    ns3::TcpSocketBase::ReceivedData(packet, tcpHeader);
    m_rcvSeg.active = false;
    m_delAckMaxCount = delAckMax;
    if (m_rcvSeg.acked && (delAckBefore > 0 || m_quickAck))
    {
        RcvModel().AckSent(); // the segment was acked at once
    }
}

ns3::Ptr<ns3::Packet>
LinuxTcpSocket::Recv(uint32_t maxSize, uint32_t flags)
{
    ns3::Ptr<ns3::Packet> p = ExtractInOrder(maxSize, flags);
    if (p && m_rcvWindowModel)
    {
        m_copied += p->GetSize();
        RcvModel().OnRead(m_copied, static_cast<uint64_t>(ns3::Simulator::Now().GetMicroSeconds()),
                        m_tcb->m_rxBuffer->Available());
    }
    return p;
}

// One recvmsg() of up to maxSize bytes, taken from the receive queue one
// segment at a time: ns-3.37's TcpRxBuffer::Extract(n) builds its result
// with Packet::AddAtEnd() per segment, copying what it has gathered so far
// each time -- quadratic in the bytes read, and after a filled hole (an
// out-of-order queue of megabytes becomes readable at once) it was a quarter
// of a TCP run's instructions. The bytes are the same; the packet returned
// is a fresh one of that length (the sinks count bytes, nothing reads the
// payload or its tags).
ns3::Ptr<ns3::Packet>
LinuxTcpSocket::ExtractInOrder(uint32_t maxSize, uint32_t flags)
{
    const uint32_t want = std::min(maxSize, m_tcb->m_rxBuffer->Available());
    const uint32_t chunk = std::max<uint32_t>(m_tcb->m_segmentSize, 1);
    if (want <= chunk)
    {
        return ns3::TcpSocketBase::Recv(maxSize, flags); // also the EOF case
    }
    uint32_t got = 0;
    while (got < want)
    {
        ns3::Ptr<ns3::Packet> part = ns3::TcpSocketBase::Recv(std::min(chunk, want - got), flags);
        if (!part || part->GetSize() == 0)
        {
            break;
        }
        got += part->GetSize();
    }
    return ns3::Create<ns3::Packet>(got);
}

// The ACK ns-3's ReceivedData() sends at once because the receive queue
// has a hole ("a gap exists ... always ACK"), or its delayed ACK: Linux's
// __tcp_ack_snd_check(sk, ofo_possible = 1) decides instead. It sends at
// once when rcv_nxt moved more than one MSS past rcv_wup, in quick-ACK
// mode, or for a segment that brought nothing new (tcp_data_queue()'s old
// data: ICSK_ACK_NOW); without out-of-order data the delayed-ACK rules are
// ns-3's (unchanged). With out-of-order data: the first three ACKs per
// rcv_nxt go at once (dup_ack_counter < TCP_FASTRETRANS_THRESH), later ones
// are held back (compressed_ack) until tcp_comp_sack_nr of them are, or
// the compressed-ACK hrtimer fires. Simplification: the "window advances
// far enough" half of the first test (__tcp_select_window() >= rcv_wnd) is
// taken as true.
bool
LinuxTcpSocket::CompressAck()
{
    ns3::Ptr<ns3::TcpRxBuffer> rx = m_tcb->m_rxBuffer;
    if (!m_rcvSeg.active || m_compSackNr == 0 || !m_sackEnabled || rx->Size() <= rx->Available())
    {
        return false; // not a segment's ACK; compression off; no out-of-order queue
    }
    const ns3::SequenceNumber32 rcvNxt = rx->NextRxSequence();
    const bool nothingNew = rcvNxt == m_rcvSeg.rcvNxtBefore && rx->Size() <= m_rcvSeg.sizeBefore;
    if (rcvNxt - m_rcvWup > static_cast<int32_t>(m_tcb->m_segmentSize) || nothingNew ||
        (m_quickAck && RcvModel().QuickAck()) || m_compressedAck >= m_compSackNr)
    {
        return false;
    }
    if (!m_compRcvNxtSet || m_compRcvNxt != rcvNxt)
    {
        m_compRcvNxt = rcvNxt;
        m_compRcvNxtSet = true;
        m_dupAckCounter = 0;
    }
    if (m_dupAckCounter < 3) // TCP_FASTRETRANS_THRESH
    {
        ++m_dupAckCounter;
        return false;
    }
    ++m_compressedAck;
    if (!m_compSackTimer.IsRunning())
    {
        m_compSackTimer = ns3::Simulator::Schedule(CompSackDelay(), &LinuxTcpSocket::CompressedAckKick, this);
    }
    return true;
}

// hrtimer_start_range_ns(delay, tcp_comp_sack_slack_ns) with delay =
// min(tcp_comp_sack_delay_ns, rtt * percent / 100): rtt is the receiver's
// RTT estimate (rcv_rtt_est), or srtt when that is smaller and set; 5 %
// (rtt / 20) up to Linux 6.18, tcp_comp_sack_rtt_percent from 6.19.
// Simplification: the timer fires at its hard expiry (delay + slack); an
// earlier interrupt on the CPU would run it from the soft one.
ns3::Time
LinuxTcpSocket::CompSackDelay() const
{
    uint64_t rttUs = RcvModel().RcvRttUs();
    const uint64_t srttUs = m_srttUs8 >> 3;
    if (srttUs != 0 && srttUs < rttUs)
    {
        rttUs = srttUs;
    }
    const int64_t byRttNs = static_cast<int64_t>(rttUs * 1000 * m_compSackRttPercent / 100);
    return std::min(m_compSackDelay, ns3::NanoSeconds(byRttNs)) + m_compSackSlack;
}

void
LinuxTcpSocket::CompressedAckKick()
{
    if (m_compressedAck == 0 || m_state == CLOSED || m_state == LISTEN)
    {
        return;
    }
    --m_compressedAck; // this one is sent: LINUX_MIB_TCPACKCOMPRESSED stays accurate
    SendEmptyPacket(ns3::TcpHeader::ACK);
}

void
LinuxTcpSocket::OnAckSent()
{
    m_acksCompressed += m_compressedAck;
    m_compressedAck = 0;
    m_compSackTimer.Cancel();
    m_rcvSeg.acked = m_rcvSeg.active;
    m_rcvWup = m_tcb->m_rxBuffer->NextRxSequence(); // tcp_select_window()
}

void
LinuxTcpSocket::SendEmptyPacket(uint8_t flags)
{
    if (flags == ns3::TcpHeader::ACK && CompressAck())
    {
        return;
    }
    if (flags & ns3::TcpHeader::ACK)
    {
        OnAckSent();
    }
    TsqTcpSocket::SendEmptyPacket(flags);
}

} // namespace tunsim
