#include "experiment.h"

#include "testbed.h"

#include "ns3/simulator.h"

#include <chrono>

namespace tunsim
{

RunOutput
RunExperiment(const Scenario& s, const RunOptions& options)
{
    const auto wallStart = std::chrono::steady_clock::now();
    ResetSimulator(s);
    RunOutput out;
    {
        Testbed tb = BuildTestbed(s);
        Instruments in;
        Instrument(tb, options.timeseriesIntervalMs, in);

        ns3::Simulator::Stop(ns3::NanoSeconds(static_cast<int64_t>(s.durationS * 1e9)));
        ns3::Simulator::Run();

        WallClock wall;
        wall.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wallStart).count();
        wall.events = ns3::Simulator::GetEventCount();
        out.result = Report(s, tb, in, wall);
        out.timeseriesCsv = in.series.str();
        ns3::Simulator::Destroy();
        SocketAccountTable::Reset();
    }
    out.conservationOk = out.result.conservation.ok;
    out.summary = Summary(s, out.result);
    return out;
}

} // namespace tunsim
