#include "tcp-tsq-socket.h"

#include "ns3/boolean.h"
#include "ns3/node.h"
#include "ns3/rtt-estimator.h"
#include "ns3/simulator.h"
#include "ns3/tcp-congestion-ops.h"
#include "ns3/tcp-l4-protocol.h"
#include "ns3/tcp-recovery-ops.h"
#include "ns3/tcp-tx-buffer.h"
#include "ns3/uinteger.h"

namespace tunsim
{

NS_OBJECT_ENSURE_REGISTERED(TsqTcpSocket);

ns3::TypeId
TsqTcpSocket::GetTypeId()
{
    static ns3::TypeId tid =
        ns3::TypeId("tunsim::TsqTcpSocket")
            .SetParent<ns3::TcpSocketBase>()
            .SetGroupName("Tunsim")
            .AddConstructor<TsqTcpSocket>()
            .AddAttribute("TsqEnabled",
                          "Apply TCP Small Queues (Linux always does)",
                          ns3::BooleanValue(true),
                          ns3::MakeBooleanAccessor(&TsqTcpSocket::m_enabled),
                          ns3::MakeBooleanChecker())
            .AddAttribute("PacingShift",
                          "sk_pacing_shift: the limit is sk_pacing_rate >> this (10 = ~1 ms)",
                          ns3::UintegerValue(10),
                          ns3::MakeUintegerAccessor(&TsqTcpSocket::m_pacingShift),
                          ns3::MakeUintegerChecker<uint32_t>(0, 31))
            .AddAttribute("LimitOutputBytes",
                          "net.ipv4.tcp_limit_output_bytes (bytes of truesize)",
                          ns3::UintegerValue(1u << 20),
                          ns3::MakeUintegerAccessor(&TsqTcpSocket::m_limitOutputBytes),
                          ns3::MakeUintegerChecker<uint64_t>(1));
    return tid;
}

ns3::Ptr<TsqTcpSocket>
TsqTcpSocket::Create(ns3::Ptr<ns3::Node> node, ns3::TypeId cc)
{
    // As TcpL4Protocol::CreateSocket(), for our socket type.
    auto tcp = node->GetObject<ns3::TcpL4Protocol>();
    ns3::ObjectFactory ccFactory(cc.GetName());
    ns3::ObjectFactory recoveryFactory("ns3::TcpPrrRecovery");
    ns3::ObjectFactory rttFactory("ns3::RttMeanDeviation");
    auto socket = ns3::CreateObject<TsqTcpSocket>();
    socket->SetNode(node);
    socket->SetTcp(tcp);
    socket->SetRtt(rttFactory.Create<ns3::RttEstimator>());
    socket->SetCongestionControlAlgorithm(ccFactory.Create<ns3::TcpCongestionOps>());
    socket->SetRecoveryAlgorithm(recoveryFactory.Create<ns3::TcpRecoveryOps>());
    return socket;
}

ns3::Ptr<ns3::TcpSocketBase>
TsqTcpSocket::Fork()
{
    return ns3::CopyObject<TsqTcpSocket>(this);
}

void
TsqTcpSocket::SetAccount(ns3::Ptr<SocketAccount> account)
{
    m_account = account;
    m_account->SetReleaseCallback([this]() { OnRelease(); });
}

double
TsqTcpSocket::PacingRateBps() const
{
    // tcp_update_pacing_rate()
    double srtt = m_rtt ? m_rtt->GetEstimate().GetSeconds() : 0.0;
    if (srtt <= 0)
    {
        return 0.0;
    }
    uint32_t mss = m_tcb->m_segmentSize;
    double cwndPkts = static_cast<double>(m_tcb->m_cWnd.Get()) / mss;
    double packetsOut = static_cast<double>(m_tcb->m_bytesInFlight.Get()) / mss;
    double ratio = m_tcb->m_cWnd.Get() < m_tcb->m_ssThresh.Get() / 2 ? 2.0 : 1.2;
    return ratio * mss * std::max(cwndPkts, packetsOut) / srtt;
}

uint64_t
TsqTcpSocket::TsqLimit() const
{
    // tcp_small_queue_check(), factor 0; 2 * skb->truesize of a full segment.
    uint64_t twoSkbs = 2ull * SkbTruesize(m_tcb->m_segmentSize + 52);
    auto paced = static_cast<uint64_t>(PacingRateBps()) >> m_pacingShift;
    return std::min(std::max(twoSkbs, paced), m_limitOutputBytes);
}

uint32_t
TsqTcpSocket::AvailableWindow() const
{
    uint32_t window = ns3::TcpSocketBase::AvailableWindow();
    if (!m_enabled || !m_account || window == 0)
    {
        return window;
    }
    if (m_account->WmemAlloc() > TsqLimit())
    {
        // tcp_rtx_queue_empty_or_single_skb(): always let one more go.
        if (m_tcb->m_bytesInFlight.Get() <= m_tcb->m_segmentSize)
        {
            return window;
        }
        if (!m_throttled)
        {
            ++m_throttles;
        }
        m_throttled = true; // set_bit(TSQ_THROTTLED)
        return 0;
    }
    return window;
}

void
TsqTcpSocket::OnRelease()
{
    // tcp_wfree(): a throttled socket is queued for the TSQ handler.
    if (m_throttled && !m_handlerPending)
    {
        m_handlerPending = true;
        ns3::Simulator::ScheduleNow(&TsqTcpSocket::TsqHandler, this);
    }
}

void
TsqTcpSocket::TsqHandler()
{
    // tcp_tsq_handler() -> tcp_tsq_write() -> tcp_write_xmit()
    m_handlerPending = false;
    m_throttled = false;
    if (m_state == ns3::TcpSocket::ESTABLISHED || m_state == ns3::TcpSocket::CLOSE_WAIT)
    {
        SendPendingData(m_connected);
    }
}

} // namespace tunsim
