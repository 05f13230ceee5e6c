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
constexpr int kHostProfileVersion = 2;
constexpr int kHostProfileOldestVersion = 1;

/// Read and check a profile file. ScenarioError naming the field
/// ("host_profile.costs.send_wake_ns") when it is unreadable, not JSON, of
/// another format or version, or a field is missing or out of range.
nlohmann::json LoadHostProfile(const std::string& path);

/// The checks of LoadHostProfile() on a profile already parsed; `path`
/// names it in messages.
void CheckHostProfile(const nlohmann::json& profile, const std::string& path);

/// Fill the raw scenario `j` from `profile`: each udp flow's send costs, the
/// reader's read() and poll() costs and (unless the scenario gives any
/// wake-up field of its own) its wake-up by sleep length. Returns the
/// provenance map of those fields.
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

/// A warning when the profile was measured on another kernel than
/// `runningKernel` (uname -r): its figures may be stale. "" when not.
std::string StaleProfileWarning(const nlohmann::json& profile, const std::string& path,
                                const std::string& runningKernel);

/// uname -r of this machine.
std::string RunningKernelRelease();

} // namespace tunsim
