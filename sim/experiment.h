// Experiment: build the topology a Scenario describes, run it on ns-3, and
// measure everything the result file reports.
//
//   client node                                          server node
//   ---------------------------------------              -----------------------
//   app (UDP/TCP) -> IPv4 -> qdisc(tun0)                 VirtualNetDevice vtun0
//     -> TunNetDevice tun0 (ring, policy)                  -> IPv4 -> sink app
//     -> VpnReader (user space) -> UDP:1194               VpnPeer UDP:1194
//     -> IPv4 -> qdisc(eth0) -> PointToPoint eth0 ==link== PointToPoint eth0
//
// Addresses: tunnel 10.8.0.1/24 (client) - 10.8.0.2/24 (server); underlay
// 192.168.0.1/30 - 192.168.0.2/30 (simulated only: nothing leaves the process).
#pragma once

#include "scenario.h"

#include <nlohmann/json.hpp>

#include <string>

namespace tunsim
{

struct RunOptions
{
    /// Sample a time series every this many ms (0 = off: no sampling event
    /// is scheduled at all).
    double timeseriesIntervalMs = 0;
};

struct RunOutput
{
    nlohmann::json result;   ///< the whole result.json document
    bool conservationOk = false;
    std::string summary;     ///< short human summary for stdout
    /// CSV: time_s, ring_occupancy, qdisc_backlog, txq_stopped,
    /// sender_wmem_bytes, cwnd_bytes, srtt_ms, bytes_in_flight (empty if off).
    std::string timeseriesCsv;
};

/// Run one scenario. Deterministic: the same scenario (seed included) gives
/// the same result apart from the "wall" block. Not re-entrant (ns-3 has one
/// simulator per process); it resets ns-3's global state before and after.
RunOutput RunExperiment(const Scenario& s, const RunOptions& options = {});

} // namespace tunsim
