#include "linux-cubic.h"

#include "ns3/boolean.h"
#include "ns3/simulator.h"
#include "ns3/uinteger.h"

#include <algorithm>

namespace tunsim
{

NS_OBJECT_ENSURE_REGISTERED(LinuxCubic);

namespace
{
constexpr uint32_t kBetaScale = 1024; // BICTCP_BETA_SCALE
constexpr uint32_t kBicHz = 10;       // BICTCP_HZ: 2^10
constexpr uint32_t kHystartAckTrain = 0x1;
constexpr uint32_t kHystartDelay = 0x2;
constexpr uint8_t kHystartMinSamples = 8;
constexpr uint32_t kHystartDelayMinUs = 4000;
constexpr uint32_t kHystartDelayMaxUs = 16000;

/// before()/after() of 32-bit sequence numbers and jiffies.
bool
After(uint32_t a, uint32_t b)
{
    return static_cast<int32_t>(a - b) > 0;
}
} // namespace

ns3::TypeId
LinuxCubic::GetTypeId()
{
    static ns3::TypeId tid =
        ns3::TypeId("tunsim::LinuxCubic")
            .SetParent<ns3::TcpCongestionOps>()
            .SetGroupName("Tunsim")
            .AddConstructor<LinuxCubic>()
            .AddAttribute("Hz", "CONFIG_HZ of the kernel: the resolution of tcp_jiffies32",
                          ns3::UintegerValue(250), ns3::MakeUintegerAccessor(&LinuxCubic::m_hz),
                          ns3::MakeUintegerChecker<uint32_t>(100, 1000))
            .AddAttribute("HyStart", "module parameter hystart", ns3::BooleanValue(true),
                          ns3::MakeBooleanAccessor(&LinuxCubic::m_hystart), ns3::MakeBooleanChecker())
            .AddAttribute("HyStartDetect", "module parameter hystart_detect (1 ack train, 2 delay, 3 both)",
                          ns3::UintegerValue(3), ns3::MakeUintegerAccessor(&LinuxCubic::m_hystartDetect),
                          ns3::MakeUintegerChecker<uint32_t>(0, 3))
            .AddAttribute("FastConvergence", "module parameter fast_convergence", ns3::BooleanValue(true),
                          ns3::MakeBooleanAccessor(&LinuxCubic::m_fastConvergence), ns3::MakeBooleanChecker())
            .AddAttribute("TcpFriendliness", "module parameter tcp_friendliness", ns3::BooleanValue(true),
                          ns3::MakeBooleanAccessor(&LinuxCubic::m_tcpFriendliness), ns3::MakeBooleanChecker());
    return tid;
}

ns3::Ptr<ns3::TcpCongestionOps>
LinuxCubic::Fork()
{
    return ns3::CopyObject<LinuxCubic>(this);
}

uint32_t
LinuxCubic::Jiffies() const
{
    // tcp_jiffies32: ticks of 1/HZ s since boot (here: since the simulation began)
    return static_cast<uint32_t>(ns3::Simulator::Now().GetMicroSeconds() * m_hz / 1000000);
}

uint32_t
LinuxCubic::ClockUs() const
{
    // bictcp_clock_us(): tp->tcp_mstamp
    return static_cast<uint32_t>(ns3::Simulator::Now().GetMicroSeconds());
}

uint32_t
LinuxCubic::Segments(ns3::Ptr<const ns3::TcpSocketState> tcb) const
{
    // tcp_snd_cwnd(): packets
    return std::max<uint32_t>(tcb->m_cWnd.Get() / tcb->m_segmentSize, 1);
}

void
LinuxCubic::Reset()
{
    // bictcp_reset()
    m_ca = Bictcp{};
    m_foundBy = 0;
}

void
LinuxCubic::HystartReset(ns3::Ptr<const ns3::TcpSocketState> tcb)
{
    // bictcp_hystart_reset(): a new round starts at snd_nxt
    m_ca.roundStart = m_ca.lastAck = ClockUs();
    m_ca.endSeq = tcb->m_highTxMark.Get().GetValue();
    m_ca.currRtt = ~0U;
    m_ca.sampleCnt = 0;
}

void
LinuxCubic::Init(ns3::Ptr<ns3::TcpSocketState> tcb)
{
    // cubictcp_init() (initial_ssthresh 0: the socket's own)
    Reset();
    m_cwndCnt = 0;
    if (m_hystart)
    {
        HystartReset(tcb);
    }
}

void
LinuxCubic::CwndEvent(ns3::Ptr<ns3::TcpSocketState> tcb, const ns3::TcpSocketState::TcpCAEvent_t event)
{
    // cubictcp_cwnd_event(CA_EVENT_TX_START): after an idle period the
    // epoch moves on by the idle time, so the cubic curve does not jump.
    if (event != ns3::TcpSocketState::CA_EVENT_TX_START)
    {
        return;
    }
    const uint32_t now = Jiffies();
    const auto delta = static_cast<int32_t>(now - m_lastSendJiffies);
    if (m_ca.epochStart && delta > 0)
    {
        m_ca.epochStart += delta;
        if (After(m_ca.epochStart, now))
        {
            m_ca.epochStart = now;
        }
    }
}

uint32_t
LinuxCubic::CubicRoot(uint64_t a)
{
    // cubic_root(): v[x] = (cube_root(x) * 64) for x < 64, rounded.
    static const uint8_t v[] = {
        0,   54,  54,  54,  118, 118, 118, 118, 123, 129, 134, 138, 143, 147, 151, 156,
        157, 161, 164, 168, 170, 173, 176, 179, 181, 185, 187, 190, 192, 194, 197, 199,
        200, 202, 204, 206, 209, 211, 213, 215, 217, 219, 221, 222, 224, 225, 227, 229,
        231, 232, 234, 236, 237, 239, 240, 242, 244, 245, 246, 248, 250, 251, 252, 254,
    };
    uint32_t b = a == 0 ? 0 : 64 - static_cast<uint32_t>(__builtin_clzll(a)); // fls64()
    if (b < 7)
    {
        // a in [0 .. 63]
        return (static_cast<uint32_t>(v[static_cast<uint32_t>(a)]) + 35) >> 6;
    }
    b = ((b * 84) >> 8) - 1;
    const auto shift = static_cast<uint32_t>(a >> (b * 3));
    uint32_t x = ((static_cast<uint32_t>(v[shift]) + 10) << b) >> 6;
    // Newton-Raphson: x_{k+1} = (2 * x_k + a / x_k^2) / 3
    x = 2 * x + static_cast<uint32_t>(a / (static_cast<uint64_t>(x) * static_cast<uint64_t>(x - 1)));
    x = (x * 341) >> 10;
    return x;
}

void
LinuxCubic::BictcpUpdate(uint32_t cwnd, uint32_t acked)
{
    const uint32_t now = Jiffies();
    m_ca.ackCnt += acked;
    if (m_ca.lastCwnd == cwnd && static_cast<int32_t>(now - m_ca.lastTime) <= static_cast<int32_t>(m_hz / 32))
    {
        return;
    }
    const uint32_t betaScale = 8 * (kBetaScale + m_beta) / 3 / (kBetaScale - m_beta);
    if (!(m_ca.epochStart && now == m_ca.lastTime))
    {
        m_ca.lastCwnd = cwnd;
        m_ca.lastTime = now;
        if (m_ca.epochStart == 0)
        {
            m_ca.epochStart = now; // record beginning
            m_ca.ackCnt = acked;   // start counting
            m_ca.tcpCwnd = cwnd;   // syn with cubic
            if (m_ca.lastMaxCwnd <= cwnd)
            {
                m_ca.bicK = 0;
                m_ca.bicOriginPoint = cwnd;
            }
            else
            {
                // K = cubic_root((wmax - cwnd) * 2^40 / (bic_scale * 10))
                const uint64_t cubeFactor = (uint64_t{1} << (10 + 3 * kBicHz)) / (m_bicScale * 10);
                m_ca.bicK = CubicRoot(cubeFactor * (m_ca.lastMaxCwnd - cwnd));
                m_ca.bicOriginPoint = m_ca.lastMaxCwnd;
            }
        }
        // cubic function: t in 2^-10 s since the epoch began, plus delay_min
        uint64_t t = static_cast<uint32_t>(now - m_ca.epochStart);
        t += (static_cast<uint64_t>(m_ca.delayMin) * m_hz + 999999) / 1000000; // usecs_to_jiffies
        t <<= kBicHz;
        t /= m_hz;
        const uint64_t offs = t < m_ca.bicK ? m_ca.bicK - t : t - m_ca.bicK;
        const uint32_t cubeRttScale = m_bicScale * 10;
        const auto delta = static_cast<uint32_t>((cubeRttScale * offs * offs * offs) >> (10 + 3 * kBicHz));
        const uint32_t bicTarget = t < m_ca.bicK ? m_ca.bicOriginPoint - delta : m_ca.bicOriginPoint + delta;
        m_ca.cnt = bicTarget > cwnd ? cwnd / (bicTarget - cwnd) : 100 * cwnd;
        if (m_ca.lastMaxCwnd == 0 && m_ca.cnt > 20)
        {
            m_ca.cnt = 20; // increase cwnd 5% per RTT
        }
    }
    if (m_tcpFriendliness)
    {
        // A Reno flow's window at the same point, and cubic at least as fast.
        uint32_t delta = (cwnd * betaScale) >> 3;
        while (delta && m_ca.ackCnt > delta)
        {
            m_ca.ackCnt -= delta;
            ++m_ca.tcpCwnd;
        }
        if (m_ca.tcpCwnd > cwnd)
        {
            delta = m_ca.tcpCwnd - cwnd;
            m_ca.cnt = std::min(m_ca.cnt, cwnd / delta);
        }
    }
    m_ca.cnt = std::max<uint32_t>(m_ca.cnt, 2);
}

void
LinuxCubic::IncreaseWindow(ns3::Ptr<ns3::TcpSocketState> tcb, uint32_t segmentsAcked)
{
    // cubictcp_cong_avoid(); the caller has checked tcp_is_cwnd_limited().
    const uint32_t mss = tcb->m_segmentSize;
    uint32_t cwnd = Segments(tcb);
    const uint32_t ssthresh = std::max<uint32_t>(tcb->m_ssThresh.Get() / mss, 1);
    uint32_t acked = segmentsAcked;
    m_lastSendJiffies = Jiffies();
    if (cwnd < ssthresh)
    {
        // tcp_slow_start(): grow by what was acked, not past ssthresh
        const uint32_t next = std::min(cwnd + acked, ssthresh);
        acked -= next - cwnd;
        cwnd = next;
        tcb->m_cWnd = cwnd * mss;
        if (!acked)
        {
            return;
        }
    }
    BictcpUpdate(cwnd, acked);
    // tcp_cong_avoid_ai(tp, ca->cnt, acked)
    const uint32_t w = m_ca.cnt;
    if (m_cwndCnt >= w)
    {
        m_cwndCnt = 0;
        ++cwnd;
    }
    m_cwndCnt += acked;
    if (m_cwndCnt >= w)
    {
        const uint32_t delta = m_cwndCnt / w;
        m_cwndCnt -= delta * w;
        cwnd += delta;
    }
    tcb->m_cWnd = cwnd * mss;
}

uint32_t
LinuxCubic::GetSsThresh(ns3::Ptr<const ns3::TcpSocketState> tcb, uint32_t bytesInFlight)
{
    // cubictcp_recalc_ssthresh()
    const uint32_t cwnd = Segments(tcb);
    m_ca.epochStart = 0; // end of epoch
    m_cwndCnt = 0;       // tcp_init_cwnd_reduction() -> ... snd_cwnd_cnt = 0
    if (cwnd < m_ca.lastMaxCwnd && m_fastConvergence)
    {
        m_ca.lastMaxCwnd = cwnd * (kBetaScale + m_beta) / (2 * kBetaScale);
    }
    else
    {
        m_ca.lastMaxCwnd = cwnd;
    }
    return std::max<uint32_t>(cwnd * m_beta / kBetaScale, 2) * tcb->m_segmentSize;
}

void
LinuxCubic::CongestionStateSet(ns3::Ptr<ns3::TcpSocketState> tcb,
                               const ns3::TcpSocketState::TcpCongState_t newState)
{
    // cubictcp_state(): an RTO forgets everything
    if (newState == ns3::TcpSocketState::CA_LOSS)
    {
        Reset();
        HystartReset(tcb);
    }
}

uint32_t
LinuxCubic::HystartAckDelayUs(ns3::Ptr<const ns3::TcpSocketState> tcb) const
{
    // hystart_ack_delay(): min(1 ms, 4 * gso_max_size / sk_pacing_rate),
    // sk_pacing_rate as tcp_update_pacing_rate() sets it.
    const double srtt = tcb->m_lastRtt.Get().GetSeconds();
    if (srtt <= 0)
    {
        return 0;
    }
    const double ratio = tcb->m_cWnd.Get() < tcb->m_ssThresh.Get() / 2 ? 2.0 : 1.2;
    const double rate = ratio * std::max(tcb->m_cWnd.Get(), tcb->m_bytesInFlight.Get()) / srtt; // bytes/s
    return rate <= 0 ? 0 : static_cast<uint32_t>(std::min(1000.0, m_gsoMaxSize * 4.0 * 1e6 / rate));
}

void
LinuxCubic::HystartUpdate(ns3::Ptr<ns3::TcpSocketState> tcb, uint32_t delayUs)
{
    // hystart_update(): leave slow start (ssthresh = cwnd) when the ACKs
    // of a round keep coming back to back for delay_min/2 (ack train), or
    // the round's minimum RTT rose by clamp(delay_min/8, 4 ms, 16 ms).
    if (After(tcb->m_lastAckedSeq.GetValue(), m_ca.endSeq))
    {
        HystartReset(tcb);
    }
    const uint32_t cwnd = Segments(tcb);
    if (cwnd < m_hystartLowWindow)
    {
        return;
    }
    if (m_hystartDetect & kHystartAckTrain)
    {
        const uint32_t now = ClockUs();
        if (static_cast<int32_t>(now - m_ca.lastAck) <= static_cast<int32_t>(m_hystartAckDeltaUs))
        {
            m_ca.lastAck = now;
            uint32_t threshold = m_ca.delayMin + HystartAckDelayUs(tcb);
            threshold >>= 1; // sk_pacing_status == SK_PACING_NONE: cubic is not paced
            if (static_cast<int32_t>(now - m_ca.roundStart) > static_cast<int32_t>(threshold))
            {
                m_ca.found = true;
                m_foundBy = kHystartAckTrain;
                tcb->m_ssThresh = cwnd * tcb->m_segmentSize;
            }
        }
    }
    if (m_hystartDetect & kHystartDelay)
    {
        m_ca.currRtt = std::min(m_ca.currRtt, delayUs);
        if (m_ca.sampleCnt < kHystartMinSamples)
        {
            ++m_ca.sampleCnt;
        }
        else if (m_ca.currRtt > m_ca.delayMin + std::clamp(m_ca.delayMin >> 3, kHystartDelayMinUs, kHystartDelayMaxUs))
        {
            m_ca.found = true;
            m_foundBy = kHystartDelay;
            tcb->m_ssThresh = cwnd * tcb->m_segmentSize;
        }
    }
}

void
LinuxCubic::PktsAcked(ns3::Ptr<ns3::TcpSocketState> tcb, uint32_t segmentsAcked, const ns3::Time& rtt)
{
    // cubictcp_acked()
    if (rtt.IsNegative() || rtt.IsZero())
    {
        return;
    }
    // Discard delay samples right after fast recovery (for a second).
    if (m_ca.epochStart && static_cast<int32_t>(Jiffies() - m_ca.epochStart) < static_cast<int32_t>(m_hz))
    {
        return;
    }
    const auto delay = std::max<uint32_t>(static_cast<uint32_t>(rtt.GetMicroSeconds()), 1);
    if (m_ca.delayMin == 0 || m_ca.delayMin > delay)
    {
        m_ca.delayMin = delay;
    }
    if (!m_ca.found && tcb->m_cWnd.Get() < tcb->m_ssThresh.Get() && m_hystart)
    {
        HystartUpdate(tcb, delay);
    }
}

} // namespace tunsim
