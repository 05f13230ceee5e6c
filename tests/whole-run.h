// One whole scenario run inside the test process, as `tunsim run` does it
// (reset, build, instrument, run, report), for the tests that compare two
// code paths run for run: its result (without `wall`) and its event count.
#pragma once

#include "run/experiment.h"
#include "run/testbed.h"
#include "scenario/scenario.h"
#include "socket-account.h"

#include "ns3/simulator.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>

namespace tunsim_test
{

struct WholeRun
{
    nlohmann::json result; // result.json without "wall"
    uint64_t events = 0;   // events the simulator ran
};

/// Runs `s`. `configure` runs after ns-3's defaults are reset and before
/// anything is built (set attribute defaults there); `connect(tb)` after the
/// testbed is built (trace sources); `inspect(tb)` after the run, before the
/// report and the teardown (read the objects).
inline WholeRun
RunWhole(const tunsim::Scenario& s, const std::function<void()>& configure,
         const std::function<void(tunsim::Testbed&)>& connect = {},
         const std::function<void(tunsim::Testbed&)>& inspect = {})
{
    tunsim::ResetSimulator(s);
    configure();
    WholeRun r;
    {
        tunsim::Testbed tb = tunsim::BuildTestbed(s);
        tunsim::Instruments in;
        tunsim::Instrument(tb, 0, in);
        if (connect)
        {
            connect(tb);
        }
        ns3::Simulator::Stop(ns3::Seconds(s.durationS));
        ns3::Simulator::Run();
        if (inspect)
        {
            inspect(tb);
        }
        tunsim::WallClock wall;
        wall.events = ns3::Simulator::GetEventCount();
        r.events = wall.events;
        r.result = tunsim::ToJson(tunsim::Report(s, tb, in, wall));
        ns3::Simulator::Destroy();
        tunsim::SocketAccountTable::Reset();
    }
    r.result.erase("wall");
    return r;
}

} // namespace tunsim_test
