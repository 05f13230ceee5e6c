// tunsim sweep / tunsim merge: parameter sweeps over any scenario key.
//
//   tunsim sweep SCENARIO.json --vary KEY=V1,V2,... [--vary ...] [--set k=v]...
//                [--seeds N] [--jobs N] [--emit parallel|slurm] --out DIR
//   tunsim merge DIR... [--out DIR]
//
// A sweep is the cartesian product of the --vary lists; each point x seed is
// one `tunsim run` in a child process (this very binary), writing
// DIR/points/<point id>/seed-<S>/result.json. At the end DIR/results.csv and
// DIR/summary.csv are rebuilt from the result files. docs/sweep.md documents
// the layout, every CSV column and the exit codes.
//
// The code, in the order a sweep runs: sweep-command.cc (the command lines),
// plan.{h,cc} and emit.{h,cc} (points x seeds, manifest, --emit job lists),
// runner.{h,cc} and progress.{h,cc} (child runs, resume, failures),
// collect.{h,cc} and tables.{h,cc} (results read through RunResult, the CSVs).
#pragma once

#include "common/errors.h"
#include "result/run-result.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace tunsim
{

/// Exit codes of sweep and merge: common/errors.h (kExitRunsFailed: some
/// runs failed or are missing).

/// `tunsim sweep ...`; argv[0] is "sweep". Returns the process exit code.
int SweepCommand(int argc, char** argv);

/// `tunsim merge ...`; argv[0] is "merge". Returns the process exit code.
int MergeCommand(int argc, char** argv);

// ---- pieces exposed for tests ----

/// One --vary: the key as written and the value texts, split at top-level
/// commas (commas inside [...], {...} or "..." do not split).
struct SweepAxis
{
    std::string key;
    std::vector<std::string> values;
};

/// Parse "KEY=V1,V2,..."; throws ScenarioError (field "--vary") on bad syntax.
SweepAxis ParseVary(const std::string& text);

/// The value at dotted `key` ("tun.ring_size", "flows[0].rate_mbps",
/// "flows.0.rate_mbps") in a resolved scenario, or null when absent.
nlohmann::json ValueAtKey(const nlohmann::json& scenario, const std::string& key);

/// A CSV cell for a scenario value: strings as is, numbers in the shortest
/// form that reads back exactly (25, 0.05, 1e6), anything else as JSON.
std::string ValueText(const nlohmann::json& v);

/// Stable, readable directory name of a point: "key=value,key=value"
/// with characters outside [A-Za-z0-9._=,+-] replaced by '_'; a short hash
/// of the exact text is appended when that replacement or truncation made
/// the name lossy. "base" when nothing is varied.
std::string PointId(const std::vector<std::string>& keys, const std::vector<std::string>& values);

/// Two-sided 95 % Student t critical value for `df` degrees of freedom.
double StudentT975(unsigned df);

/// One result file of a sweep: results.csv and summary.csv are built from
/// these, rows in the order of the records given.
struct SweepRecord
{
    std::string point;                 ///< point id
    std::vector<std::string> values;   ///< one per key (ValueText)
    unsigned long long seed = 0;
    RunResult result;                  ///< the result.json read back
};
std::string ResultsCsv(const std::vector<std::string>& keys, const std::vector<SweepRecord>& records);
std::string SummaryCsv(const std::vector<std::string>& keys, const std::vector<SweepRecord>& records);

} // namespace tunsim
