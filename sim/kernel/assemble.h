// The last step of tunsim kernel: the repeats pooled into one result in the
// schema of `tunsim run`, and the summary printed after it.
#pragma once

#include "traffic.h"

#include "scenario/scenario.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace tunsim
{
namespace kernel
{

/// What the runs found, and what the probe and the calibration before them.
struct Assembled
{
    nlohmann::json result;
    bool crossOk = false;  ///< every repeat's cross-check and the conservation hold
    std::string summary;   ///< printed unless --quiet
};

/// The result document (the `tunsim run` schema) of one or more repeats; with
/// several, counters are summed and ratios pooled, and kernel.repeats lists
/// each repeat's figures.
Assembled Assemble(const Scenario& sc, uint32_t qdiscLimit, std::vector<Repeat>& reps, const nlohmann::json& probe,
                   const nlohmann::json& calibration, const std::string& nsName, double wallS);

} // namespace kernel
} // namespace tunsim
