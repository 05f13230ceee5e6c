#include "tcp-tsq-socket.h"

#include "host-cpu.h"

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
    auto socket = ns3::CreateObject<TsqTcpSocket>();
    socket->Attach(node, cc);
    return socket;
}

void
TsqTcpSocket::Attach(ns3::Ptr<ns3::Node> node, ns3::TypeId cc)
{
    // As TcpL4Protocol::CreateSocket(), for our socket types.
    ns3::ObjectFactory ccFactory(cc.GetName());
    ns3::ObjectFactory recoveryFactory("ns3::TcpPrrRecovery");
    ns3::ObjectFactory rttFactory("ns3::RttMeanDeviation");
    SetNode(node);
    SetTcp(node->GetObject<ns3::TcpL4Protocol>());
    SetRtt(rttFactory.Create<ns3::RttEstimator>());
    SetCongestionControlAlgorithm(ns3::Create<CwndLimitedGate>(ccFactory.Create<ns3::TcpCongestionOps>(), this));
    SetRecoveryAlgorithm(recoveryFactory.Create<ns3::TcpRecoveryOps>());
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
    if (m_ccSetsPacingRate)
    {
        // a congestion control with cong_control() (BBR) sets sk_pacing_rate
        return static_cast<double>(m_tcb->m_pacingRate.Get().GetBitRate()) / 8.0;
    }
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

uint32_t
TsqTcpSocket::NewlyLostBytes() const
{
    const uint32_t lost = m_txBuffer->GetLost();
    return lost > m_lostAtAck ? lost - m_lostAtAck : 0;
}

uint64_t
TsqTcpSocket::TsqLimit() const
{
    // tcp_small_queue_check(), factor 0: 2 * skb->truesize of the skb to
    // send (a full segment, or a GSO skb of SegmentsPerSkb() of them).
    uint64_t twoSkbs = 2ull * SegmentsPerSkb() * SkbTruesize(m_tcb->m_segmentSize + 52);
    auto paced = static_cast<uint64_t>(PacingRateBps()) >> m_pacingShift;
    return std::min(std::max(twoSkbs, paced), m_limitOutputBytes);
}

bool
TsqTcpSocket::IsCwndLimited() const
{
    if (m_cwndLimited)
    {
        return true;
    }
    // tcp_in_slow_start(): cwnd < ssthresh
    if (m_tcb->m_cWnd.Get() < m_tcb->m_ssThresh.Get())
    {
        return m_tcb->m_cWnd.Get() < 2 * m_maxBytesOut;
    }
    return false;
}

uint32_t
TsqTcpSocket::AvailableWindow() const
{
    uint32_t window = ns3::TcpSocketBase::AvailableWindow();
    uint32_t inFlight = m_tcb->m_bytesInFlight.Get();
    m_maxBytesOut = std::max(m_maxBytesOut, inFlight);
    // tcp_cwnd_validate(): the sender is cwnd-limited when cwnd (not the
    // receive window) is what leaves no room for another segment.
    if (window < m_tcb->m_segmentSize)
    {
        m_cwndLimited = m_tcb->m_cWnd.Get() <= m_rWnd.Get();
    }
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
        if (window >= m_tcb->m_segmentSize)
        {
            m_cwndLimited = false; // held back by TSQ, not by cwnd
        }
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
        if (HostCpu* cpu = HostCpu::Current())
        {
            // The multi-core host: tasklet_schedule() on the CPU that freed
            // the skb (the qdisc runner's, in tun_net_xmit()'s skb_orphan());
            // the handler's transmits are that CPU's work.
            ns3::Simulator::ScheduleNow([this, cpu]() {
                cpu->Submit(ns3::Time(0), CpuWork::Sender, [this]() { TsqHandler(); });
            });
            return;
        }
        ns3::Simulator::ScheduleNow(&TsqTcpSocket::TsqHandler, this);
    }
}

void
TsqTcpSocket::TsqHandler()
{
    // tcp_tsq_handler() -> tcp_tsq_write() -> tcp_write_xmit()
    m_handlerPending = false;
    m_throttled = false;
    OnTsqHandler();
    if (m_state == ns3::TcpSocket::ESTABLISHED || m_state == ns3::TcpSocket::CLOSE_WAIT)
    {
        SendPendingData(m_connected);
    }
}

// ----------------------------------------------------------- CwndLimitedGate

NS_OBJECT_ENSURE_REGISTERED(CwndLimitedGate);

ns3::TypeId
CwndLimitedGate::GetTypeId()
{
    static ns3::TypeId tid = ns3::TypeId("tunsim::CwndLimitedGate")
                                 .SetParent<ns3::TcpCongestionOps>()
                                 .SetGroupName("Tunsim")
                                 .AddConstructor<CwndLimitedGate>();
    return tid;
}

CwndLimitedGate::CwndLimitedGate(ns3::Ptr<ns3::TcpCongestionOps> inner, const TsqTcpSocket* socket)
    : m_inner(inner),
      m_socket(socket)
{
}

std::string
CwndLimitedGate::GetName() const
{
    return m_inner->GetName();
}

void
CwndLimitedGate::Init(ns3::Ptr<ns3::TcpSocketState> tcb)
{
    m_inner->Init(tcb);
}

uint32_t
CwndLimitedGate::GetSsThresh(ns3::Ptr<const ns3::TcpSocketState> tcb, uint32_t bytesInFlight)
{
    return m_inner->GetSsThresh(tcb, bytesInFlight);
}

void
CwndLimitedGate::IncreaseWindow(ns3::Ptr<ns3::TcpSocketState> tcb, uint32_t segmentsAcked)
{
    if (!m_socket || m_socket->IsCwndLimited())
    {
        m_inner->IncreaseWindow(tcb, segmentsAcked);
    }
}

void
CwndLimitedGate::PktsAcked(ns3::Ptr<ns3::TcpSocketState> tcb, uint32_t segmentsAcked, const ns3::Time& rtt)
{
    m_inner->PktsAcked(tcb, segmentsAcked, rtt);
}

void
CwndLimitedGate::CongestionStateSet(ns3::Ptr<ns3::TcpSocketState> tcb,
                                    const ns3::TcpSocketState::TcpCongState_t newState)
{
    m_inner->CongestionStateSet(tcb, newState);
}

void
CwndLimitedGate::CwndEvent(ns3::Ptr<ns3::TcpSocketState> tcb, const ns3::TcpSocketState::TcpCAEvent_t event)
{
    m_inner->CwndEvent(tcb, event);
}

bool
CwndLimitedGate::HasCongControl() const
{
    return m_inner->HasCongControl();
}

void
CwndLimitedGate::CongControl(ns3::Ptr<ns3::TcpSocketState> tcb,
                             const ns3::TcpRateOps::TcpRateConnection& rc,
                             const ns3::TcpRateOps::TcpRateSample& rs)
{
    if (!m_socket)
    {
        m_inner->CongControl(tcb, rc, rs);
        return;
    }
    ns3::TcpRateOps::TcpRateSample sample = rs;
    sample.m_bytesLoss = m_socket->NewlyLostBytes();
    m_inner->CongControl(tcb, rc, sample);
}

ns3::Ptr<ns3::TcpCongestionOps>
CwndLimitedGate::Fork()
{
    // A forked socket (listen/accept) gets an ungated copy: tunsim's
    // TsqTcpSockets only connect.
    return m_inner->Fork();
}

} // namespace tunsim
