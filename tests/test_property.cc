// Property test (issue 16): random *valid* scenarios, drawn with a fixed
// seed over every policy, qdisc, traffic kind and mode, reader settings
// (costs, wake-up latencies and quantiles, two-level wake-ups, batches,
// encaps, stalls, preemption), underlay and host settings, and short
// durations (20-200 ms simulated). Each must validate, run through
// RunExperiment without an exception or a budget stop, and conserve
// packets; every 10th runs twice and must give the same result (ToJson,
// the wall block aside).
#include "result/run-result.h"
#include "run/experiment.h"
#include "scenario/scenario.h"

#include "tun-policy.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

using nlohmann::json;

namespace
{

constexpr int kScenarios = 220;
constexpr int kDeterminismEvery = 10;

/// Draws from one fixed-seed generator (the same sequence on every run of
/// the test; the arithmetic below does not depend on the library's
/// distributions).
class Draw
{
  public:
    explicit Draw(uint64_t seed)
        : m_rng(seed)
    {
    }
    double Uniform(double lo, double hi) { return lo + (hi - lo) * (m_rng() >> 11) * 0x1.0p-53; }
    /// log-uniform in [lo, hi], lo > 0
    double LogUniform(double lo, double hi) { return std::exp(Uniform(std::log(lo), std::log(hi))); }
    uint64_t Int(uint64_t lo, uint64_t hi) { return lo + m_rng() % (hi - lo + 1); }
    bool Chance(double p) { return Uniform(0, 1) < p; }
    template <typename T>
    const T& Pick(const std::vector<T>& v) { return v[Int(0, v.size() - 1)]; }

  private:
    std::mt19937_64 m_rng;
};

json
RandomReader(Draw& d, double duration)
{
    json r;
    r["per_packet_ns"] = d.Chance(0.1) ? 0.0 : d.LogUniform(200, 30000);
    r["ns_per_byte"] = d.Chance(0.5) ? 0.0 : d.Uniform(0, 4);
    if (d.Chance(0.3))
    {
        r["wakeup_quantiles_us"] = json::array({d.Uniform(0, 5), d.Uniform(5, 20), d.Uniform(20, 80)});
    }
    else
    {
        r["wakeup_latency_us"] = d.Uniform(0, 50);
    }
    if (d.Chance(0.25))
    {
        r["deep_idle_after_us"] = d.Uniform(10, 500);
        if (d.Chance(0.5))
        {
            r["deep_wakeup_latency_us"] = d.Uniform(20, 200);
        }
        else
        {
            r["deep_wakeup_quantiles_us"] = json::array({d.Uniform(20, 60), d.Uniform(60, 200)});
        }
    }
    r["batch"] = d.Pick<int>({1, 1, 2, 8, 64});
    r["encap"] = d.Pick<std::string>({"none", "openvpn", "wireguard", "custom"});
    if (r["encap"] == "custom")
    {
        r["encap_overhead_bytes"] = d.Int(0, 100);
    }
    r["sndbuf_bytes"] = d.Pick<int>({4608, 65536, 212992});
    json stalls = json::array();
    for (uint64_t k = d.Int(0, 2); k > 0; --k)
    {
        const double at = d.Uniform(0, duration * 0.8);
        stalls.push_back({{"at_s", at}, {"for_s", d.Uniform(1e-4, (duration - at) * 0.5)}});
    }
    r["stalls"] = stalls;
    if (d.Chance(0.2))
    {
        r["preempt_interval_ms"] = d.Uniform(0.5, 20);
        r["preempt_ms"] = d.Uniform(0.01, 2);
    }
    return r;
}

json
RandomFlow(Draw& d, double duration)
{
    json f;
    if (d.Chance(0.25))
    {
        f["kind"] = "tcp";
        f["cc"] = d.Pick<std::string>({"cubic", "newreno"});
        f["max_bytes"] = d.Chance(0.5) ? 0 : d.Int(10000, 2000000);
    }
    else
    {
        f["kind"] = "udp";
        const std::string mode = d.Pick<std::string>({"flood", "rate", "bursts", "video"});
        f["mode"] = mode;
        f["payload_bytes"] = d.Int(12, 1472);
        // At least 2 us per send(): a flood stays below 500 k packets/s.
        f["send_cost_ns"] = d.LogUniform(mode == "flood" ? 2000 : 100, 20000);
        if (d.Chance(0.3))
        {
            f["send_cost_first_ns"] = d.Uniform(0, 50000);
        }
        if (mode == "rate" || mode == "video")
        {
            f["rate_mbps"] = d.LogUniform(0.5, 300);
        }
        f["poisson"] = mode == "rate" && d.Chance(0.5);
        if (mode == "bursts")
        {
            f["burst_packets"] = d.Int(1, 100);
            f["burst_interval_ms"] = d.LogUniform(0.05, 20);
        }
        if (mode == "video")
        {
            f["fps"] = d.Uniform(10, 120);
            f["gop"] = d.Int(1, 60);
            f["i_frame_ratio"] = d.Uniform(1, 10);
            f["phase_ms"] = d.Uniform(0, 10);
            f["frame_size_cv"] = d.Chance(0.5) ? 0.0 : d.Uniform(0, 1);
        }
    }
    const double start = d.Chance(0.5) ? 0.0 : d.Uniform(0, duration * 0.5);
    f["start_s"] = start;
    f["stop_s"] = d.Chance(0.6) ? -1.0 : d.Uniform(start + (duration - start) * 0.1, duration);
    return f;
}

json
RandomScenario(Draw& d, int i)
{
    const double duration = d.Uniform(0.02, 0.2);
    json s;
    s["name"] = "property-" + std::to_string(i);
    s["duration_s"] = duration;
    s["seed"] = d.Int(1, 1000);
    s["tun"] = {{"ring_size", d.Pick<int>({1, 2, 5, 25, 100, 500})},
                {"policy", d.Pick(tunsim::TunPolicyNames())},
                {"softirq_latency_us", d.Uniform(0, 20)},
                {"softirq_on_reader_cpu", d.Chance(0.3)},
                {"xmit_cost_ns", d.Chance(0.5) ? 0.0 : d.Uniform(0, 2000)},
                {"softirq_cost_ns", d.Chance(0.5) ? 0.0 : d.Uniform(0, 2000)}};
    s["qdisc"] = {{"kind", d.Pick<std::string>({"fq_codel", "pfifo_fast", "pfifo", "noqueue"})},
                  {"limit", d.Pick<int>({0, 0, 1, 10, 1000})},
                  {"target_ms", d.LogUniform(0.5, 20)},
                  {"interval_ms", d.LogUniform(20, 200)}};
    s["reader"] = RandomReader(d, duration);
    s["underlay"] = {{"rate_mbps", d.LogUniform(1, 1000)},
                     {"delay_ms", d.Uniform(0, 20)},
                     {"queue_packets", d.Pick<int>({1, 10, 1000})},
                     {"qdisc", d.Pick<std::string>({"pfifo_fast", "fq_codel", "noqueue"})}};
    s["host"] = {{"udp_sndbuf_bytes", d.Pick<int>({4608, 65536, 212992, 1000000})},
                 {"sender_wakeup_latency_us", d.Uniform(0, 50)},
                 {"tcp_small_queues", d.Chance(0.7)},
                 {"tcp_limit_output_bytes", d.Pick<int>({4096, 262144, 1048576})},
                 {"tcp_pacing_shift", d.Int(0, 12)}};
    json flows = json::array();
    for (uint64_t k = d.Int(1, 3); k > 0; --k)
    {
        flows.push_back(RandomFlow(d, duration));
    }
    s["flows"] = flows;
    return s;
}

json
WithoutWall(const tunsim::RunResult& r)
{
    json j = tunsim::ToJson(r);
    j.erase("wall");
    return j;
}

} // namespace

TEST(Property, RandomValidScenariosRunConserveAndRepeat)
{
    Draw d(20260116);
    std::vector<int> kinds(8, 0); // what was drawn, to show the coverage
    const auto t0 = std::chrono::steady_clock::now();
    int checkedTwice = 0;
    for (int i = 0; i < kScenarios; ++i)
    {
        const json j = RandomScenario(d, i);
        SCOPED_TRACE("scenario " + std::to_string(i) + ": " + j.dump());
        tunsim::Scenario sc;
        ASSERT_NO_THROW(sc = tunsim::ScenarioFromJson(j)) << "the generator drew an invalid scenario";
        for (const auto& f : sc.flows)
        {
            ++kinds[f.kind == tunsim::FlowKind::Tcp ? 4 : static_cast<int>(f.mode)];
        }
        tunsim::RunOutput out;
        ASSERT_NO_THROW(out = tunsim::RunExperiment(sc)) << "run " << i;
        EXPECT_FALSE(out.result.partial.has_value());
        EXPECT_TRUE(out.conservationOk) << tunsim::ToJson(out.result)["conservation"].dump();
        EXPECT_GT(out.result.simulatedS, 0.0);
        if (i % kDeterminismEvery == 0)
        {
            const tunsim::RunOutput again = tunsim::RunExperiment(sc);
            EXPECT_EQ(WithoutWall(again.result), WithoutWall(out.result)) << "not deterministic";
            ++checkedTwice;
        }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("property: %d scenarios (flows: flood %d, rate %d, bursts %d, video %d, tcp %d), %d run twice, "
                "%.1f s\n",
                kScenarios, kinds[0], kinds[1], kinds[2], kinds[3], kinds[4], checkedTwice, secs);
    EXPECT_GE(kScenarios, 200);
}

// Draw 168 of the sequence above, kept as a case of its own: a bounded TCP
// flow in fast recovery behind a 5-entry ring, its peer's receive window
// exactly full of sent-but-SACKed data. ns-3.37's NextSeg() then offered a
// 0-byte segment and TcpSocketBase dereferenced a null TcpTxItem (SIGSEGV);
// LinuxTcpSocket now stops as tcp_snd_wnd_test() does until the next ACK.
TEST(Property, FullPeerWindowDuringRecoveryWaitsForTheNextAck)
{
    const json j = json::parse(R"SCN({"duration_s":0.06755975619694564,"flows":[{"cc":"cubic","kind":"tcp","max_bytes":1407916,"start_s":0.0,"stop_s":-1.0},{"burst_interval_ms":0.23367169536689517,"burst_packets":15,"kind":"udp","mode":"bursts","payload_bytes":929,"poisson":false,"send_cost_ns":612.6829944740716,"start_s":0.016490233839969292,"stop_s":-1.0},{"burst_interval_ms":0.1415156938427659,"burst_packets":32,"kind":"udp","mode":"bursts","payload_bytes":1320,"poisson":false,"send_cost_ns":575.1739141991809,"start_s":0.0,"stop_s":0.03548728396857634}],"host":{"sender_wakeup_latency_us":47.59528978172277,"tcp_limit_output_bytes":1048576,"tcp_pacing_shift":3,"tcp_small_queues":true,"udp_sndbuf_bytes":1000000},"name":"property-168","qdisc":{"interval_ms":27.4827429640194,"kind":"fq_codel","limit":10,"target_ms":18.12860182617668},"reader":{"batch":1,"encap":"wireguard","ns_per_byte":0.0,"per_packet_ns":11499.281903754529,"sndbuf_bytes":65536,"stalls":[],"wakeup_latency_us":35.234584367392415},"seed":397,"tun":{"policy":"nodrop-v2","ring_size":5,"softirq_cost_ns":1494.745187198699,"softirq_latency_us":9.30893087461676,"softirq_on_reader_cpu":false,"xmit_cost_ns":0.0},"underlay":{"delay_ms":0.013944188472172492,"qdisc":"noqueue","queue_packets":1000,"rate_mbps":795.5474003871234}})SCN");
    const tunsim::RunOutput out = tunsim::RunExperiment(tunsim::ScenarioFromJson(j));
    EXPECT_TRUE(out.conservationOk);
    EXPECT_FALSE(out.result.partial.has_value());
}
