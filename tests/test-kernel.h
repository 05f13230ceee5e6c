// What the tests of tunsim kernel share (tests/test_kernel.cc): start the
// binary without a shell (its pid names the namespace), wait for a file, and
// the Kernel fixture (a temporary directory, scenarios written into it, a
// skip without CAP_NET_ADMIN).
#pragma once

#include "kernel/host.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace tunsim_test
{

namespace fs = std::filesystem;


/// Start the binary without a shell; returns the child's pid (the namespace
/// is then tunsim-<pid>).
inline pid_t
Spawn(const std::vector<std::string>& args, const std::string& logFile)
{
    pid_t pid = fork();
    if (pid == 0)
    {
        FILE* f = std::fopen(logFile.c_str(), "w");
        if (f)
        {
            dup2(fileno(f), 1);
            dup2(fileno(f), 2);
        }
        std::vector<char*> argv;
        argv.push_back(const_cast<char*>(TUNSIM_BINARY));
        for (const auto& a : args)
        {
            argv.push_back(const_cast<char*>(a.c_str()));
        }
        argv.push_back(nullptr);
        execv(TUNSIM_BINARY, argv.data());
        _exit(127);
    }
    return pid;
}

inline int
WaitExit(pid_t pid)
{
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

inline bool
WaitFor(const fs::path& p, double seconds)
{
    auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end)
    {
        if (fs::exists(p))
        {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

inline std::string
ReadFile(const fs::path& p)
{
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

class Kernel : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        dir = fs::temp_directory_path() /
              ("tunsim-kernel-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
               "-" + std::to_string(getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
        fs::permissions(dir, fs::perms::all, fs::perm_options::replace);
    }
    void TearDown() override { fs::remove_all(dir); }

    void NeedPrivileges()
    {
        std::string why;
        if (!tunsim::kernel::HavePrivileges(&why))
        {
            GTEST_SKIP() << "needs CAP_NET_ADMIN: " << why;
        }
    }

    std::string Write(const std::string& name, const std::string& text)
    {
        auto p = dir / name;
        std::ofstream(p) << text;
        fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                               fs::perms::others_read);
        return p.string();
    }

    /// A burst of n datagrams into txqueuelen k while the reader stalls.
    std::string BurstScenario(int n, int k, const std::string& qdisc)
    {
        return Write("burst-" + std::to_string(n) + "-" + std::to_string(k) + ".json",
                     R"({"name": "tiny-burst", "duration_s": 0.2,
                         "tun": {"ring_size": )" + std::to_string(k) + R"(},
                         "qdisc": {"kind": ")" + qdisc + R"("},
                         "reader": {"per_packet_ns": 1000, "stalls": [{"at_s": 0, "for_s": 0.1}]},
                         "flows": [{"mode": "bursts", "burst_packets": )" + std::to_string(n) + R"(,
                                    "burst_interval_ms": 1000, "payload_bytes": 200, "start_s": 0.01}]})");
    }

    /// The TCP twin: one bulk Cubic flow through a ring of `ring`, a reader
    /// of ns_per_byte 80 (100 Mbit/s of 1500-byte packets), 10 ms each way.
    std::string TcpScenario(int ring, double durationS)
    {
        return Write("tcp-" + std::to_string(ring) + ".json",
                     R"({"name": "tcp-twin", "duration_s": )" + std::to_string(durationS) + R"(,
                         "tun": {"ring_size": )" + std::to_string(ring) + R"(}, "qdisc": {"kind": "pfifo_fast"},
                         "reader": {"per_packet_ns": 0, "ns_per_byte": 80, "encap": "none"},
                         "underlay": {"rate_mbps": 1000, "delay_ms": 10},
                         "flows": [{"kind": "tcp", "cc": "cubic"}]})");
    }

    fs::path dir;
};


} // namespace tunsim_test
