// LinuxTcpSocket's WritePass (models/linux-tcp-socket-write.cc) runs the rest
// of SendPendingData()'s loop from SendDataPacket(), and the whole loop from
// its first AvailableWindow() (WritePassFromTop()), to skip ns-3's
// per-segment NextSeg() walk. It claims to send exactly the segments the
// per-segment loop sends, in the same order with the same side effects:
// whole runs with it on and off must give the same result, field for field
// (recovery, local drops, the receive window, TSQ and BBR's pacing all
// exercised). In recovery NextSeg()'s rules (1) and (3) come from the
// RetransmitHint (models/retransmit-hint.*), checked against NextSeg()
// itself at every answer in a third run; rule (3) is used only with the
// attribute Rfc6675Rule3 (Linux has none: the last test of this file).
#include "scenario/scenario.h"
#include "whole-run.h"

#include "ns3/boolean.h"
#include "ns3/config.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

using namespace tunsim;
using nlohmann::json;

namespace
{

json
RunWithWritePass(const Scenario& s, bool writePass, uint64_t* events, bool checkNextSeg = false,
                 bool forwardUpBytes = true)
{
    const tunsim_test::WholeRun r = tunsim_test::RunWhole(s, [&]() {
        ns3::Config::SetDefault("tunsim::LinuxTcpSocket::WritePass", ns3::BooleanValue(writePass));
        ns3::Config::SetDefault("tunsim::LinuxTcpSocket::CheckNextSeg", ns3::BooleanValue(checkNextSeg));
        ns3::Config::SetDefault("tunsim::LinuxTcpSocket::ForwardUpBytes", ns3::BooleanValue(forwardUpBytes));
    });
    *events = r.events;
    return r.result;
}

Scenario
Bulk(uint32_t ring, const std::string& policy, const std::string& qdisc, double seconds,
     const std::string& cc = "cubic")
{
    return ScenarioFromJson({
        {"name", "write-pass"},
        {"duration_s", seconds},
        {"seed", 3},
        {"tun", {{"ring_size", ring}, {"policy", policy}}},
        {"qdisc", {{"kind", qdisc}}},
        {"reader", {{"per_packet_ns", 0}, {"ns_per_byte", 40}, {"batch", 1}, {"encap", "none"}}},
        {"underlay", {{"rate_mbps", 1000}, {"delay_ms", 30}}},
        {"flows", json::array({{{"kind", "tcp"}, {"cc", cc}}})},
    });
}

/// Two runs of one scenario are the same, field for field and event for
/// event, and carried real traffic.
void
ExpectIdenticalRuns(const json& a, uint64_t eventsA, const json& b, uint64_t eventsB)
{
    EXPECT_EQ(a.dump(), b.dump());
    EXPECT_EQ(eventsA, eventsB); // not one event more or less
    EXPECT_GT(a["flows"][0]["delivered_packets"].get<double>(), 1000.0);
}

void
ExpectSameRun(const Scenario& s)
{
    uint64_t eventsOn = 0;
    uint64_t eventsOff = 0;
    const json on = RunWithWritePass(s, true, &eventsOn);
    const json off = RunWithWritePass(s, false, &eventsOff);
    ExpectIdenticalRuns(on, eventsOn, off, eventsOff);
    // and every NextSeg() answer of the RetransmitHint was NextSeg()'s own
    // (CheckNextSeg aborts the run on the first that is not)
    uint64_t eventsChecked = 0;
    const json checked = RunWithWritePass(s, true, &eventsChecked, true);
    EXPECT_EQ(checked.dump(), on.dump());
    EXPECT_EQ(eventsChecked, eventsOn);
}

} // namespace

TEST(LinuxTcpWritePass, RingDropsAndRecoveryGiveTheSameRun)
{
    ExpectSameRun(Bulk(25, "drop", "pfifo_fast", 3));
}

TEST(LinuxTcpWritePass, DeepRingGivesTheSameRun)
{
    ExpectSameRun(Bulk(2000, "drop", "pfifo_fast", 2));
}

TEST(LinuxTcpWritePass, BenchmarkRingOf5000GivesTheSameRun)
{
    // bench_tcp's slowest case: SACK recovery over thousands of segments
    ExpectSameRun(Bulk(5000, "drop", "pfifo_fast", 3));
}

TEST(LinuxTcpWritePass, LocalDropsFromAFullQdiscGiveTheSameRun)
{
    ExpectSameRun(Bulk(10, "nodrop-v8", "pfifo_fast", 2));
}

TEST(LinuxTcpWritePass, BbrPacedGivesTheSameRun)
{
    // BBR: every segment from the pacing timer or PaceContinue(), armed
    ExpectSameRun(Bulk(25, "drop", "pfifo_fast", 3, "bbr"));
}

TEST(LinuxTcpWritePass, BbrDeepRingGivesTheSameRun)
{
    ExpectSameRun(Bulk(2000, "drop", "pfifo_fast", 2, "bbr"));
}

// LinuxTcpSocket::ForwardUpV4() (linux-tcp-socket-ack.cc) reads the sequence
// number and the header length from the TCP header's bytes where
// TcpSocketBase::ForwardUp() deserializes the header: whole runs with it on
// and off must be the same, field for field and event for event.
namespace
{

void
ExpectSameRunEitherForwardUp(const Scenario& s)
{
    uint64_t eventsBytes = 0;
    uint64_t eventsHeader = 0;
    const json bytes = RunWithWritePass(s, true, &eventsBytes, false, true);
    const json header = RunWithWritePass(s, true, &eventsHeader, false, false);
    ExpectIdenticalRuns(bytes, eventsBytes, header, eventsHeader);
    EXPECT_GT(bytes["flows"][0]["retransmits"].get<double>(), 0.0); // SACK recovery exercised
}

} // namespace

TEST(LinuxTcpForwardUp, HeaderBytesGiveTheSameRunThroughRecovery)
{
    ExpectSameRunEitherForwardUp(Bulk(25, "drop", "pfifo_fast", 3));
}

TEST(LinuxTcpForwardUp, HeaderBytesGiveTheSameRunWithBbr)
{
    ExpectSameRunEitherForwardUp(Bulk(25, "drop", "pfifo_fast", 3, "bbr"));
}

// flows[].ca_events: the socket's congestion events as Linux's MIB counts them.
TEST(LinuxTcpCaEvents, RingDropsEnterRecoveryAndAFullQdiscEntersCwr)
{
    uint64_t events = 0;
    // Mainline drop: tun never stops its queue, so the qdisc never refuses;
    // every ring drop is a loss that recovery (or a timeout) repairs.
    const json drop = RunWithWritePass(Bulk(25, "drop", "pfifo_fast", 3), true, &events);
    const json& d = drop["flows"][0]["ca_events"];
    EXPECT_GT(d["recoveries"].get<uint64_t>(), 0u);
    EXPECT_LE(d["recoveries"].get<uint64_t>() + d["timeouts"].get<uint64_t>(),
              drop["tun"]["tx_dropped"].get<uint64_t>()); // an episode needs at least one drop
    EXPECT_EQ(d["cwr"].get<uint64_t>(), 0u);
    // NODROP at ring 10: the stopped queue fills the qdisc, whose refusals
    // (NET_XMIT_DROP) put the sender into CWR; nothing is lost, so no
    // recovery and no timeout.
    const json v8 = RunWithWritePass(Bulk(10, "nodrop-v8", "pfifo_fast", 2), true, &events);
    const json& n = v8["flows"][0]["ca_events"];
    EXPECT_EQ(v8["tun"]["tx_dropped"].get<uint64_t>(), 0u);
    EXPECT_GT(n["cwr"].get<uint64_t>(), 0u);
    EXPECT_EQ(n["recoveries"].get<uint64_t>(), 0u);
    EXPECT_EQ(n["timeouts"].get<uint64_t>(), 0u);
}

// Linux retransmits in recovery only what is marked lost
// (tcp_xmit_retransmit_queue(): RACK or tcp_mark_head_lost()); ns-3's
// TcpTxBuffer::NextSeg() also has RFC 6675 rule (3), which, when nothing
// marked lost and no new data is left, resends the first unSACKed segment
// even though it is only queued. Through a deep queue (ring 1000 and a
// pfifo_fast of 1000 at 40 ns per byte: ~120 ms of queue on a 60 ms path)
// the sender runs out of new data during recovery. The path is a FIFO with
// no other loss, so every retransmission Linux-style repairs a drop and
// reaches the receiver once; with rule (3) most reach it a second time.
namespace
{

json
DeepQueueRecovery(bool rule3)
{
    const tunsim_test::WholeRun r = tunsim_test::RunWhole(Bulk(1000, "drop", "pfifo_fast", 2.5), [&]() {
        ns3::Config::SetDefault("tunsim::LinuxTcpSocket::Rfc6675Rule3", ns3::BooleanValue(rule3));
    });
    return r.result["flows"][0];
}

/// Segments the receiver got more than once (the flow sends whole MSS segments).
double
Duplicates(const json& flow)
{
    return flow["delivered_packets"].get<double>() - std::floor(flow["received_bytes"].get<double>() / 1448.0);
}

} // namespace

TEST(LinuxTcpRecovery, OnlySegmentsMarkedLostAreRetransmitted)
{
    const json linux = DeepQueueRecovery(false);
    ASSERT_GT(linux["dropped_packets"].get<double>(), 50.0); // slow start overflowed the ring
    EXPECT_LE(Duplicates(linux), 0.05 * linux["retransmits"].get<double>());
    const json rfc = DeepQueueRecovery(true);
    EXPECT_GT(Duplicates(rfc), rfc["dropped_packets"].get<double>()); // more resent in vain than lost
}
