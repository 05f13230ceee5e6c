// End-to-end: whole scenarios through RunExperiment, checking what a user of
// tunsim relies on: drop loses, NODROP does not, the sender is throttled to
// the reader's capacity, every packet is accounted for, runs repeat bit for
// bit, and a stalled reader blocks every flow behind it (seed 002).
#include "run/experiment.h"
#include "scenario/scenario.h"

#include <gtest/gtest.h>

#include <string>

using tunsim::RunExperiment;
using tunsim::Scenario;
using json = nlohmann::json;

namespace
{

Scenario
Load(const std::string& file, const std::vector<std::string>& sets = {})
{
    json j = tunsim::LoadScenarioJson(std::string(TUNSIM_SOURCE_DIR) + "/scenarios/" + file);
    for (const auto& s : sets)
    {
        tunsim::ApplySet(j, s);
    }
    return tunsim::ScenarioFromJson(j);
}

/// The result without its wall-clock block.
json
Deterministic(json r)
{
    r.erase("wall");
    return r;
}

void
ExpectConserved(const json& r)
{
    EXPECT_TRUE(r["conservation"]["ok"].get<bool>()) << r["conservation"].dump(2);
    EXPECT_EQ(r["conservation"]["untracked_packets"].get<uint64_t>(), 0u);
}

} // namespace

TEST(EndToEnd, UdpFloodDropLosesPackets)
{
    json r = ToJson(RunExperiment(Load("udp-flood.json", {"duration_s=0.2"})).result);
    ExpectConserved(r);
    const json& f = r["flows"][0];
    // The sender (1 us per datagram) is twice as fast as the reader (2 us):
    // mainline drops about half at the ring and never stops the queue.
    EXPECT_GT(f["loss_ratio"].get<double>(), 0.4);
    EXPECT_LT(f["loss_ratio"].get<double>(), 0.6);
    EXPECT_EQ(r["tun"]["txq"]["stop_count"].get<uint64_t>(), 0u);
    EXPECT_EQ(r["tun"]["drop_reasons"]["FULL_RING"].get<uint64_t>(), f["dropped_packets"].get<uint64_t>());
    EXPECT_EQ(r["conservation"]["forward"]["dropped_by_place"]["tun0_ring/FULL_RING"].get<uint64_t>(),
              f["dropped_packets"].get<uint64_t>());
    // The qdisc above never holds more than the packet passing through it
    // (reference §2; Linux would even bypass an empty pfifo_fast).
    EXPECT_LE(r["qdisc"]["backlog_packets_max"].get<uint32_t>(), 1u);
}

class NodropFlood : public ::testing::TestWithParam<std::tuple<std::string, std::string>>
{
};

TEST_P(NodropFlood, NoLossAndSenderAtReaderCapacity)
{
    auto [policy, qdisc] = GetParam();
    json r = ToJson(RunExperiment(Load("udp-flood.json",
                                {"duration_s=0.2", "tun.policy=\"" + policy + "\"", "qdisc.kind=\"" + qdisc + "\""})).result);
    ExpectConserved(r);
    const json& f = r["flows"][0];
    EXPECT_EQ(f["dropped_packets"].get<uint64_t>(), 0u);
    EXPECT_EQ(r["tun"]["tx_dropped"].get<uint64_t>(), 0u);
    EXPECT_GT(r["tun"]["txq"]["stop_count"].get<uint64_t>(), 0u);
    // Reader capacity: one 1400-byte payload per 2000 ns = 5600 Mbit/s.
    const double capacity = 1400 * 8 / 2000e-9 / 1e6;
    EXPECT_NEAR(f["sent_mbps"].get<double>(), capacity, 0.02 * capacity);
    EXPECT_NEAR(f["goodput_mbps"].get<double>(), capacity, 0.02 * capacity);
    // The sender was held back by its socket memory, not by drops.
    EXPECT_GT(f["socket"]["blocked_count"].get<uint64_t>(), 0u);
}

INSTANTIATE_TEST_SUITE_P(PolicyQdisc,
                         NodropFlood,
                         ::testing::Combine(::testing::Values("nodrop-v6", "nodrop-v8"),
                                            ::testing::Values("pfifo", "fq_codel")));

TEST(EndToEnd, IffBackpressureIsDropWithoutTheFlagAndMergedWithIt)
{
    // The whole result (bar the scenario echo and wall time) of iff-backpressure
    // with the flag clear is drop's, with it merged's; merged and drop differ.
    auto run = [](const std::string& policy, const std::string& flag) {
        json r = Deterministic(ToJson(RunExperiment(Load("udp-flood.json", {"duration_s=0.1", "tun.ring_size=25",
                                                                            "tun.policy=\"" + policy + "\"",
                                                                            "tun.iff_backpressure=" + flag}))
                                          .result));
        ExpectConserved(r);
        r.erase("scenario");
        r["tun"].erase("policy");
        return r;
    };
    const json drop = run("drop", "true");
    const json merged = run("merged", "true");
    EXPECT_NE(drop, merged);
    EXPECT_EQ(run("iff-backpressure", "false"), drop);
    EXPECT_EQ(run("iff-backpressure", "true"), merged);
    EXPECT_GT(merged["tun"]["txq"]["stop_count"].get<uint64_t>(), 0u);
    EXPECT_EQ(merged["tun"]["tx_dropped"].get<uint64_t>(), 0u);
}

TEST(EndToEnd, DelayHistogramHoldsEverySample)
{
    json r = ToJson(RunExperiment(Load("bursts.json", {"duration_s=0.2", "tun.policy=\"nodrop-v8\""})).result);
    const json& d = r["flows"][0]["delay"];
    const json& h = d["histogram"];
    uint64_t total = 0;
    double prev = -1;
    for (size_t i = 0; i < h["count"].size(); ++i)
    {
        total += h["count"][i].get<uint64_t>();
        double edge = h["upper_edge_ms"][i].get<double>();
        EXPECT_GT(edge, prev) << "edges increase";
        prev = edge;
    }
    EXPECT_EQ(total, d["samples"].get<uint64_t>());
    EXPECT_EQ(total, r["flows"][0]["delivered_packets"].get<uint64_t>());
    // the last bucket holds the maximum, within the 1/32 bucket width
    EXPECT_GE(prev * 1.0001, d["max_ms"].get<double>());
    EXPECT_LE(prev, d["max_ms"].get<double>() * (1 + 1.0 / 32) + 1e-6);
}

TEST(EndToEnd, BurstsLoseExactlyTheOverflowUnderDrop)
{
    // 60 back-to-back datagrams (1 us apart) into an empty 25-entry ring,
    // read at 20 us each after a 5 us wake-up: the reader takes packets at
    // t = 5, 25, 45 us (3 of them) while the burst arrives in 60 us, so
    // 60 - 25 - 3 = 32 are dropped per burst; 2 s / 10 ms = 200 bursts.
    json r = ToJson(RunExperiment(Load("bursts.json")).result);
    ExpectConserved(r);
    EXPECT_EQ(r["flows"][0]["dropped_packets"].get<uint64_t>(), 32u * 200u);
}

TEST(EndToEnd, BurstsNoLossWithNodrop)
{
    for (const char* p : {"nodrop-v2", "nodrop-v4", "nodrop-v6", "nodrop-v8", "legacy-flowctl", "stop-if-nonempty"})
    {
        json r = ToJson(RunExperiment(Load("bursts.json", {"duration_s=0.5", std::string("tun.policy=\"") + p + "\""})).result);
        ExpectConserved(r);
        EXPECT_EQ(r["flows"][0]["dropped_packets"].get<uint64_t>(), 0u) << p;
        EXPECT_GT(r["qdisc"]["backlog_packets_max"].get<uint32_t>(), 0u) << p;
    }
}

TEST(EndToEnd, NoqueueKeepsDroppingUnderV8ButV6DropsInTheStack)
{
    // v8 only stops the queue when a qdisc is attached: with noqueue the
    // mainline FULL_RING drop stays.
    json v8 = ToJson(RunExperiment(Load("bursts.json", {"duration_s=0.5", "tun.policy=\"nodrop-v8\"", "qdisc.kind=\"noqueue\""})).result);
    ExpectConserved(v8);
    EXPECT_EQ(v8["tun"]["txq"]["stop_count"].get<uint64_t>(), 0u);
    EXPECT_GT(v8["tun"]["drop_reasons"]["FULL_RING"].get<uint64_t>(), 0u);
    // v6 stops even without a qdisc; __dev_queue_xmit() then frees what the
    // stopped virtual device cannot take ("asks to queue packet").
    json v6 = ToJson(RunExperiment(Load("bursts.json", {"duration_s=0.5", "tun.policy=\"nodrop-v6\"", "qdisc.kind=\"noqueue\""})).result);
    ExpectConserved(v6);
    EXPECT_GT(v6["conservation"]["forward"]["dropped_by_place"]["tun0_noqueue/TXQ_STOPPED"].get<uint64_t>(), 0u);
}

TEST(EndToEnd, SameSeedSameResult)
{
    auto sets = std::vector<std::string>{"duration_s=0.2",
                                         "flows=[{\"kind\":\"udp\",\"mode\":\"rate\",\"poisson\":true,\"rate_mbps\":5000}]",
                                         "tun.policy=\"nodrop-v8\""};
    json a = ToJson(RunExperiment(Load("udp-flood.json", sets)).result);
    json b = ToJson(RunExperiment(Load("udp-flood.json", sets)).result);
    EXPECT_EQ(Deterministic(a).dump(), Deterministic(b).dump());
    sets.push_back("seed=2");
    json c = ToJson(RunExperiment(Load("udp-flood.json", sets)).result);
    EXPECT_NE(Deterministic(a)["flows"].dump(), Deterministic(c)["flows"].dump())
        << "the seed must change a Poisson flow";
    ExpectConserved(a);
    ExpectConserved(c);
}

TEST(EndToEnd, TcpThroughTheTunnel)
{
    json r = ToJson(RunExperiment(
                 Load("udp-flood.json",
                      {"duration_s=1", "flows=[{\"kind\":\"tcp\"}]", "underlay.delay_ms=10", "tun.policy=\"nodrop-v8\""})).result);
    ExpectConserved(r);
    const json& f = r["flows"][0];
    EXPECT_GT(f["goodput_mbps"].get<double>(), 100.0);
    EXPECT_GT(f["ack_packets_delivered"].get<uint64_t>(), 0u);
    EXPECT_NEAR(f["srtt_end_ms"].get<double>(), 20.0, 15.0);
}

TEST(EndToEnd, StalledReaderBlocksEveryFlowBehindTheQueue)
{
    // Seed 002: with backpressure a reader that stops reading blocks all
    // senders (their socket memory is held in the qdisc); under drop they
    // never notice and lose their packets instead.
    auto sets = std::vector<std::string>{
        "duration_s=0.5",
        "flows=[{\"kind\":\"udp\",\"mode\":\"rate\",\"rate_mbps\":200},{\"kind\":\"udp\",\"mode\":\"rate\",\"rate_mbps\":200}]",
        "reader.stalls=[{\"at_s\":0.1,\"for_s\":0.3}]",
        "qdisc.kind=\"pfifo\"",
        "qdisc.limit=10000"};
    auto nodropSets = sets;
    nodropSets.push_back("tun.policy=\"nodrop-v6\"");
    json nd = ToJson(RunExperiment(Load("udp-flood.json", nodropSets)).result);
    ExpectConserved(nd);
    for (const auto& f : nd["flows"])
    {
        EXPECT_EQ(f["dropped_packets"].get<uint64_t>(), 0u);
        EXPECT_GT(f["socket"]["blocked_s"].get<double>(), 0.25) << "blocked for most of the stall";
    }
    EXPECT_TRUE(nd["tun"]["txq"]["stopped_s"].get<double>() > 0.25);

    json dr = ToJson(RunExperiment(Load("udp-flood.json", sets)).result);
    ExpectConserved(dr);
    for (const auto& f : dr["flows"])
    {
        EXPECT_EQ(f["socket"]["blocked_count"].get<uint64_t>(), 0u);
        EXPECT_GT(f["dropped_packets"].get<uint64_t>(), 1000u);
    }
}

TEST(EndToEnd, PeerWakeupHoldsWhatArrivesWhileItSleeps)
{
    // underlay.peer_wakeup_quantiles_us [100]: the far endpoint sleeps when
    // idle and wakes 100 us after a packet arrives; everything that arrived
    // meanwhile leaves then. Isolated datagrams (1 Mbit/s): each one is
    // 100 us later than without. Bursts of 3 read 20 us apart by the reader
    // arrive at a0, a0 + 20, a0 + 40 and all leave at a0 + 100: 100, 80 and
    // 60 us later, 80 us on average.
    const std::string reader = "reader={\"per_packet_ns\":20000,\"ns_per_byte\":0}";
    for (const auto& [flow, extraUs] :
         std::vector<std::pair<std::string, double>>{
             {"flows=[{\"kind\":\"udp\",\"mode\":\"rate\",\"rate_mbps\":1}]", 100.0},
             {"flows=[{\"kind\":\"udp\",\"mode\":\"bursts\",\"burst_packets\":3,\"burst_interval_ms\":5}]", 80.0}})
    {
        SCOPED_TRACE(flow);
        std::vector<std::string> sets{"duration_s=0.05", flow, reader};
        json a = ToJson(RunExperiment(Load("udp-flood.json", sets)).result);
        sets.push_back("underlay.peer_wakeup_quantiles_us=[100]");
        json b = ToJson(RunExperiment(Load("udp-flood.json", sets)).result);
        ExpectConserved(a);
        ExpectConserved(b);
        const json& da = a["flows"][0]["delay"];
        const json& db = b["flows"][0]["delay"];
        ASSERT_EQ(da["samples"], db["samples"]);
        ASSERT_GT(da["samples"].get<uint64_t>(), 3u);
        EXPECT_NEAR((db["mean_ms"].get<double>() - da["mean_ms"].get<double>()) * 1e3, extraUs, 1e-6);
        EXPECT_EQ(b["conservation"]["forward"]["still_queued_by_place"]["vpn_peer"].get<uint64_t>(), 0u);
        EXPECT_FALSE(a["conservation"]["forward"]["still_queued_by_place"].contains("vpn_peer"));
    }
}

TEST(EndToEnd, PeerWriteCostQueuesWhatArrivesWhileItWrites)
{
    // underlay.peer_write_ns 30000: each write() into the far tun takes
    // 30 us. Bursts of 3 read 20 us apart arrive at a0, a0 + 20, a0 + 40:
    // written at a0, a0 + 30, a0 + 60 -- 0, 10 and 20 us later than free
    // writes, 10 us on average; isolated datagrams are not delayed. With a
    // wake-up of 100 us too, the writes begin at a0 + 100, + 130, + 160:
    // 100, 110 and 120 us later, 110 on average; isolated ones 100.
    const std::string reader = "reader={\"per_packet_ns\":20000,\"ns_per_byte\":0}";
    const std::string rate = "flows=[{\"kind\":\"udp\",\"mode\":\"rate\",\"rate_mbps\":1}]";
    const std::string bursts = "flows=[{\"kind\":\"udp\",\"mode\":\"bursts\",\"burst_packets\":3,\"burst_interval_ms\":5}]";
    const std::string wake = "underlay.peer_wakeup_quantiles_us=[100]";
    struct Case
    {
        std::string flow;
        bool sleeps;
        double extraUs;
    };
    for (const Case& c : std::vector<Case>{{rate, false, 0.0}, {bursts, false, 10.0}, {rate, true, 100.0}, {bursts, true, 110.0}})
    {
        SCOPED_TRACE(c.flow + (c.sleeps ? " + wake-up" : ""));
        std::vector<std::string> sets{"duration_s=0.05", c.flow, reader};
        json a = ToJson(RunExperiment(Load("udp-flood.json", sets)).result);
        sets.push_back("underlay.peer_write_ns=30000");
        if (c.sleeps)
        {
            sets.push_back(wake);
        }
        json b = ToJson(RunExperiment(Load("udp-flood.json", sets)).result);
        ExpectConserved(a);
        ExpectConserved(b);
        const json& da = a["flows"][0]["delay"];
        const json& db = b["flows"][0]["delay"];
        ASSERT_EQ(da["samples"], db["samples"]);
        ASSERT_GT(da["samples"].get<uint64_t>(), 3u);
        EXPECT_NEAR((db["mean_ms"].get<double>() - da["mean_ms"].get<double>()) * 1e3, c.extraUs, 1e-6);
        // The same cost drawn from a one-value list.
        sets[3] = "underlay.peer_write_quantiles_us=[30]";
        json q = ToJson(RunExperiment(Load("udp-flood.json", sets)).result);
        EXPECT_EQ(q["flows"][0]["delay"].dump(), db.dump());
    }
}

TEST(EndToEnd, PeerWriteCostsDrawnPerWrite)
{
    // underlay.peer_write_quantiles_us [0, 40]: each write costs 0 or 40 us,
    // equally likely. Bursts of 2 read 20 us apart: the second waits 20 us
    // when the first drew 40 and not at all when it drew 0: 10 us on
    // average for the second, 5 us per packet (bursts 5 ms apart: 200).
    const std::vector<std::string> sets{
        "duration_s=1", "flows=[{\"kind\":\"udp\",\"mode\":\"bursts\",\"burst_packets\":2,\"burst_interval_ms\":5}]",
        "reader={\"per_packet_ns\":20000,\"ns_per_byte\":0}"};
    json a = ToJson(RunExperiment(Load("udp-flood.json", sets)).result);
    auto withCosts = sets;
    withCosts.push_back("underlay.peer_write_quantiles_us=[0,40]");
    json b = ToJson(RunExperiment(Load("udp-flood.json", withCosts)).result);
    ExpectConserved(b);
    const double extraUs =
        (b["flows"][0]["delay"]["mean_ms"].get<double>() - a["flows"][0]["delay"]["mean_ms"].get<double>()) * 1e3;
    // 400 packets: 200 second packets each waiting 20 us with p = 1/2 -> mean
    // 5 us per packet, sd of the mean 20 * 0.5 / sqrt(200) / 2 = 0.35 us.
    EXPECT_NEAR(extraUs, 5.0, 1.5);
    EXPECT_GT(extraUs, 0.0);
}

TEST(EndToEnd, PeerPreemptionHoldsBothDirections)
{
    // underlay.peer_preempt_interval_ms 10, peer_preempt_ms 1: the far end
    // loses its CPU for exponential lengths of mean 1 ms starting as a
    // Poisson process of mean gap 10 ms. A packet arriving at a random time
    // finds it preempted with probability 1 - exp(-1/10) = 0.095 and, the
    // lengths being memoryless, waits 1 ms on average then (a little more
    // where preemptions overlap): about 0.1 ms more per packet.
    std::vector<std::string> sets{"duration_s=2", "flows=[{\"kind\":\"udp\",\"mode\":\"rate\",\"rate_mbps\":10}]"};
    json a = ToJson(RunExperiment(Load("udp-flood.json", sets)).result);
    sets.push_back("underlay.peer_preempt_interval_ms=10");
    sets.push_back("underlay.peer_preempt_ms=1");
    json b = ToJson(RunExperiment(Load("udp-flood.json", sets)).result);
    ExpectConserved(b);
    const json& da = a["flows"][0]["delay"];
    const json& db = b["flows"][0]["delay"];
    ASSERT_EQ(da["samples"], db["samples"]);
    EXPECT_NEAR((db["mean_ms"].get<double>() - da["mean_ms"].get<double>()), 0.1, 0.03);
    EXPECT_GT(db["max_ms"].get<double>() - da["max_ms"].get<double>(), 2.0) << "some packets wait out a long one";
}

TEST(EndToEnd, PeerAckPerPassAcknowledgesAPassOnce)
{
    // underlay.peer_wakeup_quantiles_us [500]: the far end writes what
    // arrived during its 500-us wake-up as one pass. With peer_ack_per_pass
    // the receiver acknowledges a pass of two or more once, at its end
    // (a stretch ACK), instead of once per two segments: fewer ACKs for about
    // the same data. UDP carries no ACKs: its result does not change at all.
    std::vector<std::string> tcp{"duration_s=1", "flows=[{\"kind\":\"tcp\",\"cc\":\"cubic\"}]",
                                 "tun.ring_size=1000", "underlay.delay_ms=5",
                                 "underlay.peer_wakeup_quantiles_us=[500]"};
    json a = ToJson(RunExperiment(Load("udp-flood.json", tcp)).result);
    tcp.push_back("underlay.peer_ack_per_pass=true");
    json b = ToJson(RunExperiment(Load("udp-flood.json", tcp)).result);
    ExpectConserved(a);
    ExpectConserved(b);
    const double acksPerSegA = a["flows"][0]["ack_packets_sent"].get<double>() / a["flows"][0]["delivered_packets"].get<double>();
    const double acksPerSegB = b["flows"][0]["ack_packets_sent"].get<double>() / b["flows"][0]["delivered_packets"].get<double>();
    EXPECT_NEAR(acksPerSegA, 0.5, 0.1) << "one ACK per two segments";
    EXPECT_LT(acksPerSegB, 0.6 * acksPerSegA) << "passes of several segments acknowledged once";
    EXPECT_GT(b["flows"][0]["goodput_mbps"].get<double>(), 0.5 * a["flows"][0]["goodput_mbps"].get<double>());

    std::vector<std::string> udp{"duration_s=0.2", "underlay.peer_wakeup_quantiles_us=[500]"};
    json u = ToJson(RunExperiment(Load("udp-flood.json", udp)).result);
    udp.push_back("underlay.peer_ack_per_pass=true");
    json v = ToJson(RunExperiment(Load("udp-flood.json", udp)).result);
    u.erase("wall");
    v.erase("wall");
    u.erase("scenario");
    v.erase("scenario");
    EXPECT_EQ(u.dump(), v.dump());
}
