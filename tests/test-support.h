// What the command-line tests share: run a shell command or the tunsim
// binary and collect its exit code and output.
#pragma once

#include <array>
#include <cstdio>
#include <string>

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

} // namespace tunsim_test
