// What the command-line tests share: run a shell command or the tunsim
// binary and collect its exit code and output; a fresh directory per test;
// reading and writing the files the commands leave.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <sys/wait.h>

namespace tunsim_test
{

struct Outcome
{
    int code = -1;   ///< exit status, -1 if it did not exit normally
    std::string out; ///< stdout and stderr
};

/// Run `cmd` with /bin/sh, stderr merged into stdout.
inline Outcome
Shell(const std::string& cmd)
{
    Outcome o;
    FILE* p = popen((cmd + " 2>&1").c_str(), "r");
    if (!p)
    {
        return o;
    }
    std::array<char, 4096> buf{};
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
    {
        o.out.append(buf.data(), n);
    }
    int status = pclose(p);
    o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return o;
}

/// Run the tunsim binary under test with `args`.
inline Outcome
Tunsim(const std::string& args)
{
    return Shell(std::string(TUNSIM_BINARY) + " " + args);
}

/// Removes the running test's FreshTestDir()s when it passes; a failed
/// test's stay for a look. Registered with gtest's listeners once.
class FreshDirCleaner : public ::testing::EmptyTestEventListener
{
  public:
    static FreshDirCleaner& Get()
    {
        static FreshDirCleaner* cleaner = [] {
            auto* c = new FreshDirCleaner; // owned by gtest's listener list
            ::testing::UnitTest::GetInstance()->listeners().Append(c);
            return c;
        }();
        return *cleaner;
    }
    void Add(const std::filesystem::path& dir) { m_dirs.push_back(dir); }
    void OnTestEnd(const ::testing::TestInfo& info) override
    {
        if (info.result() != nullptr && info.result()->Passed())
        {
            for (const auto& d : m_dirs)
            {
                std::error_code ec;
                std::filesystem::remove_all(d, ec);
            }
        }
        m_dirs.clear();
    }

  private:
    std::vector<std::filesystem::path> m_dirs;
};

/// A fresh, empty directory for the running test:
/// /tmp/<prefix><test name>-<pid> (the pid keeps two checkouts' runs apart),
/// removed when the test passes.
inline std::filesystem::path
FreshTestDir(const std::string& prefix)
{
    const auto dir = std::filesystem::temp_directory_path() /
                     (prefix + ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" +
                      std::to_string(getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    FreshDirCleaner::Get().Add(dir);
    return dir;
}

/// The whole file ("" if it cannot be read).
inline std::string
ReadText(const std::filesystem::path& p)
{
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline nlohmann::json
ReadJson(const std::filesystem::path& p)
{
    return nlohmann::json::parse(ReadText(p));
}

inline void
WriteJson(const std::filesystem::path& p, const nlohmann::json& j)
{
    std::ofstream(p) << j.dump(2) << "\n";
}

} // namespace tunsim_test
