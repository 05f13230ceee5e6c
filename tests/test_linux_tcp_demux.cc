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
#include "scenario/scenario.h"
#include "whole-run.h"

#include "ns3/boolean.h"
#include "ns3/config.h"

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
    DemuxRun r;
    const tunsim_test::WholeRun w = tunsim_test::RunWhole(
        s, [&]() { ns3::Config::SetDefault("tunsim::LinuxTcpSocket::DemuxByEndPoint", ns3::BooleanValue(demux)); },
        {},
        [&r](Testbed& tb) {
            for (ns3::Ptr<ns3::Node> node : {tb.path.client, tb.path.server})
            {
                if (ns3::Ptr<LinuxTcpDemux> d = node->GetObject<LinuxTcpDemux>())
                {
                    r.found += d->Found();
                    r.passedOn += d->PassedOn();
                }
            }
        });
    ns3::Config::SetDefault("tunsim::LinuxTcpSocket::DemuxByEndPoint", ns3::BooleanValue(true));
    r.result = w.result;
    r.events = w.events;
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
