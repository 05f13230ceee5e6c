// LinuxCubic: Linux's CUBIC congestion control (net/ipv4/tcp_cubic.c, as in
// 6.12 - 6.18), transcribed function by function onto ns-3's
// TcpCongestionOps.
//
//   cubictcp_init            Init()
//   cubictcp_recalc_ssthresh GetSsThresh()
//   cubictcp_cong_avoid      IncreaseWindow()  (tcp_slow_start + bictcp_update
//                                               + tcp_cong_avoid_ai)
//   cubictcp_state           CongestionStateSet()
//   cubictcp_cwnd_event      CwndEvent()
//   cubictcp_acked           PktsAcked()       (HyStart: hystart_update)
//
// Why not ns-3's TcpCubic: its HyStart ends slow start at about twice the
// BDP (an ACK train of the whole delay_min instead of delay_min/2 when the
// flow is not paced; a delay threshold of delay_min instead of
// clamp(delay_min/8, 4 ms, 16 ms)), it has no TCP-friendly region, it holds
// HyStart samples off for 10 ms instead of a jiffy-second, and it is fed the
// smoothed RTT where Linux feeds the RTT of the last (S)ACKed packet. See
// docs/model.md ("TCP as Linux runs it").
//
// Units as in the kernel: cwnd in packets (ns-3's byte cwnd / MSS), time in
// jiffies of 1/HZ s (Hz attribute, default 250: CONFIG_HZ of the validation
// kernel) and in microseconds for HyStart. `tcp_is_cwnd_limited()` is left
// to the caller (CwndLimitedGate). The RTT passed to PktsAcked() must be a
// per-ACK sample (LinuxTcpSocket passes the last (S)ACKed packet's).
#pragma once

#include "ns3/tcp-congestion-ops.h"

#include <cstdint>

namespace tunsim
{

class LinuxCubic : public ns3::TcpCongestionOps
{
  public:
    static ns3::TypeId GetTypeId();
    LinuxCubic() = default;

    std::string GetName() const override { return "LinuxCubic"; }
    void Init(ns3::Ptr<ns3::TcpSocketState> tcb) override;
    uint32_t GetSsThresh(ns3::Ptr<const ns3::TcpSocketState> tcb, uint32_t bytesInFlight) override;
    void IncreaseWindow(ns3::Ptr<ns3::TcpSocketState> tcb, uint32_t segmentsAcked) override;
    void PktsAcked(ns3::Ptr<ns3::TcpSocketState> tcb, uint32_t segmentsAcked, const ns3::Time& rtt) override;
    void CongestionStateSet(ns3::Ptr<ns3::TcpSocketState> tcb,
                            const ns3::TcpSocketState::TcpCongState_t newState) override;
    void CwndEvent(ns3::Ptr<ns3::TcpSocketState> tcb, const ns3::TcpSocketState::TcpCAEvent_t event) override;
    ns3::Ptr<ns3::TcpCongestionOps> Fork() override;

    /// Why slow start ended, for tests and traces: 0 not yet, 1 ack train, 2 delay.
    uint32_t HystartFound() const { return m_foundBy; }

    /// tcp_cubic.c's cubic_root(): integer cube root by table and one
    /// Newton-Raphson step, as the kernel computes it.
    static uint32_t CubicRoot(uint64_t a);

  private:
    /// struct bictcp
    struct Bictcp
    {
        uint32_t cnt = 0;
        uint32_t lastMaxCwnd = 0;
        uint32_t lastCwnd = 0;
        uint32_t lastTime = 0;
        uint32_t bicOriginPoint = 0;
        uint32_t bicK = 0;
        uint32_t delayMin = 0; ///< us
        uint32_t epochStart = 0;
        uint32_t ackCnt = 0;
        uint32_t tcpCwnd = 0;
        uint8_t sampleCnt = 0;
        bool found = false;
        uint32_t roundStart = 0; ///< us
        uint32_t endSeq = 0;
        uint32_t lastAck = 0;    ///< us
        uint32_t currRtt = 0;    ///< us
    };

    uint32_t Jiffies() const;
    uint32_t ClockUs() const;
    void Reset();
    void HystartReset(ns3::Ptr<const ns3::TcpSocketState> tcb);
    void HystartUpdate(ns3::Ptr<ns3::TcpSocketState> tcb, uint32_t delayUs);
    uint32_t HystartAckDelayUs(ns3::Ptr<const ns3::TcpSocketState> tcb) const;
    void BictcpUpdate(uint32_t cwnd, uint32_t acked);
    uint32_t Segments(ns3::Ptr<const ns3::TcpSocketState> tcb) const;

    Bictcp m_ca;
    uint32_t m_foundBy = 0;
    uint32_t m_lastSendJiffies = 0;
    uint32_t m_cwndCnt = 0; ///< tp->snd_cwnd_cnt: ACKed packets towards the next increment
    // module parameters (tcp_cubic.c defaults)
    bool m_fastConvergence = true;
    uint32_t m_beta = 717;       ///< /1024
    uint32_t m_bicScale = 41;    ///< /1024
    bool m_tcpFriendliness = true;
    bool m_hystart = true;
    uint32_t m_hystartDetect = 3; ///< 1 ack train, 2 delay
    uint32_t m_hystartLowWindow = 16;
    uint32_t m_hystartAckDeltaUs = 2000;
    uint32_t m_hz = 250;
    uint32_t m_gsoMaxSize = 65536; ///< sk_gso_max_size, for hystart_ack_delay()
};

} // namespace tunsim
