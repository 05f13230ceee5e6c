// tunsim sweep / merge as a user meets them: a parallel 2x2 sweep with the
// documented CSV columns, resume after SIGKILL to the same CSV, what a resume
// runs again, a failing run reported, merge with and without manifests, the
// GNU parallel job list and the SLURM array script, and the plot scripts on a
// small sweep (the pieces alone: test_sweep_pieces.cc).
// Short runs: scenarios/bursts.json, 50 ms simulated.
#include "result/run-result.h"
#include "sweep/sweep.h"

#include "sweep-test-support.h"
#include "test-support.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

using tunsim_test::Outcome;
using tunsim_test::ReadJson;
using tunsim_test::ReadText;
using tunsim_test::WriteJson;
using tunsim_test::Shell;
using tunsim_test::Tunsim;

namespace
{

const std::string kScenario = std::string(TUNSIM_SOURCE_DIR) + "/scenarios/bursts.json";
const std::string kShort = " --set duration_s=0.05 ";
const std::string k2x2 = " --vary tun.ring_size=10,25 --vary tun.policy=drop,nodrop-v8 ";

using namespace sweep_test;

std::vector<std::vector<std::string>>
Csv(const fs::path& p)
{
    return CsvRows(ReadText(p));
}

/// results.csv without the wall-time column (the only one that changes).
std::vector<std::vector<std::string>>
WithoutWall(const fs::path& p)
{
    auto rows = Csv(p);
    if (rows.empty())
    {
        return rows;
    }
    size_t w = std::find(rows[0].begin(), rows[0].end(), "wall_s") - rows[0].begin();
    for (auto& r : rows)
    {
        if (w < r.size())
        {
            r.erase(r.begin() + w);
        }
    }
    return rows;
}

size_t
CountFiles(const fs::path& dir, const std::string& name)
{
    size_t n = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
    {
        n += it->path().filename() == name;
    }
    return n;
}

class Sweep : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        // The pid keeps two test runs at once (two checkouts) apart.
        dir = fs::temp_directory_path() /
              ("tunsim-sweep-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
               std::to_string(getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    void TearDown() override { fs::remove_all(dir); }
    fs::path dir;
};

class Merge : public Sweep
{
};

} // namespace

TEST_F(Sweep, BadPointIsRejectedBeforeAnythingRuns)
{
    auto o = Tunsim("sweep " + kScenario + kShort + " --vary tun.ring_size=10,0 --out " + (dir / "s").string());
    EXPECT_EQ(o.code, 2) << o.out;
    EXPECT_NE(o.out.find("tun.ring_size: must be an integer in [1, 65536], got 0"), std::string::npos) << o.out;
    EXPECT_FALSE(fs::exists(dir / "s"));
    o = Tunsim("sweep " + kScenario + " --vary tun.policy=drop,bogus --out " + (dir / "s").string());
    EXPECT_EQ(o.code, 2);
    EXPECT_NE(o.out.find("tun.policy"), std::string::npos) << o.out;
    EXPECT_FALSE(fs::exists(dir / "s"));
}

TEST_F(Sweep, TwoByTwoInParallelWritesTheDocumentedColumns)
{
    auto o = Tunsim("sweep " + kScenario + kShort + k2x2 + "--seeds 2 --jobs 2 --out " + (dir / "s").string());
    ASSERT_EQ(o.code, 0) << o.out;
    EXPECT_NE(o.out.find("2 at a time"), std::string::npos) << o.out;
    EXPECT_EQ(CountFiles(dir / "s" / "points", "result.json"), 8u);

    auto rows = Csv(dir / "s" / "results.csv");
    ASSERT_EQ(rows.size(), 1u + 8u); // 4 points x 2 seeds x 1 flow
    const std::vector<std::string> header{
        "point", "tun.ring_size", "tun.policy", "seed", "policy", "ring_size", "qdisc", "flow", "kind",
        "sent_packets", "delivered_packets", "dropped_packets", "loss_ratio", "goodput_mbps", "delay_p50_ms",
        "delay_p99_ms", "delay_max_ms", "delay_mean_ms", "retransmits", "tun_tx_dropped", "txq_stop_count",
        "txq_stopped_fraction", "ring_occupancy_mean", "ring_occupancy_max", "qdisc_backlog_max",
        "qdisc_dropped_packets", "reader_busy_fraction", "wall_s", "conservation_ok"};
    EXPECT_EQ(rows[0], header);
    // Every column of results.csv is documented in docs/sweep.md.
    const std::string doc = ReadText(fs::path(TUNSIM_SOURCE_DIR) / "docs" / "sweep.md");
    for (const auto& c : header)
    {
        if (c != "tun.ring_size" && c != "tun.policy")
        {
            EXPECT_NE(doc.find("`" + c + "`"), std::string::npos) << c << " is not documented";
        }
    }
    // Rows in point order (first --vary outermost), then seed.
    EXPECT_EQ(rows[1][0], "tun.ring_size=10,tun.policy=drop");
    EXPECT_EQ(rows[1][3], "1");
    EXPECT_EQ(rows[2][3], "2");
    EXPECT_EQ(rows[3][0], "tun.ring_size=10,tun.policy=nodrop-v8");
    EXPECT_EQ(rows[8][0], "tun.ring_size=25,tun.policy=nodrop-v8");
    // bursts: drop loses 32 of each 60-packet burst with a 25-entry ring; nodrop-v8 none.
    EXPECT_EQ(rows[5][2], "drop");
    EXPECT_NEAR(std::stod(rows[5][12]), 32.0 / 60.0, 1e-9);
    EXPECT_EQ(rows[7][12], "0");
    for (size_t i = 1; i < rows.size(); ++i)
    {
        EXPECT_EQ(rows[i].back(), "true");
        EXPECT_EQ(rows[i].size(), header.size());
    }

    auto sum = Csv(dir / "s" / "summary.csv");
    ASSERT_EQ(sum.size(), 1u + 4u);
    EXPECT_EQ(sum[0][8], "seeds");
    EXPECT_EQ(sum[1][8], "2");
    auto col = [&](const std::string& name) {
        return std::find(sum[0].begin(), sum[0].end(), name) - sum[0].begin();
    };
    ASSERT_LT(size_t(col("loss_ratio_ci95")), sum[0].size());
    EXPECT_EQ(sum[1][col("loss_ratio_ci95")], "0"); // the scenario has no randomness: seeds agree
    EXPECT_NE(sum[1][col("wall_s_ci95")], "");
    for (const auto& c : sum[0])
    {
        if (c != "tun.ring_size" && c != "tun.policy")
        {
            std::string base = c;
            for (const char* suf : {"_mean", "_ci95"})
            {
                if (base.size() > 5 && base.compare(base.size() - 5, 5, suf) == 0)
                {
                    base.resize(base.size() - 5);
                }
            }
            EXPECT_NE(doc.find("`" + base + "`"), std::string::npos) << c << " is not documented";
        }
    }
    EXPECT_EQ(Csv(dir / "s" / "failures.csv").size(), 1u); // header only
}

TEST_F(Sweep, KilledSweepResumesToTheSameCsv)
{
    const std::string args = "sweep " + kScenario + " --set duration_s=0.3" + k2x2 + "--jobs 1 -q --out ";
    // Uninterrupted.
    ASSERT_EQ(Tunsim(args + (dir / "full").string()).code, 0);
    // Interrupted: SIGKILL as soon as the first run's result is in place.
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0)
    {
        const std::string out = (dir / "cut").string();
        execl(TUNSIM_BINARY, TUNSIM_BINARY, "sweep", kScenario.c_str(), "--set", "duration_s=0.3", "--vary",
              "tun.ring_size=10,25", "--vary", "tun.policy=drop,nodrop-v8", "--jobs", "1", "-q", "--out",
              out.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (CountFiles(dir / "cut", "result.json") == 0 && std::chrono::steady_clock::now() < deadline)
    {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status));
    const size_t partial = CountFiles(dir / "cut", "result.json");
    EXPECT_GE(partial, 1u);
    EXPECT_LT(partial, 4u) << "the sweep finished before it was killed; nothing was tested";
    EXPECT_FALSE(fs::exists(dir / "cut" / "results.csv"));
    // No half-written result: every result.json present parses.
    for (auto& e : fs::recursive_directory_iterator(dir / "cut"))
    {
        if (e.path().filename() == "result.json")
        {
            nlohmann::json j;
            EXPECT_NO_THROW(j = nlohmann::json::parse(ReadText(e.path()))) << e.path();
        }
    }
    // Resume: skips what is done, runs the rest.
    auto r = Tunsim("sweep " + kScenario + " --set duration_s=0.3" + k2x2 + "--jobs 1 --out " + (dir / "cut").string());
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find(std::to_string(partial) + " already complete, " + std::to_string(4 - partial) + " to run"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(WithoutWall(dir / "cut" / "results.csv"), WithoutWall(dir / "full" / "results.csv"));
}

TEST_F(Sweep, FailingRunIsReportedWithItsErrorAndExitStatus)
{
    // An honest failure: the run cannot put its result in place because a
    // (non-empty) directory occupies result.json. The run exits 1 after the
    // simulation, so the scenario passed validation.
    const fs::path blocked = dir / "s" / "points" / "tun.ring_size=25" / "seed-1" / "result.json" / "x";
    fs::create_directories(blocked);
    auto o = Tunsim("sweep " + kScenario + kShort + "--vary tun.ring_size=10,25 --out " + (dir / "s").string());
    EXPECT_EQ(o.code, tunsim::kExitRunsFailed) << o.out;
    EXPECT_NE(o.out.find("1 of 2 runs FAILED"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("exit status 1"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("cannot rename into place"), std::string::npos) << o.out;
    auto f = Csv(dir / "s" / "failures.csv");
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(f[1][0], "tun.ring_size=25");
    EXPECT_EQ(f[1][3], "exit status 1");
    EXPECT_NE(f[1][5].find("Is a directory"), std::string::npos);
    EXPECT_TRUE(fs::exists(dir / "s" / "points" / "tun.ring_size=25" / "seed-1" / "run.log"));
    // The other point is in results.csv.
    auto rows = Csv(dir / "s" / "results.csv");
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[1][0], "tun.ring_size=10");
    // Once the obstacle is gone, a re-run completes only the failed point.
    fs::remove_all(dir / "s" / "points" / "tun.ring_size=25" / "seed-1" / "result.json");
    o = Tunsim("sweep " + kScenario + kShort + "--vary tun.ring_size=10,25 --out " + (dir / "s").string());
    EXPECT_EQ(o.code, 0) << o.out;
    EXPECT_NE(o.out.find("1 already complete, 1 to run"), std::string::npos) << o.out;
    EXPECT_EQ(Csv(dir / "s" / "failures.csv").size(), 1u);
}

TEST_F(Sweep, ResumeRunsAgainWhatIsNotAWholeResultAndFailsWhatViolatesConservation)
{
    const std::string args = "sweep " + kScenario + kShort + "--vary tun.ring_size=10,25,50 --out " + (dir / "s").string();
    ASSERT_EQ(Tunsim(args + " -q").code, 0);
    const fs::path points = dir / "s" / "points";
    // Cut short (as by a crash mid-write, had the write not been atomic).
    const std::string text = ReadText(points / "tun.ring_size=10" / "seed-1" / "result.json");
    std::ofstream(points / "tun.ring_size=10" / "seed-1" / "result.json") << text.substr(0, text.size() / 2);
    // Valid JSON of the same scenario, but not a tunsim result (no "tun" block).
    nlohmann::json j = ReadJson(points / "tun.ring_size=25" / "seed-1" / "result.json");
    j.erase("tun");
    WriteJson(points / "tun.ring_size=25" / "seed-1" / "result.json", j);
    // A whole result whose packets do not add up: kept, but a failure.
    j = ReadJson(points / "tun.ring_size=50" / "seed-1" / "result.json");
    j["conservation"]["ok"] = false;
    WriteJson(points / "tun.ring_size=50" / "seed-1" / "result.json", j);

    auto o = Tunsim(args);
    EXPECT_EQ(o.code, tunsim::kExitRunsFailed) << o.out;
    EXPECT_NE(o.out.find("1 already complete, 2 to run"), std::string::npos) << o.out;
    auto f = Csv(dir / "s" / "failures.csv");
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(f[1][0], "tun.ring_size=50");
    EXPECT_EQ(f[1][3], "exit status 3 (packet conservation violated)");
    auto rows = Csv(dir / "s" / "results.csv");
    ASSERT_EQ(rows.size(), 4u); // the failure's result is in the CSV
    EXPECT_EQ(Cell(rows, 1, "conservation_ok"), "true");
    EXPECT_EQ(Cell(rows, 2, "conservation_ok"), "true");
    EXPECT_EQ(Cell(rows, 3, "conservation_ok"), "false");
    EXPECT_EQ(Cell(rows, 1, "ring_size"), "10");
}

TEST_F(Merge, WithoutManifestInfersTheKeysAndSkipsWhatIsNotAResult)
{
    ASSERT_EQ(Tunsim("sweep " + kScenario + kShort + "--vary tun.ring_size=10,25 --seeds 2 -q --out " +
                     (dir / "s").string())
                  .code,
              0);
    // The result files alone, in another layout, with a stray JSON file.
    fs::create_directories(dir / "m" / "elsewhere");
    fs::copy(dir / "s" / "points", dir / "m" / "elsewhere", fs::copy_options::recursive);
    fs::create_directories(dir / "m" / "junk");
    std::ofstream(dir / "m" / "junk" / "result.json") << "{\"hello\": 1}\n";
    auto o = Tunsim("merge " + (dir / "m").string());
    EXPECT_EQ(o.code, 0) << o.out;
    EXPECT_NE(o.out.find("junk/result.json: not a tunsim result; skipped"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("merged 4 results (4 rows; keys: tun.ring_size)"), std::string::npos) << o.out;
    // Points found by value, numbers ordered numerically: as the sweep wrote them.
    EXPECT_EQ(WithoutWall(dir / "m" / "results.csv"), WithoutWall(dir / "s" / "results.csv"));
    EXPECT_EQ(Csv(dir / "m" / "summary.csv").size(), 3u);
    // Nothing to merge: bad input.
    fs::create_directories(dir / "empty");
    o = Tunsim("merge " + (dir / "empty").string());
    EXPECT_EQ(o.code, 2) << o.out;
    EXPECT_NE(o.out.find("no result.json found"), std::string::npos) << o.out;
}

TEST_F(Merge, KeepsTheFirstResultOfARunAndReportsMissingAndNonConservingRuns)
{
    ASSERT_EQ(Tunsim("sweep " + kScenario + kShort + "--vary tun.ring_size=10,25 -q --out " + (dir / "a").string())
                  .code,
              0);
    fs::copy(dir / "a", dir / "b", fs::copy_options::recursive);
    const fs::path changed = dir / "b" / "points" / "tun.ring_size=10" / "seed-1" / "result.json";
    nlohmann::json j = ReadJson(changed);
    j["flows"][0]["goodput_mbps"] = 1.5;
    j["conservation"]["ok"] = false;
    WriteJson(changed, j);

    // The same runs twice: a's results are kept, b's differing one is named.
    auto o = Tunsim("merge " + (dir / "a").string() + " " + (dir / "b").string() + " --out " + (dir / "ab").string());
    EXPECT_EQ(o.code, 0) << o.out;
    EXPECT_NE(o.out.find(changed.string() + ": point tun.ring_size=10 seed 1 was already read from another file "
                                            "with different results; kept the first"),
              std::string::npos)
        << o.out;
    EXPECT_EQ(WithoutWall(dir / "ab" / "results.csv"), WithoutWall(dir / "a" / "results.csv"));
    // A result that violates conservation is merged, and reported.
    o = Tunsim("merge " + (dir / "b").string() + " --out " + (dir / "bb").string());
    EXPECT_EQ(o.code, tunsim::kExitRunsFailed) << o.out;
    EXPECT_NE(o.out.find("1 results violate packet conservation"), std::string::npos) << o.out;
    auto rows = Csv(dir / "bb" / "results.csv");
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(Cell(rows, 1, "goodput_mbps"), "1.5");
    EXPECT_EQ(Cell(rows, 1, "conservation_ok"), "false");
    // A run the manifest lists but no directory holds.
    fs::remove_all(dir / "a" / "points" / "tun.ring_size=25");
    o = Tunsim("merge " + (dir / "a").string());
    EXPECT_EQ(o.code, tunsim::kExitRunsFailed) << o.out;
    EXPECT_NE(o.out.find("1 runs listed in sweep.json have no result:\n  tun.ring_size=25 seed 1"), std::string::npos)
        << o.out;
}

TEST_F(Sweep, GnuParallelJobListRunsToTheSameCsv)
{
    if (Shell("command -v parallel").code != 0)
    {
        GTEST_SKIP() << "GNU parallel is not installed (Debian package parallel)";
    }
    ASSERT_EQ(Tunsim("sweep " + kScenario + kShort + k2x2 + "--seeds 2 -q --out " + (dir / "direct").string()).code, 0);
    auto e = Tunsim("sweep " + kScenario + kShort + k2x2 + "--seeds 2 --emit parallel --out " + (dir / "par").string());
    ASSERT_EQ(e.code, 0) << e.out;
    EXPECT_EQ(CountFiles(dir / "par", "result.json"), 0u); // --emit runs nothing
    auto p = Shell("cd " + (dir / "par").string() + " && parallel -j2 --joblog joblog.txt < jobs.txt");
    ASSERT_EQ(p.code, 0) << p.out;
    auto m = Tunsim("merge " + (dir / "par").string());
    ASSERT_EQ(m.code, 0) << m.out;
    EXPECT_EQ(WithoutWall(dir / "par" / "results.csv"), WithoutWall(dir / "direct" / "results.csv"));
    EXPECT_EQ(Csv(dir / "par" / "summary.csv").size(), Csv(dir / "direct" / "summary.csv").size());

    // Results gathered from two "machines" (halves of the job list) merge the same.
    fs::create_directories(dir / "a");
    fs::create_directories(dir / "b");
    for (const char* f : {"sweep.json", "scenario.json", "jobs.txt"})
    {
        fs::copy_file(dir / "par" / f, dir / "a" / f);
        fs::copy_file(dir / "par" / f, dir / "b" / f);
    }
    ASSERT_EQ(Shell("cd " + (dir / "a").string() + " && head -n 4 jobs.txt | parallel").code, 0);
    ASSERT_EQ(Shell("cd " + (dir / "b").string() + " && tail -n +5 jobs.txt | parallel").code, 0);
    auto half = Tunsim("merge " + (dir / "a").string());
    EXPECT_EQ(half.code, tunsim::kExitRunsFailed) << half.out; // 4 runs missing, reported
    EXPECT_NE(half.out.find("4 runs listed in sweep.json have no result"), std::string::npos) << half.out;
    auto both = Tunsim("merge " + (dir / "a").string() + " " + (dir / "b").string() + " --out " +
                       (dir / "ab").string());
    ASSERT_EQ(both.code, 0) << both.out;
    EXPECT_EQ(WithoutWall(dir / "ab" / "results.csv"), WithoutWall(dir / "direct" / "results.csv"));
}

TEST_F(Sweep, SlurmArrayScriptRunsTasksLocally)
{
    auto e = Tunsim("sweep " + kScenario + kShort + "--vary tun.ring_size=10,25 --emit slurm --out " +
                    (dir / "sl").string());
    ASSERT_EQ(e.code, 0) << e.out;
    const std::string script = (dir / "sl" / "sweep.sbatch").string();
    const std::string text = ReadText(script);
    EXPECT_NE(text.find("#SBATCH --array=0-1\n"), std::string::npos) << text;
    EXPECT_EQ(Shell("bash -n " + script).code, 0);
    if (Shell("command -v shellcheck").code == 0)
    {
        auto sc = Shell("shellcheck " + script);
        EXPECT_EQ(sc.code, 0) << sc.out;
    }
    // As SLURM would run each array task (from any working directory).
    for (int i : {0, 1})
    {
        auto t = Shell("cd / && SLURM_ARRAY_TASK_ID=" + std::to_string(i) + " bash " + script);
        EXPECT_EQ(t.code, 0) << t.out;
    }
    EXPECT_NE(Shell("SLURM_ARRAY_TASK_ID=2 bash " + script).code, 0); // past the end: an error
    EXPECT_NE(Shell("bash " + script).code, 0);                        // outside SLURM: an error
    auto m = Tunsim("merge " + (dir / "sl").string());
    EXPECT_EQ(m.code, 0) << m.out;
    EXPECT_EQ(Csv(dir / "sl" / "results.csv").size(), 3u);
}

TEST_F(Sweep, PlotScriptsRunHeadless)
{
    const std::string py = "/usr/bin/python3";
    if (Shell(py + " -c 'import matplotlib'").code != 0)
    {
        GTEST_SKIP() << "python3-matplotlib is not installed";
    }
    ASSERT_EQ(Tunsim("sweep " + kScenario + kShort + "--vary tun.ring_size=5,10,25 --vary "
                     "tun.policy=drop,nodrop-v6,nodrop-v8 --seeds 2 -q --out " + (dir / "s").string())
                  .code,
              0);
    const std::string plot = std::string(TUNSIM_SOURCE_DIR) + "/plot/";
    const std::string env = "env -u DISPLAY MPLBACKEND=Agg ";
    // Each script on its own.
    for (const char* s : {"loss_vs_ring", "goodput_vs_ring", "delay_cdf"})
    {
        auto o = Shell(env + py + " " + plot + s + ".py " + (dir / "s").string() + " --out " + (dir / "one").string());
        EXPECT_EQ(o.code, 0) << o.out;
        for (const char* ext : {".png", ".pdf"})
        {
            fs::path f = dir / "one" / (std::string(s) + ext);
            ASSERT_TRUE(fs::exists(f)) << f << "\n" << o.out;
            EXPECT_GT(fs::file_size(f), 1000u) << f;
        }
    }
    // A time series as `tunsim run --timeseries` writes it (synthetic here),
    // one with columns missing, and none at all.
    fs::create_directories(dir / "s" / "run");
    {
        std::ofstream ts(dir / "s" / "run" / "timeseries.csv");
        ts << "time_s,ring_occupancy,qdisc_backlog,txq_stopped,sender_wmem_bytes,cwnd_bytes,srtt_ms,bytes_in_flight\n";
        for (int i = 0; i < 100; ++i)
        {
            ts << i * 0.001 << "," << i % 25 << "," << (i * 3) % 40 << "," << ((i / 10) % 2) << "," << 2304 * (i % 30)
               << ",,," << "\n"; // UDP: no TCP columns
        }
        std::ofstream part(dir / "partial.csv");
        part << "time_s,txq_stopped\n0,0\n0.1,1\n0.2,0\n";
    }
    auto t = Shell(env + py + " " + plot + "timeseries.py " + (dir / "partial.csv").string() + " --out " +
                   (dir / "one").string() + " --name partial");
    EXPECT_EQ(t.code, 0) << t.out;
    EXPECT_GT(fs::file_size(dir / "one" / "partial.png"), 1000u);
    auto none = Shell(env + py + " " + plot + "timeseries.py " + (dir / "nothing-here").string());
    EXPECT_EQ(none.code, 0) << none.out;
    EXPECT_NE(none.out.find("skipped"), std::string::npos) << none.out;
    // all.py: everything the directory supports.
    auto a = Shell(env + py + " " + plot + "all.py " + (dir / "s").string());
    EXPECT_EQ(a.code, 0) << a.out;
    for (const char* f : {"loss_vs_ring", "goodput_vs_ring", "delay_cdf", "timeseries-run"})
    {
        for (const char* ext : {".png", ".pdf"})
        {
            fs::path p = dir / "s" / "plots" / (std::string(f) + ext);
            ASSERT_TRUE(fs::exists(p)) << p << "\n" << a.out;
            EXPECT_GT(fs::file_size(p), 1000u) << p;
        }
    }
    // One ring size only: the vs-ring plots are skipped with a reason, not faked.
    ASSERT_EQ(Tunsim("sweep " + kScenario + kShort + "--vary tun.policy=drop,nodrop-v8 -q --out " +
                     (dir / "p").string())
                  .code,
              0);
    auto p = Shell(env + py + " " + plot + "all.py " + (dir / "p").string());
    EXPECT_EQ(p.code, 0) << p.out;
    EXPECT_NE(p.out.find("loss_vs_ring: skipped: only one ring size"), std::string::npos) << p.out;
    EXPECT_TRUE(fs::exists(dir / "p" / "plots" / "delay_cdf.png"));
}
