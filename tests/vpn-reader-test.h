// The VpnReader test fixture (tests/test_vpn_reader*.cc): the VPN process's
// read loop on a real TunNetDevice (policy "drop"), sending to a UDP socket
// on the other end of a point-to-point underlay. Packets are put into the
// ring by calling TunNetDevice::Send() by hand (tun_net_xmit() from the
// qdisc); the reader's reads are seen on the device's RingOccupancy trace
// (every consume lowers the count by one).
//
// Every expected time and count in those files is a hand-worked trace of the
// loop vpn-reader.h describes: a read costs PerPacketCost + NsPerByte * bytes
// of CPU and the packet is sent when that is done, then the next read
// follows at once; an empty ring puts the process to sleep and
// sk_data_ready() wakes it WakeupLatency (or DeepWakeupLatency) later;
// sendto() blocks while the UDP socket's sk_wmem_alloc >= sk_sndbuf and is
// woken once it drops below sk_sndbuf >> 1 (sock_writeable()), the account
// being released at the underlay NIC's TX completion.
#pragma once

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

namespace tunsim_test
{

using namespace tunsim;
using ns3::MicroSeconds;
using ns3::MilliSeconds;
using ns3::NanoSeconds;
using ns3::Time;


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

} // namespace tunsim_test
