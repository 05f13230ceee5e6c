// Simulator speed for TCP: simulated seconds per wall second.
//
//   TcpBulk/<cc>/ring:<N>   one bulk TCP flow (LinuxTcpSocket: GSO, TSQ,
//                           Linux's receive window, RACK for the head)
//                           through pfifo_fast, mainline `drop`, a tun ring
//                           of N entries (1, 25, 500, 5000), a reader that
//                           drains 200 Mbit/s (reader.ns_per_byte 40, the
//                           TCP validation grid's), 30 ms each way; Cubic
//                           and BBR. TUNSIM_BENCH_TCP_S simulated seconds
//                           per run (default 10).
//
// Counters: sim_s/wall_s (the speed-up over real time; the target
// is >= 3 on one core), goodput_Mbps (what the run simulated, to show the
// work: a deep ring at full rate is the expensive case), segs/s (data
// segments delivered per wall second), events/seg.
//
// The table at the end takes the best of the repetitions (the runs are
// deterministic). `cmake --build build --target bench` runs it after
// bench_throughput; docs/performance.md keeps the figures.
#include "bench-env.h"
#include "run/experiment.h"
#include "scenario/scenario.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

using nlohmann::json;

namespace
{

double
SimSeconds()
{
    static const double d = bench::SecondsFromEnv("bench_tcp", "TUNSIM_BENCH_TCP_S", 10.0, 600);
    return d;
}

tunsim::Scenario
BulkScenario(const std::string& cc, uint32_t ring)
{
    const json j = {
        {"name", "bench-tcp"},
        {"duration_s", SimSeconds()},
        {"seed", 1},
        {"tun", {{"ring_size", ring}, {"policy", "drop"}}},
        {"qdisc", {{"kind", "pfifo_fast"}}},
        {"reader", {{"per_packet_ns", 0}, {"ns_per_byte", 40}, {"batch", 1}, {"encap", "none"}}},
        {"underlay", {{"rate_mbps", 1000}, {"delay_ms", 30}}},
        {"flows", json::array({{{"kind", "tcp"}, {"cc", cc}}})},
    };
    return tunsim::ScenarioFromJson(j);
}

struct Row
{
    double bestWall = 0;
    double simS = 0;
    double goodput = 0;
    uint64_t delivered = 0;
    uint64_t events = 0;
};

std::map<std::pair<std::string, uint32_t>, Row>&
Rows()
{
    static std::map<std::pair<std::string, uint32_t>, Row> rows;
    return rows;
}

void
BM_TcpBulk(benchmark::State& state, const std::string& cc)
{
    const auto ring = static_cast<uint32_t>(state.range(0));
    const tunsim::Scenario s = BulkScenario(cc, ring);
    Row& row = Rows()[{cc, ring}];
    for (auto _ : state)
    {
        const auto t0 = std::chrono::steady_clock::now();
        const tunsim::RunOutput out = tunsim::RunExperiment(s);
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!out.conservationOk)
        {
            state.SkipWithError("packet conservation violated");
            return;
        }
        row.bestWall = row.bestWall > 0 ? std::min(row.bestWall, wall) : wall;
        row.simS = out.result.simulatedS;
        row.goodput = out.result.flows.empty() ? 0.0 : out.result.flows[0].goodputMbps;
        row.delivered = out.result.conservation.forward.delivered;
        row.events = out.result.simulatorEvents.value_or(0);
        state.counters["sim_s/wall_s"] = row.simS / wall;
        state.counters["goodput_Mbps"] = row.goodput;
        state.counters["segs/s"] = benchmark::Counter(static_cast<double>(row.delivered) / wall);
        state.counters["events/seg"] = row.delivered ? static_cast<double>(row.events) / row.delivered : 0.0;
    }
}

void
Rings(benchmark::internal::Benchmark* b)
{
    b->ArgName("ring")->Arg(1)->Arg(25)->Arg(500)->Arg(5000);
    b->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
}

void
PrintTable()
{
    std::printf("\nTCP: one bulk flow, %g simulated s per run, 60 ms RTT, 200 Mbit/s reader; best of the runs\n",
                SimSeconds());
    std::printf("%-6s %6s %9s %8s %12s %10s %10s  %s\n", "cc", "ring", "goodput", "wall_s", "sim_s/wall_s",
                "kseg/s", "events/seg", "target >= 3x real time");
    double worst = 0;
    bool any = false;
    for (const auto& [key, r] : Rows())
    {
        const double speed = r.bestWall > 0 ? r.simS / r.bestWall : 0;
        worst = any ? std::min(worst, speed) : speed;
        any = true;
        std::printf("%-6s %6u %9.1f %8.3f %12.2f %10.1f %10.2f  %s\n", key.first.c_str(), key.second, r.goodput,
                    r.bestWall, speed, r.bestWall > 0 ? r.delivered / r.bestWall / 1e3 : 0.0,
                    r.delivered ? static_cast<double>(r.events) / r.delivered : 0.0, speed >= 3 ? "met" : "NOT met");
    }
    if (any)
    {
        std::printf("slowest configuration: %.2f x real time\n", worst);
    }
}

} // namespace

BENCHMARK_CAPTURE(BM_TcpBulk, cubic, std::string("cubic"))->Apply(Rings);
BENCHMARK_CAPTURE(BM_TcpBulk, bbr, std::string("bbr"))->Apply(Rings);

int
main(int argc, char** argv)
{
    SimSeconds(); // a bad TUNSIM_BENCH_TCP_S stops here, before any output
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
    {
        return 2;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    PrintTable();
    return 0;
}
