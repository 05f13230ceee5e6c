// Scenario: everything one tunsim run needs, loaded from JSON.
//
// Each field is declared once, in the field table (scenario-fields.h): its
// key, member, unit, range and doc line; parsing, the resolved JSON, `tunsim
// list fields` and the docs check are all made from that table.
// docs/scenario.md documents every field (default, unit, allowed range).
// Parsing is strict: an unknown key, a wrong type or an out-of-range value is a
// ScenarioError naming the dotted field and what is allowed; tunsim turns it
// into exit code 2 before anything is written.
#pragma once

#include "helper/linux-qdisc.h"
#include "reader-loop.h"
#include "tap-frame.h"
#include "traffic-kinds.h"
#include "vm-backend.h"
#include "vpn-encap.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace tunsim
{

/// A bad scenario: `field` is the dotted path ("tun.ring_size"), `what()` the
/// full message ("tun.ring_size: must be an integer in [1, 65536], got 0").
class ScenarioError : public std::runtime_error
{
  public:
    ScenarioError(const std::string& field, const std::string& message);
    const std::string& Field() const { return m_field; }

  private:
    std::string m_field;
};

/// tun0: the ring, its stop/wake policy and the NET_TX softirq.
struct TunConfig
{
    uint32_t ringSize = 500;           ///< dev->tx_queue_len, entries
    std::string policy = "drop";       ///< one of TunPolicyNames()
    double softirqLatencyUs = 2.0;     ///< wake -> NET_TX softirq runs the qdisc, us
    bool softirqOnReaderCpu = false;   ///< the softirq's CPU work is charged to the reader
    double xmitCostNs = 0.0;           ///< CPU per packet of qdisc dequeue + tun_net_xmit from the softirq
    double softirqCostNs = 0.0;        ///< fixed CPU per softirq run on the reader's CPU
    bool iffBackpressure = true;       ///< IFF_BACKPRESSURE at TUNSETIFF (policy iff-backpressure only)
    uint32_t queues = 1;               ///< tx queues (IFF_MULTI_QUEUE when > 1), one reader each
    bool steerByFlow = false;          ///< a steering program: flow i on queue i mod queues
    TunMode mode = TunMode::Tun;       ///< IFF_TUN (IP packets) or IFF_TAP (Ethernet frames)
};

/// The qdisc on tun0.
struct QdiscConfig
{
    QdiscKind kind = QdiscKind::PfifoFast;
    uint32_t limit = 0;        ///< packets; 0 = the kind's Linux default (DefaultQdiscLimit)
    double targetMs = 5.0;     ///< fq_codel target
    double intervalMs = 100.0; ///< fq_codel interval
    bool sharedRoot = false;   ///< tun.queues > 1: one root of `kind` for all queues instead of mq
};

/// One reader stall: the VPN process stops reading at `atS` for `forS`.
struct StallConfig
{
    double atS = 0.0;
    double forS = 0.0;
};

/// One bin of the wake-up by sleep length: after a sleep of at least
/// `sleepUsFrom` (and less than the next bin's), the wake-up is drawn from
/// `wakeQuantilesUs`.
struct WakeBinConfig
{
    double sleepUsFrom = 0.0;
    std::vector<double> wakeQuantilesUs;
};

/// One bin of a udp sender's waking send() cost by how long the sender was
/// idle before it: after an idle time of at least `idleUsFrom` (and less
/// than the next bin's), such a send() costs `sendNs`.
struct IdleCostBinConfig
{
    double idleUsFrom = 0.0;
    double sendNs = 0.0;
};

/// The user-space VPN process that reads tun0 (tun_do_read) and sends over
/// the underlay.
struct ReaderConfig
{
    double perPacketNs = 1000.0;       ///< fixed CPU per packet read
    double nsPerByte = 0.0;            ///< crypto cost per byte of the packet
    double wakeupLatencyUs = 5.0;      ///< sleeping on an empty ring -> running again
    std::vector<double> wakeupQuantilesUs; ///< or drawn per wake-up from these (us)
    double deepIdleAfterUs = 0.0;      ///< slept at least this long -> the slow wake-up; 0 = one level
    double deepWakeupLatencyUs = 0.0;  ///< the slow wake-up
    std::vector<double> deepWakeupQuantilesUs; ///< or drawn per slow wake-up from these (us)
    std::vector<WakeBinConfig> wakeupBySleep;  ///< or drawn by sleep length (a host profile's bins)
    uint32_t batch = 1;                ///< packets taken per read
    ReaderLoop loop = ReaderLoop::ReadUntilEmpty; ///< how the main loop reads tun (reader-loop.h)
    double pollNs = 0.0;               ///< CPU per poll() that finds data (poll-each, batched)
    double pollBlockNs = -1.0;         ///< the poll() that may block, to where it sleeps; -1 = pollNs
    double readNs = 0.0;               ///< a packet's least CPU: the read() syscall itself
    double readEmptyNs = 0.0;          ///< a read() that finds the ring empty (-EAGAIN), read-until-empty
    double writeNs = 0.0;              ///< CPU of one write() into tun (tun_get_user + receive path)
    double writeXmitNs = 0.0;          ///< CPU per packet the stack transmits inside that write()
    EncapKind encap = EncapKind::OpenVpn;
    uint32_t encapOverheadBytes = 0;   ///< bytes added per packet when encap is custom
    uint32_t sndbufBytes = 212992;     ///< the VPN's UDP socket sk_sndbuf
    std::vector<StallConfig> stalls;   ///< misbehaving reader (seed 002)
    double preemptIntervalMs = 0.0;    ///< mean time between CPU preemptions; 0 = none
    double preemptMs = 0.0;            ///< mean preemption length
    ConsumerKind kind = ConsumerKind::Vpn; ///< who reads: the VPN, QEMU, vhost-net
    uint32_t cpu = 0;                  ///< host.cpus > 0: queue q's reader runs on CPU (cpu + q) % host.cpus
};

/// The virtual machine behind a tap device (reader.kind qemu / vhost-net).
/// -1 = the preset of (reader.kind, nic): VmPresetFor() in models/vm-backend.h.
struct VmConfig
{
    VmNic nic = VmNic::E1000;          ///< the guest's NIC (qemu); vhost-net serves virtio-net
    double frameNs = -1;               ///< backend CPU per frame into the guest
    double nsPerByte = -1;             ///< backend CPU per byte of that frame
    double txFrameNs = -1;             ///< backend CPU per frame the guest sends
    uint32_t guestRxSize = 256;        ///< guest receive buffers (rx ring / virtqueue)
    uint32_t guestRefill = 0;          ///< buffers given back at a time; 0 = preset
    double guestFrameNs = 1000;        ///< guest CPU per received frame (driver + stack)
    double guestIrqUs = 5;             ///< interrupt -> the guest's NAPI poll runs
    bool gro = true;                   ///< GRO in the guest's NAPI poll (NapiGro)
    VmOffloads offloads = VmOffloads::Auto; ///< TUNSETOFFLOAD on the tap
    double hostXmitNs = 0;             ///< host CPU per packet put into the tap (serialised)
};

/// The physical link the tunnel runs over (PointToPoint).
struct UnderlayConfig
{
    double rateMbps = 10000.0;
    double delayMs = 0.05;        ///< one way
    uint32_t queuePackets = 1000; ///< device queue
    QdiscKind qdisc = QdiscKind::PfifoFast;
    std::vector<double> peerWakeupQuantilesUs; ///< the far VPN endpoint's wake-up; empty: it never sleeps
    double peerWriteNs = 0;                     ///< its write() of one inner packet into its tun
    std::vector<double> peerWriteQuantilesUs;   ///< the same, drawn per write; empty: peerWriteNs
    double peerPreemptIntervalMs = 0;           ///< mean gap between its preemptions (0: none)
    double peerPreemptMs = 0;                   ///< mean length of one
    bool peerAckPerPass = false;                ///< the receivers read after its write pass: one ACK per pass
};

/// The sending host's socket defaults.
struct HostConfig
{
    uint32_t udpSndbufBytes = 212992;       ///< net.core.wmem_default
    double senderWakeupLatencyUs = 5.0;     ///< a sender blocked on sk_sndbuf -> running
    bool tcpSmallQueues = true;             ///< TCP Small Queues (tcp_small_queue_check)
    uint64_t tcpLimitOutputBytes = 1048576; ///< net.ipv4.tcp_limit_output_bytes
    uint32_t tcpPacingShift = 10;           ///< sk_pacing_shift
    uint32_t tcpRmemDefault = 131072;       ///< net.ipv4.tcp_rmem[1]: a receiver's sk_rcvbuf at first
    uint32_t tcpRmemMax = 33554432;         ///< net.ipv4.tcp_rmem[2]: the receive autotuning cap
    uint32_t tcpCompSackNr = 44;            ///< net.ipv4.tcp_comp_sack_nr (0: no SACK compression)
    uint64_t tcpCompSackDelayNs = 1000000;  ///< net.ipv4.tcp_comp_sack_delay_ns
    uint64_t tcpCompSackSlackNs = 100000;   ///< net.ipv4.tcp_comp_sack_slack_ns
    uint32_t tcpCompSackRttPercent = 5;     ///< rtt/20 up to 6.18; net.ipv4.tcp_comp_sack_rtt_percent from 6.19
    uint32_t cpus = 0;                      ///< the multi-core host's CPUs; 0 = no CPU model (issue 13)
    double tcpSendmsgNs = 0.0;              ///< cpus > 0: per segment's data copied by sendmsg(), the flow's CPU
    double tcpOutputNs = 0.0;               ///< cpus > 0: per segment of TCP/IP output, the transmitting CPU
    double qdiscLockContendedNs = 0.0;      ///< cpus > 0: CPU of an enqueue into a qdisc another CPU runs
    uint32_t devTxWeight = 64;              ///< cpus > 0: the quota of one __qdisc_run(), packets
    bool ackOnSenderCpu = false;            ///< cpus > 0: ACKs go to the socket backlog, run on the sender's CPU
};

/// One traffic flow from the client host through tun0 to the receiver.
struct FlowConfig
{
    FlowKind kind = FlowKind::Udp;
    UdpMode mode = UdpMode::Flood; ///< udp only
    uint32_t payloadBytes = 1400;  ///< udp datagram payload (no fragmentation)
    double rateMbps = 100.0;       ///< mode rate / video: payload bit rate
    uint32_t burstPackets = 10;    ///< mode bursts: datagrams per burst
    double burstIntervalMs = 10.0; ///< mode bursts: burst period
    bool poisson = false;          ///< mode rate: exponential inter-send times
    double sendCostNs = 1000.0;    ///< udp only: sender CPU per sendto()
    double sendCostFirstNs = -1.0; ///< udp only: the first sendto() after a sleep; -1 = sendCostNs
    double sendCostWakeNs = -1.0;    ///< udp only: a sendto() that woke the sleeping reader; -1 = as without
    std::vector<IdleCostBinConfig> sendCostWakeByIdle; ///< udp only: or by the sender's idle time before it
    double sendCostRunningNs = -1.0; ///< udp only: into the ring of a reader awake; -1 = as without
    double sendCostFullNs = -1.0;    ///< udp only: into a full ring (dropped); -1 = as without
    double sendEnqueueNs = 0.0;      ///< udp only: the datagram reaches the ring this long after send() began
    SenderStyle sender = SenderStyle::Blocking; ///< udp only: blocking or O_NONBLOCK socket
    OnSendError onSendError = OnSendError::DropDatagram; ///< udp only: what -EAGAIN (-ENOBUFS) drops
    bool recverr = false;          ///< udp only: IP_RECVERR, local drops seen as -ENOBUFS
    double fps = 30.0;             ///< mode video: frames per second
    uint32_t gop = 30;             ///< mode video: frames per GOP (one I frame)
    double iFrameRatio = 5.0;      ///< mode video: I-frame size / P-frame size
    double phaseMs = 0.0;          ///< mode video: first frame this long after start_s
    double frameSizeCv = 0.0;      ///< mode video: coefficient of variation of frame sizes
    CongestionControl cc = CongestionControl::Cubic; ///< tcp only
    uint64_t maxBytes = 0;         ///< tcp only: 0 = unlimited
    uint32_t cpu = 0;              ///< host.cpus > 0: the CPU the sender runs on
    double startS = 0.0;
    double stopS = -1.0;           ///< -1 = run to the end

    /// When the flow stops: stopS, or the end of a run of `durationS`.
    double StopOr(double durationS) const { return stopS < 0 ? durationS : stopS; }
};

struct Scenario
{
    std::string name = "unnamed";
    std::string description;
    double durationS = 2.0; ///< simulated seconds
    uint64_t seed = 1;      ///< RNG run number
    TunConfig tun;
    QdiscConfig qdisc;
    ReaderConfig reader;
    VmConfig vm;
    UnderlayConfig underlay;
    HostConfig host;
    std::vector<FlowConfig> flows; ///< at least one
    /// The host profile the cost fields came from ("" = none; host-profile.h)
    /// and, per field it knows, where the value came from.
    std::string hostProfile;
    nlohmann::json provenance;
};

/// Parse and validate. Throws ScenarioError on any problem.
Scenario ScenarioFromJson(const nlohmann::json& j);

/// The fully resolved scenario (every field, defaults filled in) as JSON; the
/// result file embeds it so a run can be repeated from it alone.
nlohmann::json ScenarioToJson(const Scenario& s);

/// Load a file: malformed JSON is a ScenarioError whose field is "<file>"
/// and whose message gives line and column.
nlohmann::json LoadScenarioJson(const std::string& path);

/// Apply "--set dotted.key=value" to raw scenario JSON before parsing. The
/// value is parsed as JSON when it is valid JSON (numbers, true/false, arrays)
/// and taken as a string otherwise. `flows.0.rate_mbps` addresses array
/// elements. A key the schema does not know is caught by ScenarioFromJson.
void ApplySet(nlohmann::json& j, const std::string& assignment);

/// A scenario file with --set assignments applied, parsed.
Scenario LoadScenario(const std::string& path, const std::vector<std::string>& sets);

/// LoadScenarioJson() of a scenario already in memory, `name` standing for
/// the file in messages: the same bounds (4 MiB, nesting 64), line and
/// column of a JSON error, duplicate keys.
nlohmann::json ParseScenarioJson(const std::string& text, const std::string& name);

/// LoadScenario() from memory: ParseScenarioJson, the --set assignments,
/// ScenarioFromJson (tests/fuzz/fuzz_scenario.cc feeds it arbitrary bytes).
Scenario ScenarioFromText(const std::string& text, const std::vector<std::string>& sets, const std::string& name);

/// "udp/flood", "udp/rate", ..., "tcp" (`tunsim list`).
std::vector<std::string> TrafficKinds();

/// Bytes the scenario's VPN adds per packet.
inline uint32_t
EncapOverhead(const ReaderConfig& r)
{
    return EncapOverheadBytes(r.encap, r.encapOverheadBytes);
}

/// One documented field of the field table (`tunsim list fields`).
struct FieldDoc
{
    std::string path;     ///< "tun.ring_size", "flows[].cc", "reader.stalls[].at_s"
    std::string type;     ///< integer | number | bool | string | name | array of numbers | object | array
    std::string dflt;     ///< the default, as JSON ("500", "\"drop\""); "required" when required
    std::string unit;     ///< "us", "B", ... or ""
    std::string allowed;  ///< "[1, 65536]", "fq_codel, pfifo_fast, ...", ...
    std::string only;     ///< "udp", "tcp", "encap custom" or "" (all)
    std::string doc;      ///< one line
    std::string simOnly;  ///< not empty: the live kernel does not use it; why
};

/// Every field, in the table's order.
std::vector<FieldDoc> ScenarioFieldDocs();

} // namespace tunsim
