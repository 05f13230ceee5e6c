// Running a sweep's plan here: each point x seed is this binary's
// `tunsim run` in a child process (started in the sweep directory, output to
// its run.log, killed if the sweep dies), --jobs at a time. A run whose
// result.json is already complete is skipped, so a killed or failed sweep is
// resumed by running it again. Progress goes to stderr (progress.h); failed
// runs are reported as they happen, at the end, and in failures.csv.
#pragma once

#include "plan.h"
#include "result/run-result.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tunsim::sweep
{

struct RunnerOptions
{
    std::string exe;   ///< the tunsim binary the runs execute
    unsigned jobs = 1; ///< runs at a time
    bool quiet = false;
};

/// A run that failed: its index in Plan::runs, its exit status or signal,
/// and the error (the last lines of its run.log).
struct Failure
{
    size_t run;
    std::string status;
    std::string error;
};

struct RunOutcome
{
    size_t ran = 0;      ///< runs started (and finished) by this invocation
    double wallS = 0;    ///< wall time of running them
    double sumRunS = 0;  ///< the sum of their wall times
    std::vector<Failure> failures;
};

/// This binary (/proc/self/exe).
std::string SelfExe();

/// The run's result when its result.json reads back as a tunsim result of
/// exactly the scenario the run must produce; nullopt otherwise (missing,
/// not a result, another scenario).
std::optional<RunResult> CompleteResult(const std::filesystem::path& dir, const Run& r);

/// Run every run of the plan that is not complete yet.
RunOutcome RunPlan(const Plan& plan, const std::filesystem::path& dir, const RunnerOptions& options);

/// DIR/failures.csv: one row per failure (a header only when none).
void WriteFailuresCsv(const Plan& plan, const std::filesystem::path& dir, const std::vector<Failure>& failures);

/// The closing lines on stderr (times, speed-up, where the CSVs are, every
/// failure); the sweep's exit code: kExitRunsFailed when anything failed.
int ReportSweep(const Plan& plan,
                const std::filesystem::path& dir,
                const RunnerOptions& options,
                const RunOutcome& outcome,
                const std::vector<SweepRecord>& records);

} // namespace tunsim::sweep
