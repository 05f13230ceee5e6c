// VpnReader (with DrawnLatency and VpnEncapHeader): the VPN process's read
// loop on a real TunNetDevice (policy "drop"), sending to a UDP socket on the
// other end of a point-to-point underlay. Packets are put into the ring by
// calling TunNetDevice::Send() by hand (tun_net_xmit() from the qdisc); the
// reader's reads are seen on the device's RingOccupancy trace (every consume
// lowers the count by one).
//
// Every expected time and count below is a hand-worked trace of the loop the
// header describes: a read costs PerPacketCost + NsPerByte * bytes of CPU
// and the packet is sent when that is done, then the next read follows at
// once; an empty ring puts the process to sleep and sk_data_ready() wakes it
// WakeupLatency (or DeepWakeupLatency) later; sendto() blocks while the UDP
// socket's sk_wmem_alloc >= sk_sndbuf and is woken once it drops below
// sk_sndbuf >> 1 (sock_writeable()), the account being released at the
// underlay NIC's TX completion.
#include "socket-account.h"
#include "test-p2p.h"
#include "tun-net-device.h"
#include "tun-policy.h"
#include "vpn-reader.h"

#include "ns3/double.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/socket.h"
#include "ns3/udp-socket-factory.h"
#include "ns3/uinteger.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <sstream>
#include <vector>

using namespace tunsim;
using ns3::MicroSeconds;
using ns3::MilliSeconds;
using ns3::NanoSeconds;
using ns3::Time;

namespace
{

constexpr uint16_t kPort = 1194;

class ReaderTest : public ::testing::Test
{
  protected:
    void SetUp() override { tunsim_test::ResetNs3(); }
    void TearDown() override
    {
        m_reader = nullptr;
        if (m_tun)
        {
            m_tun->Dispose();
            m_tun = nullptr;
        }
        m_peerSocket = nullptr;
        m_net.reset();
        tunsim_test::ResetNs3();
    }

    /// The topology, the tun device (ring of `ring`, policy drop) and a
    /// reader with PerPacketCost `cost`, no wake-up latency unless set, and a
    /// VPN socket account of `sndbuf`.
    void Make(Time cost, uint32_t ring = 1000, uint32_t sndbuf = 1u << 30, const std::string& underlay = "1Gbps")
    {
        m_net = std::make_unique<tunsim_test::TwoNodes>(underlay, MicroSeconds(10));
        m_net->ReleaseAtNic();
        m_tun = ns3::CreateObject<TunNetDevice>();
        m_tun->Configure(CreateTunPolicy("drop"), ring);
        m_tun->TraceConnectWithoutContext("RingOccupancy", ns3::MakeCallback(&ReaderTest::OnOccupancy, this));
        m_tun->SetReceiveCallback(ns3::MakeCallback(&ReaderTest::OnTunRx, this));
        m_client = SocketAccountTable::Create("client", 1u << 30);
        m_vpn = SocketAccountTable::Create("vpn", sndbuf);
        m_reader = ns3::CreateObject<VpnReader>();
        m_reader->SetAttribute("PerPacketCost", ns3::TimeValue(cost));
        m_reader->SetAttribute("WakeupLatency", ns3::TimeValue(Time(0)));
        m_reader->Setup(m_tun,
                        0,
                        ns3::InetSocketAddress(m_net->Address(0), kPort),
                        ns3::InetSocketAddress(m_net->Address(1), kPort),
                        m_vpn);
        m_net->Node(0)->AddApplication(m_reader);
        m_reader->SetStartTime(Time(0));
        // The peer's UDP socket: counts what arrives, and when.
        m_peerSocket = ns3::Socket::CreateSocket(m_net->Node(1), ns3::UdpSocketFactory::GetTypeId());
        m_peerSocket->Bind(ns3::InetSocketAddress(ns3::Ipv4Address::GetAny(), kPort));
        m_peerSocket->SetRecvCallback(ns3::MakeCallback(&ReaderTest::OnPeerRx, this));
    }

    /// tun_net_xmit() of `n` packets of `bytes`, each sent by the client socket now.
    void Xmit(uint32_t n, uint32_t bytes = 972)
    {
        for (uint32_t i = 0; i < n; ++i)
        {
            auto p = ns3::Create<ns3::Packet>(bytes);
            SocketAccountTable::SetOwner(p, *m_client, 0, bytes);
            m_tun->Send(p, ns3::Address(), 0x0800);
        }
    }

    void XmitAt(Time at, uint32_t n = 1, uint32_t bytes = 972)
    {
        ns3::Simulator::Schedule(at, &ReaderTest::Xmit, this, n, bytes);
    }

    void Run(Time until)
    {
        ns3::Simulator::Stop(until);
        ns3::Simulator::Run();
    }

    const VpnReader::Stats& Stats() const { return m_reader->GetStats(); }
    /// Packets the reader has handed to its UDP socket.
    uint64_t Sent() const { return Stats().packetsRead - m_reader->InHand(); }

    void OnOccupancy(uint32_t, uint32_t entries)
    {
        if (entries < m_lastEntries)
        {
            m_readAt.push_back(ns3::Simulator::Now());
        }
        m_lastEntries = entries;
    }

    void OnPeerRx(ns3::Ptr<ns3::Socket> s)
    {
        while (auto p = s->Recv())
        {
            m_peerBytes.push_back(p->GetSize());
            m_peerAt.push_back(ns3::Simulator::Now());
        }
    }

    bool OnTunRx(ns3::Ptr<ns3::NetDevice>, ns3::Ptr<const ns3::Packet> p, uint16_t, const ns3::Address&)
    {
        m_tunRxBytes.push_back(p->GetSize());
        m_tunRxAt.push_back(ns3::Simulator::Now());
        Xmit(m_xmitOnRx); // the stack's answer, transmitted inside the reader's write()
        return true;
    }

    std::unique_ptr<tunsim_test::TwoNodes> m_net;
    ns3::Ptr<TunNetDevice> m_tun;
    ns3::Ptr<VpnReader> m_reader;
    ns3::Ptr<SocketAccount> m_client;
    ns3::Ptr<SocketAccount> m_vpn;
    ns3::Ptr<ns3::Socket> m_peerSocket;
    uint32_t m_lastEntries = 0;
    std::vector<Time> m_readAt;
    std::vector<uint32_t> m_peerBytes;
    std::vector<Time> m_peerAt;
    std::vector<uint32_t> m_tunRxBytes;
    std::vector<Time> m_tunRxAt;
    uint32_t m_xmitOnRx = 0; ///< packets the "stack" transmits into tun per packet written into it
};

} // namespace

// ------------------------------------------------------------- CPU per read

struct CostCase
{
    int64_t perPacketNs;
    double nsPerByte;
    uint32_t bytes;
};

// What gtest prints for GetParam() (not the bytes of the struct).
void
PrintTo(const CostCase& c, std::ostream* os)
{
    *os << c.perPacketNs << " ns + " << c.nsPerByte << " ns/B x " << c.bytes << " B";
}

class ReaderCost : public ReaderTest, public ::testing::WithParamInterface<CostCase>
{
};

TEST_P(ReaderCost, HandsDOverCPacketsToTheUnderlayInD)
{
    // A full ring, no wake-ups: reads at 0, C, 2C, ... with C = PerPacketCost
    // + NsPerByte * bytes. Stopped at D + C/2 (off the read instants) the
    // reader has read floor(D/C) + 1 packets and sent D/C: at most D/C
    // packets leave it in D.
    const CostCase c = GetParam();
    const int64_t cost = c.perPacketNs + static_cast<int64_t>(c.nsPerByte * c.bytes);
    const int64_t d = 100 * cost;
    Make(NanoSeconds(c.perPacketNs));
    m_reader->SetAttribute("NsPerByte", ns3::DoubleValue(c.nsPerByte));
    Xmit(500, c.bytes);
    Run(NanoSeconds(d + cost / 2));
    EXPECT_EQ(Sent(), static_cast<uint64_t>(d / cost));
    EXPECT_EQ(Stats().packetsRead, static_cast<uint64_t>(d / cost + 1));
    EXPECT_EQ(Stats().reads, Stats().packetsRead) << "Batch 1: one packet per read";
    EXPECT_EQ(Stats().sleeps, 0u) << "the ring never ran empty";
    EXPECT_EQ(Stats().busy, NanoSeconds(cost * static_cast<int64_t>(Stats().packetsRead)));
    ASSERT_GE(m_readAt.size(), 3u);
    EXPECT_EQ(m_readAt[2] - m_readAt[1], NanoSeconds(cost));
    EXPECT_EQ(m_tun->GetStats().txPackets, Stats().packetsRead) << "tun_put_user() counts each read";
}

INSTANTIATE_TEST_SUITE_P(Costs,
                         ReaderCost,
                         ::testing::Values(CostCase{10000, 0.0, 972},  // 10 us per packet
                                           CostCase{1000, 2.0, 500},   // 1 us + 1 us of crypto
                                           CostCase{250, 0.5, 1400})); // 950 ns

// ------------------------------------------------------------- sleep/wake

TEST_F(ReaderTest, WakesWakeupLatencyAfterDataReady)
{
    // Empty ring at start: asleep at 0. A packet at 1 ms is read at 1 ms + W
    // (W = 7 us); one that arrives while it is waking (1.003 ms) does not
    // wake it again and is read when the first is done (C = 1 us).
    Make(MicroSeconds(1));
    m_reader->SetAttribute("WakeupLatency", ns3::TimeValue(MicroSeconds(7)));
    XmitAt(MilliSeconds(1));
    XmitAt(MicroSeconds(1003));
    XmitAt(MilliSeconds(2));
    Run(MilliSeconds(3));
    ASSERT_EQ(m_readAt.size(), 3u);
    EXPECT_EQ(m_readAt[0], MicroSeconds(1007));
    EXPECT_EQ(m_readAt[1], MicroSeconds(1008));
    EXPECT_EQ(m_readAt[2], MicroSeconds(2007));
    EXPECT_EQ(Stats().wakeups, 2u);
    EXPECT_EQ(Stats().sleeps, 3u); // at 0, after the second packet, after the third
    EXPECT_EQ(Stats().deepWakeups, 0u);
}

TEST_F(ReaderTest, DeepWakeupAfterSleepingDeepIdleAfter)
{
    // W = 5 us, deep = 50 us after a sleep of >= 100 us; C = 1 us.
    //   asleep 0;   packet at  50 us (slept 50):  read  55, asleep again at 56
    //   packet at 156 (slept exactly 100): deep,  read 206, asleep at 207
    //   packet at 300 (slept 93):          short, read 305
    Make(MicroSeconds(1));
    m_reader->SetAttribute("WakeupLatency", ns3::TimeValue(MicroSeconds(5)));
    m_reader->SetAttribute("DeepIdleAfter", ns3::TimeValue(MicroSeconds(100)));
    m_reader->SetAttribute("DeepWakeupLatency", ns3::TimeValue(MicroSeconds(50)));
    XmitAt(MicroSeconds(50));
    XmitAt(MicroSeconds(156));
    XmitAt(MicroSeconds(300));
    Run(MilliSeconds(1));
    EXPECT_EQ(m_readAt, (std::vector<Time>{MicroSeconds(55), MicroSeconds(206), MicroSeconds(305)}));
    EXPECT_EQ(Stats().wakeups, 3u);
    EXPECT_EQ(Stats().deepWakeups, 1u);
}

TEST(DrawnLatency, FixedWithoutValuesEquallyLikelyWithThem)
{
    tunsim_test::ResetNs3();
    DrawnLatency none;
    EXPECT_EQ(none.Next(MicroSeconds(5)), MicroSeconds(5));
    const std::vector<Time> values = {MicroSeconds(10), MicroSeconds(20), MicroSeconds(30)};
    DrawnLatency a;
    DrawnLatency b;
    a.Set(values, 42);
    b.Set(values, 42);
    std::map<int64_t, int> seen;
    constexpr int kDraws = 3000;
    for (int i = 0; i < kDraws; ++i)
    {
        Time t = a.Next(MicroSeconds(5));
        ASSERT_EQ(t, b.Next(MicroSeconds(5))) << "one stream, one sequence (draw " << i << ")";
        ++seen[t.GetMicroSeconds()];
    }
    ASSERT_EQ(seen.size(), 3u) << "only the given values, and each of them";
    for (const auto& [us, n] : seen)
    {
        // Binomial(3000, 1/3): mean 1000, sd 25.8; 5 sd.
        EXPECT_NEAR(n, kDraws / 3, 130) << us << " us";
    }
    a.Set({}, 42);
    EXPECT_EQ(a.Next(MicroSeconds(5)), MicroSeconds(5)) << "cleared";
    tunsim_test::ResetNs3();
}

TEST_F(ReaderTest, DrawnWakeupsTakeTheQuantilesOfTheirLevel)
{
    // Packets 1 ms apart: every sleep is ~1 ms, longer than DeepIdleAfter
    // (500 us), so every wake-up draws from the deep quantiles {40, 60} us;
    // the short-sleep quantiles {1, 2} us are never used. Read time minus
    // arrival time is the drawn value.
    Make(MicroSeconds(1));
    m_reader->SetAttribute("DeepIdleAfter", ns3::TimeValue(MicroSeconds(500)));
    m_reader->SetWakeupQuantiles({MicroSeconds(1), MicroSeconds(2)}, 7);
    m_reader->SetDeepWakeupQuantiles({MicroSeconds(40), MicroSeconds(60)}, 8);
    constexpr int kPackets = 200;
    for (int i = 1; i <= kPackets; ++i)
    {
        XmitAt(MilliSeconds(i));
    }
    Run(MilliSeconds(kPackets + 1));
    ASSERT_EQ(m_readAt.size(), static_cast<size_t>(kPackets));
    int forty = 0;
    for (int i = 0; i < kPackets; ++i)
    {
        Time wake = m_readAt[i] - MilliSeconds(i + 1);
        ASSERT_TRUE(wake == MicroSeconds(40) || wake == MicroSeconds(60)) << wake;
        forty += wake == MicroSeconds(40);
    }
    EXPECT_NEAR(forty, kPackets / 2, 36) << "Binomial(200, 1/2): sd 7.1, 5 sd";
    EXPECT_EQ(Stats().deepWakeups, static_cast<uint64_t>(kPackets));
}

// ------------------------------------------------------ batch, stall, CPU

TEST_F(ReaderTest, BatchTakesUpToBatchPerRead)
{
    // Batch 4, 10 waiting, C = 1 us per packet: reads of 4, 4, 2 at 0, 4, 8 us.
    Make(MicroSeconds(1));
    m_reader->SetAttribute("Batch", ns3::UintegerValue(4));
    Xmit(10);
    Run(MilliSeconds(1));
    const Time a = Time(0);
    const Time b = MicroSeconds(4);
    const Time c = MicroSeconds(8);
    EXPECT_EQ(m_readAt, (std::vector<Time>{a, a, a, a, b, b, b, b, c, c}));
    EXPECT_EQ(Stats().reads, 3u);
    EXPECT_EQ(Stats().packetsRead, 10u);
    EXPECT_EQ(Stats().sleeps, 1u);
    EXPECT_EQ(m_peerBytes.size(), 10u) << "all sent on to the peer";
}

TEST_F(ReaderTest, StallDefersReadingToItsEnd)
{
    // Asleep; a stall over [1 ms, 3 ms); a packet at 1.5 ms is not read
    // until the stall ends (no wake-up latency: the process is running).
    Make(MicroSeconds(1));
    m_reader->SetAttribute("WakeupLatency", ns3::TimeValue(MicroSeconds(5)));
    m_reader->AddStall(MilliSeconds(1), MilliSeconds(2));
    XmitAt(MicroSeconds(1500));
    Run(MilliSeconds(4));
    EXPECT_EQ(m_readAt, (std::vector<Time>{MilliSeconds(3)}));
}

TEST_F(ReaderTest, StallWhileRunningFinishesThePacketInHand)
{
    // C = 10 us, ring full: reads at 0, 10, ..., 100 us; the stall at 105 us
    // (for 100 us) lets the packet read at 100 us finish, then nothing is
    // read until 205 us.
    Make(MicroSeconds(10));
    m_reader->AddStall(MicroSeconds(105), MicroSeconds(100));
    Xmit(50);
    Run(MicroSeconds(230));
    ASSERT_GE(m_readAt.size(), 13u);
    EXPECT_EQ(m_readAt[10], MicroSeconds(100));
    EXPECT_EQ(m_readAt[11], MicroSeconds(205));
    EXPECT_EQ(m_readAt[12], MicroSeconds(215));
}

TEST_F(ReaderTest, StolenCpuDelaysTheReader)
{
    // Running: C = 10 us, two packets; 5 us stolen at 2 us: the first is
    // done at 15 us, so the second is read at 15 us.
    Make(MicroSeconds(10));
    Xmit(2);
    ns3::Simulator::Schedule(MicroSeconds(2), &VpnReader::ChargeCpu, m_reader, MicroSeconds(5));
    // Asleep: 20 us stolen at 100 us; a packet at 102 us with W = 5 us runs
    // at max(107, 120) = 120 us.
    ns3::Simulator::Schedule(MicroSeconds(50), [this]() {
        m_reader->SetAttribute("WakeupLatency", ns3::TimeValue(MicroSeconds(5)));
    });
    ns3::Simulator::Schedule(MicroSeconds(100), &VpnReader::ChargeCpu, m_reader, MicroSeconds(20));
    XmitAt(MicroSeconds(102));
    Run(MilliSeconds(1));
    EXPECT_EQ(m_readAt, (std::vector<Time>{Time(0), MicroSeconds(15), MicroSeconds(120)}));
    EXPECT_EQ(Stats().stolen, MicroSeconds(25));
    EXPECT_EQ(Stats().busy, MicroSeconds(3 * 10 + 25));
}

TEST_F(ReaderTest, PreemptionOfASleepingReaderLeavesItsSleepAlone)
{
    // Asleep from 0 (empty ring); preemptions every ~10 us (2 us long)
    // throughout. Wake-up by sleep length: 10 us after a sleep < 1 ms,
    // 200 us after a longer one. The packet at 5 ms finds a reader that has
    // slept 5 ms -- no preemption restarted its sleep or stalled it -- so it
    // is read at 5 ms + 200 us, as the one sleep it was.
    Make(MicroSeconds(1));
    m_reader->SetWakeupBySleep({{Time(0), {MicroSeconds(10)}}, {MilliSeconds(1), {MicroSeconds(200)}}}, 40);
    m_reader->SetPreemption(MicroSeconds(10), MicroSeconds(2), 50);
    XmitAt(MilliSeconds(5));
    Run(MicroSeconds(5100));
    EXPECT_EQ(Stats().sleeps, 1u);
    EXPECT_EQ(Stats().preemptions, 0u); // none found it on its CPU
    Run(MilliSeconds(6));
    EXPECT_EQ(m_readAt, (std::vector<Time>{MicroSeconds(5200)}));
    EXPECT_EQ(Stats().wakeups, 1u);
    EXPECT_EQ(Stats().deepWakeups, 1u);
}

TEST_F(ReaderTest, PreemptionDelaysARunningReader)
{
    // C = 10 us, 200 packets in the ring at 0: without preemption the last
    // is read at 1990 us. Preempted every ~100 us for ~20 us while it works,
    // it is preempted and reads the last one later.
    Make(MicroSeconds(10));
    m_reader->SetPreemption(MicroSeconds(100), MicroSeconds(20), 50);
    Xmit(200);
    Run(MilliSeconds(10));
    ASSERT_EQ(m_readAt.size(), 200u);
    EXPECT_GE(Stats().preemptions, 1u);
    EXPECT_GT(m_readAt.back(), MicroSeconds(1990));
    EXPECT_EQ(Stats().wakeups, 0u); // never slept with data waiting
}

// ---------------------------------------------------- the VPN's UDP socket

TEST_F(ReaderTest, BlocksOnSndbufWhenTheUnderlayIsTheBottleneck)
{
    // 972-byte inner packets, no encap: 1000-byte datagrams, truesize
    // SKB_TRUESIZE(1000) = 2304 (1080 -> 1088 + 320 -> kmalloc-2k), 1002
    // bytes on a 8.016 Mbit/s wire = 1 ms each, 10 us propagation.
    // sk_sndbuf = 4 truesizes. C = 1 us, W = 5 us, 500 packets waiting.
    //   sends at 1, 2, 3, 4 us (wmem 9216 = sndbuf); the 5th, done at 5 us,
    //   blocks. Releases at the NIC's TX completions, 1.001, 2.001, 3.001 ms:
    //   only the third leaves wmem (2304) below sndbuf >> 1 = 4608. Woken at
    //   3.006 ms it sends 3 (to 9216 again) and blocks at 3.009 ms; and so
    //   on every 3 ms. The wire never idles (4 packets are queued when it
    //   blocks), so the peer gets one per ms from 1.011 ms.
    // At 100.5 ms: blocks at 0.005 ms and 3.009 + 3k ms (k = 0..32): 34;
    // sends 4 + 3 * 33 = 103 (one more read and held); arrivals
    // 1.011 + k ms <= 100.5: 100.
    ASSERT_EQ(SkbTruesize(1000), 2304u) << "the premise of the trace";
    Make(MicroSeconds(1), 1000, 4 * 2304, "8016000bps");
    m_reader->SetAttribute("WakeupLatency", ns3::TimeValue(MicroSeconds(5)));
    Xmit(500);
    Run(MicroSeconds(100500));
    EXPECT_EQ(m_vpn->MaxWmemAlloc(), 4u * 2304u) << "never more than sndbuf: MaySend() before each";
    EXPECT_EQ(Stats().sndbufBlocks, 34u);
    EXPECT_EQ(m_vpn->BlockCount(), Stats().sndbufBlocks);
    EXPECT_EQ(Sent(), 103u);
    EXPECT_EQ(m_reader->InHand(), 1u);
    ASSERT_EQ(m_peerAt.size(), 100u);
    EXPECT_EQ(m_peerAt.front(), MicroSeconds(1011));
    EXPECT_EQ(m_peerAt.back(), MicroSeconds(100011));
    EXPECT_EQ(m_net->drops, 0u);
}

TEST_F(ReaderTest, EncapsulatesForwardAndDecapsulatesReverse)
{
    // EncapOverhead 16: a 500-byte inner packet is a 516-byte UDP payload at
    // the peer, charged as a 544-byte datagram: SKB_TRUESIZE(544) = 624 ->
    // 640 + 320 -> kmalloc-1k: 1024 + 256 = 1280. A 516-byte datagram
    // from the peer is written to tun as 500 bytes (tun_get_user()).
    Make(MicroSeconds(1));
    m_reader->SetAttribute("EncapOverhead", ns3::UintegerValue(16));
    std::vector<uint32_t> reverseSeen;
    m_reader->SetReverseDeliveryCallback(
        [&reverseSeen](ns3::Ptr<const ns3::Packet> p) { reverseSeen.push_back(p->GetSize()); });
    XmitAt(MicroSeconds(10), 1, 500);
    ns3::Simulator::Schedule(MicroSeconds(100), [this]() {
        m_peerSocket->SendTo(ns3::Create<ns3::Packet>(516), 0, ns3::InetSocketAddress(m_net->Address(0), kPort));
    });
    Run(MilliSeconds(1));
    EXPECT_EQ(m_peerBytes, (std::vector<uint32_t>{516}));
    EXPECT_EQ(m_vpn->MaxWmemAlloc(), 1280u);
    EXPECT_EQ(m_tunRxBytes, (std::vector<uint32_t>{500}));
    EXPECT_EQ(reverseSeen, (std::vector<uint32_t>{500}));
    EXPECT_EQ(Stats().reversePackets, 1u);
    EXPECT_EQ(m_tun->GetStats().rxPackets, 1u);
    EXPECT_EQ(m_tun->GetStats().rxBytes, 500u);
}

TEST_F(ReaderTest, WriteChargesItsCostAndTheTransmitsInsideIt)
{
    // A reverse packet is decrypted (PerPacketCost 1 us), then write() into
    // tun: the stack's receive path runs and transmits 2 packets into the
    // ring inside the write (m_xmitOnRx), as tcp_ack() -> tcp_write_xmit()
    // does on the reader's thread. The reader returns from write() after
    // WriteCost 5 us + 2 x WriteXmitCost 3 us = 11 us and only then reads:
    // the two packets leave the ring at T + 11 us and T + 12 us (T = the
    // write); without the write costs at T and T + 1 us.
    for (const bool costed : {false, true})
    {
        SCOPED_TRACE(costed ? "WriteCost 5 us, WriteXmitCost 3 us" : "no write cost");
        TearDown();
        SetUp();
        m_tunRxAt.clear();
        m_readAt.clear();
        m_lastEntries = 0;
        Make(MicroSeconds(1));
        m_xmitOnRx = 2;
        if (costed)
        {
            m_reader->SetAttribute("WriteCost", ns3::TimeValue(MicroSeconds(5)));
            m_reader->SetAttribute("WriteXmitCost", ns3::TimeValue(MicroSeconds(3)));
        }
        ns3::Simulator::Schedule(MicroSeconds(100), [this]() {
            m_peerSocket->SendTo(ns3::Create<ns3::Packet>(60), 0, ns3::InetSocketAddress(m_net->Address(0), kPort));
        });
        Run(MilliSeconds(1));
        ASSERT_EQ(m_tunRxAt.size(), 1u);
        ASSERT_EQ(m_readAt.size(), 2u);
        const Time t = m_tunRxAt[0];
        const Time write = costed ? MicroSeconds(11) : Time(0);
        EXPECT_EQ(m_readAt[0] - t, write);
        EXPECT_EQ(m_readAt[1] - t, write + MicroSeconds(1));
        EXPECT_EQ(Stats().writeBusy, write);
        EXPECT_EQ(Stats().busy, MicroSeconds(1) + write + MicroSeconds(2)); // decrypt, write, two reads
        EXPECT_EQ(Sent(), 2u);
    }
}

TEST_F(ReaderTest, WhatComesBackDuringARunOfReadsIsWrittenBeforeTheNextRead)
{
    // The TCP twin's reader (sim/kernel/forwarder.cc) writes every reverse
    // packet that is due, then read()s one packet, and round again: an ACK
    // that arrives while the ring still holds data goes into tun between two
    // reads, not after the run's -EAGAIN. Five packets in the ring at 10 us,
    // 10 us per read: reads at 10 and 20 us; a 60-byte packet from the peer
    // (sent at 12 us, 10 us away) arrives during the second read; at 30 us
    // the loop decrypts it (10 us) and writes it into tun at 40 us; the
    // third read follows at once (no write cost), then 50 and 60 us.
    Make(MicroSeconds(10));
    XmitAt(MicroSeconds(10), 5);
    ns3::Simulator::Schedule(MicroSeconds(12), [this]() {
        m_peerSocket->SendTo(ns3::Create<ns3::Packet>(60), 0, ns3::InetSocketAddress(m_net->Address(0), kPort));
    });
    Run(MilliSeconds(1));
    ASSERT_EQ(m_tunRxAt.size(), 1u);
    ASSERT_EQ(m_readAt.size(), 5u);
    EXPECT_EQ(m_readAt[0], MicroSeconds(10));
    EXPECT_EQ(m_readAt[1], MicroSeconds(20));
    EXPECT_EQ(m_tunRxAt[0], MicroSeconds(40));
    EXPECT_EQ(m_readAt[2], MicroSeconds(40));
    EXPECT_EQ(m_readAt[4], MicroSeconds(60));
    EXPECT_EQ(Sent(), 5u);
}

TEST(VpnEncapHeader, OpaqueBytesOfTheConfiguredLength)
{
    auto p = ns3::Create<ns3::Packet>(100);
    p->AddHeader(VpnEncapHeader(24));
    EXPECT_EQ(p->GetSize(), 124u);
    VpnEncapHeader h(24);
    EXPECT_EQ(h.GetSerializedSize(), 24u);
    EXPECT_EQ(p->RemoveHeader(h), 24u);
    EXPECT_EQ(p->GetSize(), 100u);
    EXPECT_EQ(VpnEncapHeader().GetSerializedSize(), 0u);
    std::ostringstream os;
    VpnEncapHeader(24).Print(os);
    EXPECT_EQ(os.str(), "vpn-encap 24B");
}

// ------------------------------------------------------------- loop styles

TEST_F(ReaderTest, PollEachChargesOnePollPerRead)
{
    // poll-each, P = 3 us, C = 10 us, 5 packets waiting at 0: poll 0..3,
    // read at 3, work 3..13; poll 13..16, read at 16; ... reads at 3, 16,
    // 29, 42, 55; the sixth poll (the twin's poll(fd, 0), 65..68) finds the
    // ring empty; the poll() that then blocks costs its CPU too (68..71).
    Make(MicroSeconds(10));
    m_reader->SetLoop(ReaderLoop::PollEach);
    m_reader->SetAttribute("PollCost", ns3::TimeValue(MicroSeconds(3)));
    m_reader->SetAttribute("Batch", ns3::UintegerValue(4)); // poll-each reads one per poll regardless
    Xmit(5);
    Run(MilliSeconds(1));
    EXPECT_EQ(m_readAt, (std::vector<Time>{MicroSeconds(3), MicroSeconds(16), MicroSeconds(29), MicroSeconds(42),
                                           MicroSeconds(55)}));
    EXPECT_EQ(Stats().polls, 5u);
    EXPECT_EQ(Stats().reads, 5u);
    EXPECT_EQ(Stats().sleeps, 1u);
    EXPECT_EQ(Stats().busy, MicroSeconds(71))
        << "5 x (poll 3 + work 10) + the zero-timeout poll that found nothing + the blocking one";
    EXPECT_EQ(Sent(), 5u);
}

TEST_F(ReaderTest, BatchedTakesMinOfBatchAndRingPerPoll)
{
    // batched, Batch 3, P = 3 us, C = 10 us, 5 packets at 0: poll 0..3,
    // take 3 at 3, work 3..33; poll 33..36, take the remaining 2 at 36,
    // work 36..56; then the poll (56..59) finds the ring empty, and the
    // blocking poll (59..62) sleeps.
    Make(MicroSeconds(10));
    m_reader->SetLoop(ReaderLoop::Batched);
    m_reader->SetAttribute("PollCost", ns3::TimeValue(MicroSeconds(3)));
    m_reader->SetAttribute("Batch", ns3::UintegerValue(3));
    Xmit(5);
    Run(MilliSeconds(1));
    EXPECT_EQ(m_readAt, (std::vector<Time>{MicroSeconds(3), MicroSeconds(3), MicroSeconds(3), MicroSeconds(36),
                                           MicroSeconds(36)}));
    EXPECT_EQ(Stats().polls, 2u);
    EXPECT_EQ(Stats().reads, 2u);
    EXPECT_EQ(Stats().packetsRead, 5u);
    EXPECT_EQ(Stats().sleeps, 1u);
    EXPECT_EQ(Stats().busy, MicroSeconds(62));
}

TEST_F(ReaderTest, BatchedAfterAWakeUpPollsThenReads)
{
    // Asleep at 0 (empty ring). 4 packets at 100 us, W = 5 us, P = 2 us,
    // C = 1 us, Batch 3: woken at 105, poll 105..107, take 3 at 107, work
    // 107..110, poll 110..112, take 1 at 112, work ..113, empty: asleep.
    Make(MicroSeconds(1));
    m_reader->SetLoop(ReaderLoop::Batched);
    m_reader->SetAttribute("WakeupLatency", ns3::TimeValue(MicroSeconds(5)));
    m_reader->SetAttribute("PollCost", ns3::TimeValue(MicroSeconds(2)));
    m_reader->SetAttribute("Batch", ns3::UintegerValue(3));
    XmitAt(MicroSeconds(100), 4);
    Run(MilliSeconds(1));
    EXPECT_EQ(m_readAt, (std::vector<Time>{MicroSeconds(107), MicroSeconds(107), MicroSeconds(107),
                                           MicroSeconds(112)}));
    EXPECT_EQ(Stats().wakeups, 1u);
    EXPECT_EQ(Stats().sleeps, 2u);
    EXPECT_EQ(Stats().polls, 2u);
}

TEST_F(ReaderTest, ReadCostIsTheFloorOfAPacketsCost)
{
    // read-until-empty, C = 1 us but ReadCost 4 us: each packet takes
    // max(1, 4) = 4 us; reads at 0, 4, 8. A C above the floor is unchanged.
    Make(MicroSeconds(1));
    m_reader->SetAttribute("ReadCost", ns3::TimeValue(MicroSeconds(4)));
    Xmit(3);
    Run(MilliSeconds(1));
    EXPECT_EQ(m_readAt, (std::vector<Time>{Time(0), MicroSeconds(4), MicroSeconds(8)}));
    EXPECT_EQ(Stats().busy, MicroSeconds(12));
    EXPECT_EQ(Stats().polls, 0u) << "read-until-empty never polls with data";
}

// ------------------------------------------- the poll() that finds nothing

TEST_F(ReaderTest, PollThatFindsTheRingEmptyCatchesWhatArrivesBeforeItBlocks)
{
    // read-until-empty, P = 2 us (the poll()'s CPU before schedule()),
    // W = 50 us, C = 1 us. Empty at 0: in poll() 0..2, asleep at 2.
    //   packet at 100: wakes it, read at 150, work ..151, empty: poll 151..153
    //   packet at 152: seen by that poll (no wake-up), read at 153, work ..154,
    //                  empty: poll 154..156, asleep at 156
    //   packet at 160: wakes it, read at 210, work ..211, poll 211..213, asleep.
    Make(MicroSeconds(1));
    m_reader->SetAttribute("WakeupLatency", ns3::TimeValue(MicroSeconds(50)));
    m_reader->SetAttribute("PollCost", ns3::TimeValue(MicroSeconds(2)));
    XmitAt(MicroSeconds(100));
    XmitAt(MicroSeconds(152));
    XmitAt(MicroSeconds(160));
    Run(MilliSeconds(1));
    EXPECT_EQ(m_readAt, (std::vector<Time>{MicroSeconds(150), MicroSeconds(153), MicroSeconds(210)}));
    EXPECT_EQ(Stats().wakeups, 2u) << "the packet at 152 woke nobody";
    EXPECT_EQ(Stats().pollCatches, 1u);
    EXPECT_EQ(Stats().sleeps, 4u) << "found empty at 0, 151, 154, 211";
    EXPECT_EQ(Stats().busy, MicroSeconds(3 + 4 * 2)) << "3 packets and 4 polls that found nothing";
}

TEST_F(ReaderTest, WithoutPollCostAnEmptyRingSleepsAtOnce)
{
    // The same packets with P = 0 (scenarios without a profile): asleep at
    // 151, the packet at 152 wakes it: read at 202; the one at 160 waits
    // in the ring and is read at 203 with no wake-up of its own.
    Make(MicroSeconds(1));
    m_reader->SetAttribute("WakeupLatency", ns3::TimeValue(MicroSeconds(50)));
    XmitAt(MicroSeconds(100));
    XmitAt(MicroSeconds(152));
    XmitAt(MicroSeconds(160));
    Run(MilliSeconds(1));
    EXPECT_EQ(m_readAt, (std::vector<Time>{MicroSeconds(150), MicroSeconds(202), MicroSeconds(203)}));
    EXPECT_EQ(Stats().wakeups, 2u);
    EXPECT_EQ(Stats().pollCatches, 0u);
}

TEST_F(ReaderTest, ReadUntilEmptyPaysTheReadThatFindsNothingBeforeItBlocks)
{
    // read-until-empty, R = 3 us (the read() returning -EAGAIN), P = 2 us,
    // W = 50 us, C = 1 us, as the twin's ReadOne() -> Empty() -> Sleep().
    // Empty at 0: read() 0..3, poll() 3..5, asleep at 5.
    //   packet at 100: wakes it, read at 150, work ..151, read() 151..154
    //   packet at 153: during that read() (no wake-up); the poll() 154..156
    //                  sees it: read at 156, work ..157, read() 157..160,
    //                  poll() 160..162, asleep at 162
    //   packet at 170: wakes it, read at 220, work ..221, read() 221..224,
    //                  poll() 224..226, asleep.
    Make(MicroSeconds(1));
    m_reader->SetAttribute("WakeupLatency", ns3::TimeValue(MicroSeconds(50)));
    m_reader->SetAttribute("PollCost", ns3::TimeValue(MicroSeconds(2)));
    m_reader->SetAttribute("ReadEmptyCost", ns3::TimeValue(MicroSeconds(3)));
    XmitAt(MicroSeconds(100));
    XmitAt(MicroSeconds(153));
    XmitAt(MicroSeconds(170));
    Run(MilliSeconds(1));
    EXPECT_EQ(m_readAt, (std::vector<Time>{MicroSeconds(150), MicroSeconds(156), MicroSeconds(220)}));
    EXPECT_EQ(Stats().wakeups, 2u) << "the packet at 153 woke nobody";
    EXPECT_EQ(Stats().pollCatches, 1u);
    EXPECT_EQ(Stats().sleeps, 4u) << "blocked in poll() at 3, 154, 160, 224";
    EXPECT_EQ(Stats().busy, MicroSeconds(3 * 1 + 4 * 3 + 4 * 2)) << "3 packets, 4 empty read()s, 4 poll()s";
}

TEST_F(ReaderTest, AReadThatFindsNothingWithoutPollCostSeesWhatCameMeanwhile)
{
    // R = 3 us, P = 0: empty at 0, read() 0..3, asleep at 3. Packet at 100:
    // read at 150, work ..151, read() 151..154; the packet at 153 is read
    // at 154 (no wake-up), work ..155, read() 155..158, asleep at 158.
    Make(MicroSeconds(1));
    m_reader->SetAttribute("WakeupLatency", ns3::TimeValue(MicroSeconds(50)));
    m_reader->SetAttribute("ReadEmptyCost", ns3::TimeValue(MicroSeconds(3)));
    XmitAt(MicroSeconds(100));
    XmitAt(MicroSeconds(153));
    Run(MilliSeconds(1));
    EXPECT_EQ(m_readAt, (std::vector<Time>{MicroSeconds(150), MicroSeconds(154)}));
    EXPECT_EQ(Stats().wakeups, 1u);
    EXPECT_EQ(Stats().sleeps, 2u);
    EXPECT_EQ(Stats().busy, MicroSeconds(2 * 1 + 3 * 3));
}
