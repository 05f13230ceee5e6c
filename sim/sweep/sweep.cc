// tunsim sweep / tunsim merge. See sim/sweep.h and docs/sweep.md.
#include "sweep.h"

#include "cli/cli.h"
#include "common/number-text.h"
#include "csv.h"
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

} // namespace

namespace
{

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
    std::vector<sweep::Failure>& failures = ran.failures;

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
        std::optional<RunResult> result = sweep::CompleteResult(dir, r);
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
    std::sort(failures.begin(), failures.end(),
              [](const sweep::Failure& a, const sweep::Failure& b) { return a.run < b.run; });
    sweep::WriteFailuresCsv(plan, dir, failures);
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
