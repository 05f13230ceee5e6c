// Host profiles (sim/scenario/host-profile.h): a scenario takes the cost
// fields it does not set from a profile, explicit fields win, the resolved
// scenario says where each came from; bad profiles are exit-2 errors naming
// the field; a profile from another kernel is a warning (stale), not an
// error. The profile a test writes is built by calibrate::MakeProfile from
// hand-made measurements, as tunsim calibrate builds it.
#include "calibrate/calibrate.h"
#include "calibrate/host-measure.h"
#include "scenario/host-profile.h"
#include "scenario/scenario.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

using json = nlohmann::json;
using tunsim::ScenarioError;

namespace
{

namespace fs = std::filesystem;

/// The TCP twin's calibration (kernel::Calibrate) with round figures.
json
Twin()
{
    return {{"reader_write_ns", {{"mean_ns", 2400.0}}},
            {"sender_send_ns", {{"mean_ns", 3100.0}}},
            {"timer_wakeup_quantiles_us", {40.0, 42.0}}};
}

/// A profile of this kernel with round figures: the waking send() costs 30
/// us after 10 us idle, 60 us after 10 ms.
json
Profile()
{
    const json readPoll = {{"read_ns", 1500.0}, {"poll_ns", 700.0}};
    const json full = {{"send_full_ns", 1800.0}};
    const json running = {{"send_first_ns", 9000.0}, {"send_running_ns", 2500.0}};
    const json wake = {{"send_wake_ns", 30000.0},
                       {"send_wake_by_gap", json::array({{{"gap_us", 10}, {"send_ns", 30000.0}, {"samples", 5}},
                                                         {{"gap_us", 10000}, {"send_ns", 60000.0}, {"samples", 5}}})},
                       {"wakeup_by_sleep", json::array({{{"sleep_us_from", 0}, {"samples", 3},
                                                         {"wake_quantiles_us", {1.0, 2.0, 3.0}}},
                                                        {{"sleep_us_from", 200}, {"samples", 2},
                                                         {"wake_quantiles_us", {60.0, 80.0}}}})}};
    return tunsim::calibrate::MakeProfile(readPoll, full, running, wake, 1400, nullptr, Twin());
}

class HostProfile : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        dir = fs::temp_directory_path() / ("tunsim-profile-" + std::to_string(getpid()) + "-" +
                                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir);
    }
    void TearDown() override { fs::remove_all(dir); }

    std::string Write(const std::string& name, const std::string& text)
    {
        const fs::path p = dir / name;
        std::ofstream(p) << text;
        return p.string();
    }

    /// The scenario with host_profile = a file holding `profile`.
    tunsim::Scenario Load(const json& profile, json sc)
    {
        sc["host_profile"] = Write("p.json", profile.dump());
        return tunsim::ScenarioFromJson(sc);
    }

    /// The ScenarioError's field for this profile (fails if none).
    std::string FieldOf(const json& profile)
    {
        try
        {
            Load(profile, json::parse(R"({"flows": [{}]})"));
        }
        catch (const ScenarioError& e)
        {
            return e.Field();
        }
        ADD_FAILURE() << "accepted";
        return "";
    }

    /// tunsim validate SCENARIO (stderr and exit code).
    std::pair<int, std::string> Validate(const std::string& scenario, const std::string& extra = "")
    {
        const std::string err = (dir / "stderr.txt").string();
        const std::string cmd = std::string(TUNSIM_BINARY) + " validate " + scenario + " " + extra + " > /dev/null 2> " + err;
        const int st = std::system(cmd.c_str());
        std::ifstream in(err);
        return {WEXITSTATUS(st), std::string(std::istreambuf_iterator<char>(in), {})};
    }

    fs::path dir;
};

} // namespace

TEST_F(HostProfile, FillsWhatTheScenarioLeavesAndSaysWhereFrom)
{
    const auto s = Load(Profile(), json::parse(R"({"reader": {"poll_ns": 123},
        "flows": [{"send_cost_ns": 999}, {"kind": "tcp"}]})"));
    EXPECT_EQ(s.reader.readNs, 1500.0);
    EXPECT_EQ(s.reader.pollNs, 123.0) << "explicit fields win";
    EXPECT_EQ(s.flows[0].sendCostNs, 999.0);
    EXPECT_EQ(s.flows[0].sendCostFirstNs, 9000.0);
    EXPECT_EQ(s.flows[0].sendCostWakeNs, 30000.0);
    EXPECT_EQ(s.flows[0].sendCostRunningNs, 2500.0);
    EXPECT_EQ(s.flows[0].sendCostFullNs, 1800.0);
    EXPECT_EQ(s.flows[1].sendCostNs, 1000.0) << "a tcp flow has no send costs";
    ASSERT_EQ(s.reader.wakeupBySleep.size(), 2u);
    EXPECT_EQ(s.reader.wakeupBySleep[1].sleepUsFrom, 200.0);
    EXPECT_EQ(s.reader.wakeupBySleep[1].wakeQuantilesUs, (std::vector<double>{60.0, 80.0}));
    const json& p = s.provenance;
    EXPECT_EQ(p["reader.read_ns"], "profile");
    EXPECT_EQ(p["reader.poll_ns"], "scenario");
    EXPECT_EQ(p["flows[0].send_cost_ns"], "scenario");
    EXPECT_EQ(p["flows[0].send_cost_wake_ns"], "profile");
    EXPECT_EQ(p["reader.wakeup_by_sleep"], "profile");
    EXPECT_EQ(p["reader.per_packet_ns"], "default");
    EXPECT_FALSE(p.contains("flows[1].send_cost_ns"));
    // The resolved scenario names the profile and the provenance, and loads
    // back to the same scenario (every field explicit now).
    const json resolved = tunsim::ScenarioToJson(s);
    EXPECT_EQ(resolved["provenance"], p);
    const auto back = tunsim::ScenarioFromJson(resolved);
    EXPECT_EQ(tunsim::ScenarioToJson(back).erase("provenance"), json(resolved).erase("provenance"));
}

TEST_F(HostProfile, AScenariosOwnWakeUpKeepsTheProfilesBinsOut)
{
    const auto s = Load(Profile(), json::parse(R"({"reader": {"wakeup_latency_us": 3}, "flows": [{}]})"));
    EXPECT_TRUE(s.reader.wakeupBySleep.empty());
    EXPECT_EQ(s.reader.wakeupLatencyUs, 3.0);
    EXPECT_EQ(s.provenance["reader.wakeup_by_sleep"], "scenario");
}

TEST_F(HostProfile, BadProfilesNameTheField)
{
    json p = Profile();
    p["costs"].erase("send_wake_ns");
    EXPECT_EQ(FieldOf(p), "host_profile.costs.send_wake_ns");
    p = Profile();
    p["version"] = 99;
    EXPECT_EQ(FieldOf(p), "host_profile.version");
    p = Profile();
    p["format"] = "something else";
    EXPECT_EQ(FieldOf(p), "host_profile.format");
    p = Profile();
    p["costs"]["read_ns"] = -1;
    EXPECT_EQ(FieldOf(p), "host_profile.costs.read_ns");
    p = Profile();
    p["wakeup_by_sleep"][0]["sleep_us_from"] = 5;
    EXPECT_EQ(FieldOf(p), "host_profile.wakeup_by_sleep[0].sleep_us_from");
    p = Profile();
    p.erase("kernel");
    EXPECT_EQ(FieldOf(p), "host_profile.kernel");
}

TEST_F(HostProfile, ExitTwoNamingTheFieldAndAWarningForAnotherKernel)
{
    json bad = Profile();
    bad["costs"].erase("poll_ns");
    const std::string badFile = Write("bad.json", bad.dump());
    const std::string sc = Write("sc.json", R"({"flows": [{}]})");
    auto [code, err] = Validate(sc, "--set host_profile=" + badFile);
    EXPECT_EQ(code, 2);
    EXPECT_NE(err.find("host_profile.costs.poll_ns"), std::string::npos) << err;
    auto [code2, err2] = Validate(sc, "--set host_profile=" + Write("garbage.json", "{not json"));
    EXPECT_EQ(code2, 2);
    EXPECT_NE(err2.find("not valid JSON"), std::string::npos) << err2;

    json other = Profile();
    other["kernel"] = "2.6.32-ancient";
    auto [code3, err3] = Validate(sc, "--set host_profile=" + Write("other.json", other.dump()));
    EXPECT_EQ(code3, 0) << err3;
    EXPECT_NE(err3.find("stale"), std::string::npos) << err3;
    auto [code4, err4] = Validate(sc, "--set host_profile=" + Write("same.json", Profile().dump()));
    EXPECT_EQ(code4, 0);
    EXPECT_EQ(err4.find("stale"), std::string::npos) << "this kernel's profile is not stale: " << err4;
}

TEST_F(HostProfile, RunProfileOptionIsTheSameAsTheKey)
{
    const std::string prof = Write("p.json", Profile().dump());
    const std::string sc = Write("sc.json", R"({"name": "p", "duration_s": 0.01, "flows": [{"mode": "bursts"}]})");
    const std::string out = (dir / "out").string();
    const std::string cmd = std::string(TUNSIM_BINARY) + " run " + sc + " --profile " + prof + " --out " + out + " -q";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    std::ifstream in(out + "/result.json");
    const json r = json::parse(in);
    EXPECT_EQ(r["scenario"]["host_profile"], prof);
    EXPECT_EQ(r["scenario"]["flows"][0]["send_cost_first_ns"], 9000.0);
    EXPECT_EQ(r["scenario"]["provenance"]["flows[0].send_cost_first_ns"], "profile");
}

TEST(WakeBins, MergesSmallBinsAndStartsAtZero)
{
    // 30 sleeps of 20 us (bin [10, 50)) waking in 1..30 us, 3 of 2 ms (bin
    // [1000, 5000): too few, merged into the bin before it), none below 10
    // us: one bin from 0 holding all 33.
    std::vector<std::pair<int64_t, int64_t>> pairs;
    for (int i = 1; i <= 30; ++i)
    {
        pairs.emplace_back(20000, i * 1000);
    }
    for (int i = 0; i < 3; ++i)
    {
        pairs.emplace_back(2000000, 90000);
    }
    const json bins = tunsim::calibrate::WakeBins(pairs, 20);
    ASSERT_EQ(bins.size(), 1u);
    EXPECT_EQ(bins[0]["sleep_us_from"], 0);
    EXPECT_EQ(bins[0]["samples"], 33);
    EXPECT_EQ(bins[0]["wake_quantiles_us"].size(), 100u);
    EXPECT_EQ(bins[0]["wake_quantiles_us"][99], 90.0);
    // With enough long sleeps they get a bin of their own.
    for (int i = 0; i < 30; ++i)
    {
        pairs.emplace_back(2000000, 70000);
    }
    const json two = tunsim::calibrate::WakeBins(pairs, 20);
    ASSERT_EQ(two.size(), 2u);
    EXPECT_EQ(two[1]["sleep_us_from"], 1000);
    EXPECT_EQ(two[1]["samples"], 33);
    EXPECT_EQ(two[1]["wake_quantiles_us"][0], 70.0);
}

TEST_F(HostProfile, ABusyReadersLostCpuFillsThePreemptionFieldsUnlessTheScenarioSetsThem)
{
    // tunsim calibrate's flooded reader: every 0.8 ms of busy time it lost
    // its CPU for 50 us on average.
    json p = Profile();
    EXPECT_FALSE(p.contains("scheduling")); // no such measurement given
    p = tunsim::calibrate::MakeProfile({{"read_ns", 1500.0}, {"poll_ns", 700.0}}, {{"send_full_ns", 1800.0}},
                                       {{"send_first_ns", 9000.0}, {"send_running_ns", 2500.0}},
                                       Profile()["measurements"]["sleeping_reader"], 1400,
                                       {{"preempt_interval_ms", 0.8}, {"preempt_ms", 0.05}}, Twin());
    tunsim::Scenario s = Load(p, json::parse(R"({"flows": [{}]})"));
    EXPECT_DOUBLE_EQ(s.reader.preemptIntervalMs, 0.8);
    EXPECT_DOUBLE_EQ(s.reader.preemptMs, 0.05);
    s = Load(p, json::parse(R"({"reader": {"preempt_ms": 2, "preempt_interval_ms": 100}, "flows": [{}]})"));
    EXPECT_DOUBLE_EQ(s.reader.preemptIntervalMs, 100); // the scenario's own win
    EXPECT_DOUBLE_EQ(s.reader.preemptMs, 2);
    p["scheduling"]["preempt_ms"] = 0; // one without the other
    EXPECT_EQ(FieldOf(p), "host_profile.scheduling");
    p["scheduling"]["preempt_ms"] = -1;
    EXPECT_EQ(FieldOf(p), "host_profile.scheduling.preempt_ms");
}

TEST(WakeBins, LeavesOutTheDatagramsThePollSawBeforeItBlocked)
{
    // 25 sleeps below the poll window (1.4 us; -3 us and 1 us, waking in
    // 2 us: the poll() saw them) and 25 of 5 us waking in 40 us. With the
    // window only the real wake-ups remain; without it (version 1) all.
    std::vector<std::pair<int64_t, int64_t>> pairs;
    for (int i = 0; i < 25; ++i)
    {
        pairs.emplace_back(i % 2 ? -3000 : 1000, 2000);
        pairs.emplace_back(5000, 40000);
    }
    const json real = tunsim::calibrate::WakeBins(pairs, 20, 1400);
    ASSERT_EQ(real.size(), 1u);
    EXPECT_EQ(real[0]["sleep_us_from"], 0);
    EXPECT_EQ(real[0]["samples"], 25);
    EXPECT_EQ(real[0]["wake_quantiles_us"][0], 40.0);
    // Without it (version 1) all; the edges at 2 and 5 us (version 3) give
    // the sleeps under 2 us and those of 5 us a bin each.
    const json all = tunsim::calibrate::WakeBins(pairs, 20);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0]["samples"], 25);
    EXPECT_EQ(all[0]["wake_quantiles_us"][0], 2.0);
    EXPECT_EQ(all[1]["sleep_us_from"], 5);
    EXPECT_EQ(all[1]["samples"], 25);
    EXPECT_EQ(all[1]["wake_quantiles_us"][0], 40.0);
}

namespace
{

/// A version-1 profile: bin 0 of `samples` sleeps (quantiles 1, 1, 2, 2, 3,
/// 40 .. 44 us, counted from the waking send()'s return), of which `seen`
/// slept under 2 us in the twin's histogram; the waking send()'s median is
/// 20 us (its mean, costs.send_wake_ns, 30 us).
json
VersionOne(int samples, int seen)
{
    json p = Profile();
    p["version"] = 1;
    p["wakeup_by_sleep"][0]["samples"] = samples;
    p["wakeup_by_sleep"][0]["wake_quantiles_us"] = {1.0, 1.0, 2.0, 2.0, 3.0, 40.0, 41.0, 42.0, 43.0, 44.0};
    json& sr = p["measurements"]["sleeping_reader"];
    sr["wake_by_sleep"]["histogram"] =
        json::array({{{"sleep_us_from", "-inf"}, {"sleep_us_to", 2.0}, {"samples", seen}},
                     {{"sleep_us_from", 2.0}, {"sleep_us_to", 5.0}, {"samples", samples - seen}}});
    sr["send_wake"] = {{"p50_ns", 20000.0}, {"mean_ns", 30000.0}};
    return p;
}

} // namespace

TEST_F(HostProfile, VersionOneIsConvertedToRealWakeUpsFromTheSendsStart)
{
    // 10 of 20 slept under 2 us: the 5 lowest of the 10 quantiles go (the
    // poll() saw those datagrams: no wake-up); the rest gain the median
    // waking send(), 20 us (version 1 counted from its return).
    tunsim::Scenario s = Load(VersionOne(20, 10), json::parse(R"({"flows": [{}]})"));
    ASSERT_EQ(s.reader.wakeupBySleep.size(), 2u);
    EXPECT_EQ(s.reader.wakeupBySleep[0].sleepUsFrom, 0.0);
    EXPECT_EQ(s.reader.wakeupBySleep[0].wakeQuantilesUs, (std::vector<double>{60.0, 61.0, 62.0, 63.0, 64.0}));
    EXPECT_EQ(s.reader.wakeupBySleep[1].wakeQuantilesUs, (std::vector<double>{80.0, 100.0}));
    // 18 of 20: fewer than 5 real wake-ups left, the bin goes and the next
    // one starts at 0.
    s = Load(VersionOne(20, 18), json::parse(R"({"flows": [{}]})"));
    ASSERT_EQ(s.reader.wakeupBySleep.size(), 1u);
    EXPECT_EQ(s.reader.wakeupBySleep[0].sleepUsFrom, 0.0);
    EXPECT_EQ(s.reader.wakeupBySleep[0].wakeQuantilesUs, (std::vector<double>{80.0, 100.0}));
    // Without the twin's histogram and the send's median: no bin dropped,
    // the mean waking send (30 us) added.
    json bare = VersionOne(20, 10);
    bare["measurements"].erase("sleeping_reader");
    s = Load(bare, json::parse(R"({"flows": [{}]})"));
    EXPECT_EQ(s.reader.wakeupBySleep[0].wakeQuantilesUs.size(), 10u);
    EXPECT_EQ(s.reader.wakeupBySleep[0].wakeQuantilesUs[0], 31.0);
    // A version-2 (and 3, 4) profile's bins are used as they are; version 5 is unknown.
    s = Load(Profile(), json::parse(R"({"flows": [{}]})"));
    EXPECT_EQ(s.reader.wakeupBySleep[0].wakeQuantilesUs, (std::vector<double>{1.0, 2.0, 3.0}));
    json p = Profile();
    p["version"] = 2;
    s = Load(p, json::parse(R"({"flows": [{}]})"));
    EXPECT_EQ(s.reader.wakeupBySleep[0].wakeQuantilesUs, (std::vector<double>{1.0, 2.0, 3.0}));
    p["version"] = 5;
    EXPECT_EQ(FieldOf(p), "host_profile.version");
}

TEST_F(HostProfile, TheWakingSendsCostByIdleTimeFillsEachUdpFlowUnlessItSetsItsOwn)
{
    // send_wake_by_gap 10 us: 30 us, 10 ms: 60 us -> bins from 0 (any idle
    // time below 10 ms, a send inside a burst too) and from 10 ms.
    auto s = Load(Profile(), json::parse(R"({"flows": [{}, {"send_cost_wake_ns": 5000}]})"));
    ASSERT_EQ(s.flows[0].sendCostWakeByIdle.size(), 2u);
    EXPECT_EQ(s.flows[0].sendCostWakeByIdle[0].idleUsFrom, 0.0);
    EXPECT_EQ(s.flows[0].sendCostWakeByIdle[0].sendNs, 30000.0);
    EXPECT_EQ(s.flows[0].sendCostWakeByIdle[1].idleUsFrom, 10000.0);
    EXPECT_EQ(s.flows[0].sendCostWakeByIdle[1].sendNs, 60000.0);
    EXPECT_EQ(s.provenance["flows[0].send_cost_wake_by_idle"], "profile");
    EXPECT_TRUE(s.flows[1].sendCostWakeByIdle.empty()) << "the flow's own wake cost keeps the table out";
    EXPECT_EQ(s.flows[1].sendCostWakeNs, 5000.0);
    EXPECT_EQ(s.provenance["flows[1].send_cost_wake_by_idle"], "scenario");
    // A udp scenario keeps the wake-up bins; the write() costs are filled
    // (used only by packets written back into tun).
    EXPECT_EQ(s.reader.wakeupBySleep.size(), 2u);
    EXPECT_TRUE(s.reader.wakeupQuantilesUs.empty());
    EXPECT_EQ(s.reader.writeNs, 2400.0);
    EXPECT_EQ(s.reader.writeXmitNs, 3100.0);
    EXPECT_TRUE(s.underlay.peerWakeupQuantilesUs.empty());
}

TEST_F(HostProfile, ATcpScenarioTakesTheTimerWakeUpsAndTheWriteCosts)
{
    // As validate-kernel-tcp.sh's sim-cal/ scenarios: reader.write_ns =
    // the twin's write(), write_xmit_ns = its send(), the timer wake-ups
    // for the reader and the far end.
    auto s = Load(Profile(), json::parse(R"({"flows": [{"kind": "tcp"}]})"));
    EXPECT_EQ(s.reader.writeNs, 2400.0);
    EXPECT_EQ(s.reader.writeXmitNs, 3100.0);
    EXPECT_EQ(s.reader.wakeupQuantilesUs, (std::vector<double>{40.0, 42.0}));
    EXPECT_TRUE(s.reader.wakeupBySleep.empty());
    EXPECT_EQ(s.underlay.peerWakeupQuantilesUs, (std::vector<double>{40.0, 42.0}));
    EXPECT_EQ(s.provenance["reader.wakeup_quantiles_us"], "profile");
    EXPECT_EQ(s.provenance["reader.write_ns"], "profile");
    EXPECT_EQ(s.provenance["underlay.peer_wakeup_quantiles_us"], "profile");
    EXPECT_EQ(s.underlay.peerWriteNs, 2400.0); // the far end's write(): the same receive path
    EXPECT_EQ(s.provenance["underlay.peer_write_ns"], "profile");
    // Explicit fields win.
    s = Load(Profile(), json::parse(R"({"reader": {"write_ns": 7, "wakeup_latency_us": 3},
        "underlay": {"peer_wakeup_quantiles_us": [9]}, "flows": [{"kind": "tcp"}]})"));
    EXPECT_EQ(s.reader.writeNs, 7.0);
    EXPECT_EQ(s.reader.writeXmitNs, 3100.0);
    EXPECT_TRUE(s.reader.wakeupQuantilesUs.empty());
    EXPECT_EQ(s.reader.wakeupLatencyUs, 3.0);
    EXPECT_EQ(s.underlay.peerWakeupQuantilesUs, (std::vector<double>{9.0}));
    EXPECT_EQ(s.provenance["reader.wakeup_quantiles_us"], "scenario");
    EXPECT_EQ(s.underlay.peerWriteNs, 2400.0);
}

TEST_F(HostProfile, BadVersionThreeFieldsNameTheField)
{
    json p = Profile();
    EXPECT_EQ(p["version"], 4);
    p["costs"].erase("write_ns"); // one write cost without the other
    EXPECT_EQ(FieldOf(p), "host_profile.costs.write_ns");
    p["costs"]["write_ns"] = -1;
    EXPECT_EQ(FieldOf(p), "host_profile.costs.write_ns");
    p = Profile();
    p["timer_wakeup_quantiles_us"] = json::array();
    EXPECT_EQ(FieldOf(p), "host_profile.timer_wakeup_quantiles_us");
    p = Profile();
    p["send_wake_by_gap"][1]["gap_us"] = 5;
    EXPECT_EQ(FieldOf(p), "host_profile.send_wake_by_gap[1].gap_us");
    p = Profile();
    p["send_wake_by_gap"][0]["send_ns"] = "fast";
    EXPECT_EQ(FieldOf(p), "host_profile.send_wake_by_gap[0].send_ns");
    p = Profile();
    p.erase("send_wake_by_gap");
    EXPECT_EQ(FieldOf(p), "host_profile.send_wake_by_gap");
}

TEST_F(HostProfile, VersionTwoTakesTheWakingSendsByGapFromItsMeasurements)
{
    // A version-2 profile: no send_wake_by_gap, write() or timer wake-ups;
    // its sleeping reader's by_gap (10 us: 40 us; 30 us: no samples; 100 us:
    // only 3, too few; 10 ms: 80 us) gives the table, and a tcp scenario
    // keeps its own (default) write and wake-up fields.
    json p = Profile();
    p["version"] = 2;
    p.erase("send_wake_by_gap");
    p.erase("timer_wakeup_quantiles_us");
    p["costs"].erase("write_ns");
    p["costs"].erase("write_xmit_ns");
    p["measurements"]["sleeping_reader"]["by_gap"] =
        json::array({{{"gap_us", 10}, {"send", {{"mean_ns", 40000.0}, {"samples", 15}}}},
                     {{"gap_us", 30}, {"send", {{"mean_ns", nullptr}, {"samples", 0}}}},
                     {{"gap_us", 100}, {"send", {{"mean_ns", 99999.0}, {"samples", 3}}}},
                     {{"gap_us", 10000}, {"send", {{"mean_ns", 80000.0}, {"samples", 600}}}}});
    auto s = Load(p, json::parse(R"({"flows": [{}]})"));
    ASSERT_EQ(s.flows[0].sendCostWakeByIdle.size(), 2u);
    EXPECT_EQ(s.flows[0].sendCostWakeByIdle[0].sendNs, 40000.0);
    EXPECT_EQ(s.flows[0].sendCostWakeByIdle[1].idleUsFrom, 10000.0);
    EXPECT_EQ(s.flows[0].sendCostWakeByIdle[1].sendNs, 80000.0);
    const tunsim::Scenario dflt = tunsim::ScenarioFromJson(json::parse(R"({"flows": [{"kind": "tcp"}]})"));
    s = Load(p, json::parse(R"({"flows": [{"kind": "tcp"}]})"));
    EXPECT_EQ(s.reader.writeNs, dflt.reader.writeNs);
    EXPECT_TRUE(s.reader.wakeupQuantilesUs.empty());
    EXPECT_EQ(s.reader.wakeupBySleep.size(), 2u);
    EXPECT_FALSE(s.provenance.contains("reader.write_ns"));
    // Without by_gap either: no table, send_cost_wake_ns alone.
    p["measurements"]["sleeping_reader"].erase("by_gap");
    s = Load(p, json::parse(R"({"flows": [{}]})"));
    EXPECT_TRUE(s.flows[0].sendCostWakeByIdle.empty());
    EXPECT_EQ(s.flows[0].sendCostWakeNs, 30000.0);
}

TEST_F(HostProfile, AReaderCostMeasuredOnlySinceVersionThreeFillsItsFieldWhenThere)
{
    // costs.read_empty_ns (the read() that finds the ring empty) and
    // costs.poll_block_ns (the poll() that may block): tunsim calibrate
    // leaves them out when their measurement had no sample.
    struct Case
    {
        const char* key;
        double tunsim::ReaderConfig::*field;
        double unset;
    };
    for (const Case& c : {Case{"read_empty_ns", &tunsim::ReaderConfig::readEmptyNs, 0.0},
                          Case{"poll_block_ns", &tunsim::ReaderConfig::pollBlockNs, -1.0}})
    {
        SCOPED_TRACE(c.key);
        const std::string field = std::string("reader.") + c.key;
        json p = Profile();
        auto s = Load(p, json::parse(R"({"flows": [{}]})"));
        EXPECT_EQ(s.reader.*c.field, c.unset) << "not measured: the default";
        EXPECT_FALSE(s.provenance.contains(field));
        p["costs"][c.key] = 800.0;
        s = Load(p, json::parse(R"({"flows": [{}]})"));
        EXPECT_EQ(s.reader.*c.field, 800.0);
        EXPECT_EQ(s.provenance[field], "profile");
        s = Load(p, json::parse(std::string(R"({"reader": {")") + c.key + R"(": 5}, "flows": [{}]})"));
        EXPECT_EQ(s.reader.*c.field, 5.0);
        EXPECT_EQ(s.provenance[field], "scenario");
        p["costs"][c.key] = -5;
        EXPECT_EQ(FieldOf(p), std::string("host_profile.costs.") + c.key);
    }
}

TEST_F(HostProfile, TheLandingFillsEachUdpFlowAndVersionFourNeedsIt)
{
    json p = Profile();
    EXPECT_EQ(p["version"], 4);
    EXPECT_EQ(p["costs"]["send_enqueue_ns"], 0.0) << "MeasureRunning without samples: from the send()'s start";
    p["costs"]["send_enqueue_ns"] = 2600.0;
    auto s = Load(p, json::parse(R"({"flows": [{}, {"kind": "tcp"}, {"send_enqueue_ns": 100}]})"));
    EXPECT_EQ(s.flows[0].sendEnqueueNs, 2600.0);
    EXPECT_EQ(s.provenance["flows[0].send_enqueue_ns"], "profile");
    EXPECT_EQ(s.flows[1].sendEnqueueNs, 0.0) << "a tcp flow has none";
    EXPECT_FALSE(s.provenance.contains("flows[1].send_enqueue_ns"));
    EXPECT_EQ(s.flows[2].sendEnqueueNs, 100.0) << "the scenario's own wins";
    EXPECT_EQ(s.provenance["flows[2].send_enqueue_ns"], "scenario");
    // Version 4 needs it (its bins count from it); version 3 did without.
    p["costs"].erase("send_enqueue_ns");
    EXPECT_EQ(FieldOf(p), "host_profile.costs.send_enqueue_ns");
    p["version"] = 3;
    s = Load(p, json::parse(R"({"flows": [{}]})"));
    EXPECT_EQ(s.flows[0].sendEnqueueNs, 0.0);
    p["version"] = 4;
    p["costs"]["send_enqueue_ns"] = -1;
    EXPECT_EQ(FieldOf(p), "host_profile.costs.send_enqueue_ns");
}

TEST(CalibrateHostState, TheFullRingSendMeasuredFirstAndLastSaysWhetherTheHostStayedInOneState)
{
    // The project VM's two states: a full-ring send() of 2.3 us or 3.3 us.
    const json same = tunsim::calibrate::HostState({{"send_full_ns", 2300.0}}, {{"send_full_ns", 2415.0}}, 15.0);
    EXPECT_NEAR(same["drift_pct"].get<double>(), 5.0, 1e-9);
    EXPECT_TRUE(same["steady"].get<bool>());
    const json switched = tunsim::calibrate::HostState({{"send_full_ns", 2300.0}}, {{"send_full_ns", 3300.0}}, 15.0);
    EXPECT_NEAR(switched["drift_pct"].get<double>(), 100.0 * (3300.0 / 2300.0 - 1.0), 1e-9);
    EXPECT_FALSE(switched["steady"].get<bool>());
    const json back = tunsim::calibrate::HostState({{"send_full_ns", 3300.0}}, {{"send_full_ns", 2300.0}}, 15.0);
    EXPECT_FALSE(back["steady"].get<bool>()) << "either direction";
    EXPECT_TRUE(tunsim::calibrate::HostState({{"send_full_ns", 0.0}}, {{"send_full_ns", 2300.0}}, 15.0).is_null())
        << "no samples: no state";
}
