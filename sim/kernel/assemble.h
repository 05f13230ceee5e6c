// The last step of tunsim kernel: the repeats pooled into one RunResult (the
// schema of `tunsim run`, result/run-result.h) and the summary printed after
// it. What only the kernel measures goes into RunResult::kernel and
// FlowResult::backend; what it cannot measure stays std::nullopt (null).
#pragma once

#include "traffic.h"

#include "result/run-result.h"
#include "scenario/scenario.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace tunsim
{
namespace kernel
{

/// What was measured before the runs (measure.h), and where.
struct Setup
{
    nlohmann::json probe;       ///< PolicyProbe(): its verdict is tun.policy
    nlohmann::json calibration; ///< Calibrate()
    std::string nsName;         ///< the namespace, tunsim-<pid>
};

struct Assembled
{
    RunResult result;
    bool crossOk = false;  ///< every repeat's cross-check and the conservation hold
    std::string summary;   ///< printed unless --quiet
};

// ------------------------------------------------------------ shared blocks

/// Exact quantiles of the samples in ms (reorders them), and the models'
/// DelayHistogram of them for the whole distribution.
DelayResult DelayOf(std::vector<int64_t>& v);

/// The result's tun block from the device's counters (pooled); the txq
/// block follows from the source for the "drop" policy.
TunResult TunOf(const Scenario& sc, const DeviceCounters& d, const std::string& policy);

/// The result's qdisc block (counters absent for noqueue).
QdiscResult QdiscOf(const Scenario& sc, uint32_t qdiscLimit, const DeviceCounters& d);

/// The result of one or more repeats: counters summed, ratios pooled, delays
/// of all repeats together; kernel.repeats lists each repeat's figures.
/// `wallS`: the wall time the runs took.
Assembled Assemble(const Scenario& sc, uint32_t qdiscLimit, const std::vector<Repeat>& reps, const Setup& setup,
                   double wallS);

} // namespace kernel
} // namespace tunsim
