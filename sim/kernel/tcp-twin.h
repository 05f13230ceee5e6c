// One run of the TCP twin (docs/kernel.md, "The TCP twin"): real Linux TCP
// from a client namespace through tun0 (the scenario's ring and qdisc),
// drained by the client's VPN reader (forwarder.h) into a delay line, written
// by the far end into tun1 in a server namespace; the server's ACKs come back
// the same way. Per TCP flow a bulk sender (client) and a receiver (server).
//
//   client netns tunsim-<pid>                      server netns tunsim-<pid>-srv
//   sender --> qdisc --> tun0 ring ==> reader ==> [forward line] ==> far end --> tun1 --> receiver
//   sender <-- ACKs  <-- write()   <== reader <== [reverse line] <== far end <== tun1 ring <-- ACKs
#pragma once

#include "forwarder.h"
#include "host.h"
#include "tcp-info.h"

#include "scenario/scenario.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tunsim
{
namespace kernel
{

constexpr const char* kServerDevice = "tun1"; ///< the server's tun device
constexpr uint32_t kServerTxQueueLen = 10000; ///< the server side never drops
constexpr size_t kLineCapacity = 1000000;     ///< packets a delay line holds

/// One TCP flow of one run.
struct TcpFlowRun
{
    uint64_t bytesWritten = 0;  ///< the sender's write()s
    uint64_t receivedBytes = 0; ///< the receiver's read()s, the whole run
    uint64_t windowBytes = 0;   ///< of those, read inside [start_s, stop_s]
    int sndbuf = 0;             ///< SO_SNDBUF at the end of the window (autotuned)
    double connectMs = 0;       ///< connect() -> established (one RTT through the twin)
    TcpInfoSample infoEnd;      ///< the sender's TCP_INFO at the end of the window
    TcpInfoSample rcvInfoEnd;   ///< the receiver's
    bool receiverRealtime = false; ///< the receiver's thread ran at SCHED_FIFO (SetFarEndRealtime)
};

/// Everything one run of the TCP twin measured.
struct TcpRepeat
{
    std::vector<TcpFlowRun> flows;
    std::vector<FlowPath> paths; ///< per flow, what crossed the forwarder
    EndStats reader;             ///< the client's VPN reader (tun0)
    EndStats farEnd;             ///< the far end (tun1)
    uint64_t fwdLineLeft = 0, revLineLeft = 0; ///< packets still in the delay lines at the end
    uint64_t fwdLineDrops = 0, revLineDrops = 0;
    uint64_t fwdLineMax = 0, revLineMax = 0;   ///< deepest the lines got
    DeviceCounters tun0, tun1;
    /// The TCP MIB counters that moved during the run (Netns::TcpMib()), in
    /// the client's namespace (the senders: recoveries, RTOs, loss probes,
    /// HyStart exits, ACKs queued to a socket its owner held) and the server's.
    std::map<std::string, int64_t> clientMib, serverMib;
    std::string seriesRows;      ///< timeseries.csv rows (no header)
    double wallS = 0;
    double drainS = 0;           ///< end of the window -> the path went quiet
    bool drainCapped = false;    ///< the path never went quiet; stopped at the cap
};

/// The far end's thread and the receivers' at SCHED_FIFO priority (default
/// on): they stand for the other machine of the tunnel and the network, so
/// they must not wait for CPU 0, which they share with the sender
/// application (--far-end-priority normal: as before 2026-11-30; the
/// receivers are real-time since 2026-11-30 08:30 UTC).
void SetFarEndRealtime(bool on);

/// One run on fresh devices tun0 (in `client`) and tun1 (in `server`);
/// `seriesMs` > 0 samples TCP_INFO that often; `repeat` numbers its rows.
TcpRepeat RunTcpOnce(const Netns& client, const Netns& server, const Scenario& sc, uint32_t qdiscLimit,
                     double seriesMs, int repeat);

} // namespace kernel
} // namespace tunsim
