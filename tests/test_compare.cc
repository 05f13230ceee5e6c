// tunsim compare: the union of two results' metrics, absolute and relative
// differences, files or directories, exit 2 on bad input.
#include "compare/compare.h"
#include "result/run-result.h"

#include "test-support.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace fs = std::filesystem;
using json = nlohmann::json;

using tunsim_test::Outcome;
using tunsim_test::Shell;
using tunsim_test::Tunsim;

namespace
{

json
ResultA()
{
    return json::parse(R"({
      "tunsim": {"version": "0.1.0"}, "scenario": {"name": "a"}, "wall": {"seconds": 1.5},
      "flows": [{"index": 0, "sent_packets": 1000, "loss_ratio": 0.5, "kind": "udp"}],
      "tun": {"policy": "drop", "tx_dropped": 500, "xmit_calls": 1000},
      "conservation": {"ok": true}
    })");
}

json
ResultB()
{
    return json::parse(R"({
      "tunsim": {"version": "0.1.0"}, "scenario": {"name": "b"}, "wall": {"seconds": 0.5},
      "flows": [{"index": 0, "sent_packets": 1000, "loss_ratio": 0.48, "kind": "udp"}],
      "tun": {"policy": "drop", "tx_dropped": 480, "xmit_calls": null},
      "conservation": {"ok": true},
      "kernel": {"policy": "drop"}
    })");
}

/// A whole result file's JSON with ResultA()/ResultB()'s figures (tunsim
/// compare reads only files that are tunsim results).
json
FullResult(const json& partial)
{
    tunsim::RunResult r;
    r.tunsimVersion = "0.1.0";
    r.tunsimGit = "test";
    r.ns3Version = "3.37";
    r.scenario = partial["scenario"];
    tunsim::FlowResult f;
    f.kind = "udp";
    f.sentPackets = partial["flows"][0]["sent_packets"];
    f.lossRatio = partial["flows"][0]["loss_ratio"];
    r.flows.push_back(f);
    r.tun.policy = "drop";
    r.tun.txDropped = partial["tun"]["tx_dropped"];
    if (!partial["tun"]["xmit_calls"].is_null())
    {
        r.tun.xmitCalls = partial["tun"]["xmit_calls"].get<uint64_t>();
    }
    r.wall.seconds = partial["wall"]["seconds"];
    r.kernel = partial.value("kernel", json());
    return tunsim::ToJson(r);
}

const tunsim::CompareRow*
Find(const std::vector<tunsim::CompareRow>& rows, const std::string& m)
{
    for (const auto& r : rows)
    {
        if (r.metric == m)
        {
            return &r;
        }
    }
    return nullptr;
}

} // namespace

TEST(Compare, AbsoluteAndRelativeDifferences)
{
    auto rows = tunsim::CompareResults(ResultA(), ResultB(), false, {});
    const auto* loss = Find(rows, "flows[0].loss_ratio");
    ASSERT_NE(loss, nullptr);
    EXPECT_TRUE(loss->numeric);
    EXPECT_NEAR(loss->diff, -0.02, 1e-12);
    EXPECT_TRUE(loss->relDefined);
    EXPECT_NEAR(loss->rel, -0.04, 1e-12);
    const auto* drops = Find(rows, "tun.tx_dropped");
    ASSERT_NE(drops, nullptr);
    EXPECT_DOUBLE_EQ(drops->diff, -20);
    const auto* sent = Find(rows, "flows[0].sent_packets");
    ASSERT_NE(sent, nullptr);
    EXPECT_FALSE(sent->differs);
    // a number against null (not measured): shown, not subtracted
    const auto* xmit = Find(rows, "tun.xmit_calls");
    ASSERT_NE(xmit, nullptr);
    EXPECT_FALSE(xmit->numeric);
    EXPECT_EQ(xmit->b, "null");
    EXPECT_TRUE(xmit->differs);
    // only in B
    const auto* k = Find(rows, "kernel.policy");
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(k->a, "-");
    EXPECT_EQ(k->b, "drop");
    // scenario / tunsim / wall only with `all`
    EXPECT_EQ(Find(rows, "wall.seconds"), nullptr);
    EXPECT_EQ(Find(rows, "scenario.name"), nullptr);
    auto allRows = tunsim::CompareResults(ResultA(), ResultB(), true, {});
    EXPECT_NE(Find(allRows, "wall.seconds"), nullptr);
    EXPECT_NE(Find(allRows, "scenario.name"), nullptr);
}

TEST(Compare, OnlyPrefixAndNaturalOrder)
{
    json a = {{"flows", json::array()}};
    for (int i = 0; i < 12; ++i)
    {
        a["flows"].push_back({{"index", i}});
    }
    auto rows = tunsim::CompareResults(a, a, false, {"flows"});
    ASSERT_EQ(rows.size(), 12u);
    EXPECT_EQ(rows[2].metric, "flows[2].index");
    EXPECT_EQ(rows[10].metric, "flows[10].index");
    auto none = tunsim::CompareResults(ResultA(), ResultB(), false, {"tun."});
    for (const auto& r : none)
    {
        EXPECT_EQ(r.metric.rfind("tun.", 0), 0u);
    }
    EXPECT_EQ(none.size(), 3u);
}

TEST(Compare, ZeroBaseHasNoRelativeDifference)
{
    json a = {{"flows", json::array()}, {"x", 0}};
    json b = {{"flows", json::array()}, {"x", 3}};
    auto rows = tunsim::CompareResults(a, b, false, {});
    const auto* x = Find(rows, "x");
    ASSERT_NE(x, nullptr);
    EXPECT_FALSE(x->relDefined);
    auto text = tunsim::FormatCompare(rows, "a", "b", false, false);
    EXPECT_NE(text.find("n/a"), std::string::npos);
}

TEST(Compare, CommandOnFilesAndDirectories)
{
    fs::path dir = fs::temp_directory_path() / ("tunsim-compare-" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "b");
    std::ofstream(dir / "a.json") << FullResult(ResultA()).dump(2);
    std::ofstream(dir / "b" / "result.json") << FullResult(ResultB()).dump(2);
    auto o = Tunsim("compare " + (dir / "a.json").string() + " " + (dir / "b").string());
    EXPECT_EQ(o.code, 0) << o.out;
    EXPECT_NE(o.out.find("flows[0].loss_ratio"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("-4.00"), std::string::npos) << o.out; // rel% of loss
    EXPECT_NE(o.out.find("kernel:"), std::string::npos) << o.out;

    auto csv = Tunsim("compare --csv --changed " + (dir / "a.json").string() + " " + (dir / "b").string());
    EXPECT_EQ(csv.code, 0);
    EXPECT_EQ(csv.out.rfind("metric,a,b,diff,rel\n", 0), 0u) << csv.out;
    EXPECT_EQ(csv.out.find("flows[0].sent_packets"), std::string::npos) << csv.out;
    EXPECT_NE(csv.out.find("tun.tx_dropped,500,480,-20,-4.00"), std::string::npos) << csv.out;

    EXPECT_EQ(Tunsim("compare " + (dir / "a.json").string()).code, 2);
    EXPECT_EQ(Tunsim("compare " + (dir / "a.json").string() + " " + (dir / "missing.json").string()).code, 2);
    std::ofstream(dir / "bad.json") << "{not json";
    auto bad = Tunsim("compare " + (dir / "a.json").string() + " " + (dir / "bad.json").string());
    EXPECT_EQ(bad.code, 2);
    EXPECT_NE(bad.out.find("not a result file"), std::string::npos) << bad.out;
    // JSON, but not a result: the first missing field is named
    std::ofstream(dir / "partial.json") << ResultA().dump(2);
    auto partial = Tunsim("compare " + (dir / "a.json").string() + " " + (dir / "partial.json").string());
    EXPECT_EQ(partial.code, 2);
    EXPECT_NE(partial.out.find("not a tunsim result: tunsim.git: missing"), std::string::npos) << partial.out;
    fs::remove_all(dir);
}
