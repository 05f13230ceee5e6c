// LinuxTcpRate: delivery-rate sampling as net/ipv4/tcp_rate.c does it, for
// congestion controls that read a rate sample (BBR).
//
// ns-3.37's TcpRateLinux differs in ways that change BBR's model of the
// path: its rate sample lives across ACKs (tcp_ack() starts each ACK with a
// zeroed struct rate_sample), so a later ACK starts from an older ACK's
// prior_delivered; and an invalid sample keeps the previous sample's
// delivery rate. With the losses of a tun ring that overflows, BBR then
// took rates of a few kbit/s as bandwidth samples, its max filter expired
// and cwnd fell to 4 segments for the rest of the run. This class keeps the
// ns-3 interface (TcpRateOps) and the kernel's rules:
//   tcp_rate_skb_sent()      -> SkbSent()
//   tcp_rate_skb_delivered() -> SkbDelivered()
//   tcp_rate_gen()           -> GenerateSample()
//   tcp_rate_check_app_limited() -> CalculateAppLimited()
// and StartAck() is the `struct rate_sample rs = { .prior_delivered = 0 }`
// at the top of tcp_ack().
//
// Simplifications (named): delivered counts bytes, not packets (ns-3's
// unit; BBR's ratios are unchanged); tcp_skb_sent_after()'s tie-break on
// end_seq for skbs sent in the same nanosecond is the order ns-3 reports
// deliveries in (ascending sequence); the app-limited test has no
// sk_wmem_alloc term (ns-3 does not pass it).
#ifndef TUNSIM_LINUX_TCP_RATE_H
#define TUNSIM_LINUX_TCP_RATE_H

#include "ns3/tcp-rate-ops.h"

namespace tunsim
{

class LinuxTcpRate : public ns3::TcpRateOps
{
  public:
    static ns3::TypeId GetTypeId();

    /// tcp_ack(): a fresh rate sample for this ACK.
    void StartAck();

    void SkbSent(ns3::TcpTxItem* skb, bool isStartOfTransmission) override;
    void SkbDelivered(ns3::TcpTxItem* skb) override;
    void CalculateAppLimited(uint32_t cWnd,
                             uint32_t inFlight,
                             uint32_t segmentSize,
                             const ns3::SequenceNumber32& tailSeq,
                             const ns3::SequenceNumber32& nextTx,
                             const uint32_t lostOut,
                             const uint32_t retransOut) override;
    const TcpRateSample& GenerateSample(uint32_t delivered,
                                        uint32_t lost,
                                        bool isSackReneg,
                                        uint32_t priorInFlight,
                                        const ns3::Time& minRtt) override;
    const TcpRateConnection& GetConnectionRate() override { return m_rate; }

  private:
    TcpRateConnection m_rate;   ///< tp->delivered, delivered_mstamp, first_tx_mstamp, app_limited, rate_*
    TcpRateSample m_rs;         ///< the sample this ACK builds
    TcpRateSample m_out;        ///< the sample handed to the congestion control
    bool m_havePrior = false;   ///< rs->prior_delivered set by this ACK (0 is a valid count here)
    ns3::Time m_rsInterval;     ///< rs->interval_us while the ACK is processed: the send phase
};

} // namespace tunsim

#endif
