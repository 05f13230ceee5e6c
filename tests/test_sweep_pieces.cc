// tunsim sweep's pieces without running anything: --vary parsing, point
// ids, values and Student's t, and the CSV cells and statistics written from
// RunResults directly.
#include "result/run-result.h"
#include "sweep/sweep.h"

#include "sweep-test-support.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace sweep_test;

namespace
{

/// A cell a test expects: row (1 = the first after the header), column, text.
struct Expected
{
    size_t row;
    const char* column;
    const char* text;
};

void
ExpectCells(const std::vector<std::vector<std::string>>& rows, const std::vector<Expected>& expected)
{
    for (const auto& e : expected)
    {
        EXPECT_EQ(Cell(rows, e.row, e.column), e.text) << "row " << e.row << ", " << e.column;
    }
}

/// A run result with the figures the CSVs read, everything else default:
/// one UDP flow (and a TCP flow when `tcp`), tun0 with the noqueue qdisc
/// (no qdisc counters) and an unmeasured txq stop count.
tunsim::RunResult
SampleResult(unsigned long long seed, double lossRatio, bool tcp = false)
{
    tunsim::RunResult r;
    r.seed = seed;
    r.tun.policy = "drop";
    r.tun.txQueueLen = 25;
    r.tun.txDropped = 9007199254740993ull; // 2^53 + 1: no double holds it
    r.tun.txq.stoppedFraction = 0.25;
    r.tun.ringOccupancyMean = 3.5;
    r.tun.ringOccupancyMax = 25;
    r.qdisc.kind = "noqueue";
    r.reader.busyFraction = 0.5;
    r.wall.seconds = 0.125;
    r.conservation.ok = true;
    tunsim::FlowResult udp;
    udp.kind = "udp";
    udp.sentPackets = 60;
    udp.deliveredPackets = 28;
    udp.droppedPackets = 32;
    udp.lossRatio = lossRatio;
    udp.goodputMbps = 2;
    udp.delay.p50Ms = 10.5;
    r.flows.push_back(udp);
    if (tcp)
    {
        tunsim::FlowResult t;
        t.index = 1;
        t.kind = "tcp";
        t.tcp = tunsim::TcpFlowResult{};
        t.tcp->retransmits = 7;
        r.flows.push_back(t);
    }
    return r;
}

} // namespace

TEST(SweepPieces, ParseVarySplitsAtTopLevelCommas)
{
    auto a = tunsim::ParseVary("tun.policy=drop,nodrop-v8");
    EXPECT_EQ(a.key, "tun.policy");
    EXPECT_EQ(a.values, (std::vector<std::string>{"drop", "nodrop-v8"}));
    auto b = tunsim::ParseVary(R"(reader.stalls=[{"at_s":1,"for_s":0.5}],[])");
    EXPECT_EQ(b.values, (std::vector<std::string>{R"([{"at_s":1,"for_s":0.5}])", "[]"}));
    EXPECT_THROW(tunsim::ParseVary("tun.ring_size"), std::exception);
    EXPECT_THROW(tunsim::ParseVary("tun.ring_size=1,,2"), std::exception);
}

TEST(SweepPieces, PointIdsAreReadableAndStable)
{
    EXPECT_EQ(tunsim::PointId({"tun.ring_size", "tun.policy"}, {"25", "drop"}), "tun.ring_size=25,tun.policy=drop");
    EXPECT_EQ(tunsim::PointId({}, {}), "base");
    std::string lossy = tunsim::PointId({"reader.stalls"}, {R"([{"at_s":1}])"});
    EXPECT_EQ(lossy.find_first_of("[]{}\"/: "), std::string::npos) << lossy;
    EXPECT_EQ(lossy, tunsim::PointId({"reader.stalls"}, {R"([{"at_s":1}])"}));
    EXPECT_NE(lossy, tunsim::PointId({"reader.stalls"}, {R"([{"at_s":2}])"}));
}

TEST(SweepPieces, ValuesAndStudentT)
{
    nlohmann::json s = {{"tun", {{"ring_size", 25}}}, {"flows", {{{"rate_mbps", 50.0}}}}, {"underlay", {{"delay_ms", 0.05}}}};
    EXPECT_EQ(tunsim::ValueText(tunsim::ValueAtKey(s, "tun.ring_size")), "25");
    EXPECT_EQ(tunsim::ValueText(tunsim::ValueAtKey(s, "flows[0].rate_mbps")), "50");
    EXPECT_EQ(tunsim::ValueText(tunsim::ValueAtKey(s, "flows.0.rate_mbps")), "50");
    EXPECT_EQ(tunsim::ValueText(tunsim::ValueAtKey(s, "underlay.delay_ms")), "0.05");
    EXPECT_TRUE(tunsim::ValueAtKey(s, "tun.nope").is_null());
    EXPECT_NEAR(tunsim::StudentT975(1), 12.706, 1e-3);
    EXPECT_NEAR(tunsim::StudentT975(9), 2.262, 1e-3);
    EXPECT_NEAR(tunsim::StudentT975(60), 2.000, 1e-3);
    EXPECT_NEAR(tunsim::StudentT975(100000), 1.960, 1e-3);
}

TEST(SweepPieces, ResultsCsvCellsComeFromTheRunResult)
{
    const tunsim::SweepRecord rec{"tun.ring_size=25", {"25"}, 1, SampleResult(1, 32.0 / 60.0, true)};
    const auto rows = CsvRows(tunsim::ResultsCsv({"tun.ring_size"}, {rec}));
    ASSERT_EQ(rows.size(), 3u); // header, the UDP flow, the TCP flow
    ExpectCells(rows, {
                          {1, "point", "tun.ring_size=25"},
                          {1, "tun.ring_size", "25"},
                          {1, "seed", "1"},
                          {1, "policy", "drop"},
                          {1, "ring_size", "25"},
                          {1, "qdisc", "noqueue"},
                          {2, "flow", "1"},
                          {2, "kind", "tcp"},
                          // Counts in full, figures in the shortest text that reads back.
                          {1, "sent_packets", "60"},
                          {1, "loss_ratio", "0.5333333333333333"},
                          {1, "goodput_mbps", "2"},
                          {1, "delay_p50_ms", "10.5"},
                          {1, "tun_tx_dropped", "9007199254740993"},
                          // Empty where the result has no such value.
                          {1, "retransmits", ""}, // UDP
                          {2, "retransmits", "7"},
                          {1, "txq_stop_count", ""},        // not measured
                          {1, "qdisc_backlog_max", ""},     // noqueue
                          {1, "qdisc_dropped_packets", ""}, // noqueue
                          // Per-run figures repeat on each flow's row.
                          {2, "txq_stopped_fraction", "0.25"},
                          {2, "ring_occupancy_mean", "3.5"},
                          {2, "ring_occupancy_max", "25"},
                          {2, "reader_busy_fraction", "0.5"},
                          {2, "wall_s", "0.125"},
                          {2, "conservation_ok", "true"},
                      });
    EXPECT_EQ(rows[1].size(), rows[0].size());
    EXPECT_EQ(rows[2].size(), rows[0].size());
    // A qdisc with counters fills its columns.
    tunsim::SweepRecord fq = rec;
    fq.result.qdisc.kind = "fq_codel";
    fq.result.qdisc.counters = tunsim::QdiscResult::Counters{};
    fq.result.qdisc.counters->droppedPackets = 3;
    fq.result.qdisc.counters->backlogPacketsMax = 40;
    ExpectCells(CsvRows(tunsim::ResultsCsv({"tun.ring_size"}, {fq})),
                {{1, "qdisc_backlog_max", "40"}, {1, "qdisc_dropped_packets", "3"}});
}

TEST(SweepPieces, SummaryCsvHasMeansAndConfidenceIntervalsAcrossSeeds)
{
    std::vector<tunsim::SweepRecord> recs{
        {"tun.ring_size=25", {"25"}, 1, SampleResult(1, 0.5)},
        {"tun.ring_size=25", {"25"}, 2, SampleResult(2, 0.25)},
        {"tun.ring_size=50", {"50"}, 1, SampleResult(1, 0.125)},
    };
    recs[1].result.conservation.ok = false;
    const auto rows = CsvRows(tunsim::SummaryCsv({"tun.ring_size"}, recs));
    ASSERT_EQ(rows.size(), 3u); // header, one row per point and flow
    // t(0.975, n-1) s / sqrt(n): s = 0.25 / sqrt(2), n = 2.
    EXPECT_NEAR(std::stod(Cell(rows, 1, "loss_ratio_ci95")), tunsim::StudentT975(1) * 0.125, 1e-12);
    ExpectCells(rows, {
                          {1, "point", "tun.ring_size=25"},
                          {1, "seeds", "2"},
                          {1, "loss_ratio_mean", "0.375"},
                          {1, "sent_packets_mean", "60"},
                          {1, "sent_packets_ci95", "0"}, // the seeds agree
                          {1, "retransmits_mean", ""},   // no seed has a value
                          {1, "retransmits_ci95", ""},
                          {1, "conservation_ok", "false"}, // one seed did not conserve
                          {2, "seeds", "1"},
                          {2, "loss_ratio_mean", "0.125"},
                          {2, "loss_ratio_ci95", ""}, // one seed: no interval
                          {2, "conservation_ok", "true"},
                      });
}
