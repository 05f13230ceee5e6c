// The plan of a sweep, made and checked before anything is written or run:
// the --vary axes, their cartesian product (the points) times the seeds (the
// runs), each run's resolved scenario and `tunsim run` arguments, and the
// files that describe the plan in the sweep directory (scenario.json, the
// sweep.json manifest). The parsing pieces tests use (ParseVary, ValueAtKey,
// ValueText, PointId) are declared in sweep.h.
#pragma once

#include "sweep.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace tunsim::sweep
{

/// One point x seed: one `tunsim run`.
struct Run
{
    size_t point = 0; ///< index into Plan::points
    unsigned long long seed = 0;
    std::string dir;           ///< relative to the sweep directory: points/<id>/seed-<S>
    nlohmann::json scenario;   ///< resolved scenario this run must produce
};

/// One combination of the axes' values.
struct Point
{
    std::string id;
    std::vector<std::string> assignments; ///< "key=value" as given, one per axis
    std::vector<std::string> values;      ///< ValueText of the resolved value, one per axis
};

struct Plan
{
    std::string scenarioPath;
    nlohmann::json base; ///< the scenario file's JSON
    std::vector<std::string> sets;
    std::vector<SweepAxis> axes;
    std::vector<std::string> keys; ///< the axes' keys, as given
    std::vector<unsigned long long> seeds;
    std::vector<Point> points; ///< the cartesian product, the first axis outermost
    std::vector<Run> runs;     ///< point-major, then seed
};

/// Load the scenario, apply `sets`, and resolve and validate every point and
/// seed. Throws ScenarioError naming the point ("point tun.ring_size=0: ...")
/// on a bad value, a key varied twice, `seed` varied, or two values that
/// resolve to the same point.
Plan MakePlan(const std::string& scenarioPath,
              const std::vector<std::string>& sets,
              const std::vector<std::string>& varies,
              unsigned seedsCount);

/// The arguments after the binary of the run's `tunsim run`, to be started
/// in the sweep directory: run scenario.json --set... --seed S --out DIR -q.
std::vector<std::string> RunArgs(const Plan& plan, const Run& r);

/// Write the files every sweep directory holds: the base scenario the runs
/// read (scenario.json) and the manifest (sweep.json).
void WritePlanFiles(const Plan& plan, const std::filesystem::path& dir);

} // namespace tunsim::sweep
