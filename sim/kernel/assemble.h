// The last step of tunsim kernel: the repeats pooled into one RunResult (the
// schema of `tunsim run`, result/run-result.h) and the summary printed after
// it. What only the kernel measures goes into RunResult::kernel and
// FlowResult::backend; what it cannot measure stays std::nullopt (null).
#pragma once

#include "tcp-twin.h"
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
    std::string serverNsName;   ///< the TCP twin's server namespace, tunsim-<pid>-srv ("" for udp)
    nlohmann::json sysctls;     ///< the TCP twin: TcpSysctls() of both namespaces (null for udp)
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

/// The result's reader block from what the reader counted (packets read,
/// their bytes, poll()s, wake-ups, busy time in a window of `windowS`); the
/// capacity from the scenario's costs at the mean packet size.
ReaderResult ReaderBlock(const Scenario& sc, uint64_t reads, uint64_t bytes, uint64_t sleeps, uint64_t wakeups,
                         int64_t busyNs, double windowS);

/// What every kernel block has: uname, the policy and its probe, the
/// namespace, the device, the calibration, the repeats, the warnings.
nlohmann::json KernelBlockBase(const Scenario& sc, const Setup& setup, const std::string& policy, size_t repeats);

/// The result of one or more repeats: counters summed, ratios pooled, delays
/// of all repeats together; kernel.repeats lists each repeat's figures.
/// `wallS`: the wall time the runs took.
Assembled Assemble(const Scenario& sc, uint32_t qdiscLimit, const std::vector<Repeat>& reps, const Setup& setup,
                   double wallS);

/// The TCP twin's result (tcp-assemble.cc): flows, tun0 and its qdisc, the
/// reader, both directions' books, and the kernel block (TCP_INFO at the
/// end, the sysctls, the forwarder's counters, goodput over the repeats).
Assembled AssembleTcp(const Scenario& sc, uint32_t qdiscLimit, const std::vector<TcpRepeat>& reps,
                      const Setup& setup, double wallS);

} // namespace kernel
} // namespace tunsim
