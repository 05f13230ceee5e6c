// The tunsim program as a user meets it: exit codes, error messages naming
// the field, nothing written on bad input, results never half-written.
#include "test-support.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>

namespace fs = std::filesystem;

using tunsim_test::Outcome;
using tunsim_test::Shell;
using tunsim_test::Tunsim;

namespace
{



std::string
Scenario(const std::string& name)
{
    return std::string(TUNSIM_SOURCE_DIR) + "/scenarios/" + name;
}

class Cli : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        dir = fs::temp_directory_path() /
              ("tunsim-cli-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    void TearDown() override { fs::remove_all(dir); }

    std::string Write(const std::string& name, const std::string& text)
    {
        auto p = dir / name;
        std::ofstream(p) << text;
        return p.string();
    }

    fs::path dir;
};

} // namespace

TEST_F(Cli, HelpListAndVersion)
{
    auto h = Tunsim("--help");
    EXPECT_EQ(h.code, 0);
    EXPECT_NE(h.out.find("tunsim run SCENARIO.json"), std::string::npos);
    auto l = Tunsim("list");
    EXPECT_EQ(l.code, 0);
    for (const char* p : {"drop", "legacy-flowctl", "stop-if-nonempty", "nodrop-v2", "nodrop-v4", "nodrop-v6",
                          "nodrop-v8", "fq_codel", "pfifo_fast", "noqueue", "udp/bursts", "tcp"})
    {
        EXPECT_NE(l.out.find(p), std::string::npos) << p;
    }
    EXPECT_EQ(Tunsim("--version").code, 0);
}

TEST_F(Cli, RunWritesResultAndSummary)
{
    auto out = dir / "run";
    auto o = Tunsim("run " + Scenario("bursts.json") + " --set duration_s=0.1 --seed 7 --out " + out.string());
    ASSERT_EQ(o.code, 0) << o.out;
    EXPECT_NE(o.out.find("conservation: ok"), std::string::npos) << o.out;
    std::ifstream in(out / "result.json");
    auto r = nlohmann::json::parse(in);
    EXPECT_EQ(r["seed"].get<uint64_t>(), 7u);
    EXPECT_EQ(r["scenario"]["seed"].get<uint64_t>(), 7u);
    EXPECT_EQ(r["scenario"]["duration_s"].get<double>(), 0.1);
    EXPECT_TRUE(r["tunsim"].contains("version"));
    // no temporary files left behind
    for (const auto& e : fs::directory_iterator(out))
    {
        EXPECT_EQ(e.path().filename(), "result.json");
    }
}

TEST_F(Cli, ValidatePrintsResolvedScenario)
{
    auto o = Tunsim("validate " + Scenario("udp-flood.json") + " --set tun.ring_size=25");
    ASSERT_EQ(o.code, 0) << o.out;
    auto j = nlohmann::json::parse(o.out);
    EXPECT_EQ(j["tun"]["ring_size"].get<uint32_t>(), 25u);
}

struct BadCase
{
    const char* label;
    std::string args;     // after "run"
    const char* mustSay;  // part of the message
};

TEST_F(Cli, BadInputExitsTwoNamingTheFieldAndWritesNothing)
{
    std::string malformed = Write("malformed.json", "{ \"name\": \"x\",\n  \"duration_s\": 1,, }");
    std::string unknown = Write("unknown.json", R"({"flows":[{"kind":"udp"}],"tun":{"ring_sise":25}})");
    std::string range = Write("range.json", R"({"flows":[{"kind":"udp"}],"tun":{"ring_size":0}})");
    std::string policy = Write("policy.json", R"({"flows":[{"kind":"udp"}],"tun":{"policy":"nodrop-v9"}})");
    std::string type = Write("type.json", R"({"flows":[{"kind":"udp","payload_bytes":"big"}]})");
    std::vector<BadCase> cases = {
        {"malformed", malformed, "line 2"},
        {"unknown key", unknown, "tun.ring_sise"},
        {"out of range", range, "tun.ring_size"},
        {"unknown policy", policy, "nodrop-v8"}, // lists the allowed names
        {"wrong type", type, "flows[0].payload_bytes"},
        {"bad --set value", Scenario("udp-flood.json") + " --set qdisc.kind=cake", "qdisc.kind"},
        {"--set unknown key", Scenario("udp-flood.json") + " --set reader.speed=3", "reader.speed"},
        {"missing file", (dir / "nope.json").string(), "cannot read"},
        {"bad seed", Scenario("udp-flood.json") + " --seed 0", "seed"},
    };
    for (const auto& c : cases)
    {
        auto out = dir / "out-bad";
        auto o = Tunsim("run " + c.args + " --out " + out.string());
        EXPECT_EQ(o.code, 2) << c.label << ": " << o.out;
        EXPECT_NE(o.out.find(c.mustSay), std::string::npos) << c.label << ": " << o.out;
        EXPECT_FALSE(fs::exists(out)) << c.label << ": output written despite bad input";
    }
    EXPECT_EQ(Tunsim("frobnicate").code, 2);
    EXPECT_EQ(Tunsim("run").code, 2);
    EXPECT_EQ(Tunsim("run --bogus-flag x").code, 2);
}

TEST_F(Cli, BadInputLeavesAnEarlierResultIntact)
{
    auto out = dir / "keep";
    ASSERT_EQ(Tunsim("run " + Scenario("bursts.json") + " --set duration_s=0.05 --out " + out.string()).code, 0);
    std::ifstream a(out / "result.json");
    std::string before((std::istreambuf_iterator<char>(a)), std::istreambuf_iterator<char>());
    EXPECT_EQ(Tunsim("run " + Scenario("bursts.json") + " --set tun.ring_size=-1 --out " + out.string()).code, 2);
    std::ifstream b(out / "result.json");
    std::string after((std::istreambuf_iterator<char>(b)), std::istreambuf_iterator<char>());
    EXPECT_EQ(before, after);
}

TEST_F(Cli, TimeseriesOnlyWhenAsked)
{
    auto out = dir / "ts";
    ASSERT_EQ(Tunsim("run " + Scenario("bursts.json") + " --set duration_s=0.1 --timeseries 10 --out " + out.string()).code, 0);
    std::ifstream in(out / "timeseries.csv");
    std::string header;
    std::getline(in, header);
    EXPECT_EQ(header, "time_s,ring_occupancy,qdisc_backlog,txq_stopped,sender_wmem_bytes,cwnd_bytes,srtt_ms,bytes_in_flight");
    int rows = 0;
    for (std::string line; std::getline(in, line);)
    {
        ++rows;
    }
    EXPECT_EQ(rows, 10); // t = 0, 10, ..., 90 ms
    auto off = dir / "off";
    ASSERT_EQ(Tunsim("run " + Scenario("bursts.json") + " --set duration_s=0.1 --out " + off.string()).code, 0);
    EXPECT_FALSE(fs::exists(off / "timeseries.csv"));
    EXPECT_EQ(Tunsim("run " + Scenario("bursts.json") + " --timeseries 0 --out " + (dir / "bad").string()).code, 2);
}
