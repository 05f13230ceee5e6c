// Host profiles: what `tunsim calibrate` measured on a machine (send() by
// context, read() and poll(), the reader's wake-up by sleep length), and how
// a scenario takes its cost fields from one.
//
// A scenario names a profile with the top-level key "host_profile" (or
// `tunsim run --profile FILE`, the same as --set host_profile=FILE). Before
// the scenario is parsed, every cost field the profile knows and the
// scenario does not set is filled from it (explicit fields win); the
// resolved scenario then carries "host_profile" and a "provenance" map,
// field -> "profile" | "scenario" | "default". docs/kernel.md#host-profile
// describes the format.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace tunsim
{

constexpr const char* kHostProfileFormat = "tunsim-host-profile";
/// 2: the wake-up bins count from the start of the send() that woke the
/// reader (where the simulator puts the datagram in the ring; version 1:
/// from its return) and hold only real wake-ups (a datagram the reader's
/// poll() saw before it blocked is left out: the simulator models it).
/// A version-1 profile is still read, converted (ProfileWakeBins()).
/// 3: send_wake_by_gap (the waking send() by how long the sender was idle,
/// 10 us .. 100 ms), the wake-up bins from 2 us up (trains: the short
/// sleeps inside a burst), costs.write_ns / write_xmit_ns and
/// timer_wakeup_quantiles_us (the TCP twin's calibration). Versions 1 and 2
/// are still read: their send_wake_by_gap comes from
/// measurements.sleeping_reader.by_gap (10 us .. 10 ms; a longer idle time
/// takes the 10 ms cost), and a tcp scenario keeps its own write and timer
/// fields (ProfileSendWakeByIdle(), ApplyHostProfile()).
/// 4: costs.send_enqueue_ns (when, from a send()'s start, its datagram
/// reaches the ring), and the wake-up bins count the sleep and the wake-up
/// from then, with bins at 1 and 3 us (a datagram that lands while the
/// reader is entering poll() wakes it in ~2 us, a real sleep in ~20 us).
/// A version-3 profile is still read: without send_enqueue_ns its bins
/// count from the send()'s start, as the simulator then does.
constexpr int kHostProfileVersion = 4;
constexpr int kHostProfileOldestVersion = 1;

/// Read and check a profile file. ScenarioError naming the field
/// ("host_profile.costs.send_wake_ns") when it is unreadable, not JSON, of
/// another format or version, or a field is missing or out of range.
nlohmann::json LoadHostProfile(const std::string& path);

/// The checks of LoadHostProfile() on a profile already parsed; `path`
/// names it in messages.
void CheckHostProfile(const nlohmann::json& profile, const std::string& path);

/// Fill the raw scenario `j` from `profile`: each udp flow's send costs (and
/// the waking send's cost by idle time, unless the flow sets
/// send_cost_wake_ns), the reader's read(), poll() and (version 3) write()
/// costs and (unless the scenario gives any wake-up field of its own) its
/// wake-up by sleep length -- in a scenario of tcp flows only, when the
/// profile has them, the timer wake-ups instead (reader.wakeup_quantiles_us,
/// and underlay.peer_wakeup_quantiles_us), as validate-kernel-tcp.sh's
/// sim-cal/ scenarios take them. Returns the provenance map of those fields.
nlohmann::json ApplyHostProfile(nlohmann::json& j, const nlohmann::json& profile);

/// The profile's wake-up bins as the simulator uses them: a version-2
/// profile's as they are. A version-1 profile's first bin (sleeps of 0-10
/// us, which also held the datagrams the reader's poll() saw before it
/// blocked: sleep < 2 us in measurements.sleeping_reader.wake_by_sleep's
/// histogram) loses that share of its lowest values -- the ones with no
/// wake-up; if fewer than 5 real wake-ups remain, the bin is dropped and the
/// next starts at 0. Then every value gains the waking send()'s median
/// (measurements.sleeping_reader.send_wake.p50_ns, else costs.send_wake_ns):
/// version 1 counted from that send()'s return.
nlohmann::json ProfileWakeBins(const nlohmann::json& profile);

/// The waking send()'s cost by the gap before it, from MeasureWakeups'
/// by_gap ([{gap_us, send: {mean_ns, samples}}]): [{gap_us, send_ns,
/// samples}] of the gaps with at least 10 waking send()s, in increasing
/// gap_us.
nlohmann::json ProfileSendWakeByGap(const nlohmann::json& byGap);

/// A udp flow's send_cost_wake_by_idle from the profile: one bin per
/// measured gap, [{idle_us_from, send_ns}], the first from 0 (an idle time
/// shorter than the shortest gap takes its cost), each next from its gap.
/// Version 3: send_wake_by_gap; versions 1 and 2: converted from
/// measurements.sleeping_reader.by_gap; [] when the profile has neither.
nlohmann::json ProfileSendWakeByIdle(const nlohmann::json& profile);

/// A warning when the profile was measured on another kernel than
/// `runningKernel` (uname -r): its figures may be stale. "" when not.
std::string StaleProfileWarning(const nlohmann::json& profile, const std::string& path,
                                const std::string& runningKernel);

/// uname -r of this machine.
std::string RunningKernelRelease();

} // namespace tunsim
