// Collecting a sweep's results, read through RunResult, into SweepRecords
// (the rows of results.csv and summary.csv): the runs of a plan just run
// (sweep), or every result.json below some directories (merge), each
// assigned to its point by its resolved values.
#pragma once

#include "plan.h"
#include "runner.h"
#include "sweep.h"

#include <filesystem>
#include <string>
#include <vector>

namespace tunsim::sweep
{

/// The records of a sweep: one per run of the plan whose result is complete
/// (CompleteResult), in plan order. A run without one, or whose result
/// violates packet conservation (also one skipped as already complete), is
/// added to `failures` unless already there; `failures` ends in plan order.
std::vector<SweepRecord> CollectPlan(const Plan& plan, const std::filesystem::path& dir, std::vector<Failure>& failures);

struct Collected
{
    std::vector<std::string> keys; ///< the varied keys
    std::vector<SweepRecord> records;
    std::vector<std::string> missing; ///< "point seed S" in a manifest without a result
    std::vector<std::string> warnings;
};

/// Every result.json below `dirs` (recursively; a file that is not a tunsim
/// result is skipped with a warning). The keys are the dirs' sweep.json
/// manifests' (else every scenario leaf, seed aside, that differs between
/// the results); rows follow the manifests' point order, then the points
/// they do not list by value; the same point and seed twice: the first is
/// kept. BadInput when a DIR is not a directory.
Collected CollectDirs(const std::vector<std::string>& dirs);

} // namespace tunsim::sweep
