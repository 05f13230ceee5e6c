// LinuxTcpSocket: ns-3's TCP with the behaviour of Linux's where it decides
// a tun ring's fate, on top of TsqTcpSocket (TCP Small Queues, cwnd grown
// only while cwnd-limited). Each mechanism mirrors a kernel function and can
// be switched off (an attribute) to see what it does:
//
//   LinuxRtt      tcp_ack_update_rtt(), tcp_rtt_estimator(), __tcp_set_rto():
//                 RTT samples in microseconds from the send times of the
//                 newly acked data (not ns-3's 1 ms timestamps); the RTO is
//                 srtt + max(mdev, tcp_rto_min) (200 ms), not max(srtt +
//                 4 rttvar, MinRto); congestion control gets the RTT of the
//                 last packet acked (ack_sample.rtt_us).
//   LinuxLoss     tcp_enter_loss(): an RTO inside a window already reduced
//                 (fast recovery, CWR) does not reduce ssthresh again.
//   RcvWindow     the receiver advertises Linux's window (LinuxRcvWindow:
//                 45 segments at first, rcv_ssthresh growing per segment,
//                 sk_rcvbuf autotuned per RTT), not ns-3's whole RcvBufSize.
//   QuickAck      the receiver ACKs every segment while in quick-ACK mode
//                 (16 at the start, and whenever its window grew), else
//                 every second one.
//   CompSack      __tcp_ack_snd_check(): while out-of-order data waits,
//                 the receiver sends three duplicate ACKs per rcv_nxt and
//                 then compresses the SACKs: one ACK per CompSackNr (44)
//                 suppressed or when the hrtimer of min(CompSackDelay,
//                 rtt * CompSackRttPercent / 100) fires
//                 (tcp_compressed_ack_kick()); ns-3 ACKs every segment.
//   Gso           tcp_tso_autosize(): new data leaves in GSO skbs of about 1 ms
//                 at the pacing rate (at least 2 segments, at most 64 KB):
//                 the segments of one skb carry one GsoTag, and a
//                 LinuxFifoQueueDisc counts them as one packet.
//   LocalDrops    __tcp_transmit_skb() when the stack returns NET_XMIT_DROP
//                 (a full qdisc; noqueue and a stopped queue or full ring):
//                 tcp_enter_cwr() (one ssthresh cut, PRR), the segment stays
//                 unsent, tcp_write_xmit() stops until the next ACK or TSQ
//                 completion (the probe0 timer if nothing is in flight). ns-3
//                 alone sees such a drop only as a loss (SACK hole or RTO).
//   Rack          tcp_rack_detect_loss() for snd_una: a retransmission of the
//                 head that is lost again is sent again once a segment sent
//                 after it was (s)acked and rtt + min_rtt/4 passed (or after
//                 a 2*srtt probe timer), with the RTO re-armed as
//                 tcp_xmit_retransmit_queue() does; ns-3's RFC 6675
//                 scoreboard alone waits for an RTO.
//
// Always on: tcp_rate.c's delivery-rate sampling (LinuxTcpRate, for BBR),
// rs->losses as the losses newly marked by the ACK, and tcp_snd_wnd_test()
// (no new data beyond the peer's window until the next ACK). cc "bbr" uses
// ns-3's TcpBbr, with pacing on and sk_pacing_rate taken from it, paced per
// GSO skb as tcp_internal_pacing() does (PaceSkb()).
//
// docs/model.md ("TCP as Linux runs it") lists what remains different.
#pragma once

#include "linux-rcv-window.h"
#include "linux-tcp-rate.h"
#include "retransmit-hint.h"
#include "tcp-tsq-socket.h"
#include "traffic-kinds.h"

#include <map>
#include <memory>

namespace tunsim
{

class LinuxTcpSocket : public TsqTcpSocket
{
  public:
    static ns3::TypeId GetTypeId();
    /// Its own TypeId, so that Config::SetDefault() of its attributes
    /// applies (TsqTcpSocket's override would answer tunsim::TsqTcpSocket
    /// and ObjectBase::ConstructSelf() would skip them).
    ns3::TypeId GetInstanceTypeId() const override { return GetTypeId(); }
    LinuxTcpSocket();
    LinuxTcpSocket(const LinuxTcpSocket& other);

    /// A socket on `node` as TcpL4Protocol::CreateSocket() makes one, with
    /// the congestion control `cc` (cubic: LinuxCubic, gated by
    /// tcp_is_cwnd_limited()).
    static ns3::Ptr<LinuxTcpSocket> Create(ns3::Ptr<ns3::Node> node, CongestionControl cc);

    /// The RTT of the last packet newly acked by the last ACK (Linux's
    /// ack_sample.rtt_us, what CUBIC's HyStart is fed); zero if none.
    ns3::Time LastAckedRtt() const { return m_caRtt; }
    /// srtt and the RTO as tcp_rtt_estimator() keeps them.
    ns3::Time LinuxSrtt() const { return ns3::MicroSeconds(m_srttUs8 >> 3); }
    ns3::Time LinuxRto() const { return m_rto.Get(); }
    /// The receiver's window model (null before the first data).
    const LinuxRcvWindow* RcvWindow() const { return m_rcvWindow.get(); }

    // ns3::Socket
    ns3::Ptr<ns3::Packet> Recv(uint32_t maxSize, uint32_t flags) override;
    using TsqTcpSocket::Send;
    /// TcpSocketBase::Send(); its AvailableWindow() is never the armed one
    /// (an application writing from NewAck()'s NotifySend(), inside
    /// ReceivedAck()). The SendPendingData() it schedules one time step on
    /// runs armed (SendPendingArmed()), in the same slot of the event queue.
    int Send(ns3::Ptr<ns3::Packet> p, uint32_t flags) override;
    /// TcpSocketBase::Recv() without its quadratic gathering (see the .cc).
    ns3::Ptr<ns3::Packet> ExtractInOrder(uint32_t maxSize, uint32_t flags);
    /// TcpSocketBase::Bind(); the IPv4 end point then delivers to ForwardUpV4().
    int Bind() override;
    /// TcpSocketBase::Bind(address); as Bind().
    int Bind(const ns3::Address& address) override;
    /// ACKs suppressed by SACK compression (LINUX_MIB_TCPACKCOMPRESSED).
    uint64_t AcksCompressed() const { return m_acksCompressed; }
    /// The IPv4 end point (null before Bind() and after it is freed), for
    /// LinuxTcpDemux.
    ns3::Ipv4EndPoint* EndPointV4() const { return m_endPoint; }

  protected:
    ns3::Ptr<ns3::TcpSocketBase> Fork() override;
    /// TcpSocketBase::CompleteFork(); the new end point delivers to ForwardUpV4().
    void CompleteFork(ns3::Ptr<ns3::Packet> p, const ns3::TcpHeader& tcpHeader, const ns3::Address& fromAddress,
                      const ns3::Address& toAddress) override;
    /// TcpSocketBase::ForwardUp() reading the two fields it needs (sequence
    /// number, header length) from the packet's bytes instead of
    /// deserializing the whole header (linux-tcp-socket-ack.cc).
    void ForwardUpV4(ns3::Ptr<ns3::Packet> packet, ns3::Ipv4Header header, uint16_t port,
                     ns3::Ptr<ns3::Ipv4Interface> incomingInterface);
    /// Point the IPv4 end point's receive callback at ForwardUpV4(), and
    /// register with the node's LinuxTcpDemux.
    void HookForwardUp();
    void EstimateRtt(const ns3::TcpHeader& tcpHeader) override;
    void NewAck(const ns3::SequenceNumber32& seq, bool resetRTO) override;
    void ReTxTimeout() override;
    uint16_t AdvertisedWindowSize(bool scale = true) const override;
    void ReceivedData(ns3::Ptr<ns3::Packet> packet, const ns3::TcpHeader& tcpHeader) override;
    /// TcpSocketBase::SendEmptyPacket(), unless SACK compression holds this
    /// ACK back (CompressAck()); an ACK sent is tcp_event_ack_sent().
    void SendEmptyPacket(uint8_t flags) override;
    uint32_t SendDataPacket(ns3::SequenceNumber32 seq, uint32_t maxSize, bool withAck) override;
    uint32_t AvailableWindow() const override;
    void OnTsqHandler() override;
    /// TSQ's limit is 2 * the truesize of the skb to send: a GSO skb of TsoSegs().
    uint32_t SegmentsPerSkb() const override { return m_gso ? TsoSegs() : 1; }
    void ReceivedAck(ns3::Ptr<ns3::Packet> packet, const ns3::TcpHeader& tcpHeader) override;

  public:
    /// As TsqTcpSocket::SetAccount(), and the account's local drops come here.
    void SetAccount(ns3::Ptr<SocketAccount> account);
    /// tcp_tso_autosize(): segments per GSO skb at the current pacing rate.
    uint32_t TsoSegs() const;
    /// Segments sent again (tp->total_retrans); a segment the stack refused
    /// and that goes out later is not one.
    uint64_t Retransmissions() const { return m_retransmissions; }
    /// Segments the stack refused (NET_XMIT_DROP) and that were kept unsent.
    uint64_t LocalDrops() const { return m_localDrops; }
    /// Congestion events as Linux's MIB counts them (nstat TcpExt), for the
    /// kernel twin's tcp_mib_client beside them.
    struct Events
    {
        uint64_t recoveries = 0; ///< entries into Recovery (TCPSackRecovery + TCPRenoRecovery)
        uint64_t timeouts = 0;   ///< retransmission timer expiries with data outstanding (TCPTimeouts)
        uint64_t cwr = 0;        ///< entries into CWR (local drops; Linux has no counter)
    };
    const Events& CaEvents() const { return m_events; }
    /// Called by the socket's account when the stack refuses one of its
    /// packets; acted on only while this socket is sending it.
    void OnLocalDrop();

  private:
    void CountCaState(ns3::TcpSocketState::TcpCongState_t from, ns3::TcpSocketState::TcpCongState_t to);
    void UseLinuxRate();
    /// RACK for the head: mark a lost retransmission of snd_una lost again.
    bool RackHeadLost();
    /// the loss probe for a retransmitted head that no ACK speaks of
    void RackTimeout();
    ns3::Time ProbeTimeout() const;
    /// tcp_internal_pacing() per GSO skb, on top of ns-3's per-segment timer
    void PaceSkb(uint32_t sz, bool moreOfThisSkb);
    void PaceContinue();
    void PaceSkbDone(uint32_t bytes);
    void LinuxRttEstimator(int64_t mrttUs);
    void Probe0();
    /// One segment through TcpSocketBase::SendDataPacket() with GSO,
    /// pacing, NET_XMIT_DROP and the RACK bookkeeping.
    uint32_t SendSegment(ns3::SequenceNumber32 seq, uint32_t maxSize, bool withAck);
    /// SendSegment() without m_hint's bookkeeping around it.
    uint32_t TransmitSegment(ns3::SequenceNumber32 seq, uint32_t maxSize, bool withAck);
    /// The rest of SendPendingData()'s loop for new data, without its
    /// per-segment TcpTxBuffer::NextSeg() walk (linux-tcp-socket-write.cc).
    uint32_t ContinueWritePass(ns3::SequenceNumber32 next, bool withAck);
    /// SendPendingData()'s whole loop run from its first AvailableWindow()
    /// question, NextSeg() answered without the walk while nothing is lost
    /// (linux-tcp-socket-write.cc); returns the window SendPendingData()
    /// goes on with (0: its loop is over).
    uint32_t WritePassFromTop();
    /// TcpTxBuffer::NextSeg(): rules (1) and (3) from m_hint, rule (2) from
    /// the buffer's counters. False: left to NextSeg() (no SACK; a quirk).
    bool NextSegHinted(bool rule3, ns3::SequenceNumber32* seq, ns3::SequenceNumber32* seqHigh, bool* found);
    /// Whether NextSeg() would answer by RFC 6675 rule (3) alone: in SACK
    /// recovery with no lost segment left to retransmit and no new data, the
    /// first unSACKed segment -- in flight, not known lost. Linux's
    /// tcp_xmit_retransmit_queue() sends only what is marked lost (RACK,
    /// tcp_mark_head_lost()) and has no rule (3); with Rfc6675Rule3 false
    /// (the default) nothing is sent then.
    bool OnlyRule3Left();
    /// The next SendPendingData() call runs WritePassFromTop(): set only
    /// right before a call that reaches its first AvailableWindow(), and
    /// cleared after it.
    void ArmWritePass() { m_passArmed = m_writePass; }
    /// SendPendingData(m_connected), armed: what this socket's own timers and
    /// RACK call (PaceContinue(), RackTimeout(), Probe0(), ReceivedAck()).
    void SendPendingArmed();
    /// The pacing timer's expiry: TcpSocketBase::NotifyPacingPerformed() armed.
    void PacingTimerExpired();
    /// The GSO skb the next new segment belongs to (0: none).
    uint64_t GsoSkbFor(ns3::SequenceNumber32 seq);
    /// Own "Tx" trace: mark the segment with its GSO skb.
    void TagGso(ns3::Ptr<const ns3::Packet> p, const ns3::TcpHeader& h, ns3::Ptr<const ns3::TcpSocketBase> s);
    LinuxRcvWindow& RcvModel() const;
    /// __tcp_ack_snd_check(sk, 1) for the ACK ns-3 sends at once because
    /// out-of-order data waits: true if SACK compression holds it back.
    bool CompressAck();
    /// the compressed-ACK hrtimer's expiry: min(CompSackDelay,
    /// rtt * CompSackRttPercent / 100) + CompSackSlack
    ns3::Time CompSackDelay() const;
    /// tcp_compressed_ack_kick(): send the ACK held back
    void CompressedAckKick();
    /// tcp_event_ack_sent(): count and clear the compressed ACKs, rcv_wup
    void OnAckSent();

    bool m_linuxRtt = true;
    bool m_linuxLoss = true;
    bool m_rcvWindowModel = true;
    bool m_quickAck = true;
    bool m_localDropModel = true;
    bool m_gso = true;
    bool m_writePass = true; ///< ContinueWritePass(), WritePassFromTop() on (results identical either way)
    mutable bool m_passArmed = false; ///< see ArmWritePass()
    bool m_checkNextSeg = false;      ///< NextSegHinted() checked against TcpTxBuffer::NextSeg()
    bool m_forwardUpBytes = true;     ///< ForwardUpV4() instead of TcpSocketBase::ForwardUp()
    bool m_demuxByEndPoint = true;    ///< found by LinuxTcpDemux instead of TcpL4Protocol::Receive()
    RetransmitHint m_hint;            ///< NextSeg() rules (1) and (3) without the walk
    // the GSO skb being built
    uint64_t m_gsoSkb = 0;
    uint32_t m_gsoLeft = 0;
    uint32_t m_gsoSegs = 0; ///< gso_segs of the skb being built
    ns3::Time m_gsoAt;
    uint64_t m_txGso = 0; ///< the GsoTag of the segment being sent
    // NET_XMIT_DROP handling
    bool m_inSend = false;
    bool m_refused = false;
    bool m_sendBlocked = false; ///< tcp_write_xmit() stopped at a refused segment
    ns3::Ptr<LinuxTcpRate> m_linuxRate;     ///< m_rateOps, sampling as tcp_rate.c
    bool m_rack = true;
    bool m_rfc6675Rule3 = false; ///< ns-3's NextSeg() rule (3) in recovery (Linux: none)
    std::map<uint32_t, ns3::Time> m_retxAt; ///< last retransmission time by sequence, at or above snd_una
    uint64_t m_rackLost = 0;                ///< retransmissions RACK found lost
    ns3::EventId m_rackTimer;
    uint32_t m_pacedSkbBytes = 0; ///< bytes of the GSO skb being paced out
    bool m_wndBlocked = false;  ///< tcp_snd_wnd_test() failed: no new data until an ACK
    uint64_t m_localDrops = 0;
    Events m_events;
    uint64_t m_retransmissions = 0;
    ns3::EventId m_probe0;
    uint32_t m_rmemDefault = 131072;
    uint32_t m_rmemMax = 33554432;
    ns3::Time m_rtoMin = ns3::MilliSeconds(200);
    // tcp_rtt_estimator() state, microseconds (srtt and mdev scaled as in the kernel)
    uint32_t m_srttUs8 = 0;
    uint32_t m_mdevUs4 = 0;
    uint32_t m_mdevMaxUs = 0;
    uint32_t m_rttvarUs = 0;
    uint32_t m_rttSeq = 0;
    ns3::Time m_caRtt;
    ns3::Time m_linuxRto; ///< __tcp_set_rto() after the last sample (zero before)
    // the receiver
    mutable std::unique_ptr<LinuxRcvWindow> m_rcvWindow;
    uint64_t m_copied = 0; ///< bytes the application read
    // SACK compression (the receiver)
    uint32_t m_compSackNr = 44;                        ///< net.ipv4.tcp_comp_sack_nr (0: off)
    ns3::Time m_compSackDelay = ns3::MilliSeconds(1);  ///< net.ipv4.tcp_comp_sack_delay_ns
    ns3::Time m_compSackSlack = ns3::MicroSeconds(100); ///< net.ipv4.tcp_comp_sack_slack_ns
    uint32_t m_compSackRttPercent = 5;                 ///< rtt/20 up to 6.18; the 6.19 sysctl
    struct RcvSegment
    {
        bool active = false;               ///< inside ReceivedData()
        bool acked = false;                ///< an ACK left inside it
        ns3::SequenceNumber32 rcvNxtBefore; ///< rcv_nxt before the segment
        uint32_t sizeBefore = 0;           ///< receive queue bytes before it
    } m_rcvSeg;
    ns3::SequenceNumber32 m_rcvWup;        ///< rcv_nxt when the last ACK left
    ns3::SequenceNumber32 m_compRcvNxt;    ///< tp->compressed_ack_rcv_nxt
    bool m_compRcvNxtSet = false;
    uint32_t m_dupAckCounter = 0;          ///< tp->dup_ack_counter
    uint32_t m_compressedAck = 0;          ///< tp->compressed_ack
    uint64_t m_acksCompressed = 0;         ///< LINUX_MIB_TCPACKCOMPRESSED
    ns3::EventId m_compSackTimer;          ///< tp->compressed_ack_timer
};

} // namespace tunsim
