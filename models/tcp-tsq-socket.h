// TsqTcpSocket: ns-3's TcpSocketBase plus TCP Small Queues.
//
// mirrors tcp_small_queue_check() (net/ipv4/tcp_output.c): before each
// segment tcp_write_xmit() checks the bytes the socket has handed down and
// that are not yet freed or orphaned (sk_wmem_alloc, in skb truesize) against
//
//     limit = max(2 * skb->truesize, sk_pacing_rate >> sk_pacing_shift)
//     limit = min(limit, net.ipv4.tcp_limit_output_bytes)
//
// and stops (TSQ_THROTTLED) when over it, unless the retransmit queue holds at
// most one skb. When one of its skbs is freed or orphaned (tcp_wfree()), a
// throttled socket is resumed from the TSQ softirq work (tcp_tsq_handler ->
// tcp_write_xmit). sk_pacing_rate is what tcp_update_pacing_rate() computes
// even without the fq qdisc: mss * max(cwnd, packets_out) / srtt, times 200 %
// in slow start (cwnd < ssthresh / 2) and 120 % otherwise.
//
// For tun, tun_net_xmit() orphans the skb before the ring: TSQ counts what
// waits in the qdisc above tun0 (and nothing once it is in the ring). Under
// the mainline drop policy the qdisc is empty and TSQ never throttles; with a
// stopped queue it throttles the sender to ~1 ms of data in the qdisc.
//
// Linux grows cwnd only while the flow is cwnd-limited (tcp_is_cwnd_limited()
// in tcp_cong_avoid()); ns-3.37's congestion controls grow it on every ACK. A
// flow held back by TSQ would then inflate cwnd (and with it the pacing rate
// and the TSQ limit) without bound, so the congestion control is wrapped in
// CwndLimitedGate, which passes IncreaseWindow() on only while the socket is
// cwnd-limited.
//
// Defaults: sk_pacing_shift 10 and tcp_limit_output_bytes 1 MiB (Linux 4.20
// to 6.15, the kernels the NODROP paper measured; 4 MiB since the May 2025
// net-next change). Retransmits (factor 1, doubled limit) are not told apart.
#pragma once

#include "socket-account.h"

#include "ns3/tcp-congestion-ops.h"
#include "ns3/tcp-socket-base.h"

namespace tunsim
{

class TsqTcpSocket : public ns3::TcpSocketBase
{
  public:
    static ns3::TypeId GetTypeId();
    /// TcpSocketBase answers its own TypeId here: without this override the
    /// attributes below (and Config::SetDefault of them) are never applied.
    ns3::TypeId GetInstanceTypeId() const override { return GetTypeId(); }
    TsqTcpSocket() = default;

    /// The account the socket's skbs are charged to (by the Tx trace hook of
    /// the application). TSQ reads its wmem and is told of every release.
    void SetAccount(ns3::Ptr<SocketAccount> account);

    /// The limit tcp_small_queue_check() would use now, in bytes.
    uint64_t TsqLimit() const;
    /// sk_pacing_rate as tcp_update_pacing_rate() computes it, bytes/s.
    double PacingRateBps() const;
    uint64_t ThrottleCount() const { return m_throttles; }
    /// sk_pacing_shift
    uint32_t PacingShift() const { return m_pacingShift; }

    /// mirrors tcp_is_cwnd_limited(): the last sends were stopped by cwnd (not
    /// by TSQ or the receive window), or, in slow start, cwnd < 2 * the most
    /// packets that were in flight.
    bool IsCwndLimited() const;

    /// rs->losses of the ACK being processed, in bytes: what was newly
    /// marked lost since the ACK arrived (tp->lost - prior_lost in
    /// tcp_ack()). ns-3.37's ReceivedAck() hands CongControl() the absolute
    /// change of TcpTxBuffer::GetLost(), so lost segments repaired by this
    /// ACK were counted as new losses (BBR then cut cwnd by them); this is
    /// the change clamped at 0 -- segments marked and repaired by the same
    /// ACK are not counted (a named simplification: ns-3 keeps no
    /// monotonic lost counter).
    uint32_t NewlyLostBytes() const;

    /// Create a socket on `node` as TcpL4Protocol::CreateSocket() does, with
    /// the congestion control `cc`.
    static ns3::Ptr<TsqTcpSocket> Create(ns3::Ptr<ns3::Node> node, ns3::TypeId cc);

  protected:
    uint32_t AvailableWindow() const override;
    /// tcp_tsq_handler() is about to call tcp_write_xmit() (subclasses
    /// that stopped sending may go on).
    virtual void OnTsqHandler() {}
    /// Segments in the skb TSQ checks (tcp_small_queue_check() uses
    /// 2 * skb->truesize): 1 without GSO.
    virtual uint32_t SegmentsPerSkb() const { return 1; }
    ns3::Ptr<ns3::TcpSocketBase> Fork() override;

  protected:
    /// What TcpL4Protocol::CreateSocket() does to a new socket: node, TCP,
    /// RTT estimator, the congestion control `cc` behind a CwndLimitedGate,
    /// PRR recovery.
    void Attach(ns3::Ptr<ns3::Node> node, ns3::TypeId cc);
    /// TcpTxBuffer::GetLost() when the ACK being processed arrived.
    uint32_t m_lostAtAck = 0;
    bool m_ccSetsPacingRate = false; ///< sk_pacing_rate from the CC (BBR), not tcp_update_pacing_rate()

  private:
    void OnRelease();
    void TsqHandler();

    ns3::Ptr<SocketAccount> m_account;
    bool m_enabled = true;
    uint32_t m_pacingShift = 10;
    uint64_t m_limitOutputBytes = 1u << 20;
    mutable bool m_throttled = false;
    mutable bool m_cwndLimited = false;
    mutable uint32_t m_maxBytesOut = 0;
    mutable uint64_t m_throttles = 0;
    bool m_handlerPending = false;
};

/// Wraps a congestion control: IncreaseWindow() only while the socket is
/// cwnd-limited (tcp_cong_avoid()'s `if (!tcp_is_cwnd_limited(sk)) return;`).
class CwndLimitedGate : public ns3::TcpCongestionOps
{
  public:
    static ns3::TypeId GetTypeId();
    CwndLimitedGate() = default;
    CwndLimitedGate(ns3::Ptr<ns3::TcpCongestionOps> inner, const TsqTcpSocket* socket);

    std::string GetName() const override;
    void Init(ns3::Ptr<ns3::TcpSocketState> tcb) override;
    uint32_t GetSsThresh(ns3::Ptr<const ns3::TcpSocketState> tcb, uint32_t bytesInFlight) override;
    void IncreaseWindow(ns3::Ptr<ns3::TcpSocketState> tcb, uint32_t segmentsAcked) override;
    void PktsAcked(ns3::Ptr<ns3::TcpSocketState> tcb, uint32_t segmentsAcked, const ns3::Time& rtt) override;
    void CongestionStateSet(ns3::Ptr<ns3::TcpSocketState> tcb,
                            const ns3::TcpSocketState::TcpCongState_t newState) override;
    void CwndEvent(ns3::Ptr<ns3::TcpSocketState> tcb,
                   const ns3::TcpSocketState::TcpCAEvent_t event) override;
    bool HasCongControl() const override;
    void CongControl(ns3::Ptr<ns3::TcpSocketState> tcb,
                     const ns3::TcpRateOps::TcpRateConnection& rc,
                     const ns3::TcpRateOps::TcpRateSample& rs) override;
    ns3::Ptr<ns3::TcpCongestionOps> Fork() override;

  private:
    ns3::Ptr<ns3::TcpCongestionOps> m_inner;
    const TsqTcpSocket* m_socket = nullptr; // owns this object
};

} // namespace tunsim
