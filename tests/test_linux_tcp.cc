// Linux's TCP pieces transcribed into tunsim: LinuxCubic (tcp_cubic.c),
// LinuxRcvWindow (the receiver's window and quick ACKs), LinuxTcpSocket
// (RTT samples, RTO). Expected values are worked out from the kernel
// source cited in each test, not taken from a run.
#include "gso-tag.h"
#include "helper/linux-fifo-queue-disc.h"
#include "linux-cubic.h"
#include "linux-rcv-window.h"
#include "linux-tcp-socket.h"
#include "packet-ledger.h"
#include "socket-account.h"
#include "bulk-flow.h"
#include "test-p2p.h"
#include "traffic-apps.h"

#include "ns3/boolean.h"
#include "ns3/config.h"
#include "ns3/ipv4-queue-disc-item.h"
#include "ns3/uinteger.h"

#include "ns3/simulator.h"
#include "ns3/tcp-socket-state.h"

#include <gtest/gtest.h>

#include <utility>

#include <algorithm>
#include <cmath>
#include <vector>

using namespace tunsim;

namespace
{

constexpr uint32_t kMss = 1448;

ns3::Ptr<ns3::TcpSocketState>
Tcb(uint32_t cwndSegs, uint32_t ssthreshSegs)
{
    auto tcb = ns3::CreateObject<ns3::TcpSocketState>();
    tcb->m_segmentSize = kMss;
    tcb->m_cWnd = cwndSegs * kMss;
    tcb->m_ssThresh = ssthreshSegs * kMss;
    tcb->m_lastRtt = ns3::MilliSeconds(100);
    return tcb;
}

/// Run `f` at simulated time `t` (LinuxCubic reads the clock).
template <typename F>
void
At(ns3::Time t, F f)
{
    ns3::Simulator::Schedule(t - ns3::Simulator::Now(), f);
    ns3::Simulator::Run();
}

} // namespace

// ------------------------------------------------------------------ cubic

TEST(LinuxCubic, CubicRootIsWithinOneOfTheRealRoot)
{
    // cubic_root(): a table for a < 64, one Newton step above; the kernel's
    // own comment promises an error below 0.2 % plus rounding.
    for (uint64_t a : {0ull, 1ull, 7ull, 8ull, 63ull, 64ull, 1000ull, 123456789ull, 1ull << 40, 1ull << 50})
    {
        const double root = std::cbrt(static_cast<double>(a));
        EXPECT_NEAR(LinuxCubic::CubicRoot(a), root, std::max(1.0, root * 0.003)) << a;
    }
}

TEST(LinuxCubic, SsthreshIsSevenTenthsAndFastConvergenceLowersWmax)
{
    // cubictcp_recalc_ssthresh(): max(cwnd * 717 / 1024, 2); with fast
    // convergence a second loss below the last maximum keeps (1 + beta)/2 of it.
    auto cc = ns3::CreateObject<LinuxCubic>();
    auto tcb = Tcb(1000, 100000);
    cc->Init(tcb);
    EXPECT_EQ(cc->GetSsThresh(tcb, 0), 1000u * 717 / 1024 * kMss);
    tcb->m_cWnd = 800 * kMss; // below last_max_cwnd 1000
    EXPECT_EQ(cc->GetSsThresh(tcb, 0), 800u * 717 / 1024 * kMss);
    tcb->m_cWnd = 2 * kMss;
    EXPECT_EQ(cc->GetSsThresh(tcb, 0), 2u * kMss); // never below 2
    ns3::Simulator::Destroy();
}

TEST(LinuxCubic, SlowStartGrowsByWhatWasAckedAndStopsAtSsthresh)
{
    // tcp_slow_start(): cwnd = min(cwnd + acked, ssthresh); the rest of
    // `acked` goes to congestion avoidance (one more segment needs >= 2 acks
    // there: ca->cnt >= 2).
    auto cc = ns3::CreateObject<LinuxCubic>();
    auto tcb = Tcb(10, 20);
    cc->Init(tcb);
    cc->IncreaseWindow(tcb, 4);
    EXPECT_EQ(tcb->m_cWnd.Get(), 14u * kMss);
    cc->IncreaseWindow(tcb, 10);
    EXPECT_EQ(tcb->m_cWnd.Get(), 20u * kMss); // capped at ssthresh; 4 acks left over
    ns3::Simulator::Destroy();
}

TEST(LinuxCubic, CongestionAvoidanceNeverGrowsFasterThanOneSegmentPerTwoAcked)
{
    // bictcp_update(): ca->cnt = max(cnt, 2); with no previous maximum the
    // cubic target is clamped to 5 % per RTT (cnt 20) but the TCP-friendly
    // Reno estimate may be faster. Over 10000 acked segments at cwnd ~100,
    // growth is at most 10000 / 2.
    auto cc = ns3::CreateObject<LinuxCubic>();
    auto tcb = Tcb(100, 100);
    cc->Init(tcb);
    uint32_t acked = 0;
    for (int ms = 1; ms <= 1000; ++ms)
    {
        At(ns3::MilliSeconds(ms), [&] {
            cc->IncreaseWindow(tcb, 10);
            acked += 10;
        });
    }
    const uint32_t grown = tcb->m_cWnd.Get() / kMss - 100;
    EXPECT_GT(grown, 0u);
    EXPECT_LE(grown, acked / 2);
    ns3::Simulator::Destroy();
}

TEST(LinuxCubic, AckTrainEndsSlowStartAfterHalfTheMinimumRtt)
{
    // hystart_update(): an unpaced flow (SK_PACING_NONE) leaves slow start
    // (ssthresh = cwnd) once a round's ACKs, each within 2 ms of the last,
    // span more than (delay_min + ack_delay) / 2. Here delay_min = 100 ms and
    // ack_delay = 1 ms: at 50.5 ms into the round the next ACK ends it.
    auto cc = ns3::CreateObject<LinuxCubic>();
    auto tcb = Tcb(100, 1000000);
    cc->Init(tcb); // round starts at t = 0
    bool found = false;
    ns3::Time foundAt;
    for (int us = 0; us <= 60000 && !found; us += 500) // an ACK every 0.5 ms
    {
        At(ns3::MicroSeconds(us), [&] {
            cc->PktsAcked(tcb, 1, ns3::MilliSeconds(100));
            if (cc->HystartFound())
            {
                found = true;
                foundAt = ns3::Simulator::Now();
            }
        });
    }
    ASSERT_TRUE(found);
    EXPECT_EQ(cc->HystartFound(), 1u); // the ack train, not delay
    EXPECT_GT(foundAt, ns3::MicroSeconds(50500));
    EXPECT_LE(foundAt, ns3::MicroSeconds(51000));
    EXPECT_EQ(tcb->m_ssThresh.Get(), 100u * kMss);
    ns3::Simulator::Destroy();
}

TEST(LinuxCubic, DelayIncreaseEndsSlowStart)
{
    // HYSTART_DELAY: after 8 samples of a round, a round minimum above
    // delay_min + clamp(delay_min / 8, 4 ms, 16 ms) ends slow start: 60 ms
    // RTT -> threshold 67.5 ms. delay_min comes from a first round; the
    // next round (snd_una past end_seq) sees only the larger samples. ACKs
    // 3 ms apart: no ack train.
    for (const auto& [sampleUs, expectFound] : std::vector<std::pair<int, uint32_t>>{{67400, 0}, {67600, 2}})
    {
        auto cc = ns3::CreateObject<LinuxCubic>();
        auto tcb = Tcb(100, 1000000);
        tcb->m_highTxMark = ns3::SequenceNumber32(1000);
        cc->Init(tcb); // round 1 ends at sequence 1000
        At(ns3::MilliSeconds(3), [&] { cc->PktsAcked(tcb, 1, ns3::MilliSeconds(60)); });
        tcb->m_lastAckedSeq = ns3::SequenceNumber32(1001); // round 2
        tcb->m_highTxMark = ns3::SequenceNumber32(100000);
        for (int i = 2; i <= 12; ++i)
        {
            At(ns3::MilliSeconds(3 * i), [&] { cc->PktsAcked(tcb, 1, ns3::MicroSeconds(sampleUs)); });
        }
        EXPECT_EQ(cc->HystartFound(), expectFound) << sampleUs;
        ns3::Simulator::Destroy();
    }
}

// ---------------------------------------------------------- receive window

TEST(LinuxRcvWindow, FirstWindowIsHalfOfTcpRmemRoundedToTheMss)
{
    // tcp_select_initial_window(): tcp_full_space = 131072 * 128 / 256 =
    // 65536, rounded down to 45 * 1448 = 65160.
    LinuxRcvWindow w({});
    EXPECT_EQ(w.InitialWindow(), 65160u);
    // tcp_init_buffer_space(): window_clamp = 65536 - 1448 (one segment reserved)
    EXPECT_EQ(w.WindowClamp(), 65536u - 1448);
}

TEST(LinuxRcvWindow, FirstSegmentSetsTheScalingRatioAndQuickAcks)
{
    // tcp_measure_rcv_mss(): scaling_ratio = 1448 * 256 / 2304 = 160, and
    // window_clamp = 131072 * 160 / 256 = 81920; tcp_incr_quickack(16).
    LinuxRcvWindow w({});
    w.OnSegment(1448, 2304, true, 1000, 0, 0, 0);
    EXPECT_EQ(w.ScalingRatio(), 160u);
    EXPECT_EQ(w.WindowClamp(), 81920u);
    EXPECT_TRUE(w.QuickAck());
    for (int i = 0; i < 16; ++i)
    {
        w.AckSent();
    }
    EXPECT_TRUE(w.QuickAck()); // the window grew: icsk_ack.quick |= 1
    w.AckSent();
    EXPECT_FALSE(w.QuickAck());
}

TEST(LinuxRcvWindow, RcvSsthreshGrowsTwoSegmentsPerSegmentUpToTheClamp)
{
    // tcp_grow_window(): rcv_ssthresh += min(room, max(2 * advmss, 2 * len))
    // = 2896 per full segment, from 64088 up to window_clamp 81920.
    LinuxRcvWindow w({});
    const uint32_t start = w.RcvSsthresh();
    EXPECT_EQ(start, 65536u - 1448);
    w.OnSegment(1448, 2304, true, 1000, 0, 0, 0);
    EXPECT_EQ(w.RcvSsthresh(), start + 2896);
    for (int i = 0; i < 10; ++i)
    {
        w.OnSegment(1448, 2304, true, 1000, 0, 0, 0);
    }
    EXPECT_EQ(w.RcvSsthresh(), 81920u);
    // The advertised window: rcv_ssthresh rounded up to the 1024-byte scale unit.
    EXPECT_EQ(w.Window(0, 10), 81920u);
}

TEST(LinuxRcvWindow, AutotuningLetsTheSenderDoubleAndTheOfferNeverShrinks)
{
    // tcp_rcv_space_adjust() + tcp_rcvbuf_grow() (6.18): once per receiver
    // RTT, if more was read than last time (rcvq_space 10 * 1448 = 14480):
    // rcvwin = 2 * copied + 2 * (2 * copied * (copied - old) / old).
    // copied = 28960 (twice as much): rcvwin = 57920 + 2 * 57920 = 173760,
    // sk_rcvbuf = 173760 * 256 / 160 = 278016, window_clamp = 173760.
    LinuxRcvWindow w({});
    w.OnSegment(1448, 2304, true, 0, 100, 150, 0); // rcv_rtt 50 ms from TSecr
    EXPECT_EQ(w.RcvRttUs(), 50000u);
    w.OnRead(28960, 60000, 0);
    EXPECT_EQ(w.Rcvbuf(), 278016u);
    EXPECT_EQ(w.WindowClamp(), 173760u);
    // Advertised windows move the right edge only to the right.
    const uint32_t w1 = w.Window(100000, 10);
    EXPECT_GE(w.Window(100000 + 10 * 1448, 10) + 10 * 1448, w1);
}

// ------------------------------------------------ the socket, end to end

TEST(LinuxTcpSocket, RtoIsSrttPlusRtoMinAndTheReceiverWindowOpens)
{
    // A 4 MB bulk transfer over 100 Mbit/s with 20 ms one way, no loss.
    // tcp_rtt_estimator(): with a steady RTT the mean deviation is tiny, so
    // rttvar = max(mdev, rto_min) = 200 ms and RTO = srtt + 200 ms (ns-3
    // alone: max(srtt + 4 rttvar, MinRto 1 s) = 1 s). The receiver's window
    // starts at 45 segments and autotuning opens it (LinuxRcvWindow).
    ns3::Simulator::Destroy();
    SocketAccountTable::Reset();
    ns3::Config::SetDefault("ns3::TcpSocket::SegmentSize", ns3::UintegerValue(kMss));
    ns3::Config::SetDefault("ns3::TcpSocket::RcvBufSize", ns3::UintegerValue(33554432));
    // tcp_wmem[2], as the scenarios have it: the 4 MB fit the send buffer, so
    // the writer never waits for space (ns-3's default of 128 KiB would make
    // this a send-buffer-limited flow written in bursts: an unsteady RTT)
    ns3::Config::SetDefault("ns3::TcpSocket::SndBufSize", ns3::UintegerValue(4u << 20));
    tunsim_test::TwoNodes net("100Mbps", ns3::MilliSeconds(20));
    net.ReleaseAtNic();
    auto ledger = ns3::Create<PacketLedger>();
    auto f = tunsim_test::InstallBulkFlow(net, ledger, 5000, CongestionControl::Cubic, 4000000);
    auto& tx = f.tx;
    auto& sink = f.sink;
    std::vector<uint32_t> windows;
    ns3::Ptr<LinuxTcpSocket> sender;
    ns3::Simulator::Schedule(ns3::MilliSeconds(10), [&] {
        sender = ns3::DynamicCast<LinuxTcpSocket>(tx->GetSocket());
        sender->TraceConnectWithoutContext(
            "RWND", ns3::Callback<void, uint32_t, uint32_t>([&windows](uint32_t, uint32_t v) { windows.push_back(v); }));
    });
    ns3::Simulator::Stop(ns3::Seconds(5));
    ns3::Simulator::Run();
    ASSERT_TRUE(sender);
    EXPECT_EQ(sink->ReceivedBytes(), 4000000u);
    EXPECT_EQ(net.drops, 0u);
    const double srtt = sender->LinuxSrtt().GetSeconds();
    EXPECT_GT(srtt, 0.040);
    EXPECT_NEAR(sender->LinuxRto().GetSeconds(), srtt + 0.200, 0.002);
    ASSERT_FALSE(windows.empty());
    EXPECT_EQ(windows.front(), 65160u) << "the window of the SYN-ACK: 45 segments";
    // 100 Mbit/s * 40 ms = 500 kB: autotuning opened the window beyond the
    // BDP, so the flow was not receiver-limited for long.
    EXPECT_GT(*std::max_element(windows.begin(), windows.end()), 500000u);

    tx = nullptr;
    sink = nullptr;
    ns3::Simulator::Destroy();
    SocketAccountTable::Reset();
}

// ------------------------------------------------------------ GSO and fifo

namespace
{

ns3::Ptr<ns3::QueueDiscItem>
Segment(uint64_t gso)
{
    auto p = ns3::Create<ns3::Packet>(1448);
    if (gso)
    {
        p->AddPacketTag(GsoTag(gso));
    }
    return ns3::Create<ns3::Ipv4QueueDiscItem>(p, ns3::Address(), 0x0800, ns3::Ipv4Header());
}

ns3::Ptr<LinuxFifoQueueDisc>
Fifo(uint32_t limit, bool lockless)
{
    auto q = ns3::CreateObject<LinuxFifoQueueDisc>();
    q->SetAttribute("Limit", ns3::UintegerValue(limit));
    q->SetAttribute("Lockless", ns3::BooleanValue(lockless));
    q->Initialize();
    return q;
}

} // namespace

TEST(LinuxFifoQueueDisc, AGsoSkbCountsOnceAgainstTheLimit)
{
    // pfifo_fast with txqueuelen 2: two GSO skbs of 3 segments fit (qlen
    // counts skbs), a third skb does not; a plain packet is an skb of one.
    auto q = Fifo(2, true);
    for (int i = 0; i < 3; ++i)
    {
        EXPECT_TRUE(q->Enqueue(Segment(1)));
    }
    for (int i = 0; i < 3; ++i)
    {
        EXPECT_TRUE(q->Enqueue(Segment(2)));
    }
    EXPECT_EQ(q->WaitingSkbs(), 2u);
    EXPECT_EQ(q->GetNPackets(), 6u); // segments, as bstats counts them
    EXPECT_FALSE(q->Enqueue(Segment(3)));
    EXPECT_FALSE(q->Enqueue(Segment(0)));
    EXPECT_EQ(q->GetStats().nTotalDroppedPackets, 2u);
}

TEST(LinuxFifoQueueDisc, TheRequeuedRestCountsOnlyForALockedQdisc)
{
    // dev_requeue_skb(): when the first segment of a dequeued GSO skb went
    // out and the queue stopped, the other segments wait as q->gso_skb.
    // pfifo (locked) counts them in q.qlen; pfifo_fast's skb_array does not.
    for (bool lockless : {true, false})
    {
        auto q = Fifo(1, lockless);
        for (int i = 0; i < 4; ++i)
        {
            ASSERT_TRUE(q->Enqueue(Segment(7)));
        }
        ASSERT_TRUE(q->Dequeue()); // the skb leaves; 3 segments remain as its rest
        EXPECT_EQ(q->WaitingSkbs(), 0u);
        EXPECT_EQ(q->RequeuedSegments(), 3u);
        EXPECT_EQ(q->Enqueue(Segment(8)), lockless) << (lockless ? "pfifo_fast" : "pfifo");
        // A late segment of the skb being sent joins its rest, never refused.
        EXPECT_TRUE(q->Enqueue(Segment(7)));
    }
}

TEST(LinuxTcpSocketGso, TsoSegsIsAboutOneMillisecondAtThePacingRate)
{
    // tcp_tso_autosize(): sk_pacing_rate >> 10 bytes (~1 ms), at least 2
    // segments, at most 64 KB; at RTT >= 16 ms the RTT term adds nothing.
    // Checked on a flow in steady state: 100 Mbit/s, 20 ms one way, cwnd
    // well above ssthresh / 2 (120 %): rate ~ 1.2 * cwnd * mss / srtt.
    ns3::Simulator::Destroy();
    SocketAccountTable::Reset();
    ns3::Config::SetDefault("ns3::TcpSocket::SegmentSize", ns3::UintegerValue(kMss));
    tunsim_test::TwoNodes net("100Mbps", ns3::MilliSeconds(20));
    net.ReleaseAtNic();
    auto ledger = ns3::Create<PacketLedger>();
    auto f = tunsim_test::InstallBulkFlow(net, ledger, 5000, CongestionControl::Cubic, 0);
    auto& tx = f.tx;
    auto& sink = f.sink;
    uint32_t segs = 0;
    double expected = 0;
    ns3::Simulator::Schedule(ns3::Seconds(3), [&] {
        auto s = ns3::DynamicCast<LinuxTcpSocket>(tx->GetSocket());
        segs = s->TsoSegs();
        expected = std::max(2.0, std::floor(s->PacingRateBps() / 1024 / kMss));
    });
    ns3::Simulator::Stop(ns3::Seconds(3.001));
    ns3::Simulator::Run();
    EXPECT_EQ(segs, static_cast<uint32_t>(expected));
    EXPECT_GE(segs, 2u);
    EXPECT_LE(segs, 65536u / kMss);
    tx = nullptr;
    sink = nullptr;
    ns3::Simulator::Destroy();
    SocketAccountTable::Reset();
}
