// tunsim run / tunsim validate.
#include "run-command.h"

#include "cli/cli.h"
#include "experiment.h"
#include "result/result-writer.h"
#include "scenario/scenario.h"

#include <boost/program_options.hpp>

#include <filesystem>
#include <iostream>

namespace tunsim
{

namespace po = boost::program_options;

namespace
{

/// The scenario named on the command line, with --set and --seed applied.
Scenario
ScenarioOf(const po::variables_map& vm, const std::string& command)
{
    if (!vm.count("scenario") || vm["scenario"].as<std::vector<std::string>>().size() != 1)
    {
        throw BadInput("usage: tunsim " + command + " takes exactly one SCENARIO.json (see tunsim --help)");
    }
    std::vector<std::string> sets;
    if (vm.count("set"))
    {
        sets = vm["set"].as<std::vector<std::string>>();
    }
    if (vm.count("seed"))
    {
        sets.push_back("seed=" + vm["seed"].as<std::string>());
    }
    return LoadScenario(vm["scenario"].as<std::vector<std::string>>()[0], sets);
}

po::variables_map
ParseRunOptions(int argc, char** argv, const std::string& command)
{
    po::options_description opts("options");
    opts.add_options()("set", po::value<std::vector<std::string>>()->composing(), "key=value override")(
        "seed", po::value<std::string>(), "RNG run number (overrides the scenario's seed)")(
        "out", po::value<std::string>(), "output directory")(
        "timeseries", po::value<double>(), "sample a time series every MS ms into DIR/timeseries.csv")(
        "quiet,q", "no summary on stdout");
    return ParseCommandLine(argc, argv, opts, {{"scenario", -1}}, "");
}

} // namespace

int
ValidateCommand(int argc, char** argv)
{
    const po::variables_map vm = ParseRunOptions(argc, argv, "validate");
    std::cout << ScenarioToJson(ScenarioOf(vm, "validate")).dump(2) << "\n";
    return kExitOk;
}

int
RunScenarioCommand(int argc, char** argv)
{
    const po::variables_map vm = ParseRunOptions(argc, argv, "run");
    const Scenario sc = ScenarioOf(vm, "run");
    const std::string out = vm.count("out") ? vm["out"].as<std::string>() : ("results/" + sc.name);
    CheckOutputDirectory(out);
    RunOptions ro;
    if (vm.count("timeseries"))
    {
        ro.timeseriesIntervalMs = vm["timeseries"].as<double>();
        if (!(ro.timeseriesIntervalMs > 0))
        {
            throw BadInput("--timeseries: must be a positive interval in ms");
        }
    }
    const RunOutput r = RunExperiment(sc, ro);
    if (!r.timeseriesCsv.empty())
    {
        WriteFileAtomically((std::filesystem::path(out) / "timeseries.csv").string(), r.timeseriesCsv);
    }
    WriteResult(out, r.result);
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

} // namespace tunsim
