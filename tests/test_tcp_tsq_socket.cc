// TsqTcpSocket (TCP Small Queues on ns-3's TcpSocketBase) and
// CwndLimitedGate.
//
// Unit half: a subclass sets the socket's state (mss, cwnd, ssthresh,
// packets out, srtt) and the expected figures come from the kernel:
//   * tcp_update_pacing_rate(): rate = mss * max(cwnd, packets_out) / srtt,
//     times sysctl_tcp_pacing_ss_ratio (200 %) if cwnd < ssthresh / 2, else
//     sysctl_tcp_pacing_ca_ratio (120 %);
//   * tcp_small_queue_check(): limit = max(2 * skb->truesize,
//     sk_pacing_rate >> sk_pacing_shift), then min(limit,
//     tcp_limit_output_bytes); a full 1448-byte segment is a 1500-byte skb of
//     truesize SKB_TRUESIZE = 2304 (1580 -> 1600 + 320 -> kmalloc-2k);
//   * tcp_cong_avoid() / each congestion control's cong_avoid(): no growth
//     unless tcp_is_cwnd_limited().
// Network half: a bulk transfer over two nodes joined by one point-to-point
// link, skbs released at the NIC's TX completion; the bounds are the same
// kernel rules applied to the whole run.
#include "socket-account.h"
#include "tcp-tsq-socket.h"
#include "bulk-flow.h"
#include "test-p2p.h"
#include "traffic-apps.h"

#include "ns3/boolean.h"
#include "ns3/config.h"
#include "ns3/rtt-estimator.h"
#include "ns3/simulator.h"
#include "ns3/tcp-congestion-ops.h"
#include "ns3/uinteger.h"

#include <gtest/gtest.h>

#include <functional>

#include <memory>
#include <set>

using namespace tunsim;
using ns3::MilliSeconds;
using ns3::Seconds;
using ns3::Time;

namespace
{

/// The socket with its congestion state set by hand.
class Probe : public TsqTcpSocket
{
  public:
    void Set(uint32_t mss, uint32_t cwnd, uint32_t ssthresh, uint32_t packetsOutBytes, Time srtt)
    {
        m_tcb->m_segmentSize = mss;
        m_tcb->m_cWnd = cwnd;
        m_tcb->m_ssThresh = ssthresh;
        m_tcb->m_bytesInFlight = packetsOutBytes;
        auto rtt = ns3::CreateObject<ns3::RttMeanDeviation>();
        rtt->Measurement(srtt); // the first sample is the estimate
        SetRtt(rtt);
    }
    void SetRwnd(uint32_t rwnd) { m_rWnd = rwnd; }
    /// tcp_write_xmit()'s look at the window (nothing is in flight here).
    uint32_t Window() { return AvailableWindow(); }
};

/// A congestion control that only counts what reaches it.
class CountingCc : public ns3::TcpCongestionOps
{
  public:
    std::string GetName() const override { return "Counting"; }
    uint32_t GetSsThresh(ns3::Ptr<const ns3::TcpSocketState>, uint32_t) override { return 4242; }
    void IncreaseWindow(ns3::Ptr<ns3::TcpSocketState>, uint32_t) override { ++increases; }
    void PktsAcked(ns3::Ptr<ns3::TcpSocketState>, uint32_t, const Time&) override { ++acked; }
    ns3::Ptr<ns3::TcpCongestionOps> Fork() override { return ns3::CopyObject<CountingCc>(this); }
    int increases = 0;
    int acked = 0;
};

class TsqTest : public ::testing::Test
{
  public:
    void SetUp() override { tunsim_test::ResetNs3(); }
    void TearDown() override
    {
        m_tx = nullptr;
        m_sink = nullptr;
        m_net.reset();
        ns3::Config::Reset();
        tunsim_test::ResetNs3();
    }

    ns3::Ptr<Probe> MakeProbe()
    {
        return ns3::CreateObject<Probe>();
    }

    /// A TcpBulkSender (NewReno, 1448-byte segments) of `bytes` from node 0
    /// to a TcpSink on node 1 over rate/delay.
    void Bulk(const std::string& rate, Time delay, uint64_t bytes)
    {
        ns3::Config::SetDefault("ns3::TcpSocket::SegmentSize", ns3::UintegerValue(1448));
        // TSQ on skbs of one segment, as the closed forms below assume
        // (with GSO the limit is 2 x a GSO skb's truesize: test_linux_tcp).
        ns3::Config::SetDefault("tunsim::LinuxTcpSocket::Gso", ns3::BooleanValue(false));
        m_net = std::make_unique<tunsim_test::TwoNodes>(rate, delay);
        m_net->ReleaseAtNic();
        auto f = tunsim_test::InstallBulkFlow(*m_net, m_ledger, 5000, CongestionControl::NewReno, bytes);
        m_account = f.account;
        m_tx = f.tx;
        m_sink = f.sink;
    }

    ns3::Ptr<TsqTcpSocket> Socket() const { return ns3::DynamicCast<TsqTcpSocket>(m_tx->GetSocket()); }

    void Run(Time until)
    {
        ns3::Simulator::Stop(until);
        ns3::Simulator::Run();
    }

    void OnTxEnd(ns3::Ptr<const ns3::Packet>) { m_txEnd.insert(ns3::Simulator::Now().GetNanoSeconds()); }
    void OnAck(ns3::Ptr<const ns3::Packet>) { m_ackIn.insert(ns3::Simulator::Now().GetNanoSeconds()); }
    void OnSegment(ns3::Ptr<const ns3::Packet> p, const ns3::TcpHeader&, ns3::Ptr<const ns3::TcpSocketBase>)
    {
        if (p->GetSize() == 0)
        {
            return; // a pure ACK
        }
        const int64_t now = ns3::Simulator::Now().GetNanoSeconds();
        ++m_dataSegments;
        m_atRelease += m_txEnd.count(now) && !m_ackIn.count(now);
    }

    std::unique_ptr<tunsim_test::TwoNodes> m_net;
    ns3::Ptr<PacketLedger> m_ledger = ns3::Create<PacketLedger>();
    ns3::Ptr<SocketAccount> m_account;
    std::set<int64_t> m_txEnd;
    std::set<int64_t> m_ackIn;
    uint64_t m_atRelease = 0;
    uint64_t m_dataSegments = 0;
    ns3::Ptr<TcpBulkSender> m_tx;
    ns3::Ptr<TcpSink> m_sink;
};

constexpr uint32_t kTruesize = 2304; // SKB_TRUESIZE of a 1500-byte segment

} // namespace

// --------------------------------------------------------------- pacing rate

TEST_F(TsqTest, PacingRateIs200PercentInSlowStart)
{
    // cwnd 10 x 1000 < ssthresh / 2 = 50000; srtt 10 ms:
    // 2 * 1000 * 10 / 0.01 = 2e6 bytes/s.
    auto s = MakeProbe();
    s->Set(1000, 10000, 100000, 0, MilliSeconds(10));
    EXPECT_NEAR(s->PacingRateBps(), 2e6, 1e-6 * 2e6);
    // cwnd 49 000, still below 50 000: 2 * 49000 / 0.01
    s->Set(1000, 49000, 100000, 0, MilliSeconds(10));
    EXPECT_NEAR(s->PacingRateBps(), 9.8e6, 1e-6 * 9.8e6);
}

TEST_F(TsqTest, PacingRateIs120PercentFromHalfSsthresh)
{
    // cwnd = ssthresh / 2 exactly is no longer "< ssthresh / 2":
    // 1.2 * 50000 / 0.01 = 6e6.
    auto s = MakeProbe();
    s->Set(1000, 50000, 100000, 0, MilliSeconds(10));
    EXPECT_NEAR(s->PacingRateBps(), 6e6, 1e-6 * 6e6);
    // and above ssthresh (congestion avoidance proper), srtt 40 ms:
    // 1.2 * 200000 / 0.04 = 6e6.
    s->Set(1000, 200000, 100000, 0, MilliSeconds(40));
    EXPECT_NEAR(s->PacingRateBps(), 6e6, 1e-6 * 6e6);
}

TEST_F(TsqTest, PacingRateUsesPacketsOutWhenAboveCwnd)
{
    // max(cwnd, packets_out): 30 segments out with cwnd 10 (after a cwnd
    // reduction): 2 * 30000 / 0.01 = 6e6.
    auto s = MakeProbe();
    s->Set(1000, 10000, 100000, 30000, MilliSeconds(10));
    EXPECT_NEAR(s->PacingRateBps(), 6e6, 1e-6 * 6e6);
}

// ------------------------------------------------------------- TSQ limit

TEST_F(TsqTest, LimitIsTwoTruesizesAtLowPacingRates)
{
    // 10 segments of 1448 per 100 ms in slow start: 2 * 14480 / 0.1 =
    // 289600 B/s, >> 10 = 282 < 2 * 2304.
    auto s = MakeProbe();
    s->Set(1448, 14480, 1u << 30, 0, MilliSeconds(100));
    EXPECT_EQ(s->TsqLimit(), 2u * kTruesize);
}

TEST_F(TsqTest, LimitIsAboutOneMillisecondOfPacingRate)
{
    // 100 segments per 10 ms in congestion avoidance: 1.2 * 144800 / 0.01 =
    // 17376000 B/s; >> 10 = 16968 (the kernel's integer division; +-1 for
    // the model's floating point). Shift 8: 67875.
    auto s = MakeProbe();
    s->Set(1448, 144800, 100000, 0, MilliSeconds(10));
    EXPECT_NEAR(static_cast<double>(s->TsqLimit()), 16968.0, 1.0);
    s->SetAttribute("PacingShift", ns3::UintegerValue(8));
    EXPECT_NEAR(static_cast<double>(s->TsqLimit()), 67875.0, 1.0);
}

TEST_F(TsqTest, LimitOutputBytesCapsEvenBelowTwoTruesizes)
{
    // min(limit, tcp_limit_output_bytes) comes after the max(): the sysctl
    // wins even when it is below 2 * truesize.
    auto s = MakeProbe();
    s->Set(1448, 144800, 100000, 0, MilliSeconds(10));
    s->SetAttribute("LimitOutputBytes", ns3::UintegerValue(10000));
    EXPECT_EQ(s->TsqLimit(), 10000u);
    s->SetAttribute("LimitOutputBytes", ns3::UintegerValue(3000));
    EXPECT_EQ(s->TsqLimit(), 3000u);
    // the default, 1 MiB (Linux 4.20 - 6.15), does not bind here
    s->SetAttribute("LimitOutputBytes", ns3::UintegerValue(1u << 20));
    EXPECT_NEAR(static_cast<double>(s->TsqLimit()), 16968.0, 1.0);
}

// ------------------------------------------------------- CwndLimitedGate

TEST_F(TsqTest, GatePassesIncreaseWindowOnlyWhileCwndLimited)
{
    auto s = MakeProbe();
    auto inner = ns3::CreateObject<CountingCc>();
    auto gate = ns3::Create<CwndLimitedGate>(inner, ns3::PeekPointer(s));
    auto tcb = ns3::CreateObject<ns3::TcpSocketState>();

    // Congestion avoidance, cwnd (500) leaves no room for a 1000-byte
    // segment and the receive window (100 000) is not what limits:
    // cwnd-limited, the increase goes through.
    s->Set(1000, 500, 100, 0, MilliSeconds(10));
    s->SetRwnd(100000);
    EXPECT_EQ(s->Window(), 500u);
    EXPECT_TRUE(s->IsCwndLimited());
    gate->IncreaseWindow(tcb, 1);
    EXPECT_EQ(inner->increases, 1);

    // The receive window (500) is what leaves no room, cwnd 5000 above it:
    // not cwnd-limited, no growth (tcp_cong_avoid returns early).
    s->Set(1000, 5000, 100, 0, MilliSeconds(10));
    s->SetRwnd(500);
    EXPECT_EQ(s->Window(), 500u);
    EXPECT_FALSE(s->IsCwndLimited());
    gate->IncreaseWindow(tcb, 1);
    EXPECT_EQ(inner->increases, 1);

    // Everything else is passed on untouched.
    gate->PktsAcked(tcb, 2, MilliSeconds(10));
    EXPECT_EQ(inner->acked, 1);
    EXPECT_EQ(gate->GetName(), "Counting");
    EXPECT_EQ(gate->GetSsThresh(tcb, 0), 4242u);
    // Without a socket the gate is transparent.
    CwndLimitedGate open(inner, nullptr);
    open.IncreaseWindow(tcb, 1);
    EXPECT_EQ(inner->increases, 2);
}

// ------------------------------------------------------------ on a network

TEST_F(TsqTest, TsqHoldsTheQdiscToTheLimitPlusOneSegment)
{
    // 2 MB over a 10 Mbit/s bottleneck (the sender's own NIC), 5 ms.
    // Default sysctls: the limit is max(2 * 2304, rate >> 10); a segment
    // goes only while wmem <= limit, so wmem never exceeds the largest
    // limit by more than one segment (sampled every millisecond).
    Bulk("10Mbps", MilliSeconds(5), 2000000);
    uint64_t maxLimit = 0;
    std::function<void()> sample = [&]() {
        if (Socket())
        {
            maxLimit = std::max(maxLimit, Socket()->TsqLimit());
        }
        ns3::Simulator::Schedule(MilliSeconds(1), sample);
    };
    ns3::Simulator::Schedule(MilliSeconds(1), sample);
    Run(Seconds(5));
    EXPECT_EQ(m_sink->ReceivedBytes(), 2000000u);
    EXPECT_GE(maxLimit, 2u * kTruesize);
    EXPECT_LE(m_account->MaxWmemAlloc(), maxLimit + kTruesize);
    EXPECT_GE(m_account->MaxWmemAlloc(), 2u * kTruesize);
    EXPECT_GT(Socket()->ThrottleCount(), 0u);
    EXPECT_EQ(m_net->drops, 0u);
    const uint64_t withTsq = m_account->MaxWmemAlloc();

    // tcp_limit_output_bytes 4096 (the least a scenario accepts) caps the
    // limit below 2 * 2304: at most one data skb queued when the next is
    // handed down, 2 * 2304 = 4608 in the steady state. The handshake's last
    // ACK (a 52-byte skb: 132 -> 192 + 320 -> kmalloc-512, truesize 768,
    // charged too: tcp_transmit_skb() owns pure ACKs as well) is handed
    // down at the same instant as the first data: 768 + 2304 <= 4096 lets a
    // second segment go, so the peak is 768 + 2 * 2304 = 5376.
    TearDown();
    SetUp();
    ns3::Config::SetDefault("tunsim::TsqTcpSocket::LimitOutputBytes", ns3::UintegerValue(4096));
    Bulk("10Mbps", MilliSeconds(5), 2000000);
    Run(Seconds(5));
    EXPECT_EQ(m_sink->ReceivedBytes(), 2000000u);
    EXPECT_EQ(Socket()->TsqLimit(), 4096u);
    EXPECT_EQ(m_account->MaxWmemAlloc(), 768u + 2u * kTruesize);
    EXPECT_EQ(m_net->drops, 0u);

    // Without TSQ the qdisc fills with whatever cwnd allows beyond the
    // path's 13 kB: far more.
    TearDown();
    SetUp();
    ns3::Config::SetDefault("tunsim::TsqTcpSocket::TsqEnabled", ns3::BooleanValue(false));
    Bulk("10Mbps", MilliSeconds(5), 2000000);
    Run(Seconds(5));
    EXPECT_EQ(m_sink->ReceivedBytes(), 2000000u);
    EXPECT_EQ(Socket()->ThrottleCount(), 0u);
    EXPECT_GT(m_account->MaxWmemAlloc(), 4 * withTsq);
}

TEST_F(TsqTest, ThrottledSocketResumesAtItsSkbsRelease)
{
    // tcp_wfree() -> TSQ handler -> tcp_write_xmit(): a throttled socket
    // sends its next segment at the instant one of its skbs is freed (the
    // NIC's TX completion), not at the next ACK. Count data segments handed
    // down at a TX-completion instant of node 0's NIC at which no ACK
    // arrived: only the TSQ handler sends then. Without TSQ there are none.
    for (bool tsq : {true, false})
    {
        SCOPED_TRACE(tsq ? "TSQ" : "no TSQ");
        TearDown();
        SetUp();
        ns3::Config::SetDefault("tunsim::TsqTcpSocket::TsqEnabled", ns3::BooleanValue(tsq));
        Bulk("10Mbps", MilliSeconds(5), 1000000);
        m_txEnd.clear();
        m_ackIn.clear();
        m_atRelease = m_dataSegments = 0;
        m_net->Device(0)->TraceConnectWithoutContext("PhyTxEnd", ns3::MakeCallback(&TsqTest::OnTxEnd, this));
        m_net->Device(0)->TraceConnectWithoutContext("MacRx", ns3::MakeCallback(&TsqTest::OnAck, this));
        ns3::Simulator::Schedule(MilliSeconds(1), [this]() {
            Socket()->TraceConnectWithoutContext("Tx", ns3::MakeCallback(&TsqTest::OnSegment, this));
        });
        Run(Seconds(5));
        ASSERT_EQ(m_sink->ReceivedBytes(), 1000000u);
        ASSERT_GT(m_dataSegments, 600u);
        if (tsq)
        {
            EXPECT_GT(Socket()->ThrottleCount(), 0u);
            EXPECT_GT(m_atRelease, 0u);
        }
        else
        {
            EXPECT_EQ(m_atRelease, 0u);
        }
    }
}

TEST_F(TsqTest, ReceiveWindowLimitedFlowStopsGrowingCwnd)
{
    // A receive buffer of 8 segments (11584 bytes) on a 100 Mbit/s, 5 ms
    // path (BDP 125 kB): the flow is rwnd-limited, never cwnd-limited. In
    // slow start tcp_is_cwnd_limited() still allows growth while cwnd < 2 *
    // max_packets_out <= 2 * 11584, so cwnd ends below 2 * 11584 plus one
    // ACK's growth (2 segments, delayed ACKs): 26064. ns-3's own NewReno,
    // ungated, would add a segment per ACK for the whole 2 MB.
    ns3::Config::SetDefault("ns3::TcpSocket::RcvBufSize", ns3::UintegerValue(8 * 1448));
    Bulk("100Mbps", MilliSeconds(5), 2000000);
    Run(Seconds(10));
    ASSERT_EQ(m_sink->ReceivedBytes(), 2000000u);
    EXPECT_LE(m_tx->Cwnd(), 2u * 11584u + 2u * 1448u);
    EXPECT_FALSE(Socket()->IsCwndLimited());
}

TEST_F(TsqTest, EarlySlowStartIsCwndLimited)
{
    // At the start of a transfer with a large receive window and no TSQ,
    // every cwnd's worth goes out and the sender waits for ACKs:
    // cwnd-limited, and cwnd grows (tcp_is_cwnd_limited() holds).
    ns3::Config::SetDefault("tunsim::TsqTcpSocket::TsqEnabled", ns3::BooleanValue(false));
    Bulk("100Mbps", MilliSeconds(20), 10000000);
    bool limited = false;
    uint32_t cwndAt = 0;
    ns3::Simulator::Schedule(MilliSeconds(130), [&]() {
        limited = Socket()->IsCwndLimited();
        cwndAt = m_tx->Cwnd();
    });
    Run(MilliSeconds(131));
    EXPECT_TRUE(limited);
    EXPECT_GT(cwndAt, 10u * 1448u) << "grew past the initial window";
}
