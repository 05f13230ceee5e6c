// The root qdiscs tunsim can put on a device, as Linux configures them, on
// ns-3's traffic-control queue discs.
//
//   kind        queue disc                       Linux default limit (limit 0)
//   fq_codel    ns3::FqCoDelQueueDisc            10240 packets (fq_codel_init())
//   pfifo_fast  tunsim::LinuxFifoQueueDisc       dev->tx_queue_len skbs
//   pfifo       tunsim::LinuxFifoQueueDisc       dev->tx_queue_len skbs (pfifo_init())
//               (GSO skbs count once: linux-fifo-queue-disc.h)
//   noqueue     none: dev_queue_xmit() calls the driver directly
//
// A new kind: one enum value and its name below, one case in
// DefaultQdiscLimit() and InstallLinuxQdisc() (linux-qdisc.cc).
#pragma once

#include "enum-names.h"

#include "ns3/ptr.h"

#include <cstdint>

namespace ns3
{
class NetDevice;
class QueueDisc;
} // namespace ns3

namespace tunsim
{

enum class QdiscKind
{
    FqCodel,
    PfifoFast,
    Pfifo,
    Noqueue,
};

template <>
struct EnumNames<QdiscKind>
{
    static constexpr const char* kNoun = "qdisc kind";
    static constexpr std::array<const char*, 4> kNames{"fq_codel", "pfifo_fast", "pfifo", "noqueue"};
};

/// What a qdisc is given besides its kind.
struct QdiscParams
{
    uint32_t limit = 0;       ///< packets; 0 = the kind's Linux default
    double targetMs = 5.0;    ///< fq_codel target
    double intervalMs = 100.0; ///< fq_codel interval
};

/// The limit Linux gives a qdisc of `kind` created with no limit on a device
/// of `txQueueLen` (fq_codel 10240; pfifo/pfifo_fast tx_queue_len, at least
/// 1); `configured` when it is not 0. 0 for noqueue, which holds nothing.
uint32_t DefaultQdiscLimit(QdiscKind kind, uint32_t configured, uint32_t txQueueLen);

/// tc qdisc replace dev DEV root KIND limit L: install the root queue disc of
/// `kind` with `params.limit` already resolved (DefaultQdiscLimit()).
/// Returns it, or null for noqueue (no queue disc, packets go straight to
/// the device). A run of the qdisc continues until it is empty or the device
/// queue stops, as __qdisc_run() does across its softirq reschedules.
ns3::Ptr<ns3::QueueDisc> InstallLinuxQdisc(ns3::Ptr<ns3::NetDevice> dev, QdiscKind kind, const QdiscParams& params);

/// The default root of a multiqueue device (attach_default_qdiscs() ->
/// net/sched/sch_mq.c mq_init()): an `mq` root (ns-3 MqQueueDisc) with one
/// child of `kind` per tx queue, each with its own `params.limit` (mq's
/// children are created with the device's tx_queue_len each). The device
/// must carry a NetDeviceQueueInterface with `nTxQueues` queues. Returns the
/// root; null for noqueue.
ns3::Ptr<ns3::QueueDisc> InstallLinuxMqQdisc(ns3::Ptr<ns3::NetDevice> dev,
                                             uint32_t nTxQueues,
                                             QdiscKind kind,
                                             const QdiscParams& params);

/// The qdiscs packets are enqueued into: the children of an mq root, else
/// the root itself; empty for null.
std::vector<ns3::Ptr<ns3::QueueDisc>> LeafQdiscs(ns3::Ptr<ns3::QueueDisc> root);

} // namespace tunsim
