// tunsim sweep / tunsim merge: the command lines, and the steps in order.
//
//   plan     (plan.cc, emit.cc)      resolve and validate every point x seed;
//                                    write scenario.json and sweep.json; with
//                                    --emit, the job list instead of running
//   run      (runner.cc, progress.cc) the runs not complete yet, --jobs at a
//                                    time, each a child `tunsim run`
//   collect  (collect.cc, tables.cc) the results, read through RunResult,
//                                    into results.csv and summary.csv
//
// merge is collect alone, over directories. See sweep.h and docs/sweep.md.
#include "sweep.h"

#include "cli/cli.h"
#include "collect.h"
#include "emit.h"
#include "plan.h"
#include "runner.h"
#include "tables.h"

#include <boost/program_options.hpp>

#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

namespace tunsim
{

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace
{

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

struct SweepOptions
{
    std::string scenario;
    std::vector<std::string> sets;
    std::vector<std::string> varies;
    unsigned seeds = 1;
    unsigned jobs = 1;
    std::optional<sweep::EmitKind> emit;
    bool quiet = false;
    fs::path dir; ///< --out, absolute
};

po::options_description
SweepOptionsDescription()
{
    po::options_description opts("sweep options");
    opts.add_options()("help,h", "show help")(
        "vary", po::value<std::vector<std::string>>()->composing(), "KEY=V1,V2,...")(
        "set", po::value<std::vector<std::string>>()->composing(), "key=value for every point")(
        "seeds", po::value<unsigned>()->default_value(1), "seeds per point (scenario seed, +1, ...)")(
        "jobs,j", po::value<unsigned>(), "runs at a time (default: nproc)")(
        "emit", po::value<std::string>(), "parallel | slurm: write a job list, run nothing")(
        "out,o", po::value<std::string>(), "sweep directory")("quiet,q", "no progress output");
    return opts;
}

/// The values of a repeatable option (none: empty).
std::vector<std::string>
Strings(const po::variables_map& vm, const char* name)
{
    return vm.count(name) ? vm[name].as<std::vector<std::string>>() : std::vector<std::string>{};
}

/// The options checked; BadInput names the first that is wrong.
SweepOptions
ReadSweepOptions(const po::variables_map& vm)
{
    SweepOptions o;
    const std::vector<std::string> scenarios = Strings(vm, "scenario");
    if (scenarios.size() != 1 || !vm.count("out"))
    {
        throw BadInput("usage: tunsim sweep SCENARIO.json --vary KEY=V1,V2,... --out DIR (see tunsim sweep --help)");
    }
    o.scenario = scenarios[0];
    o.seeds = vm["seeds"].as<unsigned>();
    if (o.seeds < 1)
    {
        throw BadInput("--seeds: must be at least 1");
    }
    if (vm.count("jobs"))
    {
        o.jobs = vm["jobs"].as<unsigned>();
        if (o.jobs < 1)
        {
            throw BadInput("--jobs: must be at least 1");
        }
    }
    else
    {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        o.jobs = n > 0 ? static_cast<unsigned>(n) : 1;
    }
    if (vm.count("emit"))
    {
        const std::string emit = vm["emit"].as<std::string>();
        if (emit != "parallel" && emit != "slurm")
        {
            throw BadInput("--emit: must be parallel or slurm, got \"" + emit + "\"");
        }
        o.emit = emit == "slurm" ? sweep::EmitKind::Slurm : sweep::EmitKind::Parallel;
    }
    o.quiet = vm.count("quiet") > 0;
    o.dir = fs::absolute(vm["out"].as<std::string>());
    CheckOutputDirectory(o.dir.string());
    o.sets = Strings(vm, "set");
    o.varies = Strings(vm, "vary");
    return o;
}

int
SweepMain(int argc, char** argv)
{
    const po::options_description opts = SweepOptionsDescription();
    const po::variables_map vm = ParseCommandLine(argc, argv, opts, {{"scenario", -1}}, "sweep");
    if (vm.count("help"))
    {
        std::cout << kSweepUsage << "\n" << opts;
        return kExitOk;
    }
    const SweepOptions o = ReadSweepOptions(vm);

    // Plan: nothing is written before every point and seed is valid.
    const sweep::Plan plan = sweep::MakePlan(o.scenario, o.sets, o.varies, o.seeds);
    const std::string exe = sweep::SelfExe();
    fs::create_directories(o.dir);
    sweep::WritePlanFiles(plan, o.dir);
    if (o.emit)
    {
        sweep::WriteJobFiles(plan, o.dir, exe, *o.emit);
        return kExitOk;
    }

    // Run what is not complete yet.
    const sweep::RunnerOptions runner{exe, o.jobs, o.quiet};
    sweep::RunOutcome ran = sweep::RunPlan(plan, o.dir, runner);

    // Collect every complete result into the CSVs.
    const std::vector<SweepRecord> records = sweep::CollectPlan(plan, o.dir, ran.failures);
    sweep::WriteTables(o.dir, plan.keys, records);
    sweep::WriteFailuresCsv(plan, o.dir, ran.failures);
    return sweep::ReportSweep(plan, o.dir, runner, ran, records);
}

/// What merge found, on stdout; what is missing or violates conservation,
/// on stderr. The exit code.
int
ReportMerge(const sweep::Collected& c, const fs::path& out)
{
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

int
MergeMain(int argc, char** argv)
{
    po::options_description opts("merge options");
    opts.add_options()("help,h", "show help")("out,o", po::value<std::string>(),
                                              "where results.csv and summary.csv go (default: the first DIR)");
    const po::variables_map vm = ParseCommandLine(argc, argv, opts, {{"dirs", -1}}, "merge");
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
    return ReportMerge(c, out);
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
