// SocketAccount / SocketAccountTable / SkbTruesize: the sk_wmem_alloc vs
// sk_sndbuf book-keeping of a sending socket, driven by hand.
//
// Expected values come from the kernel, not from the model:
//   * SKB_TRUESIZE of a linear skb (__alloc_skb(), x86-64): the data block is
//     kmalloc(SKB_DATA_ALIGN(headroom + len) + SKB_DATA_ALIGN(sizeof(struct
//     skb_shared_info)) = 320), rounded up to the slab (kmalloc-256, -512,
//     -1k, -2k, -4k...), truesize = that + SKB_DATA_ALIGN(sizeof(struct
//     sk_buff)) = 256; headroom NET_SKB_PAD + LL_RESERVED_SPACE = 80, and
//     SKB_DATA_ALIGN rounds to 64 bytes. The slab boundaries below are worked
//     by hand from that.
//   * sock_alloc_send_pskb() / sock_wait_for_wmem(): a sender may allocate
//     while sk_wmem_alloc < sk_sndbuf.
//   * sock_def_write_space() (via sock_wfree()): a sleeping writer is woken
//     only when sock_writeable(): sk_wmem_alloc < (sk_sndbuf >> 1).
//   * skb_set_owner_w() charges skb->truesize; skb_orphan()/sock_wfree()
//     uncharges exactly that.
#include "socket-account.h"
#include "tunsim-tag.h"

#include "ns3/packet.h"
#include "ns3/simulator.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

using namespace tunsim;

namespace
{

constexpr uint32_t kTs1428 = 2304; // SKB_TRUESIZE of a 1428-byte datagram, worked below

class SocketAccountTest : public ::testing::Test
{
  protected:
    void SetUp() override { SocketAccountTable::Reset(); }
    void TearDown() override
    {
        SocketAccountTable::Reset();
        ns3::Simulator::Destroy();
    }
};

} // namespace

TEST(SkbTruesize, A1428ByteDatagramIs2304)
{
    // 1428 + 80 = 1508 -> SKB_DATA_ALIGN 1536; + 320 = 1856 -> kmalloc-2k
    // 2048; + 256 = 2304.
    EXPECT_EQ(SkbTruesize(1428), kTs1428);
    // A full 1500-byte TCP segment: 1580 -> 1600; + 320 = 1920 -> 2048 -> 2304.
    EXPECT_EQ(SkbTruesize(1500), 2304u);
}

TEST(SkbTruesize, SlabBoundaries)
{
    // kmalloc-2k holds SKB_DATA_ALIGN(l3 + 80) + 320 <= 2048, i.e.
    // SKB_DATA_ALIGN(l3 + 80) <= 1728, l3 <= 1648. One byte more takes
    // 1729 -> 1792 + 320 = 2112 -> kmalloc-4k: 4096 + 256.
    EXPECT_EQ(SkbTruesize(1648), 2048u + 256u);
    EXPECT_EQ(SkbTruesize(1649), 4096u + 256u);
    // kmalloc-512: SKB_DATA_ALIGN(l3 + 80) <= 192, l3 <= 112.
    EXPECT_EQ(SkbTruesize(0), 512u + 256u);
    EXPECT_EQ(SkbTruesize(112), 512u + 256u);
    EXPECT_EQ(SkbTruesize(113), 1024u + 256u);
    // kmalloc-1k up to SKB_DATA_ALIGN(l3 + 80) <= 704, l3 <= 624.
    EXPECT_EQ(SkbTruesize(624), 1024u + 256u);
    EXPECT_EQ(SkbTruesize(625), 2048u + 256u);
    // Monotone: a bigger packet never costs less.
    for (uint32_t l3 = 0; l3 < 9000; ++l3)
    {
        ASSERT_LE(SkbTruesize(l3), SkbTruesize(l3 + 1)) << l3;
        ASSERT_GT(SkbTruesize(l3), l3 + 256) << l3;
    }
}

TEST_F(SocketAccountTest, MaySendWhileWmemBelowSndbuf)
{
    // sock_alloc_send_pskb(): allocation goes on while wmem < sndbuf; the
    // charge that reaches sndbuf is allowed, the next send is not.
    SocketAccount a(1, "udp", 10000);
    EXPECT_TRUE(a.MaySend());
    a.Charge(9999);
    EXPECT_TRUE(a.MaySend());
    a.Charge(1);
    EXPECT_FALSE(a.MaySend());
    a.Charge(5000); // an skb already allocated may overshoot
    EXPECT_EQ(a.WmemAlloc(), 15000u);
    EXPECT_EQ(a.MaxWmemAlloc(), 15000u);
    a.Release(5001);
    EXPECT_TRUE(a.MaySend());
    EXPECT_EQ(a.WmemAlloc(), 9999u);
    EXPECT_EQ(a.MaxWmemAlloc(), 15000u) << "the peak is kept";
}

TEST_F(SocketAccountTest, BlockedSenderWokenOnlyBelowHalfSndbuf)
{
    // sock_writeable(): wmem < sndbuf >> 1. With sndbuf 10000 the sender,
    // blocked at wmem 10000, is not woken at 5000 but at 4999; once.
    SocketAccount a(1, "udp", 10000);
    a.Charge(10000);
    ASSERT_FALSE(a.MaySend());
    int woken = 0;
    a.Block([&woken]() { ++woken; });
    EXPECT_TRUE(a.Blocked());
    a.Release(4000); // 6000
    EXPECT_EQ(woken, 0);
    EXPECT_TRUE(a.MaySend()) << "MaySend is not the wake condition";
    a.Release(1000); // 5000: 5000 < 5000 is false
    EXPECT_EQ(woken, 0);
    EXPECT_TRUE(a.Blocked());
    a.Release(1); // 4999
    EXPECT_EQ(woken, 1);
    EXPECT_FALSE(a.Blocked());
    a.Release(4999); // 0: nobody sleeps any more
    EXPECT_EQ(woken, 1);
    EXPECT_EQ(a.BlockCount(), 1u);
}

TEST_F(SocketAccountTest, OddSndbufUsesTheKernelShift)
{
    // sndbuf 10001: sndbuf >> 1 = 5000, so wmem 5000 is not writeable
    // (2 * 5000 < 10001 would say it is: the kernel shifts, it does not halve).
    SocketAccount a(1, "udp", 10001);
    a.Charge(10001);
    int woken = 0;
    a.Block([&woken]() { ++woken; });
    a.Release(5001); // 5000
    EXPECT_EQ(woken, 0);
    a.Release(1); // 4999
    EXPECT_EQ(woken, 1);
}

TEST_F(SocketAccountTest, BlockedTimeIsSimulatedSleep)
{
    // Blocked at 1 ms, the releases at 2 ms (not enough) and 3 ms (enough):
    // 2 ms asleep, one block.
    auto a = SocketAccountTable::Create("udp", 4 * kTs1428);
    ns3::Simulator::Schedule(ns3::MilliSeconds(1), [a]() {
        a->Charge(4 * kTs1428);
        a->Block([]() {});
    });
    ns3::Simulator::Schedule(ns3::MilliSeconds(2), [a]() { a->Release(2 * kTs1428); });
    ns3::Simulator::Schedule(ns3::MilliSeconds(3), [a]() { a->Release(kTs1428); });
    ns3::Simulator::Schedule(ns3::MilliSeconds(5), [a]() {
        EXPECT_FALSE(a->Blocked());
        EXPECT_EQ(a->BlockedTime(), ns3::MilliSeconds(2));
    });
    ns3::Simulator::Run();
    EXPECT_EQ(a->BlockCount(), 1u);
    EXPECT_EQ(a->BlockedTime(), ns3::MilliSeconds(2));
}

TEST_F(SocketAccountTest, LimitFunctionGatesSendAndWake)
{
    // An extra limit (TSQ) is part of both conditions: a sender below
    // sndbuf / 2 stays blocked while the limit says no, and is woken by the
    // first release after it says yes.
    SocketAccount a(1, "tcp", 100000);
    bool allow = false;
    a.SetLimitFunction([&allow](const SocketAccount&) { return allow; });
    EXPECT_FALSE(a.MaySend());
    a.Charge(3000);
    int woken = 0;
    a.Block([&woken]() { ++woken; });
    a.Release(1000);
    EXPECT_EQ(woken, 0);
    allow = true;
    EXPECT_TRUE(a.MaySend());
    a.Release(1000);
    EXPECT_EQ(woken, 1);
    // and sndbuf still applies with the limit allowing
    a.Charge(100000);
    EXPECT_FALSE(a.MaySend());
    a.SetLimitFunction(nullptr);
    EXPECT_FALSE(a.MaySend());
}

TEST_F(SocketAccountTest, ReleaseCallbackRunsOnEveryReleaseAfterTheWake)
{
    // tcp_wfree(): every uncharge reaches the protocol's hook, blocked sender
    // or not.
    SocketAccount a(1, "tcp", 10000);
    std::vector<std::string> calls;
    a.SetReleaseCallback([&]() { calls.push_back("release@" + std::to_string(a.WmemAlloc())); });
    a.Charge(10000);
    a.Block([&]() { calls.push_back("wake"); });
    a.Release(3000);
    a.Release(3000);
    a.Release(4000);
    EXPECT_EQ(calls, (std::vector<std::string>{"release@7000", "wake", "release@4000", "release@0"}));
}

TEST_F(SocketAccountTest, ReleasingMoreThanChargedStopsAtZero)
{
    SocketAccount a(1, "udp", 10000);
    a.Charge(100);
    a.Release(500);
    EXPECT_EQ(a.WmemAlloc(), 0u);
    EXPECT_TRUE(a.MaySend());
}

TEST_F(SocketAccountTest, TableNumbersAccountsFromOneAndResets)
{
    // id 0 means "no owner" (an orphaned skb).
    auto a = SocketAccountTable::Create("a", 1000);
    auto b = SocketAccountTable::Create("b", 2000);
    EXPECT_EQ(a->Id(), 1u);
    EXPECT_EQ(b->Id(), 2u);
    EXPECT_EQ(SocketAccountTable::Get(1), a);
    EXPECT_EQ(SocketAccountTable::Get(2), b);
    EXPECT_EQ(SocketAccountTable::Get(0), nullptr);
    EXPECT_EQ(SocketAccountTable::Get(3), nullptr);
    EXPECT_EQ(SocketAccountTable::All().size(), 2u);
    EXPECT_EQ(b->Name(), "b");
    EXPECT_EQ(b->Sndbuf(), 2000u);
    SocketAccountTable::Reset();
    EXPECT_TRUE(SocketAccountTable::All().empty());
    EXPECT_EQ(SocketAccountTable::Get(1), nullptr);
    EXPECT_EQ(SocketAccountTable::Create("c", 1000)->Id(), 1u);
}

TEST_F(SocketAccountTest, SetOwnerTagsAndChargesOrphanReleases)
{
    auto a = SocketAccountTable::Create("udp", 1000000);
    ns3::Ptr<ns3::Packet> p;
    ns3::Simulator::Schedule(ns3::MicroSeconds(7), [&]() {
        p = ns3::Create<ns3::Packet>(1400);
        SocketAccountTable::SetOwner(p, *a, 3, 1428);
    });
    ns3::Simulator::Run();
    TunsimTag tag;
    ASSERT_TRUE(p->PeekPacketTag(tag));
    EXPECT_EQ(tag.flowId, 3u);
    EXPECT_EQ(tag.txTimeNs, 7000);
    EXPECT_EQ(tag.ownerId, a->Id());
    EXPECT_EQ(tag.truesize, kTs1428);
    EXPECT_EQ(a->WmemAlloc(), kTs1428);

    // A copy (as the stack makes) carries the same tag: the orphan at the
    // device finds the owner through it.
    EXPECT_TRUE(SocketAccountTable::Orphan(p->Copy()));
    EXPECT_EQ(a->WmemAlloc(), 0u);
    // Untagged, or tagged with no owner: nothing to release.
    EXPECT_FALSE(SocketAccountTable::Orphan(ns3::Create<ns3::Packet>(10)));
    auto q = ns3::Create<ns3::Packet>(10);
    q->AddPacketTag(TunsimTag(0, 0, 0, 0));
    EXPECT_FALSE(SocketAccountTable::Orphan(q));
}

TEST_F(SocketAccountTest, ReownKeepsFlowAndTimeChargesTheNewOwner)
{
    // The VPN process re-sends what it read from tun: the skb it sends is
    // charged to its UDP socket (skb_set_owner_w() in its sendto()), while
    // the flow and the original send time stay for the ledger.
    auto client = SocketAccountTable::Create("client", 1000000);
    auto vpn = SocketAccountTable::Create("vpn", 1000000);
    auto p = ns3::Create<ns3::Packet>(1400);
    SocketAccountTable::SetOwner(p, *client, 5, 1428);
    EXPECT_TRUE(SocketAccountTable::Orphan(p)); // tun_net_xmit()'s skb_orphan()
    EXPECT_EQ(client->WmemAlloc(), 0u);
    SocketAccountTable::Reown(p, *vpn, 1428 + 28 + 16);
    const uint32_t vpnTruesize = SkbTruesize(1472); // 1552 -> 1600 + 320 -> 2048: 2304
    EXPECT_EQ(vpnTruesize, 2304u);
    EXPECT_EQ(vpn->WmemAlloc(), vpnTruesize);
    EXPECT_EQ(client->WmemAlloc(), 0u);
    TunsimTag tag;
    ASSERT_TRUE(p->PeekPacketTag(tag));
    EXPECT_EQ(tag.flowId, 5u);
    EXPECT_EQ(tag.txTimeNs, 0);
    EXPECT_EQ(tag.ownerId, vpn->Id());
    EXPECT_TRUE(SocketAccountTable::Orphan(p)); // the underlay NIC's TX completion
    EXPECT_EQ(vpn->WmemAlloc(), 0u);
    EXPECT_EQ(client->WmemAlloc(), 0u);
}

TEST_F(SocketAccountTest, EveryChargeIsReleasedOnceWhateverTheOrder)
{
    // Conservation: packets of three sockets orphaned in random order leave
    // every account at zero, and the peak of each equals the truesizes it had
    // outstanding at once (all of them: every packet is charged before any is
    // orphaned).
    std::vector<ns3::Ptr<SocketAccount>> acc = {SocketAccountTable::Create("a", 1u << 30),
                                                SocketAccountTable::Create("b", 1u << 30),
                                                SocketAccountTable::Create("c", 1u << 30)};
    std::mt19937 rng(42);
    std::vector<ns3::Ptr<ns3::Packet>> packets;
    std::vector<uint64_t> expectPeak(3, 0);
    for (int i = 0; i < 300; ++i)
    {
        uint32_t l3 = 40 + rng() % 1461;
        size_t owner = rng() % 3;
        auto p = ns3::Create<ns3::Packet>(l3);
        SocketAccountTable::SetOwner(p, *acc[owner], static_cast<uint32_t>(owner), l3);
        expectPeak[owner] += SkbTruesize(l3);
        packets.push_back(p);
    }
    std::shuffle(packets.begin(), packets.end(), rng);
    for (const auto& p : packets)
    {
        ASSERT_TRUE(SocketAccountTable::Orphan(p));
    }
    for (size_t i = 0; i < 3; ++i)
    {
        EXPECT_EQ(acc[i]->WmemAlloc(), 0u) << acc[i]->Name();
        EXPECT_EQ(acc[i]->MaxWmemAlloc(), expectPeak[i]) << acc[i]->Name();
    }
}
