// NapiGro (models/napi-gro.h): GRO of a guest's NAPI poll, fed hand-built
// Ethernet/IPv4/TCP frames. Every expected skb boundary is worked out from
// tcp_gro_receive() / dev_gro_receive() (net/ipv4/tcp_offload.c,
// net/core/gro.c), not from the model:
//   * 1448-byte segments with 32 bytes of TCP header (timestamps): an skb
//     holds 20 + 32 + n x 1448 < 65536 bytes -> at most 45 segments;
//   * a gap in sequence, a new TSval or ACK number ends the held skb and the
//     segment starts the next; PSH or a short segment is merged and ends it;
//   * at most 8 flows held: a ninth flushes the oldest.
#include "gso-tag.h"
#include "napi-gro.h"
#include "tap-frame.h"

#include "ns3/ipv4-header.h"
#include "ns3/packet.h"
#include "ns3/tcp-header.h"
#include "ns3/tcp-option-ts.h"
#include "ns3/udp-header.h"

#include <gtest/gtest.h>

#include <vector>

using namespace tunsim;

namespace
{

struct Seg
{
    uint32_t seq = 1;
    uint32_t len = 1448;
    uint32_t ts = 100;
    uint8_t flags = ns3::TcpHeader::ACK;
    uint16_t sport = 5001;
    uint32_t ack = 1;
};

ns3::Ptr<ns3::Packet>
Frame(const Seg& s)
{
    auto p = ns3::Create<ns3::Packet>(s.len);
    ns3::TcpHeader th;
    th.SetSourcePort(s.sport);
    th.SetDestinationPort(5201);
    th.SetSequenceNumber(ns3::SequenceNumber32(s.seq));
    th.SetAckNumber(ns3::SequenceNumber32(s.ack));
    th.SetFlags(s.flags);
    auto ts = ns3::CreateObject<ns3::TcpOptionTS>();
    ts->SetTimestamp(s.ts);
    ts->SetEcho(7);
    th.AppendOption(ts);
    p->AddHeader(th);
    ns3::Ipv4Header ip;
    ip.SetSource(ns3::Ipv4Address("10.77.0.1"));
    ip.SetDestination(ns3::Ipv4Address("10.77.0.2"));
    ip.SetProtocol(6);
    ip.SetPayloadSize(p->GetSize());
    p->AddHeader(ip);
    p->AddHeader(TapFrameHeader());
    return p;
}

/// What went up: for each packet, whether it carried a VnetFrameTag and
/// whether that was the skb's last segment.
struct Sink
{
    std::vector<int> marks; ///< -1 untagged, 0 tagged not last, 1 tagged last
    std::vector<uint32_t> SkbSizes() const
    {
        std::vector<uint32_t> out;
        uint32_t run = 0;
        for (int m : marks)
        {
            ++run;
            if (m != 0)
            {
                out.push_back(run);
                run = 0;
            }
        }
        if (run)
        {
            out.push_back(run); // an unfinished tagged run: a bug
        }
        return out;
    }
};

NapiGro
MakeGro(Sink& sink)
{
    NapiGro g;
    g.SetDeliver([&sink](ns3::Ptr<ns3::Packet> p) {
        VnetFrameTag t;
        sink.marks.push_back(p->PeekPacketTag(t) ? (t.Last() ? 1 : 0) : -1);
    });
    return g;
}

void
Feed(NapiGro& g, uint32_t n, Seg s)
{
    for (uint32_t i = 0; i < n; ++i)
    {
        g.Receive(Frame(s));
        s.seq += s.len;
    }
}

} // namespace

TEST(NapiGro, MergesUpTo45FullSegmentsThenFlushes)
{
    Sink sink;
    NapiGro g = MakeGro(sink);
    Feed(g, 100, Seg{});
    EXPECT_EQ(sink.SkbSizes(), (std::vector<uint32_t>{45, 45})); // the third is held
    EXPECT_EQ(g.HeldSegments(), 10u);
    g.Flush();
    EXPECT_EQ(sink.SkbSizes(), (std::vector<uint32_t>{45, 45, 10}));
    EXPECT_EQ(g.GetStats().skbs, 3u);
    EXPECT_EQ(g.GetStats().merged, 97u);
    EXPECT_EQ(g.HeldSegments(), 0u);
}

TEST(NapiGro, GapNewTimestampOrAckEndTheHeldSkb)
{
    Sink sink;
    NapiGro g = MakeGro(sink);
    Seg s;
    Feed(g, 10, s);
    s.seq += 11 * 1448; // segment 10 lost
    Feed(g, 9, s);
    s.seq += 9 * 1448;
    s.ts = 101; // next millisecond's TSval
    Feed(g, 3, s);
    s.seq += 3 * 1448;
    s.ack = 2;
    Feed(g, 2, s);
    g.Flush();
    EXPECT_EQ(sink.SkbSizes(), (std::vector<uint32_t>{10, 9, 3, 2}));
}

TEST(NapiGro, PshOrShortSegmentIsMergedAndEndsTheSkb)
{
    Sink sink;
    NapiGro g = MakeGro(sink);
    Seg s;
    Feed(g, 3, s);
    s.seq += 3 * 1448;
    s.flags = ns3::TcpHeader::ACK | ns3::TcpHeader::PSH;
    Feed(g, 1, s); // merged, then the skb goes up at once
    EXPECT_EQ(sink.SkbSizes(), (std::vector<uint32_t>{4}));
    s.seq += 1448;
    s.flags = ns3::TcpHeader::ACK;
    Feed(g, 2, s);
    s.seq += 2 * 1448;
    s.len = 500;
    Feed(g, 1, s); // shorter than gso_size: merged, ends it
    EXPECT_EQ(sink.SkbSizes(), (std::vector<uint32_t>{4, 3}));
    EXPECT_EQ(g.HeldSkbs(), 0u);
}

TEST(NapiGro, SingleSegmentSkbGoesUpUntagged)
{
    Sink sink;
    NapiGro g = MakeGro(sink);
    Feed(g, 1, Seg{});
    g.Flush();
    EXPECT_EQ(sink.marks, (std::vector<int>{-1}));
}

TEST(NapiGro, UdpAndPureAcksPassWithoutTouchingHeldFlows)
{
    Sink sink;
    NapiGro g = MakeGro(sink);
    Feed(g, 2, Seg{});
    auto udp = ns3::Create<ns3::Packet>(1400);
    udp->AddHeader(ns3::UdpHeader());
    ns3::Ipv4Header ip;
    ip.SetProtocol(17);
    ip.SetPayloadSize(udp->GetSize());
    udp->AddHeader(ip);
    udp->AddHeader(TapFrameHeader());
    g.Receive(udp);
    Seg ack;
    ack.len = 0;
    ack.sport = 6000;
    g.Receive(Frame(ack));
    EXPECT_EQ(sink.marks, (std::vector<int>{-1, -1}));
    EXPECT_EQ(g.GetStats().passed, 2u);
    Seg s;
    s.seq += 2 * 1448;
    Feed(g, 1, s); // still merges into the held skb
    g.Flush();
    EXPECT_EQ(sink.SkbSizes(), (std::vector<uint32_t>{1, 1, 3}));
}

TEST(NapiGro, AGsoSkbOfTheFlowFlushesItsHeldSkbFirst)
{
    // Two segments held for flow 5001, one for flow 6000; a GSO skb of flow
    // 5001 arrives: its held skb (2 segments) goes up before it, flow
    // 6000's stays held until the poll ends.
    Sink sink;
    NapiGro g = MakeGro(sink);
    Feed(g, 2, Seg{});
    Seg other;
    other.sport = 6000;
    Feed(g, 1, other);
    Seg gso;
    gso.seq = 1 + 2 * 1448;
    g.FlushFlowOf(Frame(gso));
    EXPECT_EQ(sink.SkbSizes(), (std::vector<uint32_t>{2}));
    EXPECT_EQ(g.HeldSkbs(), 1u);
    g.FlushFlowOf(Frame(gso)); // nothing held for it any more
    EXPECT_EQ(sink.marks.size(), 2u);
    g.Flush();
    EXPECT_EQ(sink.SkbSizes(), (std::vector<uint32_t>{2, 1}));
}

TEST(NapiGro, NinthFlowFlushesTheOldest)
{
    Sink sink;
    NapiGro g = MakeGro(sink);
    for (uint16_t f = 0; f < 8; ++f)
    {
        Seg s;
        s.sport = 7000 + f;
        Feed(g, 2, s);
    }
    EXPECT_EQ(g.HeldSkbs(), 8u);
    EXPECT_TRUE(sink.marks.empty());
    Seg s;
    s.sport = 7100;
    Feed(g, 1, s);
    EXPECT_EQ(sink.SkbSizes(), (std::vector<uint32_t>{2})); // flow 0's
    EXPECT_EQ(g.HeldSkbs(), 8u);
    // Interleaved flows each keep merging their own skb.
    Seg a;
    a.sport = 7001;
    a.seq += 2 * 1448;
    Feed(g, 1, a);
    g.Flush();
    EXPECT_EQ(sink.SkbSizes(), (std::vector<uint32_t>{2, 3, 2, 2, 2, 2, 2, 2, 1}));
}
