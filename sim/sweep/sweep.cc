// tunsim sweep / tunsim merge. See sim/sweep.h and docs/sweep.md.
#include "sweep.h"

#include "cli/cli.h"
#include "common/number-text.h"
#include "collect.h"
#include "emit.h"
#include "plan.h"
#include "runner.h"
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

using sweep::Plan;

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

    const std::string exe = sweep::SelfExe();
    fs::create_directories(dir);
    sweep::WritePlanFiles(plan, dir);

    if (!emit.empty())
    {
        sweep::WriteJobFiles(plan, dir, exe, emit == "slurm" ? sweep::EmitKind::Slurm : sweep::EmitKind::Parallel);
        return kExitOk;
    }

    const sweep::RunnerOptions options{exe, jobs, quiet};
    sweep::RunOutcome ran = sweep::RunPlan(plan, dir, options);
    const std::vector<SweepRecord> recs = sweep::CollectPlan(plan, dir, ran.failures);
    sweep::WriteTables(dir, plan.keys, recs);
    sweep::WriteFailuresCsv(plan, dir, ran.failures);
    return sweep::ReportSweep(plan, dir, options, ran, recs);
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
    const sweep::Collected c = sweep::CollectDirs(dirs);
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
