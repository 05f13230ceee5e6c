// Traffic applications on a minimal ns-3 network of their own: node 0 sends
// to node 1 over one point-to-point link (tests/test-p2p.h), every skb
// released from its socket account at the link's TX completion, as the
// underlay NIC does. No tun, nothing from sim/.
//
// Expected counts are closed forms of the traffic patterns, worked by hand:
//   rate     R bit/s of P-byte payloads for T seconds: R T / (8 P) datagrams, +-1
//   bursts   N every T ms over D ms: N * ceil(D / T)
//   video    per GOP of g frames: one I frame of r P-frame sizes, P frames of
//            (R g / fps / 8) / (r + g - 1) bytes, each ceil(bytes / P) datagrams
//   sndbuf   sendto() allowed while sk_wmem_alloc < sk_sndbuf, a blocked
//            sender woken once sk_wmem_alloc < sk_sndbuf >> 1
//            (sock_alloc_send_pskb(), sock_def_write_space())
// and send times from the per-send CPU cost (first send after a sleep: its
// own cost).
#include "packet-ledger.h"
#include "socket-account.h"
#include "bulk-flow.h"
#include "test-p2p.h"
#include "traffic-apps.h"

#include "ns3/boolean.h"
#include "ns3/config.h"
#include "ns3/packet.h"
#include "ns3/seq-ts-header.h"
#include "ns3/simulator.h"
#include "ns3/tcp-congestion-ops.h"
#include "ns3/udp-socket-factory.h"
#include "ns3/uinteger.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <vector>

using namespace tunsim;
using ns3::MicroSeconds;
using ns3::MilliSeconds;
using ns3::Seconds;
using ns3::Time;

namespace
{

constexpr uint16_t kPort = 5000;

class AppsTest : public ::testing::Test
{
  protected:
    void SetUp() override { tunsim_test::ResetNs3(); }
    void TearDown() override
    {
        m_tx = nullptr;
        m_rx = nullptr;
        m_net.reset();
        ns3::Config::Reset();
        tunsim_test::ResetNs3();
    }

    void Net(const std::string& rate, Time delay)
    {
        m_net = std::make_unique<tunsim_test::TwoNodes>(rate, delay);
        m_net->ReleaseAtNic();
    }

    /// A UdpSeqSender on node 0 (socket account of `sndbuf`) to a UdpSeqSink
    /// on node 1, sending over [0, stop).
    void Udp(const UdpSeqSender::Config& c, Time stop, uint32_t sndbuf = 1u << 30)
    {
        m_flow = m_ledger->AddFlow("udp0", Direction::Forward);
        m_account = SocketAccountTable::Create("udp0", sndbuf);
        m_tx = ns3::CreateObject<UdpSeqSender>();
        m_tx->Setup(ns3::InetSocketAddress(m_net->Address(1), kPort), c, m_account, m_ledger, m_flow);
        m_net->Node(0)->AddApplication(m_tx);
        m_tx->SetStartTime(Time(0));
        m_tx->SetStopTime(stop);
        m_rx = ns3::CreateObject<UdpSeqSink>();
        m_rx->Setup(kPort);
        m_net->Node(1)->AddApplication(m_rx);
        m_rx->SetStartTime(Time(0));
    }

    /// Record when each packet starts on the wire from node 0.
    void RecordTxBegin()
    {
        m_net->Device(0)->TraceConnectWithoutContext("PhyTxBegin",
                                                     ns3::MakeCallback(&AppsTest::OnTxBegin, this));
    }
    void OnTxBegin(ns3::Ptr<const ns3::Packet>) { m_txBegin.push_back(ns3::Simulator::Now()); }

    void Run(Time until)
    {
        ns3::Simulator::Stop(until);
        ns3::Simulator::Run();
    }

    std::unique_ptr<tunsim_test::TwoNodes> m_net;
    ns3::Ptr<PacketLedger> m_ledger = ns3::Create<PacketLedger>();
    uint32_t m_flow = 0;
    ns3::Ptr<SocketAccount> m_account;
    ns3::Ptr<UdpSeqSender> m_tx;
    ns3::Ptr<UdpSeqSink> m_rx;
    std::vector<Time> m_txBegin;
};

UdpSeqSender::Config
Cfg(UdpSeqSender::Mode mode, uint32_t payload)
{
    UdpSeqSender::Config c;
    c.mode = mode;
    c.payloadBytes = payload;
    c.sendCost = MicroSeconds(1);
    c.sendCostFirst = MicroSeconds(1);
    return c;
}

} // namespace

// -------------------------------------------------------------- UDP modes

struct RateCase
{
    double rateBps;
    uint32_t payload;
    double seconds;
};

// What gtest prints for GetParam() (not the bytes of the struct).
void
PrintTo(const RateCase& c, std::ostream* os)
{
    *os << c.rateBps << " B/s payload " << c.payload << " for " << c.seconds << " s";
}

class RateMode : public AppsTest, public ::testing::WithParamInterface<RateCase>
{
};

TEST_P(RateMode, SendsRTOver8PAndEveryDatagramArrives)
{
    const RateCase rc = GetParam();
    Net("100Mbps", MilliSeconds(1));
    auto c = Cfg(UdpSeqSender::Mode::Rate, rc.payload);
    c.rateBps = rc.rateBps;
    Udp(c, Seconds(rc.seconds));
    Run(Seconds(rc.seconds + 0.1)); // the last ones drain
    const double expect = rc.rateBps * rc.seconds / (8.0 * rc.payload);
    EXPECT_NEAR(static_cast<double>(m_tx->Sent()), expect, 1.0);
    // Bookkeeping: each datagram is in the ledger with its L3 size, was
    // charged to the socket and released at TX completion, and arrived once.
    EXPECT_EQ(m_rx->Received(), m_tx->Sent());
    EXPECT_EQ(m_rx->ReceivedBytes(), m_tx->SentBytes());
    EXPECT_EQ(m_rx->Reordered(), 0u);
    EXPECT_EQ(m_ledger->Flows()[m_flow].sentPackets, m_tx->Sent());
    EXPECT_EQ(m_ledger->Flows()[m_flow].sentBytes, m_tx->Sent() * (rc.payload + 28));
    EXPECT_EQ(m_account->MaxWmemAlloc(), SkbTruesize(rc.payload + 28)) << "one at a time on an idle link";
    EXPECT_EQ(m_account->WmemAlloc(), 0u);
    EXPECT_EQ(m_tx->Backlog(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Rates,
                         RateMode,
                         ::testing::Values(RateCase{8e6, 1000, 1.0},    // 1000
                                           RateCase{1e6, 1400, 0.5},    // 44.6
                                           RateCase{20e6, 1200, 0.25})); // 520.8

TEST_F(AppsTest, PoissonRateHasTheSameMean)
{
    // Exponential gaps of mean 8 P / R: the count over T is Poisson with
    // mean R T / (8 P) = 2000 (sd 44.7); 5 sd.
    Net("100Mbps", MilliSeconds(1));
    auto c = Cfg(UdpSeqSender::Mode::Rate, 1000);
    c.rateBps = 16e6;
    c.poisson = true;
    Udp(c, Seconds(1));
    Run(Seconds(1.1));
    EXPECT_NEAR(static_cast<double>(m_tx->Sent()), 2000.0, 224.0);
    EXPECT_EQ(m_rx->Received(), m_tx->Sent());
}

struct BurstCase
{
    uint32_t n;
    int64_t intervalUs;
    int64_t durationUs;
};

// What gtest prints for GetParam() (not the bytes of the struct).
void
PrintTo(const BurstCase& c, std::ostream* os)
{
    *os << c.n << " every " << c.intervalUs << " us for " << c.durationUs << " us";
}

class BurstMode : public AppsTest, public ::testing::WithParamInterface<BurstCase>
{
};

TEST_P(BurstMode, SendsNTimesCeilDOverT)
{
    const BurstCase b = GetParam();
    Net("1Gbps", MicroSeconds(50));
    auto c = Cfg(UdpSeqSender::Mode::Bursts, 1000);
    c.burstPackets = b.n;
    c.burstInterval = MicroSeconds(b.intervalUs);
    Udp(c, MicroSeconds(b.durationUs));
    Run(MicroSeconds(b.durationUs) + MilliSeconds(10));
    const auto bursts = static_cast<uint64_t>(std::ceil(double(b.durationUs) / double(b.intervalUs)));
    EXPECT_EQ(m_tx->Sent(), b.n * bursts);
    EXPECT_EQ(m_rx->Received(), m_tx->Sent());
}

INSTANTIATE_TEST_SUITE_P(Bursts,
                         BurstMode,
                         ::testing::Values(BurstCase{10, 10000, 95000}, // 10 * 10
                                           BurstCase{7, 3000, 10000},   // 7 * 4
                                           BurstCase{1, 1000, 1500}));  // 1 * 2

TEST_F(AppsTest, VideoFramesFollowTheGop)
{
    // 8 Mbit/s, 25 fps, GOP 25, I = 5 P: one GOP is 1e6 bytes, a P frame
    // 1e6 / 29 = 34482.8 bytes = 35 datagrams of 1000, an I frame 172413.8 =
    // 173. Frames at 0, 40, ..., 960 ms: one I and 24 P = 173 + 24 * 35 = 1013.
    Net("1Gbps", MicroSeconds(50));
    auto c = Cfg(UdpSeqSender::Mode::Video, 1000);
    c.rateBps = 8e6;
    c.fps = 25;
    c.gop = 25;
    c.iFrameRatio = 5;
    Udp(c, MilliSeconds(990));
    Run(Seconds(1.1));
    EXPECT_EQ(m_tx->Sent(), 1013u);
    const auto& starts = m_tx->FrameStarts();
    ASSERT_EQ(starts.size(), 25u);
    EXPECT_EQ(starts[0], 0u);
    EXPECT_EQ(starts[1], 173u);
    EXPECT_EQ(starts[2], 208u);
    EXPECT_EQ(starts[24], 173u + 23u * 35u);
    EXPECT_EQ(m_rx->Received(), 1013u);
}

// ------------------------------------------------------ costs and sndbuf

TEST_F(AppsTest, FloodSendsOnePerSendCost)
{
    // Flood on a link faster than the sender (1000-byte datagrams take
    // 8.24 us at 1 Gbit/s): sends at 0, then every sendCost. The first send
    // costs sendCostFirst. Stopped at 1005 us.
    for (Time first : {MicroSeconds(10), MicroSeconds(50)})
    {
        SCOPED_TRACE("first send cost " + std::to_string(first.GetMicroSeconds()) + " us");
        tunsim_test::ResetNs3();
        m_txBegin.clear();
        Net("1Gbps", MicroSeconds(50));
        auto c = Cfg(UdpSeqSender::Mode::Flood, 1000);
        c.sendCost = MicroSeconds(10);
        c.sendCostFirst = first;
        Udp(c, MicroSeconds(1005));
        RecordTxBegin();
        Run(MilliSeconds(2));
        // sends at 0 and at first + 10 k <= 1005 us
        const uint64_t expect = 1 + (1005 - first.GetMicroSeconds()) / 10 + 1;
        EXPECT_EQ(m_tx->Sent(), expect);
        ASSERT_GE(m_txBegin.size(), 3u);
        EXPECT_EQ(m_txBegin[1] - m_txBegin[0], first);
        EXPECT_EQ(m_txBegin[2] - m_txBegin[1], MicroSeconds(10));
        m_tx = nullptr;
        m_rx = nullptr;
        m_net.reset();
    }
}

TEST_F(AppsTest, FirstSendAfterASleepCostsSendCostFirst)
{
    // Bursts of 5 every 1 ms, first send 100 us, the others 10 us: each
    // burst goes out at +0, +100, +110, +120, +130 us.
    Net("1Gbps", MicroSeconds(50));
    auto c = Cfg(UdpSeqSender::Mode::Bursts, 1000);
    c.burstPackets = 5;
    c.burstInterval = MilliSeconds(1);
    c.sendCost = MicroSeconds(10);
    c.sendCostFirst = MicroSeconds(100);
    Udp(c, MicroSeconds(1500));
    RecordTxBegin();
    Run(MilliSeconds(3));
    std::vector<Time> expect;
    for (int64_t base : {0, 1000})
    {
        for (int64_t off : {0, 100, 110, 120, 130})
        {
            expect.push_back(MicroSeconds(base + off));
        }
    }
    EXPECT_EQ(m_txBegin, expect);
}

TEST_F(AppsTest, ABurstArrivingBeforeTheBacklogDrainsPaysNoFirstCost)
{
    // 20 every 100 us but one send per 10 us: the backlog never runs out, so
    // only the very first send costs sendCostFirst (50 us); every later gap
    // is sendCost.
    Net("1Gbps", MicroSeconds(50));
    auto c = Cfg(UdpSeqSender::Mode::Bursts, 1000);
    c.burstPackets = 20;
    c.burstInterval = MicroSeconds(100);
    c.sendCost = MicroSeconds(10);
    c.sendCostFirst = MicroSeconds(50);
    Udp(c, MicroSeconds(1000));
    RecordTxBegin();
    Run(MilliSeconds(2));
    ASSERT_GE(m_txBegin.size(), 90u);
    EXPECT_EQ(m_txBegin[1] - m_txBegin[0], MicroSeconds(50));
    for (size_t i = 2; i < m_txBegin.size(); ++i)
    {
        ASSERT_EQ(m_txBegin[i] - m_txBegin[i - 1], MicroSeconds(10)) << "send " << i;
    }
    EXPECT_GT(m_tx->Backlog(), 0u) << "the premise: it never drained";
}

TEST_F(AppsTest, FloodBlocksOnSndbufBehindASlowLink)
{
    // 1000-byte payloads: 1028-byte datagrams, SKB_TRUESIZE 2304 (1108 ->
    // 1152 + 320 -> kmalloc-2k), 1030 bytes on an 8.24 Mbit/s wire = 1 ms.
    // sk_sndbuf 4 truesizes, sendCost 1 us, wake-up 5 us:
    //   sends at 0..3 us (wmem 9216 = sndbuf), blocks at 4 us; TX completions
    //   at 1, 2, 3 ms, the third leaves 2304 < 4608: woken at 3.005 ms it
    //   sends 3 and blocks at 3.008; again every 3 ms.
    // So sent = 1 + 3 * blocks; stopped at 100.5 ms: 34 blocks (4 us and
    // 3.008 + 3k ms, k = 0..32), 103 sent, all of them delivered in order.
    Net("8240000bps", MilliSeconds(1));
    ASSERT_EQ(SkbTruesize(1028), 2304u) << "the premise of the trace";
    auto c = Cfg(UdpSeqSender::Mode::Flood, 1000);
    c.wakeupLatency = MicroSeconds(5);
    Udp(c, MicroSeconds(100500), 4 * 2304);
    Run(MilliSeconds(200));
    EXPECT_EQ(m_account->MaxWmemAlloc(), 4u * 2304u);
    EXPECT_EQ(m_account->BlockCount(), 34u);
    EXPECT_EQ(m_tx->Sent(), 1 + 3 * m_account->BlockCount());
    EXPECT_EQ(m_rx->Received(), m_tx->Sent());
    for (uint64_t s = 0; s < m_tx->Sent(); ++s)
    {
        ASSERT_TRUE(m_rx->Got(s)) << s;
    }
    EXPECT_FALSE(m_rx->Got(m_tx->Sent()));
    EXPECT_EQ(m_rx->Reordered(), 0u);
    EXPECT_EQ(m_net->drops, 0u) << "the socket, not the link, absorbed the excess";
    EXPECT_EQ(m_account->WmemAlloc(), 0u);
}

// -------------------------------------------------------------- UdpSeqSink

TEST_F(AppsTest, SinkCountsReorderingAndRemembersEachSequenceNumber)
{
    // Datagrams with sequence numbers 0, 1, 3, 2, 5, 200, sent 1 ms apart
    // from a plain socket: one arrives below the highest seen (2 after 3).
    Net("100Mbps", MilliSeconds(1));
    auto rx = ns3::CreateObject<UdpSeqSink>();
    rx->Setup(kPort);
    m_net->Node(1)->AddApplication(rx);
    auto s = ns3::Socket::CreateSocket(m_net->Node(0), ns3::UdpSocketFactory::GetTypeId());
    s->Connect(ns3::InetSocketAddress(m_net->Address(1), kPort));
    const std::vector<uint32_t> seqs = {0, 1, 3, 2, 5, 200};
    for (size_t i = 0; i < seqs.size(); ++i)
    {
        ns3::Simulator::Schedule(MilliSeconds(1 + i), [s, seq = seqs[i]]() {
            ns3::SeqTsHeader h;
            h.SetSeq(seq);
            auto p = ns3::Create<ns3::Packet>(100);
            p->AddHeader(h);
            s->Send(p);
        });
    }
    Run(MilliSeconds(20));
    EXPECT_EQ(rx->Received(), 6u);
    EXPECT_EQ(rx->ReceivedBytes(), 6u * 112u);
    EXPECT_EQ(rx->Reordered(), 1u);
    for (uint64_t seq : {0, 1, 2, 3, 5, 200})
    {
        EXPECT_TRUE(rx->Got(seq)) << seq;
    }
    for (uint64_t seq : {4, 6, 199, 201, 100000})
    {
        EXPECT_FALSE(rx->Got(seq)) << seq;
    }
}

// ------------------------------------------------------------------ TCP

TEST_F(AppsTest, TcpBulkTransferDeliversExactlyMaxBytes)
{
    // 1 MB over 10 Mbit/s, 5 ms, lossless (FIFO of 1000 packets, TSQ keeps
    // it short anyway): the sink gets exactly maxBytes, nothing is
    // retransmitted, and it cannot finish before 1e6 * 8 / 1e7 = 0.8 s of
    // payload serialisation. Every data segment is a 1500-byte L3 packet
    // (1448 + 32 TCP with timestamps + 20 IP), so the ledger holds at least
    // 1e6 + 691 * 52 bytes (ceil(1e6 / 1448) = 691 segments).
    ns3::Config::SetDefault("ns3::TcpSocket::SegmentSize", ns3::UintegerValue(1448));
    Net("10Mbps", MilliSeconds(5));
    constexpr uint64_t kBytes = 1000000;
    auto f = tunsim_test::InstallBulkFlow(*m_net, m_ledger, kPort, CongestionControl::NewReno, kBytes);
    auto& tx = f.tx;
    auto& sink = f.sink;
    Time done;
    std::function<void()> poll = [&]() {
        if (sink->ReceivedBytes() >= kBytes && done.IsZero())
        {
            done = ns3::Simulator::Now();
        }
        ns3::Simulator::Schedule(MilliSeconds(1), poll);
    };
    ns3::Simulator::Schedule(MilliSeconds(1), poll);
    Run(Seconds(5));
    EXPECT_EQ(sink->ReceivedBytes(), kBytes);
    EXPECT_EQ(tx->BytesQueued(), kBytes);
    EXPECT_EQ(tx->Retransmits(), 0u);
    ASSERT_FALSE(done.IsZero());
    EXPECT_GE(done, MilliSeconds(800));
    EXPECT_GE(m_ledger->Flows()[f.flow].sentBytes, kBytes + 691 * 52);
    EXPECT_GE(tx->MinRtt(), MilliSeconds(10)) << "at least the two-way propagation";
    EXPECT_EQ(m_net->drops, 0u);
    EXPECT_EQ(f.account->WmemAlloc(), 0u) << "every segment released at TX completion";
    tx = nullptr;
    sink = nullptr;
}

namespace
{
/// A bulk NewReno flow over 100 Mbit/s, 25 ms each way, with a 256 KiB
/// send buffer: the buffer, not the path (BDP 625 KB) nor the receiver (4 MiB),
/// limits it, and nothing is lost. From 2 s to 10 s: the goodput, and the
/// send queue (buffer minus free space) sampled every 0.5 ms.
struct SndbufLimited
{
    double goodput = 0; // bit/s
    double meanQueued = 0;
    uint32_t minQueued = 0;
};

SndbufLimited
RunSndbufLimited(bool writeSpaceWake)
{
    constexpr uint32_t kSndbuf = 256 * 1024;
    tunsim_test::ResetNs3();
    ns3::Config::SetDefault("ns3::TcpSocket::SegmentSize", ns3::UintegerValue(1448));
    ns3::Config::SetDefault("ns3::TcpSocket::SndBufSize", ns3::UintegerValue(kSndbuf));
    ns3::Config::SetDefault("ns3::TcpSocket::RcvBufSize", ns3::UintegerValue(4u << 20));
    ns3::Config::SetDefault("tunsim::TcpBulkSender::WriteSpaceWake", ns3::BooleanValue(writeSpaceWake));
    tunsim_test::TwoNodes net("100Mbps", MilliSeconds(25));
    net.ReleaseAtNic();
    auto ledger = ns3::Create<PacketLedger>();
    auto f = tunsim_test::InstallBulkFlow(net, ledger, 9, CongestionControl::NewReno, 0);
    auto& tx = f.tx;
    auto& sink = f.sink;
    uint64_t atTwo = 0;
    double sum = 0;
    uint64_t n = 0;
    SndbufLimited r;
    r.minQueued = kSndbuf;
    std::function<void()> sample = [&]() {
        if (ns3::Simulator::Now() >= Seconds(2))
        {
            const uint32_t queued = kSndbuf - tx->GetSocket()->GetTxAvailable();
            sum += queued;
            ++n;
            r.minQueued = std::min(r.minQueued, queued);
        }
        ns3::Simulator::Schedule(MicroSeconds(500), sample);
    };
    ns3::Simulator::Schedule(MicroSeconds(500), sample);
    ns3::Simulator::Schedule(Seconds(2), [&]() { atTwo = sink->ReceivedBytes(); });
    ns3::Simulator::Stop(Seconds(10));
    ns3::Simulator::Run();
    r.goodput = static_cast<double>(sink->ReceivedBytes() - atTwo) * 8 / 8.0;
    r.meanQueued = sum / static_cast<double>(n);
    EXPECT_EQ(tx->Retransmits(), 0u);
    ns3::Config::Reset();
    return r;
}
} // namespace

TEST(TcpBulkSenderWriteSpace, AWriterWokenAtTwoThirdsKeepsLessQueuedAndInFlight)
{
    constexpr double kS = 256 * 1024;
    // Woken on any free space, the writer keeps the buffer full: what is in
    // flight is all of it, about S / RTT = 256 KiB / 50 ms = 41.9 Mbit/s (a
    // little less: the RTT also has each way's 0.12 ms of serialization).
    const SndbufLimited full = RunSndbufLimited(false);
    EXPECT_GT(full.minQueued, 0.95 * kS);
    EXPECT_GT(full.goodput, 0.95 * kS * 8 / 0.050);
    EXPECT_LT(full.goodput, 1.0 * kS * 8 / 0.050);
    // Woken only when the queue is down to 2/3 of the buffer
    // (sk_stream_write_space()), it lets the queue -- and with it what is in
    // flight -- run down to 2S/3 before it fills it again: never much lower
    // (one ACK's worth), never higher than S, and the goodput follows.
    const SndbufLimited woken = RunSndbufLimited(true);
    EXPECT_LT(woken.minQueued, 0.67 * kS);
    EXPECT_GT(woken.minQueued, 0.60 * kS);
    EXPECT_GT(woken.meanQueued, 2.0 / 3.0 * kS);
    EXPECT_LT(woken.meanQueued, 0.9 * kS);
    EXPECT_GT(woken.goodput / full.goodput, 0.6);
    EXPECT_LT(woken.goodput / full.goodput, 0.9);
}
