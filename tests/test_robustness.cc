// The reproducers of issue 16, as a new user typed them: each must exit 2
// naming the field or option (or complete) within seconds, under a memory
// limit (ulimit -v, except under AddressSanitizer, whose shadow memory
// needs more address space), writing nothing on bad input. Each case prints
// "robustness: <case>: exit N in T s". The sweep's counts, its lock and its
// run timeout are also in test_sweep_limits.cc; the foreign namespace and
// tunsim kernel's burst period in test_kernel_limits.cc (root).
#include "test-support.h"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

using tunsim_test::Outcome;
using tunsim_test::Shell;

namespace
{

const std::string kBursts = std::string(TUNSIM_SOURCE_DIR) + "/scenarios/bursts.json";
constexpr double kSeconds = 10; ///< "within seconds"

/// tunsim with `args` in directory `cwd`, at most 2 GB of address space and
/// 60 s (a hang fails the test instead of holding the suite).
Outcome
Tunsim(const std::string& args, const std::string& cwd, const std::string& label, double* took = nullptr)
{
#if defined(__SANITIZE_ADDRESS__)
    const std::string limit;
#else
    const std::string limit = "ulimit -v 2000000 && ";
#endif
    const auto t0 = std::chrono::steady_clock::now();
    Outcome o = Shell("cd '" + cwd + "' && " + limit + "timeout 60 " + TUNSIM_BINARY + " " + args);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("robustness: %s: exit %d in %.2f s\n", label.c_str(), o.code, secs);
    EXPECT_LT(secs, kSeconds) << label;
    if (took)
    {
        *took = secs;
    }
    return o;
}

class Robustness : public ::testing::Test
{
  protected:
    void SetUp() override { dir = tunsim_test::FreshTestDir("tunsim-robust-"); }
    void TearDown() override { fs::remove_all(dir); }

    std::string Write(const std::string& name, const std::string& text)
    {
        std::ofstream(dir / name) << text;
        return (dir / name).string();
    }

    /// Exit 2 with `message` in the output, and no output directory.
    void ExpectBadInput(const std::string& label, const std::string& args, const std::string& message)
    {
        const Outcome o = Tunsim(args + " --out " + (dir / "out").string(), dir.string(), label);
        EXPECT_EQ(o.code, 2) << label << "\n" << o.out;
        EXPECT_NE(o.out.find(message), std::string::npos) << label << "\n" << o.out.substr(0, 3000);
        EXPECT_LT(o.out.size(), 2100u) << label << ": one readable message, not the input echoed";
        EXPECT_FALSE(fs::exists(dir / "out")) << label << ": nothing is written";
        EXPECT_FALSE(fs::exists(dir / "results")) << label;
    }

    fs::path dir;
};

} // namespace

TEST_F(Robustness, UnboundedOrDeeplyNestedInputIsRefused)
{
    ExpectBadInput("1e6-deep array in the file", "run " + Write("deep.json", std::string(1000000, '[')),
                   "JSON nested deeper than 64 levels (at line 1, column 65)");
    ExpectBadInput("1e5-deep --set value", "run " + kBursts + " --set 'tun.ring_size=" + std::string(100000, '[') + "'",
                   "tun.ring_size: JSON nested deeper than 64 levels");
    ExpectBadInput("/dev/zero as the scenario", "run /dev/zero", "/dev/zero: not a regular file");
    ExpectBadInput("/dev/urandom as the scenario", "run /dev/urandom", "/dev/urandom: not a regular file");
    ASSERT_EQ(mkfifo((dir / "fifo").c_str(), 0600), 0);
    ExpectBadInput("a FIFO with no writer", "run " + (dir / "fifo").string(), "fifo: not a regular file");
    ExpectBadInput("a 10 MB integer literal", "run " + Write("big.json", "{\"seed\": " + std::string(10000000, '7') + "}"),
                   "big.json: larger than 4 MiB; a scenario is a small JSON file");
    ExpectBadInput("a 3 MB integer literal",
                   "run " + Write("big3.json", "{\"flows\": [{}], \"seed\": " + std::string(3000000, '7') + "}"),
                   "big3.json: malformed JSON");
    ExpectBadInput("1e999 in the file", "run " + Write("inf.json", "{\"flows\": [{}],\n \"duration_s\": 1e999}"),
                   "inf.json: malformed JSON");
    ExpectBadInput("1e999 in --set", "run " + kBursts + " --set duration_s=1e999", "duration_s: must be a number");
    // Found by the fuzzer: a key that decodes to a NUL byte left an empty message.
    ExpectBadInput("a key \\u0000ption", "run " + Write("nul.json", "{\"\\u0000ption\": 1, \"flows\": [{}]}"),
                   "\\u0000ption: unknown key");
}

TEST_F(Robustness, ValuesThatCannotRunAreRefused)
{
    const std::string run = "run " + kBursts + " ";
    ExpectBadInput("zero-cost flood on pfifo_fast",
                   run + "--set flows[0].mode=flood --set flows[0].send_cost_ns=0 --set reader.per_packet_ns=0 "
                         "--set qdisc.kind=pfifo_fast",
                   "flows[0].send_cost_ns: must be > 0 for a flood");
    ExpectBadInput("zero-cost flood on noqueue",
                   run + "--set flows[0].mode=flood --set flows[0].send_cost_ns=0 --set qdisc.kind=noqueue",
                   "simulated time never advances");
    ExpectBadInput("underlay.rate_mbps=1e-300", run + "--set underlay.rate_mbps=1e-300",
                   "underlay.rate_mbps: must be a number in [0.001, 1e6]");
    ExpectBadInput("rate_mbps=1e-300", run + "--set flows[0].mode=rate --set flows[0].rate_mbps=1e-300",
                   "flows[0].rate_mbps: must be a number in [0.001, 1e6]");
    ExpectBadInput("burst_interval_ms=1e-300", run + "--set flows[0].burst_interval_ms=1e-300",
                   "flows[0].burst_interval_ms: must be a number in [0.001, 1e6]");
    ExpectBadInput("fps=1e-300", run + "--set flows[0].mode=video --set flows[0].fps=1e-300",
                   "flows[0].fps: must be a number in [0.001, 1e3]");
    for (const char* ts : {"1e-9", "inf", "1e-6", "nan", "-1"})
    {
        ExpectBadInput(std::string("--timeseries ") + ts, run + "--timeseries " + ts,
                       "--timeseries: must be a number in [0.001, 1e9]");
    }
    ExpectBadInput("--timeseries 0.001 over 2 s", run + "--timeseries 0.001", "more than 1e6 rows");
}

TEST_F(Robustness, OutputPathsStayWhereTheyBelong)
{
    const std::string run = "run " + kBursts + " --set duration_s=0.02 -q ";
    // A 300-character name: the default directory is cut to 100 characters
    // and a hash, under results/.
    Outcome o = Tunsim(run + "--set name=" + std::string(300, 'n'), dir.string(), "300-character name");
    ASSERT_EQ(o.code, 0) << o.out;
    ASSERT_TRUE(fs::is_directory(dir / "results"));
    for (const auto& e : fs::directory_iterator(dir / "results"))
    {
        const std::string name = e.path().filename().string();
        EXPECT_EQ(name.substr(0, 101), std::string(100, 'n') + "-") << name; // + 8 hex digits of a hash
        EXPECT_EQ(name.size(), 109u) << name;
        EXPECT_TRUE(fs::exists(e.path() / "result.json"));
    }
    fs::remove_all(dir / "results");
    // ../../ in the name: the directory stays under results/.
    fs::create_directories(dir / "a" / "b");
    o = Tunsim(run + "--set name=../../escaped", (dir / "a" / "b").string(), "../../ in the name");
    ASSERT_EQ(o.code, 0) << o.out;
    EXPECT_TRUE(fs::exists(dir / "a" / "b" / "results" / "_.._.._escaped" / "result.json"));
    EXPECT_FALSE(fs::exists(dir / "escaped"));
    EXPECT_FALSE(fs::exists(dir / "a" / "escaped"));
}

TEST_F(Robustness, UnusableOutputDirectoriesAreRefusedBeforeTheRun)
{
    const std::string run = "run " + kBursts + " ";
    Outcome o = Tunsim(run + "--out ''", dir.string(), "--out ''");
    EXPECT_EQ(o.code, 2) << o.out;
    EXPECT_NE(o.out.find("--out: must name a directory, got an empty path"), std::string::npos) << o.out;
    EXPECT_FALSE(fs::exists(dir / "result.json"));
    o = Tunsim(run + "--out /proc/tunsim-out", dir.string(), "--out under /proc");
    EXPECT_EQ(o.code, 2) << o.out;
    EXPECT_NE(o.out.find("--out: /proc/tunsim-out cannot be"), std::string::npos) << o.out;
    // A read-only bind mount (root only): refused before the run, nothing left.
    fs::create_directories(dir / "rw");
    fs::create_directories(dir / "ro");
    if (geteuid() != 0 || Shell("mount --bind " + (dir / "rw").string() + " " + (dir / "ro").string() +
                                " && mount -o remount,bind,ro " + (dir / "ro").string())
                                  .code != 0)
    {
        GTEST_SKIP() << "a read-only bind mount needs root";
    }
    double took = 0;
    o = Tunsim(run + "--set duration_s=100 --out " + (dir / "ro" / "x").string(), dir.string(),
               "--out on a read-only mount", &took);
    Shell("umount " + (dir / "ro").string());
    EXPECT_EQ(o.code, 2) << o.out;
    EXPECT_NE(o.out.find("Read-only file system"), std::string::npos) << o.out;
    EXPECT_LT(took, 5.0) << "refused before the 100 s run";
    EXPECT_TRUE(fs::is_empty(dir / "rw"));
}

TEST_F(Robustness, SweepCountsAreBounded)
{
    const std::string sweep = "sweep " + kBursts + " --set duration_s=0.02 -q ";
    ExpectBadInput("--seeds -1", sweep + "--seeds -1", "--seeds: must be an integer in [1, 100000], got \"-1\"");
    ExpectBadInput("--jobs -1", sweep + "--jobs -1", "--jobs: must be an integer in [1, ");
    ExpectBadInput("--jobs 100000", sweep + "--jobs 100000", "online CPUs");
}

TEST_F(Robustness, TwoSweepsIntoOneDirectory)
{
    // The first sweep runs (2 s runs, one at a time); the second, of another
    // scenario, into the same --out is refused while it does.
    const fs::path out = dir / "s";
    Shell("(" + std::string(TUNSIM_BINARY) + " sweep " + kBursts +
          " --set duration_s=1 --vary tun.ring_size=10,25 --jobs 1 -q --out " + out.string() + " > " +
          (dir / "first.log").string() + " 2>&1 &)");
    std::string pid;
    for (int i = 0; i < 1000 && (pid.empty() || !fs::exists(out / "sweep.json")); ++i)
    {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::ifstream in(out / ".sweep.lock");
        std::getline(in, pid);
    }
    ASSERT_FALSE(pid.empty()) << "the first sweep never took its lock";
    const Outcome o = Tunsim("sweep " + std::string(TUNSIM_SOURCE_DIR) +
                                 "/scenarios/udp-flood.json --set duration_s=0.02 -q --out " + out.string(),
                             dir.string(), "a second sweep into the same --out");
    EXPECT_EQ(o.code, 2) << o.out;
    EXPECT_NE(o.out.find("is in use by another tunsim sweep (pid " + pid + ")"), std::string::npos) << o.out;
    for (int i = 0; i < 3000 && kill(std::stoi(pid), 0) == 0; ++i)
    {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_NE(tunsim_test::ReadText(out / "sweep.json").find("bursts.json"), std::string::npos)
        << "the first sweep's manifest";
    EXPECT_TRUE(fs::exists(out / "points" / "tun.ring_size=25" / "seed-1" / "result.json"));
}
