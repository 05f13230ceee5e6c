// tunsim compare: two result files (or result directories), metric by metric.
//
//   tunsim compare A.json|DIR B.json|DIR [--all] [--only PREFIX]... [--changed] [--csv]
//
// Works on any two results: sim vs kernel, two policies, two builds.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace tunsim
{

/// `tunsim compare ...` (argv[0] is "compare"). Exit codes: 0 ok; 2 bad input.
int CompareCommand(int argc, char** argv);

/// One leaf of a result, by dotted path ("flows[0].loss_ratio").
struct Leaf
{
    enum class Kind
    {
        Number,
        Bool,
        String,
        Null
    } kind = Kind::Null;
    double number = 0.0;
    std::string text; ///< the value as printed
};

/// Every scalar leaf of a result (arrays as [i]). Without `all`, the blocks
/// that are not measurements are left out: scenario, tunsim, wall.
std::map<std::string, Leaf> FlattenResult(const nlohmann::json& j, bool all);

/// One row of the comparison.
struct CompareRow
{
    std::string metric;
    std::string a; ///< "-" when absent
    std::string b;
    bool numeric = false; ///< both numbers (diff and rel are set)
    double diff = 0.0;    ///< b - a
    bool relDefined = false;
    double rel = 0.0;     ///< (b - a) / |a|
    bool differs = false;
};

/// Rows for the union of the metrics of a and b, in path order (array
/// indices in numeric order), keeping those whose path starts with one of
/// `only` (all if empty).
std::vector<CompareRow> CompareResults(const nlohmann::json& a, const nlohmann::json& b, bool all,
                                       const std::vector<std::string>& only);

/// The printed table.
std::string FormatCompare(const std::vector<CompareRow>& rows, const std::string& nameA,
                          const std::string& nameB, bool changedOnly, bool csv);

} // namespace tunsim
