// The multi-core host (issue 13): HostCpu's run queue and softirq points,
// LinuxDevXmit's qdisc runs (who runs the qdisc, the quota, one runner at a
// time, the softirq on the waking CPU) as hand-worked traces, and whole
// scenarios with host.cpus: conservation, determinism, exit-2 rules.
#include "helper/tun-path-helper.h"
#include "host-cpu.h"
#include "linux-dev-xmit.h"
#include "run/experiment.h"
#include "scenario/scenario.h"
#include "tun-net-device.h"
#include "tunsim-tag.h"

#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-queue-disc-item.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/traffic-control-layer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <tuple>
#include <vector>

using namespace tunsim;
using json = nlohmann::json;
using ns3::NanoSeconds;

namespace
{

int64_t
Busy(const HostCpu& c, CpuWork k)
{
    return c.GetStats().busy[static_cast<size_t>(k)].GetNanoSeconds();
}

// ------------------------------------------------------------- HostCpu

TEST(HostCpu, WorkSerializesAndBusyIsTheWorkCharged)
{
    auto cpu = ns3::CreateObject<HostCpu>();
    std::vector<int64_t> done;
    for (int64_t w : {1000, 300, 700})
    {
        cpu->Submit(NanoSeconds(w), CpuWork::Sender, [&done]() { done.push_back(ns3::Simulator::Now().GetNanoSeconds()); });
    }
    ns3::Simulator::Run();
    // one after the other: 1000, 1300, 2000
    EXPECT_EQ(done, (std::vector<int64_t>{1000, 1300, 2000}));
    EXPECT_EQ(Busy(*cpu, CpuWork::Sender), 2000);
    EXPECT_EQ(cpu->Busy().GetNanoSeconds(), 2000);
    EXPECT_EQ(cpu->GetStats().jobs, 3u);
    EXPECT_EQ(cpu->GetStats().maxQueueWait.GetNanoSeconds(), 1300); // the third waited 1000 + 300
    cpu->Dispose();
    ns3::Simulator::Destroy();
}

TEST(HostCpu, AContinuationsOwnWorkGoesBeforeWhatWaits)
{
    auto cpu = ns3::CreateObject<HostCpu>();
    std::vector<std::string> order;
    cpu->Submit(NanoSeconds(100), CpuWork::Reader, [&]() {
        order.push_back("a");
        EXPECT_EQ(HostCpu::Current(), ns3::PeekPointer(cpu));
        cpu->Submit(NanoSeconds(10), CpuWork::Reader, [&]() { order.push_back("a1"); });
        cpu->Submit(NanoSeconds(10), CpuWork::Reader, [&]() { order.push_back("a2"); });
    });
    cpu->Submit(NanoSeconds(100), CpuWork::Sender, [&]() { order.push_back("b"); });
    EXPECT_EQ(HostCpu::Current(), nullptr);
    ns3::Simulator::Run();
    EXPECT_EQ(order, (std::vector<std::string>{"a", "a1", "a2", "b"}));
    EXPECT_EQ(ns3::Simulator::Now().GetNanoSeconds(), 220);
    cpu->Dispose();
    ns3::Simulator::Destroy();
}

TEST(HostCpu, SoftirqRunsAtTheNextPointNotWhileBhIsDisabled)
{
    auto cpu = ns3::CreateObject<HostCpu>();
    std::vector<std::string> order;
    cpu->Submit(NanoSeconds(100), CpuWork::XmitDirect, [&]() {
        order.push_back("run");
        cpu->DisableBh();
        cpu->RaiseNetTx([&]() { order.push_back("softirq"); });
        cpu->Submit(NanoSeconds(50), CpuWork::XmitDirect, [&]() {
            order.push_back("run-end");
            cpu->EnableBh();
        });
    });
    cpu->Submit(NanoSeconds(10), CpuWork::Sender, [&]() { order.push_back("other"); });
    ns3::Simulator::Run();
    // raised inside the run: it waits for the run's end, then goes before other work
    EXPECT_EQ(order, (std::vector<std::string>{"run", "run-end", "softirq", "other"}));
    EXPECT_EQ(cpu->GetStats().softirqRaised, 1u);
    EXPECT_EQ(cpu->GetStats().softirqOnReturn, 1u);
    EXPECT_EQ(cpu->GetStats().softirqKsoftirqd, 0u);
    cpu->Dispose();
    ns3::Simulator::Destroy();
}

TEST(HostCpu, ASoftirqThatRaisesItselfGoesToKsoftirqdAfterTenRestarts)
{
    // net_tx_action() whose work raises NET_TX again each time (a qdisc that
    // always uses its quota): __do_softirq() restarts it MAX_SOFTIRQ_RESTART
    // times, then the rest waits in ksoftirqd behind the queued work.
    auto cpu = ns3::CreateObject<HostCpu>();
    int runs = 0;
    std::vector<int> otherAfter;
    std::function<void()> action = [&]() {
        ++runs;
        cpu->Submit(NanoSeconds(100), CpuWork::XmitSoftirq, [&]() {
            if (runs < 15)
            {
                cpu->RaiseNetTx(action);
            }
        });
    };
    cpu->Submit(NanoSeconds(10), CpuWork::Sender, [&]() { cpu->RaiseNetTx(action); });
    cpu->Submit(NanoSeconds(10), CpuWork::Sender, [&]() { otherAfter.push_back(runs); });
    ns3::Simulator::Run();
    EXPECT_EQ(runs, 15);
    const auto& st = cpu->GetStats();
    EXPECT_EQ(st.softirqOnReturn, 10u); // the first run + 9 restarts
    EXPECT_EQ(st.softirqKsoftirqd + st.softirqOnReturn, 15u);
    // the waiting sender ran after the tenth run, before ksoftirqd's
    EXPECT_EQ(otherAfter, std::vector<int>{10});
    EXPECT_EQ(Busy(*cpu, CpuWork::XmitSoftirq), 1500);
    cpu->Dispose();
    ns3::Simulator::Destroy();
}

// -------------------------------------------------------- LinuxDevXmit

/// A client with tun0 (`policy`, ring `ring`, pfifo) whose reader never
/// reads on its own (stalled the whole time), and LinuxDevXmit on `ncpu`
/// CPUs; flow f's sender on flowCpu[f], the reader on CPU `readerCpu`.
class DevXmitFixture : public ::testing::Test
{
  protected:
    void Build(const std::string& policy, uint32_t ring, uint32_t ncpu, std::vector<uint32_t> flowCpu,
               uint32_t readerCpu, LinuxDevXmit::Costs costs)
    {
        m_nodes.Create(2);
        ns3::InternetStackHelper().Install(m_nodes);
        TunPathHelper h;
        h.SetPolicy(policy);
        h.SetRingSize(ring);
        h.SetQdisc(QdiscKind::Pfifo, QdiscParams{1000, 5, 100});
        m_path = h.Install(m_nodes.Get(0), m_nodes.Get(1));
        // the VPN reader starts after the test's end (Simulator::Stop): the
        // test reads the ring itself (ReadOn)
        m_path.reader->SetStartTime(ns3::Seconds(5));
        ns3::Simulator::Stop(ns3::Seconds(1));
        for (uint32_t i = 0; i < ncpu; ++i)
        {
            m_cpus.push_back(ns3::CreateObject<HostCpu>());
        }
        m_xmit = ns3::CreateObject<LinuxDevXmit>();
        m_xmit->Setup(m_nodes.Get(0)->GetObject<ns3::TrafficControlLayer>(), m_path.tun, m_cpus, flowCpu,
                      {readerCpu}, costs);
        m_xmit->SetRunTrace([this](uint32_t, uint32_t cpu, bool softirq, uint32_t n) {
            m_runs.emplace_back(cpu, softirq, n);
            m_runEndNs.push_back(ns3::Simulator::Now().GetNanoSeconds());
        });
        // one runner at a time: every tun_net_xmit() is the owner's, on its CPU
        m_path.tun->TraceConnectWithoutContext(
            "RingOccupancy", ns3::MakeCallback(&DevXmitFixture::OnProduceOrConsume, this));
    }
    void OnProduceOrConsume(uint32_t, uint32_t)
    {
        if (m_inConsume)
        {
            return;
        }
        ++m_produced;
        EXPECT_NE(m_xmit->Owner(0), nullptr);
        EXPECT_EQ(m_xmit->Owner(0), HostCpu::Current());
    }
    /// n packets of `flow` handed to __dev_queue_xmit() at t = 0 (after the
    /// nodes' initialisation, which sets up the qdiscs)
    void Send(uint32_t flow, uint32_t n)
    {
        ns3::Simulator::Schedule(ns3::Seconds(0), &DevXmitFixture::SendNow, this, flow, n);
    }
    void SendNow(uint32_t flow, uint32_t n)
    {
        for (uint32_t i = 0; i < n; ++i)
        {
            ns3::Ptr<ns3::Packet> p = ns3::Create<ns3::Packet>(1000);
            p->AddPacketTag(TunsimTag(flow, 0, 0, 0));
            ns3::Ipv4Header ip;
            ip.SetSource(ns3::Ipv4Address("10.8.0.1"));
            ip.SetDestination(ns3::Ipv4Address("10.8.0.2"));
            ip.SetPayloadSize(1000);
            m_xmit->Send(m_path.tun, ns3::Create<ns3::Ipv4QueueDiscItem>(p, ns3::Address(), 0x0800, ip));
        }
    }
    /// The reader's read(): consume `n` from the ring as work on `cpu`.
    void ReadOn(uint32_t cpu, uint32_t n, ns3::Time at)
    {
        ns3::Simulator::Schedule(at, [this, cpu, n]() {
            m_cpus[cpu]->Submit(ns3::Time(0), CpuWork::Reader, [this, n]() {
                m_inConsume = true;
                for (uint32_t i = 0; i < n; ++i)
                {
                    ASSERT_TRUE(m_path.tun->TunRingConsume(0));
                }
                m_inConsume = false;
            });
        });
    }
    void TearDown() override
    {
        m_xmit->Dispose();
        for (auto& c : m_cpus)
        {
            c->Dispose();
        }
        ns3::Simulator::Destroy();
    }
    const HostCpu& Cpu(uint32_t i) const { return *m_cpus[i]; }

    ns3::NodeContainer m_nodes;
    TunPath m_path;
    std::vector<ns3::Ptr<HostCpu>> m_cpus;
    ns3::Ptr<LinuxDevXmit> m_xmit;
    std::vector<std::tuple<uint32_t, bool, uint32_t>> m_runs; ///< cpu, softirq, packets
    std::vector<int64_t> m_runEndNs;
    uint64_t m_produced = 0;
    bool m_inConsume = false;
};

LinuxDevXmit::Costs
Costs(int64_t output, int64_t xmit, int64_t softirq, int64_t lock, uint32_t quota = 64)
{
    LinuxDevXmit::Costs c;
    c.output = NanoSeconds(output);
    c.xmit = NanoSeconds(xmit);
    c.softirq = NanoSeconds(softirq);
    c.lock = NanoSeconds(lock);
    c.quota = quota;
    return c;
}

TEST_F(DevXmitFixture, TheQuotaOf64ThenNetTxSoftirqOnTheSameCpu)
{
    // 200 packets at t = 0 from one sender on CPU 0 (sendmsg free, 100 ns per
    // transmit, ring 500: never full). The first sender's __dev_xmit_skb()
    // wins qdisc_run_begin() and sends 64; __netif_schedule() raises
    // NET_TX on CPU 0, whose softirq runs before the other senders' work:
    // 64 + 64 + 8 more. The 199 later attempts find the qdisc empty.
    Build("drop", 500, 1, {0}, 0, Costs(0, 100, 0, 0));
    Send(0, 200);
    ns3::Simulator::Run();
    ASSERT_GE(m_runs.size(), 4u);
    EXPECT_EQ(m_runs[0], std::make_tuple(0u, false, 64u));
    EXPECT_EQ(m_runs[1], std::make_tuple(0u, true, 64u));
    EXPECT_EQ(m_runs[2], std::make_tuple(0u, true, 64u));
    EXPECT_EQ(m_runs[3], std::make_tuple(0u, true, 8u));
    for (size_t i = 4; i < m_runs.size(); ++i)
    {
        EXPECT_EQ(std::get<2>(m_runs[i]), 0u) << i;
    }
    const auto& st = m_xmit->GetRunStats(0);
    EXPECT_EQ(st.packets, 200u);
    EXPECT_EQ(st.quotaHits, 3u);
    EXPECT_EQ(st.maxRunPackets, 64u);
    EXPECT_EQ(st.softirqPackets, 136u);
    EXPECT_EQ(m_produced, 200u);
    EXPECT_EQ(Busy(Cpu(0), CpuWork::XmitDirect), 64 * 100);
    EXPECT_EQ(Busy(Cpu(0), CpuWork::XmitSoftirq), 136 * 100);
    EXPECT_EQ(Cpu(0).GetStats().softirqRaised, 3u);
    EXPECT_EQ(Cpu(0).GetStats().softirqOnReturn, 3u);
    // 200 x 100 ns back to back on one CPU
    EXPECT_EQ(m_runEndNs[0], 6400);
    EXPECT_EQ(m_runEndNs[3], 20000);
}

TEST_F(DevXmitFixture, OneRunnerAtATimeTheOthersEnqueueAndLeave)
{
    // Two senders on CPUs 0 and 1, 1 us of TCP/IP output per segment, 300 ns per
    // transmit, 200 ns per contended enqueue; 50 packets each at t = 0.
    Build("drop", 500, 2, {0, 1}, 0, Costs(1000, 300, 0, 200));
    Send(0, 50);
    Send(1, 50);
    ns3::Simulator::Run();
    const auto& st = m_xmit->GetRunStats(0);
    EXPECT_EQ(st.packets, 100u);
    EXPECT_EQ(m_produced, 100u); // OnProduceOrConsume checked the owner each time
    EXPECT_GT(st.contended, 0u);
    // every charged nanosecond is booked: 100 segments, 100 transmits, the locks
    const int64_t xmit = Busy(Cpu(0), CpuWork::XmitDirect) + Busy(Cpu(1), CpuWork::XmitDirect) +
                         Busy(Cpu(0), CpuWork::XmitSoftirq) + Busy(Cpu(1), CpuWork::XmitSoftirq);
    EXPECT_EQ(xmit, 100 * 300);
    EXPECT_EQ(Busy(Cpu(0), CpuWork::Sender), 50 * 1000);
    EXPECT_EQ(Busy(Cpu(1), CpuWork::Sender), 50 * 1000);
    const int64_t lock = Busy(Cpu(0), CpuWork::Lock) + Busy(Cpu(1), CpuWork::Lock);
    EXPECT_EQ(lock % 200, 0);
    EXPECT_LE(lock / 200, static_cast<int64_t>(st.contended));
    for (uint32_t c : {0u, 1u})
    {
        EXPECT_EQ(Cpu(c).Busy(), Cpu(c).GetStats().busy[0] + Cpu(c).GetStats().busy[2] +
                                     Cpu(c).GetStats().busy[3] + Cpu(c).GetStats().busy[5]);
    }
    // each CPU's sender jobs finish at 1, 2, ... us: both ask at t = 1 us;
    // CPU 0's was submitted first and wins, CPU 1's finds it running
    ASSERT_FALSE(m_runs.empty());
    EXPECT_EQ(std::get<0>(m_runs[0]), 0u);
}

TEST_F(DevXmitFixture, TheWakeRaisesNetTxOnTheReadersCpu)
{
    // merged, ring 4, sender on CPU 0, reader on CPU 1; 10 packets at t = 0.
    // CPU 0's direct run sends 4: the ring is full, the queue stops, the run
    // ends with 6 in pfifo. At 10 us the reader reads 2 on CPU 1: the merged
    // wake (half the ring consumed) raises NET_TX on CPU 1, whose softirq
    // (50 ns) sends 2 more until the ring is full again.
    Build("merged", 4, 2, {0}, 1, Costs(0, 100, 50, 0));
    Send(0, 10);
    ReadOn(1, 2, ns3::MicroSeconds(10));
    ns3::Simulator::Run();
    ASSERT_GE(m_runs.size(), 2u);
    EXPECT_EQ(m_runs.front(), std::make_tuple(0u, false, 4u));
    EXPECT_EQ(m_runs.back(), std::make_tuple(1u, true, 2u));
    EXPECT_EQ(m_produced, 6u);
    EXPECT_EQ(m_path.tunQdisc->GetNPackets(), 4u);
    EXPECT_TRUE(m_path.tun->GetQueue(0).IsStopped());
    EXPECT_EQ(Cpu(1).GetStats().softirqRaised, 1u);
    EXPECT_EQ(Cpu(1).GetStats().softirqOnReturn, 1u);
    EXPECT_EQ(Cpu(0).GetStats().softirqRaised, 0u);
    EXPECT_EQ(Busy(Cpu(1), CpuWork::Softirq), 50);
    EXPECT_EQ(Busy(Cpu(1), CpuWork::XmitSoftirq), 200);
    EXPECT_EQ(Busy(Cpu(0), CpuWork::XmitDirect), 400);
    EXPECT_EQ(Busy(Cpu(0), CpuWork::XmitSoftirq), 0);
    EXPECT_EQ(m_xmit->GetRunStats(0).wakeSchedules, 1u);
}

// ------------------------------------------------------ whole scenarios

json
Cores(uint32_t flows, const std::string& policy)
{
    json j = {{"duration_s", 0.02},
              {"tun", {{"ring_size", 64}, {"policy", policy}, {"xmit_cost_ns", 300}, {"softirq_cost_ns", 200}}},
              {"qdisc", {{"kind", "pfifo_fast"}}},
              {"reader", {{"per_packet_ns", 600}, {"encap", "wireguard"}, {"cpu", 0}}},
              {"underlay", {{"rate_mbps", 40000}, {"delay_ms", 0.05}}},
              {"host", {{"cpus", 3}, {"tcp_sendmsg_ns", 200}, {"tcp_output_ns", 300}, {"qdisc_lock_contended_ns", 200}}},
              {"flows", json::array()}};
    for (uint32_t i = 0; i < flows; ++i)
    {
        j["flows"].push_back({{"kind", "tcp"}, {"cpu", 1 + i % 2}});
    }
    return j;
}

json
RunJson(const json& j)
{
    json r = ToJson(RunExperiment(ScenarioFromJson(j)).result);
    r.erase("wall");
    return r;
}

TEST(HostCpuScenario, ConservesIsDeterministicAndBooksEveryCpu)
{
    for (const std::string policy : {"drop", "merged"})
    {
        SCOPED_TRACE(policy);
        const json j = Cores(4, policy);
        const json a = RunJson(j);
        EXPECT_TRUE(a["conservation"]["ok"].get<bool>()) << a["conservation"].dump(2);
        EXPECT_EQ(a, RunJson(j));
        ASSERT_TRUE(a.contains("host"));
        ASSERT_EQ(a["host"]["cpus"].size(), 3u);
        for (const json& c : a["host"]["cpus"])
        {
            double sum = 0;
            for (const auto& [k, v] : c["busy_s"].items())
            {
                sum += v.get<double>();
            }
            EXPECT_NEAR(sum / 0.02, c["busy_fraction"].get<double>(), 1e-9);
            EXPECT_LE(c["busy_fraction"].get<double>(), 1.0);
        }
        // the reader's CPU 0 carries the reader; the senders' CPUs their stack work
        EXPECT_GT(a["host"]["cpus"][0]["busy_s"]["reader"].get<double>(), 0.0);
        EXPECT_GT(a["host"]["cpus"][1]["busy_s"]["sender"].get<double>(), 0.0);
        EXPECT_EQ(a["host"]["cpus"][1]["busy_s"]["reader"].get<double>(), 0.0);
        // every packet the qdisc passed on went through one of its runs
        EXPECT_EQ(a["host"]["qdisc_runs"][0]["packets"].get<uint64_t>(), a["tun"]["xmit_calls"].get<uint64_t>());
    }
}

TEST(HostCpuScenario, AcksOnTheSendersCpuTakeTheirTransmitsOffTheReadersCpu)
{
    // default: the ACK the reader writes into tun runs tcp_ack() ->
    // tcp_write_xmit() -> the direct transmit on the reader's CPU 0;
    // ack_on_sender_cpu: the sender's release_sock() does, on CPUs 1-2.
    json j = Cores(4, "drop");
    const json inWrite = RunJson(j);
    j["host"]["ack_on_sender_cpu"] = true;
    const json backlog = RunJson(j);
    EXPECT_TRUE(backlog["conservation"]["ok"].get<bool>());
    EXPECT_GT(inWrite["host"]["cpus"][0]["busy_s"]["sender"].get<double>(), 0.0);
    EXPECT_GT(inWrite["host"]["cpus"][0]["busy_s"]["xmit_direct"].get<double>(), 0.0);
    EXPECT_EQ(backlog["host"]["cpus"][0]["busy_s"]["sender"].get<double>(), 0.0);
    EXPECT_EQ(backlog["host"]["cpus"][0]["busy_s"]["xmit_direct"].get<double>(), 0.0);
    EXPECT_GT(backlog["host"]["cpus"][1]["busy_s"]["xmit_direct"].get<double>(), 0.0);
}

/// One udp sender on CPU 1 (the reader on CPU 0): send_cost_ns 1000 per
/// sendto(), the direct transmit 500 ns per packet.
json
UdpOnCpu1(const std::string& mode, double seconds)
{
    return {{"duration_s", seconds},
            {"tun", {{"ring_size", 500}, {"policy", "drop"}, {"xmit_cost_ns", 500}}},
            {"qdisc", {{"kind", "pfifo_fast"}}},
            {"reader", {{"per_packet_ns", 100}, {"cpu", 0}}},
            {"underlay", {{"rate_mbps", 40000}, {"delay_ms", 0.05}}},
            {"host", {{"cpus", 2}}},
            {"flows", json::array({{{"kind", "udp"}, {"mode", mode}, {"payload_bytes", 1000},
                                    {"send_cost_ns", 1000}, {"burst_packets", 10},
                                    {"burst_interval_ms", 1000}, {"cpu", 1}}})}};
}

TEST(HostCpuScenario, AUdpSendtoIsItsCpusWorkWithTheDirectTransmitInside)
{
    // Hand-worked: a burst of 10 datagrams into an idle qdisc. Each sendto()
    // runs on CPU 1: udp_sendmsg() .. __dev_xmit_skb() wins qdisc_run_begin()
    // (nothing else runs it), one packet to tun_net_xmit() (500 ns), the
    // qdisc is empty, the syscall's own 1000 ns; then the next sendto(). So
    // CPU 1: sender 10 x 1000 ns, xmit_direct 10 x 500 ns, 21 jobs (the
    // sender's first run on its CPU, then 2 per datagram); 10 direct runs of
    // one packet; nothing of it on the reader's CPU 0.
    const json r = RunJson(UdpOnCpu1("bursts", 0.01));
    EXPECT_TRUE(r["conservation"]["ok"].get<bool>());
    EXPECT_EQ(r["flows"][0]["sent_packets"].get<uint64_t>(), 10u);
    EXPECT_EQ(r["flows"][0]["delivered_packets"].get<uint64_t>(), 10u);
    const json& cpu1 = r["host"]["cpus"][1];
    EXPECT_NEAR(cpu1["busy_s"]["sender"].get<double>(), 10 * 1000e-9, 1e-15);
    EXPECT_NEAR(cpu1["busy_s"]["xmit_direct"].get<double>(), 10 * 500e-9, 1e-15);
    EXPECT_EQ(cpu1["busy_s"]["lock"].get<double>(), 0.0);
    EXPECT_EQ(cpu1["jobs"].get<uint64_t>(), 21u);
    EXPECT_EQ(r["host"]["cpus"][0]["busy_s"]["sender"].get<double>(), 0.0);
    EXPECT_EQ(r["host"]["cpus"][0]["busy_s"]["xmit_direct"].get<double>(), 0.0);
    EXPECT_GT(r["host"]["cpus"][0]["busy_s"]["reader"].get<double>(), 0.0);
    const json& run = r["host"]["qdisc_runs"][0];
    EXPECT_EQ(run["direct_runs"].get<uint64_t>(), 10u);
    EXPECT_EQ(run["packets"].get<uint64_t>(), 10u);
    EXPECT_EQ(run["max_run_packets"].get<uint64_t>(), 1u);
    EXPECT_EQ(run["contended_enqueues"].get<uint64_t>(), 0u);
}

TEST(HostCpuScenario, AUdpFloodSendsOncePerSendtoPlusItsTransmit)
{
    // A flood sends back to back: without the CPU model one datagram per
    // send_cost_ns (1000 ns); on its CPU the direct transmit is inside each
    // sendto(), one per 1500 ns: 3 ms give 3000 and 2000 sends (+-1: the
    // send at the stop instant).
    json j = UdpOnCpu1("flood", 0.003);
    const json onCpu = RunJson(j);
    EXPECT_TRUE(onCpu["conservation"]["ok"].get<bool>());
    EXPECT_EQ(onCpu, RunJson(j));
    EXPECT_NEAR(onCpu["flows"][0]["sent_packets"].get<double>(), 2000.0, 1.0);
    EXPECT_NEAR(onCpu["host"]["cpus"][1]["busy_fraction"].get<double>(), 1.0, 1e-3);
    j.erase("host");
    j["reader"].erase("cpu");
    j["flows"][0].erase("cpu");
    const json free = RunJson(j);
    EXPECT_NEAR(free["flows"][0]["sent_packets"].get<double>(), 3000.0, 1.0);
}

TEST(HostCpuScenario, WithoutHostCpusThereIsNoHostBlock)
{
    json j = Cores(1, "drop");
    j.erase("host");
    j["reader"].erase("cpu");
    j["flows"][0].erase("cpu");
    EXPECT_FALSE(RunJson(j).contains("host"));
}

void
ExpectError(json j, const std::string& field, const std::string& part)
{
    try
    {
        ScenarioFromJson(j);
        ADD_FAILURE() << "accepted: " << j.dump();
    }
    catch (const ScenarioError& e)
    {
        EXPECT_EQ(e.Field(), field) << e.what();
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
}

TEST(HostCpuScenario, BadCpuFieldsAreExit2NamingTheField)
{
    json j = Cores(2, "drop");
    j["flows"][1]["cpu"] = 3;
    ExpectError(j, "flows[1].cpu", "[0, 2]");
    j = Cores(2, "drop");
    j["reader"]["cpu"] = 5;
    ExpectError(j, "reader.cpu", "[0, 2]");
    j = Cores(2, "drop");
    j["tun"]["mode"] = "tap";
    j["reader"]["kind"] = "qemu";
    ExpectError(j, "reader.kind", "must be \"vpn\" with host.cpus > 0");
    j = Cores(2, "drop");
    j["tun"]["softirq_on_reader_cpu"] = true;
    ExpectError(j, "tun.softirq_on_reader_cpu", "host.cpus > 0");
    j = Cores(2, "drop");
    j["host"]["cpus"] = 257;
    ExpectError(j, "host.cpus", "[0, 256]");
    j = Cores(2, "drop");
    j["host"]["dev_tx_weight"] = 0;
    ExpectError(j, "host.dev_tx_weight", "[1, 65536]");
    // the CPU fields need the CPU model
    j = Cores(1, "drop");
    j["host"] = {{"tcp_output_ns", 500}};
    j["reader"].erase("cpu");
    j["flows"][0].erase("cpu");
    ExpectError(j, "host.tcp_output_ns", "needs host.cpus > 0");
    j["host"] = {{"tcp_sendmsg_ns", 500}};
    ExpectError(j, "host.tcp_sendmsg_ns", "needs host.cpus > 0");
    j["host"] = {{"qdisc_lock_contended_ns", 1}};
    ExpectError(j, "host.qdisc_lock_contended_ns", "needs host.cpus > 0");
    j["host"] = {{"dev_tx_weight", 32}};
    ExpectError(j, "host.dev_tx_weight", "needs host.cpus > 0");
    j["host"] = {{"ack_on_sender_cpu", true}};
    ExpectError(j, "host.ack_on_sender_cpu", "needs host.cpus > 0");
    j["host"] = json::object();
    j["flows"][0]["cpu"] = 1;
    ExpectError(j, "flows[0].cpu", "needs host.cpus > 0");
    j["flows"][0].erase("cpu");
    j["reader"]["cpu"] = 1;
    ExpectError(j, "reader.cpu", "needs host.cpus > 0");
}

} // namespace
