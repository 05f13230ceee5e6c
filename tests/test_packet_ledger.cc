// PacketLedger (with TunsimTag and DelayHistogram as the ledger uses them):
// every packet is sent once and leaves the books once, delivered or dropped
// at a named point, per flow and per direction.
//
// Expected values are worked by hand:
//   * counts from the calls the test makes;
//   * delays from the simulated times of Sent (the tag's txTime) and
//     Delivered, and, end to end, from a point-to-point link: serialisation
//     (wire bytes * 8 / rate) plus propagation delay;
//   * quantiles from DelayHistogram's documented definition: the upper edge
//     of the bucket holding the ceil(q * n)-th smallest sample, clipped to the
//     maximum; exact below 64 ns, 32 linear sub-buckets per power of two
//     above, so a quantile is never below the true sample and at most 1/32
//     above it.
#include "delay-histogram.h"
#include "packet-ledger.h"
#include "socket-account.h"
#include "test-p2p.h"
#include "traffic-apps.h"
#include "tunsim-tag.h"

#include "ns3/packet.h"
#include "ns3/simulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <stdexcept>
#include <vector>

using namespace tunsim;

namespace
{

/// A packet as its sending socket hands it down at the current simulated time.
ns3::Ptr<ns3::Packet>
Tagged(uint32_t flow, uint32_t bytes)
{
    auto p = ns3::Create<ns3::Packet>(bytes);
    p->AddPacketTag(TunsimTag(flow, ns3::Simulator::Now().GetNanoSeconds(), 0, 0));
    return p;
}

class LedgerTest : public ::testing::Test
{
  protected:
    void SetUp() override { tunsim_test::ResetNs3(); }
    void TearDown() override { tunsim_test::ResetNs3(); }
    ns3::Ptr<PacketLedger> m_ledger = ns3::Create<PacketLedger>();
};

} // namespace

TEST_F(LedgerTest, FlowsAreNumberedInOrderAndCountSends)
{
    EXPECT_EQ(m_ledger->AddFlow("udp0", Direction::Forward), 0u);
    EXPECT_EQ(m_ledger->AddFlow("tcp1", Direction::Forward), 1u);
    EXPECT_EQ(m_ledger->AddFlow("tcp1-acks", Direction::Reverse), 2u);
    m_ledger->Sent(0, 1428);
    m_ledger->Sent(0, 1428);
    m_ledger->Sent(1, 1500);
    m_ledger->Sent(2, 52);
    const auto& f = m_ledger->Flows();
    ASSERT_EQ(f.size(), 3u);
    EXPECT_EQ(f[0].name, "udp0");
    EXPECT_EQ(f[2].direction, Direction::Reverse);
    EXPECT_EQ(f[0].sentPackets, 2u);
    EXPECT_EQ(f[0].sentBytes, 2856u);
    EXPECT_EQ(f[1].sentBytes, 1500u);
    EXPECT_EQ(m_ledger->SentPackets(Direction::Forward), 3u);
    EXPECT_EQ(m_ledger->SentPackets(Direction::Reverse), 1u);
    EXPECT_THROW(m_ledger->Sent(3, 100), std::out_of_range) << "an unknown flow is an error";
}

TEST_F(LedgerTest, DeliveredCountsBytesAndTheDelaySinceTheSend)
{
    // Sent at 1 ms and 2 ms, delivered at 5 ms: 4 ms and 3 ms.
    uint32_t flow = m_ledger->AddFlow("udp0", Direction::Forward);
    ns3::Ptr<ns3::Packet> a;
    ns3::Ptr<ns3::Packet> b;
    ns3::Simulator::Schedule(ns3::MilliSeconds(1), [&]() { a = Tagged(flow, 1000); });
    ns3::Simulator::Schedule(ns3::MilliSeconds(2), [&]() { b = Tagged(flow, 400); });
    ns3::Simulator::Schedule(ns3::MilliSeconds(5), [&]() {
        m_ledger->Delivered(a);
        m_ledger->Delivered(b);
    });
    ns3::Simulator::Run();
    const FlowLedger& f = m_ledger->Flows()[flow];
    EXPECT_EQ(f.deliveredPackets, 2u);
    EXPECT_EQ(f.deliveredBytes, 1400u);
    EXPECT_EQ(f.delay.Count(), 2u);
    EXPECT_EQ(f.delay.Max(), 4000000);
    EXPECT_DOUBLE_EQ(f.delay.MeanNs(), 3500000.0);
    EXPECT_EQ(f.delay.QuantileNs(1.0), 4000000) << "the top quantile is the exact maximum";
    EXPECT_EQ(m_ledger->DeliveredPackets(Direction::Forward), 2u);
    EXPECT_EQ(m_ledger->Untracked(), 0u);
}

TEST_F(LedgerTest, DropsArePerPointPerDirection)
{
    uint32_t fwd = m_ledger->AddFlow("udp0", Direction::Forward);
    uint32_t rev = m_ledger->AddFlow("acks", Direction::Reverse);
    uint32_t ring = m_ledger->DropPoint("tun0_ring", "FULL_RING");
    uint32_t qdisc = m_ledger->DropPoint("tun0_qdisc", "Overlimit");
    EXPECT_NE(ring, qdisc);
    EXPECT_EQ(m_ledger->DropPoint("tun0_ring", "FULL_RING"), ring) << "one id per place/reason";
    for (int i = 0; i < 3; ++i)
    {
        m_ledger->Dropped(Tagged(fwd, 100), ring);
    }
    m_ledger->Dropped(Tagged(fwd, 100), "tun0_qdisc", "Overlimit");
    m_ledger->Dropped(Tagged(rev, 52), "underlay_nic", "QUEUE_FULL"); // registered on first use
    EXPECT_EQ(m_ledger->Drops(Direction::Forward),
              (std::map<std::string, uint64_t>{{"tun0_qdisc/Overlimit", 1}, {"tun0_ring/FULL_RING", 3}}));
    EXPECT_EQ(m_ledger->Drops(Direction::Reverse),
              (std::map<std::string, uint64_t>{{"underlay_nic/QUEUE_FULL", 1}}))
        << "points without drops in a direction are not listed";
    EXPECT_EQ(m_ledger->Flows()[fwd].droppedPackets, 4u);
    EXPECT_EQ(m_ledger->Flows()[rev].droppedPackets, 1u);
    EXPECT_EQ(m_ledger->DroppedPackets(Direction::Forward), 4u);
    EXPECT_EQ(m_ledger->DroppedPackets(Direction::Reverse), 1u);
}

TEST_F(LedgerTest, UntaggedOrUnknownFlowIsUntrackedAndCountsNowhere)
{
    uint32_t flow = m_ledger->AddFlow("udp0", Direction::Forward);
    m_ledger->Delivered(ns3::Create<ns3::Packet>(100));                // no tag
    m_ledger->Dropped(ns3::Create<ns3::Packet>(100), "x", "y");        // no tag
    m_ledger->Delivered(Tagged(flow + 1, 100));                         // no such flow
    m_ledger->Dropped(Tagged(flow + 7, 100), m_ledger->DropPoint("x", "y"));
    EXPECT_EQ(m_ledger->Untracked(), 4u);
    EXPECT_EQ(m_ledger->Flows()[flow].deliveredPackets, 0u);
    EXPECT_EQ(m_ledger->Flows()[flow].droppedPackets, 0u);
    EXPECT_TRUE(m_ledger->Drops(Direction::Forward).empty());
    EXPECT_TRUE(m_ledger->Drops(Direction::Reverse).empty());
}

TEST_F(LedgerTest, ConservationOverRandomFates)
{
    // Sent = delivered + dropped + still queued, per flow and per direction,
    // whatever happens to each packet.
    std::mt19937 rng(7);
    std::vector<uint32_t> flows = {m_ledger->AddFlow("a", Direction::Forward),
                                   m_ledger->AddFlow("b", Direction::Forward),
                                   m_ledger->AddFlow("c", Direction::Reverse)};
    std::vector<uint64_t> queued(flows.size(), 0);
    for (int i = 0; i < 2000; ++i)
    {
        uint32_t f = flows[rng() % flows.size()];
        auto p = Tagged(f, 100 + rng() % 1400);
        m_ledger->Sent(f, p->GetSize());
        switch (rng() % 3)
        {
        case 0:
            m_ledger->Delivered(p);
            break;
        case 1:
            m_ledger->Dropped(p, (rng() & 1) ? "ring" : "qdisc", "r");
            break;
        default:
            ++queued[f];
        }
    }
    uint64_t fwdQueued = 0;
    for (uint32_t f : flows)
    {
        const FlowLedger& l = m_ledger->Flows()[f];
        EXPECT_EQ(l.sentPackets, l.deliveredPackets + l.droppedPackets + queued[f]) << l.name;
        EXPECT_EQ(l.delay.Count(), l.deliveredPackets) << l.name;
        fwdQueued += l.direction == Direction::Forward ? queued[f] : 0;
    }
    EXPECT_EQ(m_ledger->SentPackets(Direction::Forward),
              m_ledger->DeliveredPackets(Direction::Forward) + m_ledger->DroppedPackets(Direction::Forward) +
                  fwdQueued);
    uint64_t byPoint = 0;
    for (const auto& [point, n] : m_ledger->Drops(Direction::Forward))
    {
        byPoint += n;
    }
    EXPECT_EQ(byPoint, m_ledger->DroppedPackets(Direction::Forward));
    EXPECT_EQ(m_ledger->Untracked(), 0u);
}

TEST(TunsimTag, SurvivesTheTagListRoundTrip)
{
    // Packet tags are stored serialised: AddPacketTag() calls Serialize,
    // PeekPacketTag() Deserialize. A 64-bit time beyond 2^32 ns and a
    // negative one must come back unchanged, and copies share the tag.
    for (int64_t t : {int64_t{0}, int64_t{5000000000123}, int64_t{-17}})
    {
        auto p = ns3::Create<ns3::Packet>(10);
        p->AddPacketTag(TunsimTag(4000000000u, t, 77, 2304));
        TunsimTag back;
        ASSERT_TRUE(p->Copy()->PeekPacketTag(back));
        EXPECT_EQ(back.flowId, 4000000000u);
        EXPECT_EQ(back.txTimeNs, t);
        EXPECT_EQ(back.ownerId, 77u);
        EXPECT_EQ(back.truesize, 2304u);
    }
    EXPECT_EQ(TunsimTag().GetSerializedSize(), 20u);
}

// ---------------------------------------------------------- DelayHistogram

TEST(DelayHistogram, ExactBelow64Nanoseconds)
{
    // Samples 1..50: the q-quantile is the ceil(50 q)-th smallest exactly.
    DelayHistogram h;
    for (int v = 50; v >= 1; --v)
    {
        h.Add(v);
    }
    EXPECT_EQ(h.QuantileNs(0.01), 1);
    EXPECT_EQ(h.QuantileNs(0.5), 25);
    EXPECT_EQ(h.QuantileNs(0.9), 45);
    EXPECT_EQ(h.QuantileNs(0.999), 50);
    EXPECT_DOUBLE_EQ(h.MeanNs(), 25.5);
    EXPECT_EQ(h.Max(), 50);
    EXPECT_EQ(DelayHistogram().QuantileNs(0.5), 0) << "empty";
}

TEST(DelayHistogram, BucketUpperEdgesAboveSixtyFour)
{
    // 1000 = 0b1111101000: 10 significant bits, 6 kept (shift 4): 1000 >> 4 =
    // 62, bucket [992, 1007]; its upper edge is reported unless the maximum
    // is lower. 64 and 65 share bucket [64, 65].
    DelayHistogram h;
    h.Add(1000);
    h.Add(5000);
    EXPECT_EQ(h.QuantileNs(0.5), 1007);
    EXPECT_EQ(h.QuantileNs(1.0), 5000) << "clipped to the maximum";
    DelayHistogram one;
    one.Add(1000);
    EXPECT_EQ(one.QuantileNs(0.5), 1000) << "the lone sample is the maximum";
    DelayHistogram low;
    low.Add(64);
    low.Add(65);
    low.Add(66);
    EXPECT_EQ(low.QuantileNs(0.34), 65); // 2nd smallest (ceil(1.02)) is in [64, 65]
    EXPECT_EQ(low.QuantileNs(0.66), 65); // ceil(1.98) = 2
    EXPECT_EQ(low.QuantileNs(0.67), 66); // ceil(2.01) = 3: bucket [66, 67], clipped to 66
    EXPECT_EQ(low.QuantileNs(1.0), 66);
    // Buckets(): (upper edge, count) in increasing order, counts add up.
    EXPECT_EQ(low.Buckets(), (std::vector<std::pair<int64_t, uint64_t>>{{65, 2}, {67, 1}}));
}

TEST(DelayHistogram, QuantilesWithinOneThirtySecondOfTheTruth)
{
    // Against the sorted samples: true q-quantile = sorted[ceil(q n) - 1];
    // the histogram's is >= it and <= it * (1 + 1/32).
    std::mt19937_64 rng(3);
    std::lognormal_distribution<double> delay(std::log(2e6), 1.5); // ~2 ms, heavy tail
    DelayHistogram h;
    std::vector<int64_t> samples;
    for (int i = 0; i < 20000; ++i)
    {
        auto v = static_cast<int64_t>(delay(rng));
        samples.push_back(v);
        h.Add(v);
    }
    std::sort(samples.begin(), samples.end());
    for (double q : {0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0})
    {
        auto rank = static_cast<size_t>(std::ceil(q * samples.size()));
        int64_t truth = samples[rank - 1];
        int64_t got = h.QuantileNs(q);
        EXPECT_GE(got, truth) << "q " << q;
        EXPECT_LE(static_cast<double>(got), truth * (1.0 + 1.0 / 32)) << "q " << q;
    }
    EXPECT_EQ(h.Max(), samples.back());
    uint64_t total = 0;
    for (const auto& [edge, n] : h.Buckets())
    {
        total += n;
    }
    EXPECT_EQ(total, h.Count());
}

TEST(DelayHistogram, NegativeDelayCountsAsZero)
{
    DelayHistogram h;
    h.Add(-5);
    EXPECT_EQ(h.Count(), 1u);
    EXPECT_EQ(h.QuantileNs(1.0), 0);
    EXPECT_EQ(h.Max(), 0);
}

TEST_F(LedgerTest, EndToEndDelayIsSerialisationPlusPropagation)
{
    // UdpSeqSender at 1 Mbit/s of 972-byte payloads (one datagram per
    // 7.776 ms) over an idle 8 Mbit/s, 2 ms link: no queueing, so every
    // datagram's send -> arrival delay is (972 + 28 + 2 PPP) * 8 / 8e6 =
    // 1.002 ms on the wire plus 2 ms: exactly 3.002 ms, for each one.
    tunsim_test::TwoNodes net("8Mbps", ns3::MilliSeconds(2));
    net.ReleaseAtNic();
    uint32_t flow = m_ledger->AddFlow("udp0", Direction::Forward);
    auto account = SocketAccountTable::Create("udp0", 1u << 20);
    UdpSeqSender::Config c;
    c.mode = UdpSeqSender::Mode::Rate;
    c.payloadBytes = 972;
    c.rateBps = 1e6;
    auto tx = ns3::CreateObject<UdpSeqSender>();
    tx->Setup(ns3::InetSocketAddress(net.Address(1), 9000), c, account, m_ledger, flow);
    net.Node(0)->AddApplication(tx);
    auto rx = ns3::CreateObject<UdpSeqSink>();
    rx->Setup(9000);
    net.Node(1)->AddApplication(rx);
    tx->SetStartTime(ns3::Seconds(0));
    tx->SetStopTime(ns3::MilliSeconds(200));
    // The tunnel's far end for this test: the receiving NIC.
    net.Device(1)->TraceConnectWithoutContext(
        "MacRx",
        ns3::MakeCallback(&PacketLedger::Delivered, ns3::PeekPointer(m_ledger)));
    ns3::Simulator::Stop(ns3::MilliSeconds(300));
    ns3::Simulator::Run();
    const FlowLedger& f = m_ledger->Flows()[flow];
    ASSERT_GT(f.sentPackets, 20u);
    EXPECT_EQ(f.deliveredPackets, f.sentPackets);
    EXPECT_EQ(rx->Received(), f.sentPackets);
    EXPECT_EQ(f.delay.Count(), f.sentPackets);
    EXPECT_EQ(f.delay.Max(), 3002000);
    EXPECT_EQ(f.delay.QuantileNs(0.01), 3002000) << "every sample is the same delay";
    EXPECT_DOUBLE_EQ(f.delay.MeanNs(), 3002000.0);
    EXPECT_EQ(m_ledger->Untracked(), 0u);
    EXPECT_EQ(net.drops, 0u);
    EXPECT_EQ(account->WmemAlloc(), 0u) << "every datagram released at TX completion";
}
