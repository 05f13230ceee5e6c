// tunsim calibrate: measure this host's costs once and write a host profile
// (sim/scenario/host-profile.h) that scenarios take their cost fields from.
//
//   tunsim calibrate [--out PROFILE.json] [--scale X] [--payload B] [--quiet]
//
// Needs CAP_NET_ADMIN (root): the measurements (host-measure.h) run on tun
// devices in a private network namespace tunsim-<pid>, removed on success,
// on error and on SIGINT/SIGTERM, as tunsim kernel's. The profile is written
// to a temporary file and renamed. docs/kernel.md#host-profile.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace tunsim
{

/// `tunsim calibrate ...` (argv[0] is "calibrate"). Exit codes: 0; 2 bad
/// usage or missing privileges (nothing written); 130 interrupted (nothing
/// written, namespace removed); 1 other failure.
int CalibrateCommand(int argc, char** argv);

namespace calibrate
{

/// The profile from the measurements' JSON (MeasureReadPoll, MeasureFullRing,
/// MeasureRunning, MeasureWakeups, in that order) and the host: format,
/// version, tunsim version, date, kernel, CPU model, costs, wake-up bins and
/// the measurements themselves; with `stolen` (MeasureReaderStolen; null:
/// none) the "scheduling" of a busy reader; with `twin` (kernel::Calibrate,
/// the TCP twin's calibration; version 3 needs it) the reader's write(), a
/// send() through the stack and the timer wake-ups. Checked with
/// CheckHostProfile().
nlohmann::json MakeProfile(const nlohmann::json& readPoll, const nlohmann::json& full, const nlohmann::json& running,
                           const nlohmann::json& wakeups, uint32_t payload,
                           const nlohmann::json& stolen = nullptr, const nlohmann::json& twin = nullptr);

/// The host's state across the calibration: the full-ring send()
/// (MeasureFullRing) measured first and again last. On the project VM that
/// cost moves between two states minutes apart (2.2-2.4 and 3.2-3.5 us),
/// and a profile taken in one state predicts runs made in the other
/// poorly. {send_full_ns_start, send_full_ns_end, drift_pct = 100 (end /
/// start - 1), steady = |drift_pct| <= tolerancePct}.
nlohmann::json HostState(const nlohmann::json& fullStart, const nlohmann::json& fullEnd, double tolerancePct);
constexpr double kHostStateTolerancePct = 15.0;

/// "model name" of /proc/cpuinfo ("unknown" if none).
std::string CpuModel();

} // namespace calibrate
} // namespace tunsim
