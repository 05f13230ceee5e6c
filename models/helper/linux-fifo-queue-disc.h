// LinuxFifoQueueDisc: pfifo_fast and pfifo as Linux counts them: in skbs.
//
// A GSO skb (the segments of one GsoTag) is one packet against the limit
// while it waits. When the qdisc dequeues it, the device gets its segments
// back to back (validate_xmit_skb() segments it, dev_hard_start_xmit() sends
// them); if the tx queue stops in the middle, the rest waits for the next run
// (dev_requeue_skb(): q->gso_skb, served first). Those requeued segments
// count against a locked qdisc's limit one by one (pfifo: q.qlen), not
// against pfifo_fast's (lockless: its per-band skb_array holds only what
// was enqueued). Packets without a GsoTag are skbs of one segment: the
// qdisc is then exactly ns-3's FIFO with a packet limit.
//
//   pfifo_fast   Lockless true, limit dev->tx_queue_len (one band used:
//                every tunsim packet has priority 0, band 1)
//   pfifo        Lockless false, limit qdisc.limit or dev->tx_queue_len
#pragma once

#include "ns3/queue-disc.h"

#include <deque>

namespace tunsim
{

class LinuxFifoQueueDisc : public ns3::QueueDisc
{
  public:
    static ns3::TypeId GetTypeId();
    LinuxFifoQueueDisc();

    /// skbs waiting (not yet dequeued), and segments of a dequeued GSO skb
    /// still to go (requeued).
    uint32_t WaitingSkbs() const { return m_waitingSkbs; }
    uint32_t RequeuedSegments() const { return m_requeued; }

  private:
    bool DoEnqueue(ns3::Ptr<ns3::QueueDiscItem> item) override;
    ns3::Ptr<ns3::QueueDiscItem> DoDequeue() override;
    ns3::Ptr<const ns3::QueueDiscItem> DoPeek() override;
    bool CheckConfig() override;
    void InitializeParams() override;

    /// One skb in the queue: its GSO number and how many of its segments are left.
    struct Skb
    {
        uint64_t gso;
        uint32_t segments;
        bool dequeued; ///< its first segment left: the rest is the requeued gso_skb
    };

    bool m_lockless = true;
    uint32_t m_limit = 1000;
    std::deque<Skb> m_skbs;
    uint32_t m_waitingSkbs = 0;
    uint32_t m_requeued = 0;
    uint64_t m_openGso = 0; ///< the GSO skb whose segments are being sent
};

} // namespace tunsim
