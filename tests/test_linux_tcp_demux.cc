// LinuxTcpDemux (models/linux-tcp-demux.*) finds an established
// connection's segments by their ports, read from the header's bytes, in
// front of ns-3.37's TcpL4Protocol::Receive(), which deserializes the header
// and walks every end point of the node. It claims to hand the same end
// point the same packet at the same instant: whole runs with it on and off
// (attribute LinuxTcpSocket::DemuxByEndPoint) must be the same, field for
// field and event for event -- one flow through ring drops and recovery,
// BBR, and eight flows whose server sockets are all forks of one listener
// -- and with it on the demux must have found nearly every segment itself.
#include "linux-tcp-demux.h"
#include "run/experiment.h"
#include "run/testbed.h"
#include "scenario/scenario.h"
#include "socket-account.h"

#include "ns3/boolean.h"
#include "ns3/config.h"
#include "ns3/simulator.h"

#include <gtest/gtest.h>

#include <string>

using namespace tunsim;
using nlohmann::json;

namespace
{

struct DemuxRun
{
    json result;
    uint64_t events = 0;
    uint64_t found = 0;    // segments the demuxes of both nodes handed to an end point
    uint64_t passedOn = 0; // and those they left to TcpL4Protocol::Receive()
};

DemuxRun
RunWithDemux(const Scenario& s, bool demux)
{
    ResetSimulator(s);
    ns3::Config::SetDefault("tunsim::LinuxTcpSocket::DemuxByEndPoint", ns3::BooleanValue(demux));
    DemuxRun r;
    {
        Testbed tb = BuildTestbed(s);
        Instruments in;
        Instrument(tb, 0, in);
        ns3::Simulator::Stop(ns3::Seconds(s.durationS));
        ns3::Simulator::Run();
        for (ns3::Ptr<ns3::Node> node : {tb.path.client, tb.path.server})
        {
            if (ns3::Ptr<LinuxTcpDemux> d = node->GetObject<LinuxTcpDemux>())
            {
                r.found += d->Found();
                r.passedOn += d->PassedOn();
            }
        }
        WallClock wall;
        wall.events = ns3::Simulator::GetEventCount();
        r.events = wall.events;
        r.result = ToJson(Report(s, tb, in, wall));
        ns3::Simulator::Destroy();
        SocketAccountTable::Reset();
    }
    ns3::Config::SetDefault("tunsim::LinuxTcpSocket::DemuxByEndPoint", ns3::BooleanValue(true));
    r.result.erase("wall");
    return r;
}

Scenario
Bulk(uint32_t ring, const std::string& cc, int flows, double seconds)
{
    json f = json::array();
    for (int i = 0; i < flows; ++i)
    {
        f.push_back({{"kind", "tcp"}, {"cc", cc}});
    }
    return ScenarioFromJson({
        {"name", "tcp-demux"},
        {"duration_s", seconds},
        {"seed", 5},
        {"tun", {{"ring_size", ring}, {"policy", "drop"}}},
        {"qdisc", {{"kind", "pfifo_fast"}}},
        {"reader", {{"per_packet_ns", 0}, {"ns_per_byte", 40}, {"batch", 1}, {"encap", "none"}}},
        {"underlay", {{"rate_mbps", 1000}, {"delay_ms", 30}}},
        {"flows", f},
    });
}

void
ExpectSameRunEitherWay(const Scenario& s, int flows)
{
    const DemuxRun stock = RunWithDemux(s, false);
    const DemuxRun demux = RunWithDemux(s, true);
    EXPECT_EQ(stock.result.dump(), demux.result.dump());
    EXPECT_EQ(stock.events, demux.events); // not one event more or less
    EXPECT_EQ(stock.found + stock.passedOn, 0u); // off: no demux installed
    // On: every segment of an established connection was found here; only
    // the handshakes' first segments (the SYN to the listener, the SYN-ACK
    // before connect() has set the client's peer) went on to ns-3's lookup.
    EXPECT_GT(demux.found, 1000u);
    EXPECT_LE(demux.passedOn, 2u * static_cast<uint64_t>(flows));
    uint64_t delivered = 0;
    for (const json& f : demux.result["flows"])
    {
        delivered += f["delivered_packets"].get<uint64_t>();
    }
    EXPECT_GT(delivered, 1000u);
}

} // namespace

TEST(LinuxTcpDemux, OneFlowThroughRingDropsGivesTheSameRun)
{
    const Scenario s = Bulk(25, "cubic", 1, 3);
    ExpectSameRunEitherWay(s, 1);
}

TEST(LinuxTcpDemux, BbrGivesTheSameRun)
{
    ExpectSameRunEitherWay(Bulk(500, "bbr", 1, 2), 1);
}

TEST(LinuxTcpDemux, EightFlowsForkedFromOneListenerGiveTheSameRun)
{
    ExpectSameRunEitherWay(Bulk(100, "cubic", 8, 2), 8);
}
