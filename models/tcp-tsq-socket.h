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
// Defaults: sk_pacing_shift 10 and tcp_limit_output_bytes 1 MiB (Linux 4.20
// to 6.15, the kernels the NODROP paper measured; 4 MiB since the May 2025
// net-next change). Retransmits (factor 1, doubled limit) are not told apart.
#pragma once

#include "socket-account.h"

#include "ns3/tcp-socket-base.h"

namespace tunsim
{

class TsqTcpSocket : public ns3::TcpSocketBase
{
  public:
    static ns3::TypeId GetTypeId();
    TsqTcpSocket() = default;

    /// The account the socket's skbs are charged to (by the Tx trace hook of
    /// the application). TSQ reads its wmem and is told of every release.
    void SetAccount(ns3::Ptr<SocketAccount> account);

    /// The limit tcp_small_queue_check() would use now, in bytes.
    uint64_t TsqLimit() const;
    /// sk_pacing_rate as tcp_update_pacing_rate() computes it, bytes/s.
    double PacingRateBps() const;
    uint64_t ThrottleCount() const { return m_throttles; }

    /// Create a socket on `node` as TcpL4Protocol::CreateSocket() does, with
    /// the congestion control `cc`.
    static ns3::Ptr<TsqTcpSocket> Create(ns3::Ptr<ns3::Node> node, ns3::TypeId cc);

  protected:
    uint32_t AvailableWindow() const override;
    ns3::Ptr<ns3::TcpSocketBase> Fork() override;

  private:
    void OnRelease();
    void TsqHandler();

    ns3::Ptr<SocketAccount> m_account;
    bool m_enabled = true;
    uint32_t m_pacingShift = 10;
    uint64_t m_limitOutputBytes = 1u << 20;
    mutable bool m_throttled = false;
    mutable uint64_t m_throttles = 0;
    bool m_handlerPending = false;
};

} // namespace tunsim
