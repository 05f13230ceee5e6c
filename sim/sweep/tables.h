// results.csv (one row per point x seed x flow) and summary.csv (mean and
// 95 % CI across seeds per point x flow) from a sweep's records. The text
// of each is ResultsCsv / SummaryCsv in sweep.h; docs/sweep.md documents
// every column.
#pragma once

#include "sweep.h"

#include <filesystem>
#include <string>
#include <vector>

namespace tunsim::sweep
{

/// Write DIR/results.csv and DIR/summary.csv (atomically), rows in the
/// order of `records`.
void WriteTables(const std::filesystem::path& dir,
                 const std::vector<std::string>& keys,
                 const std::vector<SweepRecord>& records);

} // namespace tunsim::sweep
