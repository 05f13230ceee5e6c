// VpnReader's two directions: the VPN's UDP socket (sk_sndbuf blocking),
// encapsulation, and the reverse path's write() into tun with the transmits
// it runs (fixture: vpn-reader-test.h).
#include "vpn-reader-test.h"

using namespace tunsim;
using ns3::MicroSeconds;
using ns3::MilliSeconds;
using ns3::NanoSeconds;
using ns3::Time;
using tunsim_test::kPort;
using tunsim_test::ReaderTest;

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
