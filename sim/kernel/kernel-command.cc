// tunsim kernel: the command (see kernel.h). The steps are in the files
// beside this one; this file reads the options, checks the scenario and the
// host, runs the repeats in a namespace of their own and writes the result.
#include "kernel.h"

#include "assemble.h"
#include "clock.h"
#include "host.h"
#include "measure.h"
#include "support.h"
#include "traffic.h"

#include "cli/cli.h"
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

const char* kKernelUsage = R"(usage: tunsim kernel SCENARIO.json [--set key=value]... [--out DIR] [--repeat N] [--quiet]

Run the scenario's UDP flows on this machine's kernel: a real tun device
(txqueuelen = tun.ring_size) with the scenario's root qdisc, in a private
network namespace tunsim-<pid>, a reader that busy-waits the scenario's
per-packet cost, and sequence-numbered senders. Writes DIR/result.json
(default results/<name>-kernel) in the tunsim run schema plus a "kernel"
block; with --repeat N the counters are summed over N runs and
kernel.loss_ratio gives mean and spread. Needs CAP_NET_ADMIN (root).
The namespace is removed on success, error and Ctrl-C. See docs/kernel.md.

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
        "seed", po::value<std::string>(), "seed (rate/Poisson pattern only)")("quiet,q", "no summary");
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
    o.quiet = vm.count("quiet") > 0;
    return o;
}

/// BadInput unless this process can make a namespace and a tun device.
void
CheckHost()
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
}

/// What the runs measured, with the probe and the calibration before them.
struct Runs
{
    Setup setup;
    std::vector<Repeat> reps;
    double wallS = 0;
};

/// In a namespace of their own (removed on every exit path): IPv6 off, the
/// policy probe, the calibration, then `repeat` runs of the scenario.
Runs
Measure(const Scenario& sc, uint32_t qdiscLimit, int repeat, bool quiet)
{
    const int64_t wall0 = NowNs();
    Runs runs;
    runs.setup.nsName = "tunsim-" + std::to_string(getpid());
    {
        Netns ns(runs.setup.nsName);
        DisableIpv6(ns);
        ThrowIfInterrupted();
        runs.setup.probe = PolicyProbe(ns, 1, 32, 64);
        runs.setup.calibration = Calibrate(ns, sc.flows[0].payloadBytes);
        for (int k = 0; k < repeat; ++k)
        {
            ThrowIfInterrupted();
            runs.reps.push_back(RunOnce(ns, sc, qdiscLimit));
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

/// DIR/repeats/<k>/result.json: each repeat on its own (the repeats are moved from).
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
    CheckHost();
    const std::string out = o.out.value_or(DefaultOutputDir(sc.name, "-kernel"));
    CheckOutputDirectory(out);

    InstallSignalHandlers();
    RemoveStaleNamespaces();
    Runs runs = Measure(sc, qdiscLimit, o.repeat, o.quiet);
    const Assembled a = Assemble(sc, qdiscLimit, runs.reps, runs.setup, runs.wallS);
    const OutputDirectory outDir(out);
    try
    {
        WriteResult(out, a.result);
        WriteWakeupsCsv(out, runs.reps);
        if (o.repeat > 1)
        {
            WriteRepeats(out, sc, qdiscLimit, runs);
        }
    }
    catch (...)
    {
        std::error_code ec;
        std::filesystem::remove_all(std::filesystem::path(out) / "repeats", ec);
        std::filesystem::remove(std::filesystem::path(out) / "reader_wakeups.csv", ec);
        std::filesystem::remove(std::filesystem::path(out) / "result.json", ec);
        outDir.Undo();
        throw;
    }
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
