// SACK compression in LinuxTcpSocket's receiver (tcp_input.c's
// __tcp_ack_snd_check(), tcp_timer.c's tcp_compressed_ack_kick()): one data
// segment of a bulk flow is lost on the link, and the ACKs the receiver
// sends while the hole is open are checked against the kernel's rules,
// worked out by hand:
//  - tcp_comp_sack_nr 0: every out-of-order segment is acked at once (what
//    ns-3 does on its own);
//  - 44 (the default): the first three go at once (dup_ack_counter), then
//    one ACK per timer expiry, min(1 ms, rtt/20) + 100 us slack after the
//    first segment held back -- at 40 ms RTT 1.1 ms, ~9 segments of
//    100 Mbit/s; every segment not acked is counted once in
//    TCPAckCompressed (the timer's own ACK is not);
//  - 2: at most two held back, so every third segment is acked at once
//    (or the timer's ACK when arrivals pause).
#include "linux-tcp-socket.h"
#include "packet-ledger.h"
#include "socket-account.h"
#include "bulk-flow.h"
#include "test-p2p.h"
#include "traffic-apps.h"

#include "ns3/config.h"
#include "ns3/error-model.h"
#include "ns3/ipv4-header.h"
#include "ns3/ppp-header.h"
#include "ns3/tcp-header.h"
#include "ns3/uinteger.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

using namespace tunsim;

namespace
{

constexpr uint32_t kMss = 1448;
constexpr uint32_t kLostIndex = 600; ///< the data segment the link loses (0-based)

/// Loses the first data segment at or beyond sequence `from` on receive
/// (segment boundaries need not fall on multiples of the MSS).
class LoseOneSegment : public ns3::ErrorModel
{
  public:
    explicit LoseOneSegment(uint32_t from) : m_from(from) {}
    /// the lost segment's sequence number (0: none lost yet)
    uint32_t Lost() const { return m_lost; }

  private:
    bool DoCorrupt(ns3::Ptr<ns3::Packet> p) override
    {
        ns3::Ptr<ns3::Packet> c = p->Copy();
        ns3::PppHeader ppp;
        ns3::Ipv4Header ip;
        ns3::TcpHeader tcp;
        c->RemoveHeader(ppp);
        c->RemoveHeader(ip);
        c->RemoveHeader(tcp);
        if (m_lost != 0 || c->GetSize() == 0 || tcp.GetSequenceNumber().GetValue() < m_from)
        {
            return false;
        }
        m_lost = tcp.GetSequenceNumber().GetValue();
        return true;
    }
    void DoReset() override {}

    uint32_t m_from;
    uint32_t m_lost = 0;
};

struct Hole
{
    uint32_t outOfOrder = 0;         ///< segments that arrived beyond the hole while it was open
    std::vector<double> dupAckAtMs;  ///< the receiver's ACKs of the hole's start after the first of those
    uint64_t acksCompressed = 0;     ///< LinuxTcpSocket::AcksCompressed() at the end
    uint64_t received = 0;
};

Hole
RunOneHole(uint32_t compSackNr)
{
    tunsim_test::ResetNs3();
    ns3::Config::SetDefault("ns3::TcpSocket::SegmentSize", ns3::UintegerValue(kMss));
    ns3::Config::SetDefault("ns3::TcpSocket::RcvBufSize", ns3::UintegerValue(33554432));
    ns3::Config::SetDefault("tunsim::LinuxTcpSocket::CompSackNr", ns3::UintegerValue(compSackNr));
    tunsim_test::TwoNodes net("100Mbps", ns3::MilliSeconds(20), 10000);
    net.ReleaseAtNic();
    auto lose = ns3::Create<LoseOneSegment>(1 + kLostIndex * kMss); // ns-3's ISN is 0
    lose->Enable(); // IsEnabled's default is set only by CreateObject()
    net.Device(1)->SetReceiveErrorModel(lose);
    auto ledger = ns3::Create<PacketLedger>();
    auto f = tunsim_test::InstallBulkFlow(net, ledger, 5000, CongestionControl::Cubic, 2000 * kMss);
    auto& tx = f.tx;
    auto& sink = f.sink;

    Hole h;
    bool open = false;   // a segment beyond the hole arrived, the hole not yet filled
    bool filled = false;
    // MacRx and MacTx see the frame with its PPP header.
    auto headers = [](ns3::Ptr<const ns3::Packet> p, ns3::TcpHeader& tcp) {
        ns3::Ptr<ns3::Packet> c = p->Copy();
        ns3::PppHeader ppp;
        c->RemoveHeader(ppp);
        ns3::Ipv4Header ip;
        c->RemoveHeader(ip);
        c->RemoveHeader(tcp);
        return c->GetSize();
    };
    net.Device(1)->TraceConnectWithoutContext(
        "MacRx", ns3::Callback<void, ns3::Ptr<const ns3::Packet>>([&](ns3::Ptr<const ns3::Packet> p) {
            ns3::TcpHeader tcp;
            if (headers(p, tcp) == 0 || filled)
            {
                return;
            }
            const uint32_t seq = tcp.GetSequenceNumber().GetValue();
            const uint32_t holeSeq = lose->Lost();
            if (holeSeq == 0)
            {
                return;
            }
            if (seq == holeSeq && open)
            {
                filled = true; // the retransmission
                return;
            }
            if (seq > holeSeq)
            {
                open = true;
                ++h.outOfOrder;
            }
        }));
    net.Device(1)->TraceConnectWithoutContext(
        "MacTx", ns3::Callback<void, ns3::Ptr<const ns3::Packet>>([&](ns3::Ptr<const ns3::Packet> p) {
            ns3::TcpHeader tcp;
            if (open && !filled && headers(p, tcp) == 0 && tcp.GetAckNumber().GetValue() == lose->Lost())
            {
                h.dupAckAtMs.push_back(ns3::Simulator::Now().GetSeconds() * 1e3);
            }
        }));
    ns3::Simulator::Stop(ns3::Seconds(10));
    ns3::Simulator::Run();
    EXPECT_TRUE(filled);
    EXPECT_EQ(net.drops, 0u) << "no loss but the one segment";
    h.acksCompressed = sink->AcksCompressed();
    h.received = sink->ReceivedBytes();
    tx = nullptr;
    sink = nullptr;
    ns3::Simulator::Destroy();
    SocketAccountTable::Reset();
    return h;
}

} // namespace

TEST(SackCompression, OffAcksEveryOutOfOrderSegmentAsNs3Does)
{
    const Hole h = RunOneHole(0);
    EXPECT_EQ(h.received, 2000u * kMss);
    ASSERT_GT(h.outOfOrder, 50u) << "a window of segments beyond the hole";
    EXPECT_EQ(h.dupAckAtMs.size(), h.outOfOrder);
    EXPECT_EQ(h.acksCompressed, 0u);
}

TEST(SackCompression, ThreeDupAcksThenOneAckPerTimerExpiry)
{
    const Hole h = RunOneHole(44);
    EXPECT_EQ(h.received, 2000u * kMss);
    ASSERT_GT(h.outOfOrder, 50u);
    ASSERT_GT(h.dupAckAtMs.size(), 4u);
    // The first three ACKs follow three arrivals at 100 Mbit/s (a 1502-byte
    // frame every 120.16 us).
    EXPECT_LT(h.dupAckAtMs[2] - h.dupAckAtMs[0], 2 * 0.121 + 1e-6);
    // Then the timer: min(1 ms, 40 ms / 20) + 0.1 ms after the first arrival
    // held back, which is at most one frame time after the last ACK.
    std::vector<double> gaps;
    for (size_t i = 3; i < h.dupAckAtMs.size(); ++i)
    {
        gaps.push_back(h.dupAckAtMs[i] - h.dupAckAtMs[i - 1]);
        EXPECT_GE(gaps.back(), 1.1 - 1e-6) << "ACK " << i;
    }
    std::sort(gaps.begin(), gaps.end());
    EXPECT_LE(gaps[gaps.size() / 2], 1.1 + 0.121 + 1e-6) << "while segments keep arriving";
    // Every segment beyond the hole was either acked or counted compressed:
    // the three immediate ACKs and the timer's own are not counted (the
    // retransmission's ACK carries the last ones to the counter).
    EXPECT_EQ(h.acksCompressed, h.outOfOrder - h.dupAckAtMs.size());
    EXPECT_LT(h.dupAckAtMs.size() * 5, h.outOfOrder) << "~9 segments per compressed ACK";
}

TEST(SackCompression, AtMostCompSackNrAcksAreHeldBack)
{
    const Hole h = RunOneHole(2);
    ASSERT_GT(h.outOfOrder, 50u);
    ASSERT_GT(h.dupAckAtMs.size(), 10u);
    // After the three immediate ACKs, two arrivals are held back and the
    // third finds compressed_ack >= 2 and is acked at once: ACKs three
    // frames (3 x 120.16 us) apart while segments keep arriving, or the
    // timer's 1.1 ms after the first held back when they pause.
    uint32_t byCap = 0;
    for (size_t i = 3; i < h.dupAckAtMs.size(); ++i)
    {
        const double gap = h.dupAckAtMs[i] - h.dupAckAtMs[i - 1];
        EXPECT_GE(gap, 3 * 0.12016 - 1e-6) << "ACK " << i;
        byCap += gap < 1.1;
    }
    EXPECT_GE(byCap * 4, (h.dupAckAtMs.size() - 3) * 3) << "most ACKs at the cap";
    EXPECT_EQ(h.acksCompressed, h.outOfOrder - h.dupAckAtMs.size());
    EXPECT_LE(h.acksCompressed, 2 * (h.dupAckAtMs.size() - 3) + 2) << "never more than two held back";
}
