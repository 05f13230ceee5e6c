// The repeats summed and cross-checked (see pool.h).
#include "pool.h"

#include <algorithm>

namespace tunsim
{
namespace kernel
{

using json = nlohmann::json;

namespace
{

void
AddFlow(FlowStats& a, const FlowStats& b)
{
    a.sent += b.sent;
    a.sentBytes += b.sentBytes;
    a.sendErrors += b.sendErrors;
    a.generated += b.generated;
    a.sendNsTotal += b.sendNsTotal;
    a.sndbuf = b.sndbuf;
    a.received += b.received;
    a.receivedBytes += b.receivedBytes;
    a.gaps += b.gaps;
    a.reordered += b.reordered;
    a.delayNs.insert(a.delayNs.end(), b.delayNs.begin(), b.delayNs.end());
    a.queuedAtEnd += b.queuedAtEnd;
}

void
AddReader(ReaderStats& a, const ReaderStats& b)
{
    a.packetsRead += b.packetsRead;
    a.bytesRead += b.bytesRead;
    a.untracked += b.untracked;
    a.sleeps += b.sleeps;
    a.busyNs += b.busyNs;
    a.readNsTotal += b.readNsTotal;
    a.wakeNs.insert(a.wakeNs.end(), b.wakeNs.begin(), b.wakeNs.end());
    a.sleepWakeNs.insert(a.sleepWakeNs.end(), b.sleepWakeNs.begin(), b.sleepWakeNs.end());
    a.leftInRing += b.leftInRing;
}

void
AddTc(TcStats& a, const TcStats& b)
{
    a.kind = b.kind;
    a.sentPackets += b.sentPackets;
    a.sentBytes += b.sentBytes;
    a.dropped += b.dropped;
    a.requeues += b.requeues;
    a.overlimits += b.overlimits;
    a.backlogPackets += b.backlogPackets;
    a.backlogBytes += b.backlogBytes;
}

} // namespace

uint64_t
Lost(const FlowStats& f)
{
    return f.sent - std::min(f.sent, f.received + f.queuedAtEnd);
}

double
LossRatio(const FlowStats& f)
{
    return f.sent ? static_cast<double>(Lost(f)) / f.sent : 0.0;
}

Repeat
Pool(const std::vector<Repeat>& reps, size_t nflows)
{
    Repeat tot;
    tot.flows.resize(nflows);
    for (const Repeat& r : reps)
    {
        for (size_t i = 0; i < nflows; ++i)
        {
            AddFlow(tot.flows[i], r.flows[i]);
        }
        AddReader(tot.reader, r.reader);
        AddTc(tot.tc, r.tc);
        tot.txPackets += r.txPackets;
        tot.txBytes += r.txBytes;
        tot.txDropped += r.txDropped;
        tot.rxPackets += r.rxPackets;
        tot.txQueueLen = r.txQueueLen;
        tot.haveTc = r.haveTc;
        tot.drainS = std::max(tot.drainS, r.drainS);
    }
    return tot;
}

CrossCheck
CrossCheckOf(const Repeat& r)
{
    CrossCheck c;
    for (const auto& f : r.flows)
    {
        c.sent += f.sent;
        c.received += f.received;
        c.seqLost += Lost(f);
        c.queuedRead += f.queuedAtEnd;
    }
    c.leftRead = r.reader.leftInRing;
    c.untracked = r.reader.untracked;
    c.txPackets = r.txPackets;
    c.txDropped = r.txDropped;
    c.readerReads = r.reader.packetsRead;
    c.haveTc = r.haveTc;
    if (r.haveTc)
    {
        c.tcSent = r.tc.sentPackets;
        c.tcDropped = r.tc.dropped;
        c.tcBacklog = r.tc.backlogPackets;
        c.ringLeft = static_cast<int64_t>(r.tc.sentPackets) - static_cast<int64_t>(r.txDropped) -
                     static_cast<int64_t>(r.txPackets);
    }
    c.ok = c.SumOk() && c.ReadOk() && c.SeqOk();
    return c;
}

json
CrossCheck::ToJson() const
{
    auto tc = [this](auto v) { return haveTc ? json(v) : json(nullptr); };
    return {{"app_sent", sent},
            {"reader_received", received},
            {"reader_untracked", untracked},
            {"reader_seq_lost", seqLost},
            {"sysfs_tx_packets", txPackets},
            {"sysfs_tx_dropped", txDropped},
            {"tc_sent_packets", tc(tcSent)},
            {"tc_dropped", tc(tcDropped)},
            {"tc_backlog_packets", tc(tcBacklog)},
            {"ring_entries_left", tc(ringLeft)},
            {"ring_entries_read_out", leftRead},
            {"sent_eq_received_plus_drops_plus_queued", SumOk()},
            {"tx_packets_eq_reader_reads", ReadOk()},
            {"seq_lost_eq_kernel_drops", SeqOk()},
            {"ok", ok}};
}

} // namespace kernel
} // namespace tunsim
