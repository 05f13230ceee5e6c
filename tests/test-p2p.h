// What the model tests that need a network share: two nodes with an IPv4
// stack joined by one point-to-point link (no tun, nothing from sim/), and
// the sock_wfree() points of that link.
#pragma once

#include "socket-account.h"

#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-address-helper.h"
#include "ns3/ipv4-interface-container.h"
#include "ns3/net-device-container.h"
#include "ns3/node-container.h"
#include "ns3/point-to-point-helper.h"
#include "ns3/point-to-point-net-device.h"
#include "ns3/queue-disc.h"
#include "ns3/queue-size.h"
#include "ns3/rng-seed-manager.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/traffic-control-helper.h"
#include "ns3/traffic-control-layer.h"

#include <cstdint>
#include <string>

namespace tunsim_test
{

/// Node 0 (10.0.0.1) --- rate, delay --- node 1 (10.0.0.2). Each device has a
/// FIFO qdisc of `qdiscPackets` (instead of ns-3's default fq_codel, whose
/// CoDel drops would blur the closed forms) above the device's own
/// DropTail queue of 100 packets.
struct TwoNodes
{
    ns3::NodeContainer nodes;
    ns3::NetDeviceContainer devices;
    ns3::Ipv4InterfaceContainer interfaces;
    uint64_t drops = 0; ///< qdisc and device queue drops, both directions

    TwoNodes(const TwoNodes&) = delete; // the trace sinks hold `this`
    TwoNodes& operator=(const TwoNodes&) = delete;

    ns3::Ptr<ns3::Node> Node(uint32_t i) const { return nodes.Get(i); }
    ns3::Ptr<ns3::PointToPointNetDevice> Device(uint32_t i) const
    {
        return ns3::DynamicCast<ns3::PointToPointNetDevice>(devices.Get(i));
    }
    ns3::Ipv4Address Address(uint32_t i) const { return interfaces.GetAddress(i); }

    TwoNodes(const std::string& rate, ns3::Time delay, uint32_t qdiscPackets = 1000)
    {
        nodes.Create(2);
        ns3::PointToPointHelper p2p;
        p2p.SetDeviceAttribute("DataRate", ns3::StringValue(rate));
        p2p.SetChannelAttribute("Delay", ns3::TimeValue(delay));
        devices = p2p.Install(nodes);
        ns3::InternetStackHelper stack;
        stack.Install(nodes);
        ns3::TrafficControlHelper tch;
        tch.SetRootQueueDisc("ns3::FifoQueueDisc",
                             "MaxSize",
                             ns3::QueueSizeValue(ns3::QueueSize(ns3::QueueSizeUnit::PACKETS, qdiscPackets)));
        tch.Install(devices);
        ns3::Ipv4AddressHelper ip;
        ip.SetBase("10.0.0.0", "255.255.255.0");
        interfaces = ip.Assign(devices);
    }

    /// sock_wfree() for whatever socket owns an skb: at the NIC's TX
    /// completion (PhyTxEnd) and wherever the link frees one (qdisc drop,
    /// device queue drop), on both nodes. Drops are counted.
    void ReleaseAtNic()
    {
        for (uint32_t i = 0; i < 2; ++i)
        {
            Device(i)->TraceConnectWithoutContext(
                "PhyTxEnd",
                ns3::MakeCallback(&TwoNodes::Release));
            Device(i)->TraceConnectWithoutContext("MacTxDrop", ns3::MakeCallback(&TwoNodes::Drop, this));
            auto qdisc = Node(i)->GetObject<ns3::TrafficControlLayer>()->GetRootQueueDiscOnDevice(Device(i));
            qdisc->TraceConnectWithoutContext("Drop", ns3::MakeCallback(&TwoNodes::QdiscDrop, this));
        }
    }

  private:
    static void Release(ns3::Ptr<const ns3::Packet> p) { tunsim::SocketAccountTable::Orphan(p); }
    void Drop(ns3::Ptr<const ns3::Packet> p)
    {
        ++drops;
        tunsim::SocketAccountTable::Orphan(p);
    }
    void QdiscDrop(ns3::Ptr<const ns3::QueueDiscItem> item)
    {
        ++drops;
        tunsim::SocketAccountTable::Orphan(item->GetPacket());
    }
};

/// Fresh ns-3 state for a test: fixed seed and run, no accounts.
inline void
ResetNs3()
{
    ns3::Simulator::Destroy();
    tunsim::SocketAccountTable::Reset();
    ns3::RngSeedManager::SetSeed(1);
    ns3::RngSeedManager::SetRun(1);
}

} // namespace tunsim_test
