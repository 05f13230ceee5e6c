// The two VPN endpoints of the TCP twin, each one thread that moves packets
// between its tun device and the delay lines (docs/kernel.md, "The TCP twin"):
//
//   the client's VPN process (the reader): ONE thread on its own CPU that
//     loops like a single-threaded VPN: (1) write() every reverse packet that
//     is due into tun0, after busy-waiting its (decrypt) cost -- Linux runs
//     the sender's ACK processing and its next transmits into tun0's qdisc
//     and ring inside that write(); (2) read() one packet from tun0 and
//     busy-wait its cost (per_packet_ns + ns_per_byte * len, from the start
//     of the read(), as the UDP reader does), then push it to the forward
//     line; (3) with nothing read and nothing due, poll() tun0 until the
//     next reverse packet is due.
//   the far end (the remote VPN endpoint, no cost model): write() each
//     forward packet into tun1 when it is due (the server's TCP receives it
//     inside that write()), read() everything tun1 holds (the server's ACKs)
//     and push it to the reverse line.
#pragma once

#include "delay-line.h"

#include "scenario/scenario.h"

#include <atomic>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace tunsim
{
namespace kernel
{

/// Which flow a TCP packet belongs to: flow i is port kFirstPort + i on the
/// server side (the destination port going forward, the source port coming
/// back); -1 for anything else. `data`: it carries payload.
struct TcpSeen
{
    int flow = -1;
    bool data = false;
    bool ackFlag = false; ///< ACK set: `ack` is its acknowledgment number
    uint32_t ack = 0;
};

TcpSeen ParseTcpPacket(const uint8_t* b, size_t n, uint32_t nflows, bool forward);

/// Per flow, what crossed the forwarder (each counter has one writer thread).
struct FlowPath
{
    uint64_t fwdRead = 0;        ///< packets of the flow the reader read from tun0
    uint64_t fwdDataRead = 0;    ///< of those, data segments
    uint64_t fwdWritten = 0;     ///< written into tun1 by the far end
    uint64_t fwdDataWritten = 0; ///< of those, data segments
    uint64_t revRead = 0;        ///< read from tun1 (the server's ACKs)
    uint64_t revWritten = 0;     ///< written into tun0 by the reader
    std::vector<int64_t> delayNs; ///< data segments: read() from tun0 began -> write() into tun1 began
    /// ACKs written into tun0: bytes each newly acknowledged (its ack number
    /// minus the previous ACK's; 0 for a duplicate). A stretch ACK releases
    /// as many bytes of the sender's window at once, inside the write().
    std::vector<uint32_t> ackStrideBytes;
    bool haveAck = false;
    uint32_t lastAck = 0;
};

/// One endpoint's counters.
struct EndStats
{
    uint64_t reads = 0;       ///< packets read from its tun device
    uint64_t readBytes = 0;
    uint64_t untracked = 0;   ///< of those, not one of the flows' packets
    uint64_t writes = 0;      ///< packets written into its tun device
    uint64_t writeBytes = 0;
    uint64_t writeErrors = 0; ///< write() failed: the packet is lost (place "<dev>_write")
    uint64_t lineDrops = 0;   ///< its pushes found the outgoing line full (place "forwarder")
    uint64_t sleeps = 0;      ///< poll() calls
    uint64_t wakeups = 0;     ///< returns to work after one or more poll()s
    int64_t readNsTotal = 0;  ///< time inside read()
    int64_t writeNsTotal = 0; ///< time inside write() (for tun0: the sender's ACK processing and transmits)
    int64_t busyNs = 0;       ///< reads, writes and cost busy-waits inside the measurement window
    std::vector<int64_t> lateNs; ///< per packet written: write began - due
    /// Per wake-up that wrote a packet: the first packet's write began - its
    /// due time, when the thread had been asleep in poll() until then -- the
    /// wake-up alone, without the time spent writing earlier packets (which
    /// lateNs includes).
    std::vector<int64_t> wakeLateNs;
    /// Per packet written: how long the endpoint spent on it -- from the
    /// start of its write() to the start of the next packet's, when that was
    /// due in the same run of writes, else to the end of its bookkeeping. A
    /// thread that loses its CPU (or a write() that stalls) shows here.
    std::vector<int64_t> serviceNs;
    std::vector<int64_t> stolenNs; ///< gaps > 20 us inside its cost spins: the thread had no CPU
    double cpuS = 0;          ///< the thread's CPU time (getrusage RUSAGE_THREAD)
    uint64_t involuntarySwitches = 0; ///< times the scheduler took its CPU away
    bool realtime = false;    ///< it ran at SCHED_FIFO (EndpointConfig::rtPriority)
};

/// What the reader has done so far, for the TCP_INFO sampler.
struct LiveCounters
{
    std::atomic<uint64_t> reads{0};
    std::atomic<uint64_t> sleeps{0};
    std::atomic<uint64_t> writes{0};
};

/// Between the run's threads: stop, the end action, drain detection.
struct TwinControl
{
    std::atomic<bool> stop{false};
    /// Set by the main thread; the reader runs endAction between two steps
    /// (no write() into tun0 races it) and sets endDone.
    std::atomic<bool> endRequested{false};
    std::atomic<bool> endDone{false};
    std::function<void()> endAction;
    /// The measurement window (busy time, stalls), set once the handshakes are done.
    std::atomic<int64_t> t0{INT64_MAX};
    std::atomic<int64_t> tEnd{INT64_MAX};
    std::atomic<int64_t> readerLastNs{0}; ///< the reader last moved a packet
    std::atomic<int64_t> farLastNs{0};    ///< the far end last moved a packet
};

/// How one endpoint behaves.
struct EndpointConfig
{
    const ReaderConfig* costs = nullptr; ///< the reader's costs and stalls; null: none (the far end)
    bool readAll = false;      ///< read until the device is empty (far end); else one packet a step
    bool readsForward = true;  ///< the reader (reads forward packets, runs the end action) or the far end
    uint32_t nflows = 1;
    int rtPriority = 0;        ///< > 0: run at SCHED_FIFO with this priority
};

/// One endpoint's loop on its own thread, until ctl.stop (or a signal).
/// `in`: the line it writes into its device; `out`: the line it pushes what
/// it reads to. `live` (the reader's) may be null.
void RunEndpoint(int fd, DelayLine& in, DelayLine& out, const EndpointConfig& cfg, TwinControl& ctl,
                 EndStats& st, std::vector<FlowPath>& paths, LiveCounters* live);

} // namespace kernel
} // namespace tunsim
