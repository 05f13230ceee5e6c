// The repeats of tunsim kernel summed, and each one's counters checked
// against each other: the senders' send()s and the reader's sequence
// numbers, sysfs, tc (docs/kernel.md, "Cross-check").
#pragma once

#include "traffic.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tunsim
{
namespace kernel
{

/// Datagrams a flow sent that the reader never read and that were not still
/// in the ring when the drain ended (FlowStats::queuedAtEnd).
uint64_t Lost(const FlowStats& f);

/// Lost / sent (0 when nothing was sent).
double LossRatio(const FlowStats& f);

/// The repeats summed: counters added, samples concatenated.
Repeat Pool(const std::vector<Repeat>& reps, size_t nflows);

/// Three independent counts of one repeat (or of the pooled repeats): the
/// senders' send()s and the reader's sequence numbers, sysfs, tc.
struct CrossCheck
{
    uint64_t sent = 0, received = 0, untracked = 0, seqLost = 0;
    uint64_t txPackets = 0, txDropped = 0, readerReads = 0;
    bool haveTc = false;
    uint64_t tcSent = 0, tcDropped = 0, tcBacklog = 0;
    /// What the qdisc handed to tun_net_xmit() minus what tun dropped and
    /// what the reader read: entries still in the ring (0 without a qdisc).
    int64_t ringLeft = 0;
    /// Read out of the ring after the drain (ReadOutRing): all packets, and
    /// the flows' datagrams among them (counted as still queued).
    uint64_t leftRead = 0, queuedRead = 0;
    bool ok = false;

    uint64_t Dropped() const { return txDropped + tcDropped; }
    uint64_t Queued() const
    {
        return tcBacklog + static_cast<uint64_t>(std::max<int64_t>(ringLeft, 0)) + queuedRead;
    }
    bool SumOk() const { return sent == received + Dropped() + Queued() && ringLeft >= 0; }
    bool ReadOk() const { return txPackets == readerReads + leftRead; }
    bool SeqOk() const { return seqLost == Dropped(); }

    /// kernel.cross_check, kernel.repeats[].cross_check
    nlohmann::json ToJson() const;
};

CrossCheck CrossCheckOf(const Repeat& r);

} // namespace kernel
} // namespace tunsim
