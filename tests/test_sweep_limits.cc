// tunsim sweep / merge against misuse (issue 16): counts parsed as bounded
// integers, one sweep at a time per directory, a time limit per run, and
// merge of a directory whose sweep.json is not a manifest, or does not
// belong to its results; and which of two results of one run merge keeps.
// Short runs: scenarios/bursts.json, 50 ms simulated.
#include "sweep/lock.h"
#include "sweep/plan.h"
#include "sweep/runner.h"

#include "test-support.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

using namespace tunsim_test; // Tunsim, ReadText, ReadJson, WriteJson, FreshTestDir

namespace
{

const std::string kScenario = std::string(TUNSIM_SOURCE_DIR) + "/scenarios/bursts.json";
const std::string kShort = " --set duration_s=0.05 ";

double
SecondsSince(std::chrono::steady_clock::time_point t)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

class SweepLimits : public ::testing::Test
{
  protected:
    void SetUp() override { dir = FreshTestDir("tunsim-sweeplim-"); }
    void TearDown() override { fs::remove_all(dir); }

    /// A finished two-point sweep in dir/NAME.
    void SmallSweep(const std::string& name, const std::string& scenario = kScenario)
    {
        auto o = Tunsim("sweep " + scenario + kShort + "--vary tun.ring_size=10,25 -q --out " + (dir / name).string());
        ASSERT_EQ(o.code, 0) << o.out;
    }

    fs::path dir;
};

} // namespace

TEST_F(SweepLimits, CountsAreBoundedIntegersNamedInTheMessage)
{
    const std::string base = "sweep " + kScenario + kShort + "--vary tun.ring_size=10 -q --out " + (dir / "s").string();
    const struct
    {
        const char* args;
        const char* message;
    } cases[] = {
        // -1 and --jobs -1 / 100000: test_robustness.cc (the reproducers)
        {"--seeds 0", "--seeds: must be an integer in [1, 100000]"},
        {"--seeds 1.5", "--seeds: must be an integer"},
        {"--seeds 99999999999999999999999", "--seeds: must be an integer"},
        {"--jobs 0", "--jobs: must be an integer"},
        {"--run-timeout 0", "--run-timeout: must be a number in [0.1, 1e7]"},
        {"--run-timeout inf", "--run-timeout: must be a number"},
        {"--run-timeout -5", "--run-timeout: must be a number"},
    };
    for (const auto& c : cases)
    {
        const auto start = std::chrono::steady_clock::now();
        auto o = Tunsim(base + " " + c.args);
        EXPECT_EQ(o.code, 2) << c.args << "\n" << o.out;
        EXPECT_NE(o.out.find(c.message), std::string::npos) << c.args << "\n" << o.out;
        EXPECT_LT(SecondsSince(start), 10.0) << c.args;
        EXPECT_FALSE(fs::exists(dir / "s")) << c.args << ": nothing is written";
    }
    // Points x seeds beyond 100000 runs: refused before anything is resolved.
    auto o = Tunsim("sweep " + kScenario + " --vary tun.ring_size=1,2,3,4,5,6,7,8,9,10 --seeds 10001 -q --out " +
                    (dir / "s").string());
    EXPECT_EQ(o.code, 2) << o.out;
    EXPECT_NE(o.out.find("10 points x 10001 seeds is more than 100000 runs"), std::string::npos) << o.out;
}

TEST_F(SweepLimits, ASecondSweepIntoALockedDirectoryIsRefused)
{
    fs::create_directories(dir / "s");
    {
        const tunsim::sweep::SweepLock held(dir / "s"); // as a sweep in progress holds it
        auto o = Tunsim("sweep " + kScenario + kShort + "-q --out " + (dir / "s").string());
        EXPECT_EQ(o.code, 2) << o.out;
        EXPECT_NE(o.out.find("is in use by another tunsim sweep (pid " + std::to_string(getpid()) + ")"),
                  std::string::npos)
            << o.out;
        EXPECT_FALSE(fs::exists(dir / "s" / "sweep.json"));
        EXPECT_THROW(tunsim::sweep::SweepLock again(dir / "s"), tunsim::BadInput);
    }
    // Released with its holder: the next sweep runs.
    auto o = Tunsim("sweep " + kScenario + kShort + "-q --out " + (dir / "s").string());
    EXPECT_EQ(o.code, 0) << o.out;
}

TEST_F(SweepLimits, ARunPastItsTimeLimitIsKilledAndTheOthersGoOn)
{
    // A stand-in for tunsim whose ring-25 run hangs (ignoring its
    // --max-wall-s); the other runs are real.
    const fs::path exe = dir / "hanging-tunsim";
    std::ofstream(exe) << "#!/bin/sh\ncase \"$*\" in *tun.ring_size=25*) exec sleep 600;; esac\nexec "
                       << TUNSIM_BINARY << " \"$@\"\n";
    fs::permissions(exe, fs::perms::owner_all);
    tunsim::sweep::Plan plan = tunsim::sweep::MakePlan(kScenario, {"duration_s=0.05"}, {"tun.ring_size=10,25,50"}, 1);
    plan.runTimeoutS = 0.5;
    const auto args = tunsim::sweep::RunArgs(plan, plan.runs[0]);
    EXPECT_EQ(args[args.size() - 2], "--max-wall-s");
    EXPECT_EQ(args.back(), "0.5");
    EXPECT_DOUBLE_EQ(tunsim::sweep::KillAfterS(0.5), 2.5);  // a grace of at least 2 s
    EXPECT_DOUBLE_EQ(tunsim::sweep::KillAfterS(3600), 3660); // at most 60 s
    tunsim::sweep::WritePlanFiles(plan, dir);

    const auto start = std::chrono::steady_clock::now();
    const auto out = tunsim::sweep::RunPlan(plan, dir, {exe.string(), 3, true});
    EXPECT_LT(SecondsSince(start), 20.0);
    ASSERT_EQ(out.failures.size(), 1u);
    EXPECT_EQ(plan.points[plan.runs[out.failures[0].run].point].id, "tun.ring_size=25");
    EXPECT_NE(out.failures[0].status.find("timed out: no exit 2.5 s after its start (--run-timeout 0.5 s + grace)"),
              std::string::npos)
        << out.failures[0].status;
    EXPECT_NE(out.failures[0].status.find("killed by signal 9"), std::string::npos) << out.failures[0].status;
    EXPECT_TRUE(fs::exists(dir / "points" / "tun.ring_size=10" / "seed-1" / "result.json"));
    EXPECT_TRUE(fs::exists(dir / "points" / "tun.ring_size=50" / "seed-1" / "result.json"));
}

TEST_F(SweepLimits, ARunStoppedByItsBudgetIsAFailureAndRunsAgainOnResume)
{
    const std::string args = "sweep " + kScenario + " --set duration_s=1000 --vary tun.ring_size=10 --run-timeout 0.3 --out " +
                             (dir / "s").string();
    auto o = Tunsim(args);
    EXPECT_EQ(o.code, 4) << o.out;
    EXPECT_NE(o.out.find("exit status 5 (stopped by its budget"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("max-wall-s: 0.3 s of wall time used"), std::string::npos) << o.out;
    // Its partial result is not a complete run: the next sweep runs it again.
    o = Tunsim(args);
    EXPECT_EQ(o.code, 4) << o.out;
    EXPECT_NE(o.out.find("0 already complete, 1 to run"), std::string::npos) << o.out;
}

TEST_F(SweepLimits, AManifestWithoutItsFieldsIsBadInputNamingTheField)
{
    SmallSweep("s");
    const nlohmann::json good = ReadJson(dir / "s" / "sweep.json");
    const struct
    {
        const char* field;
        nlohmann::json value; ///< null: removed
        const char* message;
    } cases[] = {
        {"seeds", nullptr, "sweep.json: seeds: missing; a sweep.json has keys, points and seeds"},
        {"keys", nullptr, "sweep.json: keys: missing"},
        {"points", nullptr, "sweep.json: points: missing"},
        {"seeds", {-1}, "sweep.json: seeds: must be an array of non-negative integers"},
        {"keys", {1}, "sweep.json: keys: must be an array of key names"},
        {"points", {{{"index", 0}}}, "sweep.json: points: must be an array of {\"id\": ...} objects"},
    };
    for (const auto& c : cases)
    {
        nlohmann::json m = good;
        if (c.value.is_null())
        {
            m.erase(c.field);
        }
        else
        {
            m[c.field] = c.value;
        }
        WriteJson(dir / "s" / "sweep.json", m);
        auto o = Tunsim("merge " + (dir / "s").string() + " --out " + (dir / "m").string());
        EXPECT_EQ(o.code, 2) << c.message << "\n" << o.out;
        EXPECT_NE(o.out.find(c.message), std::string::npos) << o.out;
        EXPECT_FALSE(fs::exists(dir / "m")) << c.message;
    }
    std::ofstream(dir / "s" / "sweep.json") << std::string(100000, '[');
    auto o = Tunsim("merge " + (dir / "s").string());
    EXPECT_EQ(o.code, 2) << o.out;
    EXPECT_NE(o.out.find("sweep.json: not a sweep manifest"), std::string::npos) << o.out;
}

TEST_F(SweepLimits, MergeKeepsTheResultOfTheFirstDirectoryGiven)
{
    // docs/sweep.md: "the first is kept (DIRs in argument order, files
    // sorted by path)": with b before a, b's copy wins although a sorts first.
    SmallSweep("a");
    fs::copy(dir / "a", dir / "b", fs::copy_options::recursive);
    const fs::path changed = dir / "b" / "points" / "tun.ring_size=10" / "seed-1" / "result.json";
    nlohmann::json j = ReadJson(changed);
    j["flows"][0]["goodput_mbps"] = 1.5;
    WriteJson(changed, j);
    auto o = Tunsim("merge " + (dir / "b").string() + " " + (dir / "a").string() + " --out " + (dir / "ba").string());
    EXPECT_EQ(o.code, 0) << o.out;
    EXPECT_NE(ReadText(dir / "ba" / "results.csv").find(",1.5,"), std::string::npos);
    EXPECT_NE(o.out.find((dir / "a" / "points" / "tun.ring_size=10" / "seed-1" / "result.json").string() +
                         ": point tun.ring_size=10 seed 1 was already read from another file with different results; "
                         "kept the first"),
              std::string::npos)
        << o.out;
    o = Tunsim("merge " + (dir / "a").string() + " " + (dir / "b").string() + " --out " + (dir / "ab").string());
    EXPECT_EQ(o.code, 0) << o.out;
    EXPECT_EQ(ReadText(dir / "ab" / "results.csv").find(",1.5,"), std::string::npos);
}

TEST_F(SweepLimits, MergeDoesNotAssignAnotherSweepsResultsToThePoints)
{
    // Two sweeps with the same point ids into one directory, the manifest of
    // the first left with the results of the second (as two concurrent
    // sweeps could leave it before the lock): nothing is assigned.
    SmallSweep("s");
    const std::string first = ReadText(dir / "s" / "sweep.json");
    EXPECT_NE(first.find("\"scenario_digest\""), std::string::npos);
    SmallSweep("s", std::string(TUNSIM_SOURCE_DIR) + "/scenarios/udp-flood.json");
    std::ofstream(dir / "s" / "sweep.json") << first;
    auto o = Tunsim("merge " + (dir / "s").string() + " --out " + (dir / "m").string());
    EXPECT_EQ(o.code, 4) << o.out;
    EXPECT_NE(o.out.find("2 results are not of the scenario their point has in sweep.json"), std::string::npos)
        << o.out;
    EXPECT_NE(o.out.find("2 runs listed in sweep.json have no result"), std::string::npos) << o.out;
    const std::string csv = ReadText(dir / "m" / "results.csv");
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1) << "header only:\n" << csv;
    // The digest is the resolved scenario's without its seed.
    const nlohmann::json result = ReadJson(dir / "s" / "points" / "tun.ring_size=10" / "seed-1" / "result.json");
    nlohmann::json other = result["scenario"];
    other["seed"] = 99;
    EXPECT_EQ(tunsim::ScenarioDigest(result["scenario"]), tunsim::ScenarioDigest(other));
    other["duration_s"] = 0.06;
    EXPECT_NE(tunsim::ScenarioDigest(result["scenario"]), tunsim::ScenarioDigest(other));
}
