#include "cli.h"

#include "common/number-text.h"

#include "scenario/scenario.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>

namespace po = boost::program_options;

namespace tunsim
{

po::variables_map
ParseCommandLine(int argc,
                 char** argv,
                 const po::options_description& visible,
                 const std::vector<std::pair<std::string, int>>& positional,
                 const std::string& command)
{
    po::options_description hidden;
    po::positional_options_description pos;
    for (const auto& [name, count] : positional)
    {
        if (count == 1)
        {
            hidden.add_options()(name.c_str(), po::value<std::string>());
        }
        else
        {
            hidden.add_options()(name.c_str(), po::value<std::vector<std::string>>());
        }
        pos.add(name.c_str(), count);
    }
    po::options_description all;
    all.add(visible).add(hidden);
    po::variables_map vm;
    try
    {
        po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
        po::notify(vm);
    }
    catch (const po::error& e)
    {
        std::string see = command.empty() ? "tunsim --help" : "tunsim " + command + " --help";
        throw BadInput(std::string("usage: ") + e.what() + " (see " + see + ")");
    }
    return vm;
}

void
CheckOutputDirectory(const std::string& dir)
{
    namespace fs = std::filesystem;
    if (dir.empty())
    {
        throw BadInput("--out: must name a directory, got an empty path");
    }
    std::error_code ec;
    fs::path p = fs::absolute(fs::path(dir), ec);
    if (fs::exists(p, ec) && !fs::is_directory(p, ec))
    {
        throw BadInput("--out: " + dir + " exists and is not a directory");
    }
    // The nearest existing ancestor (or the directory itself) must be a
    // writable directory.
    while (!fs::exists(p, ec) && p.has_parent_path() && p != p.parent_path())
    {
        p = p.parent_path();
    }
    if (!fs::is_directory(p, ec))
    {
        throw BadInput("--out: " + dir + " cannot be created: " + p.string() + " is not a directory");
    }
    if (::access(p.c_str(), W_OK | X_OK) != 0)
    {
        throw BadInput("--out: " + dir + " cannot be written: " + p.string() + ": " + std::strerror(errno));
    }
}

std::string
DefaultOutputDir(const std::string& name, const std::string& suffix)
{
    std::string safe;
    for (unsigned char c : name)
    {
        const bool ok = std::isalnum(c) || c == '.' || c == '_' || c == '+' || c == '-';
        safe += ok ? static_cast<char>(c) : '_';
    }
    if (safe.empty() || safe[0] == '.')
    {
        safe = "_" + safe;
    }
    constexpr size_t kMax = 100;
    if (safe.size() > kMax)
    {
        char h[16];
        std::snprintf(h, sizeof h, "-%08zx", std::hash<std::string>{}(name) & 0xffffffffu);
        safe = safe.substr(0, kMax) + h;
    }
    return "results/" + safe + suffix;
}

OutputDirectory::OutputDirectory(const std::string& dir)
    : m_dir(dir)
{
    namespace fs = std::filesystem;
    CheckOutputDirectory(dir);
    std::error_code ec;
    for (fs::path p = fs::absolute(fs::path(dir), ec); !p.empty() && p != p.parent_path(); p = p.parent_path())
    {
        if (fs::exists(p, ec))
        {
            break;
        }
        m_created.push_back(p.string());
    }
    // mkdir one level at a time; another process creating the same levels
    // at the same time (a sweep's runs) is not an error.
    for (auto it = m_created.rbegin(); it != m_created.rend(); ++it)
    {
        if (::mkdir(it->c_str(), 0755) != 0 && errno != EEXIST)
        {
            ec = std::error_code(errno, std::generic_category());
            break;
        }
    }
    const std::string probe = (fs::path(dir) / (".tunsim-probe-" + std::to_string(::getpid()))).string();
    const int fd = ec ? -1 : ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    const int err = ec ? ec.value() : errno;
    bool ok = fd >= 0 && ::write(fd, "x", 1) == 1;
    if (fd >= 0)
    {
        ok = ::close(fd) == 0 && ok;
        ::unlink(probe.c_str());
    }
    if (!ok)
    {
        Undo();
        throw BadInput("--out: " + dir + " cannot be written: " + std::strerror(err ? err : EIO));
    }
}

void
OutputDirectory::Undo() const
{
    for (const auto& d : m_created)
    {
        ::rmdir(d.c_str()); // only if empty
    }
}

double
BoundedNumber(const std::string& option, const std::string& text, double lo, double hi)
{
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v) || v < lo || v > hi)
    {
        throw BadInput(option + ": must be a number in [" + NumberText(lo) + ", " + NumberText(hi) +
                       "], got \"" + text + "\"");
    }
    return v;
}

uint64_t
BoundedCount(const std::string& option, const std::string& text, uint64_t lo, uint64_t hi)
{
    const bool digits = !text.empty() && text.size() <= 19 &&
                        text.find_first_not_of("0123456789") == std::string::npos;
    const uint64_t v = digits ? std::stoull(text) : 0;
    if (!digits || v < lo || v > hi)
    {
        throw BadInput(option + ": must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                       "], got \"" + text + "\"");
    }
    return v;
}

std::string
MessageText(const std::string& message)
{
    constexpr size_t kHead = 1000;
    if (message.size() <= 2 * kHead)
    {
        return message;
    }
    return message.substr(0, kHead) + "... [" + std::to_string(message.size() - kHead) + " more characters]";
}

int
RunCommand(const std::string& prefix, const std::function<int()>& body)
{
    try
    {
        return body();
    }
    catch (const ScenarioError& e)
    {
        std::cerr << prefix << ": " << MessageText(e.what()) << "\n";
        return kExitBadInput;
    }
    catch (const BadInput& e)
    {
        std::cerr << prefix << ": " << MessageText(e.what()) << "\n";
        return kExitBadInput;
    }
    catch (const std::exception& e)
    {
        std::cerr << prefix << ": error: " << MessageText(e.what()) << "\n";
        return kExitFailure;
    }
}

} // namespace tunsim
