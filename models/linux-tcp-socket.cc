#include "linux-tcp-socket.h"

#include "gso-tag.h"
#include "linux-cubic.h"
#include "linux-tcp-rate.h"

#include "ns3/boolean.h"
#include "ns3/tcp-bbr.h"
#include "ns3/node.h"
#include "ns3/rtt-estimator.h"
#include "ns3/simulator.h"
#include "ns3/tcp-l4-protocol.h"
#include "ns3/tcp-option-ts.h"
#include "ns3/tcp-recovery-ops.h"
#include "ns3/tcp-rx-buffer.h"
#include "ns3/tcp-tx-buffer.h"
#include "ns3/uinteger.h"

#include <limits>

#include <algorithm>

namespace tunsim
{

NS_OBJECT_ENSURE_REGISTERED(LinuxTcpSocket);

namespace
{
constexpr int64_t kRtoMaxUs = 120000000; // TCP_RTO_MAX
} // namespace

ns3::TypeId
LinuxTcpSocket::GetTypeId()
{
    static ns3::TypeId tid =
        ns3::TypeId("tunsim::LinuxTcpSocket")
            .SetParent<TsqTcpSocket>()
            .SetGroupName("Tunsim")
            .AddConstructor<LinuxTcpSocket>()
            .AddAttribute("LinuxRtt",
                          "RTT samples from send times in us and Linux's RTO (srtt + max(mdev, rto_min))",
                          ns3::BooleanValue(true), ns3::MakeBooleanAccessor(&LinuxTcpSocket::m_linuxRtt),
                          ns3::MakeBooleanChecker())
            .AddAttribute("LinuxLoss", "tcp_enter_loss(): no second ssthresh cut in a reduced window",
                          ns3::BooleanValue(true), ns3::MakeBooleanAccessor(&LinuxTcpSocket::m_linuxLoss),
                          ns3::MakeBooleanChecker())
            .AddAttribute("RcvWindow", "advertise Linux's receive window (LinuxRcvWindow)", ns3::BooleanValue(true),
                          ns3::MakeBooleanAccessor(&LinuxTcpSocket::m_rcvWindowModel), ns3::MakeBooleanChecker())
            .AddAttribute("QuickAck", "ACK every segment in quick-ACK mode", ns3::BooleanValue(true),
                          ns3::MakeBooleanAccessor(&LinuxTcpSocket::m_quickAck), ns3::MakeBooleanChecker())
            .AddAttribute("LocalDrops",
                           "NET_XMIT_DROP from the stack: CWR, the segment kept unsent (else: a silent loss)",
                           ns3::BooleanValue(true), ns3::MakeBooleanAccessor(&LinuxTcpSocket::m_localDropModel),
                           ns3::MakeBooleanChecker())
            .AddAttribute("Rack", "RACK: a lost retransmission of the head is sent again without an RTO (RackHeadLost)",
                          ns3::BooleanValue(true), ns3::MakeBooleanAccessor(&LinuxTcpSocket::m_rack),
                          ns3::MakeBooleanChecker())
            .AddAttribute("Rfc6675Rule3",
                          "in SACK recovery, retransmit the first unSACKed segment when nothing marked lost "
                          "and no new data is left (RFC 6675 NextSeg() rule (3), as ns-3's TcpTxBuffer); "
                          "false: only segments marked lost are retransmitted, as Linux's "
                          "tcp_xmit_retransmit_queue()",
                          ns3::BooleanValue(false), ns3::MakeBooleanAccessor(&LinuxTcpSocket::m_rfc6675Rule3),
                          ns3::MakeBooleanChecker())
            .AddAttribute("Gso", "new data in GSO skbs sized by tcp_tso_autosize() (GsoTag)", ns3::BooleanValue(true),
                          ns3::MakeBooleanAccessor(&LinuxTcpSocket::m_gso), ns3::MakeBooleanChecker())
            .AddAttribute("WritePass",
                          "run SendPendingData()'s loop for new data without TcpTxBuffer::NextSeg()'s walk of "
                          "the sent list while no segment is marked lost (a speed-up; the same segments either way)",
                          ns3::BooleanValue(true), ns3::MakeBooleanAccessor(&LinuxTcpSocket::m_writePass),
                          ns3::MakeBooleanChecker())
            .AddAttribute("CheckNextSeg",
                          "with WritePass: ask TcpTxBuffer::NextSeg() beside every answer the RetransmitHint "
                          "gives and abort on a difference (a test of the hint; slow)",
                          ns3::BooleanValue(false), ns3::MakeBooleanAccessor(&LinuxTcpSocket::m_checkNextSeg),
                          ns3::MakeBooleanChecker())
            .AddAttribute("ForwardUpBytes",
                          "take TcpSocketBase::ForwardUp()'s sequence number and header length from the header's "
                          "bytes instead of deserializing it (a speed-up; the same run either way)",
                          ns3::BooleanValue(true), ns3::MakeBooleanAccessor(&LinuxTcpSocket::m_forwardUpBytes),
                          ns3::MakeBooleanChecker())
            .AddAttribute("DemuxByEndPoint",
                          "find this socket's segments by their ports read from the header's bytes "
                          "(LinuxTcpDemux, in front of TcpL4Protocol::Receive(); a speed-up; the same run either way)",
                          ns3::BooleanValue(true), ns3::MakeBooleanAccessor(&LinuxTcpSocket::m_demuxByEndPoint),
                          ns3::MakeBooleanChecker())
            .AddAttribute("RmemDefault", "net.ipv4.tcp_rmem[1]: sk_rcvbuf at the start (bytes)",
                          ns3::UintegerValue(131072), ns3::MakeUintegerAccessor(&LinuxTcpSocket::m_rmemDefault),
                          ns3::MakeUintegerChecker<uint32_t>(4096))
            .AddAttribute("RmemMax", "net.ipv4.tcp_rmem[2]: the receive autotuning cap (bytes)",
                          ns3::UintegerValue(33554432), ns3::MakeUintegerAccessor(&LinuxTcpSocket::m_rmemMax),
                          ns3::MakeUintegerChecker<uint32_t>(4096))
            .AddAttribute("RtoMin", "net.ipv4.tcp_rto_min_us", ns3::TimeValue(ns3::MilliSeconds(200)),
                          ns3::MakeTimeAccessor(&LinuxTcpSocket::m_rtoMin), ns3::MakeTimeChecker(ns3::Time(0)))
            .AddAttribute("CompSackNr",
                          "net.ipv4.tcp_comp_sack_nr: at most this many ACKs held back by SACK compression "
                          "(0: every out-of-order segment acked at once, as ns-3 does)",
                          ns3::UintegerValue(44), ns3::MakeUintegerAccessor(&LinuxTcpSocket::m_compSackNr),
                          ns3::MakeUintegerChecker<uint32_t>(0, 255))
            .AddAttribute("CompSackDelay", "net.ipv4.tcp_comp_sack_delay_ns: the longest a compressed ACK waits",
                          ns3::TimeValue(ns3::MilliSeconds(1)), ns3::MakeTimeAccessor(&LinuxTcpSocket::m_compSackDelay),
                          ns3::MakeTimeChecker(ns3::Time(0)))
            .AddAttribute("CompSackSlack", "net.ipv4.tcp_comp_sack_slack_ns: the compressed-ACK hrtimer's slack",
                          ns3::TimeValue(ns3::MicroSeconds(100)),
                          ns3::MakeTimeAccessor(&LinuxTcpSocket::m_compSackSlack), ns3::MakeTimeChecker(ns3::Time(0)))
            .AddAttribute("CompSackRttPercent",
                          "the compressed-ACK delay as a percentage of the RTT (5: rtt/20 up to Linux 6.18; "
                          "net.ipv4.tcp_comp_sack_rtt_percent from 6.19)",
                          ns3::UintegerValue(5), ns3::MakeUintegerAccessor(&LinuxTcpSocket::m_compSackRttPercent),
                          ns3::MakeUintegerChecker<uint32_t>(1, 1000));
    return tid;
}

LinuxTcpSocket::LinuxTcpSocket(const LinuxTcpSocket& other)
    : TsqTcpSocket(other),
      m_linuxRtt(other.m_linuxRtt),
      m_linuxLoss(other.m_linuxLoss),
      m_rcvWindowModel(other.m_rcvWindowModel),
      m_quickAck(other.m_quickAck),
      m_localDropModel(other.m_localDropModel),
      m_gso(other.m_gso),
      m_writePass(other.m_writePass),
      m_checkNextSeg(other.m_checkNextSeg),
      m_forwardUpBytes(other.m_forwardUpBytes),
      m_demuxByEndPoint(other.m_demuxByEndPoint),
      m_rack(other.m_rack),
      m_rmemDefault(other.m_rmemDefault),
      m_rmemMax(other.m_rmemMax),
      m_rtoMin(other.m_rtoMin),
      m_compSackNr(other.m_compSackNr),
      m_compSackDelay(other.m_compSackDelay),
      m_compSackSlack(other.m_compSackSlack),
      m_compSackRttPercent(other.m_compSackRttPercent)
{
    UseLinuxRate();
    m_pacingTimer.SetFunction(&LinuxTcpSocket::PacingTimerExpired, this);
}

LinuxTcpSocket::LinuxTcpSocket()
{
    UseLinuxRate();
    m_pacingTimer.SetFunction(&LinuxTcpSocket::PacingTimerExpired, this);
}

void
LinuxTcpSocket::UseLinuxRate()
{
    // tcp_rate.c's sampling instead of ns-3's TcpRateLinux (LinuxTcpRate)
    m_linuxRate = ns3::CreateObject<LinuxTcpRate>();
    m_rateOps = m_linuxRate;
}

ns3::Ptr<LinuxTcpSocket>
LinuxTcpSocket::Create(ns3::Ptr<ns3::Node> node, CongestionControl cc)
{
    // As TcpL4Protocol::CreateSocket(), for our socket type (Attach()).
    ns3::TypeId ccType;
    switch (cc)
    {
    case CongestionControl::Cubic:
        ccType = LinuxCubic::GetTypeId();
        break;
    case CongestionControl::NewReno:
        ccType = ns3::TcpNewReno::GetTypeId();
        break;
    case CongestionControl::Bbr:
        ccType = ns3::TcpBbr::GetTypeId();
        break;
    }
    auto socket = ns3::CreateObject<LinuxTcpSocket>();
    socket->Attach(node, ccType);
    if (cc == CongestionControl::Bbr)
    {
        // bbr_init(): cmpxchg(&sk->sk_pacing_status, SK_PACING_NONE,
        // SK_PACING_NEEDED) -- without fq, tcp_internal_pacing() paces each
        // skb at the sk_pacing_rate BBR sets (TcpBbr sets m_pacingRate).
        socket->m_tcb->m_pacing = true;
        socket->m_ccSetsPacingRate = true; // bbr_set_pacing_rate()
    }
    socket->TraceConnectWithoutContext("Tx", ns3::MakeCallback(&LinuxTcpSocket::TagGso, ns3::PeekPointer(socket)));
    socket->TraceConnectWithoutContext("CongState",
                                       ns3::MakeCallback(&LinuxTcpSocket::CountCaState, ns3::PeekPointer(socket)));
    return socket;
}

void
LinuxTcpSocket::CountCaState(ns3::TcpSocketState::TcpCongState_t from, ns3::TcpSocketState::TcpCongState_t to)
{
    // The MIB counters Linux bumps on these transitions: tcp_enter_recovery()
    // -> LINUX_MIB_TCPSACKRECOVERY / TCPRENORECOVERY; tcp_enter_cwr() has no
    // counter (ours: a local drop's or ECN's CWR); tcp_enter_loss() from
    // tcp_retransmit_timer() -> LINUX_MIB_TCPTIMEOUTS (counted per timeout in
    // ReTxTimeout(), as Linux counts each expiry, not each entry into Loss).
    if (from == to)
    {
        return;
    }
    if (to == ns3::TcpSocketState::CA_RECOVERY)
    {
        ++m_events.recoveries;
    }
    else if (to == ns3::TcpSocketState::CA_CWR)
    {
        ++m_events.cwr;
    }
}

ns3::Ptr<ns3::TcpSocketBase>
LinuxTcpSocket::Fork()
{
    return ns3::CopyObject<LinuxTcpSocket>(this);
}

// ------------------------------------------------------------- the sender

void
LinuxTcpSocket::LinuxRttEstimator(int64_t mrttUs)
{
    // tcp_rtt_estimator(): srtt_us = 8 * srtt, mdev_us = 4 * mean deviation
    const auto rtoMinUs = static_cast<uint32_t>(m_rtoMin.GetMicroSeconds());
    int64_t m = std::max<int64_t>(mrttUs, 1);
    uint32_t srtt = m_srttUs8;
    if (srtt != 0)
    {
        m -= srtt >> 3; // the error in the estimate
        srtt += static_cast<int32_t>(m);
        if (m < 0)
        {
            m = -m;
            m -= m_mdevUs4 >> 2;
            if (m > 0)
            {
                m >>= 3;
            }
        }
        else
        {
            m -= m_mdevUs4 >> 2;
        }
        m_mdevUs4 = static_cast<uint32_t>(static_cast<int64_t>(m_mdevUs4) + m);
        if (m_mdevUs4 > m_mdevMaxUs)
        {
            m_mdevMaxUs = m_mdevUs4;
            m_rttvarUs = std::max(m_rttvarUs, m_mdevMaxUs);
        }
        const uint32_t snd_una = m_txBuffer->HeadSequence().GetValue();
        if (static_cast<int32_t>(snd_una - m_rttSeq) > 0)
        {
            // once per window: rttvar decays towards the window's mdev_max
            if (m_mdevMaxUs < m_rttvarUs)
            {
                m_rttvarUs -= (m_rttvarUs - m_mdevMaxUs) >> 2;
            }
            m_rttSeq = m_tcb->m_highTxMark.Get().GetValue();
            m_mdevMaxUs = rtoMinUs;
        }
    }
    else
    {
        srtt = static_cast<uint32_t>(m << 3);
        m_mdevUs4 = static_cast<uint32_t>(m << 1); // rto = 3 * rtt
        m_rttvarUs = std::max(m_mdevUs4, rtoMinUs);
        m_mdevMaxUs = m_rttvarUs;
        m_rttSeq = m_tcb->m_highTxMark.Get().GetValue();
    }
    m_srttUs8 = std::max(1u, srtt);
    // __tcp_set_rto(), tcp_bound_rto()
    const int64_t rtoUs = std::min<int64_t>((m_srttUs8 >> 3) + m_rttvarUs, kRtoMaxUs);
    m_linuxRto = ns3::MicroSeconds(rtoUs);
    m_rto = m_linuxRto;
}

void
LinuxTcpSocket::EstimateRtt(const ns3::TcpHeader& tcpHeader)
{
    if (!m_linuxRtt)
    {
        ns3::TcpSocketBase::EstimateRtt(tcpHeader);
        return;
    }
    // tcp_clean_rtx_queue(): seq_rtt from the oldest and ca_rtt from the
    // newest packet this ACK newly acks, never from a retransmitted one
    // (Karn); times are the send times, in microseconds.
    const ns3::SequenceNumber32 ack = tcpHeader.GetAckNumber();
    const ns3::Time now = ns3::Simulator::Now();
    ns3::Time first;
    ns3::Time last;
    bool sampled = false;
    bool retransmitted = false;
    while (!m_history.empty())
    {
        const ns3::RttHistory& h = m_history.front();
        if (h.seq + ns3::SequenceNumber32(h.count) > ack)
        {
            break;
        }
        if (h.retx)
        {
            retransmitted = true;
        }
        else
        {
            if (!sampled && !retransmitted)
            {
                first = now - h.time;
                sampled = true;
            }
            last = now - h.time;
        }
        m_history.pop_front();
    }
    m_caRtt = sampled ? last : ns3::Time(0);
    if (!sampled)
    {
        return;
    }
    LinuxRttEstimator(first.GetMicroSeconds());
    m_rtt->Measurement(first); // ns-3's own estimator, for what reads it
    m_tcb->m_lastRtt = LinuxSrtt();
    m_tcb->m_minRtt = std::min(first, m_tcb->m_minRtt);
}

void
LinuxTcpSocket::NewAck(const ns3::SequenceNumber32& seq, bool resetRTO)
{
    // ns-3 re-arms the retransmission timer with its own RTO formula here;
    // Linux re-arms it with the RTO tcp_rtt_estimator() gave.
    ns3::TcpSocketBase::NewAck(seq, resetRTO);
    if (m_linuxRtt && !m_linuxRto.IsZero() && resetRTO && m_state != SYN_RCVD)
    {
        m_rto = m_linuxRto;
        if (m_retxEvent.IsRunning())
        {
            m_retxEvent.Cancel();
            m_retxEvent = ns3::Simulator::Schedule(m_rto, &LinuxTcpSocket::ReTxTimeout, this);
        }
    }
}

void
LinuxTcpSocket::ReTxTimeout()
{
    m_hint.Forget(); // SetSentListLost(), ResetRenoSack(): any flag of any segment
    if (!m_linuxLoss || m_state == CLOSED || m_state == TIME_WAIT || m_state == SYN_SENT ||
        m_txBuffer->Size() == 0 || m_dataRetrCount == 0)
    {
        ns3::TcpSocketBase::ReTxTimeout();
        return;
    }
    // tcp_enter_loss(): reduce ssthresh only if it has not been reduced in
    // this window already (Open/Disorder, or the recovery point passed, or a
    // first RTO in Loss). ns-3 reduces again whenever the head was not yet
    // retransmitted by a timeout. Let ns-3 do the rest of its RTO, then put
    // ssthresh back when Linux would have kept it.
    ++m_events.timeouts;
    const auto state = m_tcb->m_congState.Get();
    const bool reducedWindow = (state == ns3::TcpSocketState::CA_RECOVERY || state == ns3::TcpSocketState::CA_CWR) &&
                               m_recoverActive && m_recover > m_txBuffer->HeadSequence();
    const uint32_t ssthresh = m_tcb->m_ssThresh.Get();
    ns3::TcpSocketBase::ReTxTimeout();
    if (reducedWindow)
    {
        m_tcb->m_ssThresh = ssthresh;
    }
    // __tcp_set_rto() with the doubled backoff, bounded by TCP_RTO_MAX
    m_rto = std::min(m_rto.Get(), ns3::MicroSeconds(kRtoMaxUs));
}

// ------------------------------------------------ NET_XMIT_DROP, CWR

void
LinuxTcpSocket::SetAccount(ns3::Ptr<SocketAccount> account)
{
    TsqTcpSocket::SetAccount(account);
    account->SetLocalDropCallback([this](ns3::Ptr<const ns3::Packet>) { OnLocalDrop(); });
}

void
LinuxTcpSocket::OnLocalDrop()
{
    if (m_inSend)
    {
        m_refused = true;
    }
}

uint32_t
LinuxTcpSocket::TsoSegs() const
{
    // tcp_tso_autosize(): ~1 ms of data at sk_pacing_rate (>> sk_pacing_shift),
    // plus gso_max_size >> (min_rtt_us >> tcp_tso_rtt_log) on short paths,
    // at most gso_max_size, at least tcp_min_tso_segs (2).
    constexpr uint64_t kGsoMaxSize = 65536;
    const uint32_t mss = m_tcb->m_segmentSize;
    uint64_t bytes = static_cast<uint64_t>(PacingRateBps()) >> PacingShift();
    const int64_t minRttUs = m_tcb->m_minRtt == ns3::Time::Max() ? 0 : m_tcb->m_minRtt.GetMicroSeconds();
    const uint64_t r = static_cast<uint64_t>(std::max<int64_t>(minRttUs, 0)) >> 9; // tcp_tso_rtt_log 9
    if (r < 64)
    {
        bytes += kGsoMaxSize >> r;
    }
    bytes = std::min(bytes, kGsoMaxSize);
    return std::max<uint32_t>(static_cast<uint32_t>(bytes / mss), 2);
}

uint64_t
LinuxTcpSocket::GsoSkbFor(ns3::SequenceNumber32 seq)
{
    // The segments one tcp_write_xmit() pass sends in a row form GSO skbs of
    // TsoSegs() (tcp_mss_split_point(): no more than cwnd and the receive
    // window allow, which AvailableWindow() already bounds).
    const ns3::Time now = ns3::Simulator::Now();
    if (m_gsoLeft == 0 || m_gsoAt != now)
    {
        const uint32_t mss = m_tcb->m_segmentSize;
        const uint32_t window = TsqTcpSocket::AvailableWindow() / mss;
        const uint32_t data = (m_txBuffer->SizeFromSequence(seq) + mss - 1) / mss;
        m_gsoLeft = std::min({TsoSegs(), std::max(window, 1u), std::max(data, 1u)});
        m_gsoSkb = m_gsoLeft > 1 ? GsoTag::Next() : 0;
        m_gsoSegs = m_gsoLeft;
        m_gsoAt = now;
    }
    --m_gsoLeft;
    return m_gsoSkb;
}

void
LinuxTcpSocket::TagGso(ns3::Ptr<const ns3::Packet> p, const ns3::TcpHeader&, ns3::Ptr<const ns3::TcpSocketBase>)
{
    if (m_txGso)
    {
        p->AddPacketTag(GsoTag(m_txGso, m_gsoSegs));
    }
}

uint32_t
LinuxTcpSocket::SendDataPacket(ns3::SequenceNumber32 seq, uint32_t maxSize, bool withAck)
{
    const ns3::SequenceNumber32 highBefore = m_tcb->m_highTxMark;
    const uint32_t sz = SendSegment(seq, maxSize, withAck);
    if (sz == 0 || seq < highBefore || !m_writePass)
    {
        return sz;
    }
    return sz + ContinueWritePass(seq + sz, withAck);
}

uint32_t
LinuxTcpSocket::SendSegment(ns3::SequenceNumber32 seq, uint32_t maxSize, bool withAck)
{
    if (!m_writePass || maxSize == 0)
    {
        return TransmitSegment(seq, maxSize, withAck);
    }
    // the sent list changes only here and on ACKs, RTOs and RACK: m_hint follows
    m_hint.BeforeSend(*m_txBuffer, seq, m_tcb->m_highTxMark);
    const uint32_t sz = TransmitSegment(seq, maxSize, withAck);
    m_hint.AfterSend(*m_txBuffer, seq, sz);
    return sz;
}

uint32_t
LinuxTcpSocket::TransmitSegment(ns3::SequenceNumber32 seq, uint32_t maxSize, bool withAck)
{
    m_passArmed = false; // a segment before the armed SendPendingData(): not the call it was armed for
    if (maxSize == 0)
    {
        // TcpTxBuffer::NextSeg() offers new data up to rWnd - (bytes in the
        // sent list), which is 0 when the peer's window is full while SACKed
        // or lost segments make BytesInFlight() smaller than that list
        // (ns-3.37 would then dereference a null TcpTxItem). Linux's
        // tcp_snd_wnd_test() sends nothing beyond snd_una + snd_wnd: stop
        // until the next ACK moves the window.
        m_wndBlocked = true;
        return 0;
    }
    const ns3::SequenceNumber32 highBefore = m_tcb->m_highTxMark;
    // New data goes in GSO skbs; a retransmission is an skb of its own.
    m_txGso = m_gso && seq >= highBefore ? GsoSkbFor(seq) : 0;
    m_inSend = true;
    m_refused = false;
    uint32_t sz = ns3::TcpSocketBase::SendDataPacket(seq, maxSize, withAck);
    m_inSend = false;
    const bool moreOfThisSkb = m_txGso != 0 && m_gsoLeft > 0;
    m_txGso = 0;
    if (sz > 0 && !m_refused && m_tcb->m_pacing)
    {
        PaceSkb(sz, moreOfThisSkb);
    }
    if (!m_refused || !m_localDropModel)
    {
        if (sz > 0 && seq < highBefore)
        {
            ++m_retransmissions; // tp->total_retrans
            m_retxAt[seq.GetValue()] = ns3::Simulator::Now(); // for RackHeadLost()
            if (seq == m_txBuffer->HeadSequence())
            {
                if (m_rack)
                {
                    // tcp_schedule_loss_probe() / the RACK reorder timer: if no
                    // ACK shows this retransmission lost or delivered, look
                    // again after 2 * srtt (the PTO).
                    m_rackTimer.Cancel();
                    m_rackTimer = ns3::Simulator::Schedule(ProbeTimeout(), &LinuxTcpSocket::RackTimeout, this);
                    // tcp_xmit_retransmit_queue(): retransmitting the head
                    // re-arms the RTO timer (tcp_reset_xmit_timer()).
                    m_retxEvent.Cancel();
                    m_retxEvent = ns3::Simulator::Schedule(m_rto, &LinuxTcpSocket::ReTxTimeout, this);
                }
            }
        }
        return sz;
    }
    // __tcp_transmit_skb(): err > 0 -> tcp_enter_cwr(); tcp_write_xmit()
    // breaks before tcp_event_new_data_sent(): the segment stays unsent.
    ++m_localDrops;
    if (seq >= highBefore)
    {
        m_txBuffer->ResetLastSegmentSent();
        m_tcb->m_highTxMark = highBefore;
        if (!m_history.empty())
        {
            m_history.pop_back();
        }
        sz = 0;
    }
    else if (seq == m_txBuffer->HeadSequence())
    {
        // a refused retransmission of the head stays to be retransmitted
        m_txBuffer->DeleteRetransmittedFlagFromHead();
    }
    const auto state = m_tcb->m_congState.Get();
    if (state == ns3::TcpSocketState::CA_OPEN || state == ns3::TcpSocketState::CA_DISORDER)
    {
        EnterCwr(static_cast<uint32_t>(m_rateOps->GetConnectionRate().m_delivered));
    }
    m_sendBlocked = true;
    m_gsoLeft = 0; // tcp_write_xmit() stopped: the skb is not continued
    if (BytesInFlight() == 0)
    {
        // Nothing in flight to bring an ACK: tcp_check_probe_timer(), the
        // probe0 timer after max(RTO, TCP_RTO_MIN), instead of an RTO.
        m_retxEvent.Cancel();
        m_probe0.Cancel();
        m_probe0 = ns3::Simulator::Schedule(std::max(m_rto.Get(), m_rtoMin), &LinuxTcpSocket::Probe0, this);
    }
    return sz;
}

void
LinuxTcpSocket::Probe0()
{
    m_sendBlocked = false;
    if (m_state == ESTABLISHED || m_state == CLOSE_WAIT)
    {
        SendPendingArmed();
    }
}

uint32_t
LinuxTcpSocket::AvailableWindow() const
{
    if (m_passArmed)
    {
        // SendPendingData()'s first question (see ArmWritePass())
        m_passArmed = false;
        return const_cast<LinuxTcpSocket*>(this)->WritePassFromTop();
    }
    if (m_sendBlocked || m_wndBlocked || const_cast<LinuxTcpSocket*>(this)->OnlyRule3Left())
    {
        return 0;
    }
    return TsqTcpSocket::AvailableWindow();
}

void
LinuxTcpSocket::ReceivedAck(ns3::Ptr<ns3::Packet> packet, const ns3::TcpHeader& tcpHeader)
{
    // The next ACK runs tcp_write_xmit() again: the refused segment goes first.
    m_sendBlocked = false;
    m_wndBlocked = false; // an ACK carries the peer's window
    m_lostAtAck = m_txBuffer->GetLost();
    m_linuxRate->StartAck();
    m_probe0.Cancel();
    // ns-3.37's ReceivedAck() ends with SendPendingData(); no AvailableWindow()
    // is asked before it (a segment sent on the way disarms, SendSegment()).
    ArmWritePass();
    ns3::TcpSocketBase::ReceivedAck(packet, tcpHeader);
    m_passArmed = false;
    if (m_rack && RackHeadLost())
    {
        SendPendingArmed();
    }
}

// ----------------------------------------------------------- the receiver

LinuxRcvWindow&
LinuxTcpSocket::RcvModel() const
{
    if (!m_rcvWindow)
    {
        LinuxRcvWindow::Config c;
        c.rmemDefault = m_rmemDefault;
        c.rmemMax = m_rmemMax;
        c.advmss = m_tcb->m_segmentSize;
        m_rcvWindow = std::make_unique<LinuxRcvWindow>(c);
    }
    return *m_rcvWindow;
}

uint16_t
LinuxTcpSocket::AdvertisedWindowSize(bool scale) const
{
    if (!m_rcvWindowModel || m_tcb->m_rxBuffer->GotFin())
    {
        return ns3::TcpSocketBase::AdvertisedWindowSize(scale);
    }
    uint32_t w;
    if (!scale || m_state == LISTEN || m_state == SYN_SENT || m_state == SYN_RCVD)
    {
        // tcp_select_initial_window(): the SYN / SYN-ACK's window, never
        // scaled (ns-3 also asks for a scaled one, which it discards)
        w = std::min<uint32_t>(RcvModel().InitialWindow(), m_tcb->m_rxBuffer->MaxBufferSize());
        if (scale)
        {
            return static_cast<uint16_t>(std::min<uint32_t>(w, m_maxWinSize));
        }
    }
    else
    {
        w = RcvModel().Window(m_tcb->m_rxBuffer->NextRxSequence().GetValue(), m_rcvWindShift);
        // What ns-3 itself can still buffer bounds it too.
        const uint32_t room =
            static_cast<uint32_t>(m_tcb->m_rxBuffer->MaxRxSequence() - m_tcb->m_rxBuffer->NextRxSequence());
        w = std::min(w, room) >> m_rcvWindShift;
    }
    if (w > m_maxWinSize)
    {
        w = m_maxWinSize;
    }
    const_cast<LinuxTcpSocket*>(this)->m_advWnd = scale ? w << m_rcvWindShift : w;
    return static_cast<uint16_t>(w);
}

} // namespace tunsim
