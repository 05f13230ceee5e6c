// The TCP twin's repeats pooled and checked (see tcp-pool.h).
#include "tcp-pool.h"

#include "traffic.h"

#include <algorithm>

namespace tunsim
{
namespace kernel
{

using json = nlohmann::json;

namespace
{

void
AddPath(FlowPath& a, const FlowPath& b)
{
    a.fwdRead += b.fwdRead;
    a.fwdDataRead += b.fwdDataRead;
    a.fwdWritten += b.fwdWritten;
    a.fwdDataWritten += b.fwdDataWritten;
    a.revRead += b.revRead;
    a.revWritten += b.revWritten;
    a.delayNs.insert(a.delayNs.end(), b.delayNs.begin(), b.delayNs.end());
    a.ackStrideBytes.insert(a.ackStrideBytes.end(), b.ackStrideBytes.begin(), b.ackStrideBytes.end());
}

/// Adds one run's TCP MIB deltas (Netns::TcpMib()) to the pooled ones.
void
AddMib(std::map<std::string, int64_t>& a, const std::map<std::string, int64_t>& b)
{
    for (const auto& [k, v] : b)
    {
        a[k] += v;
    }
}

void
AddEnd(EndStats& a, const EndStats& b)
{
    a.reads += b.reads;
    a.readBytes += b.readBytes;
    a.untracked += b.untracked;
    a.writes += b.writes;
    a.writeBytes += b.writeBytes;
    a.writeErrors += b.writeErrors;
    a.lineDrops += b.lineDrops;
    a.sleeps += b.sleeps;
    a.wakeups += b.wakeups;
    a.readNsTotal += b.readNsTotal;
    a.writeNsTotal += b.writeNsTotal;
    a.busyNs += b.busyNs;
    a.lateNs.insert(a.lateNs.end(), b.lateNs.begin(), b.lateNs.end());
    a.wakeLateNs.insert(a.wakeLateNs.end(), b.wakeLateNs.begin(), b.wakeLateNs.end());
    a.serviceNs.insert(a.serviceNs.end(), b.serviceNs.begin(), b.serviceNs.end());
    a.cpuS += b.cpuS;
    a.involuntarySwitches += b.involuntarySwitches;
    a.stolenNs.insert(a.stolenNs.end(), b.stolenNs.begin(), b.stolenNs.end());
    a.realtime = b.realtime; // every repeat runs with the same --far-end-priority
}

void
AddFlow(TcpFlowRun& a, const TcpFlowRun& b)
{
    a.bytesWritten += b.bytesWritten;
    a.receivedBytes += b.receivedBytes;
    a.windowBytes += b.windowBytes;
    a.sndbuf = b.sndbuf;
    a.connectMs = b.connectMs;
    a.infoEnd = b.infoEnd;
    a.rcvInfoEnd = b.rcvInfoEnd;
    a.receiverRealtime = b.receiverRealtime; // every repeat runs with the same --far-end-priority
}

} // namespace

TcpPooled
PoolTcp(const std::vector<TcpRepeat>& reps, size_t nflows)
{
    TcpPooled p;
    TcpRepeat& t = p.tot;
    t.flows.resize(nflows);
    t.paths.resize(nflows);
    p.dataSegsOut.assign(nflows, 0);
    p.totalRetrans.assign(nflows, 0);
    for (const TcpRepeat& r : reps)
    {
        for (size_t i = 0; i < nflows; ++i)
        {
            AddFlow(t.flows[i], r.flows[i]);
            AddPath(t.paths[i], r.paths[i]);
            p.dataSegsOut[i] += r.flows[i].infoEnd.dataSegsOut;
            p.totalRetrans[i] += r.flows[i].infoEnd.totalRetrans;
        }
        AddEnd(t.reader, r.reader);
        AddEnd(t.farEnd, r.farEnd);
        t.fwdLineLeft += r.fwdLineLeft;
        t.revLineLeft += r.revLineLeft;
        t.fwdLineDrops += r.fwdLineDrops;
        t.revLineDrops += r.revLineDrops;
        t.fwdLineMax = std::max(t.fwdLineMax, r.fwdLineMax);
        t.revLineMax = std::max(t.revLineMax, r.revLineMax);
        t.tun0.Add(r.tun0);
        t.tun1.Add(r.tun1);
        AddMib(t.clientMib, r.clientMib);
        AddMib(t.serverMib, r.serverMib);
        t.wallS += r.wallS;
        t.drainS = std::max(t.drainS, r.drainS);
        t.drainCapped = t.drainCapped || r.drainCapped;
    }
    return p;
}

uint64_t
DataDropped(uint64_t dataSegsOut, const FlowPath& p)
{
    return dataSegsOut - std::min(dataSegsOut, p.fwdDataWritten);
}

DirectionBooks
BooksOf(const DeviceCounters& from, const std::string& fromName, uint64_t lineLeft, uint64_t lineDrops,
        const EndStats& writer, const std::string& toName)
{
    DirectionBooks b;
    const TcStats& tc = from.tc;
    b.sent = from.haveTc ? tc.sentPackets + tc.dropped + tc.backlogPackets : from.txPackets + from.txDropped;
    b.delivered = writer.writes;
    auto drop = [&b](const std::string& place, uint64_t n) {
        if (n)
        {
            b.droppedByPlace[place] = n;
            b.dropped += n;
        }
    };
    drop(fromName + "_ring/tx_dropped", from.txDropped);
    drop(fromName + "_qdisc/dropped", from.haveTc ? tc.dropped : 0);
    drop("forwarder/delay_line_full", lineDrops);
    drop(toName + "_write/failed", writer.writeErrors);
    b.stillQueuedByPlace = {{fromName + "_qdisc", from.haveTc ? tc.backlogPackets : 0},
                            {fromName + "_ring", static_cast<uint64_t>(std::max<int64_t>(from.RingLeft(), 0))},
                            {"forwarder", lineLeft}};
    b.Close();
    return b;
}

TcpCheck
CheckTcp(const TcpRepeat& r)
{
    TcpCheck c;
    c.forward = BooksOf(r.tun0, kDevice, r.fwdLineLeft, r.fwdLineDrops, r.farEnd, kServerDevice);
    c.reverse = BooksOf(r.tun1, kServerDevice, r.revLineLeft, r.revLineDrops, r.reader, kDevice);
    c.tun0ReadsOk = r.tun0.txPackets == r.reader.reads;
    c.tun1ReadsOk = r.tun1.txPackets == r.farEnd.reads;
    c.tun0WritesOk = r.tun0.rxPackets + r.tun0.rxDropped == r.reader.writes;
    c.tun1WritesOk = r.tun1.rxPackets + r.tun1.rxDropped == r.farEnd.writes;
    c.ringsOk = r.tun0.RingLeft() >= 0 && r.tun1.RingLeft() >= 0;
    c.drained = !r.drainCapped;
    c.ok = c.forward.ok && c.reverse.ok && c.tun0ReadsOk && c.tun1ReadsOk && c.tun0WritesOk && c.tun1WritesOk &&
           c.ringsOk;
    return c;
}

json
TcpCheck::ToJson(const TcpRepeat& r) const
{
    auto books = [](const DirectionBooks& b) {
        return json{{"sent", b.sent},
                    {"delivered", b.delivered},
                    {"dropped", b.dropped},
                    {"still_queued", b.stillQueued},
                    {"sent_eq_delivered_plus_dropped_plus_queued", b.ok}};
    };
    return {{"forward", books(forward)},
            {"reverse", books(reverse)},
            {"tun0_tx_packets", r.tun0.txPackets},
            {"reader_reads", r.reader.reads},
            {"tun0_tx_packets_eq_reader_reads", tun0ReadsOk},
            {"tun1_tx_packets", r.tun1.txPackets},
            {"far_end_reads", r.farEnd.reads},
            {"tun1_tx_packets_eq_far_end_reads", tun1ReadsOk},
            {"tun0_rx_packets_eq_reader_writes", tun0WritesOk},
            {"tun1_rx_packets_eq_far_end_writes", tun1WritesOk},
            {"tun0_ring_entries_left", r.tun0.RingLeft()},
            {"tun1_ring_entries_left", r.tun1.RingLeft()},
            {"rings_ok", ringsOk},
            {"drained", drained},
            {"ok", ok}};
}

} // namespace kernel
} // namespace tunsim
