// TunNetDevice: the kernel side of a Linux tun device (drivers/net/tun.c).
//
//   ns-3 TrafficControlLayer / QueueDisc        (the qdisc on tun0)
//        |  NetDevice::Send()
//        v
//   TunNetDevice::Send()      mirrors tun_net_xmit(): skb_orphan(), policy,
//        |                    ptr_ring_produce() or drop FULL_RING,
//        |                    sk_data_ready() to the reader
//        v
//   TunQueue: one ptr_ring per tx queue (struct tun_file's tx_ring) and the
//        |    netdev_queue it belongs to (ns-3 NetDeviceQueue: stop/wake)
//        v
//   TunRingConsume()          mirrors tun_ring_recv()/tun_do_read(): consume,
//                             policy, tx_packets/tx_bytes (tun_put_user)
//
// A txq wake does not run the qdisc inline: as netif_tx_wake_queue() raises
// NET_TX_SOFTIRQ, the qdisc runs `SoftirqLatency` later (and, optionally,
// its CPU time is charged to the reader's CPU, where the softirq runs when the
// reader woke the queue from its read() syscall).
//
// The reverse direction (user space writes a packet: tun_get_user() ->
// netif_rx()) is TunGetUser().
//
// Offloads (TUNSETOFFLOAD with TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6, which
// QEMU's virtio-net sets for the features its guest negotiated,
// virtio_net_apply_guest_offloads() -> tap_fd_set_offload()): the device
// then has NETIF_F_TSO (tun_net_fix_features()), validate_xmit_skb() leaves
// a GSO skb whole, and tun_net_xmit() produces it as ONE ring entry, which
// the reader gets whole with a virtio_net_hdr describing it (IFF_VNET_HDR).
// tunsim's TCP hands an skb's segments down one by one (GsoTag): with
// offloads the first segment is the produce (with the policy's steps: the
// ring is then as after producing the whole skb), the others join its
// entry (GsoRest) while it is still in the ring. Simplification: a stop
// right after an skb's first segment keeps its other segments in the qdisc
// until the wake (the kernel stops after the whole skb); they join the
// entry if it is still in the ring, else they form one more entry.
#pragma once

#include "tap-frame.h"
#include "tun-policy.h"

#include "ns3/data-rate.h"
#include "ns3/mac48-address.h"
#include "ns3/net-device-queue-interface.h"
#include "ns3/net-device.h"
#include "ns3/nstime.h"
#include "ns3/traced-callback.h"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

namespace ns3
{
class QueueDisc;
}

namespace tunsim
{

class TunNetDevice;

/// Kernel drop reasons tunsim can report for the tun device.
enum class TunDropReason : uint8_t
{
    FULL_RING = 0, ///< SKB_DROP_REASON_FULL_RING: ptr_ring_produce() failed
    RESIZE = 1,    ///< entries that no longer fit after a txqueuelen change
    COUNT
};
const char* TunDropReasonName(TunDropReason r);

/// The tx queue of a packet of flow `flowId` on a tun device with
/// `numQueues` queues (IFF_MULTI_QUEUE): mirrors tun_automq_select_queue()
/// for a flow without a steering entry, `reciprocal_scale(rxhash, numqueues)`,
/// with a fixed 32-bit mix of the tunsim flow id (TunFlowHash) standing in
/// for __skb_get_hash_symmetric() of the 5-tuple. Deterministic.
uint32_t TunAutomqSelectQueue(uint32_t flowId, uint32_t numQueues);
/// tun_select_queue(): with a steering program (TUNSETSTEERINGEBPF) that
/// returns the flow's index, tun_ebpf_select_queue() gives `flowId %
/// numQueues`; without one, TunAutomqSelectQueue().
uint32_t TunSelectQueue(uint32_t flowId, uint32_t numQueues, bool steerByFlow);
/// The flow hash TunAutomqSelectQueue() scales (murmur3's 32-bit finaliser).
uint32_t TunFlowHash(uint32_t flowId);

/// One tx queue: its ptr_ring and its netdev_queue.
class TunQueue : public TunTxQueue
{
  public:
    TunQueue(TunNetDevice& dev, uint32_t index, const RingGeometry& g);

    const TunRing& Ring() const override { return m_ring; }
    uint32_t TxQueueLen() const override;
    bool IsStopped() const override;
    void Stop() override;
    void Wake() override;
    void StopAll() override;
    void WakeAll() override;
    bool HasQdisc() const override;
    uint32_t ConsumedSinceStop() const override { return m_consumedSinceStop; }
    /// Segments inside this ring's entries beyond one per entry (GSO skbs
    /// with offloads): the ring holds Ring().Count() + this many segments.
    uint32_t ExtraSegments() const { return m_gsoExtra; }
    uint32_t DeviceFlags() const override;
    void ForceWake() override;
    void ResetConsumedSinceStop() override { m_consumedSinceStop = 0; }

    TunRing& MutableRing() { return m_ring; }

    /// Statistics of this queue.
    uint64_t StopCount() const { return m_stopCount; }
    ns3::Time StoppedTime() const;
    double MeanOccupancy() const;
    uint32_t MaxOccupancy() const { return m_maxOccupancy; }
    /// Record an occupancy change (time-weighted mean). O(1).
    void NoteOccupancy();

  private:
    friend class TunNetDevice;
    TunNetDevice& m_dev;
    uint32_t m_index;
    TunRing m_ring;
    uint32_t m_consumedSinceStop = 0;
    bool m_stopped = false;
    uint64_t m_stopCount = 0;
    ns3::Time m_stoppedSince;
    ns3::Time m_stoppedTotal;
    // time-weighted occupancy
    ns3::Time m_lastChange;
    uint32_t m_lastCount = 0;
    long double m_area = 0; // entries x ns
    uint32_t m_maxOccupancy = 0;
    std::function<void()> m_dataReady; // sk_data_ready of the reader
    bool m_softirqPending = false;
    bool m_hostXmitBusy = false; ///< the host's transmitting CPU is busy (HostXmitCost)
    // offloads: the GSO skb whose segments are arriving (one ring entry)
    uint64_t m_openGso = 0;          ///< its GsoTag, 0 = none
    uint32_t m_openLeft = 0;         ///< segments still to come
    bool m_openProduced = false;     ///< its produce succeeded
    ns3::Ptr<ns3::Packet> m_openHead; ///< its first segment, in the ring
    uint32_t m_gsoExtra = 0;
};

class TunNetDevice : public ns3::NetDevice
{
  public:
    static ns3::TypeId GetTypeId();
    TunNetDevice();
    ~TunNetDevice() override;

    /// TracedCallback signature of "RingOccupancy": the tx queue and the
    /// entries in its ring after a produce or consume.
    /// \param [in] queue The tx queue index.
    /// \param [in] entries The ring's entries now.
    typedef void (*RingOccupancyCallback)(uint32_t queue, uint32_t entries);
    /// TracedCallback signature of "TxQueueStop" and "TxQueueWake".
    /// \param [in] queue The tx queue index that was stopped or woken.
    typedef void (*QueueCallback)(uint32_t queue);
    /// TracedCallback signature of "Drop": a packet the device freed
    /// instead of queueing it, and why.
    /// \param [in] packet The packet freed.
    /// \param [in] reason The kernel drop reason.
    typedef void (*DropCallback)(ns3::Ptr<const ns3::Packet> packet, TunDropReason reason);

    /// Kernel-named counters (ip -s link show tun0).
    struct Stats
    {
        uint64_t txPackets = 0; ///< counted when the reader reads (tun_put_user)
        uint64_t txBytes = 0;
        uint64_t txDropped = 0; ///< dev_core_stats_tx_dropped_inc()
        std::array<uint64_t, static_cast<size_t>(TunDropReason::COUNT)> dropReasons{};
        uint64_t rxPackets = 0; ///< tun_get_user()
        uint64_t rxBytes = 0;
        uint64_t xmitCalls = 0; ///< tun_net_xmit() invocations
        uint64_t wakes = 0;     ///< wakes that cleared a stopped queue
        uint64_t softirqRuns = 0;
    };

    /// Set up `txQueues` tx queues with the given policy and tx_queue_len.
    /// Must be called once, before the device is used.
    void Configure(ns3::Ptr<TunPolicy> policy, uint32_t txQueueLen, uint32_t txQueues = 1);

    /// mirrors `ip link set tun0 txqueuelen N` (tun_queue_resize()):
    /// resize every ring; entries that do not fit are dropped (RESIZE).
    void SetTxQueueLen(uint32_t txQueueLen);
    uint32_t GetTxQueueLen() const { return m_txQueueLen; }

    /// mirrors TUNSETIFF on a running device (tun_set_iff()): the device's
    /// flags (kIffBackpressure ...); the policy sees every queue reconfigured.
    void SetTunFlags(uint32_t flags);
    uint32_t GetTunFlags() const { return m_tunFlags; }

    ns3::Ptr<TunPolicy> GetPolicy() const { return m_policy; }
    uint32_t GetNQueues() const { return static_cast<uint32_t>(m_queues.size()); }
    TunQueue& GetQueue(uint32_t i) { return *m_queues[i]; }
    const TunQueue& GetQueue(uint32_t i) const { return *m_queues[i]; }
    const Stats& GetStats() const { return m_stats; }

    /// Whether a qdisc is attached (not noqueue); set by whoever installs the
    /// traffic control on the device.
    void SetHasQdisc(bool hasQdisc) { m_hasQdisc = hasQdisc; }
    bool GetHasQdisc() const { return m_hasQdisc; }

    /// The reader of queue `q` (the file descriptor attached to tfile):
    /// `dataReady` is its sk_data_ready(), called after each produce.
    void AttachReader(uint32_t q, std::function<void()> dataReady);
    /// Where the CPU time of a NET_TX softirq run of queue `q` goes when it
    /// runs on that queue's reader's CPU (TunConfig::softirqOnReaderCpu).
    /// Null = nowhere.
    void SetSoftirqCpuSink(std::function<void(uint32_t q, ns3::Time)> chargeCpu) { m_softirqCpu = chargeCpu; }
    /// The multi-core host (LinuxDevXmit): a wake's __netif_schedule() goes
    /// there (the NET_TX softirq on the waking CPU) instead of the fixed
    /// SoftirqLatency run below. Null = the fixed run.
    void SetNetifSchedule(std::function<void(uint32_t q)> schedule) { m_netifSchedule = std::move(schedule); }

    /// mirrors the consume in tun_ring_recv() (NODROP: __tun_ring_consume())
    /// plus tun_put_user()'s tx statistics: one packet or null.
    /// With offloads an entry can be a GSO skb: its first segment is
    /// returned and the others are appended to `rest` (which must then be
    /// given; a reader without IFF_VNET_HDR never sees such entries).
    ns3::Ptr<ns3::Packet> TunRingConsume(uint32_t q, std::vector<ns3::Ptr<ns3::Packet>>* rest = nullptr);
    /// mirrors the start of tun_ring_recv()'s blocking wait: the ring is
    /// empty and the reader is going to sleep.
    void TunRingWait(uint32_t q);

    /// mirrors tun_get_user() -> netif_rx(): user space wrote an IPv4 packet
    /// (IFF_TUN) or an Ethernet frame carrying one (IFF_TAP).
    void TunGetUser(ns3::Ptr<ns3::Packet> packet);

    /// TUNSETSTEERINGEBPF with a program returning the flow's index (flow i
    /// on queue i mod queues); false = the automq flow hash.
    void SetSteerByFlow(bool steer) { m_steerByFlow = steer; }
    bool GetSteerByFlow() const { return m_steerByFlow; }
    /// TUNSETOFFLOAD (TSO4/TSO6/CSUM) on or off: GSO skbs whole in the ring.
    void SetOffloads(bool on) { m_offloads = on; }
    bool GetOffloads() const { return m_offloads; }

    /// IFF_TUN or IFF_TAP (TUNSETIFF): set before the device is used.
    void SetMode(TunMode mode) { m_mode = mode; }
    TunMode GetMode() const { return m_mode; }

    // ns3::NetDevice
    void SetIfIndex(const uint32_t index) override;
    uint32_t GetIfIndex() const override;
    ns3::Ptr<ns3::Channel> GetChannel() const override;
    void SetAddress(ns3::Address address) override;
    ns3::Address GetAddress() const override;
    bool SetMtu(const uint16_t mtu) override;
    uint16_t GetMtu() const override;
    bool IsLinkUp() const override;
    void AddLinkChangeCallback(ns3::Callback<void> callback) override;
    bool IsBroadcast() const override;
    ns3::Address GetBroadcast() const override;
    bool IsMulticast() const override;
    ns3::Address GetMulticast(ns3::Ipv4Address multicastGroup) const override;
    ns3::Address GetMulticast(ns3::Ipv6Address addr) const override;
    bool IsPointToPoint() const override;
    bool IsBridge() const override;
    /// mirrors tun_net_xmit().
    bool Send(ns3::Ptr<ns3::Packet> packet, const ns3::Address& dest, uint16_t protocolNumber) override;
    bool SendFrom(ns3::Ptr<ns3::Packet> packet,
                  const ns3::Address& source,
                  const ns3::Address& dest,
                  uint16_t protocolNumber) override;
    ns3::Ptr<ns3::Node> GetNode() const override;
    void SetNode(ns3::Ptr<ns3::Node> node) override;
    bool NeedsArp() const override;
    void SetReceiveCallback(ns3::NetDevice::ReceiveCallback cb) override;
    void SetPromiscReceiveCallback(ns3::NetDevice::PromiscReceiveCallback cb) override;
    bool SupportsSendFrom() const override;

  protected:
    void DoDispose() override;
    void NotifyNewAggregate() override;

  private:
    friend class TunQueue;
    void StopQueue(TunQueue& q);
    void WakeQueue(TunQueue& q);
    /// net_tx_action() for this device's queue: run the qdisc.
    void NetTxSoftirq(uint32_t q);
    /// qdisc_run() of queue q's qdisc (the root, or mq's child).
    void RunQdisc(uint32_t q);
    /// tun_net_xmit() proper, for a packet bound to queue q.
    bool TunNetXmit(TunQueue& q, ns3::Ptr<ns3::Packet> packet);
    /// HostXmitCost elapsed: the next packet may leave the qdisc.
    void HostXmitDone(uint32_t q);
    /// `newSkb` false: a further segment of an skb already counted.
    void Drop(ns3::Ptr<ns3::Packet> p, TunDropReason reason, bool newSkb = true);
    /// Offloads: a further segment of the GSO skb `q` is producing.
    void AppendGsoSegment(TunQueue& q, ns3::Ptr<ns3::Packet> p);
    /// Offloads: no more segments join the open entry.
    void CloseGsoEntry(TunQueue& q);
    /// The end of the call chain that opened GSO skb `skb` on queue `q`.
    void CloseGsoIfOpen(uint32_t q, uint64_t skb);
    /// Drop an entry's further segments (a resize victim).
    void DropGsoRest(TunQueue& q, ns3::Ptr<ns3::Packet> head, TunDropReason reason);

    ns3::Ptr<ns3::Node> m_node;
    uint32_t m_ifIndex = 0;
    uint16_t m_mtu = 1500;
    TunMode m_mode = TunMode::Tun; ///< IFF_TUN or IFF_TAP (tap-frame.h)
    bool m_steerByFlow = false;    ///< a steering program: flow i -> queue i mod n
    ns3::Mac48Address m_address;
    ns3::NetDevice::ReceiveCallback m_rxCallback;
    ns3::NetDevice::PromiscReceiveCallback m_promiscCallback;
    ns3::Ptr<ns3::NetDeviceQueueInterface> m_queueInterface;
    ns3::Ptr<ns3::QueueDisc> m_rootQdisc; ///< looked up at the first softirq run

    ns3::Ptr<TunPolicy> m_policy;
    uint32_t m_txQueueLen = 500;
    uint32_t m_tunFlags = 0; ///< tun->flags (only the bits in tun-policy.h)
    std::vector<std::unique_ptr<TunQueue>> m_queues;
    bool m_hasQdisc = true;
    bool m_offloads = false; ///< TUNSETOFFLOAD: GSO skbs are one entry
    /// The further segments of each GSO entry in a ring, by its head.
    std::unordered_map<const ns3::Packet*, std::vector<ns3::Ptr<ns3::Packet>>> m_gsoRest;
    ns3::Time m_softirqLatency;
    std::function<void(uint32_t, ns3::Time)> m_softirqCpu;
    std::function<void(uint32_t)> m_netifSchedule;
    ns3::Time m_softirqCost;
    ns3::Time m_xmitCost;
    ns3::Time m_hostXmitCost;
    Stats m_stats;

    ns3::TracedCallback<uint32_t, uint32_t> m_ringOccupancyTrace; //!< queue, entries
    ns3::TracedCallback<uint32_t> m_txqStopTrace;                 //!< queue
    ns3::TracedCallback<uint32_t> m_txqWakeTrace;                 //!< queue
    ns3::TracedCallback<ns3::Ptr<const ns3::Packet>, TunDropReason> m_dropTrace;
};

} // namespace tunsim
