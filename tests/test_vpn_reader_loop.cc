// VpnReader's loop styles (read-until-empty, poll-each, batched) and the
// poll()/read() that finds the ring empty (fixture: vpn-reader-test.h).
#include "vpn-reader-test.h"

using namespace tunsim;
using ns3::MicroSeconds;
using ns3::MilliSeconds;
using ns3::NanoSeconds;
using ns3::Time;
using tunsim_test::kPort;
using tunsim_test::ReaderTest;

// ------------------------------------------------------------- loop styles

TEST_F(ReaderTest, PollEachChargesOnePollPerRead)
{
    // poll-each, P = 3 us, C = 10 us, 5 packets waiting at 0: poll 0..3,
    // read at 3, work 3..13; poll 13..16, read at 16; ... reads at 3, 16,
    // 29, 42, 55; the sixth poll (the twin's poll(fd, 0), 65..68) finds the
    // ring empty; the poll() that then blocks costs its CPU too (68..71).
    Make(MicroSeconds(10));
    m_reader->SetLoop(ReaderLoop::PollEach);
    m_reader->SetAttribute("PollCost", ns3::TimeValue(MicroSeconds(3)));
    m_reader->SetAttribute("Batch", ns3::UintegerValue(4)); // poll-each reads one per poll regardless
    Xmit(5);
    Run(MilliSeconds(1));
    EXPECT_EQ(m_readAt, (std::vector<Time>{MicroSeconds(3), MicroSeconds(16), MicroSeconds(29), MicroSeconds(42),
                                           MicroSeconds(55)}));
    EXPECT_EQ(Stats().polls, 5u);
    EXPECT_EQ(Stats().reads, 5u);
    EXPECT_EQ(Stats().sleeps, 1u);
    EXPECT_EQ(Stats().busy, MicroSeconds(71))
        << "5 x (poll 3 + work 10) + the zero-timeout poll that found nothing + the blocking one";
    EXPECT_EQ(Sent(), 5u);
}

TEST_F(ReaderTest, BatchedTakesMinOfBatchAndRingPerPoll)
{
    // batched, Batch 3, P = 3 us, C = 10 us, 5 packets at 0: poll 0..3,
    // take 3 at 3, work 3..33; poll 33..36, take the remaining 2 at 36,
    // work 36..56; then the poll (56..59) finds the ring empty, and the
    // blocking poll (59..62) sleeps.
    Make(MicroSeconds(10));
    m_reader->SetLoop(ReaderLoop::Batched);
    m_reader->SetAttribute("PollCost", ns3::TimeValue(MicroSeconds(3)));
    m_reader->SetAttribute("Batch", ns3::UintegerValue(3));
    Xmit(5);
    Run(MilliSeconds(1));
    EXPECT_EQ(m_readAt, (std::vector<Time>{MicroSeconds(3), MicroSeconds(3), MicroSeconds(3), MicroSeconds(36),
                                           MicroSeconds(36)}));
    EXPECT_EQ(Stats().polls, 2u);
    EXPECT_EQ(Stats().reads, 2u);
    EXPECT_EQ(Stats().packetsRead, 5u);
    EXPECT_EQ(Stats().sleeps, 1u);
    EXPECT_EQ(Stats().busy, MicroSeconds(62));
}

TEST_F(ReaderTest, BatchedAfterAWakeUpPollsThenReads)
{
    // Asleep at 0 (empty ring). 4 packets at 100 us, W = 5 us, P = 2 us,
    // C = 1 us, Batch 3: woken at 105, poll 105..107, take 3 at 107, work
    // 107..110, poll 110..112, take 1 at 112, work ..113, empty: asleep.
    Make(MicroSeconds(1));
    m_reader->SetLoop(ReaderLoop::Batched);
    m_reader->SetAttribute("WakeupLatency", ns3::TimeValue(MicroSeconds(5)));
    m_reader->SetAttribute("PollCost", ns3::TimeValue(MicroSeconds(2)));
    m_reader->SetAttribute("Batch", ns3::UintegerValue(3));
    XmitAt(MicroSeconds(100), 4);
    Run(MilliSeconds(1));
    EXPECT_EQ(m_readAt, (std::vector<Time>{MicroSeconds(107), MicroSeconds(107), MicroSeconds(107),
                                           MicroSeconds(112)}));
    EXPECT_EQ(Stats().wakeups, 1u);
    EXPECT_EQ(Stats().sleeps, 2u);
    EXPECT_EQ(Stats().polls, 2u);
}

TEST_F(ReaderTest, ReadCostIsTheFloorOfAPacketsCost)
{
    // read-until-empty, C = 1 us but ReadCost 4 us: each packet takes
    // max(1, 4) = 4 us; reads at 0, 4, 8. A C above the floor is unchanged.
    Make(MicroSeconds(1));
    m_reader->SetAttribute("ReadCost", ns3::TimeValue(MicroSeconds(4)));
    Xmit(3);
    Run(MilliSeconds(1));
    EXPECT_EQ(m_readAt, (std::vector<Time>{Time(0), MicroSeconds(4), MicroSeconds(8)}));
    EXPECT_EQ(Stats().busy, MicroSeconds(12));
    EXPECT_EQ(Stats().polls, 0u) << "read-until-empty never polls with data";
}

// ------------------------------------------- the poll() that finds nothing

TEST_F(ReaderTest, PollThatFindsTheRingEmptyCatchesWhatArrivesBeforeItBlocks)
{
    // read-until-empty, P = 2 us (the poll()'s CPU before schedule()),
    // W = 50 us, C = 1 us. Empty at 0: in poll() 0..2, asleep at 2.
    //   packet at 100: wakes it, read at 150, work ..151, empty: poll 151..153
    //   packet at 152: seen by that poll (no wake-up), read at 153, work ..154,
    //                  empty: poll 154..156, asleep at 156
    //   packet at 160: wakes it, read at 210, work ..211, poll 211..213, asleep.
    Make(MicroSeconds(1));
    m_reader->SetAttribute("WakeupLatency", ns3::TimeValue(MicroSeconds(50)));
    m_reader->SetAttribute("PollCost", ns3::TimeValue(MicroSeconds(2)));
    XmitAt(MicroSeconds(100));
    XmitAt(MicroSeconds(152));
    XmitAt(MicroSeconds(160));
    Run(MilliSeconds(1));
    EXPECT_EQ(m_readAt, (std::vector<Time>{MicroSeconds(150), MicroSeconds(153), MicroSeconds(210)}));
    EXPECT_EQ(Stats().wakeups, 2u) << "the packet at 152 woke nobody";
    EXPECT_EQ(Stats().pollCatches, 1u);
    EXPECT_EQ(Stats().sleeps, 4u) << "found empty at 0, 151, 154, 211";
    EXPECT_EQ(Stats().busy, MicroSeconds(3 + 4 * 2)) << "3 packets and 4 polls that found nothing";
}

TEST_F(ReaderTest, APollThatMayBlockCostsPollBlockCostBeforeItSleeps)
{
    // The same packets, poll-each, P = 1 us (a poll(0) that finds data or
    // nothing), B = 4 us (the poll() that may block: poll_initwait(), the
    // timeout, tun_chr_poll() on the wait queue). Empty at 0: poll(0)
    // 0..1, then the blocking poll() 1..5, asleep at 5.
    //   packet at 100: wakes it at 150: poll(0) 150..151, read at 151, work
    //                  ..152, poll(0) 152..153 empty, poll() 153..157
    //   packet at 156: seen by that poll (with B = P it would have slept at
    //                  154 and been woken): poll(0) 157..158, read at 158,
    //                  work ..159, poll(0) ..160 empty, poll() 160..164
    //   packet at 163: seen too: poll(0) 164..165, read at 165, work ..166,
    //                  poll(0) ..167, poll() 167..171, asleep at 171.
    Make(MicroSeconds(1));
    m_reader->SetLoop(ReaderLoop::PollEach);
    m_reader->SetAttribute("WakeupLatency", ns3::TimeValue(MicroSeconds(50)));
    m_reader->SetAttribute("PollCost", ns3::TimeValue(MicroSeconds(1)));
    m_reader->SetAttribute("PollBlockCost", ns3::TimeValue(MicroSeconds(4)));
    XmitAt(MicroSeconds(100));
    XmitAt(MicroSeconds(156));
    XmitAt(MicroSeconds(163));
    Run(MilliSeconds(1));
    EXPECT_EQ(m_readAt, (std::vector<Time>{MicroSeconds(151), MicroSeconds(158), MicroSeconds(165)}));
    EXPECT_EQ(Stats().wakeups, 1u) << "only the packet at 100 woke it";
    EXPECT_EQ(Stats().pollCatches, 2u);
    EXPECT_EQ(Stats().busy, MicroSeconds(3 * 1 + 7 * 1 + 4 * 4))
        << "3 packets, 7 poll(0)s (3 found data, 4 nothing), 4 poll()s that may block";
}

TEST_F(ReaderTest, WithoutPollCostAnEmptyRingSleepsAtOnce)
{
    // The same packets with P = 0 (scenarios without a profile): asleep at
    // 151, the packet at 152 wakes it: read at 202; the one at 160 waits
    // in the ring and is read at 203 with no wake-up of its own.
    Make(MicroSeconds(1));
    m_reader->SetAttribute("WakeupLatency", ns3::TimeValue(MicroSeconds(50)));
    XmitAt(MicroSeconds(100));
    XmitAt(MicroSeconds(152));
    XmitAt(MicroSeconds(160));
    Run(MilliSeconds(1));
    EXPECT_EQ(m_readAt, (std::vector<Time>{MicroSeconds(150), MicroSeconds(202), MicroSeconds(203)}));
    EXPECT_EQ(Stats().wakeups, 2u);
    EXPECT_EQ(Stats().pollCatches, 0u);
}

TEST_F(ReaderTest, ReadUntilEmptyPaysTheReadThatFindsNothingBeforeItBlocks)
{
    // read-until-empty, R = 3 us (the read() returning -EAGAIN), P = 2 us,
    // W = 50 us, C = 1 us, as the twin's ReadOne() -> Empty() -> Sleep().
    // Empty at 0: read() 0..3, poll() 3..5, asleep at 5.
    //   packet at 100: wakes it, read at 150, work ..151, read() 151..154
    //   packet at 153: during that read() (no wake-up); the poll() 154..156
    //                  sees it: read at 156, work ..157, read() 157..160,
    //                  poll() 160..162, asleep at 162
    //   packet at 170: wakes it, read at 220, work ..221, read() 221..224,
    //                  poll() 224..226, asleep.
    Make(MicroSeconds(1));
    m_reader->SetAttribute("WakeupLatency", ns3::TimeValue(MicroSeconds(50)));
    m_reader->SetAttribute("PollCost", ns3::TimeValue(MicroSeconds(2)));
    m_reader->SetAttribute("ReadEmptyCost", ns3::TimeValue(MicroSeconds(3)));
    XmitAt(MicroSeconds(100));
    XmitAt(MicroSeconds(153));
    XmitAt(MicroSeconds(170));
    Run(MilliSeconds(1));
    EXPECT_EQ(m_readAt, (std::vector<Time>{MicroSeconds(150), MicroSeconds(156), MicroSeconds(220)}));
    EXPECT_EQ(Stats().wakeups, 2u) << "the packet at 153 woke nobody";
    EXPECT_EQ(Stats().pollCatches, 1u);
    EXPECT_EQ(Stats().sleeps, 4u) << "blocked in poll() at 3, 154, 160, 224";
    EXPECT_EQ(Stats().busy, MicroSeconds(3 * 1 + 4 * 3 + 4 * 2)) << "3 packets, 4 empty read()s, 4 poll()s";
}

TEST_F(ReaderTest, AReadThatFindsNothingWithoutPollCostSeesWhatCameMeanwhile)
{
    // R = 3 us, P = 0: empty at 0, read() 0..3, asleep at 3. Packet at 100:
    // read at 150, work ..151, read() 151..154; the packet at 153 is read
    // at 154 (no wake-up), work ..155, read() 155..158, asleep at 158.
    Make(MicroSeconds(1));
    m_reader->SetAttribute("WakeupLatency", ns3::TimeValue(MicroSeconds(50)));
    m_reader->SetAttribute("ReadEmptyCost", ns3::TimeValue(MicroSeconds(3)));
    XmitAt(MicroSeconds(100));
    XmitAt(MicroSeconds(153));
    Run(MilliSeconds(1));
    EXPECT_EQ(m_readAt, (std::vector<Time>{MicroSeconds(150), MicroSeconds(154)}));
    EXPECT_EQ(Stats().wakeups, 1u);
    EXPECT_EQ(Stats().sleeps, 2u);
    EXPECT_EQ(Stats().busy, MicroSeconds(2 * 1 + 3 * 3));
}
