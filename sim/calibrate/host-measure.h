// What `tunsim calibrate` measures on this host, each on a tun device of its
// own in the calibration's namespace (the kernel twin's machinery:
// sim/kernel/host.h, traffic.h). Every figure is what the simulator's cost
// fields mean (docs/kernel.md#host-profile):
//
//   MeasureReadPoll   poll(fd, POLLIN, 0) on a non-empty ring, then read():
//                     reader.poll_ns and reader.read_ns; then read() on the
//                     empty ring (-EAGAIN): reader.read_empty_ns (version 3)
//   MeasureFullRing   send() into a ring of 1 that nobody reads, in bursts of
//                     256 (the first 32 left out: a flood's steady cost):
//                     every send is dropped by
//                     tun_net_xmit(): flows[].send_cost_full_ns
//   MeasureRunning    bursts into a ring whose reader spins on read() (never
//                     sleeps): the first send() after the sender slept
//                     (send_cost_first_ns) and, from the 33rd of a burst of
//                     256, the steady rest (send_cost_running_ns, send_cost_ns);
//                     and (version 4) when each steady datagram reached the
//                     ring, from its send()'s start: the median is
//                     flows[].send_enqueue_ns
//   MeasureReaderStolen  a flood into a reader that spins 5 us per packet:
//                     the gaps in its spin (reader.preempt_interval_ms,
//                     reader.preempt_ms: the profile's "scheduling")
//   MeasureWakeups    single datagrams at gaps of 10 us .. 10 ms (and, fewer,
//                     30 and 100 ms) into a ring whose reader sleeps in
//                     poll() when it is empty, as the twin's reader does: the
//                     send() that wakes it by the gap before it
//                     (send_cost_wake_ns; version 3: send_wake_by_gap ->
//                     flows[].send_cost_wake_by_idle) and the wake-up
//                     (version 4: from send_enqueue_ns after the send()
//                     began, when the datagram reached the ring, to read()
//                     returned; versions 2, 3 from the send()'s start;
//                     version 1 from its return) by how long the reader
//                     slept until then, in bins (reader.wakeup_by_sleep); then
//                     trains of 40 datagrams 0..8 us apart (version 3), the
//                     short sleeps of a reader a little faster than its
//                     sender; the datagrams its poll() saw before it
//                     blocked (sleep < poll_ns; since 2026-12-01 07:20
//                     < poll_block_ns, the poll() that may block, measured
//                     on the datagrams already there when it began) are
//                     left out (version 2); counted from the send()'s
//                     start, the 0..8 us sleeps mixed a poll() catching a
//                     datagram that landed late in its send() (~2 us) with
//                     real wake-ups (~20 us): counted from the landing they
//                     part (version 4)
//   kernel::Calibrate (sim/kernel/measure.h, the TCP twin's; version 3): the
//                     reader's write() into tun (reader.write_ns), a send()
//                     through the stack (reader.write_xmit_ns) and timer
//                     wake-ups (reader.wakeup_quantiles_us and
//                     underlay.peer_wakeup_quantiles_us of a tcp scenario)
#pragma once

#include "kernel/host.h"

#include <nlohmann/json.hpp>

#include <climits>
#include <cstdint>
#include <utility>
#include <vector>

namespace tunsim
{
namespace calibrate
{

/// How much to measure: `scale` multiplies every sample count (1 = the
/// default, a few seconds; tests use less).
struct Plan
{
    double scale = 1.0;
    uint32_t payload = 1400;
};

/// {poll_ns, read_ns, read_empty_ns} means and their samples.
nlohmann::json MeasureReadPoll(const kernel::Netns& ns, const Plan& plan);

/// {send_full_ns, samples}
nlohmann::json MeasureFullRing(const kernel::Netns& ns, const Plan& plan);

/// {send_first_ns, send_running_ns, first, running, enqueue, send_enqueue_ns}:
/// send_enqueue_ns is the median time from a steady send()'s start to the
/// spinning reader's ring check that found its datagram (to within half an
/// empty read(): the check is taken midway between the two reads').
nlohmann::json MeasureRunning(const kernel::Netns& ns, const Plan& plan);

/// A reader spinning 5 us per packet under a flood: the gaps in its spin
/// (> 20 us: it did not run) as reader.preempt_interval_ms (busy time per
/// gap) and reader.preempt_ms (mean gap).
nlohmann::json MeasureReaderStolen(const kernel::Netns& ns, const Plan& plan);

/// {send_wake_ns, send_wake_by_gap, wakeup_by_sleep: [bins], by_gap: [...], samples, poll_block_ns}.
/// `enqueueNs` (MeasureRunning's send_enqueue_ns): a datagram reaches the
/// ring that long after its send() began; sleeps and wake-ups are counted
/// from then (wakeup_by_sleep_from_send: from the send()'s start).
/// poll_block_ns: the poll() that may block, from the datagrams that were
/// in the ring before it began: median of its entry -> read() returned,
/// less `readNs` (MeasureReadPoll's read_ns), at least `pollNs` (its
/// poll_ns). A datagram that reached the ring less than poll_block_ns after
/// the reader entered poll() was seen by that poll() before it blocked (no
/// wake-up: the simulator models it, VpnReader's PollBlockCost); those are
/// counted ("seen_by_poll") and left out of the bins.
nlohmann::json MeasureWakeups(const kernel::Netns& ns, const Plan& plan, double pollNs, double enqueueNs,
                              double readNs);

/// The bins of reader.wakeup_by_sleep from (sleep ns, wake ns) pairs, left
/// out the pairs whose sleep is below `minSleepNs`: fixed edges 0, 1, 2, 3,
/// 5, 10, 20, 50, 200, 1000, 5000, 20000 us (version 3: without 1 and 3;
/// version 2: 0, 10, 50, 200, 1000, 5000; the first bin also holds the
/// sleeps below 0 when minSleepNs allows them); a bin with fewer than
/// `minSamples` is merged
/// into the one before it (the first into the next); each bin's wake-ups
/// as 100 quantile midpoints (us). Empty without samples.
nlohmann::json WakeBins(std::vector<std::pair<int64_t, int64_t>> pairs, size_t minSamples,
                        int64_t minSleepNs = INT64_MIN);

/// n equally likely values for the distribution of xs: the empirical
/// quantiles at (i + 1/2) / n, i = 0 .. n-1 (xs is sorted in place).
std::vector<double> QuantileMidpoints(std::vector<double>& xs, size_t n);

} // namespace calibrate
} // namespace tunsim
