// UnderlayEndpoint (models/underlay-endpoint.*) carries the tunnel's UDP
// datagrams between the VPN processes and the underlay NIC's qdisc without
// ns-3's UDP and IPv4 layers (Bypass, the default). It claims to hand the
// qdisc the same packets, headers and tags at the same instants as an ns-3
// UdpSocket does, and to deliver what the NIC receives as the socket would:
// whole runs with Bypass on and off must be the same, field for field and
// event for event -- TCP through ring drops, a flood that overflows an
// fq_codel on the underlay NIC (hashing the outer headers, dropping there),
// several reader queues on several ports, and the VM backends over TAP.
#include "scenario/scenario.h"
#include "underlay-endpoint.h"
#include "whole-run.h"

#include "ns3/boolean.h"
#include "ns3/config.h"
#include "ns3/ipv4-l3-protocol.h"
#include "ns3/point-to-point-net-device.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace tunsim;
using nlohmann::json;

namespace
{

struct BypassRun
{
    json result;
    uint64_t events = 0;
    uint64_t ipv4Rx = 0; // packets ns-3's Ipv4L3Protocol received, on either node
    uint64_t wire = 0;   // datagrams the underlay NICs received
    bool bypassed = false;
};

BypassRun
RunWithBypass(const Scenario& s, bool bypass)
{
    BypassRun r;
    const tunsim_test::WholeRun w = tunsim_test::RunWhole(
        s, [&]() { ns3::Config::SetDefault("tunsim::UnderlayEndpoint::Bypass", ns3::BooleanValue(bypass)); },
        [&r](Testbed& tb) {
            for (ns3::Ptr<ns3::Node> node : {tb.path.client, tb.path.server})
            {
                node->GetObject<ns3::Ipv4L3Protocol>()->TraceConnectWithoutContext(
                    "Rx", ns3::Callback<void, ns3::Ptr<const ns3::Packet>, ns3::Ptr<ns3::Ipv4>, uint32_t>(
                              [&r](ns3::Ptr<const ns3::Packet>, ns3::Ptr<ns3::Ipv4>, uint32_t) { ++r.ipv4Rx; }));
            }
            for (ns3::Ptr<ns3::PointToPointNetDevice> nic : {tb.path.clientNic, tb.path.serverNic})
            {
                nic->TraceConnectWithoutContext("PhyRxEnd", ns3::Callback<void, ns3::Ptr<const ns3::Packet>>(
                                                                [&r](ns3::Ptr<const ns3::Packet>) { ++r.wire; }));
            }
        },
        [&r](Testbed& tb) { r.bypassed = tb.path.server->GetObject<UnderlayDemux>() != nullptr; });
    ns3::Config::SetDefault("tunsim::UnderlayEndpoint::Bypass", ns3::BooleanValue(true));
    r.result = w.result;
    r.events = w.events;
    return r;
}

/// Both ways give the same run, and the bypass did skip ns-3's IPv4 (its
/// receive trace saw only the inner packets, not one datagram of the
/// underlay), where the stock run went through it.
BypassRun
ExpectSameRunEitherWay(const std::string& file, const std::vector<std::string>& sets)
{
    const Scenario s = LoadScenario(std::string(TUNSIM_SOURCE_DIR) + "/scenarios/" + file, sets);
    const BypassRun stock = RunWithBypass(s, false);
    const BypassRun bypass = RunWithBypass(s, true);
    EXPECT_EQ(stock.result.dump(), bypass.result.dump());
    EXPECT_EQ(stock.events, bypass.events); // not one event more or less
    EXPECT_FALSE(stock.bypassed);
    EXPECT_TRUE(bypass.bypassed);
    EXPECT_GT(stock.wire, 100u);
    EXPECT_EQ(stock.wire, bypass.wire);
    EXPECT_EQ(stock.ipv4Rx - bypass.ipv4Rx, stock.wire); // exactly the underlay's datagrams skipped IPv4
    return bypass;
}

} // namespace

TEST(UnderlayEndpoint, TcpThroughRingDropsGivesTheSameRun)
{
    const BypassRun r = ExpectSameRunEitherWay("germany-usa-tcp.json",
                                         {"duration_s=3", "tun.ring_size=25", "underlay.delay_ms=30"});
    EXPECT_GT(r.result["tun"]["tx_dropped"].get<uint64_t>(), 0u);
}

TEST(UnderlayEndpoint, FloodIntoAFullFqCodelOnTheNicGivesTheSameRun)
{
    const BypassRun r = ExpectSameRunEitherWay("udp-flood.json", {"duration_s=0.3", "underlay.qdisc=fq_codel",
                                                            "underlay.rate_mbps=200",
                                                            "underlay.queue_packets=2", "reader.sndbuf_bytes=4000000"});
    EXPECT_GT(r.result["underlay"]["client_qdisc_drops"].get<uint64_t>(), 0u); // the NIC's qdisc dropped
}

TEST(UnderlayEndpoint, ReadersOnFourQueuesGiveTheSameRun)
{
    ExpectSameRunEitherWay("multistream.json", {"duration_s=0.05", "tun.queues=4"});
}

TEST(UnderlayEndpoint, QemuAndVhostBackendsGiveTheSameRun)
{
    ExpectSameRunEitherWay("vm-tap-qemu.json", {"duration_s=0.1"});
    ExpectSameRunEitherWay("vm-tap-vhost.json", {"duration_s=0.1"});
}
