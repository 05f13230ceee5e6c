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

constexpr double kMaxTimeseriesRows = 1e6;

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
    if (vm.count("profile"))
    {
        // The same as --set host_profile=FILE (host-profile.h).
        sets.push_back("host_profile=" + nlohmann::json(vm["profile"].as<std::string>()).dump());
    }
    return LoadScenario(vm["scenario"].as<std::vector<std::string>>()[0], sets);
}

po::variables_map
ParseRunOptions(int argc, char** argv)
{
    po::options_description opts("options");
    opts.add_options()("set", po::value<std::vector<std::string>>()->composing(), "key=value override")(
        "seed", po::value<std::string>(), "RNG run number (overrides the scenario's seed)")(
        "out", po::value<std::string>(), "output directory")(
        "profile", po::value<std::string>(), "host profile (tunsim calibrate) to take the cost fields from")(
        "timeseries", po::value<std::string>(), "sample a time series every MS ms into DIR/timeseries.csv")(
        "max-events", po::value<std::string>()->default_value("1e9"), "stop (partial) after this many events")(
        "max-wall-s", po::value<std::string>()->default_value("3600"), "stop (partial) after this wall time")(
        "quiet,q", "no summary on stdout");
    return ParseCommandLine(argc, argv, opts, {{"scenario", -1}}, "");
}

/// --timeseries, --max-events, --max-wall-s, checked against the scenario.
RunOptions
RunOptionsOf(const po::variables_map& vm, const Scenario& sc)
{
    RunOptions ro;
    if (vm.count("timeseries"))
    {
        // At least 1 us apart, and at most 1e6 rows over the run.
        ro.timeseriesIntervalMs = BoundedNumber("--timeseries", vm["timeseries"].as<std::string>(), 1e-3, 1e9);
        const double rows = sc.durationS * 1e3 / ro.timeseriesIntervalMs;
        if (rows > kMaxTimeseriesRows)
        {
            throw BadInput("--timeseries: every " + vm["timeseries"].as<std::string>() + " ms over duration_s " +
                           std::to_string(sc.durationS) + " s is more than 1e6 rows; sample less often");
        }
    }
    ro.maxEvents = static_cast<uint64_t>(BoundedNumber("--max-events", vm["max-events"].as<std::string>(), 1, 1e15));
    ro.maxWallS = BoundedNumber("--max-wall-s", vm["max-wall-s"].as<std::string>(), 0.001, 1e7);
    return ro;
}

} // namespace

int
ValidateCommand(int argc, char** argv)
{
    const po::variables_map vm = ParseRunOptions(argc, argv);
    std::cout << ScenarioToJson(ScenarioOf(vm, "validate")).dump(2) << "\n";
    return kExitOk;
}

int
RunScenarioCommand(int argc, char** argv)
{
    const po::variables_map vm = ParseRunOptions(argc, argv);
    const Scenario sc = ScenarioOf(vm, "run");
    const std::string out = vm.count("out") ? vm["out"].as<std::string>() : DefaultOutputDir(sc.name);
    const RunOptions ro = RunOptionsOf(vm, sc);
    const OutputDirectory outDir(out);
    const std::filesystem::path dir(out);
    RunOutput r;
    try
    {
        r = RunExperiment(sc, ro);
        if (!r.timeseriesCsv.empty())
        {
            WriteFileAtomically((dir / "timeseries.csv").string(), r.timeseriesCsv);
        }
        WriteResult(out, r.result);
    }
    catch (...)
    {
        std::error_code ec;
        std::filesystem::remove(dir / "timeseries.csv", ec);
        outDir.Undo();
        throw;
    }
    if (!vm.count("quiet"))
    {
        std::cout << r.summary;
        std::cout << "  result: " << (dir / "result.json").string() << "\n";
    }
    if (r.result.partial)
    {
        std::cerr << "tunsim: the run stopped early (" << r.result.partial->reason << ") at simulated "
                  << r.result.partial->stoppedAtS << " s; the result is partial: see partial in "
                  << (dir / "result.json").string() << "\n";
        return kExitBudget;
    }
    if (!r.conservationOk)
    {
        std::cerr << "tunsim: packet conservation violated: see conservation in " << (dir / "result.json").string()
                  << "\n";
        return kExitConservation;
    }
    return kExitOk;
}

} // namespace tunsim
