// tunsim calibrate (see calibrate.h).
#include "calibrate.h"

#include "host-measure.h"

#include "cli/cli.h"
#include "common/errors.h"
#include "kernel/clock.h"
#include "kernel/host.h"
#include "kernel/measure.h"
#include "result/result-writer.h"
#include "scenario/host-profile.h"
#include "scenario/scenario.h"

#include "tunsim-version.h"

#include <boost/program_options.hpp>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <unistd.h>

namespace tunsim
{

namespace calibrate
{

using json = nlohmann::json;

std::string
CpuModel()
{
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
    {
        if (line.rfind("model name", 0) == 0)
        {
            const auto colon = line.find(':');
            if (colon != std::string::npos)
            {
                const auto b = line.find_first_not_of(' ', colon + 1);
                return b == std::string::npos ? "" : line.substr(b);
            }
        }
    }
    return "unknown";
}

json
MakeProfile(const json& readPoll, const json& full, const json& running, const json& wakeups, uint32_t payload,
            const json& stolen, const json& twin)
{
    char date[32];
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json p;
    p["format"] = kHostProfileFormat;
    p["version"] = kHostProfileVersion;
    p["tunsim_version"] = std::string(TUNSIM_VERSION) + " (" + TUNSIM_GIT_REV + ")";
    p["created_utc"] = date;
    p["kernel"] = RunningKernelRelease();
    p["cpu_model"] = CpuModel();
    p["cpus"] = std::thread::hardware_concurrency();
    p["payload_bytes"] = payload;
    p["costs"] = {{"send_ns", running["send_running_ns"]},
                  {"send_first_ns", running["send_first_ns"]},
                  {"send_wake_ns", wakeups["send_wake_ns"]},
                  {"send_running_ns", running["send_running_ns"]},
                  {"send_full_ns", full["send_full_ns"]},
                  {"read_ns", readPoll["read_ns"]},
                  {"poll_ns", readPoll["poll_ns"]}};
    // When a datagram reaches the ring (version 4): the bins count from it
    // (MeasureWakeups took 0 when MeasureRunning had no sample: from the
    // send()'s start, as the simulator then does too).
    p["costs"]["send_enqueue_ns"] = running.value("send_enqueue_ns", 0.0);
    if (wakeups.contains("poll_block_ns"))
    {
        p["costs"]["poll_block_ns"] = wakeups["poll_block_ns"]; // the bins leave out what it sees
    }
    p["wakeup_by_sleep"] = wakeups["wakeup_by_sleep"];
    if (wakeups.contains("send_wake_by_gap"))
    {
        p["send_wake_by_gap"] = wakeups["send_wake_by_gap"];
    }
    // The TCP twin's calibration (kernel::Calibrate), what it measured: the
    // reader's write() of a 52-byte packet into tun delivered to a local
    // socket, a send() through the stack into tun, the timer wake-ups.
    auto meanOf = [&twin](const char* key) -> const json* {
        const json* m = twin.is_object() && twin.contains(key) && twin[key].is_object() && twin[key].contains("mean_ns")
                            ? &twin[key]["mean_ns"]
                            : nullptr;
        return m && m->is_number() ? m : nullptr;
    };
    // The read() that finds the ring empty (MeasureReadPoll; version 3).
    if (readPoll.contains("read_empty") && readPoll["read_empty"].value("samples", 0) > 0)
    {
        p["costs"]["read_empty_ns"] = readPoll["read_empty_ns"];
    }
    if (meanOf("reader_write_ns") && meanOf("sender_send_ns"))
    {
        p["costs"]["write_ns"] = *meanOf("reader_write_ns");
        p["costs"]["write_xmit_ns"] = *meanOf("sender_send_ns");
    }
    if (twin.is_object() && twin.contains("timer_wakeup_quantiles_us") && twin["timer_wakeup_quantiles_us"].is_array() &&
        !twin["timer_wakeup_quantiles_us"].empty())
    {
        p["timer_wakeup_quantiles_us"] = twin["timer_wakeup_quantiles_us"];
    }
    p["measurements"] = {{"read_poll", readPoll}, {"full_ring", full}, {"running_reader", running},
                         {"sleeping_reader", wakeups}};
    if (!twin.is_null())
    {
        p["measurements"]["twin_calibration"] = twin;
    }
    if (!stolen.is_null())
    {
        // A busy reader's lost CPU time: what reader.preempt_* model.
        p["scheduling"] = {{"preempt_interval_ms", stolen["preempt_interval_ms"]},
                           {"preempt_ms", stolen["preempt_ms"]}};
        p["measurements"]["flooded_reader"] = stolen;
    }
    CheckHostProfile(p, "the new profile");
    return p;
}

json
HostState(const json& fullStart, const json& fullEnd, double tolerancePct)
{
    const double a = fullStart.value("send_full_ns", 0.0);
    const double b = fullEnd.value("send_full_ns", 0.0);
    if (!(a > 0) || !(b > 0))
    {
        return nullptr; // a measurement without samples (interrupted)
    }
    const double drift = 100.0 * (b / a - 1.0);
    return {{"send_full_ns_start", a},
            {"send_full_ns_end", b},
            {"drift_pct", drift},
            {"tolerance_pct", tolerancePct},
            {"steady", std::abs(drift) <= tolerancePct}};
}

} // namespace calibrate

namespace
{

namespace po = boost::program_options;
using json = nlohmann::json;
using namespace kernel;

const char* kCalibrateUsage = R"(usage: tunsim calibrate [--out PROFILE.json] [--scale X] [--payload B] [--quiet]

Measure this host's costs in a few seconds and write a host profile
(default results/host-profile.json): send() by context (first after the
sender slept, waking a sleeping reader -- by how long the sender was idle,
10 us .. 100 ms --, into a running reader, into a full ring), the reader's
read(), poll() and write(), its wake-up latency by how long it slept (down
to the few-us sleeps inside a burst), and timer wake-ups. A scenario uses
it with "host_profile": "FILE" or tunsim run --profile FILE. --scale multiplies the sample counts (default 1); --payload
is the datagram payload (default 1400 B). Needs CAP_NET_ADMIN (root); the
namespace tunsim-<pid> is removed on success, error and Ctrl-C. Measure on a
quiet machine. See docs/kernel.md#host-profile.

exit codes: 0 ok, 2 bad input or missing privileges (nothing written),
130 interrupted (nothing written).
)";

struct Options
{
    bool help = false;
    std::string out = "results/host-profile.json";
    calibrate::Plan plan;
    bool quiet = false;
};

Options
ParseOptions(int argc, char** argv)
{
    po::options_description opts("options");
    opts.add_options()("help,h", "show help")("out", po::value<std::string>(), "profile file")(
        "scale", po::value<std::string>(), "sample counts x this (0.05 .. 20)")(
        "payload", po::value<std::string>(), "datagram payload bytes (12 .. 1472)")("quiet,q", "no summary");
    po::variables_map vm = ParseCommandLine(argc, argv, opts, {}, "calibrate");
    Options o;
    o.help = vm.count("help") > 0;
    if (vm.count("out"))
    {
        o.out = vm["out"].as<std::string>();
    }
    if (vm.count("scale"))
    {
        o.plan.scale = BoundedNumber("--scale", vm["scale"].as<std::string>(), 0.05, 20);
    }
    if (vm.count("payload"))
    {
        o.plan.payload = static_cast<uint32_t>(BoundedNumber("--payload", vm["payload"].as<std::string>(), 12, 1472));
    }
    o.quiet = vm.count("quiet") > 0;
    return o;
}

int
CalibrateMain(int argc, char** argv)
{
    const Options o = ParseOptions(argc, argv);
    if (o.help)
    {
        std::cout << kCalibrateUsage;
        return kExitOk;
    }
    std::string why;
    if (!HavePrivileges(&why))
    {
        throw BadInput("calibrate: " + why);
    }
    if (access("/dev/net/tun", R_OK | W_OK) != 0)
    {
        throw BadInput(std::string("calibrate: /dev/net/tun: ") + std::strerror(errno) + " (no tun support?)");
    }
    InstallSignalHandlers();
    RemoveStaleNamespaces();
    json readPoll, full, running, wakeups, stolen, twin, fullEnd;
    {
        Netns ns("tunsim-" + std::to_string(getpid()));
        DisableIpv6(ns);
        PinToCpu(0); // the sender; the readers run on the last CPU
        readPoll = calibrate::MeasureReadPoll(ns, o.plan);
        full = calibrate::MeasureFullRing(ns, o.plan);
        running = calibrate::MeasureRunning(ns, o.plan);
        wakeups = calibrate::MeasureWakeups(ns, o.plan, readPoll["poll_ns"].get<double>(),
                                             running.value("send_enqueue_ns", 0.0), readPoll["read_ns"].get<double>());
        stolen = calibrate::MeasureReaderStolen(ns, o.plan);
        twin = kernel::Calibrate(ns, o.plan.payload); // the TCP twin's: write(), timer wake-ups
        fullEnd = calibrate::MeasureFullRing(ns, o.plan); // the host's state at the end
    }
    ThrowIfInterrupted();
    json p = calibrate::MakeProfile(readPoll, full, running, wakeups, o.plan.payload, stolen, twin);
    const json state = calibrate::HostState(full, fullEnd, calibrate::kHostStateTolerancePct);
    if (!state.is_null())
    {
        p["host_state"] = state;
        p["measurements"]["full_ring_end"] = fullEnd;
        if (!state["steady"].get<bool>())
        {
            std::cerr << "tunsim calibrate: warning: the host changed state while it was measured: a send() into a "
                         "full ring took "
                      << state["send_full_ns_start"] << " ns at the start and " << state["send_full_ns_end"]
                      << " ns at the end (" << state["drift_pct"] << " %, more than "
                      << calibrate::kHostStateTolerancePct
                      << " %); predictions from this profile may miss by more than usual: calibrate again\n";
        }
    }
    const std::filesystem::path parent = std::filesystem::path(o.out).parent_path();
    if (!parent.empty())
    {
        std::filesystem::create_directories(parent);
    }
    WriteFileAtomically(o.out, p.dump(2) + "\n");
    if (!o.quiet)
    {
        const json& c = p["costs"];
        std::cout << "tunsim calibrate: kernel " << p["kernel"].get<std::string>() << ", " << p["cpu_model"].get<std::string>()
                  << "\n  send() ns: first " << c["send_first_ns"] << ", wake " << c["send_wake_ns"] << ", running "
                  << c["send_running_ns"] << ", full ring " << c["send_full_ns"] << "\n  read() " << c["read_ns"]
                  << " ns, poll() " << c["poll_ns"] << " ns; wake-up bins " << p["wakeup_by_sleep"].size()
                  << "\n  busy reader: loses its CPU every " << p["scheduling"]["preempt_interval_ms"]
                  << " ms of busy time for " << p["scheduling"]["preempt_ms"] << " ms"
                  << "\n  reader write() " << c.value("write_ns", json()) << " ns, a send() through the stack "
                  << c.value("write_xmit_ns", json()) << " ns; send() waking the reader after the longest gap "
                  << p["send_wake_by_gap"].back()["send_ns"] << " ns"
                  << (p.contains("host_state") ? "\n  host state: a full-ring send() " +
                                                     p["host_state"]["send_full_ns_start"].dump() + " ns first, " +
                                                     p["host_state"]["send_full_ns_end"].dump() + " ns last"
                                               : std::string())
                  << "\n  profile: " << o.out << "\n";
    }
    return kExitOk;
}

} // namespace

int
CalibrateCommand(int argc, char** argv)
{
    try
    {
        return CalibrateMain(argc, argv);
    }
    catch (const BadInput& e)
    {
        std::cerr << "tunsim: " << e.what() << "\n";
        return kExitBadInput;
    }
    catch (const InterruptedError&)
    {
        std::cerr << "tunsim: calibrate: interrupted; namespace removed, nothing written\n";
        return kExitInterrupted;
    }
    catch (const std::exception& e)
    {
        std::cerr << "tunsim: calibrate: error: " << e.what() << "\n";
        return Interrupted() ? kExitInterrupted : kExitFailure;
    }
}

} // namespace tunsim
