// Running a sweep's plan in child processes. See runner.h.
#include "runner.h"

#include "common/errors.h"
#include "csv.h"
#include "progress.h"
#include "result/result-writer.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

namespace tunsim::sweep
{

namespace fs = std::filesystem;

namespace
{

using Clock = std::chrono::steady_clock;

/// The last few non-empty lines of a log: the error a failed run printed.
std::string
LogTail(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line))
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

/// A child's wait status as a reader wants it: "exit status 3 (packet
/// conservation violated)", "killed by signal 9 (Killed)".
std::string
StatusText(int status)
{
    if (WIFEXITED(status))
    {
        int c = WEXITSTATUS(status);
        std::string s = "exit status " + std::to_string(c);
        if (c == kExitConservation)
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

/// Start `exe args...` in `dir` with stdout and stderr to `log`, stdin from
/// /dev/null. The child dies with the sweep.
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

void
OnAlarm(int)
{
    // Nothing: the signal only interrupts waitpid() so that the line is redrawn.
}

/// While it lives (and `on`), SIGALRM twice a second, without SA_RESTART:
/// waitpid() returns EINTR and the progress line is redrawn.
class RepaintTimer
{
  public:
    explicit RepaintTimer(bool on)
        : m_on(on)
    {
        if (!m_on)
        {
            return;
        }
        struct sigaction sa
        {
        };
        sa.sa_handler = OnAlarm;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0;
        sigaction(SIGALRM, &sa, nullptr);
        itimerval t{{0, 500000}, {0, 500000}};
        setitimer(ITIMER_REAL, &t, nullptr);
    }

    ~RepaintTimer()
    {
        if (m_on)
        {
            itimerval t{};
            setitimer(ITIMER_REAL, &t, nullptr);
            signal(SIGALRM, SIG_DFL);
        }
    }

    RepaintTimer(const RepaintTimer&) = delete;
    RepaintTimer& operator=(const RepaintTimer&) = delete;

  private:
    bool m_on;
};

/// The indices of the runs whose result is not complete.
std::vector<size_t>
PendingRuns(const Plan& plan, const fs::path& dir)
{
    std::vector<size_t> todo;
    for (size_t i = 0; i < plan.runs.size(); ++i)
    {
        if (!CompleteResult(dir, plan.runs[i]))
        {
            todo.push_back(i);
        }
    }
    return todo;
}

/// Start one run, its directory made and a stale result (of another
/// scenario) removed first.
pid_t
StartRun(const Plan& plan, const fs::path& dir, const std::string& exe, const Run& r)
{
    fs::create_directories(dir / r.dir);
    std::error_code ec;
    fs::remove(dir / r.dir / "result.json", ec);
    return Spawn(exe, dir, RunArgs(plan, r), dir / r.dir / "run.log");
}

/// A finished run: ok when it exited 0 and left its result, else a failure
/// (reported at once). Either way, progress moves on.
void
Judge(const Plan& plan, const fs::path& dir, size_t ri, int status, double secs, Progress& progress,
      std::vector<Failure>& failures)
{
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
    progress.Done(failures.size(), what, outcome);
}

double
Seconds(Clock::duration d)
{
    return std::chrono::duration<double>(d).count();
}

} // namespace

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

RunOutcome
RunPlan(const Plan& plan, const fs::path& dir, const RunnerOptions& options)
{
    const std::vector<size_t> todo = PendingRuns(plan, dir);
    const size_t already = plan.runs.size() - todo.size();
    const bool tty = !options.quiet && isatty(STDERR_FILENO);
    if (!options.quiet)
    {
        std::fprintf(stderr, "sweep: %zu points x %zu seeds = %zu runs; %zu already complete, %zu to run, %u at a time\n",
                     plan.points.size(), plan.seeds.size(), plan.runs.size(), already, todo.size(), options.jobs);
    }
    Progress progress(plan.runs.size(), already, tty, options.quiet);
    RunOutcome out;
    struct Child
    {
        size_t run;
        Clock::time_point start;
    };
    std::map<pid_t, Child> running;
    size_t next = 0;
    const auto start = Clock::now();
    {
        RepaintTimer timer(tty);
        progress.Tick();
        while (next < todo.size() || !running.empty())
        {
            while (next < todo.size() && running.size() < options.jobs)
            {
                running[StartRun(plan, dir, options.exe, plan.runs[todo[next]])] = {todo[next], Clock::now()};
                ++next;
            }
            int status = 0;
            const pid_t pid = waitpid(-1, &status, 0);
            if (pid < 0)
            {
                if (errno != EINTR)
                {
                    throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
                }
                progress.Tick();
                continue;
            }
            auto it = running.find(pid);
            if (it == running.end())
            {
                continue;
            }
            const Child child = it->second;
            running.erase(it);
            const double secs = Seconds(Clock::now() - child.start);
            out.sumRunS += secs;
            ++out.ran;
            Judge(plan, dir, child.run, status, secs, progress, out.failures);
        }
    }
    progress.Finish();
    out.wallS = Seconds(Clock::now() - start);
    return out;
}

void
WriteFailuresCsv(const Plan& plan, const fs::path& dir, const std::vector<Failure>& failures)
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

int
ReportSweep(const Plan& plan,
            const fs::path& dir,
            const RunnerOptions& options,
            const RunOutcome& outcome,
            const std::vector<SweepRecord>& records)
{
    if (!options.quiet)
    {
        std::fprintf(stderr, "sweep: ran %zu runs in %.2f s wall with %u jobs (sum of run times %.2f s: speed-up %.2f)\n",
                     outcome.ran, outcome.wallS, options.jobs, outcome.sumRunS,
                     outcome.wallS > 0 ? outcome.sumRunS / outcome.wallS : 0.0);
        size_t rows = 0;
        for (const auto& r : records)
        {
            rows += r.result.flows.size();
        }
        std::fprintf(stderr, "sweep: %zu rows from %zu results -> %s, %s\n", rows, records.size(),
                     (dir / "results.csv").c_str(), (dir / "summary.csv").c_str());
    }
    if (outcome.failures.empty())
    {
        return kExitOk;
    }
    std::fprintf(stderr, "sweep: %zu of %zu runs FAILED (listed in %s):\n", outcome.failures.size(), plan.runs.size(),
                 (dir / "failures.csv").c_str());
    for (const auto& f : outcome.failures)
    {
        const Run& r = plan.runs[f.run];
        std::fprintf(stderr, "  %s seed %llu: %s: %s (log: %s)\n", plan.points[r.point].id.c_str(), r.seed,
                     f.status.c_str(), f.error.c_str(), (dir / r.dir / "run.log").c_str());
    }
    return kExitRunsFailed;
}

} // namespace tunsim::sweep
