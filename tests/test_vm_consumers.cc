// The VM consumers of a TAP device (issue 15): TapFrameHeader on a
// TunNetDevice in tap mode, QemuTapReader and VhostNetWorker feeding a
// GuestRxQueue, driven by hand on two ns-3 nodes (node 0: the host with the
// tap device and the backend; node 1: where the guest's stack listens, a
// UDP socket counting what NAPI handed up). Every expected value is worked
// out from the kernel/QEMU code the model headers cite, not from the model:
//
//   vhost-net handle_rx(): vhost_net_buf_produce() takes min(64, ring) entries
//     at once; done_idx > VHOST_NET_BATCH (i.e. the 65th frame) signals the
//     guest, and so does the end of handle_rx(); no free guest buffer ->
//     stop, frames stay in rxq; the guest's refill kick restarts it.
//   nodrop-v8 + a batched consume: the wake comes inside the batch, after
//     size / 2 consumes since the stop.
//   QEMU tap_send(): one read() per frame; never reads while the NIC has no
//     free rx descriptor.
// Then whole runs: conservation, determinism, exit 2 for bad fields.
#include "test-p2p.h"
#include "test-support.h"

#include "gso-tag.h"
#include "qemu-tap-reader.h"
#include "tap-frame.h"
#include "tun-net-device.h"
#include "tun-policy.h"
#include "vhost-net-worker.h"
#include "vm-guest.h"

#include "ns3/double.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/socket.h"
#include "ns3/udp-socket-factory.h"
#include "ns3/uinteger.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

using namespace tunsim;
using ns3::MicroSeconds;
using ns3::MilliSeconds;
using ns3::NanoSeconds;
using ns3::Time;

namespace
{

constexpr uint16_t kPort = 1194;

class VmTest : public ::testing::Test
{
  protected:
    void SetUp() override { tunsim_test::ResetNs3(); }
    void TearDown() override
    {
        m_backend = nullptr;
        m_guest = nullptr;
        if (m_tap)
        {
            m_tap->Dispose();
            m_tap = nullptr;
        }
        m_stackSocket = nullptr;
        m_net.reset();
        tunsim_test::ResetNs3();
    }

    /// A tap device (ring `ring`, `policy`), a guest with `guestSize`
    /// buffers handing frames up at `guestCost` each, and a backend of
    /// type T costing `frameCost` per frame; no wake-up or IRQ latency.
    template <typename T>
    void Make(uint32_t ring, const std::string& policy, uint32_t guestSize, Time frameCost, Time guestCost,
              uint32_t refill = 16)
    {
        m_net = std::make_unique<tunsim_test::TwoNodes>("100Gbps", MicroSeconds(1));
        m_tap = ns3::CreateObject<TunNetDevice>();
        m_tap->Configure(CreateTunPolicy(policy), ring);
        m_tap->SetMode(TunMode::Tap);
        m_tap->SetHasQdisc(true);
        m_tap->TraceConnectWithoutContext("TxQueueWake", ns3::MakeCallback(&VmTest::OnWake, this));
        m_guest = ns3::CreateObject<GuestRxQueue>();
        m_guest->SetAttribute("Size", ns3::UintegerValue(guestSize));
        m_guest->SetAttribute("RefillBatch", ns3::UintegerValue(refill));
        m_guest->SetAttribute("PerFrameCost", ns3::TimeValue(guestCost));
        m_guest->SetAttribute("IrqLatency", ns3::TimeValue(Time(0)));
        m_backend = ns3::CreateObject<T>();
        m_backend->SetAttribute("FrameCost", ns3::TimeValue(frameCost));
        m_backend->SetAttribute("WakeupLatency", ns3::TimeValue(Time(0)));
        m_backend->Setup(m_tap, 0, ns3::InetSocketAddress(m_net->Address(0), kPort),
                         ns3::InetSocketAddress(m_net->Address(1), kPort), m_guest);
        m_net->Node(0)->AddApplication(m_backend);
        m_backend->SetStartTime(Time(0));
        m_stackSocket = ns3::Socket::CreateSocket(m_net->Node(1), ns3::UdpSocketFactory::GetTypeId());
        m_stackSocket->Bind(ns3::InetSocketAddress(ns3::Ipv4Address::GetAny(), kPort));
        m_stackSocket->SetRecvCallback(ns3::MakeCallback(&VmTest::OnStackRx, this));
    }

    /// tun_net_xmit() of `n` IP packets of `bytes` at `at`.
    void XmitAt(Time at, uint32_t n, uint32_t bytes = 1000)
    {
        ns3::Simulator::Schedule(at, [this, n, bytes]() {
            for (uint32_t i = 0; i < n; ++i)
            {
                m_tap->Send(ns3::Create<ns3::Packet>(bytes), ns3::Address(), 0x0800);
            }
        });
    }

    /// tun_net_xmit() of `n` GSO skbs of `segs` segments of `bytes` each at
    /// `at` (the segments of one skb in a row, as the qdisc hands them down).
    void XmitGsoAt(Time at, uint32_t n, uint32_t segs, uint32_t bytes = 1000)
    {
        ns3::Simulator::Schedule(at, [this, n, segs, bytes]() {
            for (uint32_t i = 0; i < n; ++i)
            {
                const uint64_t skb = GsoTag::Next();
                for (uint32_t k = 0; k < segs; ++k)
                {
                    auto p = ns3::Create<ns3::Packet>(bytes);
                    p->AddPacketTag(GsoTag(skb, segs));
                    m_tap->Send(p, ns3::Address(), 0x0800);
                }
            }
        });
    }

    /// Run until `t` and call `check` there.
    void At(Time t, std::function<void()> check) { ns3::Simulator::Schedule(t, check); }

    void Run(Time until)
    {
        ns3::Simulator::Stop(until);
        ns3::Simulator::Run();
    }

    uint32_t RingCount() const { return m_tap->GetQueue(0).Ring().Count(); }

    void OnWake(uint32_t) { m_wakeRing.push_back(RingCount()); }
    void OnStackRx(ns3::Ptr<ns3::Socket> s)
    {
        while (auto p = s->Recv())
        {
            m_stackBytes.push_back(p->GetSize());
            VnetFrameTag frame;
            if (p->PeekPacketTag(frame) && frame.Last())
            {
                ++m_frameEnds;
            }
        }
    }

    std::unique_ptr<tunsim_test::TwoNodes> m_net;
    ns3::Ptr<TunNetDevice> m_tap;
    ns3::Ptr<GuestRxQueue> m_guest;
    ns3::Ptr<VmBackend> m_backend;
    ns3::Ptr<ns3::Socket> m_stackSocket;
    std::vector<uint32_t> m_wakeRing;   ///< ring entries at each tx queue wake
    std::vector<uint32_t> m_stackBytes; ///< frames the guest's stack got
    uint32_t m_frameEnds = 0;           ///< segments marked as the end of a GSO frame
};

} // namespace

// ------------------------------------------------------------------ TAP mode

TEST(TapMode, EveryRingEntryCarriesAnEthernetHeaderAndWritesLoseIt)
{
    tunsim_test::ResetNs3();
    auto tap = ns3::CreateObject<TunNetDevice>();
    tap->Configure(CreateTunPolicy("drop"), 4);
    tap->SetMode(TunMode::Tap);
    std::vector<uint32_t> up;
    tap->SetReceiveCallback(ns3::NetDevice::ReceiveCallback(
        [&up](ns3::Ptr<ns3::NetDevice>, ns3::Ptr<const ns3::Packet> p, uint16_t, const ns3::Address&) {
            up.push_back(p->GetSize());
            return true;
        }));
    tap->Send(ns3::Create<ns3::Packet>(1500), ns3::Address(), 0x0800);
    ns3::Ptr<ns3::Packet> frame = tap->TunRingConsume(0);
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->GetSize(), 1514u) << "ETH_HLEN in front of the IP packet";
    EXPECT_EQ(tap->GetStats().txBytes, 1514u) << "tun_put_user() counts the frame";
    TapFrameHeader eth;
    frame->PeekHeader(eth);
    EXPECT_EQ(eth.EtherType(), 0x0800);
    tap->TunGetUser(frame);
    ASSERT_EQ(up.size(), 1u);
    EXPECT_EQ(up[0], 1500u) << "eth_type_trans() pulls the header before netif_rx()";
    EXPECT_EQ(tap->GetStats().rxBytes, 1514u);
    // The same ring and policy: a 4-entry ring drops the fifth frame.
    for (int i = 0; i < 5; ++i)
    {
        tap->Send(ns3::Create<ns3::Packet>(100), ns3::Address(), 0x0800);
    }
    EXPECT_EQ(tap->GetStats().txDropped, 1u);
    tap->Dispose();
    tunsim_test::ResetNs3();
}

// ------------------------------------------------------- tap with offloads

namespace
{

/// `segs` segments of `bytes`, tagged as one GSO skb.
std::vector<ns3::Ptr<ns3::Packet>>
GsoSkb(uint32_t segs, uint32_t bytes)
{
    std::vector<ns3::Ptr<ns3::Packet>> v;
    const uint64_t skb = GsoTag::Next();
    for (uint32_t k = 0; k < segs; ++k)
    {
        auto p = ns3::Create<ns3::Packet>(bytes);
        p->AddPacketTag(GsoTag(skb, segs));
        v.push_back(p);
    }
    return v;
}

} // namespace

TEST(TapOffloads, AGsoSkbIsOneRingEntryAndOneReadWithoutOffloadsOneEntryPerSegment)
{
    // TUNSETOFFLOAD: validate_xmit_skb() leaves the skb whole, tun_net_xmit()
    // produces it once, tun_put_user() counts one packet of all its bytes.
    for (bool offloads : {true, false})
    {
        SCOPED_TRACE(offloads ? "offloads" : "no offloads");
        tunsim_test::ResetNs3();
        auto tap = ns3::CreateObject<TunNetDevice>();
        tap->Configure(CreateTunPolicy("drop"), 8);
        tap->SetMode(TunMode::Tap);
        tap->SetOffloads(offloads);
        uint32_t dropTraces = 0;
        tap->TraceConnectWithoutContext(
            "Drop", ns3::Callback<void, ns3::Ptr<const ns3::Packet>, TunDropReason>(
                        [&dropTraces](ns3::Ptr<const ns3::Packet>, TunDropReason) { ++dropTraces; }));
        for (auto& p : GsoSkb(3, 1000))
        {
            tap->Send(p, ns3::Address(), 0x0800);
        }
        tap->Send(ns3::Create<ns3::Packet>(500), ns3::Address(), 0x0800);
        const TunQueue& q = tap->GetQueue(0);
        EXPECT_EQ(q.Ring().Count(), offloads ? 2u : 4u);
        EXPECT_EQ(q.ExtraSegments(), offloads ? 2u : 0u);
        EXPECT_EQ(tap->GetStats().xmitCalls, offloads ? 2u : 4u) << "one tun_net_xmit() per skb";
        std::vector<ns3::Ptr<ns3::Packet>> rest;
        ns3::Ptr<ns3::Packet> head = tap->TunRingConsume(0, &rest);
        ASSERT_TRUE(head);
        EXPECT_EQ(rest.size(), offloads ? 2u : 0u);
        EXPECT_EQ(tap->GetStats().txPackets, 1u);
        EXPECT_EQ(tap->GetStats().txBytes, offloads ? 3u * 1014 : 1014u);
        EXPECT_EQ(q.ExtraSegments(), 0u);
        if (offloads)
        {
            // A one-entry ring: the next skb is refused whole, one tx_dropped,
            // every segment reported to the ledger.
            tap->SetTxQueueLen(1);
            ASSERT_EQ(q.Ring().Count(), 1u) << "the 500-byte packet stays";
            for (auto& p : GsoSkb(4, 1000))
            {
                tap->Send(p, ns3::Address(), 0x0800);
            }
            EXPECT_EQ(tap->GetStats().txDropped, 1u);
            EXPECT_EQ(dropTraces, 4u);
            EXPECT_EQ(q.ExtraSegments(), 0u);
        }
        tap->Dispose();
    }
    tunsim_test::ResetNs3();
}

TEST(TapOffloads, AStopAfterTheFirstSegmentStillLetsTheSkbsOtherSegmentsJoinItsEntry)
{
    // nodrop-v8 with a qdisc stops the queue when a produce fills the ring.
    // A one-slot ring and a 3-segment skb: the head's produce fills it and
    // stops the queue at once (the ring is as after the whole skb); the
    // other two segments (here handed down directly, in a run they wait in
    // the qdisc) join the same entry: nothing dropped, one slot used. The
    // next skb's head finds the ring full.
    tunsim_test::ResetNs3();
    auto tap = ns3::CreateObject<TunNetDevice>();
    tap->Configure(CreateTunPolicy("nodrop-v8"), 1);
    tap->SetMode(TunMode::Tap);
    tap->SetHasQdisc(true);
    tap->SetOffloads(true);
    auto skb = GsoSkb(3, 1000);
    tap->Send(skb[0], ns3::Address(), 0x0800);
    EXPECT_TRUE(tap->GetQueue(0).IsStopped()) << "the produce filled the ring";
    tap->Send(skb[1], ns3::Address(), 0x0800);
    tap->Send(skb[2], ns3::Address(), 0x0800);
    EXPECT_EQ(tap->GetQueue(0).Ring().Count(), 1u);
    EXPECT_EQ(tap->GetQueue(0).ExtraSegments(), 2u);
    EXPECT_EQ(tap->GetStats().txDropped, 0u);
    EXPECT_EQ(tap->GetStats().xmitCalls, 1u);
    std::vector<ns3::Ptr<ns3::Packet>> rest;
    ASSERT_TRUE(tap->TunRingConsume(0, &rest));
    EXPECT_EQ(rest.size(), 2u) << "one read takes the whole skb";
    tap->Dispose();
    tunsim_test::ResetNs3();
}

TEST_F(VmTest, VhostWithOffloadsCopiesGsoFramesIntoMergeableBuffersAndStopsWhenTooFewAreLeft)
{
    // 30 skbs of 45 x 1000 B (1014 B framed): 45 630 B + the 12-byte
    // virtio_net_hdr in 4096-byte buffers = 12 buffers a frame. One batch
    // takes all 30 entries; 21 frames fill 252 of 256 buffers, the 22nd
    // needs 12 > 4: stop with 9 frames (405 segments) in hand. done_idx
    // grows by 12 a frame: > 64 at the 6th frame -> the first signal.
    Make<VhostNetWorker>(1000, "drop", 256, MicroSeconds(1), MilliSeconds(10), 64);
    m_guest->SetAttribute("HdrBytes", ns3::UintegerValue(12));
    m_tap->SetOffloads(true);
    auto* w = dynamic_cast<VhostNetWorker*>(ns3::PeekPointer(m_backend));
    XmitGsoAt(Time(0), 30, 45);
    At(NanoSeconds(500), [&]() {
        EXPECT_EQ(RingCount(), 0u);
        EXPECT_EQ(w->Batches(), 1u);
        EXPECT_EQ(w->InHand(), 30u * 45) << "segments in the worker's batch";
    });
    At(NanoSeconds(5500), [&]() { EXPECT_EQ(w->Signals(), 0u); });
    At(NanoSeconds(6500), [&]() { EXPECT_EQ(w->Signals(), 1u) << "done_idx 72 > 64"; });
    At(MicroSeconds(100), [&]() {
        EXPECT_EQ(m_guest->Free(), 4u);
        EXPECT_EQ(w->InHand(), 9u * 45);
        EXPECT_EQ(m_guest->Queued(), 21u * 45) << "21 frames in the guest, the first in its poll";
        EXPECT_EQ(w->GetStats().sndbufBlocks, 1u);
    });
    Run(MilliSeconds(400));
    EXPECT_EQ(m_stackBytes.size(), 30u * 45) << "every segment reaches the guest's stack";
    uint64_t bytes = 0;
    for (uint32_t b : m_stackBytes)
    {
        bytes += b;
    }
    EXPECT_EQ(bytes, 30u * 45 * 1014) << "and every byte";
    EXPECT_EQ(m_tap->GetStats().txBytes, bytes);
    EXPECT_EQ(m_frameEnds, 30u) << "each frame's last segment ends the guest's skb";
    EXPECT_EQ(m_tap->GetStats().txPackets, 30u);
    EXPECT_EQ(m_guest->GetStats().frames, 30u);
    EXPECT_EQ(w->GetStats().packetsRead, 30u);
}

// ---------------------------------------------------------------- vhost-net

TEST_F(VmTest, VhostTakes64AtOnceFromA100EntryBacklogAndSignalsAtThe65thFrame)
{
    // 100 frames at t=0, 1 us per copy, the guest slow (1 ms per frame) so
    // nothing is handed up early. handle_rx at t=0: rxq <- 64, ring 36.
    // Copies end at 1, 2, ... us; at 64 us rxq is empty and the next 36 come
    // in one batch; the 65th copy (65 us) makes done_idx 65 > 64: signal.
    Make<VhostNetWorker>(1000, "drop", 256, MicroSeconds(1), MilliSeconds(1));
    auto* w = dynamic_cast<VhostNetWorker*>(ns3::PeekPointer(m_backend));
    XmitAt(Time(0), 100);
    At(NanoSeconds(500), [&]() {
        EXPECT_EQ(RingCount(), 36u);
        EXPECT_EQ(w->InHand(), 64u);
        EXPECT_EQ(w->Batches(), 1u);
    });
    At(NanoSeconds(64500), [&]() {
        EXPECT_EQ(RingCount(), 0u) << "the second batch took the other 36";
        EXPECT_EQ(w->Batches(), 2u);
        EXPECT_EQ(w->Signals(), 0u) << "done_idx is 64, not > 64";
        EXPECT_EQ(m_guest->Queued(), 64u);
    });
    At(NanoSeconds(65500), [&]() { EXPECT_EQ(w->Signals(), 1u); });
    At(NanoSeconds(100500), [&]() {
        EXPECT_EQ(w->Signals(), 2u) << "the empty ring ends handle_rx with a signal";
        EXPECT_EQ(w->GetStats().sleeps, 1u);
    });
    Run(MilliSeconds(120));
    EXPECT_EQ(m_stackBytes.size(), 100u);
    EXPECT_EQ(m_stackBytes[0], 1014u) << "the guest gets the frame";
    EXPECT_EQ(w->GetStats().packetsRead, 100u);
    EXPECT_EQ(w->GetStats().reads, 2u);
}

TEST_F(VmTest, VhostStopsOnAFullVirtqueueKeepsTheFramesAndRestartsOnTheRefillKick)
{
    // 40 frames, a 16-buffer virtqueue, 1 us per copy, guest 1 ms per frame,
    // refill every 4. rxq <- 40; 16 copies by 16 us; the 17th finds no buffer:
    // signal, stop with 24 in rxq. The guest polls at 16 us, hands up frame
    // 4 at 4.016 ms and gives 4 buffers back: the worker copies 4 more.
    Make<VhostNetWorker>(1000, "drop", 16, MicroSeconds(1), MilliSeconds(1), 4);
    XmitAt(Time(0), 40);
    At(MicroSeconds(2000), [&]() {
        EXPECT_EQ(m_backend->InHand(), 24u);
        EXPECT_EQ(m_guest->Free(), 0u);
        EXPECT_EQ(m_backend->GetStats().sndbufBlocks, 1u) << "one stop on the full virtqueue";
        EXPECT_EQ(m_stackBytes.size(), 1u);
    });
    At(MicroSeconds(4030), [&]() {
        EXPECT_EQ(m_stackBytes.size(), 4u);
        EXPECT_EQ(m_backend->InHand(), 20u) << "4 buffers back, 4 frames copied";
        EXPECT_EQ(m_backend->GetStats().sndbufBlocks, 2u);
    });
    Run(MilliSeconds(60));
    EXPECT_EQ(m_stackBytes.size(), 40u) << "nothing lost at the guest";
    EXPECT_EQ(m_tap->GetStats().txDropped, 0u);
}

TEST_F(VmTest, NodropV8WakesInsideTheBatchedConsumeAfterHalfTheRing)
{
    // Ring 8, nodrop-v8 with a qdisc: 8 produces fill it and stop the queue
    // (the queue is stopped, the caller does not send a ninth). The worker's
    // batch takes all 8; the wake comes after the 4th consume, with 4
    // entries left in the ring.
    Make<VhostNetWorker>(8, "nodrop-v8", 256, MicroSeconds(1), MicroSeconds(1));
    XmitAt(Time(0), 8);
    At(NanoSeconds(500), [&]() {
        EXPECT_EQ(m_backend->InHand(), 8u);
        EXPECT_FALSE(m_tap->GetQueue(0).IsStopped());
    });
    Run(MilliSeconds(1));
    ASSERT_EQ(m_wakeRing.size(), 1u);
    EXPECT_EQ(m_wakeRing[0], 4u) << "woken after 4 of the 8 consumes";
    EXPECT_EQ(m_tap->GetStats().txDropped, 0u);
    EXPECT_EQ(m_stackBytes.size(), 8u);
}

// --------------------------------------------------------------------- QEMU

TEST_F(VmTest, QemuReadsOneFramePerReadAndNeverWhileTheNicHasNoDescriptor)
{
    // 10 frames, 4 rx descriptors, 2 us per frame, guest 100 us per frame,
    // refill every 2: reads at 0, 2, 4, 6 us, then no descriptor -> the tap
    // fd is not polled; 6 frames stay in the ring (not in QEMU).
    Make<QemuTapReader>(1000, "drop", 4, MicroSeconds(2), MicroSeconds(100), 2);
    XmitAt(Time(0), 10);
    At(MicroSeconds(50), [&]() {
        EXPECT_EQ(m_backend->GetStats().reads, 4u);
        EXPECT_EQ(RingCount(), 6u);
        EXPECT_EQ(m_backend->InHand(), 0u);
        EXPECT_EQ(m_backend->GetStats().sndbufBlocks, 1u);
    });
    Run(MilliSeconds(5));
    EXPECT_EQ(m_backend->GetStats().reads, 10u) << "one read() per frame";
    EXPECT_EQ(m_stackBytes.size(), 10u);
    EXPECT_EQ(m_tap->GetStats().txDropped, 0u);
}

TEST_F(VmTest, ABackendOffItsCpuFinishesTheFrameInHandThatMuchLater)
{
    // QEMU at 2 us a frame, 10 frames at t=0; the thread loses its CPU at
    // 5 us for 100 us (reader.stalls): frame 3 (started at 4 us) ends at
    // 106 us instead of 6, frames 4..10 follow every 2 us (the 10th read
    // at 118 us); nothing else moves meanwhile.
    Make<QemuTapReader>(1000, "drop", 256, MicroSeconds(2), MicroSeconds(1));
    m_backend->AddStall(MicroSeconds(5), MicroSeconds(100));
    XmitAt(Time(0), 10);
    At(MicroSeconds(104), [&]() {
        EXPECT_EQ(m_backend->GetStats().reads, 3u);
        EXPECT_EQ(m_stackBytes.size(), 2u);
        EXPECT_EQ(RingCount(), 7u);
    });
    At(MicroSeconds(117), [&]() { EXPECT_EQ(m_backend->GetStats().reads, 9u); });
    At(MicroSeconds(119), [&]() { EXPECT_EQ(m_backend->GetStats().reads, 10u); });
    Run(MilliSeconds(1));
    EXPECT_EQ(m_stackBytes.size(), 10u);
}

// -------------------------------------------------------------- whole runs

namespace
{

nlohmann::json
RunVm(const std::string& file, const std::string& sets)
{
    const auto dir = tunsim_test::FreshTestDir("vm-");
    const auto out = dir / "r";
    auto o = tunsim_test::Tunsim("run " + std::string(TUNSIM_SOURCE_DIR) + "/scenarios/" + file + " " + sets +
                                 " --out " + out.string());
    EXPECT_EQ(o.code, 0) << o.out;
    return nlohmann::json::parse(tunsim_test::ReadText(out / "result.json"));
}

} // namespace

TEST(VmRuns, UdpFloodLosesOnTheTapUnderDropAndNowhereUnderNodropAndConserves)
{
    const std::string udp = "--set duration_s=0.2 --set flows='[{\"kind\":\"udp\",\"mode\":\"flood\",\"payload_bytes\":1400,"
                            "\"send_cost_ns\":500}]'";
    for (const char* file : {"vm-tap-qemu.json", "vm-tap-vhost.json"})
    {
        SCOPED_TRACE(file);
        auto drop = RunVm(file, udp + " --set tun.policy=drop");
        auto nodrop = RunVm(file, udp + " --set tun.policy=nodrop-v8");
        for (const auto* r : {&drop, &nodrop})
        {
            const auto& f = (*r)["conservation"]["forward"];
            EXPECT_TRUE(f["ok"].get<bool>()) << f.dump();
        }
        // The sender (2 Mpps) outruns either consumer (QEMU 284 kframe/s,
        // the vhost-net guest 1 Mframe/s): mainline drops on the tap ring.
        EXPECT_GT(drop["conservation"]["forward"]["dropped_by_place"].value("tun0_ring/FULL_RING", 0u), 1000u);
        EXPECT_EQ(nodrop["conservation"]["forward"]["dropped"].get<uint64_t>(), 0u);
        EXPECT_GT(nodrop["flows"][0]["delivered_packets"].get<uint64_t>(), 1000u);
    }
}

TEST(VmRuns, VhostWithOffloadsCarriesGsoFramesOneEntryAndOneGuestAckEachAndConserves)
{
    // The same 20 ms of bulk TCP into the vhost-net guest with the tap's
    // offloads as QEMU sets them for virtio-net (auto: on) and without.
    auto on = RunVm("vm-tap-vhost.json", "--set duration_s=0.02");
    auto off = RunVm("vm-tap-vhost.json", "--set duration_s=0.02 --set vm.offloads=off --set vm.gro=false");
    auto offGro = RunVm("vm-tap-vhost.json", "--set duration_s=0.02 --set vm.offloads=off");
    for (const auto* r : {&on, &off, &offGro})
    {
        EXPECT_TRUE((*r)["conservation"]["ok"].get<bool>()) << (*r)["conservation"].dump();
        EXPECT_EQ((*r)["conservation"]["forward"]["dropped"].get<uint64_t>(), 0u);
    }
    auto segs = [](const nlohmann::json& r) { return r["conservation"]["forward"]["delivered"].get<double>(); };
    auto entries = [](const nlohmann::json& r) { return r["tun"]["tx_packets"].get<double>(); };
    auto acks = [](const nlohmann::json& r) { return r["conservation"]["reverse"]["sent"].get<double>(); };
    // Without offloads every segment is a ring entry; without GRO the
    // guest ACKs every second one (more in quick-ACK mode).
    EXPECT_NEAR(entries(off), segs(off), 2000) << "one entry per segment";
    EXPECT_GT(acks(off), segs(off) / 2.5);
    // With GRO (the default, as in Linux) a poll's consecutive segments go
    // up as one skb of up to 45, acknowledged once: vhost-net's batches of
    // up to 64 frames make far fewer ACKs.
    EXPECT_NEAR(entries(offGro), segs(offGro), 2000);
    EXPECT_LT(acks(offGro), segs(offGro) / 5);
    EXPECT_GT(acks(offGro), segs(offGro) / 46) << "no skb holds more than 45 segments";
    // With offloads one entry per GSO skb (tcp_tso_autosize(): up to 45
    // segments at these rates) and one guest ACK per frame.
    EXPECT_GT(segs(on) / entries(on), 10.0);
    EXPECT_LT(acks(on), 1.5 * entries(on));
    EXPECT_EQ(on["scenario"]["vm"]["offloads"], "auto");
}

TEST(VmRuns, VhostGsoFramesAndGroSegmentsOfOneFlowReachTheGuestInOrder)
{
    // vhost-net with offloads at 120 ms: most frames are GSO skbs, a few
    // single segments (a short skb at a burst's end) go through the guest's
    // GRO. A GSO skb of the flow completes its held skb first (tcp_gro_receive()
    // flushes it): with GRO on the guest sees no hole, sends no SACK, and the
    // flow runs as with GRO off. (Before the flush, a held segment was
    // overtaken: 9 recoveries, 75 retransmissions and no drop in 3 s.)
    auto on = RunVm("vm-tap-vhost.json", "--set duration_s=3 --set underlay.delay_ms=60");
    auto off = RunVm("vm-tap-vhost.json", "--set duration_s=3 --set underlay.delay_ms=60 --set vm.gro=false");
    EXPECT_TRUE(on["conservation"]["ok"].get<bool>());
    EXPECT_EQ(on["conservation"]["forward"]["dropped"].get<uint64_t>(), 0u);
    EXPECT_EQ(on["flows"][0]["retransmits"].get<uint64_t>(), 0u);
    EXPECT_EQ(on["flows"][0]["ca_events"]["recoveries"].get<uint64_t>(), 0u);
    EXPECT_NEAR(on["flows"][0]["goodput_mbps"].get<double>(), off["flows"][0]["goodput_mbps"].get<double>(),
                0.02 * off["flows"][0]["goodput_mbps"].get<double>());
}

TEST(VmRuns, HostXmitCostPutsOnePacketIntoTheRingPerCost)
{
    // A UDP flood (1 us per send) into the QEMU guest for 0.1 s. The host's
    // transmit CPU takes vm.host_xmit_ns per packet, so the device gets one
    // packet per cost and the qdisc holds the rest: 10 us -> 0.1 s / 10 us =
    // 10000 transmits, each taken (the e1000 preset: 3.52 us per received
    // frame; guest 1 us) before the
    // next comes: one entry at most, no drop. At no cost the flood reaches
    // the 10-entry ring faster than QEMU reads it and mainline drops.
    const std::string udp =
        "--set duration_s=0.1 --set tun.ring_size=10 --set 'flows=[{\"kind\":\"udp\",\"mode\":\"flood\","
        "\"payload_bytes\":1400,\"send_cost_ns\":1000}]'";
    auto paced = RunVm("vm-tap-qemu.json", udp + " --set vm.host_xmit_ns=10000");
    auto free = RunVm("vm-tap-qemu.json", udp);
    EXPECT_NEAR(paced["tun"]["xmit_calls"].get<double>(), 10000, 1);
    EXPECT_EQ(paced["tun"]["ring_occupancy"]["max"].get<uint32_t>(), 1u);
    EXPECT_EQ(paced["tun"]["tx_dropped"].get<uint64_t>(), 0u);
    EXPECT_GT(paced["conservation"]["forward"]["still_queued_by_place"]["tun0_qdisc"].get<uint64_t>(), 1000u);
    EXPECT_GT(free["tun"]["tx_dropped"].get<uint64_t>(), 1000u);
    // Faster than QEMU (2 us) with NODROP: the policy's stop and the CPU's
    // busy time both hold the qdisc; nothing is lost, the ring fills, and
    // the device takes what QEMU reads (one per 3.52 us: 28 409 in 0.1 s,
    // plus the ring's 10).
    auto nodrop = RunVm("vm-tap-qemu.json", udp + " --set vm.host_xmit_ns=2000 --set tun.policy=nodrop-v8");
    EXPECT_EQ(nodrop["tun"]["tx_dropped"].get<uint64_t>(), 0u);
    EXPECT_GT(nodrop["tun"]["txq"]["stop_count"].get<uint64_t>(), 0u);
    EXPECT_NEAR(nodrop["tun"]["xmit_calls"].get<double>(), 0.1 / 3.52e-6 + 10, 15);
    for (const auto* r : {&paced, &free, &nodrop})
    {
        EXPECT_TRUE((*r)["conservation"]["ok"].get<bool>()) << (*r)["conservation"].dump();
    }
    // VPN readers have their own transmit costs: the field is refused there.
    auto vpn = tunsim_test::Tunsim("validate " + std::string(TUNSIM_SOURCE_DIR) +
                                   "/scenarios/udp-flood.json --set vm.host_xmit_ns=5");
    EXPECT_EQ(vpn.code, 2);
    EXPECT_NE(vpn.out.find("vm.host_xmit_ns"), std::string::npos) << vpn.out;
}

TEST(VmRuns, SameScenarioSameSeedGivesTheSameResult)
{
    auto a = RunVm("vm-tap-vhost.json", "--set duration_s=0.1");
    auto b = RunVm("vm-tap-vhost.json", "--set duration_s=0.1");
    a.erase("wall");
    b.erase("wall");
    EXPECT_EQ(a.dump(), b.dump());
}

TEST(VmRuns, BadFieldsExitTwoNamingTheField)
{
    const std::string s = std::string(TUNSIM_SOURCE_DIR) + "/scenarios/vm-tap-qemu.json";
    auto mode = tunsim_test::Tunsim("validate " + s + " --set tun.mode=tun");
    EXPECT_EQ(mode.code, 2);
    EXPECT_NE(mode.out.find("reader.kind"), std::string::npos) << mode.out;
    auto word = tunsim_test::Tunsim("validate " + s + " --set tun.mode=tep");
    EXPECT_EQ(word.code, 2);
    EXPECT_NE(word.out.find("tun.mode"), std::string::npos) << word.out;
    auto kind = tunsim_test::Tunsim("validate " + s + " --set reader.kind=kvm");
    EXPECT_EQ(kind.code, 2);
    EXPECT_NE(kind.out.find("reader.kind"), std::string::npos) << kind.out;
    auto nic = tunsim_test::Tunsim("validate " + s + " --set reader.kind=vhost-net --set vm.nic=e1000");
    EXPECT_EQ(nic.code, 2);
    EXPECT_NE(nic.out.find("vm.nic"), std::string::npos) << nic.out;
    auto size = tunsim_test::Tunsim("validate " + s + " --set vm.guest_rx_size=0");
    EXPECT_EQ(size.code, 2);
    EXPECT_NE(size.out.find("vm.guest_rx_size"), std::string::npos) << size.out;
    // vm.offloads: a word it knows, never on for e1000, only for a VM backend.
    for (const std::string& bad : {std::string("--set vm.offloads=tso"), std::string("--set vm.offloads=on"),
                                   std::string("--set reader.kind=vpn --set vm.offloads=off")})
    {
        SCOPED_TRACE(bad);
        auto o = tunsim_test::Tunsim("validate " + s + " " + bad);
        EXPECT_EQ(o.code, 2);
        EXPECT_NE(o.out.find("vm.offloads"), std::string::npos) << o.out;
    }
    auto ok = tunsim_test::Tunsim("validate " + s + " --set vm.nic=virtio-net --set vm.offloads=on");
    EXPECT_EQ(ok.code, 0) << ok.out;
}

TEST(VmRuns, TapUnderTheVpnReaderCarriesFourteenBytesMorePerFrameAndConserves)
{
    // The VPN process on a tap device (OpenVPN's dev tap): the same packets
    // pass, each ring entry 14 bytes longer in tx_bytes.
    const std::string short_run = "--set duration_s=0.05";
    auto tun = RunVm("udp-flood.json", short_run);
    auto tap = RunVm("udp-flood.json", short_run + " --set tun.mode=tap");
    const uint64_t n = tun["tun"]["tx_packets"].get<uint64_t>();
    ASSERT_GT(n, 0u);
    EXPECT_EQ(tap["tun"]["tx_packets"].get<uint64_t>(), n);
    EXPECT_EQ(tap["tun"]["tx_bytes"].get<uint64_t>(), tun["tun"]["tx_bytes"].get<uint64_t>() + 14 * n);
    EXPECT_TRUE(tap["conservation"]["ok"].get<bool>());
    EXPECT_EQ(tap["flows"][0]["delivered_packets"], tun["flows"][0]["delivered_packets"]);
}
