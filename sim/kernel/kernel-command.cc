// tunsim kernel: the command (see kernel.h). The steps are in the files
// beside this one; this file reads the options, checks the scenario and the
// host, runs the repeats in a namespace of their own and writes the result.
#include "kernel.h"

#include "assemble.h"
#include "clock.h"
#include "host.h"
#include "measure.h"
#include "support.h"
#include "tcp-info.h"
#include "tcp-twin.h"
#include "traffic.h"

#include "cli/cli.h"
#include "result/result-writer.h"
#include "result/run-result.h"
#include "scenario/scenario.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

namespace tunsim
{
namespace
{

namespace po = boost::program_options;
using namespace kernel;

const char* kKernelUsage = R"(usage: tunsim kernel SCENARIO.json [--set key=value]... [--out DIR] [--repeat N]
                     [--timeseries MS] [--quiet]

Run the scenario's flows on this machine's kernel: a real tun device
(txqueuelen = tun.ring_size) with the scenario's root qdisc, in a private
network namespace tunsim-<pid>, and a reader that busy-waits the scenario's
per-packet cost. UDP flows: sequence-numbered senders, the reader is the
tunnel exit. TCP flows (the TCP twin): real Linux TCP from bulk senders
through tun0 and the reader, a delay line each way (underlay.delay_ms,
underlay.rate_mbps) and a second tun device in a server namespace
tunsim-<pid>-srv with the receivers; --timeseries MS (default 100, 0 = off)
samples TCP_INFO into DIR/timeseries.csv. Writes DIR/result.json (default
results/<name>-kernel) in the tunsim run schema plus a "kernel" block; with
--repeat N the counters are summed over N runs (kernel.loss_ratio,
kernel.goodput_mbps_over_repeats give mean and spread). Needs
CAP_NET_ADMIN (root). The namespaces are removed on success, error and
Ctrl-C. See docs/kernel.md.

exit codes: 0 ok, 2 bad input or missing privileges (nothing written),
3 the kernel's counters do not add up (result written), 130 interrupted.
)";

/// What the command line asks for.
struct Options
{
    bool help = false;
    std::string scenarioFile;
    std::vector<std::string> sets; ///< --set, then --seed as "seed=N"
    std::optional<std::string> out;
    int repeat = 1;
    std::optional<std::string> timeseries; ///< --timeseries MS as given
    bool quiet = false;
};

Options
ParseOptions(int argc, char** argv)
{
    po::options_description opts("options");
    opts.add_options()("help,h", "show help")("set", po::value<std::vector<std::string>>()->composing(),
                                                 "key=value override")(
        "out", po::value<std::string>(), "output directory")("repeat", po::value<int>()->default_value(1),
                                                              "repeats (1..1000)")(
        "seed", po::value<std::string>(), "seed (rate/Poisson pattern only)")(
        "timeseries", po::value<std::string>(), "TCP twin: sample TCP_INFO every MS ms (default 100, 0 = off)")(
        "far-end-priority", po::value<std::string>()->default_value("rt"),
        "TCP twin: the far end's thread at SCHED_FIFO (rt, default) or as a normal task (normal)")(
        "quiet,q", "no summary");
    po::variables_map vm = ParseCommandLine(argc, argv, opts, {{"scenario", -1}}, "kernel");
    Options o;
    if (vm.count("help"))
    {
        o.help = true;
        return o;
    }
    std::vector<std::string> files;
    if (vm.count("scenario"))
    {
        files = vm["scenario"].as<std::vector<std::string>>();
    }
    if (files.size() != 1)
    {
        throw BadInput("usage: tunsim kernel takes exactly one SCENARIO.json (see tunsim kernel --help)");
    }
    o.scenarioFile = files[0];
    o.repeat = vm["repeat"].as<int>();
    if (o.repeat < 1 || o.repeat > 1000)
    {
        throw BadInput("--repeat: must be an integer in [1, 1000], got " + std::to_string(o.repeat));
    }
    if (vm.count("set"))
    {
        o.sets = vm["set"].as<std::vector<std::string>>();
    }
    if (vm.count("seed"))
    {
        o.sets.push_back("seed=" + vm["seed"].as<std::string>());
    }
    if (vm.count("out"))
    {
        o.out = vm["out"].as<std::string>();
    }
    if (vm.count("timeseries"))
    {
        o.timeseries = vm["timeseries"].as<std::string>();
    }
    o.quiet = vm.count("quiet") > 0;
    const std::string prio = vm["far-end-priority"].as<std::string>();
    if (prio != "rt" && prio != "normal")
    {
        throw BadInput("--far-end-priority: must be rt or normal, got \"" + prio + "\"");
    }
    SetFarEndRealtime(prio == "rt");
    return o;
}

/// The TCP twin's sampling interval in ms (0: none): --timeseries, 100 by
/// default; BadInput for a udp run, or for more than 1e6 rows.
double
SeriesMs(const Options& o, const Scenario& sc)
{
    if (!IsTcpRun(sc))
    {
        if (o.timeseries)
        {
            throw BadInput("--timeseries: only for tcp flows (the TCP twin samples TCP_INFO)");
        }
        return 0;
    }
    const double ms = o.timeseries ? BoundedNumber("--timeseries", *o.timeseries, 0, 1e9) : 100.0;
    if (ms > 0 && ms < 1)
    {
        throw BadInput("--timeseries: at least 1 ms (a getsockopt per flow per sample), or 0 for none");
    }
    if (ms > 0 && sc.durationS * 1e3 / ms * sc.flows.size() > 1e6)
    {
        throw BadInput("--timeseries: every " + *o.timeseries + " ms is more than 1e6 rows; sample less often");
    }
    return ms;
}

/// BadInput unless this process can make a namespace and a tun device.
void
CheckHost(const Scenario& sc)
{
    std::string why;
    if (!HavePrivileges(&why))
    {
        throw BadInput("kernel: " + why);
    }
    if (access("/dev/net/tun", R_OK | W_OK) != 0)
    {
        throw BadInput(std::string("kernel: /dev/net/tun: ") + std::strerror(errno) + " (no tun support?)");
    }
    if (IsTcpRun(sc))
    {
        CheckCongestionControl(sc, AvailableCongestionControls());
    }
}

/// What the runs measured, with the probe and the calibration before them.
struct Runs
{
    Setup setup;
    std::vector<Repeat> reps;       ///< udp runs
    std::vector<TcpRepeat> tcpReps; ///< TCP twin runs
    double wallS = 0;
};

/// In a namespace of their own (removed on every exit path; the TCP twin's
/// server gets a second one): IPv6 off, the policy probe, the calibration,
/// then `repeat` runs of the scenario.
Runs
Measure(const Scenario& sc, uint32_t qdiscLimit, int repeat, double seriesMs, bool quiet)
{
    const int64_t wall0 = NowNs();
    Runs runs;
    runs.setup.nsName = "tunsim-" + std::to_string(getpid());
    {
        Netns ns(runs.setup.nsName);
        DisableIpv6(ns);
        std::optional<Netns> server;
        if (IsTcpRun(sc))
        {
            runs.setup.serverNsName = runs.setup.nsName + "-srv";
            server.emplace(runs.setup.serverNsName);
            DisableIpv6(*server);
            runs.setup.sysctls = {{"client", TcpSysctls(ns)}, {"server", TcpSysctls(*server)}};
        }
        ThrowIfInterrupted();
        runs.setup.probe = PolicyProbe(ns, 1, 32, 64);
        runs.setup.calibration = Calibrate(ns, sc.flows[0].payloadBytes);
        for (int k = 0; k < repeat; ++k)
        {
            ThrowIfInterrupted();
            if (server)
            {
                runs.tcpReps.push_back(RunTcpOnce(ns, *server, sc, qdiscLimit, seriesMs, k + 1));
            }
            else
            {
                runs.reps.push_back(RunOnce(ns, sc, qdiscLimit));
            }
            if (!quiet && repeat > 1)
            {
                std::cerr << "tunsim kernel: repeat " << (k + 1) << "/" << repeat << " done\n";
            }
        }
    }
    ThrowIfInterrupted();
    runs.wallS = (NowNs() - wall0) / 1e9;
    return runs;
}

/// Every (sleep, wake) pair, for calibration (scripts/validate-kernel.sh).
void
WriteWakeupsCsv(const std::string& out, const std::vector<Repeat>& reps)
{
    std::ofstream csv(std::filesystem::path(out) / "reader_wakeups.csv");
    csv << "repeat,sleep_ns,wake_ns\n";
    for (size_t k = 0; k < reps.size(); ++k)
    {
        for (const auto& [sl, wk] : reps[k].reader.sleepWakeNs)
        {
            csv << (k + 1) << ',' << sl << ',' << wk << '\n';
        }
    }
}

/// DIR/repeats/<k>/result.json (and, for the TCP twin, timeseries.csv):
/// each repeat on its own (the repeats are moved from).
void
WriteRepeats(const std::string& out, const Scenario& sc, uint32_t qdiscLimit, Runs& runs)
{
    for (size_t k = 0; k < runs.reps.size(); ++k)
    {
        std::vector<Repeat> one;
        one.push_back(std::move(runs.reps[k]));
        Assembled r = Assemble(sc, qdiscLimit, one, runs.setup, one[0].wallS);
        WriteResult((std::filesystem::path(out) / "repeats" / std::to_string(k + 1)).string(), r.result);
    }
    for (size_t k = 0; k < runs.tcpReps.size(); ++k)
    {
        std::vector<TcpRepeat> one;
        one.push_back(std::move(runs.tcpReps[k]));
        Assembled r = AssembleTcp(sc, qdiscLimit, one, runs.setup, one[0].wallS);
        const std::string dir = (std::filesystem::path(out) / "repeats" / std::to_string(k + 1)).string();
        WriteResult(dir, r.result);
        if (!one[0].seriesRows.empty())
        {
            WriteFileAtomically((std::filesystem::path(dir) / "timeseries.csv").string(),
                                TimeSeriesHeader() + one[0].seriesRows);
        }
    }
}

/// result.json and the files beside it; on failure nothing is left behind.
void
WriteAll(const std::string& out, const Scenario& sc, uint32_t qdiscLimit, Runs& runs, const Assembled& a, int repeat)
{
    const OutputDirectory outDir(out);
    const std::filesystem::path dir(out);
    try
    {
        WriteResult(out, a.result);
        if (runs.tcpReps.empty())
        {
            WriteWakeupsCsv(out, runs.reps);
        }
        std::string rows;
        for (const TcpRepeat& r : runs.tcpReps)
        {
            rows += r.seriesRows;
        }
        if (!rows.empty())
        {
            WriteFileAtomically((dir / "timeseries.csv").string(), TimeSeriesHeader() + rows);
        }
        if (repeat > 1)
        {
            WriteRepeats(out, sc, qdiscLimit, runs);
        }
    }
    catch (...)
    {
        std::error_code ec;
        std::filesystem::remove_all(dir / "repeats", ec);
        std::filesystem::remove(dir / "reader_wakeups.csv", ec);
        std::filesystem::remove(dir / "timeseries.csv", ec);
        std::filesystem::remove(dir / "result.json", ec);
        outDir.Undo();
        throw;
    }
}

int
KernelMain(int argc, char** argv)
{
    const Options o = ParseOptions(argc, argv);
    if (o.help)
    {
        std::cout << kKernelUsage;
        return kExitOk;
    }
    const Scenario sc = LoadScenario(o.scenarioFile, o.sets);
    CheckKernelSupports(sc);
    const uint32_t qdiscLimit = KernelQdiscLimit(sc);
    const double seriesMs = SeriesMs(o, sc);
    CheckHost(sc);
    const std::string out = o.out.value_or(DefaultOutputDir(sc.name, "-kernel"));
    CheckOutputDirectory(out);

    InstallSignalHandlers();
    RemoveStaleNamespaces();
    Runs runs = Measure(sc, qdiscLimit, o.repeat, seriesMs, o.quiet);
    const Assembled a = IsTcpRun(sc) ? AssembleTcp(sc, qdiscLimit, runs.tcpReps, runs.setup, runs.wallS)
                                     : Assemble(sc, qdiscLimit, runs.reps, runs.setup, runs.wallS);
    WriteAll(out, sc, qdiscLimit, runs, a, o.repeat);
    const std::string resultFile = (std::filesystem::path(out) / "result.json").string();
    if (!o.quiet)
    {
        std::cout << a.summary;
        std::cout << "  result: " << resultFile << "\n";
    }
    if (!a.crossOk)
    {
        std::cerr << "tunsim kernel: the kernel's counters do not add up: see kernel.cross_check in " << resultFile
                  << "\n";
        return kExitConservation;
    }
    return kExitOk;
}

} // namespace

int
KernelCommand(int argc, char** argv)
{
    // Not RunCommand(): an interruption (exit 130) and an error while
    // interrupted need their own codes.
    try
    {
        return KernelMain(argc, argv);
    }
    catch (const ScenarioError& e)
    {
        std::cerr << "tunsim: " << MessageText(e.what()) << "\n";
        return kExitBadInput;
    }
    catch (const BadInput& e)
    {
        std::cerr << "tunsim: " << MessageText(e.what()) << "\n";
        return kExitBadInput;
    }
    catch (const InterruptedError&)
    {
        std::cerr << "tunsim: kernel: interrupted; namespace removed, nothing written\n";
        return kExitInterrupted;
    }
    catch (const std::exception& e)
    {
        std::cerr << "tunsim: kernel: error: " << MessageText(e.what()) << "\n";
        return Interrupted() ? kExitInterrupted : kExitFailure;
    }
}

} // namespace tunsim
