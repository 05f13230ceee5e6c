// One simulated run of a scenario, in three steps a reader can follow:
//
//   build       (build.cc)       the testbed: ns-3 defaults, two nodes, the
//                                tunnel path (TunPathHelper), the flows
//   instrument  (instrument.cc)  the ledger's drop and delivery points
//                                (TunPathMonitor), the optional time series
//   report      (report.cc)      RunResult from the models' counters, and
//                                the human summary
//
// RunExperiment() runs them around Simulator::Run().
#pragma once

#include "result/run-result.h"
#include "scenario/scenario.h"

#include <string>

namespace tunsim
{

struct RunOptions
{
    /// Sample a time series every this many ms (0 = off: no sampling event
    /// is scheduled at all).
    double timeseriesIntervalMs = 0;
    /// The run's budget: it stops, marked partial, once it has processed
    /// this many events or run this long (0 = no limit). The defaults of
    /// `tunsim run` (docs/results.md): 1e9 events, 3600 s.
    uint64_t maxEvents = 0;
    double maxWallS = 0;
};

struct RunOutput
{
    RunResult result;
    bool conservationOk = false;
    std::string summary; ///< short human summary for stdout
    /// CSV: time_s, ring_occupancy, qdisc_backlog, txq_stopped,
    /// sender_wmem_bytes, cwnd_bytes, srtt_ms, bytes_in_flight (empty if off).
    std::string timeseriesCsv;
};

/// Run one scenario. Deterministic: the same scenario (seed included) gives
/// the same result apart from the "wall" block (a run stopped by its wall
/// budget stops wherever it is then: result.partial says so). Not re-entrant (ns-3 has one
/// simulator per process); it resets ns-3's global state before and after.
RunOutput RunExperiment(const Scenario& s, const RunOptions& options = {});

} // namespace tunsim
