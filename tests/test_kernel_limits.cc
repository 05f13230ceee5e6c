// tunsim kernel against misuse (issue 16): it removes only the namespaces
// it can prove it created (an owner marker under /run/tunsim/ naming a
// process that is gone), a foreign tunsim-999999 is left alone, a reader too
// slow to empty the ring leaves packets counted as still queued (not lost),
// and a burst period that rounds to 0 is refused. Tests that need
// CAP_NET_ADMIN skip (saying so) without it.
#include "kernel/host.h"

#include "test-support.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
namespace kn = tunsim::kernel;

using tunsim_test::Shell;
using tunsim_test::Tunsim;

namespace
{

const std::string kBursts = std::string(TUNSIM_SOURCE_DIR) + "/scenarios/bursts.json";

bool
NsExists(const std::string& name)
{
    return fs::exists("/run/netns/" + name);
}

void
WriteMarker(const std::string& ns, long pid, const std::string& start)
{
    fs::create_directories("/run/tunsim");
    std::ofstream(kn::OwnerMarkerPath(ns)) << pid << " " << start << "\n";
}

/// The pid and start time of a process that has exited (and been reaped).
std::pair<long, std::string>
DeadProcess()
{
    const pid_t child = fork();
    if (child == 0)
    {
        pause();
        _exit(0);
    }
    std::string start;
    for (int i = 0; i < 100 && start.empty(); ++i)
    {
        start = kn::ProcessStartTime(child);
    }
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    return {child, start};
}

class KernelLimits : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        std::string why;
        if (!kn::HavePrivileges(&why))
        {
            GTEST_SKIP() << "needs CAP_NET_ADMIN and CAP_SYS_ADMIN: " << why;
        }
        name = "tunsim-test-" + std::to_string(getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name();
        name = name.substr(0, 60);
        dir = tunsim_test::FreshTestDir("tunsim-klim-");
    }
    void TearDown() override
    {
        if (!name.empty() && NsExists(name))
        {
            Shell("ip netns del " + name);
        }
        if (!name.empty())
        {
            fs::remove(kn::OwnerMarkerPath(name));
        }
        fs::remove_all(dir);
    }

    std::string name;
    fs::path dir;
};

} // namespace

TEST_F(KernelLimits, NetnsMarksWhatItCreatesAndRemovesBoth)
{
    {
        kn::Netns ns(name);
        ASSERT_TRUE(NsExists(name));
        std::ifstream in(kn::OwnerMarkerPath(name));
        long pid = 0;
        std::string start;
        in >> pid >> start;
        EXPECT_EQ(pid, getpid());
        EXPECT_EQ(start, kn::ProcessStartTime(getpid()));
        EXPECT_FALSE(start.empty());
        kn::RemoveStaleNamespaces(); // its creator runs: kept
        EXPECT_TRUE(NsExists(name));
    }
    EXPECT_FALSE(NsExists(name));
    EXPECT_FALSE(fs::exists(kn::OwnerMarkerPath(name)));
}

TEST_F(KernelLimits, ANamespaceThatExistsIsNotTakenOver)
{
    ASSERT_EQ(Shell("ip netns add " + name).code, 0);
    EXPECT_THROW(kn::Netns ns(name), std::runtime_error);
    EXPECT_TRUE(NsExists(name));
    EXPECT_FALSE(fs::exists(kn::OwnerMarkerPath(name)));
}

TEST_F(KernelLimits, OnlyNamespacesWhoseMarkedOwnerIsGoneAreRemoved)
{
    // No marker: someone else's namespace, whatever its name says.
    ASSERT_EQ(Shell("ip netns add " + name).code, 0);
    kn::RemoveStaleNamespaces();
    EXPECT_TRUE(NsExists(name));
    // A marker naming a live process (this one): kept.
    WriteMarker(name, getpid(), kn::ProcessStartTime(getpid()));
    kn::RemoveStaleNamespaces();
    EXPECT_TRUE(NsExists(name));
    // This pid, but another start time: the pid was reused; removed.
    WriteMarker(name, getpid(), "1");
    kn::RemoveStaleNamespaces();
    EXPECT_FALSE(NsExists(name));
    EXPECT_FALSE(fs::exists(kn::OwnerMarkerPath(name)));
    // A process that has exited: removed.
    ASSERT_EQ(Shell("ip netns add " + name).code, 0);
    const auto [pid, start] = DeadProcess();
    ASSERT_FALSE(start.empty());
    WriteMarker(name, pid, start);
    kn::RemoveStaleNamespaces();
    EXPECT_FALSE(NsExists(name));
    EXPECT_FALSE(fs::exists(kn::OwnerMarkerPath(name)));
    // A marker of a dead owner whose namespace is gone: the marker goes.
    WriteMarker(name, pid, start);
    kn::RemoveStaleNamespaces();
    EXPECT_FALSE(fs::exists(kn::OwnerMarkerPath(name)));
}

TEST_F(KernelLimits, AForeignTunsimNamespaceSurvivesARunAndAKilledRunsNamespaceDoesNot)
{
    // The reproducer: tunsim-999999, made by someone else, with no
    // process 999999 (pid_max is 4194304 at most; take one that is free).
    std::string foreign = "tunsim-999999";
    for (long p = 999999; fs::exists("/proc/" + std::to_string(p)); ++p)
    {
        foreign = "tunsim-" + std::to_string(p + 1);
    }
    const bool made = !NsExists(foreign);
    if (made)
    {
        ASSERT_EQ(Shell("ip netns add " + foreign).code, 0);
    }
    // A run killed with SIGKILL leaks its namespace and marker.
    const std::string sc = " " + kBursts + " --set qdisc.kind=pfifo_fast --set duration_s=5 -q --out " +
                           (dir / "k").string();
    const pid_t pid = fork();
    if (pid == 0)
    {
        execl("/bin/sh", "sh", "-c", (std::string("exec ") + TUNSIM_BINARY + " kernel" + sc + " >/dev/null 2>&1").c_str(),
              static_cast<char*>(nullptr));
        _exit(127);
    }
    const std::string leaked = "tunsim-" + std::to_string(pid);
    for (int i = 0; i < 500 && !NsExists(leaked); ++i)
    {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(NsExists(leaked));
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    EXPECT_TRUE(NsExists(leaked));
    EXPECT_TRUE(fs::exists(kn::OwnerMarkerPath(leaked)));

    // The next run removes the leaked one and leaves the foreign one.
    auto o = Tunsim("kernel " + kBursts + " --set qdisc.kind=pfifo_fast --set duration_s=0.05 -q --out " +
                    (dir / "k2").string());
    EXPECT_EQ(o.code, 0) << o.out;
    EXPECT_FALSE(NsExists(leaked));
    EXPECT_FALSE(fs::exists(kn::OwnerMarkerPath(leaked)));
    EXPECT_TRUE(NsExists(foreign));
    if (made)
    {
        Shell("ip netns del " + foreign);
    }
}

TEST_F(KernelLimits, PacketsLeftInTheRingBySlowReaderAreQueuedNotLost)
{
    // reader.per_packet_ns = 1e10: one packet per 10 s. The drain stops after
    // its 10 s cap; what is still in the ring is read out and booked as
    // queued (exit 3 before: counted as lost by the reader's sequence gaps).
    const auto t0 = std::chrono::steady_clock::now();
    auto o = Tunsim("kernel " + kBursts + " --set qdisc.kind=pfifo_fast --set duration_s=0.05 "
                    "--set reader.per_packet_ns=1e10 -q --out " + (dir / "slow").string());
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_EQ(o.code, 0) << o.out;
    EXPECT_LT(took, 30.0) << "the 10 s per-packet cost is cut at the drain cap";
    std::ifstream in(dir / "slow" / "result.json");
    const auto r = nlohmann::json::parse(in);
    const auto& f = r["flows"][0];
    EXPECT_GT(f["in_flight_packets"].get<uint64_t>(), 0u) << f.dump();
    EXPECT_EQ(f["sent_packets"].get<uint64_t>(), f["delivered_packets"].get<uint64_t>() +
                                                     f["dropped_packets"].get<uint64_t>() +
                                                     f["in_flight_packets"].get<uint64_t>());
    EXPECT_TRUE(r["kernel"]["cross_check"]["ok"].get<bool>()) << r["kernel"]["cross_check"].dump();
    EXPECT_TRUE(r["conservation"]["ok"].get<bool>());
    EXPECT_EQ(r["conservation"]["forward"]["still_queued_by_place"]["tun0_ring"], f["in_flight_packets"]);
}

TEST(KernelInput, ABurstPeriodThatRoundsToZeroIsRefused)
{
    // The sender's period is burst_interval_ms * 1e6 ns as an integer: below
    // 1e-6 ms it was 0 and tunsim kernel never ended. The scenario's range
    // refuses it before anything is set up (no privileges needed).
    const auto t0 = std::chrono::steady_clock::now();
    auto o = Tunsim("kernel " + kBursts + " --set qdisc.kind=pfifo_fast --set flows[0].burst_interval_ms=1e-7 "
                    "--out /nonexistent/never");
    EXPECT_EQ(o.code, 2) << o.out;
    EXPECT_NE(o.out.find("flows[0].burst_interval_ms: must be a number in [0.001, 1e6], got 1e-07"), std::string::npos)
        << o.out;
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
}
