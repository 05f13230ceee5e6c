// VmBackend: what reads a TAP device on behalf of a virtual machine, in place
// of the VPN process (vpn-reader.h): QEMU's main loop (qemu-tap-reader.h) or
// the vhost-net kernel worker (vhost-net-worker.h). Both move frames from the
// tap ring into the guest's receive buffers (vm-guest.h) and carry what the
// guest transmits (TCP's ACKs) back into the tap device (tun_get_user()).
//
// What they share, here:
//   * one thread of execution: the work of both directions is serialised on
//     one CPU timeline (QEMU: the big QEMU lock the main loop and the vCPU's
//     device emulation take; vhost-net: one worker runs handle_rx and
//     handle_tx);
//   * the guest's transmit direction comes first: each frame the guest sent
//     costs TxCost and is then written into the tap (TunGetUser);
//   * sleeping: with the tap ring empty the thread sleeps (TunRingWait: the
//     tun policies' ReaderWait hook); sk_data_ready() from tun_net_xmit(),
//     a frame from the guest, or the guest giving back buffers (only when
//     the thread stopped on a full guest ring) wakes it WakeupLatency later;
//   * the guest's stack is the other ns-3 node: a frame NAPI has handled
//     travels there over a point-to-point link whose one-way delay stands in
//     for the authors' netem on tap0 (docs/model.md), without encapsulation.
#pragma once

#include "enum-names.h"
#include "tun-net-device.h"
#include "vm-guest.h"
#include "vpn-reader.h"

#include "ns3/application.h"
#include "ns3/event-id.h"
#include "ns3/inet-socket-address.h"
#include "ns3/random-variable-stream.h"
#include "underlay-endpoint.h"

#include <deque>
#include <functional>
#include <utility>
#include <vector>

namespace tunsim
{

/// reader.kind: who reads the tun/tap device.
enum class ConsumerKind
{
    Vpn,      ///< the user-space VPN process (VpnReader)
    Qemu,     ///< QEMU's main loop: read() per frame, emulated NIC (QemuTapReader)
    VhostNet, ///< the vhost-net worker: batched consume into a virtqueue (VhostNetWorker)
};

template <>
struct EnumNames<ConsumerKind>
{
    static constexpr const char* kNoun = "reader kind";
    static constexpr std::array<const char*, 3> kNames{"vpn", "qemu", "vhost-net"};
};

/// vm.nic: the guest's network device.
enum class VmNic
{
    E1000,     ///< QEMU -device e1000 (the authors' TAP set-up)
    VirtioNet, ///< -device virtio-net-pci (with vhost=on: the authors' TAP + vhost-net set-up)
};

template <>
struct EnumNames<VmNic>
{
    static constexpr const char* kNoun = "vm nic";
    static constexpr std::array<const char*, 2> kNames{"e1000", "virtio-net"};
};

/// vm.offloads: TUNSETOFFLOAD on the tap (GSO skbs whole in the ring).
enum class VmOffloads
{
    Auto, ///< as QEMU sets it: on for virtio-net (and vhost-net), off for e1000
    On,   ///< TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 (what a virtio-net guest negotiates)
    Off,  ///< no offloads: the host segments every GSO skb before the ring
};

template <>
struct EnumNames<VmOffloads>
{
    static constexpr const char* kNoun = "vm offloads";
    static constexpr std::array<const char*, 3> kNames{"auto", "on", "off"};
};

/// Whether the tap has offloads for this backend. Auto follows QEMU:
/// net_tap_fd_init() opens the tap with every offload off and only
/// virtio-net turns them on, for the guest offloads its driver negotiated
/// (virtio_net_apply_guest_offloads() -> tap_fd_set_offload(): a Linux
/// guest negotiates GUEST_CSUM/TSO4/TSO6/ECN); e1000 never does.
bool VmOffloadsOn(ConsumerKind kind, VmNic nic, VmOffloads offloads);

/// The per-frame costs and ring rules of one (consumer, NIC) pair; see
/// VmPresetFor() for the values and where they come from.
struct VmPreset
{
    double frameNs = 0;     ///< backend CPU per frame taken from the tap ring
    double nsPerByte = 0;   ///< backend CPU per byte of that frame
    double txFrameNs = 0;   ///< backend CPU per frame the guest transmits
    uint32_t refill = 16;   ///< guest buffers given back at a time
};

/// The preset of `kind` (Qemu or VhostNet) with `nic`.
VmPreset VmPresetFor(ConsumerKind kind, VmNic nic);

class VmBackend : public ns3::Application
{
  public:
    static ns3::TypeId GetTypeId();

    /// The tap device and queue it has open, where the guest's stack
    /// listens (`local` -> `guestStack` on the link to the guest node) and
    /// the guest's receive buffers.
    void Setup(ns3::Ptr<TunNetDevice> tap,
               uint32_t queue,
               ns3::InetSocketAddress local,
               ns3::InetSocketAddress guestStack,
               ns3::Ptr<GuestRxQueue> guest);

    /// Called with each guest frame just before it is written into the tap
    /// (the ledger's delivery point of the reverse direction).
    void SetReverseDeliveryCallback(std::function<void(ns3::Ptr<const ns3::Packet>)> cb)
    {
        m_reverseDelivered = std::move(cb);
    }

    /// The thread loses its CPU during [at, at + duration) (reader.stalls).
    void AddStall(ns3::Time at, ns3::Time duration);
    /// Random preemption of the thread (reader.preempt_interval_ms /
    /// preempt_ms): off its CPU at exponentially distributed intervals
    /// (mean `interval`) for exponentially distributed times (mean
    /// `duration`), as VpnReader::SetPreemption(). Zero = never.
    void SetPreemption(ns3::Time interval, ns3::Time duration, int64_t stream);

    /// The same counters as the VPN reader's (reads = read() calls or
    /// batches; sndbufBlocks = stops on a full guest ring).
    const VpnReader::Stats& GetStats() const { return m_stats; }
    /// Frames taken from the tap ring and not yet written into the guest.
    virtual uint32_t InHand() const = 0;
    /// Guest frames received and not yet written into the tap.
    uint32_t ReverseWaiting() const { return static_cast<uint32_t>(m_reverse.size()); }
    ns3::Ptr<GuestRxQueue> Guest() const { return m_guest; }

  protected:
    enum class State
    {
        Idle,      ///< not started / stopped
        Running,   ///< working until m_event
        Sleeping,  ///< tap ring empty, waiting for sk_data_ready()
        Waking,    ///< woken, waiting for the scheduler
        GuestFull, ///< no free guest buffer: waiting for the guest's refill
    };

    /// The thread's loop: the guest's transmits first, then ForwardStep().
    void Loop();
    /// One step of the host -> guest direction; must leave the thread
    /// Running (with an event), Sleeping or GuestFull.
    virtual void ForwardStep() = 0;
    /// `work` of CPU, then `done`.
    void RunOnCpu(ns3::Time work, void (VmBackend::*done)());
    /// Sleep on an empty tap ring (the tun policies' ReaderWait).
    void SleepOnRing();
    /// Stop until the guest gives buffers back.
    void StopOnGuestFull();
    /// FrameCost + NsPerByte x the frame's bytes (all its segments).
    ns3::Time FrameCost(const VmFrame& f) const;
    /// Guest buffers the frame needs (GuestRxQueue::BuffersFor; 1 for an
    /// MTU frame).
    uint32_t BuffersOf(const VmFrame& f) const { return f.rest.empty() ? 1 : m_guest->BuffersFor(f.Bytes()); }
    /// One entry from the tap ring (a GSO entry whole); head null if empty.
    VmFrame TakeFrame();

    ns3::Ptr<TunNetDevice> m_tap;
    uint32_t m_queue = 0;
    ns3::Ptr<GuestRxQueue> m_guest;
    State m_state = State::Idle;
    VpnReader::Stats m_stats;
    ns3::Time m_frameCost;
    double m_nsPerByte = 0;

  private:
    void StartApplication() override;
    void StopApplication() override;
    void DoDispose() override;
    void Wake();
    void Resume();
    void WriteDone();
    void OnDataReady();
    void OnGuestRefill();
    void HandleGuestTx(ns3::Ptr<ns3::Packet> p);
    void DeliverToGuestStack(ns3::Ptr<ns3::Packet> frame);
    /// Off the CPU for `d` from now: the work or wake-up in progress ends
    /// that much later (the scheduler gave the CPU to another task).
    void LoseCpu(ns3::Time d);
    void Preempt();
    /// Schedule `fn` at `at` as the thread's pending event.
    void ScheduleDone(ns3::Time at, void (VmBackend::*fn)());

    ns3::InetSocketAddress m_local{ns3::Ipv4Address::GetAny(), 0};
    ns3::InetSocketAddress m_guestStack{ns3::Ipv4Address::GetAny(), 0};
    ns3::Ptr<UnderlayEndpoint> m_socket;
    ns3::Time m_txCost;
    ns3::Time m_wakeupLatency;
    ns3::EventId m_event;
    void (VmBackend::*m_doneFn)() = nullptr; ///< what m_event runs
    ns3::Time m_doneAt;                      ///< when
    ns3::Time m_offCpuUntil;                 ///< preempted or stalled until
    std::vector<std::pair<ns3::Time, ns3::Time>> m_stalls;
    ns3::Ptr<ns3::ExponentialRandomVariable> m_preemptGap;
    ns3::Ptr<ns3::ExponentialRandomVariable> m_preemptLength;
    std::deque<ns3::Ptr<ns3::Packet>> m_reverse;
    std::function<void(ns3::Ptr<const ns3::Packet>)> m_reverseDelivered;
};

} // namespace tunsim
