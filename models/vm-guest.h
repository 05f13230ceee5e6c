// GuestRxQueue: the guest side of a VM's network receive path -- the ring of
// receive buffers the guest's driver posts to its (emulated or para-virtual)
// NIC, and the guest's NAPI poll that drains it on the guest's CPU.
//
//   e1000 (drivers/net/ethernet/intel/e1000/e1000_main.c): the driver posts
//   rx descriptors (E1000_DEFAULT_RXD = 256) and tells the NIC through RDT
//   every E1000_RX_BUFFER_WRITE (16) refilled buffers and at the end of
//   e1000_clean_rx_irq() (e1000_alloc_rx_buffers); the NIC (QEMU's
//   hw/net/e1000.c) writes a frame into the next free descriptor and raises
//   an interrupt (set_ics(E1000_ICR_RXT0)); e1000_can_receive() is false
//   when no descriptor is free.
//
//   virtio-net (drivers/net/virtio_net.c): the driver posts buffers in the
//   receive virtqueue (256 entries, QEMU's default rx_queue_size) with
//   try_fill_recv() and kicks the device; the device (vhost-net's
//   handle_rx()) writes frames into the buffers and publishes them in the
//   used ring with vhost_add_used_and_signal_n() (vhost_net_signal_used),
//   which also raises the guest's interrupt; virtnet_poll() ->
//   virtnet_receive() drains up to the NAPI budget and refills.
//
// Model:
//   * Free(): descriptors the device may fill. Put() fills one; the frame is
//     invisible to the guest until Publish() (e1000: at once; vhost-net: its
//     batched used-ring update) and Signal() raises the interrupt;
//   * NAPI: an interrupt while NAPI is idle schedules a poll `IrqLatency`
//     later (interrupt injection + vCPU wake-up); a poll handles up to
//     `Budget` (NAPI_POLL_WEIGHT, 64) frames at `PerFrameCost` each on the
//     guest's CPU (driver, GRO, IP, TCP/UDP receive -- the guest stack runs
//     inside the poll), then hands each frame to the guest stack (Deliver);
//   * refill: every `RefillBatch` frames handled, and at the end of a poll,
//     the handled buffers go back to the device (Free() grows) and the
//     device is told (RDT write / virtqueue kick: the refill callback);
//   * a poll that used its whole budget is rescheduled at once; otherwise
//     NAPI completes and waits for the next interrupt.
//   * GSO frames (a tap with offloads, VmFrame): a frame takes
//     ceil((bytes + `HdrBytes`) / `BufferBytes`) buffers (virtio-net's
//     mergeable receive buffers: get_mergeable_buf_len() grows them to
//     PAGE_SIZE for large packets, the virtio_net_hdr in the first one;
//     receive_mergeable() chains num_buffers of them into one skb); the
//     poll handles it as one skb (one PerFrameCost, one budget unit) and
//     hands its segments up in order, each tagged VnetFrameTag so the
//     guest's TCP acknowledges the frame once. An MTU frame takes one
//     buffer either way.
//   * GRO (attribute `Gro`, on as in Linux): each MTU frame handled goes
//     through NapiGro (napi-gro.h): consecutive segments of a TCP flow go
//     up as one skb, at the latest when the poll ends (the guest's TCP
//     acknowledges each such skb once). A GSO frame goes up as it came.
// Simplifications: one receive queue, one vCPU that does nothing else
// (the guest's ACK transmit costs the host side: see the backends), no
// interrupt moderation (e1000 ITR, virtio event index), no per-byte cost
// in the guest (copying a 64 KB frame to the application is not charged),
// no drop in the guest (its socket buffers are the TCP/UDP sinks').
#pragma once

#include "napi-gro.h"

#include "ns3/event-id.h"
#include "ns3/nstime.h"
#include "ns3/object.h"
#include "ns3/packet.h"

#include <deque>
#include <functional>
#include <vector>

namespace tunsim
{

/// One frame a VM backend takes from the tap ring and writes into the
/// guest: an Ethernet frame (`rest` empty) or, with offloads, one GSO skb
/// carried as its segments (`head` first).
struct VmFrame
{
    ns3::Ptr<ns3::Packet> head;
    std::vector<ns3::Ptr<ns3::Packet>> rest;
    uint32_t buffers = 1; ///< guest buffers it fills (set by GuestRxQueue::Put)

    uint32_t Segments() const { return 1 + static_cast<uint32_t>(rest.size()); }
    uint32_t Bytes() const
    {
        uint32_t b = head->GetSize();
        for (const auto& p : rest)
        {
            b += p->GetSize();
        }
        return b;
    }
};

class GuestRxQueue : public ns3::Object
{
  public:
    static ns3::TypeId GetTypeId();
    GuestRxQueue() = default;

    /// The guest stack: each frame as NAPI hands it up (netif_receive_skb).
    void SetDeliver(std::function<void(ns3::Ptr<ns3::Packet>)> deliver) { m_deliver = std::move(deliver); }
    /// The device is told that buffers came back (RDT write, virtqueue kick).
    void SetRefillCallback(std::function<void()> refilled) { m_refilled = std::move(refilled); }

    /// The guest brings the interface up: all `Size` buffers are posted
    /// (e1000_open() / virtnet_open() -> try_fill_recv()).
    void Open();

    /// Buffers the device may fill now.
    uint32_t Free() const { return m_free; }
    /// Buffers a frame of `bytes` fills (1 for an MTU frame).
    uint32_t BuffersFor(uint32_t bytes) const;
    /// The device writes one frame into the next free buffer(s)
    /// (Free() >= BuffersFor(frame.Bytes())).
    void Put(VmFrame frame);
    /// The same for a frame of one packet.
    void Put(ns3::Ptr<ns3::Packet> frame) { Put(VmFrame{frame, {}, 1}); }
    /// The device publishes what it has written (used ring / descriptor
    /// write-back): the guest can see those frames.
    void Publish();
    /// The device raises the guest's interrupt (vhost_signal, set_ics).
    void Signal();

    /// Segments written by the device and not yet handed to the guest
    /// stack (frames, when there are no GSO frames), GRO's held ones included.
    uint32_t Queued() const { return m_queuedSegments + m_gro.HeldSegments(); }

    struct Stats
    {
        uint64_t frames = 0;     ///< handed to the guest stack
        uint64_t polls = 0;      ///< NAPI polls
        uint64_t interrupts = 0; ///< interrupts that scheduled a poll
        uint64_t refills = 0;    ///< times buffers went back to the device
        uint32_t maxQueued = 0;  ///< segments
        ns3::Time busy;          ///< guest CPU spent in NAPI
    };
    const Stats& GetStats() const { return m_stats; }

  protected:
    void DoDispose() override;

  private:
    void NapiPoll();
    void FrameDone();
    void Refill();

    uint32_t m_size = 256;
    uint32_t m_bufferBytes = 4096;
    uint32_t m_hdrBytes = 0;
    uint32_t m_refillBatch = 16;
    uint32_t m_budget = 64;
    ns3::Time m_perFrame;
    ns3::Time m_irqLatency;
    bool m_groOn = true;
    NapiGro m_gro;

    uint32_t m_free = 0;
    uint32_t m_handled = 0;         ///< buffers handled, not yet returned to the device
    uint32_t m_queuedSegments = 0;
    uint32_t m_inPoll = 0;          ///< frames handled in the current poll
    bool m_napiScheduled = false;   ///< a poll is pending or running
    std::deque<VmFrame> m_written; ///< written, not yet published
    std::deque<VmFrame> m_visible; ///< published, not yet handled
    ns3::EventId m_event;
    std::function<void(ns3::Ptr<ns3::Packet>)> m_deliver;
    std::function<void()> m_refilled;
    Stats m_stats;
};

} // namespace tunsim
