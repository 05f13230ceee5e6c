// Closed-form burst loss through the whole simulator (RunExperiment).
//
// Setup for every case: one UDP flow in mode "bursts" sends N back-to-back
// 1400-byte datagrams at t = 0 (100 ns of CPU per sendto, burst interval far
// beyond the run so there is exactly one burst), udp_sndbuf 1e9 so the
// socket never blocks, into an idle tun0 whose reader is stalled from t = 0
// for the whole run. Nothing is ever read, so the expected split is pure
// arithmetic on the ring (worked by hand from ptr_ring.h / tun.c):
//
//  * drop + pfifo_fast (limit = txqueuelen): the qdisc hands every datagram
//    straight to tun_net_xmit() (the queue is never stopped), the first K
//    fill the ring, the other N - K are freed with FULL_RING. Ring holds
//    min(N, K), the qdisc 0.
//  * NODROP v2 / v4 / v8 (with a qdisc): stop after the produce that makes
//    ptr_ring_full() true, i.e. after the K-th produce into a fresh ring.
//    v6: stop *before* producing the K-th entry (full_next), and still
//    produce it. Either way the ring holds K, the stopped queue keeps the
//    other N - K in fq_codel (limit 10240, nothing dequeued, so CoDel never
//    drops), and nothing is dropped anywhere. N < K: no stop, all N in the ring.
#include "run/experiment.h"
#include "scenario/scenario.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

using nlohmann::json;
using namespace tunsim;

namespace
{

constexpr double kDurationS = 0.005;

FlowConfig
Burst(uint32_t n, double startS = 0.0)
{
    FlowConfig f;
    f.kind = FlowKind::Udp;
    f.mode = UdpMode::Bursts;
    f.payloadBytes = 1400;
    f.burstPackets = n;
    f.burstIntervalMs = 1e5; // one burst per run
    f.sendCostNs = 100;
    f.startS = startS;
    return f;
}

Scenario
BurstIntoStalledReader(const std::string& policy, const std::string& qdisc, uint32_t ring, uint32_t n)
{
    Scenario s;
    s.name = "closed-form-" + policy + "-" + std::to_string(ring) + "-" + std::to_string(n);
    s.durationS = kDurationS;
    s.seed = 1;
    s.tun.ringSize = ring;
    s.tun.policy = policy;
    s.qdisc.kind = *EnumFromName<QdiscKind>(qdisc);
    s.qdisc.limit = 0; // the kind's Linux default
    s.reader.perPacketNs = 1000;
    s.reader.wakeupLatencyUs = 5;
    s.reader.stalls = {StallConfig{0.0, kDurationS}};
    s.host.udpSndbufBytes = 1000000000;
    s.flows = {Burst(n)};
    return s;
}

uint64_t
FullRing(const json& r)
{
    return r["tun"]["drop_reasons"].value("FULL_RING", uint64_t{0});
}

uint64_t
Queued(const json& r, const char* place)
{
    return r["conservation"]["forward"]["still_queued_by_place"][place].get<uint64_t>();
}

std::string
Brief(const json& r)
{
    return "tun " + r["tun"].dump() + "\nconservation " + r["conservation"]["forward"].dump();
}

} // namespace

// ------------------------------------------------------------- mainline drop

struct DropCase
{
    uint32_t ring;
    uint32_t n;
};

// What gtest prints for GetParam() (not the bytes of the struct).
void
PrintTo(const DropCase& c, std::ostream* os)
{
    *os << "ring " << c.ring << " burst " << c.n;
}

class ClosedFormDrop : public ::testing::TestWithParam<DropCase>
{
};

TEST_P(ClosedFormDrop, LosesExactlyNMinusK)
{
    const auto [k, n] = GetParam();
    json r = ToJson(RunExperiment(BurstIntoStalledReader("drop", "pfifo_fast", k, n)).result);
    SCOPED_TRACE(Brief(r));
    const uint64_t expectDrops = n > k ? n - k : 0;
    const uint64_t expectRing = n > k ? k : n;
    ASSERT_EQ(r["reader"]["packets_read"].get<uint64_t>(), 0u) << "the reader must stay stalled";
    EXPECT_EQ(r["flows"][0]["sent_packets"].get<uint64_t>(), n);
    EXPECT_EQ(FullRing(r), expectDrops);
    EXPECT_EQ(r["tun"]["tx_dropped"].get<uint64_t>(), expectDrops);
    EXPECT_EQ(r["flows"][0]["dropped_packets"].get<uint64_t>(), expectDrops);
    EXPECT_EQ(r["qdisc"]["dropped_packets"].get<uint64_t>(), 0u);
    EXPECT_EQ(Queued(r, "tun0_ring"), expectRing);
    EXPECT_EQ(Queued(r, "tun0_qdisc"), 0u);
    EXPECT_EQ(r["tun"]["ring_occupancy"]["end"].get<uint64_t>(), expectRing);
    EXPECT_EQ(r["tun"]["txq"]["stop_count"].get<uint64_t>(), 0u);
    EXPECT_TRUE(r["conservation"]["ok"].get<bool>());
}

INSTANTIATE_TEST_SUITE_P(Bursts,
                         ClosedFormDrop,
                         ::testing::Values(DropCase{25, 100},  // batch 1: 75 lost
                                           DropCase{25, 26},   // one too many
                                           DropCase{25, 25},   // exactly fits
                                           DropCase{25, 10},   // N < K: 0 lost
                                           DropCase{500, 1200}, // batch 16: 700 lost
                                           DropCase{500, 501},
                                           DropCase{500, 300},
                                           DropCase{1, 5},
                                           DropCase{10, 64}));

// ----------------------------------------------------------------- NODROP

struct NodropCase
{
    std::string policy;
    uint32_t ring;
    uint32_t n;
};

void
PrintTo(const NodropCase& c, std::ostream* os)
{
    *os << c.policy << " ring " << c.ring << " burst " << c.n;
}

class ClosedFormNodrop : public ::testing::TestWithParam<NodropCase>
{
};

TEST_P(ClosedFormNodrop, RingHoldsKQdiscHoldsTheRest)
{
    const NodropCase& c = GetParam();
    json r = ToJson(RunExperiment(BurstIntoStalledReader(c.policy, "fq_codel", c.ring, c.n)).result);
    SCOPED_TRACE(Brief(r));
    const uint64_t inRing = c.n >= c.ring ? c.ring : c.n;
    const uint64_t inQdisc = c.n - inRing;
    ASSERT_EQ(r["reader"]["packets_read"].get<uint64_t>(), 0u) << "the reader must stay stalled";
    EXPECT_EQ(r["flows"][0]["sent_packets"].get<uint64_t>(), c.n);
    EXPECT_EQ(r["conservation"]["forward"]["dropped"].get<uint64_t>(), 0u);
    EXPECT_EQ(r["tun"]["tx_dropped"].get<uint64_t>(), 0u);
    EXPECT_EQ(FullRing(r), 0u);
    EXPECT_EQ(r["qdisc"]["dropped_packets"].get<uint64_t>(), 0u);
    EXPECT_EQ(Queued(r, "tun0_ring"), inRing);
    EXPECT_EQ(Queued(r, "tun0_qdisc"), inQdisc);
    EXPECT_EQ(r["qdisc"]["backlog_packets_end"].get<uint64_t>(), inQdisc);
    EXPECT_EQ(r["conservation"]["forward"]["still_queued"].get<uint64_t>(), static_cast<uint64_t>(c.n));
    // stopped exactly once iff the burst reached the ring size
    EXPECT_EQ(r["tun"]["txq"]["stop_count"].get<uint64_t>(), c.n >= c.ring ? 1u : 0u);
    EXPECT_EQ(r["tun"]["txq"]["stopped_at_end"].get<bool>(), c.n >= c.ring);
    EXPECT_TRUE(r["conservation"]["ok"].get<bool>());
}

INSTANTIATE_TEST_SUITE_P(Bursts,
                         ClosedFormNodrop,
                         ::testing::Values(NodropCase{"nodrop-v2", 25, 100},
                                           NodropCase{"nodrop-v2", 500, 1200},
                                           NodropCase{"nodrop-v2", 500, 300},
                                           NodropCase{"nodrop-v4", 25, 100},
                                           NodropCase{"nodrop-v4", 500, 1200},
                                           NodropCase{"nodrop-v4", 25, 25},
                                           NodropCase{"nodrop-v6", 25, 100},
                                           NodropCase{"nodrop-v6", 500, 1200},
                                           NodropCase{"nodrop-v6", 500, 500},
                                           NodropCase{"nodrop-v6", 500, 499},
                                           NodropCase{"nodrop-v6", 1, 50}, // kernel: full_next for size 1
                                           NodropCase{"nodrop-v8", 25, 100},
                                           NodropCase{"nodrop-v8", 500, 1200},
                                           NodropCase{"nodrop-v8", 500, 10},
                                           NodropCase{"nodrop-v2", 1, 50},
                                           NodropCase{"nodrop-v4", 1, 50},
                                           NodropCase{"nodrop-v8", 1, 50}));

TEST(ClosedForm, V8WithNoqueueIsMainlineDrop)
{
    // v8 only stops with a qdisc attached; with noqueue the mainline drop
    // stays: N - K FULL_RING drops, and the queue is never stopped (so no
    // "asks to queue packet" drops either).
    json r = ToJson(RunExperiment(BurstIntoStalledReader("nodrop-v8", "noqueue", 25, 100)).result);
    SCOPED_TRACE(Brief(r));
    EXPECT_EQ(FullRing(r), 75u);
    EXPECT_EQ(r["tun"]["tx_dropped"].get<uint64_t>(), 75u);
    EXPECT_EQ(Queued(r, "tun0_ring"), 25u);
    EXPECT_EQ(r["tun"]["txq"]["stop_count"].get<uint64_t>(), 0u);
    EXPECT_TRUE(r["conservation"]["ok"].get<bool>());
}

// --------------------------------------------- the batch rule across bursts
//
// Burst 1 (flow 0, t = 0): K datagrams fill a K-entry ring exactly (no drop).
// The reader (per_packet_ns P = 100 us, wake-up latency 5 us) is woken by the
// first produce at t = 0 and reads at t = 5 us + i * P, i = 0, 1, ...; a stall
// starting at 5 us + (r - 0.5) * P (while it works on its r-th packet) stops
// it for the rest of the run, so it reads exactly r packets. Burst 2 (flow 1,
// t = 5 ms, after the stall began) sends M datagrams.
//
// Drop policy: after burst 1 the producer index is back at 0, and the r read
// slots are zeroed only in whole runs of `batch` (16 for K = 500: slots
// 0..16*floor(r/16)-1; 1 for K = 25: all r). So burst 2 fits
// free = batch * floor(r / batch) datagrams and loses M - free of them:
//   K = 500, r = 10, M = 10: free 0  -> all 10 lost (10 read, none zeroed)
//   K = 500, r = 16, M = 10: free 16 -> 0 lost
//   K = 500, r = 20, M = 20: free 16 -> 4 lost
//   K = 500, r = 15, M = 16: free 0  -> 16 lost
//   K = 500, r = 33, M = 40: free 32 -> 8 lost
//   K = 25,  r = 10, M = 10: free 10 -> 0 lost (batch 1)
//   K = 25,  r = 10, M = 12: free 10 -> 2 lost
// The r read packets are delivered; the ring ends with K - r + (M - lost).

struct TwoBurstCase
{
    uint32_t ring;
    uint32_t reads;
    uint32_t second;
    uint32_t expectLost;
};

void
PrintTo(const TwoBurstCase& c, std::ostream* os)
{
    *os << "ring " << c.ring << " reads " << c.reads << " second burst " << c.second;
}

class ClosedFormTwoBursts : public ::testing::TestWithParam<TwoBurstCase>
{
};

TEST_P(ClosedFormTwoBursts, OnlyZeroedSlotsTakeTheSecondBurst)
{
    const TwoBurstCase& c = GetParam();
    const double perPacketS = 100e-6;
    const double wakeS = 5e-6;
    Scenario s;
    s.name = "closed-form-two-bursts";
    s.durationS = 0.008;
    s.tun.ringSize = c.ring;
    s.tun.policy = "drop";
    s.qdisc.kind = QdiscKind::PfifoFast;
    s.reader.perPacketNs = perPacketS * 1e9;
    s.reader.wakeupLatencyUs = wakeS * 1e6;
    s.reader.stalls = {StallConfig{wakeS + (c.reads - 0.5) * perPacketS, s.durationS}};
    s.host.udpSndbufBytes = 1000000000;
    s.flows = {Burst(c.ring, 0.0), Burst(c.second, 0.005)};
    ASSERT_LT(wakeS + c.reads * perPacketS, 0.005) << "reads must end before burst 2";

    json r = ToJson(RunExperiment(s).result);
    SCOPED_TRACE(Brief(r));
    ASSERT_EQ(r["reader"]["packets_read"].get<uint64_t>(), c.reads);
    EXPECT_EQ(r["flows"][0]["sent_packets"].get<uint64_t>(), c.ring);
    EXPECT_EQ(r["flows"][0]["dropped_packets"].get<uint64_t>(), 0u) << "burst 1 fits the ring exactly";
    EXPECT_EQ(r["flows"][1]["sent_packets"].get<uint64_t>(), c.second);
    EXPECT_EQ(r["flows"][1]["dropped_packets"].get<uint64_t>(), c.expectLost);
    EXPECT_EQ(FullRing(r), c.expectLost);
    EXPECT_EQ(r["flows"][0]["delivered_packets"].get<uint64_t>(), c.reads);
    EXPECT_EQ(Queued(r, "tun0_ring"), c.ring - c.reads + (c.second - c.expectLost));
    EXPECT_TRUE(r["conservation"]["ok"].get<bool>());
}

INSTANTIATE_TEST_SUITE_P(BatchRule,
                         ClosedFormTwoBursts,
                         ::testing::Values(TwoBurstCase{500, 10, 10, 10},
                                           TwoBurstCase{500, 16, 10, 0},
                                           TwoBurstCase{500, 20, 20, 4},
                                           TwoBurstCase{500, 15, 16, 16},
                                           TwoBurstCase{500, 33, 40, 8},
                                           TwoBurstCase{25, 10, 10, 0},
                                           TwoBurstCase{25, 10, 12, 2}));

// ------------------------------------------------------ two-level wake-up
//
// Ring 1, drop + pfifo_fast, bursts of 10 datagrams with 10 us of sender CPU
// each (datagram k of a burst enters the ring at t0 + 10k us), reader 2 us
// per packet, three bursts at 1, 3 and 5 ms (the reader sleeps from t = 0
// until the first one, ~1.9 ms between the others). Worked by hand:
//
//  * one level, 45 us: #0 woken at +45, read by +47, asleep again; #1..#4
//    dropped (ring full). #5 at +50 wakes it (45 us) at +95: #6..#9 dropped
//    on the full ring. 8 of 10 lost per burst.
//  * two levels, shallow 1 us, deep 45 us after >= 100 us asleep: the first
//    wake of a burst is deep (slept ~1.9 ms): #0 at +45, #1..#4 dropped; the
//    reader sleeps at +47 and #5 wakes it after 3 us < 100 us: shallow, read
//    at +51..+53, and so on for #6..#9 (each 1 + 2 us < 10 us). 4 lost per
//    burst; wake-ups 6 per burst, 1 of them deep.
//  * deep_idle_after 5000 us (longer than any sleep here): every wake-up is
//    the shallow 1 us, nothing lost.
struct TwoLevelCase
{
    double wakeUs;
    double deepAfterUs;
    double deepWakeUs;
    uint64_t expectLost;
    uint64_t expectWakeups;
    uint64_t expectDeep;
};

void
PrintTo(const TwoLevelCase& c, std::ostream* os)
{
    *os << "wake " << c.wakeUs << " deep after " << c.deepAfterUs << " deep wake " << c.deepWakeUs;
}

class ClosedFormTwoLevelWakeup : public ::testing::TestWithParam<TwoLevelCase>
{
};

/// The bursts above: ring 1, drop + pfifo_fast, a reader of 2 us per packet,
/// bursts of 10 datagrams with 10 us of sender CPU each, every 2 ms from 1 ms.
Scenario
TenDatagramBursts(const std::string& name, double durationS)
{
    Scenario s;
    s.name = name;
    s.durationS = durationS;
    s.tun.ringSize = 1;
    s.tun.policy = "drop";
    s.qdisc.kind = QdiscKind::PfifoFast;
    s.reader.perPacketNs = 2000;
    s.host.udpSndbufBytes = 1000000000;
    FlowConfig f = Burst(10, 0.001);
    f.burstIntervalMs = 2.0;
    f.sendCostNs = 10000;
    s.flows = {f};
    return s;
}

TEST_P(ClosedFormTwoLevelWakeup, LossFollowsTheSleepLength)
{
    const TwoLevelCase& c = GetParam();
    Scenario s = TenDatagramBursts("closed-form-two-level-wakeup", 0.006);
    s.reader.wakeupLatencyUs = c.wakeUs;
    s.reader.deepIdleAfterUs = c.deepAfterUs;
    s.reader.deepWakeupLatencyUs = c.deepWakeUs;

    json r = ToJson(RunExperiment(s).result);
    SCOPED_TRACE(Brief(r) + "\nreader " + r["reader"].dump());
    EXPECT_EQ(r["flows"][0]["sent_packets"].get<uint64_t>(), 30u);
    EXPECT_EQ(FullRing(r), c.expectLost);
    EXPECT_EQ(r["flows"][0]["dropped_packets"].get<uint64_t>(), c.expectLost);
    EXPECT_EQ(r["reader"]["packets_read"].get<uint64_t>(), 30u - c.expectLost);
    EXPECT_EQ(r["reader"]["wakeups"].get<uint64_t>(), c.expectWakeups);
    EXPECT_EQ(r["reader"]["deep_wakeups"].get<uint64_t>(), c.expectDeep);
    EXPECT_TRUE(r["conservation"]["ok"].get<bool>());
}

INSTANTIATE_TEST_SUITE_P(WakeLevels,
                         ClosedFormTwoLevelWakeup,
                         ::testing::Values(TwoLevelCase{45, 0, 0, 24, 6, 0},      // one level, slow
                                           TwoLevelCase{1, 100, 45, 12, 18, 3},  // two levels
                                           TwoLevelCase{1, 5000, 45, 0, 30, 0},  // never deep
                                           TwoLevelCase{1, 0, 0, 0, 30, 0}));    // one level, fast

// ---------------------------------- the slow wake-up drawn from a distribution
//
// The two-level set-up above, 200 bursts 2 ms apart, the slow wake-up drawn
// per wake-up from {45 us, 5 us} (deep_wakeup_quantiles_us). Per burst, as
// worked above: 45 us -> #1..#4 dropped; 5 us -> #0 read by +7, #1 at +10
// finds the reader asleep for 3 us (shallow, 1 us): nothing lost. So the loss
// is 4 x (bursts that drew 45 us), Binomial(200, 1/2) of them; exactly one
// slow wake-up per burst. One quantile is the fixed value, bit for bit.
Scenario
DrawnWakeupScenario(std::vector<double> quantiles, uint32_t seed)
{
    Scenario s = TenDatagramBursts("closed-form-drawn-wakeup", 0.401);
    s.seed = seed;
    s.reader.wakeupLatencyUs = 1;
    s.reader.deepIdleAfterUs = 100;
    s.reader.deepWakeupQuantilesUs = std::move(quantiles);
    return s;
}

TEST(ClosedFormDrawnWakeup, LossIsFourPerBurstThatDrewTheSlowValue)
{
    std::set<uint64_t> lossesBySeed;
    for (uint32_t seed = 1; seed <= 5; ++seed)
    {
        json r = ToJson(RunExperiment(DrawnWakeupScenario({45, 5}, seed)).result);
        SCOPED_TRACE(Brief(r) + "\nreader " + r["reader"].dump());
        EXPECT_EQ(r["flows"][0]["sent_packets"].get<uint64_t>(), 2000u);
        EXPECT_EQ(r["reader"]["deep_wakeups"].get<uint64_t>(), 200u);
        const uint64_t lost = FullRing(r);
        EXPECT_EQ(lost % 4, 0u);
        // 100 +- 4.2 standard deviations (sqrt(200 / 4) = 7.1)
        EXPECT_GE(lost / 4, 70u);
        EXPECT_LE(lost / 4, 130u);
        EXPECT_TRUE(r["conservation"]["ok"].get<bool>());
        // the same seed draws the same wake-ups
        EXPECT_EQ(FullRing(ToJson(RunExperiment(DrawnWakeupScenario({45, 5}, seed)).result)), lost);
        lossesBySeed.insert(lost);
    }
    EXPECT_GT(lossesBySeed.size(), 1u); // the draw depends on the seed

    Scenario fixed = DrawnWakeupScenario({}, 1);
    fixed.reader.deepWakeupLatencyUs = 45;
    json a = ToJson(RunExperiment(fixed).result);
    json b = ToJson(RunExperiment(DrawnWakeupScenario({45}, 1)).result);
    EXPECT_EQ(FullRing(a), 800u);
    EXPECT_EQ(a["flows"], b["flows"]);
    EXPECT_EQ(a["reader"], b["reader"]);
    EXPECT_EQ(FullRing(ToJson(RunExperiment(DrawnWakeupScenario({5}, 1)).result)), 0u);
}

// The same bursts with one wake-up level drawn from {45 us, 1 us}
// (wakeup_quantiles_us). A wake-up at datagram j (the reader asleep, j
// enters the ring at 10j us): 45 us -> j read at +45..+47, j+1..j+4 dropped
// on the full ring, the next wake-up at j+5; 1 us -> j read by +3, the next
// wake-up at j+1. The expected loss of a burst, E(0) by
//   E(j) = 1/2 (min(4, 9 - j) + E(j + 5)) + 1/2 E(j + 1),  E(j >= 10) = 0,
// is 6.2207 of 10 (standard deviation 1.505, enumerated), so 200 bursts lose
// 1244.1 +- 21.3; the test allows 4.2 standard deviations.
double
ExpectedDrawnLoss(int j)
{
    if (j >= 10)
    {
        return 0;
    }
    return 0.5 * (std::min(4, 9 - j) + ExpectedDrawnLoss(j + 5)) + 0.5 * ExpectedDrawnLoss(j + 1);
}

TEST(ClosedFormDrawnWakeup, OneLevelDrawnLosesTheExpectedAmount)
{
    EXPECT_NEAR(ExpectedDrawnLoss(0), 6.2207, 1e-4);
    for (uint32_t seed = 1; seed <= 3; ++seed)
    {
        Scenario s = DrawnWakeupScenario({}, seed);
        s.reader.deepIdleAfterUs = 0;
        s.reader.wakeupLatencyUs = 0;
        s.reader.wakeupQuantilesUs = {45, 1};
        json r = ToJson(RunExperiment(s).result);
        SCOPED_TRACE(Brief(r) + "\nreader " + r["reader"].dump());
        EXPECT_EQ(r["flows"][0]["sent_packets"].get<uint64_t>(), 2000u);
        EXPECT_NEAR(static_cast<double>(FullRing(r)), 200 * ExpectedDrawnLoss(0), 4.2 * 21.3);
        EXPECT_EQ(r["reader"]["deep_wakeups"].get<uint64_t>(), 0u);
        EXPECT_TRUE(r["conservation"]["ok"].get<bool>());
    }
    // one value: the fixed latency, bit for bit (45 us: 8 of 10 lost per burst)
    Scenario fixed = DrawnWakeupScenario({}, 1);
    fixed.reader.deepIdleAfterUs = 0;
    fixed.reader.wakeupLatencyUs = 45;
    Scenario one = fixed;
    one.reader.wakeupLatencyUs = 0;
    one.reader.wakeupQuantilesUs = {45};
    json a = ToJson(RunExperiment(fixed).result);
    json b = ToJson(RunExperiment(one).result);
    EXPECT_EQ(FullRing(a), 1600u);
    EXPECT_EQ(a["flows"], b["flows"]);
    EXPECT_EQ(a["reader"], b["reader"]);
}

// ------------------------------------- the first send() after the sender slept
//
// Two bursts of N = 40 datagrams, at s1 = 1 ms and s2 = 3 ms, into a 5-entry
// ring (drop, pfifo_fast). The reader (per_packet_ns 100, wake-up 1 us) is
// stalled for the first W = 51 us of each burst and afterwards drains the
// ring far faster than the sender fills it, so each burst loses exactly the
// datagrams sent within its first W beyond the K = 5 the ring holds.
// The sender pays send_cost_first_ns F for the first datagram of a burst (it
// slept between the bursts) and send_cost_ns c = 2 us for the others, so the
// i-th datagram of a burst is produced at 0, F, F + c, ..., F + (i - 1) c:
//   F = c (or -1: same as c):  t_i = 2i us < 51  -> 26 sent within W, 21 lost
//   F = 30 us:                 30 + 2(i - 1) < 51 -> 12 sent within W, 7 lost
//   F = 60 us (> W):           only the first    -> 1 sent within W, 0 lost
// per burst, twice.

struct FirstSendCase
{
    double firstNs;
    uint32_t expectLost;
};

void
PrintTo(const FirstSendCase& c, std::ostream* os)
{
    *os << "send_cost_first_ns " << c.firstNs << ", expect " << c.expectLost << " lost";
}

class ClosedFormFirstSend : public ::testing::TestWithParam<FirstSendCase>
{
};

TEST_P(ClosedFormFirstSend, LossCountsTheSendsBeforeTheReaderRuns)
{
    const FirstSendCase& c = GetParam();
    constexpr double kS1 = 0.001;
    constexpr double kS2 = 0.003;
    constexpr double kW = 51e-6;
    Scenario s;
    s.name = "closed-form-first-send";
    s.durationS = 0.005;
    s.tun.ringSize = 5;
    s.tun.policy = "drop";
    s.qdisc.kind = QdiscKind::PfifoFast;
    s.reader.perPacketNs = 100;
    s.reader.wakeupLatencyUs = 1;
    s.reader.stalls = {StallConfig{kS1, kW}, StallConfig{kS2, kW}};
    s.host.udpSndbufBytes = 1000000000;
    FlowConfig f = Burst(40, kS1);
    f.burstIntervalMs = (kS2 - kS1) * 1e3;
    f.sendCostNs = 2000;
    f.sendCostFirstNs = c.firstNs;
    s.flows = {f};

    json r = ToJson(RunExperiment(s).result);
    SCOPED_TRACE(Brief(r));
    EXPECT_EQ(r["flows"][0]["sent_packets"].get<uint64_t>(), 80u);
    EXPECT_EQ(FullRing(r), c.expectLost);
    EXPECT_EQ(r["flows"][0]["dropped_packets"].get<uint64_t>(), c.expectLost);
    EXPECT_EQ(r["flows"][0]["delivered_packets"].get<uint64_t>(), 80u - c.expectLost);
    EXPECT_TRUE(r["conservation"]["ok"].get<bool>());
}

INSTANTIATE_TEST_SUITE_P(SenderCost,
                         ClosedFormFirstSend,
                         ::testing::Values(FirstSendCase{-1, 42},     // same as send_cost_ns
                                           FirstSendCase{2000, 42},   // explicitly equal
                                           FirstSendCase{30000, 14},  // 7 per burst
                                           FirstSendCase{60000, 0})); // longer than the stall
