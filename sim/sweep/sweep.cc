// tunsim sweep / tunsim merge. See sim/sweep.h and docs/sweep.md.
#include "sweep.h"

#include "cli/cli.h"
#include "common/number-text.h"
#include "csv.h"
#include "emit.h"
#include "plan.h"
#include "tables.h"
#include "result/result-writer.h"
#include "result/run-result.h"
#include "scenario/scenario.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

namespace tunsim
{

namespace po = boost::program_options;
namespace fs = std::filesystem;
using nlohmann::json;

namespace
{

using Clock = std::chrono::steady_clock;
using sweep::CsvLine;
using sweep::Plan;
using sweep::Run;

// ------------------------------------------------------------ small helpers

std::string
ReadFile(const fs::path& p, bool* ok = nullptr)
{
    std::ifstream in(p, std::ios::binary);
    if (ok)
    {
        *ok = static_cast<bool>(in);
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// Parse a JSON file (a sweep.json manifest); null when missing or not JSON.
json
ReadJson(const fs::path& p)
{
    bool ok = false;
    std::string text = ReadFile(p, &ok);
    if (!ok)
    {
        return nullptr;
    }
    json j = json::parse(text, nullptr, false);
    return j.is_discarded() ? json(nullptr) : j;
}

/// The last few non-empty lines of a log: the error a failed run printed.
std::string
LogTail(const fs::path& p)
{
    std::string text = ReadFile(p);
    std::vector<std::string> lines;
    std::stringstream ss(text);
    std::string line;
    while (std::getline(ss, line))
    {
        if (!line.empty())
        {
            lines.push_back(line);
        }
    }
    std::string out;
    size_t from = lines.size() > 3 ? lines.size() - 3 : 0;
    for (size_t i = from; i < lines.size(); ++i)
    {
        out += (out.empty() ? "" : " | ") + lines[i];
    }
    if (out.size() > 600)
    {
        out = out.substr(out.size() - 600);
    }
    return out.empty() ? "(no output)" : out;
}

std::string
StatusText(int status)
{
    if (WIFEXITED(status))
    {
        int c = WEXITSTATUS(status);
        std::string s = "exit status " + std::to_string(c);
        if (c == 3)
        {
            s += " (packet conservation violated)";
        }
        else if (c == 127)
        {
            s += " (could not execute tunsim)";
        }
        return s;
    }
    if (WIFSIGNALED(status))
    {
        int sig = WTERMSIG(status);
        const char* name = strsignal(sig);
        return "killed by signal " + std::to_string(sig) + (name ? std::string(" (") + name + ")" : "");
    }
    return "status " + std::to_string(status);
}

std::string
FormatDuration(double s)
{
    if (!std::isfinite(s) || s < 0)
    {
        return "?";
    }
    long t = std::lround(s);
    char buf[32];
    if (t >= 3600)
    {
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    }
    else
    {
        std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
    }
    return buf;
}

std::string
SelfExe()
{
    std::error_code ec;
    fs::path p = fs::read_symlink("/proc/self/exe", ec);
    if (ec)
    {
        throw std::runtime_error(std::string("/proc/self/exe: ") + ec.message());
    }
    return p.string();
}

/// The run's result when its result.json is a tunsim result of exactly the
/// scenario the run must produce; nullopt otherwise (missing, unreadable,
/// another scenario).
std::optional<RunResult>
CompleteResult(const fs::path& dir, const Run& r)
{
    try
    {
        RunResult result = ReadResultFile((dir / r.dir / "result.json").string());
        if (result.scenario != r.scenario)
        {
            return std::nullopt;
        }
        return result;
    }
    catch (const BadInput&)
    {
        return std::nullopt;
    }
}

} // namespace

namespace
{

// ------------------------------------------------------------ running

volatile sig_atomic_t g_tick = 0;

void
OnAlarm(int)
{
    g_tick = 1;
}

struct Failure
{
    size_t run;
    std::string status;
    std::string error;
};

class Progress
{
  public:
    Progress(size_t total, size_t toRun, bool tty, bool quiet)
        : m_total(total), m_toRun(toRun), m_tty(tty), m_quiet(quiet), m_start(Clock::now())
    {
    }

    void Done(size_t alreadyDone, size_t done, size_t failed, const std::string& what, const std::string& outcome)
    {
        m_doneNow = done;
        m_failed = failed;
        m_already = alreadyDone;
        if (m_tty)
        {
            Paint();
        }
        else if (!m_quiet)
        {
            std::fprintf(stderr, "sweep: [%zu/%zu] %s: %s (ETA %s)\n", m_already + m_doneNow, m_total,
                         what.c_str(), outcome.c_str(), FormatDuration(Eta()).c_str());
        }
    }

    void Tick()
    {
        if (m_tty)
        {
            Paint();
        }
    }

    void Finish()
    {
        if (m_tty)
        {
            Paint();
            std::fprintf(stderr, "\n");
        }
    }

    /// On a terminal, a failure is printed above the bar.
    void Note(const std::string& line)
    {
        if (m_tty)
        {
            std::fprintf(stderr, "\r\033[K%s\n", line.c_str());
            Paint();
        }
    }

  private:
    double Elapsed() const { return std::chrono::duration<double>(Clock::now() - m_start).count(); }

    double Eta() const
    {
        if (m_doneNow == 0)
        {
            return std::nan("");
        }
        return Elapsed() / m_doneNow * (m_toRun - m_doneNow);
    }

    void Paint()
    {
        const size_t done = m_already + m_doneNow;
        const int width = 30;
        int fill = m_total ? static_cast<int>(width * done / m_total) : width;
        std::string bar(fill, '#');
        bar += std::string(width - fill, '.');
        std::fprintf(stderr, "\r\033[Ksweep [%s] %zu/%zu runs  %zu failed  elapsed %s  ETA %s", bar.c_str(), done,
                     m_total, m_failed, FormatDuration(Elapsed()).c_str(),
                     m_doneNow == m_toRun ? "0:00" : FormatDuration(Eta()).c_str());
        std::fflush(stderr);
    }

    size_t m_total;
    size_t m_toRun;
    bool m_tty;
    bool m_quiet;
    Clock::time_point m_start;
    size_t m_doneNow = 0;
    size_t m_failed = 0;
    size_t m_already = 0;
};

pid_t
Spawn(const std::string& exe, const fs::path& dir, const std::vector<std::string>& args, const fs::path& log)
{
    std::vector<std::string> all{exe};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all)
    {
        argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    const std::string dirS = dir.string();
    const std::string logS = log.string();
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
    {
        throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0)
    {
        // The run dies with the sweep (kill -9 included): nothing keeps
        // running unseen, and its temporary file is never renamed into place.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
        {
            _exit(126);
        }
        signal(SIGALRM, SIG_DFL);
        if (chdir(dirS.c_str()) != 0)
        {
            _exit(126);
        }
        int fd = ::open(logS.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0)
        {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        int nul = ::open("/dev/null", O_RDONLY);
        if (nul >= 0)
        {
            dup2(nul, 0);
            close(nul);
        }
        execv(exe.c_str(), argv.data());
        std::fprintf(stderr, "tunsim sweep: cannot execute %s: %s\n", exe.c_str(), std::strerror(errno));
        _exit(127);
    }
    return pid;
}

// ------------------------------------------------------------ collecting

std::vector<std::string>
InferKeys(const std::vector<json>& scenarios)
{
    // Leaves whose values differ between scenarios (seed excluded).
    std::map<std::string, std::set<std::string>> seen;
    std::vector<std::string> order;
    std::function<void(const json&, const std::string&, std::map<std::string, std::string>&)> walk =
        [&](const json& j, const std::string& path, std::map<std::string, std::string>& leaves) {
            if (j.is_object())
            {
                for (auto it = j.begin(); it != j.end(); ++it)
                {
                    walk(it.value(), path.empty() ? it.key() : path + "." + it.key(), leaves);
                }
            }
            else if (j.is_array() && !j.empty())
            {
                for (size_t i = 0; i < j.size(); ++i)
                {
                    walk(j[i], path + "." + std::to_string(i), leaves);
                }
            }
            else
            {
                leaves[path] = j.dump();
            }
        };
    std::vector<std::map<std::string, std::string>> all;
    for (const auto& s : scenarios)
    {
        std::map<std::string, std::string> leaves;
        walk(s, "", leaves);
        for (const auto& [k, v] : leaves)
        {
            if (!seen.count(k))
            {
                order.push_back(k);
            }
            seen[k].insert(v);
        }
        all.push_back(std::move(leaves));
    }
    std::vector<std::string> keys;
    for (const auto& k : order)
    {
        if (k == "seed")
        {
            continue;
        }
        bool differs = seen[k].size() > 1;
        for (const auto& l : all)
        {
            differs |= !l.count(k);
        }
        if (differs)
        {
            keys.push_back(k);
        }
    }
    return keys;
}

/// Numeric-aware comparison of two value tuples.
bool
ValuesLess(const std::vector<std::string>& a, const std::vector<std::string>& b)
{
    for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    {
        if (a[i] == b[i])
        {
            continue;
        }
        char* ea;
        char* eb;
        double x = std::strtod(a[i].c_str(), &ea);
        double y = std::strtod(b[i].c_str(), &eb);
        if (!a[i].empty() && !b[i].empty() && *ea == 0 && *eb == 0 && x != y)
        {
            return x < y;
        }
        return a[i] < b[i];
    }
    return a.size() < b.size();
}

/// A result as JSON without its wall-clock block: what two runs of the same
/// point and seed must agree on.
std::string
WithoutWall(const RunResult& r)
{
    json j = ToJson(r);
    j.erase("wall");
    return j.dump();
}

struct Collected
{
    std::vector<std::string> keys;
    std::vector<SweepRecord> records;
    std::vector<std::string> missing; ///< "point seed S" in a manifest without a result
    std::vector<std::string> warnings;
};

/// Gather every result.json under `dirs`; order by the manifests' point order.
Collected
Collect(const std::vector<std::string>& dirs)
{
    Collected c;
    std::vector<json> manifests;
    for (const auto& d : dirs)
    {
        if (!fs::is_directory(d))
        {
            throw BadInput(d + ": not a directory");
        }
        json m = ReadJson(fs::path(d) / "sweep.json");
        if (m.is_object() && m.contains("keys") && m.contains("points"))
        {
            manifests.push_back(std::move(m));
        }
    }
    std::vector<fs::path> files;
    for (const auto& d : dirs)
    {
        std::error_code ec;
        for (auto it = fs::recursive_directory_iterator(d, fs::directory_options::skip_permission_denied, ec);
             it != fs::recursive_directory_iterator(); it.increment(ec))
        {
            if (ec)
            {
                break;
            }
            if (it->is_regular_file() && it->path().filename() == "result.json")
            {
                files.push_back(it->path());
            }
        }
    }
    std::sort(files.begin(), files.end());
    std::vector<RunResult> results;
    std::vector<fs::path> used;
    for (const auto& f : files)
    {
        try
        {
            results.push_back(ReadResultFile(f.string()));
            used.push_back(f);
        }
        catch (const BadInput&)
        {
            c.warnings.push_back(f.string() + ": not a tunsim result; skipped");
        }
    }

    // Keys: the manifests' (union, first seen first), else what differs.
    std::map<std::string, size_t> order; // point id -> position
    std::map<std::string, std::vector<unsigned long long>> expectedSeeds;
    for (const auto& m : manifests)
    {
        for (const auto& k : m["keys"])
        {
            if (std::find(c.keys.begin(), c.keys.end(), k.get<std::string>()) == c.keys.end())
            {
                c.keys.push_back(k.get<std::string>());
            }
        }
    }
    if (manifests.empty())
    {
        std::vector<json> scenarios;
        for (const auto& r : results)
        {
            scenarios.push_back(r.scenario);
        }
        c.keys = InferKeys(scenarios);
    }
    for (const auto& m : manifests)
    {
        if (m["keys"].get<std::vector<std::string>>() != c.keys)
        {
            c.warnings.push_back("the sweep.json manifests vary different keys; points are matched on " +
                                 std::to_string(c.keys.size()) + " keys");
            continue;
        }
        for (const auto& p : m["points"])
        {
            const std::string id = p["id"].get<std::string>();
            if (!order.count(id))
            {
                order[id] = order.size();
            }
            for (const auto& s : m["seeds"])
            {
                auto& v = expectedSeeds[id];
                if (std::find(v.begin(), v.end(), s.get<unsigned long long>()) == v.end())
                {
                    v.push_back(s.get<unsigned long long>());
                }
            }
        }
    }

    std::map<std::pair<std::string, unsigned long long>, size_t> byRun;
    for (size_t i = 0; i < results.size(); ++i)
    {
        SweepRecord rec;
        for (const auto& k : c.keys)
        {
            rec.values.push_back(ValueText(ValueAtKey(results[i].scenario, k)));
        }
        rec.point = PointId(c.keys, rec.values);
        rec.seed = results[i].seed;
        auto key = std::make_pair(rec.point, rec.seed);
        auto it = byRun.find(key);
        if (it != byRun.end())
        {
            if (WithoutWall(c.records[it->second].result) != WithoutWall(results[i]))
            {
                c.warnings.push_back(used[i].string() + ": point " + rec.point + " seed " +
                                     std::to_string(rec.seed) +
                                     " was already read from another file with different results; kept the first");
            }
            continue;
        }
        rec.result = std::move(results[i]);
        byRun[key] = c.records.size();
        c.records.push_back(std::move(rec));
    }
    std::stable_sort(c.records.begin(), c.records.end(), [&](const SweepRecord& a, const SweepRecord& b) {
        auto ia = order.find(a.point);
        auto ib = order.find(b.point);
        size_t pa = ia == order.end() ? SIZE_MAX : ia->second;
        size_t pb = ib == order.end() ? SIZE_MAX : ib->second;
        if (pa != pb)
        {
            return pa < pb;
        }
        if (a.point != b.point)
        {
            return ValuesLess(a.values, b.values);
        }
        return a.seed < b.seed;
    });
    std::vector<std::pair<size_t, std::string>> missing;
    for (const auto& [id, seeds] : expectedSeeds)
    {
        for (auto s : seeds)
        {
            if (!byRun.count({id, s}))
            {
                missing.emplace_back(order[id], id + " seed " + std::to_string(s));
            }
        }
    }
    std::sort(missing.begin(), missing.end());
    for (auto& m : missing)
    {
        c.missing.push_back(m.second);
    }
    return c;
}

const char* kSweepUsage = R"(usage:
  tunsim sweep SCENARIO.json --vary KEY=V1,V2,... [--vary ...] [--set key=value]...
               [--seeds N] [--jobs N] [--emit parallel|slurm] --out DIR
  tunsim merge DIR... [--out DIR]

sweep runs the cartesian product of the --vary lists, each point and seed as
its own `tunsim run` (child process), --jobs at a time (default: all cores),
into DIR/points/<point>/seed-<S>/result.json; then writes DIR/results.csv
(one row per point x seed x flow) and DIR/summary.csv (mean and 95 % CI per
point x flow). Values are read like --set values (JSON, else a string).
Running it again skips runs whose result.json holds the same scenario.
--emit parallel writes DIR/jobs.txt for GNU parallel; --emit slurm also writes
DIR/sweep.sbatch (a job array); nothing is run. merge builds the CSVs from
result files gathered in one or more directories.

exit codes: 0 ok; 2 bad input (nothing run); 4 some runs failed (sweep: see
DIR/failures.csv) or are missing (merge); 1 other failure.
docs: docs/sweep.md.
)";

int
SweepMain(int argc, char** argv)
{
    po::options_description opts("sweep options");
    opts.add_options()("help,h", "show help")(
        "vary", po::value<std::vector<std::string>>()->composing(), "KEY=V1,V2,...")(
        "set", po::value<std::vector<std::string>>()->composing(), "key=value for every point")(
        "seeds", po::value<unsigned>()->default_value(1), "seeds per point (scenario seed, +1, ...)")(
        "jobs,j", po::value<unsigned>(), "runs at a time (default: nproc)")(
        "emit", po::value<std::string>(), "parallel | slurm: write a job list, run nothing")(
        "out,o", po::value<std::string>(), "sweep directory")("quiet,q", "no progress output");
    po::variables_map vm = ParseCommandLine(argc, argv, opts, {{"scenario", -1}}, "sweep");
    if (vm.count("help"))
    {
        std::cout << kSweepUsage << "\n" << opts;
        return kExitOk;
    }
    std::vector<std::string> scen = vm.count("scenario") ? vm["scenario"].as<std::vector<std::string>>()
                                                         : std::vector<std::string>{};
    if (scen.size() != 1 || !vm.count("out"))
    {
        throw BadInput("usage: tunsim sweep SCENARIO.json --vary KEY=V1,V2,... --out DIR (see tunsim sweep --help)");
    }
    const unsigned seeds = vm["seeds"].as<unsigned>();
    if (seeds < 1)
    {
        throw BadInput("--seeds: must be at least 1");
    }
    unsigned jobs = vm.count("jobs") ? vm["jobs"].as<unsigned>() : 0;
    if (vm.count("jobs") && jobs < 1)
    {
        throw BadInput("--jobs: must be at least 1");
    }
    if (jobs == 0)
    {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = n > 0 ? static_cast<unsigned>(n) : 1;
    }
    std::string emit = vm.count("emit") ? vm["emit"].as<std::string>() : "";
    if (!emit.empty() && emit != "parallel" && emit != "slurm")
    {
        throw BadInput("--emit: must be parallel or slurm, got \"" + emit + "\"");
    }
    const bool quiet = vm.count("quiet") > 0;
    const fs::path dir = fs::absolute(vm["out"].as<std::string>());
    {
        std::error_code ec;
        if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
        {
            throw BadInput("--out: " + dir.string() + " exists and is not a directory");
        }
    }
    std::vector<std::string> sets = vm.count("set") ? vm["set"].as<std::vector<std::string>>()
                                                    : std::vector<std::string>{};
    std::vector<std::string> varies = vm.count("vary") ? vm["vary"].as<std::vector<std::string>>()
                                                       : std::vector<std::string>{};

    const Plan plan = sweep::MakePlan(scen[0], sets, varies, seeds);

    const std::string exe = SelfExe();
    fs::create_directories(dir);
    sweep::WritePlanFiles(plan, dir);

    if (!emit.empty())
    {
        sweep::WriteJobFiles(plan, dir, exe, emit == "slurm" ? sweep::EmitKind::Slurm : sweep::EmitKind::Parallel);
        return kExitOk;
    }

    // Skip what is complete.
    std::vector<size_t> todo;
    for (size_t i = 0; i < plan.runs.size(); ++i)
    {
        if (!CompleteResult(dir, plan.runs[i]))
        {
            todo.push_back(i);
        }
    }
    const size_t already = plan.runs.size() - todo.size();
    const bool tty = !quiet && isatty(STDERR_FILENO);
    if (!quiet)
    {
        std::fprintf(stderr, "sweep: %zu points x %zu seeds = %zu runs; %zu already complete, %zu to run, %u at a time\n",
                     plan.points.size(), plan.seeds.size(), plan.runs.size(), already, todo.size(), jobs);
    }
    Progress progress(plan.runs.size(), todo.size(), tty, quiet);
    if (tty)
    {
        struct sigaction sa
        {
        };
        sa.sa_handler = OnAlarm;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0; // no SA_RESTART: waitpid returns EINTR to repaint
        sigaction(SIGALRM, &sa, nullptr);
        itimerval t{{0, 500000}, {0, 500000}};
        setitimer(ITIMER_REAL, &t, nullptr);
        progress.Tick();
    }

    std::vector<Failure> failures;
    std::map<pid_t, std::pair<size_t, Clock::time_point>> running;
    size_t next = 0;
    size_t done = 0;
    double sumRunS = 0;
    const auto start = Clock::now();
    while (next < todo.size() || !running.empty())
    {
        while (next < todo.size() && running.size() < jobs)
        {
            const Run& r = plan.runs[todo[next]];
            fs::create_directories(dir / r.dir);
            std::error_code ec;
            fs::remove(dir / r.dir / "result.json", ec); // a stale result of another scenario
            pid_t pid = Spawn(exe, dir, sweep::RunArgs(plan, r), dir / r.dir / "run.log");
            running[pid] = {todo[next], Clock::now()};
            ++next;
        }
        int status = 0;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0)
        {
            if (errno == EINTR)
            {
                g_tick = 0;
                progress.Tick();
                continue;
            }
            throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
        }
        auto it = running.find(pid);
        if (it == running.end())
        {
            continue;
        }
        const size_t ri = it->second.first;
        const double secs = std::chrono::duration<double>(Clock::now() - it->second.second).count();
        sumRunS += secs;
        running.erase(it);
        ++done;
        const Run& r = plan.runs[ri];
        const std::string what = plan.points[r.point].id + " seed " + std::to_string(r.seed);
        std::string outcome;
        const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (ok && CompleteResult(dir, r))
        {
            char buf[64];
            std::snprintf(buf, sizeof buf, "ok (%.2f s)", secs);
            outcome = buf;
        }
        else
        {
            Failure f{ri, ok ? "exit status 0 but no matching result.json" : StatusText(status),
                      LogTail(dir / r.dir / "run.log")};
            outcome = "FAILED, " + f.status + ": " + f.error;
            progress.Note("sweep: " + what + ": " + outcome);
            failures.push_back(std::move(f));
        }
        progress.Done(already, done, failures.size(), what, outcome);
    }
    if (tty)
    {
        itimerval t{};
        setitimer(ITIMER_REAL, &t, nullptr);
        signal(SIGALRM, SIG_DFL);
        progress.Finish();
    }
    const double wall = std::chrono::duration<double>(Clock::now() - start).count();

    // Skipped runs whose result violates conservation are failures too (exit 3 when run).
    std::set<size_t> failedRuns;
    for (const auto& f : failures)
    {
        failedRuns.insert(f.run);
    }
    std::vector<SweepRecord> recs;
    for (size_t i = 0; i < plan.runs.size(); ++i)
    {
        const Run& r = plan.runs[i];
        std::optional<RunResult> result = CompleteResult(dir, r);
        if (!result)
        {
            if (!failedRuns.count(i))
            {
                failures.push_back({i, "no result", "result.json missing or for another scenario"});
                failedRuns.insert(i);
            }
            continue;
        }
        if (!result->conservation.ok && !failedRuns.count(i))
        {
            failures.push_back({i, "exit status 3 (packet conservation violated)",
                                "conservation.ok is false in " + r.dir + "/result.json"});
            failedRuns.insert(i);
        }
        SweepRecord rec;
        rec.point = plan.points[r.point].id;
        rec.values = plan.points[r.point].values;
        rec.seed = r.seed;
        rec.result = std::move(*result);
        recs.push_back(std::move(rec));
    }
    sweep::WriteTables(dir, plan.keys, recs);
    std::sort(failures.begin(), failures.end(), [](const Failure& a, const Failure& b) { return a.run < b.run; });
    {
        std::vector<std::string> h{"point"};
        h.insert(h.end(), plan.keys.begin(), plan.keys.end());
        for (const char* c : {"seed", "status", "log", "error"})
        {
            h.push_back(c);
        }
        std::string text = CsvLine(h);
        for (const auto& f : failures)
        {
            const Run& r = plan.runs[f.run];
            std::vector<std::string> row{plan.points[r.point].id};
            row.insert(row.end(), plan.points[r.point].values.begin(), plan.points[r.point].values.end());
            row.push_back(std::to_string(r.seed));
            row.push_back(f.status);
            row.push_back(r.dir + "/run.log");
            row.push_back(f.error);
            text += CsvLine(row);
        }
        WriteFileAtomically((dir / "failures.csv").string(), text);
    }
    if (!quiet)
    {
        std::fprintf(stderr, "sweep: ran %zu runs in %.2f s wall with %u jobs (sum of run times %.2f s: speed-up %.2f)\n",
                     done, wall, jobs, sumRunS, wall > 0 ? sumRunS / wall : 0.0);
        std::fprintf(stderr, "sweep: %zu rows from %zu results -> %s, %s\n", [&] {
            size_t n = 0;
            for (const auto& r : recs)
            {
                n += r.result.flows.size();
            }
            return n;
        }(), recs.size(), (dir / "results.csv").c_str(), (dir / "summary.csv").c_str());
    }
    if (!failures.empty())
    {
        std::fprintf(stderr, "sweep: %zu of %zu runs FAILED (listed in %s):\n", failures.size(), plan.runs.size(),
                     (dir / "failures.csv").c_str());
        for (const auto& f : failures)
        {
            const Run& r = plan.runs[f.run];
            std::fprintf(stderr, "  %s seed %llu: %s: %s (log: %s)\n", plan.points[r.point].id.c_str(),
                         static_cast<unsigned long long>(r.seed), f.status.c_str(), f.error.c_str(),
                         (dir / r.dir / "run.log").c_str());
        }
        return kExitRunsFailed;
    }
    return kExitOk;
}

int
MergeMain(int argc, char** argv)
{
    po::options_description opts("merge options");
    opts.add_options()("help,h", "show help")("out,o", po::value<std::string>(),
                                              "where results.csv and summary.csv go (default: the first DIR)");
    po::variables_map vm = ParseCommandLine(argc, argv, opts, {{"dirs", -1}}, "merge");
    if (vm.count("help"))
    {
        std::cout << kSweepUsage << "\n" << opts;
        return kExitOk;
    }
    if (!vm.count("dirs"))
    {
        throw BadInput("usage: tunsim merge DIR... [--out DIR]");
    }
    const auto dirs = vm["dirs"].as<std::vector<std::string>>();
    const Collected c = Collect(dirs);
    for (const auto& w : c.warnings)
    {
        std::cerr << "tunsim merge: warning: " << w << "\n";
    }
    if (c.records.empty())
    {
        throw BadInput("no result.json found under " + dirs[0] + (dirs.size() > 1 ? " ..." : ""));
    }
    const fs::path out = vm.count("out") ? fs::path(vm["out"].as<std::string>()) : fs::path(dirs[0]);
    sweep::WriteTables(out, c.keys, c.records);
    size_t rows = 0;
    size_t bad = 0;
    for (const auto& r : c.records)
    {
        rows += r.result.flows.size();
        bad += r.result.conservation.ok ? 0 : 1;
    }
    std::cout << "merged " << c.records.size() << " results (" << rows << " rows; keys:";
    for (const auto& k : c.keys)
    {
        std::cout << " " << k;
    }
    std::cout << ") -> " << (out / "results.csv").string() << ", " << (out / "summary.csv").string() << "\n";
    int rc = kExitOk;
    if (!c.missing.empty())
    {
        std::cerr << "tunsim merge: " << c.missing.size() << " runs listed in sweep.json have no result:\n";
        for (const auto& m : c.missing)
        {
            std::cerr << "  " << m << "\n";
        }
        rc = kExitRunsFailed;
    }
    if (bad)
    {
        std::cerr << "tunsim merge: " << bad << " results violate packet conservation (conservation_ok = false)\n";
        rc = kExitRunsFailed;
    }
    return rc;
}

} // namespace

int
SweepCommand(int argc, char** argv)
{
    return RunCommand("tunsim sweep", [&] { return SweepMain(argc, argv); });
}

int
MergeCommand(int argc, char** argv)
{
    return RunCommand("tunsim merge", [&] { return MergeMain(argc, argv); });
}

} // namespace tunsim
