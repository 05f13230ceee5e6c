// What the live kernel can run, as data: the root qdiscs built into it, the
// flow kinds and modes tunsim kernel generates, the most flows; and the
// scenario fields it accepts but does not use (from the field table).
#pragma once

#include "scenario/scenario.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tunsim
{
namespace kernel
{

/// Root qdiscs built into this kernel (no modules): what `tc qdisc replace`
/// can set. fq_codel is not among them.
constexpr QdiscKind kBuiltInQdiscs[] = {QdiscKind::PfifoFast, QdiscKind::Pfifo, QdiscKind::Noqueue};

/// The udp modes the senders generate (video is not one).
constexpr UdpMode kSenderModes[] = {UdpMode::Flood, UdpMode::Rate, UdpMode::Bursts};

/// One sender thread and one UDP port per flow.
constexpr size_t kMaxFlows = 64;

/// Throws ScenarioError naming the first field the live kernel cannot run:
/// qdisc.kind (not built in), qdisc.limit (pfifo_fast takes txqueuelen),
/// flows[i].kind (udp and tcp flows together), flows[i].mode (not video),
/// flows (too many).
void CheckKernelSupports(const Scenario& sc);

/// All flows are tcp: the run is the TCP twin (tcp-twin.h).
bool IsTcpRun(const Scenario& sc);

/// Throws ScenarioError naming flows[i].cc when Linux's name of the flow's
/// congestion control (LinuxCcName) is not in `available` (the
/// space-separated list of tcp_available_congestion_control).
void CheckCongestionControl(const Scenario& sc, const std::string& available);

/// The limit of the root qdisc: qdisc.limit, or txqueuelen when it is 0
/// (what Linux gives pfifo and pfifo_fast).
uint32_t KernelQdiscLimit(const Scenario& sc);

/// The fields the kernel accepts but does not use, "path: why": every field
/// of the field table with a simOnly text (kernel.not_applicable).
std::vector<std::string> NotApplicable();

/// The same for the TCP twin: the table's simulator-only fields less those
/// the twin uses (underlay.rate_mbps and delay_ms: its delay lines;
/// reader.encap and encap_overhead_bytes: the bytes the delay line
/// serialises), plus the fields a TCP run of the kernel does not use (the
/// host's own TSQ and pacing, the UDP senders' buffer, reader.batch).
std::vector<std::string> NotApplicableTcp();

} // namespace kernel
} // namespace tunsim
