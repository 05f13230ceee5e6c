// tunsim: the command-line program.
//
//   tunsim run SCENARIO.json [--set key=value]... [--seed N] [--out DIR]
//   tunsim validate SCENARIO.json [--set key=value]...
//   tunsim list
//   tunsim table RESULT.json...
//   tunsim sweep SCENARIO.json --vary KEY=V1,V2,... --out DIR   (sim/sweep.cc)
//   tunsim merge DIR...                                         (sim/sweep.cc)
//   tunsim kernel SCENARIO.json [--set ...] [--out DIR] [--repeat N]  (sim/kernel-run.cc)
//   tunsim compare A B                                            (sim/compare.cc)
//   tunsim --help | --version
//
// Exit codes: 0 success; 2 bad input (usage, scenario, --set; nothing is
// written); 3 the run finished but packet conservation failed (the result is
// written, with conservation.ok = false); 1 any other failure.
#include "allocator.h"
#include "cli.h"
#include "compare.h"
#include "experiment.h"
#include "kernel-run.h"
#include "result-writer.h"
#include "scenario.h"
#include "sweep.h"
#include "tun-policy.h"
#include "tunsim-version.h"

#include <boost/program_options.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace po = boost::program_options;

namespace
{

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitConservation = 3;

const char* kUsage = R"(tunsim: a discrete-event simulator of the Linux TUN transmit path (ns-3)

usage:
  tunsim run SCENARIO.json [--set key=value]... [--seed N] [--out DIR] [--quiet]
             [--timeseries MS]
      Run a scenario; write DIR/result.json (default DIR: results/<name>)
      and print a short summary. --timeseries MS also writes
      DIR/timeseries.csv sampled every MS ms (ring, qdisc, txq, socket
      memory, and cwnd/srtt/bytes in flight of the first TCP flow).
  tunsim validate SCENARIO.json [--set key=value]...
      Check a scenario and print it fully resolved (every default filled in).
  tunsim list
      Policies, qdisc kinds, traffic kinds and encapsulations.
  tunsim table RESULT.json|DIR...
      One line per result and flow: policy, ring, qdisc, sent, delivered,
      dropped, loss, goodput, delay p50/p99, txq stops, conservation.
  tunsim sweep SCENARIO.json --vary KEY=V1,V2,... [--vary ...] [--set key=value]...
               [--seeds N] [--jobs N] [--emit parallel|slurm] --out DIR
      Run the cartesian product of the --vary lists (each point and seed in its
      own process, all cores by default; resumable); write DIR/results.csv and
      DIR/summary.csv. Exit 4 if a run failed. See tunsim sweep --help.
  tunsim merge DIR... [--out DIR]
      Build results.csv and summary.csv from result files in DIR... (e.g.
      gathered from several machines).
  tunsim kernel SCENARIO.json [--set key=value]... [--out DIR] [--repeat N]
      Run the scenario's UDP flows on this machine's kernel (a real tun device
      in a private network namespace; needs CAP_NET_ADMIN); write DIR/result.json
      in the same schema (default DIR: results/<name>-kernel). docs/kernel.md.
  tunsim compare A.json|DIR B.json|DIR [--only PREFIX]... [--changed] [--csv]
      Metric-by-metric table of two results: A, B, B-A, relative difference.
  tunsim --help | --version

--set takes a dotted key into the scenario, e.g. --set tun.ring_size=25
--set tun.policy=nodrop-v8 --set flows.0.rate_mbps=50. The value is read as
JSON when it parses as JSON, else as a string.

exit codes: 0 ok, 2 bad input (nothing written), 3 packet conservation
violated (result written), 1 other failure.
docs: docs/scenario.md (scenario format), docs/results.md (result format),
docs/sweep.md (sweeps).
)";

using tunsim::BadInput;

tunsim::Scenario
LoadScenario(const std::string& path, const std::vector<std::string>& sets, const std::string& seed)
{
    nlohmann::json j = tunsim::LoadScenarioJson(path);
    for (const auto& s : sets)
    {
        tunsim::ApplySet(j, s);
    }
    if (!seed.empty())
    {
        tunsim::ApplySet(j, "seed=" + seed);
    }
    return tunsim::ScenarioFromJson(j);
}

void
PrintList()
{
    std::cout << "policies (tun.policy):\n";
    for (const auto& p : tunsim::TunPolicyRegistry())
    {
        std::cout << "  " << p.name << std::string(p.name.size() < 18 ? 18 - p.name.size() : 1, ' ')
                  << p.summary << "\n";
    }
    std::cout << "qdisc kinds (qdisc.kind):\n";
    for (const auto& k : tunsim::QdiscKinds())
    {
        std::cout << "  " << k << "\n";
    }
    std::cout << "traffic kinds (flows[].kind/mode):\n";
    for (const auto& k : tunsim::TrafficKinds())
    {
        std::cout << "  " << k << "\n";
    }
    std::cout << "encapsulations (reader.encap):\n";
    for (const auto& k : tunsim::EncapKinds())
    {
        std::cout << "  " << k << "\n";
    }
}

/// tunsim table: the figures a reader compares first, one row per flow.
void
PrintTable(const std::vector<std::string>& files)
{
    std::vector<nlohmann::json> results;
    for (const auto& f : files)
    {
        results.push_back(tunsim::ReadResultFile(f));
    }
    std::printf("%-18s %6s %-10s %4s %10s %10s %10s %7s %10s %9s %9s %9s %s\n",
                "policy", "ring", "qdisc", "flow", "sent", "delivered", "dropped", "loss%",
                "goodput", "p50_ms", "p99_ms", "txqstops", "conserved");
    for (const auto& r : results)
    {
        try
        {
            for (const auto& f : r.at("flows"))
            {
                std::printf("%-18s %6u %-10s %4zu %10llu %10llu %10llu %7.2f %10.2f %9.3f %9.3f %9llu %s\n",
                            r.at("tun").at("policy").get<std::string>().c_str(),
                            r.at("tun").at("tx_queue_len").get<unsigned>(),
                            r.at("qdisc").at("kind").get<std::string>().c_str(),
                            f.at("index").get<size_t>(),
                            static_cast<unsigned long long>(f.at("sent_packets").get<uint64_t>()),
                            static_cast<unsigned long long>(f.at("delivered_packets").get<uint64_t>()),
                            static_cast<unsigned long long>(f.at("dropped_packets").get<uint64_t>()),
                            100.0 * f.at("loss_ratio").get<double>(),
                            f.at("goodput_mbps").get<double>(),
                            f.at("delay").at("p50_ms").get<double>(),
                            f.at("delay").at("p99_ms").get<double>(),
                            static_cast<unsigned long long>(r.at("tun").at("txq").at("stop_count").get<uint64_t>()),
                            r.at("conservation").at("ok").get<bool>() ? "yes" : "NO");
            }
        }
        catch (const nlohmann::json::exception& e)
        {
            throw BadInput(std::string("not a tunsim result: ") + e.what());
        }
    }
    std::printf("(goodput in Mbit/s; delay is one-way, send to tunnel exit)\n");
}

int
Main(int argc, char** argv)
{
    // Subcommands with options of their own, each in its own file.
    // (add one `if` per command here)
    if (argc > 1 && std::string(argv[1]) == "kernel")
    {
        return tunsim::KernelCommand(argc - 1, argv + 1);
    }
    if (argc > 1 && std::string(argv[1]) == "compare")
    {
        return tunsim::CompareCommand(argc - 1, argv + 1);
    }
    if (argc > 1 && std::string(argv[1]) == "sweep")
    {
        return tunsim::SweepCommand(argc - 1, argv + 1);
    }
    if (argc > 1 && std::string(argv[1]) == "merge")
    {
        return tunsim::MergeCommand(argc - 1, argv + 1);
    }

    po::options_description opts("options");
    opts.add_options()("help,h", "show help")("version", "show the version")(
        "set", po::value<std::vector<std::string>>()->composing(), "key=value override")(
        "seed", po::value<std::string>(), "RNG run number (overrides the scenario's seed)")(
        "out", po::value<std::string>(), "output directory")(
        "timeseries", po::value<double>(), "sample a time series every MS ms into DIR/timeseries.csv")("quiet,q", "no summary on stdout");
    po::variables_map vm = tunsim::ParseCommandLine(argc, argv, opts, {{"command", 1}, {"scenario", -1}}, "");

    if (vm.count("help"))
    {
        std::cout << kUsage;
        return kExitOk;
    }
    if (vm.count("version"))
    {
        std::cout << "tunsim " << TUNSIM_VERSION << " (" << TUNSIM_GIT_REV << "), ns-3.37, "
                  << tunsim::HeapAllocator() << "\n";
        return kExitOk;
    }
    if (!vm.count("command"))
    {
        std::cerr << kUsage;
        return kExitBadInput;
    }
    const std::string cmd = vm["command"].as<std::string>();
    std::vector<std::string> files;
    if (vm.count("scenario"))
    {
        files = vm["scenario"].as<std::vector<std::string>>();
    }
    std::vector<std::string> sets;
    if (vm.count("set"))
    {
        sets = vm["set"].as<std::vector<std::string>>();
    }
    std::string seed = vm.count("seed") ? vm["seed"].as<std::string>() : "";

    if (cmd == "list")
    {
        PrintList();
        return kExitOk;
    }
    if (cmd == "table")
    {
        if (files.empty())
        {
            throw BadInput("usage: tunsim table RESULT.json|DIR... (see tunsim --help)");
        }
        PrintTable(files);
        return kExitOk;
    }
    if (cmd != "run" && cmd != "validate")
    {
        throw BadInput("command: unknown command \"" + cmd + "\"; allowed: run, validate, list, table, sweep, merge, kernel, compare");
    }
    if (files.size() != 1)
    {
        throw BadInput("usage: tunsim " + cmd + " takes exactly one SCENARIO.json (see tunsim --help)");
    }
    tunsim::Scenario sc = LoadScenario(files[0], sets, seed);
    if (cmd == "validate")
    {
        std::cout << tunsim::ScenarioToJson(sc).dump(2) << "\n";
        return kExitOk;
    }

    std::string out = vm.count("out") ? vm["out"].as<std::string>() : ("results/" + sc.name);
    // Fail on an unusable output directory before spending time on the run.
    {
        std::error_code ec;
        std::filesystem::path p(out);
        if (std::filesystem::exists(p, ec) && !std::filesystem::is_directory(p, ec))
        {
            throw BadInput("--out: " + out + " exists and is not a directory");
        }
    }
    tunsim::RunOptions ro;
    if (vm.count("timeseries"))
    {
        ro.timeseriesIntervalMs = vm["timeseries"].as<double>();
        if (!(ro.timeseriesIntervalMs > 0))
        {
            throw BadInput("--timeseries: must be a positive interval in ms");
        }
    }
    tunsim::RunOutput r = tunsim::RunExperiment(sc, ro);
    if (!r.timeseriesCsv.empty())
    {
        tunsim::WriteFileAtomically((std::filesystem::path(out) / "timeseries.csv").string(), r.timeseriesCsv);
    }
    tunsim::WriteResult(out, r.result);
    if (!vm.count("quiet"))
    {
        std::cout << r.summary;
        std::cout << "  result: " << (std::filesystem::path(out) / "result.json").string() << "\n";
    }
    if (!r.conservationOk)
    {
        std::cerr << "tunsim: packet conservation violated: see conservation in "
                  << (std::filesystem::path(out) / "result.json").string() << "\n";
        return kExitConservation;
    }
    return kExitOk;
}

} // namespace

int
main(int argc, char** argv)
{
    return tunsim::RunCommand("tunsim", [&] { return Main(argc, argv); });
}
