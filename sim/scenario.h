// Scenario: everything one tunsim run needs, loaded from JSON.
//
// docs/scenario.md documents every field (default, unit, allowed range).
// Parsing is strict: an unknown key, a wrong type or an out-of-range value is a
// ScenarioError naming the dotted field and what is allowed; tunsim turns it
// into exit code 2 before anything is written.
#pragma once

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
    uint32_t ringSize = 500;           ///< dev->tx_queue_len, entries [1, 65536]
    std::string policy = "drop";       ///< one of PolicyNames()
    double softirqLatencyUs = 2.0;     ///< wake -> NET_TX softirq runs the qdisc [0, 1e6] us
    bool softirqOnReaderCpu = false;   ///< the softirq's CPU work is charged to the reader
    double xmitCostNs = 0.0;           ///< CPU per packet of qdisc dequeue + tun_net_xmit when
                                       ///< run from the softirq on the reader's CPU [0, 1e9] ns
    double softirqCostNs = 0.0;        ///< fixed CPU per softirq run on the reader's CPU [0, 1e9] ns
};

/// The qdisc on tun0.
struct QdiscConfig
{
    std::string kind = "pfifo_fast"; ///< fq_codel | pfifo_fast | pfifo | noqueue
    uint32_t limit = 0;              ///< packets; 0 = the kind's Linux default
                                     ///< (fq_codel 10240, pfifo_fast/pfifo = txqueuelen... see docs)
    double targetMs = 5.0;           ///< fq_codel target (0, 1e4] ms
    double intervalMs = 100.0;       ///< fq_codel interval (0, 1e5] ms
};

/// One reader stall: the VPN process stops reading at `atS` for `forS`.
struct StallConfig
{
    double atS = 0.0;  ///< [0, 1e6] s
    double forS = 0.0; ///< (0, 1e6] s
};

/// The user-space VPN process that reads tun0 (tun_do_read) and sends over
/// the underlay.
struct ReaderConfig
{
    double perPacketNs = 1000.0;       ///< fixed CPU per packet read [0, 1e10] ns
    double nsPerByte = 0.0;            ///< crypto cost per byte of the packet [0, 1e6] ns/B
    double wakeupLatencyUs = 5.0;      ///< sleeping on an empty ring -> running again [0, 1e6] us
    /// or, instead of wakeupLatencyUs (which is then 0), equally likely
    /// values, one drawn per wake-up; each [0, 1e6] us, at most 1000
    std::vector<double> wakeupQuantilesUs;
    double deepIdleAfterUs = 0.0;      ///< slept at least this long -> deepWakeupLatencyUs [0, 1e6] us; 0 = one level
    double deepWakeupLatencyUs = 0.0;  ///< wake-up latency after a deep idle [0, 1e6] us (> 0 iff deepIdleAfterUs > 0)
    /// or, instead of deepWakeupLatencyUs, equally likely values (e.g. the
    /// quantiles of a measured distribution), one drawn per deep wake-up;
    /// each [0, 1e6] us, at most 1000; empty = the fixed deepWakeupLatencyUs
    std::vector<double> deepWakeupQuantilesUs;
    uint32_t batch = 1;                ///< packets taken per read [1, 1024]
    std::string encap = "openvpn";     ///< none | openvpn | wireguard | custom
    uint32_t encapOverheadBytes = 0;   ///< bytes added per packet when encap == custom [0, 1000]
    uint32_t sndbufBytes = 212992;     ///< the VPN's UDP socket sk_sndbuf [4608, 2^31-1] B
    std::vector<StallConfig> stalls;   ///< misbehaving reader (seed 002)
    double preemptIntervalMs = 0.0;    ///< mean time between CPU preemptions, exponential [0, 1e6] ms; 0 = none
    double preemptMs = 0.0;            ///< mean preemption length, exponential [0, 1e6] ms
};

/// The physical link the tunnel runs over (PointToPoint).
struct UnderlayConfig
{
    double rateMbps = 10000.0;      ///< (0, 1e6] Mbit/s
    double delayMs = 0.05;          ///< one way [0, 1e4] ms
    uint32_t queuePackets = 1000;   ///< device queue [1, 1e6] packets
    std::string qdisc = "pfifo_fast"; ///< pfifo_fast | fq_codel | noqueue
};

/// The sending host's socket defaults.
struct HostConfig
{
    uint32_t udpSndbufBytes = 212992;  ///< net.core.wmem_default [4608, 2^31-1] B
    double senderWakeupLatencyUs = 5.0; ///< a sender blocked on sk_sndbuf -> running [0, 1e6] us
    bool tcpSmallQueues = true;          ///< TCP Small Queues (tcp_small_queue_check)
    uint64_t tcpLimitOutputBytes = 1048576; ///< net.ipv4.tcp_limit_output_bytes [4096, 2^31-1] B
    uint32_t tcpPacingShift = 10;        ///< sk_pacing_shift [0, 31]
};

/// One traffic flow from the client host through tun0 to the receiver.
struct FlowConfig
{
    std::string kind = "udp";   ///< udp | tcp
    std::string mode = "flood"; ///< udp only: flood | rate | bursts | video
    uint32_t payloadBytes = 1400; ///< udp datagram payload [12, 1472] B (no fragmentation)
    double rateMbps = 100.0;      ///< mode rate: payload bit rate (0, 1e6] Mbit/s
    uint32_t burstPackets = 10;   ///< mode bursts: datagrams per burst [1, 1e6]
    double burstIntervalMs = 10.0; ///< mode bursts: burst period (0, 1e6] ms
    bool poisson = false;         ///< mode rate: exponential inter-send times
    double sendCostNs = 1000.0;   ///< udp only: sender CPU per sendto() [0, 1e9] ns
    /// udp only: CPU of the first sendto() after the sender slept (it had
    /// nothing to send) [0, 1e9] ns; -1 = send_cost_ns
    double sendCostFirstNs = -1.0;
    double fps = 30.0;            ///< mode video: frames per second (0, 1000]
    uint32_t gop = 30;            ///< mode video: frames per GOP (one I frame) [1, 100000]
    double iFrameRatio = 5.0;     ///< mode video: I-frame size / P-frame size [1, 1000]
    double phaseMs = 0.0;         ///< mode video: first frame this long after start_s [0, 1e6] ms
    double frameSizeCv = 0.0;     ///< mode video: coefficient of variation of frame sizes [0, 10]
    std::string cc = "cubic";     ///< tcp only: cubic | newreno
    uint64_t maxBytes = 0;        ///< tcp only: 0 = unlimited
    double startS = 0.0;          ///< [0, duration)
    double stopS = -1.0;          ///< (start, duration]; -1 = run to the end
};

struct Scenario
{
    std::string name = "unnamed";
    std::string description;
    double durationS = 2.0; ///< simulated seconds (0, 1e5]
    uint64_t seed = 1;      ///< RNG run number [1, 2^63)
    TunConfig tun;
    QdiscConfig qdisc;
    ReaderConfig reader;
    UnderlayConfig underlay;
    HostConfig host;
    std::vector<FlowConfig> flows; ///< at least one
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

/// Names offered by `tunsim list`.
std::vector<std::string> QdiscKinds();
std::vector<std::string> TrafficKinds(); ///< "udp/flood", "udp/rate", "udp/bursts", "tcp"
std::vector<std::string> EncapKinds();

/// Encapsulation overhead in bytes added by the VPN per packet (beyond the
/// outer IPv4+UDP headers the underlay socket adds).
uint32_t EncapOverhead(const ReaderConfig& r);

} // namespace tunsim
