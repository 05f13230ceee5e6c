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
    a.eagainDrops += b.eagainDrops;
    a.enobufsSeen += b.enobufsSeen;
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
    a.polls += b.polls;
    a.pollNsTotal += b.pollNsTotal;
    a.wakeNs.insert(a.wakeNs.end(), b.wakeNs.begin(), b.wakeNs.end());
    a.sleepWakeNs.insert(a.sleepWakeNs.end(), b.sleepWakeNs.begin(), b.sleepWakeNs.end());
    a.leftInRing += b.leftInRing;
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
    // The application's loss: what the kernel lost, and what a non-blocking
    // sender dropped on EAGAIN (never handed to the kernel).
    const uint64_t tried = f.sent + f.eagainDrops;
    return tried ? static_cast<double>(Lost(f) + f.eagainDrops) / tried : 0.0;
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
        tot.dev.Add(r.dev);
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
    c.txPackets = r.dev.txPackets;
    c.txDropped = r.dev.txDropped;
    c.readerReads = r.reader.packetsRead;
    c.haveTc = r.dev.haveTc;
    if (r.dev.haveTc)
    {
        c.tcSent = r.dev.tc.sentPackets;
        c.tcDropped = r.dev.tc.dropped;
        c.tcBacklog = r.dev.tc.backlogPackets;
        c.ringLeft = r.dev.RingLeft();
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
