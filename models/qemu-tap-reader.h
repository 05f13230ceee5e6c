// QemuTapReader: QEMU reading a tap device for an emulated NIC, without
// vhost (qemu-system-x86_64 -netdev tap,... -device e1000 | virtio-net-pci).
//
// QEMU's main loop polls the tap fd; net/tap.c:tap_send() reads one frame
// per read() (tap_read_packet() -> the kernel's tun_chr_read_iter() ->
// tun_do_read(): one ptr_ring entry) and hands it to the NIC model with
// qemu_send_packet_async() -> e1000_receive() (hw/net/e1000.c) /
// virtio_net_receive() (hw/net/virtio-net.c), which copies it into the next
// guest receive buffer and raises the interrupt. Before reading, QEMU asks
// the NIC whether it can receive (tap_can_send() -> qemu_can_send_packet()
// -> e1000_can_receive(): a free rx descriptor); when it cannot, the tap fd
// is not polled (tap_read_poll(false)) until the guest posts buffers
// (e1000's RDT write -> qemu_flush_queued_packets()). So QEMU never drops
// for a full guest ring: the frames stay in the tap ring, where the tun
// policy decides (drop on a full ring, or stop the queue).
//
// Per frame the thread spends FrameCost + NsPerByte * bytes (the read()
// syscall and the NIC emulation: descriptor fetch, DMA write, write-back,
// interrupt), then the frame is in the guest's ring and visible at once
// (one descriptor write-back per frame) with an interrupt raised.
// With offloads (virtio-net: the guest's GUEST_TSO4/6 features ->
// virtio_net_apply_guest_offloads() -> TUNSETOFFLOAD) one read() returns a
// whole GSO skb behind its virtio_net_hdr; virtio_net_receive() needs room
// for all of it (virtio_net_has_buffers()), and when the guest has too few
// buffers the frame waits in QEMU (qemu_net_queue, tap_read_poll(false))
// until the guest posts more. e1000 never enables offloads (QEMU opens the
// tap with them off: net_tap_fd_init() -> tap_set_offload()).
// Simplifications: tap_send()'s limit of 50 frames per call is not needed
// (the guest's transmits are served between any two frames); the guest's
// transmit emulation runs on the same timeline (the vCPU thread holds the
// BQL while QEMU emulates the TDT write); no interrupt moderation.
#pragma once

#include "vm-backend.h"

namespace tunsim
{

class QemuTapReader : public VmBackend
{
  public:
    static ns3::TypeId GetTypeId();
    QemuTapReader() = default;

    uint32_t InHand() const override { return m_inHand.head ? m_inHand.Segments() : 0; }

  private:
    void ForwardStep() override;
    /// e1000_receive(): the frame is in the guest's buffer, the interrupt raised.
    void ReceiveDone();

    VmFrame m_inHand; ///< read, not yet in the guest (head null: none)
};

} // namespace tunsim
