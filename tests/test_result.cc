// RunResult: the one result type. Written and read back, every scenario's
// result is the same document; a broken file names its first bad field.
#include "result/run-result.h"
#include "run/experiment.h"
#include "scenario/scenario.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>

using namespace tunsim;
using nlohmann::json;

namespace
{

std::string
ScenarioPath(const std::string& name)
{
    return std::string(TUNSIM_SOURCE_DIR) + "/scenarios/" + name;
}

/// `f` with `mutate` applied, read back: the error message.
std::string
ReadError(json j, const std::function<void(json&)>& mutate)
{
    mutate(j);
    try
    {
        RunResultFromJson(j);
    }
    catch (const ResultFormatError& e)
    {
        return e.what();
    }
    return "<no error>";
}

} // namespace

class EveryScenario : public ::testing::TestWithParam<std::string>
{
};

TEST_P(EveryScenario, ResultReadsBackAsTheSameDocument)
{
    // A short run of each shipped scenario: every block (udp, video, tcp,
    // noqueue or not) written and read back unchanged.
    Scenario s = LoadScenario(ScenarioPath(GetParam()), {"duration_s=0.3", "flows.0.stop_s=-1"});
    const json written = ToJson(RunExperiment(s).result);
    const json again = ToJson(RunResultFromJson(written));
    EXPECT_EQ(again, written);
    // and through text, as a file is read
    EXPECT_EQ(ToJson(RunResultFromJson(json::parse(written.dump(2)))), written);
}

INSTANTIATE_TEST_SUITE_P(Scenarios,
                         EveryScenario,
                         ::testing::Values("bursts.json",
                                           "udp-flood.json",
                                           "teleop-video.json",
                                           "germany-usa-tcp.json",
                                           "openconnect-netperf.json",
                                           "peak-rate.json",
                                           "multistream.json",
                                           "hol-stall.json"),
                         [](const auto& info) {
                             std::string n = info.param.substr(0, info.param.find('.'));
                             std::replace(n.begin(), n.end(), '-', '_');
                             return n;
                         });

TEST(RunResult, NoqueueHasNoQdiscCountersAndNullLimit)
{
    Scenario s = LoadScenario(ScenarioPath("bursts.json"), {"duration_s=0.05", "qdisc.kind=noqueue"});
    const json j = ToJson(RunExperiment(s).result);
    EXPECT_TRUE(j["qdisc"]["limit_packets"].is_null());
    EXPECT_FALSE(j["qdisc"].contains("sent_packets"));
    EXPECT_EQ(ToJson(RunResultFromJson(j)), j);
}

TEST(RunResult, ReaderNamesTheFirstBadField)
{
    Scenario s = LoadScenario(ScenarioPath("bursts.json"), {"duration_s=0.05"});
    const json j = ToJson(RunExperiment(s).result);
    EXPECT_EQ(ReadError(j, [](json& r) { r["flows"][0].erase("sent_packets"); }),
              "flows[0].sent_packets: missing");
    EXPECT_EQ(ReadError(j, [](json& r) { r["tun"]["tx_dropped"] = -1; }),
              "tun.tx_dropped: must be a non-negative integer");
    EXPECT_EQ(ReadError(j, [](json& r) { r["tun"]["tx_dropped"] = "many"; }),
              "tun.tx_dropped: must be a non-negative integer");
    EXPECT_EQ(ReadError(j, [](json& r) { r.erase("conservation"); }), "conservation: missing");
    EXPECT_EQ(ReadError(j, [](json& r) { r["flows"] = 3; }), "flows: must be an array");
    EXPECT_NE(ReadError(j, [](json& r) { r["flows"][0]["loss_ratio"] = "x"; }).find("flows[0].loss_ratio"),
              std::string::npos);
}

TEST(RunResult, OptionalFiguresMayBeMissing)
{
    // Results of older versions lack some optional figures: they read as
    // not measured (null when written again), required ones do not.
    Scenario s = LoadScenario(ScenarioPath("bursts.json"), {"duration_s=0.05"});
    json j = ToJson(RunExperiment(s).result);
    j["reader"].erase("preemptions");
    j["wall"].erase("allocator");
    const RunResult r = RunResultFromJson(j);
    EXPECT_FALSE(r.reader.preemptions);
    EXPECT_EQ(r.wall.allocator, "");
    EXPECT_TRUE(ToJson(r)["reader"]["preemptions"].is_null());
}

TEST(RunResult, BooksCloseOnTheirOwnCounts)
{
    DirectionBooks b;
    b.sent = 10;
    b.delivered = 6;
    b.dropped = 3;
    b.stillQueuedByPlace = {{"tun0_ring", 1}, {"tun0_qdisc", 0}};
    b.Close();
    EXPECT_EQ(b.stillQueued, 1u);
    EXPECT_TRUE(b.ok);
    b.stillQueuedByPlace["underlay_wire"] = 1;
    b.Close();
    EXPECT_EQ(b.stillQueued, 2u);
    EXPECT_FALSE(b.ok); // 10 != 6 + 3 + 2
}
