// TunPolicy: where the tx queue of a tun device is stopped and woken.
//
// The kernel patches that this simulator compares all touch the same four
// places of drivers/net/tun.c; a policy is those places and nothing else:
//
//   tun_net_xmit():    BeforeProduce()  ptr_ring_produce()  AfterProduce()
//   tun_ring_recv():   consume          AfterConsume()
//                      ring empty, about to sleep           ReaderWait()
//   tun_attach(), tun_set_iff(), tun_queue_resize():        Reconfigured()
//
// plus RingGeometry() for the one variant whose queue is not a ptr_ring
// (the pre-3.8 skb list). A policy acts only through TunTxQueue (stop, wake,
// look at the ring); the device does the rest (orphan, produce, drop, count).
// Adding a policy is one file in models/policies/ plus one line in
// models/policies/policy-list.h.
#pragma once

#include "ptr-ring.h"

#include "ns3/object.h"
#include "ns3/ptr.h"

#include <functional>
#include <string>
#include <vector>

namespace ns3
{
class Packet;
}

namespace tunsim
{

using TunRing = PtrRing<ns3::Ptr<ns3::Packet>>;

/// What a policy may see and do on one tx queue: mirrors the pair
/// (struct tun_file's tx_ring, struct netdev_queue) the patches work on.
class TunTxQueue
{
  public:
    virtual ~TunTxQueue() = default;

    virtual const TunRing& Ring() const = 0;
    /// dev->tx_queue_len
    virtual uint32_t TxQueueLen() const = 0;
    /// netif_tx_queue_stopped()
    virtual bool IsStopped() const = 0;
    /// netif_tx_stop_queue(): this queue only.
    virtual void Stop() = 0;
    /// netif_tx_wake_queue(): clear XOFF and, if it was set, schedule the
    /// NET_TX softirq that will run the qdisc (not inline).
    virtual void Wake() = 0;
    /// netif_tx_stop_all_queues() / netif_tx_wake_all_queues()
    virtual void StopAll() = 0;
    virtual void WakeAll() = 0;
    /// A real qdisc is attached (not noqueue): !qdisc_txq_has_no_queue().
    virtual bool HasQdisc() const = 0;
    /// Entries consumed since the queue was last stopped (v8's half-ring wake
    /// counts these, as veth does). Reset to 0 by Stop()/StopAll().
    virtual uint32_t ConsumedSinceStop() const = 0;
    /// tun->flags as set by TUNSETIFF (IFF_BACKPRESSURE ...).
    virtual uint32_t DeviceFlags() const = 0;
    /// tun_force_wake_queue() (IFF_BACKPRESSURE patch, 2026-07): wake this
    /// subqueue and reset cons_cnt, under both ring locks.
    virtual void ForceWake() = 0;
    /// tfile->cons_cnt = 0 without a wake (the merged tun_attach()).
    virtual void ResetConsumedSinceStop() = 0;
};

/// include/uapi/linux/if_tun.h: TUNSETIFF flags tunsim knows.
constexpr uint32_t kIffBackpressure = 0x0080; ///< IFF_BACKPRESSURE (2026-07 patch)

/// The tun.c paths that reconfigure a queue (TunPolicy::Reconfigured()).
enum class TunReconfig : uint8_t
{
    Attach, ///< tun_attach(): a file descriptor (re)attaches to the queue
    SetIff, ///< tun_set_iff() on a running device: TUNSETIFF (flags changed)
    Resize, ///< tun_queue_resize(): `ip link set tun0 txqueuelen N`
};

/// Ring size and batch a policy wants for a given tx_queue_len.
struct RingGeometry
{
    uint32_t size = 0;  ///< slots
    uint32_t batch = 0; ///< 0 = the ptr_ring rule (PtrRingBatchFor)
};

class TunPolicy : public ns3::Object
{
  public:
    static ns3::TypeId GetTypeId();

    /// The registered name ("nodrop-v6").
    virtual std::string Name() const = 0;

    /// The ring this policy runs on. Default: a ptr_ring of tx_queue_len.
    virtual RingGeometry Geometry(uint32_t txQueueLen) const;

    /// In tun_net_xmit(), before ptr_ring_produce().
    virtual void BeforeProduce(TunTxQueue& q) {}
    /// In tun_net_xmit(), after ptr_ring_produce() and sk_data_ready();
    /// `produced` is false when the ring was full and the packet is dropped.
    virtual void AfterProduce(TunTxQueue& q, bool produced) {}
    /// In tun_ring_recv()/tun_do_read(), after one entry was consumed.
    /// `wasStopped` is netif_tx_queue_stopped() read before the discard.
    virtual void AfterConsume(TunTxQueue& q, bool wasStopped) {}
    /// In tun_ring_recv(), when the ring is empty and the reader is about to
    /// sleep in its blocking wait.
    virtual void ReaderWait(TunTxQueue& q) {}
    /// After tun_attach(), tun_set_iff() or tun_queue_resize() touched this
    /// queue. Default: nothing (mainline and the seeds do not wake here).
    virtual void Reconfigured(TunTxQueue& q, TunReconfig what) {}
};

/// One registered policy.
struct TunPolicyInfo
{
    std::string name;
    std::string summary; ///< one line for `tunsim list`
    std::string source;  ///< where it comes from: seed, patch, date
    std::function<ns3::Ptr<TunPolicy>()> create;
};

/// Every policy, in the order `tunsim list` shows them.
const std::vector<TunPolicyInfo>& TunPolicyRegistry();
/// Names of every policy.
std::vector<std::string> TunPolicyNames();
/// The policy called `name`, or null when there is none.
ns3::Ptr<TunPolicy> CreateTunPolicy(const std::string& name);

} // namespace tunsim
