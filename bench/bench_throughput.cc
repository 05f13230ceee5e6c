// Simulator throughput: simulated packets per wall second.
//
//   TunPath/<policy>/ring:<N>   scenarios/udp-flood.json (duration cut to
//                               0.3 s) through the whole tunsim path: UDP
//                               sender -> qdisc -> TunNetDevice ring ->
//                               VpnReader -> underlay -> VpnPeer -> sink,
//                               for ring sizes 1, 25, 500, 65536, with
//                               `drop` (pfifo_fast, as in the scenario) and
//                               `nodrop-v8` with fq_codel.
//   P2PBaseline                 the same UDP traffic (tunsim::UdpSeqSender,
//                               same SocketAccount, same send cost and
//                               sk_sndbuf, a UdpSeqSink) over a stock ns-3
//                               PointToPoint link whose rate equals the
//                               reader's capacity (one 1400-byte datagram
//                               every 2000 ns), without tun or reader.
//
// Counters (per benchmark):
//   sim_pkts/s        simulated packets handed down by the senders per wall
//                     second (the ledger's sent count; kIsRate)
//   delivered/s       packets that reached the far end per wall second
//   ns/pkt            wall nanoseconds per simulated (sent) packet
//   cpu_ns/pkt        the same in thread CPU time
//   ns/delivered      wall nanoseconds per delivered packet
//   events/pkt        ns-3 events per simulated packet
//
// After the runs a side-by-side table (best run of each configuration: the
// runs are deterministic, so the fastest is the least disturbed by other
// load) prints the ratio to the p2p baseline and, per policy, the spread of
// the per-packet cost across ring sizes (max/min - 1; target <= 10 %), next
// to the spread of events per packet (a policy that stops/wakes per packet
// simulates more events per packet: that is model work, not overhead).
// Run it with `cmake --build build --target bench` (3 repetitions, randomly
// interleaved) or build/bench/bench_throughput [--benchmark_filter=...].
#include "bench-env.h"
#include "run/experiment.h"
#include "packet-ledger.h"
#include "scenario/scenario.h"
#include "socket-account.h"
#include "traffic-apps.h"

#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/traffic-control-module.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <string>
#include <vector>

using nlohmann::json;

namespace
{

/// Simulated seconds per run: 0.3, or TUNSIM_BENCH_DURATION_S (bench/
/// instructions.sh counts a short and a very short run under callgrind to
/// subtract set-up and tear-down).
double
DurationS()
{
    static const double d = bench::SecondsFromEnv("bench_throughput", "TUNSIM_BENCH_DURATION_S", 0.3, 100);
    return d;
}
constexpr int kIterations = 1; ///< per benchmark run; repeat with --benchmark_repetitions

/// CPU time of this thread (less disturbed than wall time by other processes
/// on a shared 2-core machine).
double
ThreadCpuS()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/// The least of the samples: the run least disturbed by whatever else the
/// machine was doing (the `bench` target interleaves 3 repetitions).
double
Best(const std::vector<double>& v)
{
    return v.empty() ? 0 : *std::min_element(v.begin(), v.end());
}

/// What one benchmark measured (best wall and CPU time over its iterations
/// and repetitions; the packet counts are the same every time: the runs are
/// deterministic), for the final table.
struct Figure
{
    std::string variant;
    uint32_t ring = 0;
    std::vector<double> walls;
    std::vector<double> cpus;
    double wallS = 0;
    double cpuS = 0;
    uint64_t simPackets = 0;
    uint64_t delivered = 0;
    uint64_t events = 0;
    double NsPerPacket() const { return simPackets ? wallS * 1e9 / simPackets : 0; }
    double NsPerDelivered() const { return delivered ? wallS * 1e9 / delivered : 0; }
    double CpuNsPerPacket() const { return simPackets ? cpuS * 1e9 / simPackets : 0; }
    void Time(double wall, double cpu)
    {
        walls.push_back(wall);
        cpus.push_back(cpu);
        wallS = Best(walls);
        cpuS = Best(cpus);
    }
    double PacketsPerS() const { return wallS > 0 ? simPackets / wallS : 0; }
};

std::vector<Figure>&
Figures()
{
    static std::vector<Figure> f;
    return f;
}

void
Record(benchmark::State& state, const Figure& fig, uint64_t totalSim, uint64_t totalDelivered, uint64_t totalEvents)
{
    state.counters["sim_pkts/s"] = benchmark::Counter(static_cast<double>(totalSim), benchmark::Counter::kIsRate);
    state.counters["delivered/s"] =
        benchmark::Counter(static_cast<double>(totalDelivered), benchmark::Counter::kIsRate);
    state.counters["ns/pkt"] = fig.NsPerPacket();
    state.counters["cpu_ns/pkt"] = fig.CpuNsPerPacket();
    state.counters["ns/delivered"] = fig.NsPerDelivered();
    state.counters["events/pkt"] = fig.simPackets ? static_cast<double>(fig.events) / fig.simPackets : 0;
    state.counters["sim_pkts"] = static_cast<double>(fig.simPackets);
    // Repetitions of the same benchmark merge into one table row.
    for (auto& f : Figures())
    {
        if (f.variant == fig.variant && f.ring == fig.ring)
        {
            for (size_t i = 0; i < fig.walls.size(); ++i)
            {
                f.Time(fig.walls[i], fig.cpus[i]);
            }
            return;
        }
    }
    Figures().push_back(fig);
}

// ------------------------------------------------------------ the tun path

tunsim::Scenario
FloodScenario(const std::string& policy, const std::string& qdisc, uint32_t ring)
{
    json j = tunsim::LoadScenarioJson(std::string(TUNSIM_SOURCE_DIR) + "/scenarios/udp-flood.json");
    tunsim::ApplySet(j, "duration_s=" + std::to_string(DurationS()));
    tunsim::ApplySet(j, "tun.ring_size=" + std::to_string(ring));
    tunsim::ApplySet(j, "tun.policy=" + policy);
    tunsim::ApplySet(j, "qdisc.kind=" + qdisc);
    return tunsim::ScenarioFromJson(j);
}

/// What one run of a configuration carried; `ok` false = packet
/// conservation violated.
struct RunCounts
{
    uint64_t sent = 0;
    uint64_t delivered = 0;
    uint64_t events = 0;
    bool ok = true;
};

/// Runs `run` (returning RunCounts) once per benchmark iteration, timing it
/// in wall and thread-CPU seconds, and records the figures of `fig`'s row.
template <typename Run>
void
Measure(benchmark::State& state, Figure fig, Run run)
{
    uint64_t totalSim = 0;
    uint64_t totalDelivered = 0;
    uint64_t totalEvents = 0;
    for (auto _ : state)
    {
        double c0 = ThreadCpuS();
        auto t0 = std::chrono::steady_clock::now();
        RunCounts out = run();
        auto t1 = std::chrono::steady_clock::now();
        double c1 = ThreadCpuS();
        if (!out.ok)
        {
            state.SkipWithError("packet conservation violated");
            return;
        }
        fig.Time(std::chrono::duration<double>(t1 - t0).count(), c1 - c0);
        fig.simPackets = out.sent;
        fig.delivered = out.delivered;
        fig.events = out.events;
        totalSim += out.sent;
        totalDelivered += out.delivered;
        totalEvents += out.events;
    }
    Record(state, fig, totalSim, totalDelivered, totalEvents);
}

void
BM_TunPath(benchmark::State& state, const std::string& policy, const std::string& qdisc)
{
    const auto ring = static_cast<uint32_t>(state.range(0));
    const tunsim::Scenario s = FloodScenario(policy, qdisc, ring);
    Figure fig;
    fig.variant = policy + "+" + qdisc;
    fig.ring = ring;
    Measure(state, fig, [&s]() {
        tunsim::RunOutput out = tunsim::RunExperiment(s);
        RunCounts c;
        c.ok = out.conservationOk;
        c.sent = out.result.simulatedPackets;
        c.delivered = out.result.conservation.forward.delivered;
        c.events = out.result.simulatorEvents.value_or(0);
        return c;
    });
}

// ------------------------------------------------------- the p2p baseline

/// Two nodes, one PointToPoint link at the reader's capacity, the flood
/// sender of udp-flood.json on one end and a sink on the other.
RunCounts
RunP2PBaseline(const tunsim::Scenario& s)
{
    using namespace ns3;
    Simulator::Destroy();
    Config::Reset();
    tunsim::SocketAccountTable::Reset();
    RngSeedManager::SetSeed(1);
    RngSeedManager::SetRun(s.seed);

    const tunsim::FlowConfig& f = s.flows.at(0);
    NodeContainer nodes;
    nodes.Create(2);
    InternetStackHelper internet;
    internet.Install(nodes);
    internet.AssignStreams(nodes, 0);

    // One inner packet (payload + UDP/IPv4 + PPP header) per reader service
    // time: 1430 B every 2000 ns = 5.72 Gbit/s.
    const uint32_t wireBytes = f.payloadBytes + 28 + 2;
    const double rateBps = wireBytes * 8.0 / (s.reader.perPacketNs * 1e-9);
    PointToPointHelper p2p;
    p2p.SetDeviceAttribute("DataRate", DataRateValue(DataRate(static_cast<uint64_t>(rateBps))));
    p2p.SetChannelAttribute("Delay", TimeValue(NanoSeconds(static_cast<int64_t>(s.underlay.delayMs * 1e6))));
    NetDeviceContainer link = p2p.Install(nodes);
    Ipv4AddressHelper addr;
    addr.SetBase("10.8.0.0", "255.255.255.0");
    addr.Assign(link); // also installs ns-3's default root qdisc (pfifo_fast)

    auto ledger = Create<tunsim::PacketLedger>();
    uint32_t flow = ledger->AddFlow("flow0-udp", tunsim::Direction::Forward);
    auto account = tunsim::SocketAccountTable::Create("flow0-udp", s.host.udpSndbufBytes);

    tunsim::UdpSeqSender::Config c;
    c.mode = tunsim::UdpSeqSender::Mode::Flood;
    c.payloadBytes = f.payloadBytes;
    c.wakeupLatency = NanoSeconds(static_cast<int64_t>(s.host.senderWakeupLatencyUs * 1e3));
    c.sendCost = NanoSeconds(static_cast<int64_t>(f.sendCostNs));
    auto tx = CreateObject<tunsim::UdpSeqSender>();
    tx->Setup(InetSocketAddress(Ipv4Address("10.8.0.2"), 5000), c, account, ledger, flow);
    nodes.Get(0)->AddApplication(tx);
    auto rx = CreateObject<tunsim::UdpSeqSink>();
    rx->Setup(5000);
    nodes.Get(1)->AddApplication(rx);
    tx->SetStartTime(Seconds(0));
    tx->SetStopTime(Seconds(s.durationS));
    rx->SetStartTime(Seconds(0));

    // The NIC finished sending: the skb is freed, sock_wfree() (as tunsim
    // does for its underlay NIC); drops free it too. Deliveries go to the
    // ledger as the tunnel peer's do.
    auto dev0 = DynamicCast<PointToPointNetDevice>(link.Get(0));
    auto dev1 = DynamicCast<PointToPointNetDevice>(link.Get(1));
    using PacketTrace = Callback<void, Ptr<const Packet>>;
    PacketTrace orphan([](Ptr<const Packet> p) { tunsim::SocketAccountTable::Orphan(p); });
    dev0->TraceConnectWithoutContext("PhyTxEnd", orphan);
    dev0->TraceConnectWithoutContext("MacTxDrop", orphan);
    tunsim::PacketLedger* l = PeekPointer(ledger);
    dev1->TraceConnectWithoutContext("MacRx", PacketTrace([l](Ptr<const Packet> p) { l->Delivered(p); }));
    auto q = nodes.Get(0)->GetObject<TrafficControlLayer>()->GetRootQueueDiscOnDevice(dev0);
    if (q)
    {
        q->TraceConnectWithoutContext(
            "DropBeforeEnqueue",
            Callback<void, Ptr<const QueueDiscItem>, const char*>([](Ptr<const QueueDiscItem> item, const char*) {
                tunsim::SocketAccountTable::Orphan(item->GetPacket());
            }));
    }

    Simulator::Stop(Seconds(s.durationS));
    Simulator::Run();
    RunCounts out;
    out.sent = ledger->SentPackets(tunsim::Direction::Forward);
    out.delivered = rx->Received();
    out.events = Simulator::GetEventCount();
    Simulator::Destroy();
    tunsim::SocketAccountTable::Reset();
    return out;
}

void
BM_P2PBaseline(benchmark::State& state)
{
    const tunsim::Scenario s = FloodScenario("drop", "pfifo_fast", 500);
    Figure fig;
    fig.variant = "p2p-baseline";
    Measure(state, fig, [&s]() { return RunP2PBaseline(s); });
}

void
PrintTable()
{
    // Interleaved repetitions record in random order: sort by variant, ring
    // (drop+..., nodrop-v8+..., then p2p-baseline).
    std::vector<Figure> figs = Figures();
    std::sort(figs.begin(), figs.end(), [](const Figure& a, const Figure& b) {
        return a.variant != b.variant ? a.variant < b.variant : a.ring < b.ring;
    });
    const Figure* base = nullptr;
    for (const auto& f : figs)
    {
        if (f.variant == "p2p-baseline")
        {
            base = &f;
        }
    }
    size_t runs = figs.empty() ? 0 : figs.front().walls.size();
    std::printf("\nSimulated packets per wall second: %g s of udp-flood.json per run, best of %zu runs\n",
                DurationS(), runs);
    std::printf("%-20s %6s %8s %9s %7s %8s %7s %8s %8s %6s %6s %6s\n", "variant", "ring", "sim_pkts", "delivered",
                "wall_s", "kpkt/s", "ns/pkt", "cpu_ns/p", "ns/deliv", "ev/pkt", "ns/ev", "x_p2p");
    for (const auto& f : figs)
    {
        std::printf("%-20s %6s %8lu %9lu %7.3f %8.1f %7.0f %8.0f %8.0f %6.2f %6.0f %6.2f\n", f.variant.c_str(),
                    f.ring ? std::to_string(f.ring).c_str() : "-", static_cast<unsigned long>(f.simPackets),
                    static_cast<unsigned long>(f.delivered), f.wallS, f.PacketsPerS() / 1e3, f.NsPerPacket(),
                    f.CpuNsPerPacket(), f.NsPerDelivered(),
                    f.simPackets ? static_cast<double>(f.events) / f.simPackets : 0.0,
                    f.events ? f.wallS * 1e9 / f.events : 0.0,
                    base && base->PacketsPerS() > 0 ? f.PacketsPerS() / base->PacketsPerS() : 0.0);
    }
    // Per-packet cost spread across ring sizes, per variant (wall and CPU).
    struct Range
    {
        double lo = 0, hi = 0, cpuLo = 0, cpuHi = 0;
        double evLo = 0, evHi = 0;
        bool any = false;
    };
    std::map<std::string, Range> range;
    for (const auto& f : figs)
    {
        if (!f.ring || f.simPackets == 0)
        {
            continue;
        }
        Range& r = range[f.variant];
        double ns = f.NsPerPacket();
        double cpu = f.CpuNsPerPacket();
        double ev = static_cast<double>(f.events) / f.simPackets;
        if (!r.any)
        {
            r = {ns, ns, cpu, cpu, ev, ev, true};
            continue;
        }
        r.lo = std::min(r.lo, ns);
        r.hi = std::max(r.hi, ns);
        r.cpuLo = std::min(r.cpuLo, cpu);
        r.cpuHi = std::max(r.cpuHi, cpu);
        r.evLo = std::min(r.evLo, ev);
        r.evHi = std::max(r.evHi, ev);
    }
    std::printf("\nPer-packet cost across ring sizes 1..65536 (target: max/min - 1 <= 10 %%)\n");
    for (const auto& [v, r] : range)
    {
        double spread = r.lo > 0 ? r.hi / r.lo - 1 : 0;
        double cpuSpread = r.cpuLo > 0 ? r.cpuHi / r.cpuLo - 1 : 0;
        std::printf("%-20s wall %6.0f..%6.0f ns/pkt spread %5.1f %% %-12s cpu spread %5.1f %%  "
                    "(events/pkt %.2f..%.2f)\n",
                    v.c_str(), r.lo, r.hi, 100 * spread, spread <= 0.10 ? "ok" : "ABOVE-TARGET", 100 * cpuSpread,
                    r.evLo, r.evHi);
    }
    double best = 0;
    for (const auto& f : figs)
    {
        if (f.ring)
        {
            best = std::max(best, f.PacketsPerS());
        }
    }
    std::printf("full tun path: best %.1f kpkt/s (target >= 200 kpkt/s: %s)\n", best / 1e3,
                best >= 200e3 ? "met" : "NOT met");
    if (base)
    {
        std::printf("p2p baseline: %.0f ns per packet (%.1f kpkt/s)\n", base->NsPerPacket(),
                    base->PacketsPerS() / 1e3);
    }
}

/// The ring sizes, one run each per repetition, timed by the wall clock.
void
RingSizes(benchmark::internal::Benchmark* b)
{
    b->ArgName("ring")->Arg(1)->Arg(25)->Arg(500)->Arg(65536);
    b->Iterations(kIterations)->UseRealTime()->Unit(benchmark::kMillisecond);
}

} // namespace

BENCHMARK_CAPTURE(BM_TunPath, drop, std::string("drop"), std::string("pfifo_fast"))->Apply(RingSizes);
BENCHMARK_CAPTURE(BM_TunPath, nodrop_v8_fq_codel, std::string("nodrop-v8"), std::string("fq_codel"))
    ->Apply(RingSizes);
BENCHMARK(BM_P2PBaseline)->Iterations(kIterations)->UseRealTime()->Unit(benchmark::kMillisecond);

int
main(int argc, char** argv)
{
    DurationS(); // a bad TUNSIM_BENCH_DURATION_S stops here, before any output
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
    {
        return 1;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    PrintTable();
    return 0;
}
