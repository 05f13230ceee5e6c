// tunsim calibrate and the kernel twin's reader loop styles on the real
// kernel (Kernel.* tests: run by the lead, alone, on a quiet machine):
// calibrate writes a profile that loads, in a namespace of its own that is
// gone afterwards; the twin's poll-each and batched readers poll once per
// read / per batch, closed-form counts on a burst into a stalled reader;
// a non-blocking twin sender. Tests that need CAP_NET_ADMIN skip without it.
#include "kernel/host.h"
#include "scenario/host-profile.h"
#include "test-kernel.h"
#include "test-support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <string>

namespace fs = std::filesystem;
using json = nlohmann::json;
using tunsim_test::Kernel;
using tunsim_test::ReadFile;
using tunsim_test::Shell;
using tunsim_test::Spawn;
using tunsim_test::WaitExit;

TEST_F(Kernel, CalibrateWritesAValidProfileAndLeavesNoNamespace)
{
    NeedPrivileges();
    const fs::path out = dir / "profiles" / "host.json"; // the directory is made
    const pid_t pid = Spawn({"calibrate", "--scale", "0.05", "--out", out.string(), "-q"}, (dir / "log").string());
    ASSERT_EQ(WaitExit(pid), 0) << ReadFile(dir / "log");
    const json p = tunsim::LoadHostProfile(out.string()); // throws on anything missing
    EXPECT_EQ(p["kernel"], tunsim::RunningKernelRelease());
    EXPECT_EQ(p["version"], tunsim::kHostProfileVersion);
    EXPECT_GT(p["costs"]["send_ns"].get<double>(), 0.0);
    EXPECT_GT(p["costs"]["read_ns"].get<double>(), 0.0);
    EXPECT_GT(p["costs"]["poll_ns"].get<double>(), 0.0);
    EXPECT_GE(p["wakeup_by_sleep"].size(), 1u);
    // Version 3: the waking send() by the gap before it, up to 100 ms; the
    // empty read(); the TCP twin's write() and timer wake-ups.
    ASSERT_GE(p["send_wake_by_gap"].size(), 1u);
    EXPECT_GE(p["send_wake_by_gap"].back()["gap_us"].get<double>(), 30000.0);
    EXPECT_GT(p["costs"]["read_empty_ns"].get<double>(), 0.0);
    EXPECT_GT(p["costs"]["write_ns"].get<double>(), 0.0);
    EXPECT_EQ(p["timer_wakeup_quantiles_us"].size(), 1000u);
    // Version 4: where in a send() its datagram reached the ring -- inside
    // it (dev_queue_xmit() -> tun_net_xmit() run in the send()): after it
    // began, before the typical send() returned.
    const json& run = p["measurements"]["running_reader"];
    ASSERT_GT(run["enqueue"]["samples"].get<int>(), 0);
    EXPECT_GT(p["costs"]["send_enqueue_ns"].get<double>(), 0.0);
    EXPECT_LE(p["costs"]["send_enqueue_ns"].get<double>(), run["running"]["p50_ns"].get<double>());
    // The poll() that may block costs at least a poll(0) (when the wake-up
    // measurement saw one whose datagram was there before it began).
    if (p["costs"].contains("poll_block_ns"))
    {
        EXPECT_GE(p["costs"]["poll_block_ns"].get<double>(), p["costs"]["poll_ns"].get<double>());
    }
    EXPECT_FALSE(fs::exists(out.string() + ".tmp")) << "written by rename";
    const auto names = tunsim::kernel::TunsimNamespaces();
    EXPECT_EQ(std::count(names.begin(), names.end(), "tunsim-" + std::to_string(pid)), 0) << "namespace left";
    // A scenario takes it.
    auto v = Shell(std::string(TUNSIM_BINARY) + " validate " +
                   Write("sc.json", R"({"flows": [{}]})") + " --set host_profile=" + out.string());
    EXPECT_EQ(v.code, 0) << v.out;
    EXPECT_NE(v.out.find("\"provenance\""), std::string::npos);
}

TEST_F(Kernel, PollEachAndBatchedReadersPollPerReadAndPerBatch)
{
    NeedPrivileges();
    // A burst of 40 into txqueuelen 10 while the reader stalls (pfifo of
    // 1000 above: mainline tun drops 30 at the ring); then the reader reads
    // the 10 with everything already there: poll-each polls 10 times (each
    // finding data), batched with batch 4 polls 3 times (4 + 4 + 2).
    struct Case
    {
        const char* loop;
        int batch;
        int polls;
    };
    for (Case c : {Case{"poll-each", 1, 10}, Case{"batched", 4, 3}})
    {
        SCOPED_TRACE(c.loop);
        const std::string sc = Write(std::string(c.loop) + ".json",
                                     R"({"name": "loops", "duration_s": 0.2, "tun": {"ring_size": 10},
            "qdisc": {"kind": "pfifo", "limit": 1000},
            "reader": {"per_packet_ns": 1000, "loop": ")" + std::string(c.loop) + R"(", "batch": )" +
                                         std::to_string(c.batch) + R"(, "stalls": [{"at_s": 0, "for_s": 0.1}]},
            "flows": [{"mode": "bursts", "burst_packets": 40, "burst_interval_ms": 1000, "payload_bytes": 200,
                       "start_s": 0.01}]})");
        const fs::path out = dir / (std::string("out-") + c.loop);
        auto o = Shell(std::string(TUNSIM_BINARY) + " kernel " + sc + " --out " + out.string() + " -q");
        ASSERT_EQ(o.code, 0) << o.out;
        const json r = json::parse(ReadFile(out / "result.json"));
        EXPECT_EQ(r["flows"][0]["delivered_packets"], 10);
        EXPECT_EQ(r["flows"][0]["dropped_packets"], 30);
        EXPECT_EQ(r["kernel"]["reader_polls"], c.polls);
        EXPECT_GT(r["kernel"]["reader_poll_ns_mean"].get<double>(), 0.0);
        EXPECT_TRUE(r["kernel"]["cross_check"]["ok"].get<bool>()) << r["kernel"]["cross_check"].dump();
    }
}

TEST_F(Kernel, NonblockingTwinSenderCountsEagainAsDropped)
{
    NeedPrivileges();
    // A flood from a non-blocking socket with the smallest sk_sndbuf into a
    // slow reader: whatever send() refused with EAGAIN is in sent and
    // dropped (app/EAGAIN), and the books still close.
    const std::string sc = Write("nb.json", R"({"name": "nb", "duration_s": 0.1, "tun": {"ring_size": 10},
        "host": {"udp_sndbuf_bytes": 4608}, "reader": {"per_packet_ns": 20000},
        "flows": [{"mode": "flood", "payload_bytes": 1400, "sender": "nonblocking", "recverr": true}]})");
    const fs::path out = dir / "out";
    auto o = Shell(std::string(TUNSIM_BINARY) + " kernel " + sc + " --out " + out.string() + " -q");
    ASSERT_EQ(o.code, 0) << o.out;
    const json r = json::parse(ReadFile(out / "result.json"));
    const json& f = r["flows"][0];
    const uint64_t eagain = f["kernel"]["eagain_drops"].get<uint64_t>();
    EXPECT_EQ(f["sent_packets"].get<uint64_t>(), f["delivered_packets"].get<uint64_t>() +
                                                     f["dropped_packets"].get<uint64_t>() +
                                                     f["in_flight_packets"].get<uint64_t>());
    EXPECT_EQ(r["conservation"]["forward"]["dropped_by_place"].value("app/EAGAIN", uint64_t{0}), eagain);
    EXPECT_TRUE(r["conservation"]["ok"].get<bool>()) << r["conservation"].dump();
    EXPECT_TRUE(r["kernel"]["cross_check"]["ok"].get<bool>()) << r["kernel"]["cross_check"].dump();
}
