#include "linux-tcp-rate.h"

#include "ns3/simulator.h"
#include "ns3/tcp-tx-item.h"

#include <algorithm>

namespace tunsim
{

NS_OBJECT_ENSURE_REGISTERED(LinuxTcpRate);

ns3::TypeId
LinuxTcpRate::GetTypeId()
{
    static ns3::TypeId tid = ns3::TypeId("tunsim::LinuxTcpRate")
                                 .SetParent<ns3::TcpRateOps>()
                                 .SetGroupName("Tunsim")
                                 .AddConstructor<LinuxTcpRate>();
    return tid;
}

void
LinuxTcpRate::StartAck()
{
    // A fresh sample, copied from one made once: TcpRateSample's own
    // initialiser parses DataRate("0bps") through a stringstream, which per
    // ACK was 2.9 % of a bulk TCP run's instructions.
    static const TcpRateSample kFresh{};
    m_rs = kFresh;
    m_havePrior = false;
    m_rsInterval = ns3::Time(0);
}

void
LinuxTcpRate::SkbSent(ns3::TcpTxItem* skb, bool isStartOfTransmission)
{
    // tcp_rate_skb_sent(): at the start of a flight (nothing out), the
    // send and delivery clocks restart at this skb's send time.
    const ns3::Time now = ns3::Simulator::Now();
    if (isStartOfTransmission)
    {
        m_rate.m_firstSentTime = now;
        m_rate.m_deliveredTime = now;
    }
    auto& tx = skb->GetRateInformation();
    tx.m_firstSent = m_rate.m_firstSentTime;
    tx.m_deliveredTime = m_rate.m_deliveredTime;
    tx.m_delivered = m_rate.m_delivered;
    tx.m_isAppLimited = m_rate.m_appLimited != 0;
}

void
LinuxTcpRate::SkbDelivered(ns3::TcpTxItem* skb)
{
    // tcp_rate_skb_delivered(): the sample takes the most recently sent of
    // the skbs this ACK (s)acks; an skb counts once (a SACKed one is not
    // counted again when the cumulative ACK passes it).
    auto& tx = skb->GetRateInformation();
    if (tx.m_deliveredTime == ns3::Time::Max())
    {
        return;
    }
    m_rate.m_delivered += skb->GetSeqSize(); // tp->delivered (tcp_sacktag / tcp_clean_rtx_queue)
    const ns3::Time sent = skb->GetLastSent();
    if (!m_havePrior || sent >= m_rate.m_firstSentTime)
    {
        m_havePrior = true;
        m_rs.m_priorDelivered = tx.m_delivered;
        m_rs.m_priorTime = tx.m_deliveredTime;
        m_rs.m_isAppLimited = tx.m_isAppLimited;
        m_rate.m_firstSentTime = sent; // tp->first_tx_mstamp: send time of the latest (s)acked skb
        m_rsInterval = sent - tx.m_firstSent; // the send phase of this window
        m_rate.m_txItemDelivered = tx.m_delivered;
    }
    tx.m_deliveredTime = ns3::Time::Max();
}

void
LinuxTcpRate::CalculateAppLimited(uint32_t cWnd,
                                  uint32_t inFlight,
                                  uint32_t segmentSize,
                                  const ns3::SequenceNumber32& tailSeq,
                                  const ns3::SequenceNumber32& nextTx,
                                  const uint32_t lostOut,
                                  const uint32_t retransOut)
{
    // tcp_rate_check_app_limited(): less than a segment left to send, not
    // cwnd-limited, every lost segment retransmitted.
    if (tailSeq - nextTx < static_cast<int32_t>(segmentSize) && inFlight < cWnd && lostOut <= retransOut)
    {
        m_rate.m_appLimited = std::max<uint64_t>(m_rate.m_delivered + inFlight, 1);
    }
}

const ns3::TcpRateOps::TcpRateSample&
LinuxTcpRate::GenerateSample(uint32_t delivered,
                             uint32_t lost,
                             bool isSackReneg,
                             uint32_t priorInFlight,
                             const ns3::Time& minRtt)
{
    // tcp_rate_gen()
    const ns3::Time now = ns3::Simulator::Now();
    if (m_rate.m_appLimited != 0 && m_rate.m_delivered > m_rate.m_appLimited)
    {
        m_rate.m_appLimited = 0;
    }
    if (delivered > 0)
    {
        m_rate.m_deliveredTime = now; // tp->delivered_mstamp
    }
    m_out = m_rs;
    m_out.m_ackedSacked = delivered;
    m_out.m_bytesLoss = lost;
    m_out.m_priorInFlight = priorInFlight;
    m_out.m_deliveryRate = ns3::DataRate(0);
    if (!m_havePrior || m_out.m_priorTime.IsZero() || isSackReneg)
    {
        m_out.m_delivered = -1; // invalid: no timing information
        m_out.m_interval = ns3::Time(0);
        StartAck();
        return m_out;
    }
    m_out.m_delivered = static_cast<int32_t>(m_rate.m_delivered - m_out.m_priorDelivered);
    m_out.m_sendElapsed = m_rsInterval;
    m_out.m_ackElapsed = now - m_out.m_priorTime;
    m_out.m_interval = std::max(m_out.m_sendElapsed, m_out.m_ackElapsed);
    StartAck();
    if (m_out.m_interval < minRtt || m_out.m_interval.IsZero() || m_out.m_delivered <= 0)
    {
        // an interval shorter than min_rtt under-measures: invalid
        m_out.m_interval = ns3::Time(0);
        return m_out;
    }
    if (!m_out.m_isAppLimited || static_cast<double>(m_out.m_delivered) * m_rate.m_rateInterval.GetSeconds() >=
                                     static_cast<double>(m_rate.m_rateDelivered) * m_out.m_interval.GetSeconds())
    {
        m_rate.m_rateDelivered = m_out.m_delivered;
        m_rate.m_rateInterval = m_out.m_interval;
        m_rate.m_rateAppLimited = m_out.m_isAppLimited;
    }
    // what bbr_update_bw() computes from rs->delivered / rs->interval_us
    m_out.m_deliveryRate = ns3::DataRate(static_cast<uint64_t>(m_out.m_delivered * 8.0 / m_out.m_interval.GetSeconds()));
    return m_out;
}

} // namespace tunsim
