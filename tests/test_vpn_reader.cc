// VpnReader: what a read costs, how the reader sleeps and wakes, batches,
// stalls and lost CPU (fixture and the hand-worked-trace conventions:
// vpn-reader-test.h). The UDP socket and the reverse direction:
// test_vpn_reader_io.cc; the loop styles: test_vpn_reader_loop.cc.
#include "vpn-reader-test.h"

using namespace tunsim;
using ns3::MicroSeconds;
using ns3::MilliSeconds;
using ns3::NanoSeconds;
using ns3::Time;
using tunsim_test::kPort;
using tunsim_test::ReaderTest;

// ------------------------------------------------------------- CPU per read

struct CostCase
{
    int64_t perPacketNs;
    double nsPerByte;
    uint32_t bytes;
};

// What gtest prints for GetParam() (not the bytes of the struct).
void
PrintTo(const CostCase& c, std::ostream* os)
{
    *os << c.perPacketNs << " ns + " << c.nsPerByte << " ns/B x " << c.bytes << " B";
}

class ReaderCost : public ReaderTest, public ::testing::WithParamInterface<CostCase>
{
};

TEST_P(ReaderCost, HandsDOverCPacketsToTheUnderlayInD)
{
    // A full ring, no wake-ups: reads at 0, C, 2C, ... with C = PerPacketCost
    // + NsPerByte * bytes. Stopped at D + C/2 (off the read instants) the
    // reader has read floor(D/C) + 1 packets and sent D/C: at most D/C
    // packets leave it in D.
    const CostCase c = GetParam();
    const int64_t cost = c.perPacketNs + static_cast<int64_t>(c.nsPerByte * c.bytes);
    const int64_t d = 100 * cost;
    Make(NanoSeconds(c.perPacketNs));
    m_reader->SetAttribute("NsPerByte", ns3::DoubleValue(c.nsPerByte));
    Xmit(500, c.bytes);
    Run(NanoSeconds(d + cost / 2));
    EXPECT_EQ(Sent(), static_cast<uint64_t>(d / cost));
    EXPECT_EQ(Stats().packetsRead, static_cast<uint64_t>(d / cost + 1));
    EXPECT_EQ(Stats().reads, Stats().packetsRead) << "Batch 1: one packet per read";
    EXPECT_EQ(Stats().sleeps, 0u) << "the ring never ran empty";
    EXPECT_EQ(Stats().busy, NanoSeconds(cost * static_cast<int64_t>(Stats().packetsRead)));
    ASSERT_GE(m_readAt.size(), 3u);
    EXPECT_EQ(m_readAt[2] - m_readAt[1], NanoSeconds(cost));
    EXPECT_EQ(m_tun->GetStats().txPackets, Stats().packetsRead) << "tun_put_user() counts each read";
}

INSTANTIATE_TEST_SUITE_P(Costs,
                         ReaderCost,
                         ::testing::Values(CostCase{10000, 0.0, 972},  // 10 us per packet
                                           CostCase{1000, 2.0, 500},   // 1 us + 1 us of crypto
                                           CostCase{250, 0.5, 1400})); // 950 ns

// ------------------------------------------------------------- sleep/wake

TEST_F(ReaderTest, WakesWakeupLatencyAfterDataReady)
{
    // Empty ring at start: asleep at 0. A packet at 1 ms is read at 1 ms + W
    // (W = 7 us); one that arrives while it is waking (1.003 ms) does not
    // wake it again and is read when the first is done (C = 1 us).
    Make(MicroSeconds(1));
    m_reader->SetAttribute("WakeupLatency", ns3::TimeValue(MicroSeconds(7)));
    XmitAt(MilliSeconds(1));
    XmitAt(MicroSeconds(1003));
    XmitAt(MilliSeconds(2));
    Run(MilliSeconds(3));
    ASSERT_EQ(m_readAt.size(), 3u);
    EXPECT_EQ(m_readAt[0], MicroSeconds(1007));
    EXPECT_EQ(m_readAt[1], MicroSeconds(1008));
    EXPECT_EQ(m_readAt[2], MicroSeconds(2007));
    EXPECT_EQ(Stats().wakeups, 2u);
    EXPECT_EQ(Stats().sleeps, 3u); // at 0, after the second packet, after the third
    EXPECT_EQ(Stats().deepWakeups, 0u);
}

TEST_F(ReaderTest, DeepWakeupAfterSleepingDeepIdleAfter)
{
    // W = 5 us, deep = 50 us after a sleep of >= 100 us; C = 1 us.
    //   asleep 0;   packet at  50 us (slept 50):  read  55, asleep again at 56
    //   packet at 156 (slept exactly 100): deep,  read 206, asleep at 207
    //   packet at 300 (slept 93):          short, read 305
    Make(MicroSeconds(1));
    m_reader->SetAttribute("WakeupLatency", ns3::TimeValue(MicroSeconds(5)));
    m_reader->SetAttribute("DeepIdleAfter", ns3::TimeValue(MicroSeconds(100)));
    m_reader->SetAttribute("DeepWakeupLatency", ns3::TimeValue(MicroSeconds(50)));
    XmitAt(MicroSeconds(50));
    XmitAt(MicroSeconds(156));
    XmitAt(MicroSeconds(300));
    Run(MilliSeconds(1));
    EXPECT_EQ(m_readAt, (std::vector<Time>{MicroSeconds(55), MicroSeconds(206), MicroSeconds(305)}));
    EXPECT_EQ(Stats().wakeups, 3u);
    EXPECT_EQ(Stats().deepWakeups, 1u);
}

TEST(DrawnLatency, FixedWithoutValuesEquallyLikelyWithThem)
{
    tunsim_test::ResetNs3();
    DrawnLatency none;
    EXPECT_EQ(none.Next(MicroSeconds(5)), MicroSeconds(5));
    const std::vector<Time> values = {MicroSeconds(10), MicroSeconds(20), MicroSeconds(30)};
    DrawnLatency a;
    DrawnLatency b;
    a.Set(values, 42);
    b.Set(values, 42);
    std::map<int64_t, int> seen;
    constexpr int kDraws = 3000;
    for (int i = 0; i < kDraws; ++i)
    {
        Time t = a.Next(MicroSeconds(5));
        ASSERT_EQ(t, b.Next(MicroSeconds(5))) << "one stream, one sequence (draw " << i << ")";
        ++seen[t.GetMicroSeconds()];
    }
    ASSERT_EQ(seen.size(), 3u) << "only the given values, and each of them";
    for (const auto& [us, n] : seen)
    {
        // Binomial(3000, 1/3): mean 1000, sd 25.8; 5 sd.
        EXPECT_NEAR(n, kDraws / 3, 130) << us << " us";
    }
    a.Set({}, 42);
    EXPECT_EQ(a.Next(MicroSeconds(5)), MicroSeconds(5)) << "cleared";
    tunsim_test::ResetNs3();
}

TEST_F(ReaderTest, DrawnWakeupsTakeTheQuantilesOfTheirLevel)
{
    // Packets 1 ms apart: every sleep is ~1 ms, longer than DeepIdleAfter
    // (500 us), so every wake-up draws from the deep quantiles {40, 60} us;
    // the short-sleep quantiles {1, 2} us are never used. Read time minus
    // arrival time is the drawn value.
    Make(MicroSeconds(1));
    m_reader->SetAttribute("DeepIdleAfter", ns3::TimeValue(MicroSeconds(500)));
    m_reader->SetWakeupQuantiles({MicroSeconds(1), MicroSeconds(2)}, 7);
    m_reader->SetDeepWakeupQuantiles({MicroSeconds(40), MicroSeconds(60)}, 8);
    constexpr int kPackets = 200;
    for (int i = 1; i <= kPackets; ++i)
    {
        XmitAt(MilliSeconds(i));
    }
    Run(MilliSeconds(kPackets + 1));
    ASSERT_EQ(m_readAt.size(), static_cast<size_t>(kPackets));
    int forty = 0;
    for (int i = 0; i < kPackets; ++i)
    {
        Time wake = m_readAt[i] - MilliSeconds(i + 1);
        ASSERT_TRUE(wake == MicroSeconds(40) || wake == MicroSeconds(60)) << wake;
        forty += wake == MicroSeconds(40);
    }
    EXPECT_NEAR(forty, kPackets / 2, 36) << "Binomial(200, 1/2): sd 7.1, 5 sd";
    EXPECT_EQ(Stats().deepWakeups, static_cast<uint64_t>(kPackets));
}

// ------------------------------------------------------ batch, stall, CPU

TEST_F(ReaderTest, BatchTakesUpToBatchPerRead)
{
    // Batch 4, 10 waiting, C = 1 us per packet: reads of 4, 4, 2 at 0, 4, 8 us.
    Make(MicroSeconds(1));
    m_reader->SetAttribute("Batch", ns3::UintegerValue(4));
    Xmit(10);
    Run(MilliSeconds(1));
    const Time a = Time(0);
    const Time b = MicroSeconds(4);
    const Time c = MicroSeconds(8);
    EXPECT_EQ(m_readAt, (std::vector<Time>{a, a, a, a, b, b, b, b, c, c}));
    EXPECT_EQ(Stats().reads, 3u);
    EXPECT_EQ(Stats().packetsRead, 10u);
    EXPECT_EQ(Stats().sleeps, 1u);
    EXPECT_EQ(m_peerBytes.size(), 10u) << "all sent on to the peer";
}

TEST_F(ReaderTest, StallDefersReadingToItsEnd)
{
    // Asleep; a stall over [1 ms, 3 ms); a packet at 1.5 ms is not read
    // until the stall ends (no wake-up latency: the process is running).
    Make(MicroSeconds(1));
    m_reader->SetAttribute("WakeupLatency", ns3::TimeValue(MicroSeconds(5)));
    m_reader->AddStall(MilliSeconds(1), MilliSeconds(2));
    XmitAt(MicroSeconds(1500));
    Run(MilliSeconds(4));
    EXPECT_EQ(m_readAt, (std::vector<Time>{MilliSeconds(3)}));
}

TEST_F(ReaderTest, StallWhileRunningFinishesThePacketInHand)
{
    // C = 10 us, ring full: reads at 0, 10, ..., 100 us; the stall at 105 us
    // (for 100 us) lets the packet read at 100 us finish, then nothing is
    // read until 205 us.
    Make(MicroSeconds(10));
    m_reader->AddStall(MicroSeconds(105), MicroSeconds(100));
    Xmit(50);
    Run(MicroSeconds(230));
    ASSERT_GE(m_readAt.size(), 13u);
    EXPECT_EQ(m_readAt[10], MicroSeconds(100));
    EXPECT_EQ(m_readAt[11], MicroSeconds(205));
    EXPECT_EQ(m_readAt[12], MicroSeconds(215));
}

TEST_F(ReaderTest, StolenCpuDelaysTheReader)
{
    // Running: C = 10 us, two packets; 5 us stolen at 2 us: the first is
    // done at 15 us, so the second is read at 15 us.
    Make(MicroSeconds(10));
    Xmit(2);
    ns3::Simulator::Schedule(MicroSeconds(2), &VpnReader::ChargeCpu, m_reader, MicroSeconds(5));
    // Asleep: 20 us stolen at 100 us; a packet at 102 us with W = 5 us runs
    // at max(107, 120) = 120 us.
    ns3::Simulator::Schedule(MicroSeconds(50), [this]() {
        m_reader->SetAttribute("WakeupLatency", ns3::TimeValue(MicroSeconds(5)));
    });
    ns3::Simulator::Schedule(MicroSeconds(100), &VpnReader::ChargeCpu, m_reader, MicroSeconds(20));
    XmitAt(MicroSeconds(102));
    Run(MilliSeconds(1));
    EXPECT_EQ(m_readAt, (std::vector<Time>{Time(0), MicroSeconds(15), MicroSeconds(120)}));
    EXPECT_EQ(Stats().stolen, MicroSeconds(25));
    EXPECT_EQ(Stats().busy, MicroSeconds(3 * 10 + 25));
}

TEST_F(ReaderTest, PreemptionOfASleepingReaderLeavesItsSleepAlone)
{
    // Asleep from 0 (empty ring); preemptions every ~10 us (2 us long)
    // throughout. Wake-up by sleep length: 10 us after a sleep < 1 ms,
    // 200 us after a longer one. The packet at 5 ms finds a reader that has
    // slept 5 ms -- no preemption restarted its sleep or stalled it -- so it
    // is read at 5 ms + 200 us, as the one sleep it was.
    Make(MicroSeconds(1));
    m_reader->SetWakeupBySleep({{Time(0), {MicroSeconds(10)}}, {MilliSeconds(1), {MicroSeconds(200)}}}, 40);
    m_reader->SetPreemption(MicroSeconds(10), MicroSeconds(2), 50);
    XmitAt(MilliSeconds(5));
    Run(MicroSeconds(5100));
    EXPECT_EQ(Stats().sleeps, 1u);
    EXPECT_EQ(Stats().preemptions, 0u); // none found it on its CPU
    Run(MilliSeconds(6));
    EXPECT_EQ(m_readAt, (std::vector<Time>{MicroSeconds(5200)}));
    EXPECT_EQ(Stats().wakeups, 1u);
    EXPECT_EQ(Stats().deepWakeups, 1u);
}

TEST_F(ReaderTest, PreemptionDelaysARunningReader)
{
    // C = 10 us, 200 packets in the ring at 0: without preemption the last
    // is read at 1990 us. Preempted every ~100 us for ~20 us while it works,
    // it is preempted and reads the last one later.
    Make(MicroSeconds(10));
    m_reader->SetPreemption(MicroSeconds(100), MicroSeconds(20), 50);
    Xmit(200);
    Run(MilliSeconds(10));
    ASSERT_EQ(m_readAt.size(), 200u);
    EXPECT_GE(Stats().preemptions, 1u);
    EXPECT_GT(m_readAt.back(), MicroSeconds(1990));
    EXPECT_EQ(Stats().wakeups, 0u); // never slept with data waiting
}
