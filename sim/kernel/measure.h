// What tunsim kernel measures besides the runs themselves, and the
// statistics it reports: the policy probe and the calibration (each on a
// device of its own, before the runs), the send() profile, the reader's
// wake-up split by sleep length, quantiles.
#pragma once

#include "host.h"
#include "traffic.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace tunsim
{
namespace kernel
{

// ------------------------------------------------------------ before the runs

/// Send `burst` datagrams back to back into a device of txqueuelen `ring`
/// whose reader does not read; then look where they went. Mainline tun drops
/// on a full ring (tx_dropped = burst - ring); a NODROP kernel stops the tx
/// queue, so nothing is dropped at tun and the rest waits in the qdisc.
/// kernel.policy_probe; its "verdict" is the result's tun.policy.
nlohmann::json PolicyProbe(const Netns& ns, uint32_t ring, uint32_t burst, uint32_t payload);

/// The reader's fixed cost: read() a full ring back to back (no busy wait)
/// and time each read + parse; the sender's cost per send() into a ring with
/// room. Both on a device of their own. kernel.calibration.
nlohmann::json Calibrate(const Netns& ns, uint32_t payload);

// ------------------------------------------------------------ statistics

/// The q-quantile of v (the ceil(q * n)-th smallest; reorders v); 0 if empty.
double Quantile(std::vector<int64_t>& v, double q);

/// {samples, mean<suffix>, p50<suffix>, p90<suffix>} of v in units of `unit`
/// ns (1: ns, 1e3: us); the figures are null without samples.
nlohmann::json SampleSummary(std::vector<int64_t> v, double unit, const std::string& suffix);

/// `n` equally likely values (us, from ns samples `v`): the quantiles at
/// (i + 0.5) / n, the form a scenario's *_quantiles_us fields take.
nlohmann::json EqualQuantilesUs(std::vector<int64_t> v, size_t n);

double Mean(const std::vector<double>& v);

/// Sample standard deviation; 0 for fewer than two values.
double Stddev(const std::vector<double>& v);

/// How long send() took, by the datagram's position since the sender last
/// slept (position 0 = the first send of a burst, or of a rate/Poisson
/// datagram) and by its fate (delivered = the reader read it; dropped = it
/// never arrived). Summed over repeats.
struct SendProfile
{
    static constexpr size_t kPositions = 8; ///< positions 0..6 each, 7 = 7 and later
    std::array<std::array<int64_t, kPositions>, 2> sumNs{}; ///< [dropped][position]
    std::array<std::array<uint64_t, kPositions>, 2> n{};

    void Add(const FlowStats& f);

    /// {n, mean_ns} over positions [from, to) of the datagrams of the given
    /// fates (0 = delivered, 1 = dropped); mean_ns null when n is 0.
    nlohmann::json Summary(size_t from, size_t to, std::initializer_list<int> fates) const;

    /// {by_position: [{position, n, mean_ns, delivered_mean_ns, dropped_mean_ns}],
    ///  first (position 0), rest (positions 1+), delivered, dropped: {n, mean_ns}}
    nlohmann::json ToJson() const;
};

/// The reader's wake-up split by how long it slept (docs/kernel.md). `pairs`
/// are (sleep, wake) in ns; the threshold between a short and a long sleep is
/// fitted to the data: the step function (median wake below / at or above T)
/// with the least absolute deviation, T on a log grid of 1 us .. 100 ms (20
/// per decade); when a range of T fits equally well (a gap in the sleep
/// lengths), the geometric middle of that range. Null without samples.
nlohmann::json WakeBySleepJson(const std::vector<std::pair<int64_t, int64_t>>& pairs);

} // namespace kernel
} // namespace tunsim
